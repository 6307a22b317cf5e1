//! When something is due, with a tie-breaker, as one integer: the engine's queues compare
//! these on every push and pop, and an integer compare is cheaper than a float's total order
//! followed by a second key. Times are never negative, so their IEEE bits order as they do.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Due(u128);

impl Due {
    /// Due at `at` (ms, not negative); among equal times, the lower `tie` first.
    pub fn new(at: f64, tie: u64) -> Self {
        debug_assert!(at >= 0.0 && at.is_sign_positive(), "due at {at}");
        Self((u128::from(at.to_bits()) << 64) | u128::from(tie))
    }

    pub fn at(self) -> f64 {
        f64::from_bits((self.0 >> 64) as u64)
    }

    pub fn tie(self) -> u64 {
        self.0 as u64
    }
}

#[cfg(test)]
mod tests {
    use super::Due;

    #[test]
    fn orders_by_time_then_tie_and_gives_both_back() {
        let times = [0.0, 1e-300, 0.04, 0.5, 0.5, 3.0, 1e12];
        let dues: Vec<Due> = times
            .iter()
            .enumerate()
            .map(|(i, &t)| Due::new(t, 10 - i as u64))
            .collect();
        for (a, b) in dues.iter().zip(&dues[1..]) {
            let expected = a.at().total_cmp(&b.at()).then(a.tie().cmp(&b.tie()));
            assert_eq!(a.cmp(b), expected, "{a:?} {b:?}");
        }
        assert_eq!((dues[3].at(), dues[3].tie()), (0.5, 7));
        assert!(Due::new(0.5, 7) < Due::new(0.5, 8));
    }
}

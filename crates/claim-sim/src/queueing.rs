//! Closed-form queueing results the simulator is checked against.

/// Exact Mean Value Analysis of a closed network: `n` customers cycling through one
/// processor-sharing station with demand `service` (on `servers` = 1 core) and a delay station
/// with mean `think`. Returns throughput (cycles per ms). Processor sharing makes the result
/// hold for any service distribution (BCMP).
pub fn mva_throughput(n: u32, service: f64, think: f64) -> f64 {
    let mut queue = 0.0;
    let mut throughput = 0.0;
    for k in 1..=n {
        let response = service * (1.0 + queue);
        throughput = k as f64 / (response + think);
        queue = throughput * response;
    }
    throughput
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_customer_cycles_through_both_stations() {
        assert!((mva_throughput(1, 2.0, 3.0) - 0.2).abs() < 1e-12);
        // Many customers saturate the station: throughput tends to 1 / service.
        assert!((mva_throughput(200, 2.0, 3.0) - 0.5).abs() < 1e-6);
    }
}

//! A small seeded generator (SplitMix64 seeding a xoshiro256**), so generated fleets and
//! simulations are identical for a seed on every platform and every version of every
//! dependency.

mod ziggurat;

use ziggurat::Ziggurat;

/// Deterministic pseudo-random numbers.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self {
            s: [next(), next(), next(), next()],
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Exponential with mean 1.
    pub fn exponential(&mut self) -> f64 {
        -(1.0 - self.unit()).ln()
    }

    /// Gamma with the given shape and scale 1 (mean `shape`); see `Gamma`.
    pub fn gamma(&mut self, shape: f64) -> f64 {
        Gamma::new(shape).draw(self)
    }

    /// A positive factor with mean 1 and coefficient of variation `cv`; see `Factor`.
    pub fn factor(&mut self, cv: f64) -> f64 {
        Factor::new(cv).draw(self)
    }
}

/// A gamma distribution of a given shape and scale 1 (mean `shape`), by Marsaglia and Tsang,
/// its constants worked out once for many draws; shapes below 1 use the `U^(1/shape)` boost.
#[derive(Debug, Clone, Copy)]
pub struct Gamma {
    normal: Ziggurat,
    d: f64,
    c: f64,
    /// `1 / shape` when the shape is below 1 (draws are then of `shape + 1`, boosted).
    boost: Option<f64>,
}

impl Gamma {
    pub fn new(shape: f64) -> Self {
        let (boost, shape) = if shape < 1.0 {
            (Some(1.0 / shape), shape + 1.0)
        } else {
            (None, shape)
        };
        let d = shape - 1.0 / 3.0;
        Self {
            normal: Ziggurat::new(),
            d,
            c: 1.0 / (9.0 * d).sqrt(),
            boost,
        }
    }

    pub fn draw(&self, rng: &mut Rng) -> f64 {
        let boost = self.boost.map(|b| (1.0 - rng.unit()).powf(b));
        let (d, c) = (self.d, self.c);
        loop {
            let x = self.normal.draw(rng);
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = 1.0 - rng.unit();
            // The squeeze: a bound inside the acceptance region that saves both logarithms
            // for about 98% of draws; it accepts only what the full test below accepts.
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d - d * v + d * v.ln() {
                return d * v * boost.unwrap_or(1.0);
            }
        }
    }
}

/// Positive factors with mean 1 and coefficient of variation `cv`: 1 when `cv` is 0,
/// exponential when it is 1, gamma otherwise (the spread of a cost around its mean).
#[derive(Debug, Clone, Copy)]
pub enum Factor {
    One,
    Exponential,
    /// A gamma of shape `1 / cv²`, divided by that shape.
    Gamma(Gamma, f64),
}

impl Factor {
    pub fn new(cv: f64) -> Self {
        if cv <= 0.0 {
            Self::One
        } else if cv == 1.0 {
            Self::Exponential
        } else {
            let shape = 1.0 / (cv * cv);
            Self::Gamma(Gamma::new(shape), 1.0 / shape)
        }
    }

    pub fn draw(&self, rng: &mut Rng) -> f64 {
        match self {
            Self::One => 1.0,
            Self::Exponential => rng.exponential(),
            Self::Gamma(gamma, scale) => gamma.draw(rng) * scale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_sane_moments() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut r = Rng::new(1);
        let xs: Vec<f64> = (0..100_000).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.02,
            "{mean} {var}"
        );
        assert!((0..1000).all(|_| r.below(7) < 7));
    }

    fn moments(xs: &[f64]) -> (f64, f64) {
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        (mean, var.sqrt() / mean)
    }

    #[test]
    fn factors_have_mean_one_and_the_asked_variation() {
        let mut r = Rng::new(3);
        for cv in [0.0, 0.2, 0.5, 1.0, 1.5] {
            let xs: Vec<f64> = (0..200_000).map(|_| r.factor(cv)).collect();
            let (mean, got) = moments(&xs);
            assert!((mean - 1.0).abs() < 0.01, "cv {cv}: mean {mean}");
            assert!((got - cv).abs() < 0.02, "cv {cv}: got {got}");
            assert!(xs.iter().all(|&x| x >= 0.0));
        }
    }
}

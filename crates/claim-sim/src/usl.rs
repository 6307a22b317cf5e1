//! The Universal Scalability Law (Gunther): throughput at concurrency N is
//! `X(N) = λN / (1 + σ(N − 1) + κN(N − 1))`: σ is contention (the serial share), κ coherency
//! (the cost of every pair agreeing), λ the throughput of one. Throughput peaks at
//! `N* = √((1 − σ) / κ)`.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SimError};
use crate::minimize::nelder_mead;

/// One measured (or simulated) point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UslPoint {
    pub n: f64,
    pub throughput: f64,
}

/// A fitted law.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UslFit {
    pub sigma: f64,
    pub kappa: f64,
    pub lambda: f64,
    /// Where throughput peaks; `None` (infinite) when κ is 0.
    pub peak_n: Option<f64>,
    /// Throughput at the peak (the asymptote λ/σ when κ is 0 and σ > 0).
    pub peak_throughput: Option<f64>,
    /// 1 − residual / total sum of squares, on throughput.
    pub r_squared: f64,
}

/// Throughput the law predicts at `n`.
pub fn usl(n: f64, sigma: f64, kappa: f64, lambda: f64) -> f64 {
    lambda * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))
}

/// For given σ, κ: the λ minimising squared relative error, and that error.
fn best_lambda(points: &[UslPoint], sigma: f64, kappa: f64) -> (f64, f64) {
    let ratios: Vec<f64> = points
        .iter()
        .map(|p| usl(p.n, sigma, kappa, 1.0) / p.throughput)
        .collect();
    let lambda = ratios.iter().sum::<f64>() / ratios.iter().map(|r| r * r).sum::<f64>();
    let error = ratios.iter().map(|r| (lambda * r - 1.0).powi(2)).sum();
    (lambda, error)
}

/// Fits σ ∈ [0, 1], κ ≥ 0 and λ to `points` by least squares on relative error. Needs three
/// points with distinct `n ≥ 1` and positive throughputs.
pub fn fit_usl(points: &[UslPoint]) -> Result<UslFit> {
    for (i, p) in points.iter().enumerate() {
        if !(p.n.is_finite() && p.n >= 1.0) {
            return Err(SimError::config(format!(
                "points[{i}].n must be a number ≥ 1, got {}",
                p.n
            )));
        }
        if !(p.throughput.is_finite() && p.throughput > 0.0) {
            return Err(SimError::config(format!(
                "points[{i}].throughput must be a positive number, got {}",
                p.throughput
            )));
        }
    }
    let mut ns: Vec<f64> = points.iter().map(|p| p.n).collect();
    ns.sort_by(f64::total_cmp);
    ns.dedup();
    if ns.len() < 3 {
        return Err(SimError::config(format!(
            "fitUsl needs points at 3 or more distinct n, got {}",
            ns.len()
        )));
    }
    // σ = s² clamped to [0, 1], κ = k²: unconstrained coordinates for the simplex.
    let decode = |x: &[f64]| ((x[0] * x[0]).min(1.0), x[1] * x[1]);
    let mut objective = |x: &[f64]| {
        let (s, k) = decode(x);
        best_lambda(points, s, k).1
    };
    let mut best = None::<(f64, Vec<f64>)>;
    for start in [[0.1, 0.01], [0.5, 0.1], [0.9, 0.001], [0.01, 0.3]] {
        let m = nelder_mead(&mut objective, &start, &[0.1, 0.05], 1e-15, 4000);
        if best.as_ref().is_none_or(|(v, _)| m.value < *v) {
            best = Some((m.value, m.x));
        }
    }
    let (_, x) = best.expect("at least one start");
    let (sigma, kappa) = decode(&x);
    let (lambda, _) = best_lambda(points, sigma, kappa);
    let mean = points.iter().map(|p| p.throughput).sum::<f64>() / points.len() as f64;
    let total: f64 = points.iter().map(|p| (p.throughput - mean).powi(2)).sum();
    let residual: f64 = points
        .iter()
        .map(|p| (p.throughput - usl(p.n, sigma, kappa, lambda)).powi(2))
        .sum();
    let (peak_n, peak_throughput) = if kappa > 1e-12 {
        let n = ((1.0 - sigma) / kappa).sqrt().max(1.0);
        (Some(n), Some(usl(n, sigma, kappa, lambda)))
    } else if sigma > 0.0 {
        (None, Some(lambda / sigma))
    } else {
        (None, None)
    };
    Ok(UslFit {
        sigma,
        kappa,
        lambda,
        peak_n,
        peak_throughput,
        r_squared: if total > 0.0 {
            1.0 - residual / total
        } else {
            1.0
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(sigma: f64, kappa: f64, lambda: f64, ns: &[f64]) -> Vec<UslPoint> {
        ns.iter()
            .map(|&n| UslPoint {
                n,
                throughput: usl(n, sigma, kappa, lambda),
            })
            .collect()
    }

    #[test]
    fn recovers_known_coefficients() {
        for (sigma, kappa, lambda) in [
            (0.05, 0.002, 950.0),
            (0.3, 0.0, 100.0),
            (0.0, 0.01, 10.0),
            (0.02, 0.0005, 5000.0),
        ] {
            let fit = fit_usl(&points(
                sigma,
                kappa,
                lambda,
                &[1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0],
            ))
            .unwrap();
            assert!((fit.sigma - sigma).abs() < 1e-3, "{fit:?}");
            assert!((fit.kappa - kappa).abs() < 1e-4, "{fit:?}");
            assert!((fit.lambda / lambda - 1.0).abs() < 1e-3, "{fit:?}");
            assert!(fit.r_squared > 0.9999);
            match fit.peak_n {
                Some(n) => assert!(
                    (n - ((1.0 - sigma) / kappa).sqrt()).abs() / n < 0.02,
                    "{fit:?}"
                ),
                None => assert_eq!(kappa, 0.0),
            }
        }
    }

    #[test]
    fn refuses_too_few_or_bad_points() {
        let two = points(0.1, 0.01, 10.0, &[1.0, 2.0, 2.0]);
        assert!(fit_usl(&two)
            .unwrap_err()
            .message
            .contains("3 or more distinct n"));
        let mut bad = points(0.1, 0.01, 10.0, &[1.0, 2.0, 3.0]);
        bad[1].throughput = -1.0;
        assert_eq!(fit_usl(&bad).unwrap_err().code(), "ERR_CLAIMS_CONFIG");
        bad[1] = UslPoint {
            n: 0.5,
            throughput: 1.0,
        };
        assert!(fit_usl(&bad).unwrap_err().message.contains("points[1].n"));
    }
}

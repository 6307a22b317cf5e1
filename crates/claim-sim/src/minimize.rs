//! Nelder–Mead minimisation (adaptive parameters, Gao and Han 2012), for the USL fit and for
//! calibration, where the objective is a simulation and has no gradient.

/// Where a minimisation ended.
#[derive(Debug, Clone)]
pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub evaluations: usize,
}

/// Minimises `f` from `start`, with initial steps `step` per coordinate, until the simplex's
/// values agree within `tolerance` or `max_evaluations` are spent (never more, unless the first
/// simplex alone needs more: its `n + 1` points are always evaluated).
pub fn nelder_mead(
    f: &mut dyn FnMut(&[f64]) -> f64,
    start: &[f64],
    step: &[f64],
    tolerance: f64,
    max_evaluations: usize,
) -> Minimum {
    let n = start.len();
    let nf = n as f64;
    let (alpha, gamma, rho, shrink) =
        (1.0, 1.0 + 2.0 / nf, 0.75 - 1.0 / (2.0 * nf), 1.0 - 1.0 / nf);
    let mut evaluations = 0;
    let mut eval = |x: &[f64], evaluations: &mut usize| {
        *evaluations += 1;
        let v = f(x);
        if v.is_nan() {
            f64::INFINITY
        } else {
            v
        }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    let v0 = eval(start, &mut evaluations);
    simplex.push((start.to_vec(), v0));
    for i in 0..n {
        let mut x = start.to_vec();
        x[i] += step[i];
        let v = eval(&x, &mut evaluations);
        simplex.push((x, v));
    }
    // Past the first simplex, each evaluation is taken from the budget or not made at all.
    let mut spend = |x: &[f64], evaluations: &mut usize| {
        (*evaluations < max_evaluations).then(|| eval(x, evaluations))
    };
    loop {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[n].1);
        if (worst - best).abs() <= tolerance * (best.abs() + tolerance) {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|p| p.0[j]).sum::<f64>() / nf)
            .collect();
        let toward = |t: f64| -> Vec<f64> {
            (0..n)
                .map(|j| centroid[j] + t * (simplex[n].0[j] - centroid[j]))
                .collect()
        };
        let reflected = toward(-alpha);
        let Some(fr) = spend(&reflected, &mut evaluations) else {
            break;
        };
        if fr < simplex[0].1 {
            let expanded = toward(-alpha * gamma);
            simplex[n] = match spend(&expanded, &mut evaluations) {
                Some(fe) if fe < fr => (expanded, fe),
                _ => (reflected, fr),
            };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (reflected, fr);
        } else {
            let contracted = toward(if fr < simplex[n].1 { -alpha * rho } else { rho });
            let Some(fc) = spend(&contracted, &mut evaluations) else {
                if fr < simplex[n].1 {
                    simplex[n] = (reflected, fr);
                }
                break;
            };
            if fc < fr.min(simplex[n].1) {
                simplex[n] = (contracted, fc);
            } else {
                let best = simplex[0].0.clone();
                for p in simplex.iter_mut().skip(1) {
                    let shrunk: Vec<f64> =
                        p.0.iter()
                            .zip(&best)
                            .map(|(x, b)| b + shrink * (x - b))
                            .collect();
                    let Some(v) = spend(&shrunk, &mut evaluations) else {
                        break;
                    };
                    *p = (shrunk, v);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, value) = simplex.swap_remove(0);
    Minimum {
        x,
        value,
        evaluations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let mut f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let m = nelder_mead(&mut f, &[-1.2, 1.0], &[0.5, 0.5], 1e-14, 5000);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-4 && (m.x[1] - 1.0).abs() < 1e-4,
            "{m:?}"
        );
    }

    #[test]
    fn never_spends_more_than_its_budget() {
        for budget in [3, 4, 10, 23, 57] {
            let mut calls = 0;
            let mut f = |x: &[f64]| {
                calls += 1;
                (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
            };
            let m = nelder_mead(&mut f, &[-1.2, 1.0], &[0.5, 0.5], 1e-14, budget);
            assert_eq!(calls, m.evaluations);
            assert_eq!(m.evaluations, budget, "budget {budget}");
            assert!(
                m.value <= 24.2 + 1e-12,
                "no worse than the start: {}",
                m.value
            );
        }
    }
}

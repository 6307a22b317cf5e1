//! CPU growth with the number of worker processes. Handling a statement costs more CPU, on the
//! worker and on its backend, when more processes take turns on the same cores: each switch
//! leaves the next process's code and data to be fetched back into the caches. Calibration
//! sees one worker only, so the host's growth is measured apart (`probeStatementCpu` runs the
//! same statement round trips with 1, 2, … worker processes) and given to the model as points:
//! at `workers` processes, worker costs are `worker` times and database costs `db` times
//! their single-worker values. Between points the factors are linear in the worker count;
//! outside them, the nearest point's.

use serde::{Deserialize, Serialize};

use crate::config::Costs;
use crate::error::{check_range, Result, SimError};

/// One measured point of the growth curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrowthPoint {
    pub workers: u32,
    /// Factor on the worker's CPU costs.
    pub worker: f64,
    /// Factor on the database's CPU costs.
    pub db: f64,
}

/// Points in increasing worker counts, each factor positive and finite.
pub fn validate(points: &[GrowthPoint]) -> Result<()> {
    for (i, p) in points.iter().enumerate() {
        let at = format!("cpuGrowth[{i}]");
        check_range(&format!("{at}.workers"), p.workers as f64, 1.0, 4096.0)?;
        check_range(&format!("{at}.worker"), p.worker, 1e-3, 1e3)?;
        check_range(&format!("{at}.db"), p.db, 1e-3, 1e3)?;
        if i > 0 && p.workers <= points[i - 1].workers {
            return Err(SimError::config(format!(
                "cpuGrowth must list worker counts in increasing order, got {} after {}",
                p.workers,
                points[i - 1].workers
            )));
        }
    }
    Ok(())
}

/// The (worker, db) factors at `workers` processes: (1, 1) without points.
pub fn factors(points: &[GrowthPoint], workers: u32) -> (f64, f64) {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return (1.0, 1.0);
    };
    if workers <= first.workers {
        return (first.worker, first.db);
    }
    if workers >= last.workers {
        return (last.worker, last.db);
    }
    let i = points.partition_point(|p| p.workers <= workers);
    let (a, b) = (points[i - 1], points[i]);
    let t = (workers - a.workers) as f64 / (b.workers - a.workers) as f64;
    (
        a.worker + t * (b.worker - a.worker),
        a.db + t * (b.db - a.db),
    )
}

/// `costs` at `workers` processes: the worker's CPU costs (per statement, row, job and result;
/// not the jobs' own work) and every database CPU cost scaled by the curve's factors. Commit
/// latency and round trips are not CPU and stay.
pub fn grown(costs: &Costs, points: &[GrowthPoint], workers: u32) -> Costs {
    let (worker, db) = factors(points, workers);
    let mut out = costs.clone();
    for v in [
        &mut out.worker_statement_ms,
        &mut out.worker_row_ms,
        &mut out.worker_job_ms,
        &mut out.worker_result_ms,
    ] {
        *v *= worker;
    }
    for v in [
        &mut out.db_claim_ms,
        &mut out.db_claim_row_ms,
        &mut out.db_skip_row_ms,
        &mut out.db_dead_entry_ms,
        &mut out.db_complete_ms,
        &mut out.db_complete_row_ms,
        &mut out.db_query_ms,
    ] {
        *v *= db;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(workers: u32, worker: f64, db: f64) -> GrowthPoint {
        GrowthPoint {
            workers,
            worker,
            db,
        }
    }

    #[test]
    fn factors_are_linear_between_points_and_flat_outside() {
        let curve = [p(1, 1.0, 1.0), p(2, 1.2, 1.1), p(8, 1.8, 1.4)];
        assert_eq!(factors(&[], 5), (1.0, 1.0));
        assert_eq!(factors(&curve, 1), (1.0, 1.0));
        assert_eq!(factors(&curve, 2), (1.2, 1.1));
        let (w, d) = factors(&curve, 4);
        assert!(
            (w - 1.4).abs() < 1e-12 && (d - 1.2).abs() < 1e-12,
            "{w} {d}"
        );
        assert_eq!(factors(&curve, 8), (1.8, 1.4));
        assert_eq!(factors(&curve, 64), (1.8, 1.4));
        assert_eq!(factors(&[p(3, 1.5, 1.25)], 1), (1.5, 1.25));
    }

    #[test]
    fn grown_scales_cpu_costs_only() {
        let base = Costs::default();
        let g = grown(&base, &[p(1, 1.0, 1.0), p(3, 2.0, 3.0)], 3);
        assert_eq!(g.worker_statement_ms, base.worker_statement_ms * 2.0);
        assert_eq!(g.worker_result_ms, base.worker_result_ms * 2.0);
        assert_eq!(g.db_claim_ms, base.db_claim_ms * 3.0);
        assert_eq!(g.db_query_ms, base.db_query_ms * 3.0);
        assert_eq!(
            (g.commit_ms, g.rtt_ms, g.cv),
            (base.commit_ms, base.rtt_ms, base.cv)
        );
        assert_eq!(grown(&base, &[], 8), base);
    }

    #[test]
    fn validate_names_the_bad_point() {
        assert!(validate(&[]).is_ok());
        assert!(validate(&[p(1, 1.0, 1.0), p(4, 1.3, 1.1)]).is_ok());
        let bad = [
            (vec![p(0, 1.0, 1.0)], "cpuGrowth[0].workers"),
            (vec![p(1, 1.0, 1.0), p(2, -1.0, 1.0)], "cpuGrowth[1].worker"),
            (vec![p(1, 1.0, f64::NAN)], "cpuGrowth[0].db"),
            (vec![p(2, 1.0, 1.0), p(2, 1.1, 1.0)], "increasing order"),
            (vec![p(4, 1.0, 1.0), p(2, 1.1, 1.0)], "increasing order"),
        ];
        for (points, needle) in bad {
            let e = validate(&points).unwrap_err();
            assert!(e.message.contains(needle), "{e}");
            assert_eq!(e.code(), "ERR_CLAIMS_CONFIG");
        }
    }
}

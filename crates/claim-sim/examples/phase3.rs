//! `cargo run --release -p claim-sim --example phase3 [-- --calibrate]`: the team's case: the
//! preset against what they measured, then the model's predictions for their proposals. With
//! `--calibrate`, first re-fits the preset's costs from the measurements.

use claim_sim::preset::{
    seed_phase3, seed_phase3_calibration, seed_phase3_report, SEED_PHASE3_MEASURED,
};

fn main() {
    if std::env::args().any(|a| a == "--calibrate") {
        let cal = claim_sim::calibrate(&seed_phase3_calibration()).expect("valid request");
        println!(
            "fitted ({} evaluations, objective {:.5}):",
            cal.evaluations, cal.objective
        );
        println!(
            "  setupMs {:.1} emptyBackoffMs {:.1}",
            cal.config.setup_ms, cal.config.empty_backoff_ms
        );
        println!(
            "  costs {}",
            serde_json::to_string(&cal.config.costs).expect("serialisable")
        );
    }
    println!("workers  runs    measured  model     error   claims/10s  bottleneck");
    for (workers, jobs, seconds) in SEED_PHASE3_MEASURED {
        let r = claim_sim::simulate(&seed_phase3(workers, jobs).expect("valid")).expect("valid");
        let per10s = r.totals.claim_batches as f64 / r.run_ms * 10_000.0;
        println!(
            "{workers:>7}  {jobs:>6}  {seconds:>6.1} s  {:>6.2} s  {:>+5.1}%  {per10s:>10.0}  {}",
            r.elapsed_ms / 1000.0,
            (r.elapsed_ms / 1000.0 / seconds - 1.0) * 100.0,
            r.bottleneck
        );
    }
    println!("\nproposal                             1 worker   3 workers  speedup  bottleneck (3 workers)");
    for p in seed_phase3_report(50_000).expect("valid") {
        println!(
            "{:<36} {:>6.0}/s  {:>7.0}/s  {:>6.2}×  {}",
            p.name, p.one_worker, p.three_workers, p.speedup, p.bottleneck
        );
    }
}

//! Phase timings of the native pipeline on a generated fleet, without Node in the way:
//! `cargo run --release -p fusion-core --example profile_fusion -- 200000 5`
//! (nodes, runs). Prints the median of each phase.

use fusion_core::fuse::fuse;
use fusion_core::generator::{generate, FleetSpec};
use fusion_core::preset::{sensor, SensorOptions};

fn main() {
    let mut args = std::env::args().skip(1);
    let nodes: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let fleet = generate(&FleetSpec {
        nodes,
        obs_per_node: 5,
        seed: 42,
        noise: 1.0,
        edge_stress: false,
    });
    let records = fleet.sensor_records();
    let config = sensor(SensorOptions::default())
        .compile()
        .expect("valid preset");
    let mut phases: Vec<(&'static str, Vec<f64>)> = Vec::new();
    for _ in 0..runs {
        let out = fuse(&records, &config).expect("valid records");
        for (k, (phase, ms)) in out.stats.timings_ms.iter().enumerate() {
            if phases.len() <= k {
                phases.push((phase, Vec::new()));
            }
            phases[k].1.push(*ms);
        }
    }
    for (phase, mut ms) in phases {
        ms.sort_by(f64::total_cmp);
        println!("{phase:>9}: {:8.1} ms", ms[ms.len() / 2]);
    }
}

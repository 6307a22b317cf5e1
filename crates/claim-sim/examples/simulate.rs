//! `cargo run --release -p claim-sim --example simulate -- '{"workers":3}'`: one simulation,
//! its report as JSON (windows left out) and how long it took to compute.

fn main() {
    let text = std::env::args().nth(1).unwrap_or_else(|| "{}".into());
    let config = match claim_sim::SimConfig::from_json(&text) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let t = std::time::Instant::now();
    let mut report = claim_sim::simulate(&config).expect("validated");
    let took = t.elapsed();
    report.windows.clear();
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("serialisable")
    );
    eprintln!("computed in {:.1} ms", took.as_secs_f64() * 1000.0);
}

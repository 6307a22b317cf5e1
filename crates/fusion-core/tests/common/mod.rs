//! Helpers shared by the integration tests: fleets as records.

use fusion_core::config::Compiled;
use fusion_core::generator::{generate, Fleet, FleetSpec};
use fusion_core::preset::{sensor, SensorOptions};

pub fn fleet(nodes: u32, obs: u32, seed: u64, noise: f64, edge_stress: bool) -> Fleet {
    generate(&FleetSpec {
        nodes,
        obs_per_node: obs,
        seed,
        noise,
        edge_stress,
    })
}

pub fn sensor_config() -> Compiled {
    sensor(SensorOptions::default())
        .compile()
        .expect("the preset is valid")
}

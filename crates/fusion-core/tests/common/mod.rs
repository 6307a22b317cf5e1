//! Helpers shared by the integration tests: fleets as records.

use fusion_core::config::Compiled;
use fusion_core::generator::{generate, Fleet, FleetSpec, CLASSES};
use fusion_core::preset::{sensor, SensorOptions};
use fusion_core::records::{Column, Records};

/// A generated fleet in the sensor preset's columns (cls, t, pos, label).
pub fn sensor_records(fleet: &Fleet) -> Records {
    Records {
        node: fleet.node.clone(),
        columns: vec![
            Column::Category {
                codes: fleet.cls.clone(),
                dictionary: CLASSES.iter().map(|s| s.to_string()).collect(),
            },
            Column::Time(fleet.t.clone()),
            Column::Geo {
                lat: fleet.lat.clone(),
                lon: fleet.lon.clone(),
            },
            Column::Text(vec![None; fleet.node.len()]),
        ],
    }
}

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

//! The sensor preset: observations with a class, a time and a position (plus an optional text
//! label), blocked on time window × radius and scored on class, time gap and distance.
//!
//! The m and u values are those of the fleet generator at its default noise, measured over the
//! candidate pairs of large generated fleets (see the `preset_matches_generator` test, which
//! re-measures them).

use crate::config::{
    BlockingPartSpec, BlockingPassSpec, ComparatorSpec, FieldKind, FieldSpec, FusionConfig,
    LevelSpec, MuSpec, OutputSpec,
};

/// Options of the sensor preset.
#[derive(Debug, Clone, Copy)]
pub struct SensorOptions {
    pub time_window_ms: f64,
    pub radius_m: f64,
    pub one_per_node: bool,
}

impl Default for SensorOptions {
    fn default() -> Self {
        Self {
            time_window_ms: 10_000.0,
            radius_m: 250.0,
            one_per_node: true,
        }
    }
}

fn field(name: &str, kind: FieldKind, optional: bool) -> FieldSpec {
    FieldSpec {
        name: name.into(),
        kind,
        optional,
        from: None,
    }
}

/// The position field reads `lat` and `lon` from the top of a record.
fn position_field() -> FieldSpec {
    FieldSpec {
        from: Some(serde_json::json!({ "lat": "lat", "lon": "lon" })),
        ..field("pos", FieldKind::Geo, false)
    }
}

fn level(label: &str, within: Option<f64>, exact: bool, m: f64, u: f64) -> LevelSpec {
    LevelSpec {
        label: Some(label.into()),
        exact: exact.then_some(true),
        within,
        jaro_winkler: None,
        m,
        u,
    }
}

/// The sensor configuration for the given options.
pub fn sensor(options: SensorOptions) -> FusionConfig {
    let SensorOptions {
        time_window_ms: w,
        radius_m: r,
        one_per_node,
    } = options;
    FusionConfig {
        fields: vec![
            field("cls", FieldKind::Category, false),
            field("t", FieldKind::Time, false),
            position_field(),
            field("label", FieldKind::Text, true),
        ],
        blocking: vec![BlockingPassSpec {
            name: Some("time-and-place".into()),
            parts: vec![
                BlockingPartSpec {
                    field: "t".into(),
                    within: Some(w),
                    ..Default::default()
                },
                BlockingPartSpec {
                    field: "pos".into(),
                    within: Some(r),
                    ..Default::default()
                },
            ],
        }],
        comparators: vec![
            ComparatorSpec {
                field: "cls".into(),
                levels: vec![level("same class", None, true, 0.92, 0.232)],
                otherwise: MuSpec { m: 0.08, u: 0.768 },
            },
            ComparatorSpec {
                field: "t".into(),
                levels: vec![
                    level("within 1.5 s", Some(w * 0.15), false, 0.71, 0.15),
                    level("within 4 s", Some(w * 0.4), false, 0.28, 0.25),
                ],
                otherwise: MuSpec { m: 0.005, u: 0.60 },
            },
            ComparatorSpec {
                field: "pos".into(),
                levels: vec![
                    level("within 40 m", Some(r * 0.16), false, 0.47, 0.022),
                    level("within 100 m", Some(r * 0.4), false, 0.51, 0.122),
                ],
                otherwise: MuSpec { m: 0.02, u: 0.856 },
            },
            ComparatorSpec {
                field: "label".into(),
                levels: vec![LevelSpec {
                    label: Some("similar label".into()),
                    jaro_winkler: Some(0.9),
                    m: 0.9,
                    u: 0.1,
                    ..Default::default()
                }],
                otherwise: MuSpec { m: 0.1, u: 0.9 },
            },
        ],
        prior: 0.86,
        threshold: 0.5,
        one_per_node,
        output: Some(OutputSpec {
            class: Some("cls".into()),
            time: Some("t".into()),
            position: Some("pos".into()),
        }),
    }
}

//! A seeded fleet with known truth: nodes on a jittered grid observe events near them, with
//! noise in time and position, class confusion and clutter. Density stays fixed as the fleet
//! grows (the area grows with the node count), so scaling runs compare like with like.
//!
//! Edge-stress mode moves every event onto a corner of the default blocking grid (a time-bucket
//! edge, a latitude-band edge and a longitude-cell edge), so its observations straddle cells and
//! any blocking that ignores neighbour cells loses pairs.

use crate::blocking::{window_bucket, window_bucket_edge};
use crate::geo::{GeoGrid, EARTH_RADIUS_M};
use crate::records::{Column, Records};
use crate::rng::Rng;

/// Classes an observation can have; earlier ones are more common.
pub const CLASSES: [&str; 6] = ["vehicle", "person", "bicycle", "animal", "drone", "truck"];
const CLASS_WEIGHTS: [f64; 6] = [0.35, 0.25, 0.15, 0.1, 0.1, 0.05];

/// First instant of the generated round (2026-01-01T00:00:00Z), epoch ms.
pub const ROUND_START_MS: f64 = 1_767_225_600_000.0;
/// Length of the generated round, ms.
pub const ROUND_MS: f64 = 300_000.0;
/// Node grid spacing, metres.
pub const NODE_SPACING_M: f64 = 400.0;
/// A node sees events this far away, metres.
pub const SENSING_RANGE_M: f64 = 700.0;
/// Observation time noise (one standard deviation at noise 1), ms.
pub const TIME_SIGMA_MS: f64 = 1_000.0;
/// Observation position noise per axis (one standard deviation at noise 1), metres.
pub const POSITION_SIGMA_M: f64 = 25.0;
/// Probability that an observation reports a wrong class (at noise 1).
pub const CLASS_CONFUSION: f64 = 0.04;
/// Share of observations that are clutter (no real event).
pub const CLUTTER: f64 = 0.05;
/// Window and radius of the grid edge-stress aims at (the sensor preset's defaults).
pub const EDGE_WINDOW_MS: f64 = 10_000.0;
pub const EDGE_RADIUS_M: f64 = 250.0;

const BASE_LAT: f64 = 48.1;
const BASE_LON: f64 = 11.5;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct FleetSpec {
    pub nodes: u32,
    pub obs_per_node: u32,
    pub seed: u64,
    /// Scales time/position noise and class confusion (1 = default).
    pub noise: f64,
    pub edge_stress: bool,
}

/// A generated fleet in columns, records ordered by node then observation.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub node: Vec<u32>,
    /// Observation number within its node.
    pub obs: Vec<u32>,
    /// Index into [`CLASSES`].
    pub cls: Vec<u32>,
    pub t: Vec<f64>,
    pub lat: Vec<f64>,
    pub lon: Vec<f64>,
    /// True event of each record; `None` for clutter.
    pub truth: Vec<Option<u32>>,
}

impl Fleet {
    /// The fleet as records of the sensor preset's schema (cls, t, pos, label).
    pub fn sensor_records(&self) -> Records {
        Records {
            node: self.node.clone(),
            columns: vec![
                Column::Category {
                    codes: self.cls.clone(),
                    dictionary: CLASSES.iter().map(|s| s.to_string()).collect(),
                },
                Column::Time(self.t.clone()),
                Column::Geo {
                    lat: self.lat.clone(),
                    lon: self.lon.clone(),
                },
                Column::Text(vec![None; self.node.len()]),
            ],
        }
    }
}

fn pick_class(rng: &mut Rng) -> u32 {
    let mut x = rng.unit();
    for (i, w) in CLASS_WEIGHTS.iter().enumerate() {
        if x < *w {
            return i as u32;
        }
        x -= w;
    }
    (CLASSES.len() - 1) as u32
}

/// Metres north/east of the base point → degrees.
fn to_lat_lon(north_m: f64, east_m: f64) -> (f64, f64) {
    let deg = EARTH_RADIUS_M.to_radians();
    (
        BASE_LAT + north_m / deg,
        BASE_LON + east_m / (deg * BASE_LAT.to_radians().cos()),
    )
}

/// Degrees → metres north/east of the base point.
fn to_metres(lat: f64, lon: f64) -> (f64, f64) {
    let deg = EARTH_RADIUS_M.to_radians();
    (
        (lat - BASE_LAT) * deg,
        (lon - BASE_LON) * deg * BASE_LAT.to_radians().cos(),
    )
}

/// Uses one observation of `node`'s quota; a node with none left leaves the open list.
fn take(node: usize, quota: &mut [usize], open: &mut Vec<u32>, slot_of: &mut [usize]) {
    quota[node] -= 1;
    if quota[node] == 0 {
        let s = slot_of[node];
        let last = *open.last().expect("a node with quota is open");
        open.swap_remove(s);
        if last as usize != node {
            slot_of[last as usize] = s;
        }
    }
}

/// Generates a fleet; the same spec always gives the same fleet.
pub fn generate(spec: &FleetSpec) -> Fleet {
    let mut rng = Rng::new(spec.seed);
    let n = spec.nodes as usize;
    let k = spec.obs_per_node as usize;
    let side = (n as f64).sqrt().ceil().max(1.0) as usize;
    let noise = spec.noise.max(0.0);
    // Node positions, metres (north, east).
    let pos: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let (row, col) = ((i / side) as f64, (i % side) as f64);
            let j = NODE_SPACING_M * 0.3;
            (
                row * NODE_SPACING_M + rng.range(-j, j),
                col * NODE_SPACING_M + rng.range(-j, j),
            )
        })
        .collect();
    let mut quota = vec![k; n];
    // Nodes with quota left, for picking event sites.
    let mut open: Vec<u32> = (0..n as u32).filter(|_| k > 0).collect();
    let mut slot_of: Vec<usize> = (0..n).collect();
    let mut fleet = Fleet::default();
    let total = n * k;
    let target = ((total as f64) * (1.0 - CLUTTER)).round() as usize;
    let grid = GeoGrid::new(EDGE_RADIUS_M);
    let reach = (SENSING_RANGE_M / NODE_SPACING_M).ceil() as i64 + 1;
    let mut events = 0u32;
    let mut emitted = 0usize;
    let mut records: Vec<(u32, u32, f64, f64, f64, Option<u32>)> = Vec::with_capacity(total);
    while emitted < target && !open.is_empty() {
        let site = open[rng.below(open.len() as u64) as usize] as usize;
        // Event position: uniform in a disc of 300 m around the site node.
        let r = 300.0 * rng.unit().sqrt();
        let a = rng.range(0.0, std::f64::consts::TAU);
        let (mut north, mut east) = (pos[site].0 + r * a.cos(), pos[site].1 + r * a.sin());
        let mut t = ROUND_START_MS + rng.range(0.0, ROUND_MS);
        if spec.edge_stress {
            let edge = window_bucket(t, 0.0, EDGE_WINDOW_MS) + 1;
            t = window_bucket_edge(edge, 0.0, EDGE_WINDOW_MS);
            let (lat, lon) = to_lat_lon(north, east);
            let (b, c) = grid.cell_of(lat, lon);
            let corner_lat = -90.0 + b as f64 * grid.band_height();
            let corner = to_metres(corner_lat, grid.cell_west_edge(b, c));
            north = corner.0;
            east = corner.1;
        }
        let cls = pick_class(&mut rng);
        // Observers: the site plus up to 1–3 more nodes in range with quota left.
        let wanted = 2 + rng.below(3) as usize;
        let (row, col) = (
            (north / NODE_SPACING_M).round() as i64,
            (east / NODE_SPACING_M).round() as i64,
        );
        let mut nearby: Vec<usize> = Vec::new();
        for dr in -reach..=reach {
            for dc in -reach..=reach {
                let (rr, cc) = (row + dr, col + dc);
                if rr < 0 || cc < 0 || cc >= side as i64 {
                    continue;
                }
                let idx = rr as usize * side + cc as usize;
                if idx >= n || idx == site || quota[idx] == 0 {
                    continue;
                }
                let (dn, de) = (pos[idx].0 - north, pos[idx].1 - east);
                if (dn * dn + de * de).sqrt() <= SENSING_RANGE_M {
                    nearby.push(idx);
                }
            }
        }
        let mut observers = vec![site];
        while observers.len() < wanted && !nearby.is_empty() {
            let pick = rng.below(nearby.len() as u64) as usize;
            observers.push(nearby.swap_remove(pick));
        }
        let id = events;
        events += 1;
        for &o in &observers {
            if emitted >= target {
                break;
            }
            let sigma_p = POSITION_SIGMA_M * noise;
            let (lat, lon) = to_lat_lon(
                north + sigma_p * rng.normal(),
                east + sigma_p * rng.normal(),
            );
            let ot = t + TIME_SIGMA_MS * noise * rng.normal();
            let oc = if rng.chance((CLASS_CONFUSION * noise).min(0.5)) {
                (cls + 1 + rng.below(CLASSES.len() as u64 - 1) as u32) % CLASSES.len() as u32
            } else {
                cls
            };
            records.push((o as u32, oc, ot, lat, lon, Some(id)));
            take(o, &mut quota, &mut open, &mut slot_of);
            emitted += 1;
        }
    }
    // Clutter fills every node's remaining quota.
    for (node, left) in quota.clone().into_iter().enumerate() {
        for _ in 0..left {
            let r = 350.0 * rng.unit().sqrt();
            let a = rng.range(0.0, std::f64::consts::TAU);
            let (lat, lon) = to_lat_lon(pos[node].0 + r * a.cos(), pos[node].1 + r * a.sin());
            let t = ROUND_START_MS + rng.range(0.0, ROUND_MS);
            records.push((node as u32, pick_class(&mut rng), t, lat, lon, None));
        }
    }
    // Order by node, keeping each node's observations in generation order.
    records.sort_by_key(|r| r.0);
    let mut per_node = vec![0u32; n];
    for (node, cls, t, lat, lon, truth) in records {
        fleet.node.push(node);
        fleet.obs.push(per_node[node as usize]);
        per_node[node as usize] += 1;
        fleet.cls.push(cls);
        fleet.t.push(t);
        fleet.lat.push(lat);
        fleet.lon.push(lon);
        fleet.truth.push(truth);
    }
    fleet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_counts_and_determinism() {
        let spec = FleetSpec {
            nodes: 50,
            obs_per_node: 5,
            seed: 9,
            noise: 1.0,
            edge_stress: false,
        };
        let a = generate(&spec);
        let b = generate(&spec);
        assert_eq!(a.node.len(), 250);
        assert_eq!(a.t, b.t);
        assert_eq!(a.truth, b.truth);
        for node in 0..50u32 {
            assert_eq!(a.node.iter().filter(|&&x| x == node).count(), 5);
        }
        let clutter = a.truth.iter().filter(|t| t.is_none()).count();
        assert!((10..=40).contains(&clutter), "{clutter}");
        // No event has two observations from one node.
        let mut seen = std::collections::HashSet::new();
        for (i, t) in a.truth.iter().enumerate() {
            if let Some(e) = t {
                assert!(seen.insert((*e, a.node[i])));
            }
        }
    }

    #[test]
    fn edge_stress_puts_events_on_bucket_edges() {
        let spec = FleetSpec {
            nodes: 40,
            obs_per_node: 5,
            seed: 3,
            noise: 1.0,
            edge_stress: true,
        };
        let f = generate(&spec);
        let grid = GeoGrid::new(EDGE_RADIUS_M);
        // Count events whose observations fall in more than one time bucket or geo cell.
        let mut cells: std::collections::HashMap<u32, std::collections::HashSet<(i64, i64, i64)>> =
            Default::default();
        for i in 0..f.t.len() {
            if let Some(e) = f.truth[i] {
                let (b, c) = grid.cell_of(f.lat[i], f.lon[i]);
                cells.entry(e).or_default().insert((
                    window_bucket(f.t[i], 0.0, EDGE_WINDOW_MS),
                    b,
                    c,
                ));
            }
        }
        let split = cells.values().filter(|s| s.len() > 1).count();
        assert!(
            split * 10 >= cells.len() * 8,
            "{split} of {} events straddle cells",
            cells.len()
        );
    }
}

//! The global index, the legacy per-node-pair loop and a brute-force check of the pass predicates
//! must give the same candidates, and the index and the legacy loop the same fused events.

mod common;

use fusion_core::blocking::{brute_force_candidates, BlockingIndex, Pair};
use fusion_core::cluster::Clusters;
use fusion_core::config::{
    BlockingPartSpec, BlockingPassSpec, ComparatorSpec, FieldKind, FieldSpec, FusionConfig,
    LevelSpec, MuSpec,
};
use fusion_core::fuse::{candidate_pairs, fuse_with, Method};
use fusion_core::records::{Column, Records, MISSING_CODE};
use fusion_core::rng::Rng;
use fusion_core::scoring::score_pairs;
use proptest::prelude::*;

fn check_all_methods(records: &Records, config: &fusion_core::config::Compiled) {
    let (index, _) = candidate_pairs(records, config, Method::Index).unwrap();
    let (legacy, _) = candidate_pairs(records, config, Method::Pairwise).unwrap();
    let brute = brute_force_candidates(records, config);
    assert_eq!(index, brute, "index vs brute force");
    assert_eq!(legacy, brute, "legacy vs brute force");
    let a = fuse_with(records, config, Method::Index).unwrap();
    let b = fuse_with(records, config, Method::Pairwise).unwrap();
    assert_eq!(a.events, b.events);
    assert_eq!(a.stats.candidates, b.stats.candidates);
    assert_eq!(a.stats.matched, b.stats.matched);
    // Every record is in exactly one event.
    let mut seen = vec![0u8; records.len()];
    for e in a.events.iter() {
        for &m in e.members {
            seen[m as usize] += 1;
        }
        assert!(e.members.windows(2).all(|w| w[0] < w[1]));
    }
    assert!(seen.iter().all(|&c| c == 1));
    assert!(a.events.t.windows(2).all(|w| w[0] <= w[1] || w[0].is_nan()));
    // The same clusters, scores and matched count as one greedy pass over every accepted pair.
    let (groups, matched) = greedy_reference(records, config, &brute);
    let mut found: Vec<(Vec<u32>, f64)> = a
        .events
        .iter()
        .map(|e| (e.members.to_vec(), e.score))
        .collect();
    found.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(found.len(), groups.len());
    for ((members, score), (want, want_score)) in found.iter().zip(&groups) {
        assert_eq!(members, want);
        assert_eq!(
            score.to_bits(),
            want_score.to_bits(),
            "score of {members:?}"
        );
    }
    assert_eq!(a.stats.matched, matched);
}

/// Clusters (ascending members, sorted by first member) with their mean pair probability, and
/// the matched count, from one union-find pass over all accepted pairs by falling probability,
/// ties by pair: the definition the pipeline's per-component clustering must equal.
fn greedy_reference(
    records: &Records,
    config: &fusion_core::config::Compiled,
    pairs: &[Pair],
) -> (Vec<(Vec<u32>, f64)>, u64) {
    let probs = score_pairs(config, records, pairs);
    let mut accepted: Vec<(f64, Pair)> = pairs
        .iter()
        .zip(&probs)
        .filter(|(_, &p)| p >= config.threshold)
        .map(|(&pair, &p)| (p, pair))
        .collect();
    accepted.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    let mut clusters = Clusters::new(&records.node);
    for &(_, (i, j)) in &accepted {
        clusters.union(i, j, config.one_per_node);
    }
    let n = records.len() as u32;
    let roots: Vec<u32> = (0..n).map(|i| clusters.find(i)).collect();
    let mut by_root: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
    for i in 0..n {
        by_root.entry(roots[i as usize]).or_default().push(i);
    }
    let mut sums: std::collections::HashMap<u32, (f64, u64)> = Default::default();
    for &(p, (i, j)) in &accepted {
        if roots[i as usize] == roots[j as usize] {
            let s = sums.entry(roots[i as usize]).or_default();
            s.0 += p;
            s.1 += 1;
        }
    }
    let matched = sums.values().map(|s| s.1).sum();
    let mut groups: Vec<(Vec<u32>, f64)> = by_root
        .into_iter()
        .map(|(root, members)| {
            let score = match sums.get(&root) {
                Some(&(sum, count)) => sum / count as f64,
                None => 0.0,
            };
            (members, score)
        })
        .collect();
    groups.sort_by(|x, y| x.0.cmp(&y.0));
    (groups, matched)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn sensor_fleets_agree(
        nodes in 2u32..40, obs in 1u32..7, seed in any::<u64>(),
        noise in 0.0f64..3.0, edge in any::<bool>(),
    ) {
        let fleet = common::fleet(nodes, obs, seed, noise, edge);
        let records = fleet.sensor_records();
        check_all_methods(&records, &common::sensor_config());
    }

    #[test]
    fn random_schemas_agree(seed in any::<u64>(), n in 0usize..120) {
        let (records, config) = random_case(seed, n);
        let compiled = config.compile().unwrap();
        check_all_methods(&records, &compiled);
    }
}

/// Records over every field kind, with values clustered so that windows, prefixes and radii
/// bite, positions near poles and the antimeridian, and missing optional values.
fn random_case(seed: u64, n: usize) -> (Records, FusionConfig) {
    let mut rng = Rng::new(seed);
    let words = [
        "ann", "anna", "annie", "bob", "bobby", "carl", "carla", "dé", "déjà", "",
    ];
    let nodes = 1 + rng.below(6) as u32;
    let node = (0..n).map(|_| rng.below(nodes as u64) as u32).collect();
    let cat = Column::Category {
        codes: (0..n)
            .map(|_| {
                if rng.chance(0.1) {
                    MISSING_CODE
                } else {
                    rng.below(4) as u32
                }
            })
            .collect(),
        dictionary: vec!["red".into(), "green".into(), "blue".into(), "re".into()],
    };
    let text = Column::Text(
        (0..n)
            .map(|_| {
                if rng.chance(0.1) {
                    None
                } else {
                    Some(words[rng.below(words.len() as u64) as usize].to_string())
                }
            })
            .collect(),
    );
    let width = [0.5, 1.0, 3.0][rng.below(3) as usize];
    let num = Column::Number(
        (0..n)
            .map(|_| {
                if rng.chance(0.1) {
                    f64::NAN
                } else {
                    // Multiples of the window hit bucket edges exactly.
                    (rng.below(12) as f64 - 6.0) * width * if rng.chance(0.5) { 1.0 } else { 0.5 }
                }
            })
            .collect(),
    );
    let time = Column::Time(
        (0..n)
            .map(|_| 1.7e12 + rng.below(6) as f64 * 10_000.0 + rng.range(-900.0, 900.0))
            .collect(),
    );
    let centres = [
        (0.0, 179.999),
        (0.0, -179.999),
        (89.999, 10.0),
        (-89.9995, -100.0),
        (48.1, 11.5),
    ];
    let (mut lat, mut lon) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let (clat, clon) = centres[rng.below(centres.len() as u64) as usize];
        let a: f64 = (clat + rng.range(-0.003, 0.003)).clamp(-90.0, 90.0);
        let mut o: f64 = clon + rng.range(-0.004, 0.004);
        if o > 180.0 {
            o -= 360.0;
        }
        if o < -180.0 {
            o += 360.0;
        }
        lat.push(a);
        lon.push(o);
    }
    let geo = Column::Geo { lat, lon };
    let fields = vec![
        FieldSpec {
            name: "cat".into(),
            kind: FieldKind::Category,
            optional: true,
            from: None,
        },
        FieldSpec {
            name: "name".into(),
            kind: FieldKind::Text,
            optional: true,
            from: None,
        },
        FieldSpec {
            name: "num".into(),
            kind: FieldKind::Number,
            optional: true,
            from: None,
        },
        FieldSpec {
            name: "t".into(),
            kind: FieldKind::Time,
            optional: false,
            from: None,
        },
        FieldSpec {
            name: "pos".into(),
            kind: FieldKind::Geo,
            optional: false,
            from: None,
        },
    ];
    let part = |rng: &mut Rng| -> BlockingPartSpec {
        match rng.below(6) {
            0 => BlockingPartSpec {
                field: "cat".into(),
                exact: Some(true),
                ..Default::default()
            },
            1 => BlockingPartSpec {
                field: "name".into(),
                prefix: Some(1 + rng.below(3) as u32),
                ..Default::default()
            },
            2 => BlockingPartSpec {
                field: "num".into(),
                within: Some(width),
                ..Default::default()
            },
            3 => BlockingPartSpec {
                field: "t".into(),
                within: Some(10_000.0),
                ..Default::default()
            },
            4 => BlockingPartSpec {
                field: "pos".into(),
                within: Some([50.0, 250.0, 400.0][rng.below(3) as usize]),
                ..Default::default()
            },
            _ => BlockingPartSpec {
                field: "name".into(),
                exact: Some(true),
                ..Default::default()
            },
        }
    };
    let blocking = (0..1 + rng.below(3))
        .map(|_| BlockingPassSpec {
            name: None,
            parts: (0..1 + rng.below(3)).map(|_| part(&mut rng)).collect(),
        })
        .collect();
    let comparators = vec![
        ComparatorSpec {
            field: "name".into(),
            levels: vec![LevelSpec {
                jaro_winkler: Some(0.85),
                m: 0.8,
                u: 0.1,
                ..Default::default()
            }],
            otherwise: MuSpec { m: 0.2, u: 0.9 },
        },
        ComparatorSpec {
            field: "pos".into(),
            levels: vec![LevelSpec {
                within: Some(100.0),
                m: 0.9,
                u: 0.2,
                ..Default::default()
            }],
            otherwise: MuSpec { m: 0.1, u: 0.8 },
        },
    ];
    let config = FusionConfig {
        fields,
        blocking,
        comparators,
        prior: 0.2,
        threshold: 0.5,
        one_per_node: rng.chance(0.5),
        output: None,
    };
    (
        Records {
            node,
            columns: vec![cat, text, num, time, geo],
        },
        config,
    )
}

#[test]
fn each_pair_once_across_overlapping_passes() {
    // Two identical passes must not double the candidates.
    let fleet = common::fleet(30, 5, 11, 1.0, true);
    let records = fleet.sensor_records();
    let mut config = fusion_core::preset::sensor(Default::default());
    config.blocking.push(config.blocking[0].clone());
    let compiled = config.compile().unwrap();
    let single = common::sensor_config();
    let (a, _) = candidate_pairs(&records, &compiled, Method::Index).unwrap();
    let (b, _) = candidate_pairs(&records, &single, Method::Index).unwrap();
    assert_eq!(a, b);
    assert!(a.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn stats_report_blocks_and_the_largest_one() {
    let fleet = common::fleet(200, 5, 5, 1.0, false);
    let records = fleet.sensor_records();
    let config = common::sensor_config();
    let index = BlockingIndex::new(&records, &config);
    let (pairs, stats) = index.candidates();
    assert!(stats.blocks > 0 && stats.largest_block >= 1);
    assert!(stats.compared >= pairs.len() as u64);
    // The index compares far fewer pairs than all n²/2.
    let n = records.len() as u64;
    assert!(
        stats.compared < n * (n - 1) / 2 / 20,
        "{} compared",
        stats.compared
    );
}

#[test]
fn a_hot_component_splits_into_one_record_per_node_clusters() {
    // Three nodes each see 300 records at one place within seconds: every cross-node pair is a
    // match, so one component of 900 records holds hundreds of one-per-node clusters.
    let n = 900;
    let mut rng = Rng::new(5);
    let records = Records {
        node: (0..n).map(|i| (i % 3) as u32).collect(),
        columns: vec![
            Column::Category {
                codes: vec![0; n],
                dictionary: vec!["vehicle".into()],
            },
            Column::Time((0..n).map(|_| 1e12 + rng.below(3000) as f64).collect()),
            Column::Geo {
                lat: (0..n)
                    .map(|_| 48.1 + rng.below(100) as f64 * 1e-6)
                    .collect(),
                lon: vec![11.5; n],
            },
            Column::Text(vec![None; n]),
        ],
    };
    let config = common::sensor_config();
    let out = fuse_with(&records, &config, Method::Index).unwrap();
    assert_eq!(out.stats.candidates, 3 * 300 * 300);
    assert_eq!(out.events.len(), 300);
    for e in out.events.iter() {
        let mut nodes: Vec<u32> = e
            .members
            .iter()
            .map(|&m| records.node[m as usize])
            .collect();
        nodes.sort_unstable();
        assert_eq!(nodes, vec![0, 1, 2]);
    }
    check_all_methods(&records, &config);
}

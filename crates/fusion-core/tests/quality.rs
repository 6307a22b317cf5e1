//! Quality of the sensor preset on generated fleets, and the preset's m/u against the generator.

mod common;

use fusion_core::blocking::BlockingIndex;
use fusion_core::evaluate::{evaluate_blocking, evaluate_clusters, labels_from_events};
use fusion_core::fuse::fuse;
use fusion_core::scoring::comparator_weight;

#[test]
fn default_noise_meets_the_quality_targets() {
    let fleet = common::fleet(2000, 5, 42, 1.0, false);
    let records = fleet.sensor_records();
    let config = common::sensor_config();
    let out = fuse(&records, &config).unwrap();
    let q = evaluate_clusters(
        &labels_from_events(&out.events, records.len()),
        &fleet.truth,
    );
    eprintln!("default noise: {q:?}");
    assert!(q.f1 >= 0.95, "pairwise F1 {}", q.f1);
    assert!(q.bcubed_f1 >= 0.97, "B-cubed F1 {}", q.bcubed_f1);
}

#[test]
fn edge_stress_keeps_pairs_complete() {
    for seed in [1, 2, 3] {
        let fleet = common::fleet(1000, 5, seed, 1.0, true);
        let records = fleet.sensor_records();
        let config = common::sensor_config();
        let (pairs, _) = BlockingIndex::new(&records, &config).candidates();
        let b = evaluate_blocking(&pairs, &records.node, &fleet.truth);
        eprintln!("edge stress seed {seed}: {b:?}");
        assert!(
            b.pairs_completeness >= 0.995,
            "pairs completeness {}",
            b.pairs_completeness
        );
        assert!(b.reduction_ratio > 0.99);
    }
}

/// Measures, over the candidate pairs of a large fleet, how often matches (m) and non-matches
/// (u) land on each level of each comparator, and checks the preset's values are close: the
/// preset's claim that its m/u are the generator's holds only while this passes.
#[test]
fn preset_matches_generator() {
    let fleet = common::fleet(5000, 5, 7, 1.0, false);
    let records = fleet.sensor_records();
    let config = common::sensor_config();
    let (pairs, _) = BlockingIndex::new(&records, &config).candidates();
    let mut matches = 0usize;
    for &(i, j) in &pairs {
        let (a, b) = (fleet.truth[i as usize], fleet.truth[j as usize]);
        if a.is_some() && a == b {
            matches += 1;
        }
    }
    let prior = matches as f64 / pairs.len() as f64;
    eprintln!("prior measured {prior:.3}, preset {:.3}", {
        let w = config.prior_weight.exp2();
        w / (1.0 + w)
    });
    let preset = fusion_core::preset::sensor(Default::default());
    for (c, comparator) in config.comparators.iter().enumerate() {
        if comparator.levels.is_empty() {
            continue;
        }
        let levels = comparator.levels.len() + 1;
        let (mut m, mut u) = (vec![0usize; levels], vec![0usize; levels]);
        let (mut nm, mut nu) = (0usize, 0usize);
        for &(i, j) in &pairs {
            let w = comparator_weight(comparator, &records, i as usize, j as usize);
            if w == 0.0 && !records.columns[comparator.field].present(i as usize) {
                continue; // missing value: not measured
            }
            let level = comparator
                .levels
                .iter()
                .position(|l| l.weight == w)
                .unwrap_or(comparator.levels.len());
            let (a, b) = (fleet.truth[i as usize], fleet.truth[j as usize]);
            if a.is_some() && a == b {
                m[level] += 1;
                nm += 1;
            } else {
                u[level] += 1;
                nu += 1;
            }
        }
        if nm == 0 {
            continue;
        }
        let spec = &preset.comparators[c];
        for level in 0..levels {
            let (mm, uu) = (m[level] as f64 / nm as f64, u[level] as f64 / nu as f64);
            let (pm, pu) = if level < spec.levels.len() {
                (spec.levels[level].m, spec.levels[level].u)
            } else {
                (spec.otherwise.m, spec.otherwise.u)
            };
            eprintln!(
                "{} level {level}: m {mm:.3} (preset {pm}), u {uu:.3} (preset {pu})",
                spec.field
            );
            assert!(
                (mm - pm).abs() <= 0.03 + 0.1 * pm,
                "{} level {level} m {mm} vs {pm}",
                spec.field
            );
            assert!(
                (uu - pu).abs() <= 0.03 + 0.1 * pu,
                "{} level {level} u {uu} vs {pu}",
                spec.field
            );
        }
    }
    assert!((prior - 0.86).abs() < 0.05, "prior {prior}");
}

//! Fellegi–Sunter scoring: each comparator puts a pair on a level, each level adds
//! `log2(m / u)`, and the total weight (plus the prior) gives the match probability.

use rayon::prelude::*;

use crate::blocking::Pair;
use crate::config::{Comparator, Compiled, LevelTest};
use crate::geo::haversine_m;
use crate::records::{Column, Records};

/// Jaro–Winkler similarity in [0, 1] (prefix scale 0.1, prefix up to 4 characters).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let range = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_match = vec![false; a.len()];
    let mut b_match = vec![false; b.len()];
    let mut matches = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(range);
        let hi = (i + range + 1).min(b.len());
        for j in lo..hi {
            if !b_match[j] && b[j] == *ca {
                a_match[i] = true;
                b_match[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let mut transpositions = 0usize;
    let mut k = 0usize;
    for (i, ca) in a.iter().enumerate() {
        if a_match[i] {
            while !b_match[k] {
                k += 1;
            }
            if *ca != b[k] {
                transpositions += 1;
            }
            k += 1;
        }
    }
    let m = matches as f64;
    let jaro =
        (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64 / 2.0) / m) / 3.0;
    let prefix = a.iter().zip(&b).take(4).take_while(|(x, y)| x == y).count() as f64;
    jaro + prefix * 0.1 * (1.0 - jaro)
}

/// The weight a comparator gives a pair; 0 when either value is missing.
pub fn comparator_weight(c: &Comparator, records: &Records, i: usize, j: usize) -> f64 {
    let column = &records.columns[c.field];
    if !column.present(i) || !column.present(j) {
        return 0.0;
    }
    // A geo comparator's distance, computed once for all its levels.
    let mut distance = None;
    for level in &c.levels {
        let hit = match level.test {
            LevelTest::Exact => match column {
                Column::Category { codes, .. } => codes[i] == codes[j],
                Column::Text(_) => column.str_at(i) == column.str_at(j),
                Column::Number(_) | Column::Time(_) => column.num_at(i) == column.num_at(j),
                Column::Geo { .. } => column.geo_at(i) == column.geo_at(j),
            },
            LevelTest::Within(w) => match column {
                Column::Geo { .. } => {
                    let d = *distance.get_or_insert_with(|| {
                        let (a, b) = (column.geo_at(i), column.geo_at(j));
                        haversine_m(a.0, a.1, b.0, b.1)
                    });
                    d <= w
                }
                _ => (column.num_at(i) - column.num_at(j)).abs() <= w,
            },
            LevelTest::JaroWinkler(s) => {
                jaro_winkler(
                    column.str_at(i).unwrap_or(""),
                    column.str_at(j).unwrap_or(""),
                ) >= s
            }
        };
        if hit {
            return level.weight;
        }
    }
    c.otherwise
}

/// Match weight of a pair: prior plus every comparator's weight.
pub fn match_weight(config: &Compiled, records: &Records, i: usize, j: usize) -> f64 {
    config.prior_weight
        + config
            .comparators
            .iter()
            .map(|c| comparator_weight(c, records, i, j))
            .sum::<f64>()
}

/// Probability from a match weight: `2^w / (1 + 2^w)`.
pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// Match probability of every pair, in parallel, in the pairs' order.
pub fn score_pairs(config: &Compiled, records: &Records, pairs: &[Pair]) -> Vec<f64> {
    pairs
        .par_iter()
        .map(|&(i, j)| probability(match_weight(config, records, i as usize, j as usize)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaro_winkler_reference_values() {
        // Classic values from Winkler's papers.
        assert!((jaro_winkler("MARTHA", "MARHTA") - 0.9611).abs() < 1e-4);
        assert!((jaro_winkler("DWAYNE", "DUANE") - 0.84).abs() < 1e-4);
        assert!((jaro_winkler("DIXON", "DICKSONX") - 0.8133).abs() < 1e-4);
        assert_eq!(jaro_winkler("", "abc"), 0.0);
        assert_eq!(jaro_winkler("abc", "abc"), 1.0);
        assert_eq!(jaro_winkler("abc", "xyz"), 0.0);
    }

    #[test]
    fn probability_is_logistic_in_base_two() {
        assert_eq!(probability(0.0), 0.5);
        assert!((probability(1.0) - 2.0 / 3.0).abs() < 1e-12);
        assert!(probability(-60.0) < 1e-15);
    }
}

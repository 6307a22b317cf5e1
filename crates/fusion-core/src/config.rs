//! The schema-driven fusion configuration: fields, blocking passes, comparators, decision.
//!
//! The configuration is plain data (serde, camelCase), so the TypeScript facade passes exactly
//! what a user wrote. [`FusionConfig::compile`] validates it and resolves names to indices; every
//! problem becomes an `ERR_FUSION_CONFIG` error that names the offending entry.

use serde::{Deserialize, Serialize};

use crate::error::{FusionError, Result};

/// The kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    /// A string from a small set (dictionary encoded).
    Category,
    /// Free text (exact, prefix, Jaro–Winkler).
    Text,
    /// A finite number.
    Number,
    /// Epoch milliseconds.
    Time,
    /// A position (latitude, longitude in degrees).
    Geo,
}

/// One field of the record schema.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldSpec {
    pub name: String,
    pub kind: FieldKind,
    /// Records may omit the value; a missing value never blocks and scores neutral.
    #[serde(default)]
    pub optional: bool,
    /// Where the facade reads the value from a record object (ignored by the core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<serde_json::Value>,
}

/// One conjunct of a blocking pass.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlockingPartSpec {
    pub field: String,
    /// Values must be equal (category, text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<bool>,
    /// The first `prefix` characters must be equal (category, text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<u32>,
    /// Values within this distance: units of the number, milliseconds for time, metres for geo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<f64>,
}

/// A blocking pass: a pair is a candidate when it satisfies every part of at least one pass.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlockingPassSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub parts: Vec<BlockingPartSpec>,
}

/// m and u probabilities of a comparison level.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MuSpec {
    pub m: f64,
    pub u: f64,
}

/// One comparison level; the first level whose test holds is taken.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LevelSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jaro_winkler: Option<f64>,
    pub m: f64,
    pub u: f64,
}

/// A Fellegi–Sunter comparator on one field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComparatorSpec {
    pub field: String,
    pub levels: Vec<LevelSpec>,
    /// The level taken when no other level matches.
    pub otherwise: MuSpec,
}

/// Which fields describe a fused event (class, time, position); defaults to the first field of
/// each kind.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutputSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

/// A complete fusion configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FusionConfig {
    pub fields: Vec<FieldSpec>,
    pub blocking: Vec<BlockingPassSpec>,
    pub comparators: Vec<ComparatorSpec>,
    /// Prior probability that a candidate pair is a match, in (0, 1).
    pub prior: f64,
    /// Match probability at or above which a pair is accepted, in (0, 1).
    pub threshold: f64,
    /// At most one record of each node per event.
    #[serde(default)]
    pub one_per_node: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputSpec>,
}

/// Most dimensions a pass's cell key may have (a geo part takes two).
pub const MAX_KEY_DIMS: usize = 8;

/// A validated blocking part.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Equal value, or equal first `prefix` characters.
    Exact { field: usize, prefix: Option<usize> },
    /// `|a - b| <= width` on a number or time field.
    Window { field: usize, width: f64 },
    /// Great-circle distance `<= radius_m`.
    Geo { field: usize, radius_m: f64 },
}

impl Part {
    pub fn field(&self) -> usize {
        match *self {
            Part::Exact { field, .. } | Part::Window { field, .. } | Part::Geo { field, .. } => {
                field
            }
        }
    }
}

/// The test of a validated comparison level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LevelTest {
    Exact,
    Within(f64),
    JaroWinkler(f64),
}

/// A validated level: its test and its weight `log2(m / u)`.
#[derive(Debug, Clone, Copy)]
pub struct Level {
    pub test: LevelTest,
    pub weight: f64,
}

/// A validated comparator.
#[derive(Debug, Clone)]
pub struct Comparator {
    pub field: usize,
    pub levels: Vec<Level>,
    pub otherwise: f64,
}

/// A validated configuration with names resolved to column indices.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub fields: Vec<FieldSpec>,
    pub passes: Vec<Vec<Part>>,
    pub comparators: Vec<Comparator>,
    /// `log2(prior / (1 - prior))`.
    pub prior_weight: f64,
    pub threshold: f64,
    pub one_per_node: bool,
    pub class_field: Option<usize>,
    pub time_field: Option<usize>,
    pub position_field: Option<usize>,
}

fn positive(value: f64, what: &str) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(FusionError::config(format!(
            "{what} must be a finite number > 0, got {value}"
        )))
    }
}

fn probability(value: f64, what: &str) -> Result<f64> {
    if value.is_finite() && value > 0.0 && value <= 1.0 {
        Ok(value)
    } else {
        Err(FusionError::config(format!(
            "{what} must be in (0, 1], got {value}"
        )))
    }
}

impl FusionConfig {
    /// Parses a configuration from JSON; malformed JSON, unknown keys and unknown field kinds
    /// are `ERR_FUSION_CONFIG`.
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json)
            .map_err(|e| FusionError::config(format!("invalid fusion config: {e}")))
    }

    /// Validates the configuration and resolves field names.
    pub fn compile(&self) -> Result<Compiled> {
        if self.fields.is_empty() {
            return Err(FusionError::config("fields must list at least one field"));
        }
        let mut names = std::collections::HashMap::new();
        for (i, f) in self.fields.iter().enumerate() {
            if f.name.is_empty() {
                return Err(FusionError::config(format!(
                    "fields[{i}].name must not be empty"
                )));
            }
            if names.insert(f.name.as_str(), i).is_some() {
                return Err(FusionError::config(format!(
                    "fields[{i}].name \"{}\" is declared twice",
                    f.name
                )));
            }
        }
        let lookup = |name: &str, at: &str| -> Result<usize> {
            names.get(name).copied().ok_or_else(|| {
                FusionError::config(format!("{at}.field \"{name}\" is not a declared field"))
            })
        };

        if self.blocking.is_empty() {
            return Err(FusionError::config("blocking must list at least one pass"));
        }
        let mut passes = Vec::with_capacity(self.blocking.len());
        for (p, pass) in self.blocking.iter().enumerate() {
            if pass.parts.is_empty() {
                return Err(FusionError::config(format!(
                    "blocking[{p}].parts must not be empty"
                )));
            }
            let mut parts = Vec::with_capacity(pass.parts.len());
            let mut dims = 0;
            for (k, part) in pass.parts.iter().enumerate() {
                let at = format!("blocking[{p}].parts[{k}]");
                let field = lookup(&part.field, &at)?;
                let kind = self.fields[field].kind;
                let exactish = part.exact == Some(true) || part.prefix.is_some();
                if part.exact == Some(false) {
                    return Err(FusionError::config(format!(
                        "{at}.exact must be true or absent"
                    )));
                }
                let built = match (exactish, part.within) {
                    (true, Some(_)) => {
                        return Err(FusionError::config(format!(
                            "{at} must set either exact/prefix or within, not both"
                        )))
                    }
                    (false, None) => {
                        return Err(FusionError::config(format!(
                            "{at} must set exact: true, prefix or within"
                        )))
                    }
                    (true, None) => {
                        if !matches!(kind, FieldKind::Category | FieldKind::Text) {
                            return Err(FusionError::config(format!(
                                "{at}: exact/prefix blocking needs a category or text field, \
                                 \"{}\" is {kind:?}",
                                part.field
                            )));
                        }
                        let prefix = match part.prefix {
                            Some(0) => {
                                return Err(FusionError::config(format!(
                                    "{at}.prefix must be >= 1"
                                )))
                            }
                            other => other.map(|n| n as usize),
                        };
                        dims += 1;
                        Part::Exact { field, prefix }
                    }
                    (false, Some(w)) => {
                        let w = positive(w, &format!("{at}.within"))?;
                        match kind {
                            FieldKind::Number | FieldKind::Time => {
                                dims += 1;
                                Part::Window { field, width: w }
                            }
                            FieldKind::Geo => {
                                dims += 2;
                                Part::Geo { field, radius_m: w }
                            }
                            _ => {
                                return Err(FusionError::config(format!(
                                    "{at}: within needs a number, time or geo field, \"{}\" is \
                                     {kind:?}",
                                    part.field
                                )))
                            }
                        }
                    }
                };
                parts.push(built);
            }
            if dims > MAX_KEY_DIMS {
                return Err(FusionError::config(format!(
                    "blocking[{p}] has {dims} key dimensions; at most {MAX_KEY_DIMS} (geo counts 2)"
                )));
            }
            passes.push(parts);
        }

        let mut comparators = Vec::with_capacity(self.comparators.len());
        for (c, comp) in self.comparators.iter().enumerate() {
            let at = format!("comparators[{c}]");
            let field = lookup(&comp.field, &at)?;
            let kind = self.fields[field].kind;
            let mut levels = Vec::with_capacity(comp.levels.len());
            for (l, level) in comp.levels.iter().enumerate() {
                let lat = format!("{at}.levels[{l}]");
                let tests = [
                    level.exact == Some(true),
                    level.within.is_some(),
                    level.jaro_winkler.is_some(),
                ];
                if tests.iter().filter(|t| **t).count() != 1 || level.exact == Some(false) {
                    return Err(FusionError::config(format!(
                        "{lat} must set exactly one of exact: true, within, jaroWinkler"
                    )));
                }
                let test = if level.exact == Some(true) {
                    LevelTest::Exact
                } else if let Some(w) = level.within {
                    if !matches!(kind, FieldKind::Number | FieldKind::Time | FieldKind::Geo) {
                        return Err(FusionError::config(format!(
                            "{lat}.within needs a number, time or geo field, \"{}\" is {kind:?}",
                            comp.field
                        )));
                    }
                    if !(w.is_finite() && w >= 0.0) {
                        return Err(FusionError::config(format!(
                            "{lat}.within must be a finite number >= 0, got {w}"
                        )));
                    }
                    LevelTest::Within(w)
                } else {
                    let s = level.jaro_winkler.unwrap_or_default();
                    if !matches!(kind, FieldKind::Text | FieldKind::Category) {
                        return Err(FusionError::config(format!(
                            "{lat}.jaroWinkler needs a text or category field, \"{}\" is {kind:?}",
                            comp.field
                        )));
                    }
                    LevelTest::JaroWinkler(probability(s, &format!("{lat}.jaroWinkler"))?)
                };
                let m = probability(level.m, &format!("{lat}.m"))?;
                let u = probability(level.u, &format!("{lat}.u"))?;
                levels.push(Level {
                    test,
                    weight: (m / u).log2(),
                });
            }
            let m = probability(comp.otherwise.m, &format!("{at}.otherwise.m"))?;
            let u = probability(comp.otherwise.u, &format!("{at}.otherwise.u"))?;
            comparators.push(Comparator {
                field,
                levels,
                otherwise: (m / u).log2(),
            });
        }

        let prior = self.prior;
        if !(prior.is_finite() && prior > 0.0 && prior < 1.0) {
            return Err(FusionError::config(format!(
                "prior must be in (0, 1), got {prior}"
            )));
        }
        let threshold = self.threshold;
        if !(threshold.is_finite() && threshold > 0.0 && threshold < 1.0) {
            return Err(FusionError::config(format!(
                "threshold must be in (0, 1), got {threshold}"
            )));
        }

        let output = self.output.clone().unwrap_or_default();
        let pick =
            |name: &Option<String>, kinds: &[FieldKind], what: &str| -> Result<Option<usize>> {
                match name {
                    Some(n) => {
                        let i = lookup(n, &format!("output.{what}"))?;
                        if !kinds.contains(&self.fields[i].kind) {
                            return Err(FusionError::config(format!(
                                "output.{what} \"{n}\" must be a {kinds:?} field"
                            )));
                        }
                        Ok(Some(i))
                    }
                    None => Ok(self.fields.iter().position(|f| kinds.contains(&f.kind))),
                }
            };
        let class_field = pick(&output.class, &[FieldKind::Category], "class")?;
        let time_field = pick(&output.time, &[FieldKind::Time], "time")?;
        let position_field = pick(&output.position, &[FieldKind::Geo], "position")?;

        Ok(Compiled {
            fields: self.fields.clone(),
            passes,
            comparators,
            prior_weight: (prior / (1.0 - prior)).log2(),
            threshold,
            one_per_node: self.one_per_node,
            class_field,
            time_field,
            position_field,
        })
    }
}

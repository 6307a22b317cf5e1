//! Columnar records: one column per schema field, plus the node of each record.
//!
//! Missing values (allowed only in optional fields): `u32::MAX` for categories, `None` for text,
//! NaN for numbers, times and latitudes.

use rayon::prelude::*;

use crate::config::{Compiled, FieldKind};
use crate::error::{FusionError, Result};

/// Code of a missing category value.
pub const MISSING_CODE: u32 = u32::MAX;

/// One column of values, aligned with the schema's fields.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Category {
        codes: Vec<u32>,
        dictionary: Vec<String>,
    },
    Text(Vec<Option<String>>),
    Number(Vec<f64>),
    Time(Vec<f64>),
    Geo {
        lat: Vec<f64>,
        lon: Vec<f64>,
    },
}

impl Column {
    pub fn kind(&self) -> FieldKind {
        match self {
            Column::Category { .. } => FieldKind::Category,
            Column::Text(_) => FieldKind::Text,
            Column::Number(_) => FieldKind::Number,
            Column::Time(_) => FieldKind::Time,
            Column::Geo { .. } => FieldKind::Geo,
        }
    }

    /// A column of `kind` with no value in any of its `n` rows.
    pub fn all_missing(kind: FieldKind, n: usize) -> Self {
        match kind {
            FieldKind::Category => Column::Category {
                codes: vec![MISSING_CODE; n],
                dictionary: Vec::new(),
            },
            FieldKind::Text => Column::Text(vec![None; n]),
            FieldKind::Number => Column::Number(vec![f64::NAN; n]),
            FieldKind::Time => Column::Time(vec![f64::NAN; n]),
            FieldKind::Geo => Column::Geo {
                lat: vec![f64::NAN; n],
                lon: vec![f64::NAN; n],
            },
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Column::Category { codes, .. } => codes.len(),
            Column::Text(v) => v.len(),
            Column::Number(v) | Column::Time(v) => v.len(),
            Column::Geo { lat, .. } => lat.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether row `i` has a value.
    pub fn present(&self, i: usize) -> bool {
        match self {
            Column::Category { codes, .. } => codes[i] != MISSING_CODE,
            Column::Text(v) => v[i].is_some(),
            Column::Number(v) | Column::Time(v) => !v[i].is_nan(),
            Column::Geo { lat, .. } => !lat[i].is_nan(),
        }
    }

    /// The string value of row `i` of a category or text column.
    pub fn str_at(&self, i: usize) -> Option<&str> {
        match self {
            Column::Category { codes, dictionary } => {
                dictionary.get(codes[i] as usize).map(String::as_str)
            }
            Column::Text(v) => v[i].as_deref(),
            _ => None,
        }
    }

    /// The numeric value of row `i` of a number or time column.
    pub fn num_at(&self, i: usize) -> f64 {
        match self {
            Column::Number(v) | Column::Time(v) => v[i],
            _ => f64::NAN,
        }
    }

    /// The position of row `i` of a geo column.
    pub fn geo_at(&self, i: usize) -> (f64, f64) {
        match self {
            Column::Geo { lat, lon } => (lat[i], lon[i]),
            _ => (f64::NAN, f64::NAN),
        }
    }
}

/// A set of records in columnar form.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Records {
    /// Node of each record, as a code.
    pub node: Vec<u32>,
    /// One column per schema field, in schema order.
    pub columns: Vec<Column>,
}

impl Records {
    pub fn len(&self) -> usize {
        self.node.len()
    }

    pub fn is_empty(&self) -> bool {
        self.node.is_empty()
    }

    /// The records in another order: row `k` of the result is row `order[k]` of `self`.
    pub fn gather(&self, order: &[u32]) -> Records {
        Records {
            node: gather(&self.node, order),
            columns: self
                .columns
                .iter()
                .map(|column| match column {
                    Column::Category { codes, dictionary } => Column::Category {
                        codes: gather(codes, order),
                        dictionary: dictionary.clone(),
                    },
                    Column::Text(values) => Column::Text(gather(values, order)),
                    Column::Number(values) => Column::Number(gather(values, order)),
                    Column::Time(values) => Column::Time(gather(values, order)),
                    Column::Geo { lat, lon } => Column::Geo {
                        lat: gather(lat, order),
                        lon: gather(lon, order),
                    },
                })
                .collect(),
        }
    }

    /// Checks the columns against the schema: kinds, lengths, ranges, missing values.
    /// Errors are `ERR_FUSION_INPUT` and name the field and row.
    pub fn validate(&self, config: &Compiled) -> Result<()> {
        let n = self.len();
        if n >= u32::MAX as usize {
            return Err(FusionError::input(format!(
                "too many records: {n}; at most {}",
                u32::MAX - 1
            )));
        }
        if self.columns.len() != config.fields.len() {
            return Err(FusionError::input(format!(
                "expected {} columns (one per field), got {}",
                config.fields.len(),
                self.columns.len()
            )));
        }
        for (spec, column) in config.fields.iter().zip(&self.columns) {
            let name = &spec.name;
            if column.kind() != spec.kind {
                return Err(FusionError::input(format!(
                    "field \"{name}\": expected a {:?} column, got {:?}",
                    spec.kind,
                    column.kind()
                )));
            }
            let lon_len = match column {
                Column::Geo { lon, .. } => lon.len(),
                _ => column.len(),
            };
            if column.len() != n || lon_len != n {
                return Err(FusionError::input(format!(
                    "field \"{name}\": column has {} rows, node column has {n}",
                    column.len()
                )));
            }
            let missing = |row: usize| -> Result<()> {
                if spec.optional {
                    Ok(())
                } else {
                    Err(FusionError::input(format!(
                        "row {row}: field \"{name}\" is missing"
                    )))
                }
            };
            match column {
                Column::Category { codes, dictionary } => {
                    for (row, &c) in codes.iter().enumerate() {
                        if c == MISSING_CODE {
                            missing(row)?;
                        } else if c as usize >= dictionary.len() {
                            return Err(FusionError::input(format!(
                                "row {row}: field \"{name}\" has code {c} outside its dictionary \
                                 of {}",
                                dictionary.len()
                            )));
                        }
                    }
                }
                Column::Text(values) => {
                    for (row, v) in values.iter().enumerate() {
                        if v.is_none() {
                            missing(row)?;
                        }
                    }
                }
                Column::Number(values) | Column::Time(values) => {
                    for (row, &v) in values.iter().enumerate() {
                        if v.is_nan() {
                            missing(row)?;
                        } else if !v.is_finite() {
                            return Err(FusionError::input(format!(
                                "row {row}: field \"{name}\" is {v}; values must be finite"
                            )));
                        }
                    }
                }
                Column::Geo { lat, lon } => {
                    for row in 0..n {
                        let (a, o) = (lat[row], lon[row]);
                        if a.is_nan() && o.is_nan() {
                            missing(row)?;
                        } else if a.is_nan() || o.is_nan() {
                            return Err(FusionError::input(format!(
                                "row {row}: field \"{name}\" has a NaN coordinate"
                            )));
                        } else if !(-90.0..=90.0).contains(&a) {
                            return Err(FusionError::input(format!(
                                "row {row}: field \"{name}\" latitude {a} is outside [-90, 90]"
                            )));
                        } else if !(-180.0..=180.0).contains(&o) {
                            return Err(FusionError::input(format!(
                                "row {row}: field \"{name}\" longitude {o} is outside [-180, 180]"
                            )));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// `values` in the order `order` names (in parallel: the reads are scattered).
fn gather<T: Clone + Send + Sync>(values: &[T], order: &[u32]) -> Vec<T> {
    order
        .par_iter()
        .map(|&i| values[i as usize].clone())
        .collect()
}

//! Columnar records from JS typed arrays, copied into the core's owned columns.

use fusion_core::config::{Compiled, FieldKind};
use fusion_core::records::{Column, Records};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::{input_error, ErrorCode};

/// One column, in the member that matches the field's kind: `codes` + `dictionary` for
/// category, `text` for text, `values` for number and time, `lat` + `lon` for geo. An optional
/// field with no member at all is missing in every row (nothing crosses the boundary for it).
#[napi(object)]
pub struct NativeField {
    /// Category codes (`0xFFFFFFFF` = missing).
    pub codes: Option<Uint32Array>,
    pub dictionary: Option<Vec<String>>,
    /// Text values (`null` = missing).
    pub text: Option<Vec<Option<String>>>,
    /// Numbers or epoch-ms times (`NaN` = missing).
    pub values: Option<Float64Array>,
    pub lat: Option<Float64Array>,
    pub lon: Option<Float64Array>,
}

/// Records in columns: the node code of each record and one column per schema field.
#[napi(object)]
pub struct NativeColumns {
    pub node: Uint32Array,
    pub fields: Vec<NativeField>,
}

fn need<T>(value: Option<T>, field: &str, member: &str) -> Result<T, ErrorCode> {
    value.ok_or_else(|| input_error(format!("field \"{field}\": column needs `{member}`")))
}

/// Copies the JS columns into core records shaped by `config`'s schema.
pub fn to_records(columns: &NativeColumns, config: &Compiled) -> Result<Records, ErrorCode> {
    if columns.fields.len() != config.fields.len() {
        return Err(input_error(format!(
            "expected {} columns (one per field), got {}",
            config.fields.len(),
            columns.fields.len()
        )));
    }
    let n = columns.node.len();
    let mut out = Vec::with_capacity(columns.fields.len());
    for (spec, field) in config.fields.iter().zip(&columns.fields) {
        let name = spec.name.as_str();
        let empty = field.codes.is_none()
            && field.dictionary.is_none()
            && field.text.is_none()
            && field.values.is_none()
            && field.lat.is_none()
            && field.lon.is_none();
        if empty && spec.optional {
            out.push(Column::all_missing(spec.kind, n));
            continue;
        }
        out.push(match spec.kind {
            FieldKind::Category => Column::Category {
                codes: need(field.codes.as_ref(), name, "codes")?.to_vec(),
                dictionary: need(field.dictionary.clone(), name, "dictionary")?,
            },
            FieldKind::Text => Column::Text(need(field.text.clone(), name, "text")?),
            FieldKind::Number => {
                Column::Number(need(field.values.as_ref(), name, "values")?.to_vec())
            }
            FieldKind::Time => Column::Time(need(field.values.as_ref(), name, "values")?.to_vec()),
            FieldKind::Geo => Column::Geo {
                lat: need(field.lat.as_ref(), name, "lat")?.to_vec(),
                lon: need(field.lon.as_ref(), name, "lon")?.to_vec(),
            },
        });
    }
    Ok(Records {
        node: columns.node.to_vec(),
        columns: out,
    })
}

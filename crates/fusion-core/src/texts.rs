//! Batch texts → columnar records, for a hub that fuses the batches it stored as they arrived:
//! each text a JSON object with a `records` array of record objects, read straight into the
//! columns a configuration's schema asks for, without an object per record.
//!
//! The reading here is the TypeScript reader's (`readBatchRecords` and `prepareRecords`) on
//! the inputs that reader accepts, and on those it gives the same columns, ids and names. Any
//! other input (a wrong type, a missing value, a repeated id, or a rare form this reader does
//! not take, such as an escaped key) is *not read*: [`read_batch_texts`] returns `None` and
//! the caller reads the texts the TypeScript way, which accepts or names the problem exactly.

use std::borrow::Cow;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::config::{Compiled, FieldKind};
use crate::records::{Column, Records, MISSING_CODE};

/// Longest id, node name or category value accepted (UTF-16 code units, as JS counts them).
const MAX_NAME_LENGTH: usize = 1024;
/// Largest |epoch ms| a JS Date can hold.
const MAX_TIME_MS: f64 = 8.64e15;
/// Keys a JS object inherits: a lookup of one the record lacks finds something there, not
/// `undefined`; such paths are left to the TypeScript reader.
const INHERITED: [&str; 12] = [
    "constructor",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "toString",
    "valueOf",
    "__proto__",
    "__defineGetter__",
    "__defineSetter__",
    "__lookupGetter__",
    "__lookupSetter__",
];

/// Records read from batch texts, with what a result needs to name them.
#[derive(Debug)]
pub struct TextRecords<'a> {
    pub records: Records,
    /// Record ids by row.
    pub ids: Vec<Cow<'a, str>>,
    /// Node names by code (in order of first appearance).
    pub node_names: Vec<Cow<'a, str>>,
}

/// A JSON object's members in order, keys and values as they are in the text.
struct RawObject<'a>(Vec<(&'a str, &'a RawValue)>);

impl<'a> RawObject<'a> {
    /// The value of `key`: the last one, as `JSON.parse` keeps it.
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawObject<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = RawObject<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                // A key with escapes cannot be borrowed: an error here, so not read.
                while let Some(key) = map.next_key::<&'de str>()? {
                    members.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(RawObject(members))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// A batch text's `records`, each record's members as they are in the text, read in one pass
/// (other members skipped); `None` without a `records` member.
struct Batch<'a>(Option<Vec<RawObject<'a>>>);

impl<'de: 'a, 'a> Deserialize<'de> for Batch<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BatchVisitor;
        impl<'de> Visitor<'de> for BatchVisitor {
            type Value = Batch<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a batch object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut records = None;
                while let Some(key) = map.next_key::<&'de str>()? {
                    if key == "records" {
                        // The last one, as JSON.parse keeps it (an earlier one that is not an
                        // array of objects fails here all the same: not read).
                        records = Some(map.next_value::<Vec<RawObject<'de>>>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Batch(records))
            }
        }
        deserializer.deserialize_map(BatchVisitor)
    }
}

/// What a JSON value is, by its first character (a `RawValue` holds valid JSON, trimmed).
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

fn shape(raw: &RawValue) -> Shape {
    match raw.get().as_bytes().first() {
        Some(b'n') => Shape::Null,
        Some(b't') | Some(b'f') => Shape::Bool,
        Some(b'"') => Shape::String,
        Some(b'[') => Shape::Array,
        Some(b'{') => Shape::Object,
        _ => Shape::Number,
    }
}

fn object(raw: &RawValue) -> Option<RawObject<'_>> {
    serde_json::from_str(raw.get()).ok()
}

fn string(raw: &RawValue) -> Option<Cow<'_, str>> {
    if shape(raw) != Shape::String {
        return None;
    }
    let text = raw.get();
    if !text.contains('\\') {
        // A valid JSON string without escapes: its text between the quotes.
        return Some(Cow::Borrowed(&text[1..text.len() - 1]));
    }
    // Escapes: an owned copy (a lone surrogate fails here, so not read).
    serde_json::from_str::<String>(text).ok().map(Cow::Owned)
}

/// A JSON number as JS reads it (Rust's parse rounds correctly, as JS does); `None` for
/// anything else and for a number too large for a double (JS: Infinity).
fn number(raw: &RawValue) -> Option<f64> {
    if shape(raw) != Shape::Number {
        return None;
    }
    raw.get().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn utf16_len_within(s: &str, max: usize) -> bool {
    // UTF-8 never takes fewer bytes than UTF-16 takes code units.
    s.len() <= max || s.encode_utf16().count() <= max
}

/// A value found by a path: absent (JS `undefined`), there, or a case left to the TS reader.
enum Found<'a> {
    Absent,
    Value(&'a RawValue),
}

/// Where a field's value is read from in a record: a dotted path.
struct Path(Vec<String>);

impl Path {
    fn new(path: &str) -> Option<Path> {
        let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
        if parts.iter().any(|p| INHERITED.contains(&p.as_str())) {
            return None;
        }
        Some(Path(parts))
    }

    /// `None`: not read (an array on the way, which JS would index).
    fn read<'a>(&self, record: &RawObject<'a>) -> Option<Found<'a>> {
        let Some(mut value) = record.get(&self.0[0]) else {
            return Some(Found::Absent);
        };
        for part in &self.0[1..] {
            match shape(value) {
                Shape::Object => {}
                Shape::Array => return None,
                // JS: a step into null or a primitive gives undefined.
                _ => return Some(Found::Absent),
            }
            value = match object(value)?.get(part) {
                Some(v) => v,
                None => return Some(Found::Absent),
            };
        }
        Some(Found::Value(value))
    }
}

/// How one field is read.
enum Source {
    /// One path (for geo: a `[lat, lon]` array, a `{ lat, lon }` object, or null).
    Path(Path),
    /// Latitude and longitude from two paths.
    LatLon(Path, Path),
}

fn source(spec: &crate::config::FieldSpec) -> Option<Source> {
    match &spec.from {
        None => Path::new(&spec.name).map(Source::Path),
        Some(serde_json::Value::String(path)) => Path::new(path).map(Source::Path),
        Some(serde_json::Value::Object(pair)) if spec.kind == FieldKind::Geo => {
            match (pair.get("lat"), pair.get("lon")) {
                (Some(serde_json::Value::String(lat)), Some(serde_json::Value::String(lon))) => {
                    Some(Source::LatLon(Path::new(lat)?, Path::new(lon)?))
                }
                _ => None,
            }
        }
        // Other forms of `from` (JS uses the name for non-geo fields): left to the TS reader.
        Some(_) => None,
    }
}

/// A dictionary: a code per distinct value, in order of first appearance.
#[derive(Default)]
struct Dictionary<'a> {
    codes: FxHashMap<Cow<'a, str>, u32>,
    names: Vec<Cow<'a, str>>,
}

impl<'a> Dictionary<'a> {
    fn code(&mut self, value: Cow<'a, str>) -> u32 {
        if let Some(&code) = self.codes.get(&value) {
            return code;
        }
        let code = self.names.len() as u32;
        self.names.push(value.clone());
        self.codes.insert(value, code);
        code
    }
}

/// One column being filled, row by row.
enum Builder<'a> {
    Category(Vec<u32>, Dictionary<'a>),
    Text(Vec<Option<String>>),
    Number(Vec<f64>),
    Time(Vec<f64>),
    Geo(Vec<f64>, Vec<f64>),
}

fn in_range(v: Option<f64>, limit: f64) -> Option<f64> {
    v.filter(|v| (-limit..=limit).contains(v))
}

impl<'a> Builder<'a> {
    fn new(kind: FieldKind, rows: usize) -> Self {
        match kind {
            FieldKind::Category => {
                Builder::Category(Vec::with_capacity(rows), Dictionary::default())
            }
            FieldKind::Text => Builder::Text(Vec::with_capacity(rows)),
            FieldKind::Number => Builder::Number(Vec::with_capacity(rows)),
            FieldKind::Time => Builder::Time(Vec::with_capacity(rows)),
            FieldKind::Geo => Builder::Geo(Vec::with_capacity(rows), Vec::with_capacity(rows)),
        }
    }

    /// A row without a value (the caller checked that the field is optional).
    fn push_missing(&mut self) {
        match self {
            Builder::Category(codes, _) => codes.push(MISSING_CODE),
            Builder::Text(text) => text.push(None),
            Builder::Number(values) | Builder::Time(values) => values.push(f64::NAN),
            Builder::Geo(lat, lon) => {
                lat.push(f64::NAN);
                lon.push(f64::NAN);
            }
        }
    }

    /// A row's value, already known to be neither absent nor null; `None`: not read.
    fn push(&mut self, value: &'a RawValue) -> Option<()> {
        match self {
            Builder::Category(codes, dictionary) => {
                let s = string(value).filter(|s| utf16_len_within(s, MAX_NAME_LENGTH))?;
                codes.push(dictionary.code(s));
            }
            Builder::Text(text) => text.push(Some(string(value)?.into_owned())),
            Builder::Number(values) => values.push(number(value)?),
            Builder::Time(values) => values.push(in_range(number(value), MAX_TIME_MS)?),
            Builder::Geo(..) => {
                // JS: `[lat, lon]` from an array, `{ lat, lon }` from an object.
                let (a, o) = match shape(value) {
                    Shape::Array => {
                        let items = serde_json::from_str::<Vec<&RawValue>>(value.get()).ok()?;
                        (*items.first()?, *items.get(1)?)
                    }
                    Shape::Object => {
                        let pair = object(value)?;
                        (pair.get("lat")?, pair.get("lon")?)
                    }
                    _ => return None,
                };
                return self.push_lat_lon(a, o);
            }
        }
        Some(())
    }

    fn push_lat_lon(&mut self, lat: &RawValue, lon: &RawValue) -> Option<()> {
        let (a, o) = (in_range(number(lat), 90.0)?, in_range(number(lon), 180.0)?);
        match self {
            Builder::Geo(lats, lons) => {
                lats.push(a);
                lons.push(o);
                Some(())
            }
            _ => None,
        }
    }

    fn finish(self) -> Column {
        match self {
            Builder::Category(codes, dictionary) => Column::Category {
                codes,
                dictionary: dictionary.names.into_iter().map(Cow::into_owned).collect(),
            },
            Builder::Text(text) => Column::Text(text),
            Builder::Number(values) => Column::Number(values),
            Builder::Time(values) => Column::Time(values),
            Builder::Geo(lat, lon) => Column::Geo { lat, lon },
        }
    }
}

/// Reads one record's value of a field into its column; `None`: not read.
fn read_field<'a>(
    source: &Source,
    optional: bool,
    record: &RawObject<'a>,
    column: &mut Builder<'a>,
) -> Option<()> {
    match source {
        Source::Path(path) => match path.read(record)? {
            Found::Value(v) if shape(v) != Shape::Null => column.push(v),
            _ if optional => {
                column.push_missing();
                Some(())
            }
            _ => None,
        },
        Source::LatLon(lat, lon) => match (lat.read(record)?, lon.read(record)?) {
            (Found::Value(a), Found::Value(o)) => column.push_lat_lon(a, o),
            (Found::Absent, Found::Absent) if optional => {
                column.push_missing();
                Some(())
            }
            _ => None,
        },
    }
}

fn name<'a>(raw: Option<&'a RawValue>) -> Option<Cow<'a, str>> {
    string(raw?).filter(|s| !s.is_empty() && utf16_len_within(s, MAX_NAME_LENGTH))
}

/// Every batch's records, in order, in the columns of `config`'s schema; `None` when the texts
/// hold anything the TypeScript reader would reject or read in a way this one does not (see the
/// module's doc).
pub fn read_batch_texts<'a>(texts: &[&'a [u8]], config: &Compiled) -> Option<TextRecords<'a>> {
    let sources: Vec<Source> = config.fields.iter().map(source).collect::<Option<_>>()?;
    let mut batches = Vec::with_capacity(texts.len());
    let mut rows = 0;
    for text in texts {
        // Invalid UTF-8, a BOM (which the TS reader's decoder drops) or anything but an object
        // fails here or in the batch's read: not read.
        let text = std::str::from_utf8(text).ok()?;
        let records = serde_json::from_str::<Batch<'_>>(text).ok()?.0?;
        rows += records.len();
        batches.push(records);
    }
    let mut ids = Vec::with_capacity(rows);
    let mut seen = FxHashSet::default();
    seen.reserve(rows);
    let mut nodes = Dictionary::default();
    let mut node = Vec::with_capacity(rows);
    let mut columns: Vec<Builder<'_>> = config
        .fields
        .iter()
        .map(|f| Builder::new(f.kind, rows))
        .collect();
    for record in batches.iter().flatten() {
        let id = name(record.get("id"))?;
        node.push(nodes.code(name(record.get("node"))?));
        for ((source, spec), column) in sources.iter().zip(&config.fields).zip(columns.iter_mut()) {
            read_field(source, spec.optional, record, column)?;
        }
        ids.push(id);
    }
    for id in &ids {
        if !seen.insert(id.as_ref()) {
            return None;
        }
    }
    drop(seen);
    Some(TextRecords {
        records: Records {
            node,
            columns: columns.into_iter().map(Builder::finish).collect(),
        },
        ids,
        node_names: nodes.names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FusionConfig;

    /// A config over every kind of field, read from plain names, a nested path and lat/lon paths.
    fn config() -> Compiled {
        FusionConfig::from_json(
            r#"{
              "fields": [
                {"name": "cls", "kind": "category"},
                {"name": "t", "kind": "time"},
                {"name": "pos", "kind": "geo", "from": {"lat": "lat", "lon": "lon"}},
                {"name": "label", "kind": "text", "optional": true},
                {"name": "speed", "kind": "number", "optional": true, "from": "values.speed"},
                {"name": "at", "kind": "geo", "optional": true}
              ],
              "blocking": [{"parts": [{"field": "cls", "exact": true}]}],
              "comparators": [{"field": "t", "levels": [{"within": 1000, "m": 0.9, "u": 0.1}], "otherwise": {"m": 0.1, "u": 0.9}}],
              "prior": 0.01,
              "threshold": 0.5
            }"#,
        )
        .unwrap()
        .compile()
        .unwrap()
    }

    fn read(texts: &[&str]) -> Option<TextRecords<'static>> {
        let leaked: Vec<&'static [u8]> = texts
            .iter()
            .map(|t| Box::leak(t.to_string().into_boxed_str()).as_bytes())
            .collect();
        read_batch_texts(&leaked, &config())
    }

    const A: &str = r#"{"node":"a","seq":1,"records":[
        {"id":"a-1","node":"a","cls":"car","t":1000,"lat":52.5,"lon":4.5,"label":"x","values":{"speed":3.5},"at":[1,2]},
        {"id":"a-2","node":"a","cls":"bus","t":2e3,"lat":-90,"lon":180,"at":{"lat":3,"lon":4}}
    ]}"#;
    const B: &str = r#" {"records":[{"id":"b\u00e9","node":"b","cls":"car","t":-1.5,"lat":0,"lon":0,"label":null,"values":null,"at":null}]} "#;

    #[test]
    fn reads_every_kind_of_field_into_columns() {
        let r = read(&[A, B]).expect("read");
        assert_eq!(r.ids, ["a-1", "a-2", "bé"]);
        assert_eq!(r.node_names, ["a", "b"]);
        assert_eq!(r.records.node, [0, 0, 1]);
        let c = &r.records.columns;
        assert_eq!(
            c[0],
            Column::Category {
                codes: vec![0, 1, 0],
                dictionary: vec!["car".into(), "bus".into()]
            }
        );
        assert_eq!(c[1], Column::Time(vec![1000.0, 2000.0, -1.5]));
        assert_eq!(
            c[2],
            Column::Geo {
                lat: vec![52.5, -90.0, 0.0],
                lon: vec![4.5, 180.0, 0.0]
            }
        );
        assert_eq!(c[3], Column::Text(vec![Some("x".into()), None, None]));
        match &c[4] {
            Column::Number(v) => assert!(v[0] == 3.5 && v[1].is_nan() && v[2].is_nan()),
            other => panic!("{other:?}"),
        }
        match &c[5] {
            Column::Geo { lat, lon } => assert!(
                lat[..2] == [1.0, 3.0]
                    && lon[..2] == [2.0, 4.0]
                    && lat[2].is_nan()
                    && lon[2].is_nan()
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keeps_the_last_of_a_repeated_key_as_json_parse_does() {
        let r = read(&[r#"{"records":[],"records":[{"id":"x","node":"n","cls":"a","cls":"b","t":1,"lat":1,"lon":1}]}"#]).expect("read");
        assert_eq!(r.ids, ["x"]);
        assert_eq!(
            r.records.columns[0],
            Column::Category {
                codes: vec![0],
                dictionary: vec!["b".into()]
            }
        );
    }

    #[test]
    fn reads_no_texts_as_no_records() {
        let r = read(&[]).expect("read");
        assert!(r.records.is_empty() && r.ids.is_empty());
    }

    #[test]
    fn leaves_what_the_typescript_reader_rejects_or_reads_otherwise_to_it() {
        let record = r#"{"id":"x","node":"n","cls":"a","t":1,"lat":1,"lon":1}"#;
        // The record with `change` as its last members (the ones JSON.parse keeps).
        let with = |change: &str| {
            format!(
                r#"{{"records":[{}]}}"#,
                record.replacen('}', &format!(",{change}}}"), 1)
            )
        };
        let cases = [
            // not a batch
            "[]".to_string(),
            r#"{"records":{}}"#.into(),
            r#"{"node":"n"}"#.into(),
            "\u{feff}{\"records\":[]}".into(),
            r#"{"records":[]} x"#.into(),
            r#"{"records":[[]]}"#.into(),
            r#"{"records":[null]}"#.into(),
            // ids and nodes
            with(r#""id":"""#),
            with(r#""id":7"#),
            with(&format!(r#""id":"{}""#, "i".repeat(1025))),
            format!(r#"{{"records":[{record},{record}]}}"#),
            format!(
                r#"{{"records":[{}]}}"#,
                record.replace("\"node\":\"n\"", "\"node\":null")
            ),
            // fields
            with(r#""id":"x","t":"1""#),
            with(r#""id":"x","t":1e400"#),
            with(r#""id":"x","t":9e15"#),
            with(r#""id":"x","lat":90.5"#),
            with(r#""id":"x","lon":null"#),
            with(r#""id":"x","cls":null"#),
            with(r#""id":"x","label":5"#),
            with(r#""id":"x","values":{"speed":"fast"}"#),
            with(r#""id":"x","values":[1]"#),
            with(r#""id":"x","at":[1]"#),
            with(r#""id":"x","at":{"lat":1}"#),
            with(r#""id":"x","at":5"#),
            // forms this reader does not take: an escaped key, a lone surrogate
            with(r#""id":"x","\u0074":1"#),
            with(r#""id":"\ud800""#),
        ];
        for case in &cases {
            assert!(read(&[case]).is_none(), "read: {case}");
        }
        // Optional fields may be absent or null; a step into a primitive is absent, as in JS.
        assert!(read(&[&with(r#""id":"x","values":7,"label":null"#)]).is_some());
        // Invalid UTF-8.
        assert!(read_batch_texts(&[b"{\"records\":[\xff]}"], &config()).is_none());
    }

    #[test]
    fn leaves_paths_through_inherited_keys_to_the_typescript_reader() {
        let compiled = FusionConfig::from_json(
            r#"{"fields":[{"name":"constructor","kind":"text","optional":true}],"blocking":[{"parts":[{"field":"constructor","exact":true}]}],
                "comparators":[{"field":"constructor","levels":[{"exact":true,"m":0.9,"u":0.1}],"otherwise":{"m":0.1,"u":0.9}}],"prior":0.01,"threshold":0.5}"#,
        )
        .unwrap()
        .compile()
        .unwrap();
        assert!(read_batch_texts(&[br#"{"records":[]}"#], &compiled).is_none());
    }
}

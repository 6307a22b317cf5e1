//! A fusion's result as JSON text: the text `JSON.stringify` gives for the `FusionResult` the
//! TypeScript facade builds from the same output (`toResult`), written here without an
//! object per event. Each event has its members' ids and its nodes' names, each sorted as JS
//! sorts strings, its class name, time, position and score; then the stats. Numbers are
//! written as JS writes them (shortest round-trip digits, exponent form below 1e-6 and from
//! 1e21 on), and a NaN (no time, no position) as `null`.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::Write as _;
use std::time::Instant;

use crate::fuse::FusionOutput;
use crate::records::Column;

/// How JS compares strings (`<`, `sort()`): by UTF-16 code units. UTF-8's byte order is code
/// point order, which differs only between supplementary characters and U+E000..U+FFFF.
pub fn js_string_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

/// Appends `v` as `JSON.stringify` writes a number: shortest round-trip digits (the even
/// ones of two as close), laid out as ECMAScript's Number::toString lays them out (`ryu-js`);
/// NaN and the infinities as `null`.
pub fn write_js_number(out: &mut String, v: f64) {
    if v.is_finite() {
        out.push_str(ryu_js::Buffer::new().format_finite(v));
    } else {
        out.push_str("null");
    }
}

/// Appends `s` as a JSON string, escaped as `JSON.stringify` escapes it.
fn write_js_string(out: &mut String, s: &str) {
    out.push('"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut from = 0;
    for (at, c) in s.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\u{8}' => "\\b",
            '\u{c}' => "\\f",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[from..at]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(escape);
        }
        from = at + c.len_utf8();
    }
    out.push_str(&s[from..]);
    out.push('"');
}

/// What names a result's records: their ids by row, their nodes' codes by row and the nodes'
/// names by code.
pub struct RecordNames<'n, 'a> {
    pub ids: &'n [Cow<'a, str>],
    pub node: &'n [u32],
    pub node_names: &'n [Cow<'a, str>],
}

/// The result's JSON text. `class_column` is the column of the class field (its dictionary
/// names the events' classes); `timings_ms` come first in the stats' `timingsMs` (the reading
/// before the fusion), then the fusion's own phases, then `result`: the time taken here.
pub fn write_result_json(
    out: &FusionOutput,
    names: &RecordNames<'_, '_>,
    class_column: Option<&Column>,
    timings_ms: &[(&str, f64)],
) -> String {
    let started = Instant::now();
    let events = &out.events;
    let classes = match class_column {
        Some(Column::Category { dictionary, .. }) => Some(dictionary),
        _ => None,
    };
    let mut json = String::with_capacity(64 + events.len() * 160);
    json.push_str("{\"events\":[");
    let mut members: Vec<&str> = Vec::new();
    let mut nodes: Vec<u32> = Vec::new();
    for e in 0..events.len() {
        let event = events.get(e);
        if e > 0 {
            json.push(',');
        }
        let _ = write!(json, "{{\"id\":{e},\"members\":[");
        members.clear();
        members.extend(
            event
                .members
                .iter()
                .map(|&row| names.ids[row as usize].as_ref()),
        );
        members.sort_unstable_by(|a, b| js_string_cmp(a, b));
        for (k, id) in members.iter().enumerate() {
            if k > 0 {
                json.push(',');
            }
            write_js_string(&mut json, id);
        }
        json.push_str("],\"nodes\":[");
        nodes.clear();
        nodes.extend(event.members.iter().map(|&row| names.node[row as usize]));
        nodes.sort_unstable();
        nodes.dedup();
        nodes.sort_unstable_by(|&a, &b| {
            js_string_cmp(&names.node_names[a as usize], &names.node_names[b as usize])
        });
        for (k, &code) in nodes.iter().enumerate() {
            if k > 0 {
                json.push(',');
            }
            write_js_string(&mut json, &names.node_names[code as usize]);
        }
        json.push_str("],\"cls\":");
        let class = match (event.class, classes) {
            (Some(code), Some(dictionary)) => dictionary[code as usize].as_str(),
            _ => "",
        };
        write_js_string(&mut json, class);
        for (key, value) in [
            (",\"t\":", event.t),
            (",\"lat\":", event.lat),
            (",\"lon\":", event.lon),
            (",\"score\":", event.score),
        ] {
            json.push_str(key);
            write_js_number(&mut json, value);
        }
        json.push('}');
    }
    let s = &out.stats;
    let _ = write!(
        json,
        "],\"stats\":{{\"records\":{},\"blocks\":{},\"largestBlock\":{},\"candidates\":{},\"scored\":{},\"matched\":{},\"timingsMs\":{{",
        s.records, s.blocks, s.largest_block, s.candidates, s.scored, s.matched
    );
    let mut timings: Vec<(&str, f64)> = timings_ms.to_vec();
    for &(phase, ms) in &s.timings_ms {
        // A phase named twice keeps its first place and its last value, as object keys do.
        match timings.iter_mut().find(|(p, _)| *p == phase) {
            Some(slot) => slot.1 = ms,
            None => timings.push((phase, ms)),
        }
    }
    for (phase, ms) in timings {
        write_js_string(&mut json, phase);
        json.push(':');
        write_js_number(&mut json, ms);
        json.push(',');
    }
    json.push_str("\"result\":");
    write_js_number(&mut json, started.elapsed().as_secs_f64() * 1e3);
    json.push_str("}}}");
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    fn js(v: f64) -> String {
        let mut s = String::new();
        write_js_number(&mut s, v);
        s
    }

    #[test]
    fn writes_numbers_as_js_does() {
        // Expected texts: String(x) in Node for each x.
        let cases: [(f64, &str); 23] = [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-42.0, "-42"),
            (0.1, "0.1"),
            (-0.5, "-0.5"),
            (1.5e-7, "1.5e-7"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (0.0000012345, "0.0000012345"),
            (123456789012345680000.0, "123456789012345680000"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (-2.5e300, "-2.5e+300"),
            (5e-324, "5e-324"),
            (1767225900464.809, "1767225900464.809"),
            // Exactly halfway between two shortest candidates: JS takes the even one.
            (1767225736233.0 + 0.15625, "1767225736233.1562"),
            (48.177332545345834, "48.177332545345834"),
            (0.9982872575180805, "0.9982872575180805"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (100.0, "100"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
        ];
        for (v, want) in cases {
            assert_eq!(js(v), want, "{v:e}");
        }
    }

    #[test]
    fn escapes_strings_as_json_stringify_does() {
        let mut s = String::new();
        write_js_string(
            &mut s,
            "a\"b\\c\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}\u{2028}é😀",
        );
        assert_eq!(
            s,
            "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}\u{2028}é😀\""
        );
    }

    #[test]
    fn compares_strings_by_utf16_code_units() {
        // U+FF5E sorts after U+1F600 by code point, before it by UTF-16 code units (0xD83D).
        assert_eq!(js_string_cmp("\u{ff5e}", "😀"), Ordering::Greater);
        assert_eq!("\u{ff5e}".cmp("😀"), Ordering::Less);
        assert_eq!(js_string_cmp("a", "b"), Ordering::Less);
        assert_eq!(js_string_cmp("node-10", "node-9"), Ordering::Less);
    }
}

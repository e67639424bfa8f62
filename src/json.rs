//! A small JSON value and its writer; the reader of JSON text is in json/reader.rs.
//!
//! Rule sets and saved state cross the JavaScript boundary as JSON text, answers as JSON text
//! written here, and an event's properties and traits as values the page writes for the wasm
//! (src/web/value.rs): generic serde code per type would cost tens of kilobytes of wasm where
//! this costs a few (see STYLE.md, Size). The runtime wasm reads JSON text with the page's
//! `JSON.parse`; the native build, the command line and the validator with json/reader.rs.

use std::borrow::Cow;

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    /// Keys keep their order of appearance; a repeated key replaces the earlier value,
    /// as `JSON.parse` does.
    Object(Vec<(String, Value)>),
}

/// Where and why a JSON text could not be parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    /// Byte offset into the input.
    pub offset: usize,
    /// Why, for the builds that show it (the validator's messages, the command line's history
    /// reader); empty in the runtime, which only ever refuses or replaces what it cannot read.
    pub message: &'static str,
}

/// How deeply arrays and objects may nest in a value read from JSON text or from the page, so
/// that hostile input cannot exhaust the stack.
pub(crate) const MAX_DEPTH: u32 = 128;

// The text reader is everywhere but in the runtime wasm: pages have `JSON.parse`.
#[cfg(any(not(target_arch = "wasm32"), feature = "authoring"))]
mod reader;
#[cfg(any(not(target_arch = "wasm32"), feature = "authoring"))]
pub use reader::{parse, parse_entries, Entry};

/// Parses one JSON document with the page's `JSON.parse` (src/web/host.rs `parse_json`), as
/// the runtime wasm reads a rule set and saved state: JSON.parse is in every browser already,
/// and a parser here was 1.3 KB gzip of every page's download. Nesting deeper than 128
/// levels is refused, as the reader of the other builds refuses it.
#[cfg(all(target_arch = "wasm32", not(feature = "authoring")))]
pub fn parse(text: &str) -> Result<Value, ParseError> {
    crate::web::host::parse_json(text).ok_or(ParseError { offset: 0, message: "" })
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a dotted path (`account.company_size`, `items.0`, `items.length`) through
    /// objects and arrays, as JavaScript property access does: canonical array indices and an
    /// array's `length`. The one path walker: conditions (GrowthBook's `getPath`), templates,
    /// sums and explanations all read attributes and properties through it.
    pub fn get_path(&self, path: &str) -> Option<Cow<'_, Value>> {
        let mut current = self;
        let mut parts = crate::error::ByteSplit::new(path, |b| b == b'.');
        while let Some(part) = parts.next() {
            current = match current {
                Value::Object(_) => current.get(part)?,
                Value::Array(items) if part == "length" => {
                    return match parts.next() {
                        None => Some(Cow::Owned(Value::Number(items.len() as f64))),
                        Some(_) => None,
                    };
                }
                Value::Array(items) => items.get(array_index(part)?)?,
                _ => return None,
            };
        }
        Some(Cow::Borrowed(current))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The name JSON gives this value's type, as `typeof`-like words used in messages and `$type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// Sets `key` on an object, replacing an existing entry. Does nothing on other values.
    pub fn insert(&mut self, key: &str, value: Value) {
        if let Value::Object(entries) = self {
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key.to_string(), value)),
            }
        }
    }

    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => write_number(out, *n),
            Value::String(s) => write_string(out, s),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Object(entries) => {
                out.push('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, key);
                    out.push(':');
                    value.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

// Fields of an object written straight into JSON text: the effects, explanations, score and
// saved state are written this way, with no `Value` tree built for them.

/// Writes `"key":`, after a comma unless it opens an object.
pub fn key(out: &mut String, key: &str) {
    if out.as_bytes().last() != Some(&b'{') {
        out.push(',');
    }
    write_string(out, key);
    out.push(':');
}

pub fn field_str(out: &mut String, k: &str, value: &str) {
    key(out, k);
    write_string(out, value);
}

/// A string, or `null`.
pub fn field_opt(out: &mut String, k: &str, value: Option<&str>) {
    match value {
        Some(value) => field_str(out, k, value),
        None => field_json(out, k, &Value::Null),
    }
}

pub fn field_num(out: &mut String, k: &str, value: f64) {
    key(out, k);
    write_number(out, value);
}

pub fn field_bool(out: &mut String, k: &str, value: bool) {
    key(out, k);
    out.push_str(if value { "true" } else { "false" });
}

pub fn field_json(out: &mut String, k: &str, value: &Value) {
    key(out, k);
    value.write_json(out);
}

/// Builds an object from `(key, value)` pairs. The runtime builds its few objects with
/// [`Value::insert`] instead: this function's iterator and its instances per length cost the
/// wasm about 240 B gzip for three uses.
pub fn object<const N: usize>(entries: [(&str, Value); N]) -> Value {
    object_of(Vec::from(entries))
}

/// [`object`] for any number of pairs: one instance in the wasm, where iterating the array
/// made one per length, each with its own drop guards.
fn object_of(entries: Vec<(&str, Value)>) -> Value {
    Value::Object(entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// Writes a number the way `JSON.stringify` does for the values pqlkit produces:
/// integers without a fraction, non-finite numbers as `null`.
pub fn write_number(out: &mut String, n: f64) {
    if !n.is_finite() {
        out.push_str("null");
    } else {
        crate::number::write_shortest(out, n);
    }
}

pub fn write_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut rest = n.unsigned_abs();
    loop {
        digits[len] = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &d in digits[..len].iter().rev() {
        out.push(d as char);
    }
}

pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    // Runs that need no escape are copied whole (most strings are one run): escapes are
    // ASCII, so every run ends on a char boundary.
    let mut rest = s;
    loop {
        let run = special_byte(rest.as_bytes());
        out.push_str(&rest[..run]);
        let Some(&b) = rest.as_bytes().get(run) else { break };
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
        rest = &rest[run + 1..];
    }
    out.push('"');
}

/// Where the first byte that ends a plain run of string text is (a quote, a backslash or a
/// control character), or the length: one tight loop, no bounds check per byte.
fn special_byte(bytes: &[u8]) -> usize {
    bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).unwrap_or(bytes.len())
}

/// A canonical array index ("0", "12"; not "01" or "+1").
fn array_index(part: &str) -> Option<usize> {
    if part.is_empty() || (part.len() > 1 && part.starts_with("0")) {
        return None;
    }
    // Digit by digit rather than `str::parse`, whose generic integer parser the runtime would
    // carry for this one use; too large an index is no index, as there.
    part.bytes().try_fold(0usize, |n, b| {
        let digit = b.checked_sub(b'0').filter(|d| *d < 10)?;
        n.checked_mul(10)?.checked_add(usize::from(digit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_documents() {
        let text = r#"{"a":[1,2.5,-3e2,true,false,null],"b":{"c":"x\"y\n\u00e9"}}"#;
        let value = parse(text).unwrap();
        assert_eq!(value.get_path("b.c").as_deref().and_then(Value::as_str), Some("x\"y\né"));
        assert_eq!(value.to_json(), r#"{"a":[1,2.5,-300,true,false,null],"b":{"c":"x\"y\né"}}"#);
    }

    #[test]
    fn paths_index_arrays_by_canonical_indices_only() {
        let value = parse(r#"{"items": ["a", "b"]}"#).unwrap();
        let at = |path: &str| value.get_path(path).and_then(|v| v.as_str().map(str::to_string));
        assert_eq!(at("items.0").as_deref(), Some("a"));
        assert_eq!(at("items.1").as_deref(), Some("b"));
        for path in ["items.01", "items.+1", "items.-1", "items.2", "items.", "items.1x"] {
            assert_eq!(at(path), None, "{path}");
        }
        // Larger than any usize: no index, and no overflow.
        assert_eq!(value.get_path("items.99999999999999999999999"), None);
        assert_eq!(value.get_path("items.length").as_deref(), Some(&Value::Number(2.0)));
    }

    #[test]
    fn strings_are_escaped_as_json_stringify_does() {
        let cases = [
            ("", r#""""#),
            ("plain", r#""plain""#),
            ("\\", r#""\\""#),
            ("a\tb\r\n\u{1}\u{1f}\"", r#""a\tb\r\n\u0001\u001f\"""#),
            ("é😀\"é", r#""é😀\"é""#),
        ];
        for (text, json) in cases {
            let mut out = String::new();
            write_string(&mut out, text);
            assert_eq!(out, json, "{text:?}");
            assert_eq!(parse(&out).unwrap(), Value::String(text.into()));
        }
    }

    #[test]
    fn numbers_are_written_like_json_stringify() {
        let mut out = String::new();
        for n in [0.0, -0.0, 42.0, -7.0, 0.8, f64::NAN] {
            write_number(&mut out, n);
            out.push(' ');
        }
        assert_eq!(out, "0 0 42 -7 0.8 null ");
        let mut big = String::new();
        write_number(&mut big, 1.5e300);
        assert_eq!(parse(&big).unwrap(), Value::Number(1.5e300));
    }
}

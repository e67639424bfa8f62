//! A small JSON value, parser and writer.
//!
//! Rule sets, events and state cross the JavaScript boundary as JSON text: the browser's
//! `JSON.parse` / `JSON.stringify` are free, and a hand-written parser here costs a few
//! kilobytes of wasm where generic serde code per type would cost tens (see STYLE.md, Size).

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

/// Parses one JSON document. Nesting deeper than 128 levels is refused so that hostile input
/// cannot exhaust the stack.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut parser = Parser { text, bytes: text.as_bytes(), pos: 0, depth: 0 };
    parser.skip_ws();
    let value = parser.value()?;
    parser.skip_ws();
    if parser.pos != parser.bytes.len() {
        return Err(parser.error("unexpected text after the JSON value"));
    }
    Ok(value)
}

/// Reads a JSON object entry by entry, handing each key and its [`Entry`] to `take`, which
/// reads the value as it needs it (or not at all): for input read line by line where the
/// object itself is not kept. Keys and `Entry::text` strings without escapes are borrowed from
/// `text`. `Ok(false)` when `text` is JSON but not an object (nothing was handed over).
pub fn parse_entries<'a>(
    text: &'a str,
    mut take: impl FnMut(&str, &mut Entry<'_, 'a>) -> Result<(), ParseError>,
) -> Result<bool, ParseError> {
    let mut parser = Parser { text, bytes: text.as_bytes(), pos: 0, depth: 1 };
    parser.skip_ws();
    if parser.bytes.get(parser.pos) != Some(&b'{') {
        return parse(text).map(|_| false);
    }
    parser.entries(|parser, key| {
        let mut entry = Entry { parser, read: false };
        take(&key, &mut entry)?;
        if !entry.read {
            entry.parser.value()?;
        }
        Ok(())
    })?;
    parser.skip_ws();
    if parser.pos != parser.bytes.len() {
        return Err(parser.error("unexpected text after the JSON value"));
    }
    Ok(true)
}

/// The value of one entry in [`parse_entries`], not read yet.
pub struct Entry<'p, 'a> {
    parser: &'p mut Parser<'a>,
    read: bool,
}

impl<'a> Entry<'_, 'a> {
    pub fn value(&mut self) -> Result<Value, ParseError> {
        self.read = true;
        self.parser.value()
    }

    /// A string value borrowed from the text when it has no escapes; any other value as a
    /// [`Value`] (integers of up to 15 digits read directly: they are exact in an `f64`).
    pub fn text(&mut self) -> Result<Result<Cow<'a, str>, Value>, ParseError> {
        let p = &mut *self.parser;
        match p.bytes.get(p.pos) {
            Some(b'"') => {
                self.read = true;
                return p.key().map(Ok);
            }
            Some(b'0'..=b'9') => {
                let start = p.pos;
                let mut n: u64 = 0;
                while let Some(&d @ b'0'..=b'9') = p.bytes.get(p.pos) {
                    n = n.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                    p.pos += 1;
                }
                let plain = !matches!(p.bytes.get(p.pos), Some(b'.' | b'e' | b'E'));
                if plain && p.pos - start <= 15 {
                    self.read = true;
                    return Ok(Err(Value::Number(n as f64)));
                }
                p.pos = start;
            }
            _ => {}
        }
        self.value().map(Err)
    }
}

const MAX_DEPTH: u32 = 128;

/// Where the first byte that ends a plain run of string text is (a quote, a backslash or a
/// control character), or the length: one tight loop, no bounds check per byte.
fn special_byte(bytes: &[u8]) -> usize {
    bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).unwrap_or(bytes.len())
}

struct Parser<'a> {
    /// The input as text and as bytes: scanning is by byte, and every slice taken ends on an
    /// ASCII byte, so it is a `&str` without checking UTF-8 again.
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
}

impl<'a> Parser<'a> {
    /// Always inlined, so that the runtime build drops the words along with the argument.
    #[inline(always)]
    fn error(&self, message: &'static str) -> ParseError {
        #[cfg(not(any(feature = "authoring", feature = "backtest", test)))]
        let message = {
            let _ = message;
            ""
        };
        ParseError { offset: self.pos, message }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// `null`, `true` or `false`, told apart by their first byte.
    fn literal(&mut self) -> Result<Value, ParseError> {
        let (word, value) = match self.bytes[self.pos] {
            b'n' => ("null", Value::Null),
            b't' => ("true", Value::Bool(true)),
            _ => ("false", Value::Bool(false)),
        };
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("unexpected character"))
        }
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        match self.bytes.get(self.pos) {
            None => Err(self.error("unexpected end of JSON")),
            Some(b'n' | b't' | b'f') => self.literal(),
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => self.nested(Self::array),
            Some(b'{') => self.nested(Self::object),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    fn nested(
        &mut self,
        parse: fn(&mut Self) -> Result<Value, ParseError>,
    ) -> Result<Value, ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error("JSON nested too deeply"));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    fn array(&mut self) -> Result<Value, ParseError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat(b']') {
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            if self.eat(b']') {
                return Ok(Value::Array(items));
            }
            if !self.eat(b',') {
                return Err(self.error("expected ',' or ']'"));
            }
        }
    }

    fn object(&mut self) -> Result<Value, ParseError> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        self.entries(|parser, key| {
            let value = parser.value()?;
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key.into_owned(), value)),
            }
            Ok(())
        })?;
        Ok(Value::Object(entries))
    }

    /// The object whose `{` is at `pos`, entry by entry: `take` gets each key with the parser
    /// at the entry's value, and must read it.
    fn entries(
        &mut self,
        mut take: impl FnMut(&mut Self, Cow<'a, str>) -> Result<(), ParseError>,
    ) -> Result<(), ParseError> {
        self.pos += 1;
        self.skip_ws();
        if self.eat(b'}') {
            return Ok(());
        }
        loop {
            self.skip_ws();
            let key = self.key()?;
            self.skip_ws();
            if !self.eat(b':') {
                return Err(self.error("expected ':'"));
            }
            self.skip_ws();
            take(self, key)?;
            self.skip_ws();
            if self.eat(b'}') {
                return Ok(());
            }
            if !self.eat(b',') {
                return Err(self.error("expected ',' or '}'"));
            }
        }
    }

    /// An object key (or any string): borrowed from the text unless it has escapes.
    fn key(&mut self) -> Result<Cow<'a, str>, ParseError> {
        if self.bytes.get(self.pos) != Some(&b'"') {
            return Err(self.error("expected a quoted key"));
        }
        let start = self.pos + 1;
        let end = start + special_byte(&self.bytes[start..]);
        if self.bytes.get(end) == Some(&b'"') {
            self.pos = end + 1;
            return Ok(self.text[start..end].into());
        }
        self.string().map(Into::into)
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        self.eat(b'-');
        let digits = |p: &mut Self| {
            let from = p.pos;
            while let Some(b'0'..=b'9') = p.bytes.get(p.pos) {
                p.pos += 1;
            }
            p.pos > from
        };
        if !digits(self) {
            return Err(self.error("expected a digit"));
        }
        if self.eat(b'.') && !digits(self) {
            return Err(self.error("expected a digit after '.'"));
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if !digits(self) {
                return Err(self.error("expected a digit in the exponent"));
            }
        }
        crate::number::parse_decimal(&self.text[start..self.pos])
            .map(Value::Number)
            .ok_or(ParseError { offset: start, ..self.error("invalid number") })
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = match self.bytes.get(self.pos) {
                Some(&b) => (b as char).to_digit(16),
                None => None,
            };
            code = code * 16 + digit.ok_or_else(|| self.error("invalid \\u escape"))?;
            self.pos += 1;
        }
        Ok(code)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            self.pos += special_byte(&self.bytes[run_start..]);
            let run = &self.text[run_start..self.pos];
            match self.bytes.get(self.pos) {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    // Most strings have no escape: one allocation of the right size.
                    if out.is_empty() {
                        return Ok(run.to_string());
                    }
                    out.push_str(run);
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(run);
                    self.pos += 1;
                    let escaped = match self.bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let mut code = self.hex4()?;
                            if (0xD800..0xDC00).contains(&code)
                                && self.bytes[self.pos..].starts_with(b"\\u")
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let low = self.hex4()?;
                                if (0xDC00..0xE000).contains(&low) {
                                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                                } else {
                                    self.pos = save;
                                }
                            }
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                            continue;
                        }
                        _ => return Err(self.error("invalid escape")),
                    };
                    self.pos += 1;
                    out.push(escaped);
                }
                Some(_) => return Err(self.error("control character in string")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_read_as_the_caller_needs_them() {
        let text = r#"{"a": "plain", "b": "es\"caped", "n": 1736150400000, "f": 1.5, "big": 12345678901234567, "o": {"k": [1]}, "skip": [1, {"x": 2}]}"#;
        let mut seen = Vec::new();
        let is_object = parse_entries(text, |key, entry| {
            let field = match key {
                "o" => Err(entry.value()?),
                "skip" => return Ok(()),
                _ => entry.text()?,
            };
            if let Ok(Cow::Borrowed(_)) = &field {
                seen.push(format!("{key}: borrowed"));
            }
            seen.push(format!("{key}: {}", field.map_or_else(|v| v.to_json(), |s| s.into_owned())));
            Ok(())
        });
        assert_eq!(is_object, Ok(true));
        assert_eq!(
            seen,
            [
                "a: borrowed",
                "a: plain",
                "b: es\"caped",
                "n: 1736150400000",
                "f: 1.5",
                "big: 12345678901234568",
                r#"o: {"k":[1]}"#
            ]
        );
        assert_eq!(parse_entries("[1]", |_, _| Ok(())), Ok(false));
        assert!(
            parse_entries("{\"a\u{1}\": 1}", |_, _| Ok(())).is_err(),
            "raw control character in a key"
        );
        assert!(parse("{\"a\u{1}\": 1}").is_err());
        assert!(parse_entries(r#"{"a": 1} x"#, |_, _| Ok(())).is_err());
        assert!(parse_entries(r#"{"a": tru}"#, |_, _| Ok(())).is_err());
    }

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
    fn repeated_keys_keep_the_last_value() {
        assert_eq!(parse(r#"{"a":1,"a":2}"#).unwrap().to_json(), r#"{"a":2}"#);
    }

    #[test]
    fn surrogate_pairs_decode() {
        assert_eq!(parse(r#""\ud83d\ude00""#).unwrap(), Value::String("😀".into()));
    }

    #[test]
    fn errors_carry_offsets() {
        assert_eq!(parse("[1,]").unwrap_err().offset, 3);
        assert!(parse("{\"a\" 1}").is_err());
        assert!(parse("[1] x").is_err());
        assert!(parse("\"abc").is_err());
        assert!(parse("-").is_err());
        assert!(parse("01.").is_err());
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert_eq!(parse(&deep).unwrap_err().message, "JSON nested too deeply");
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

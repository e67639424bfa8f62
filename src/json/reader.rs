//! JSON text read into a [`Value`]: rule sets, saved state and histories, for the native
//! build, the command line and the validator, which say where and why a text is not JSON. The
//! runtime wasm that pages download reads JSON text with the page's own `JSON.parse` instead
//! (src/web/host.js `jsonValue`), so it carries no parser of its own.

use std::borrow::Cow;

use super::{special_byte, ParseError, Value, MAX_DEPTH};

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
}

//! JavaScript's conversions as GrowthBook's conditions meet them: truthiness, `String(v)`,
//! `Number(v)` and `ToPrimitive`, UTF-16 order of strings, and padded version strings.

use super::RegexEngine;
use crate::error::ByteSplit;
use crate::json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

pub(super) fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => *n != 0.0 && !n.is_nan(),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// JavaScript's `String(v)`; text is borrowed, not copied.
pub(super) fn js_string(v: Option<&Value>) -> Cow<'_, str> {
    // Borrowed where the text exists already: a missing attribute is tested as "undefined"
    // by every `$regex` that reads it, at every evaluation.
    match v {
        Some(Value::String(s)) => return Cow::Borrowed(s),
        None => return Cow::Borrowed("undefined"),
        Some(Value::Null) => return Cow::Borrowed("null"),
        _ => {}
    }
    let mut out = String::new();
    write_js_string(v, &mut out);
    Cow::Owned(out)
}

pub(super) fn write_js_string(v: Option<&Value>, out: &mut String) {
    match v {
        None => out.push_str("undefined"),
        Some(Value::Null) => out.push_str("null"),
        Some(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::Number(n)) => js_number(*n, out),
        Some(Value::String(s)) => out.push_str(s),
        // `Array.prototype.join`: null elements become empty.
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !item.is_null() {
                    write_js_string(Some(item), out);
                }
            }
        }
        Some(Value::Object(_)) => out.push_str("[object Object]"),
    }
}

/// `Number.prototype.toString()`: exponent notation outside [1e-6, 1e21).
pub(super) fn js_number(n: f64, out: &mut String) {
    let a = n.abs();
    if n.is_nan() {
        out.push_str("NaN");
    } else if a.is_infinite() {
        out.push_str(if n < 0.0 { "-Infinity" } else { "Infinity" });
    } else {
        crate::number::write_shortest(out, n);
    }
}

/// `ToPrimitive`: strings, arrays and objects become text, everything else a number.
pub(super) fn to_primitive(v: Option<&Value>) -> Result<Cow<'_, str>, f64> {
    match v {
        Some(Value::String(s)) => Ok(Cow::Borrowed(s)),
        Some(Value::Array(_) | Value::Object(_)) => Ok(js_string(v)),
        None => Err(f64::NAN),
        Some(Value::Null) => Err(0.0),
        Some(Value::Bool(b)) => Err(if *b { 1.0 } else { 0.0 }),
        Some(Value::Number(n)) => Err(*n),
    }
}

pub(super) fn primitive_number(p: Result<Cow<'_, str>, f64>) -> f64 {
    match p {
        Ok(s) => str_to_number(&s),
        Err(n) => n,
    }
}

pub(super) fn to_number(v: Option<&Value>) -> f64 {
    primitive_number(to_primitive(v))
}

/// JavaScript's order of strings (by UTF-16 code units), from their UTF-8 bytes. The first
/// byte that differs is a lead byte (or a later byte of two characters of one length), and
/// UTF-8 orders as code points do, but for one thing: in UTF-16 a character past U+FFFF (a
/// lead byte from F0) is a surrogate pair, D800-DBFF, so it sorts before U+E000-U+FFFF (EE
/// and EF) and after everything below. Without `encode_utf16`'s decoder in the runtime.
pub(super) fn utf16_cmp(a: &str, b: &str) -> Ordering {
    let rank = |byte: u8| if byte >= 0xf0 { 0xed * 2 + 1 } else { u16::from(byte) * 2 };
    // Indexed with `get`, not zipped: the zip of two byte iterators is code of its own.
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(i)) {
        if x != y {
            return rank(x).cmp(&rank(y)).then(x.cmp(&y));
        }
        i += 1;
    }
    a.len().cmp(&b.len())
}

/// JavaScript's `Number(text)`: in the page, its own.
#[cfg(target_arch = "wasm32")]
pub(super) fn str_to_number(s: &str) -> f64 {
    crate::web::host::number_value(s)
}

/// JavaScript's `Number(text)`.
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn str_to_number(s: &str) -> f64 {
    let t = s.trim_matches(|c: char| c.is_whitespace() && c != '\u{85}' || c == '\u{feff}');
    if t.is_empty() {
        return 0.0;
    }
    let radix = match t.get(..2) {
        Some("0x" | "0X") => 16,
        Some("0o" | "0O") => 8,
        Some("0b" | "0B") => 2,
        _ => 10,
    };
    if radix != 10 {
        let digits = &t[2..];
        let mut n = 0.0;
        // Byte by byte: a byte of a non-ASCII character is no digit, as the character is not.
        for b in digits.bytes() {
            match char::from(b).to_digit(radix) {
                Some(d) => n = n * radix as f64 + d as f64,
                None => return f64::NAN,
            }
        }
        return if digits.is_empty() { f64::NAN } else { n };
    }
    match t.strip_prefix(['+', '-']).unwrap_or(t) {
        "Infinity" if t.starts_with("-") => f64::NEG_INFINITY,
        "Infinity" => f64::INFINITY,
        // Rust's parser also reads "inf" and "NaN", which JavaScript does not.
        _ if t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) => {
            crate::number::parse_decimal(t).unwrap_or(f64::NAN)
        }
        _ => f64::NAN,
    }
}

/// GrowthBook's `paddedVersionString` of a condition's value: numbers as `String(n)` writes
/// them, empty and other values as "0"; the text is padded by `engine` (the browser's own
/// regular expressions, or [`pad_version`]).
pub(super) fn padded_version(v: Option<&Value>, engine: &dyn RegexEngine) -> String {
    let mut text = String::new();
    match v {
        Some(Value::Number(n)) => js_number(*n, &mut text),
        Some(Value::String(s)) if !s.is_empty() => text.push_str(s),
        _ => text.push('0'),
    }
    engine.pad_version(&text)
}

/// `paddedVersionString`'s text part: "v1.2.3+build" -> "    1-    2-    3-~", so that plain
/// string comparison orders versions (numeric parts padded, "~" sorting after pre-releases).
/// GrowthBook's regular expressions, `/(^v|\+.*$)/g` and `/[-.]/`, read as JavaScript reads them.
pub(super) fn pad_version(input: &str) -> String {
    let s = input.strip_prefix("v").unwrap_or(input);
    // `/\+.*$/`: `.` stops at line breaks, so only a '+' after the last one counts.
    // Past the whole break: U+2028 and U+2029 are three bytes (slicing at `i + 1` trapped).
    // Byte-wise: U+2028 and U+2029 end in A8 and A9 after E2 80.
    let bytes = s.as_bytes();
    let line = (0..bytes.len())
        .rev()
        .find(|&i| match bytes[i] {
            b'\n' | b'\r' => true,
            0xa8 | 0xa9 => i >= 2 && bytes[i - 2..i] == [0xe2, 0x80],
            _ => false,
        })
        .map_or(0, |i| i + 1);
    let s = match s[line..].bytes().position(|b| b == b'+') {
        Some(i) => &s[..line + i],
        None => s,
    };
    // Walked twice rather than collected: a `Vec<&str>` of the parts is an instance of its own.
    let parts = || ByteSplit::new(s, |b| b == b'-' || b == b'.');
    let mut out = String::new();
    for (i, part) in parts().enumerate() {
        if i > 0 {
            out.push('-');
        }
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            for _ in part.len()..5 {
                out.push(' ');
            }
        }
        out.push_str(part);
    }
    if parts().count() == 3 {
        out.push_str("-~");
    }
    out
}

//! A condition validated and compiled in one walk: operator names become [`Test`] variants,
//! literals and version operands are prepared ahead, and every problem is reported with its
//! JSON path.

use super::javascript::{js_string, padded_version, truthy};
use super::{field, Context, Op, Relation, Test, OPERATORS};
use crate::error::{child_path, index_path, join, ByteSplit, ErrorCode, ValidationError};
use crate::json::Value;

const TYPES: &str = "string number boolean array object null undefined";
const LIST_OF_CONDITIONS: &str =
    "a list of conditions such as [{\"plan\": \"pro\"}, {\"seats\": {\"$gte\": 5}}]";

pub(super) fn push(
    errors: &mut Vec<ValidationError>,
    code: ErrorCode,
    path: &str,
    message: impl FnOnce() -> String,
) {
    ValidationError::report(errors, code, path, message);
}

pub(super) fn described(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub(super) fn wrong_type(
    errors: &mut Vec<ValidationError>,
    path: &str,
    op: &str,
    expected: &str,
    got: &Value,
) {
    push(errors, ErrorCode::InvalidType, path, || {
        join(&["`", op, "` expects ", expected, ", not ", described(got), "."])
    });
}

/// A condition object: each key tests the whole object.
pub(super) fn condition(
    source: &Value,
    path: &str,
    ctx: &Context,
    errors: &mut Vec<ValidationError>,
) -> Test {
    let Some(entries) = source.as_object() else {
        push(errors, ErrorCode::InvalidType, path, || {
            let got = described(source);
            join(&["A condition must be an object such as {\"plan\": \"pro\"}, not ", got, "."])
        });
        return Test::Fault;
    };
    let mut keys = Vec::with_capacity(entries.len());
    for (key, v) in entries {
        let p = child_path(path, key);
        keys.push(match key.as_str() {
            "$and" | "$or" | "$nor" => match v.as_array() {
                Some(list) => {
                    let mut conditions = Vec::with_capacity(list.len());
                    for (i, c) in list.iter().enumerate() {
                        conditions.push(condition(c, &index_path(&p, i), ctx, errors));
                    }
                    Test::List(conditions, key != "$and", key == "$nor")
                }
                None => {
                    wrong_type(errors, &p, key, LIST_OF_CONDITIONS, v);
                    Test::Fault
                }
            },
            "$not" => Test::Not(Box::new(condition(v, &p, ctx, errors))),
            // Other `$` keys are attribute names for GrowthBook (`$groups`), but a comparison
            // operator here is surely misplaced. Its operand is not checked: one error says it.
            k if Op::named(k).is_some() => {
                let why = "` compares one attribute, so it belongs under an attribute name, e.g. ";
                let code = ErrorCode::UnknownOperator;
                push(errors, code, &p, || join(&["`", k, why, "{\"plan\": {\"", k, "\": ...}}."]));
                field(key, test(v, false, &p, ctx, &mut Vec::new()))
            }
            _ => field(key, test(v, false, &p, ctx, errors)),
        });
    }
    Test::List(keys, false, false)
}

/// A condition value; `insensitive` only affects string literals (used by `$alli`).
pub(super) fn test(
    source: &Value,
    insensitive: bool,
    path: &str,
    ctx: &Context,
    errors: &mut Vec<ValidationError>,
) -> Test {
    let entries = match source {
        Value::String(s) => return Test::Text(s.clone(), insensitive),
        Value::Number(n) => return Test::Number(*n),
        Value::Bool(b) => return Test::Bool(*b),
        Value::Null => return Test::Null,
        Value::Array(_) => return Test::Json(source.to_json()),
        Value::Object(entries) => entries,
    };
    if is_operator_object(entries) {
        let mut ops = Vec::with_capacity(entries.len());
        for (name, e) in entries {
            ops.push(operator(name, e, &child_path(path, name), ctx, errors));
        }
        return Test::List(ops, false, false);
    }
    // An object without `$` keys is a literal compared as a whole; a mix is almost surely a slip.
    if let (Some((op, _)), Some((field, _))) = (
        entries.iter().find(|(k, _)| k.starts_with("$")),
        entries.iter().find(|(k, _)| !k.starts_with("$")),
    ) {
        push(errors, ErrorCode::InvalidValue, path, || {
            join(&[
                "This mixes the operator `",
                op,
                "` with the plain field \"",
                field,
                "\"; use either operators only, such as {\"$gte\": 2}, or a plain value.",
            ])
        });
    }
    Test::Json(source.to_json())
}

pub(super) fn is_operator_object(entries: &[(String, Value)]) -> bool {
    !entries.is_empty() && entries.iter().all(|(k, _)| k.starts_with("$"))
}

pub(super) fn operator(
    name: &str,
    e: &Value,
    path: &str,
    ctx: &Context,
    errors: &mut Vec<ValidationError>,
) -> Test {
    let Some(op) = Op::named(name) else {
        push(errors, ErrorCode::UnknownOperator, path, || match name {
            "$and" | "$or" | "$nor" => join(&[
                "`",
                name,
                "` combines whole conditions, so it cannot sit under an attribute; write e.g. {\"",
                name,
                "\": [{\"plan\": \"pro\"}, {\"seats\": {\"$gte\": 5}}]}.",
            ]),
            _ => join(&["`", name, "` is not a known operator. Use one of: ", OPERATORS, "."]),
        });
        return Test::Never;
    };
    match op {
        Op::Eq | Op::Ne | Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
            if matches!(e, Value::Array(_) | Value::Object(_)) {
                wrong_type(errors, path, name, "a single value such as 10 or \"pro\"", e);
            }
            match op {
                Op::Eq | Op::Ne => Test::Equal(e.clone(), op == Op::Ne),
                _ => Test::Compare(Relation::of(op), e.clone()),
            }
        }
        Op::Veq | Op::Vne | Op::Vgt | Op::Vgte | Op::Vlt | Op::Vlte => {
            if !matches!(e, Value::String(_) | Value::Number(_)) {
                wrong_type(errors, path, name, "a version such as \"1.2.3\"", e);
            }
            Test::Version(Relation::of(op), padded_version(Some(e), ctx.regex))
        }
        Op::In | Op::Nin | Op::Ini | Op::Nini | Op::All | Op::Alli => {
            let Some(items) = e.as_array() else {
                wrong_type(errors, path, name, "a list of values such as [\"free\", \"trial\"]", e);
                return Test::Never;
            };
            let insensitive = matches!(op, Op::Ini | Op::Nini | Op::Alli);
            if matches!(op, Op::All | Op::Alli) {
                let mut tests = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    tests.push(test(item, insensitive, &index_path(path, i), ctx, errors));
                }
                return Test::ContainsAll(tests);
            }
            Test::In(items.to_vec(), insensitive, matches!(op, Op::Nin | Op::Nini))
        }
        Op::Exists => {
            if !matches!(e, Value::Bool(_)) {
                wrong_type(errors, path, name, "true or false", e);
            }
            Test::Exists(truthy(Some(e)))
        }
        Op::Type => match e.as_str() {
            Some(t) => {
                if !ByteSplit::new(TYPES, |b| b == b' ').any(|x| x == t) {
                    push(errors, ErrorCode::InvalidValue, path, || {
                        join(&["`$type` must be one of: ", TYPES, "."])
                    });
                }
                Test::Type(t.into())
            }
            None => {
                wrong_type(errors, path, name, "a type name such as \"string\"", e);
                Test::Never
            }
        },
        Op::Regex | Op::Regexi => match e.as_str() {
            Some(pattern) => {
                let flags = if op == Op::Regexi { "i" } else { "" };
                if flags.is_empty() {
                    if let Some(glob) = plain_literal(pattern) {
                        return Test::Literal(glob);
                    }
                }
                if !ctx.regex.is_valid(pattern, flags) {
                    push(errors, ErrorCode::InvalidRegex, path, || {
                        join(&[
                            "`",
                            name,
                            "` pattern \"",
                            pattern,
                            "\" is not a valid regular expression.",
                        ])
                    });
                }
                Test::Regex(pattern.into(), flags, ctx.regex.id(pattern, flags))
            }
            None => {
                wrong_type(errors, path, name, "a regular expression written as text", e);
                Test::Never
            }
        },
        Op::Not => Test::Not(Box::new(test(e, false, path, ctx, errors))),
        Op::Size => Test::Size(Box::new(test(e, false, path, ctx, errors))),
        Op::ElemMatch => match e {
            Value::Object(entries) if is_operator_object(entries) => {
                Test::ElemMatch(Box::new(test(e, false, path, ctx, errors)))
            }
            Value::Object(_) => Test::ElemMatch(Box::new(condition(e, path, ctx, errors))),
            _ => {
                let expected = "a condition such as {\"$gt\": 10} or {\"name\": \"pro\"}";
                wrong_type(errors, path, name, expected, e);
                Test::ElemFault
            }
        },
        Op::InGroup | Op::NotInGroup => {
            match e.as_str() {
                Some(g) => {
                    if ctx.groups.get(g).is_none() {
                        push(errors, ErrorCode::UnknownGroup, path, || {
                            join(&["There is no group named \"", g, "\" in `groups`."])
                        });
                    }
                }
                None => wrong_type(errors, path, name, "the name of a group from `groups`", e),
            }
            Test::Group(js_string(Some(e)).into(), op == Op::NotInGroup)
        }
    }
}

/// The page pattern (see `pages`) a `$regex` amounts to when it is plain text: what a
/// "contains" becomes (letters, digits, spaces, `\.`-style escapes of punctuation), optionally
/// anchored by a leading `^` and a trailing `$`; `None` when it uses any other RegExp syntax or
/// matches a `*`. Without the `m` flag `^` and `$` match only at the ends of the input, so the
/// answer is the one JavaScript's RegExp gives.
pub(super) fn plain_literal(pattern: &str) -> Option<String> {
    // Byte by byte (every byte that matters is ASCII): char patterns would bring std's
    // searcher into the wasm.
    let bytes = pattern.as_bytes();
    let start = bytes.first() == Some(&b'^');
    let mut body = &bytes[usize::from(start)..];
    // A trailing `$` anchors unless it is escaped, i.e. preceded by an odd run of `\`.
    if let [before @ .., b'$'] = body {
        // Counted in a loop: `rev().take_while().count()` is an iterator instance of its own.
        let mut escapes = 0;
        while escapes < before.len() && before[before.len() - 1 - escapes] == b'\\' {
            escapes += 1;
        }
        if escapes % 2 == 0 {
            body = before;
        }
    }
    let end = body.len() + usize::from(start) < bytes.len();
    let mut glob = Vec::with_capacity(body.len() + 2);
    if !start {
        glob.push(b'*');
    }
    let mut rest = body.iter();
    while let Some(&b) = rest.next() {
        match b {
            b'\\' => match *rest.next()? {
                e @ (b'^' | b'$' | b'\\' | b'.' | b'+' | b'?' | b'(' | b')' | b'[' | b']'
                | b'{' | b'}' | b'|' | b'/' | b'-') => glob.push(e),
                _ => return None,
            },
            b'^' | b'$' | b'.' | b'*' | b'+' | b'?' | b'(' | b')' | b'[' | b']' | b'{' | b'}'
            | b'|' => return None,
            b => glob.push(b),
        }
    }
    if !end {
        glob.push(b'*');
    }
    // SAFETY: only ASCII bytes were dropped from valid UTF-8 or added, so it still is.
    Some(unsafe { String::from_utf8_unchecked(glob) })
}

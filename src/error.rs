//! Typed validation errors: a stable code, the JSON path of the offending value, and a message
//! written for the product manager who wrote the rule set.
//!
//! Messages exist only in the `authoring` build. The runtime build runs the same checks and
//! reports the same codes and paths with an empty message: each message is a closure that it
//! never calls, so none of their text is compiled into the wasm pages download.

use crate::json::field_str;

/// Stable error codes. Their spelling (`as_str`) is public: the JS `code` of a rejected `init`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// The text is not JSON at all.
    InvalidJson,
    /// `version` is missing or not one this SDK reads.
    UnsupportedVersion,
    /// A field the rule language does not have (often a typo).
    UnknownField,
    /// A required field is absent.
    MissingField,
    /// A field has the wrong JSON type (a string where a number belongs, ...).
    InvalidType,
    /// A field has the right type but a value outside what is allowed.
    InvalidValue,
    /// A `$operator` GrowthBook's condition language does not have.
    UnknownOperator,
    /// A duration that is not `<number><s|m|h|d|w>`.
    InvalidDuration,
    /// A `$regex` pattern that does not compile.
    InvalidRegex,
    /// An action or reference names a prompt that `prompts` does not define.
    UnknownPrompt,
    /// Two rules share one `id`.
    DuplicateRuleId,
    /// A `{{namespace.field}}` template whose namespace is not user, account, event or rule.
    UnknownTemplateNamespace,
    /// A CTA URL that is neither http(s) nor relative (`javascript:`, `data:`, ...).
    UnsafeUrl,
    /// A signal object that matches none of the signal shapes.
    InvalidSignal,
    /// `$inGroup` / `$notInGroup` names a group that `groups` does not define.
    UnknownGroup,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::UnknownField => "unknown_field",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::InvalidType => "invalid_type",
            ErrorCode::InvalidValue => "invalid_value",
            ErrorCode::UnknownOperator => "unknown_operator",
            ErrorCode::InvalidDuration => "invalid_duration",
            ErrorCode::InvalidRegex => "invalid_regex",
            ErrorCode::UnknownPrompt => "unknown_prompt",
            ErrorCode::DuplicateRuleId => "duplicate_rule_id",
            ErrorCode::UnknownTemplateNamespace => "unknown_template_namespace",
            ErrorCode::UnsafeUrl => "unsafe_url",
            ErrorCode::InvalidSignal => "invalid_signal",
            ErrorCode::UnknownGroup => "unknown_group",
        }
    }
}

/// One problem found in a rule set.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidationError {
    pub code: ErrorCode,
    /// JSON path such as `rules[1].when.all[0].within`; empty for the document itself.
    pub path: String,
    /// Empty without the `authoring` feature.
    pub message: String,
}

impl ValidationError {
    /// `message` builds the text; only the authoring build calls it. Always inlined, so that in
    /// the runtime build the unused closure, and the words it captures, vanish before linking:
    /// wasm-opt would drop an unused argument but not the text it pointed to.
    #[inline(always)]
    pub fn new(code: ErrorCode, path: impl Into<String>, message: impl FnOnce() -> String) -> Self {
        #[cfg(feature = "authoring")]
        let message = message();
        #[cfg(not(feature = "authoring"))]
        let message = {
            let _ = message;
            String::new()
        };
        ValidationError { code, path: path.into(), message }
    }

    /// Records a problem in `errors`. The runtime build keeps no words, so every check's
    /// report is one call of one function (`push_without_words`) rather than an inlined
    /// construction of its own: that was about 0.6 KB of the runtime wasm.
    #[inline(always)]
    pub fn report(
        errors: &mut Vec<ValidationError>,
        code: ErrorCode,
        path: &str,
        message: impl FnOnce() -> String,
    ) {
        #[cfg(feature = "authoring")]
        errors.push(ValidationError::new(code, path, message));
        #[cfg(not(feature = "authoring"))]
        {
            let _ = message;
            push_without_words(errors, code, path);
        }
    }

    /// `[{ code, path, message }, ...]`, as the host receives a refused rule set's problems.
    pub fn list_json(errors: &[ValidationError]) -> String {
        let mut out = String::from("[");
        for (i, error) in errors.iter().enumerate() {
            out.push_str(if i > 0 { ",{" } else { "{" });
            field_str(&mut out, "code", error.code.as_str());
            field_str(&mut out, "path", &error.path);
            field_str(&mut out, "message", &error.message);
            out.push('}');
        }
        out.push(']');
        out
    }
}

#[cfg(not(feature = "authoring"))]
#[inline(never)]
fn push_without_words(errors: &mut Vec<ValidationError>, code: ErrorCode, path: &str) {
    errors.push(ValidationError { code, path: path.to_string(), message: String::new() });
}

/// Message text from its parts: `join(&["unknown field \"", key, "\""])`. A loop of
/// `push_str`, which in wasm is smaller than `concat` (that sizes the result first).
pub fn join(parts: &[&str]) -> String {
    let mut text = String::new();
    for part in parts {
        text.push_str(part);
    }
    text
}

/// The pieces of `text` between the bytes that `is_separator` accepts (ASCII separators
/// only), as `str::split` gives them. Byte-wise, with a function rather than a `char` pattern:
/// each `char` pattern instantiates std's searcher (and memchr) in the wasm.
pub struct ByteSplit<'a> {
    rest: Option<&'a str>,
    is_separator: fn(u8) -> bool,
}

impl<'a> ByteSplit<'a> {
    pub fn new(text: &'a str, is_separator: fn(u8) -> bool) -> Self {
        ByteSplit { rest: Some(text), is_separator }
    }
}

impl<'a> Iterator for ByteSplit<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let text = self.rest?;
        let (piece, rest) = split_at_byte(text, self.is_separator);
        self.rest = rest;
        Some(piece)
    }
}

/// `text` before the first byte that `is_separator` accepts (an ASCII one) and, if there is
/// one, what follows it.
pub fn split_at_byte(text: &str, is_separator: fn(u8) -> bool) -> (&str, Option<&str>) {
    match text.bytes().position(is_separator) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    }
}

/// Where `pair` first occurs in `text`. Bytes compared pairwise: `str::find` with a `&str`
/// pattern would bring the Two-Way searcher into the wasm.
pub fn find_pair(text: &str, pair: &[u8; 2]) -> Option<usize> {
    text.as_bytes().windows(2).position(|w| w == pair)
}

/// Joins a parent path and an object key: `rules[0]` + `when` = `rules[0].when`.
pub fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        let mut path = String::with_capacity(parent.len() + key.len() + 1);
        path.push_str(parent);
        path.push('.');
        path.push_str(key);
        path
    }
}

/// Joins a parent path and an array index: `rules` + 1 = `rules[1]`.
pub fn index_path(parent: &str, index: usize) -> String {
    let mut path = String::with_capacity(parent.len() + 6);
    path.push_str(parent);
    path.push('[');
    crate::json::write_int(&mut path, index as i64);
    path.push(']');
    path
}

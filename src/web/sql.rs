//! `pqlkit sql` for the command line (built with `--features sql`, in the authoring wasm only):
//! a rule set in, one SQL query or the reasons it cannot be one out, as JSON.

use super::{answer, bindings, regex, text};
use crate::error::{join, ValidationError};
use crate::json::{self, Value};
use crate::rules::parse_rule_set_json_with_account_signals;
use crate::sql::{self, Dialect, Options};

/// The input holds the rule set, the dialect name, the events table and the conversions table
/// (lengths in that order); `as_of`: end of observation in ms, or NaN. Answers `{ "sql": text }`,
/// or `{ "errors": [{ code, path, message }] }` (validation errors, or `sql_unsupported` for
/// each construct the SQL cannot express).
#[no_mangle]
pub extern "C" fn sql_build(
    rules_len: i32,
    dialect_len: i32,
    events_len: i32,
    conversions_len: i32,
    as_of: f64,
) -> u32 {
    let b = bindings();
    let mut at = 0usize;
    let mut next = |len: i32| {
        let s = text(&b.input, at, len).unwrap_or("");
        at += len.max(0) as usize;
        s
    };
    let (rules, dialect, events, conversions) =
        (next(rules_len), next(dialect_len), next(events_len), next(conversions_len));
    let errors = |list_json: &str| join(&["{\"errors\":", list_json, "}"]);
    let result = match (
        parse_rule_set_json_with_account_signals(rules, &regex::BrowserRegex::default()),
        Dialect::from_name(dialect),
    ) {
        (_, None) => errors(
            &Value::Array(vec![json::object([
                ("code", "invalid_argument".into()),
                ("path", "".into()),
                (
                    "message",
                    format!("unknown dialect \"{dialect}\": one of {}", Dialect::NAMES).into(),
                ),
            ])])
            .to_json(),
        ),
        (Err(list), _) => errors(&ValidationError::list_json(&list)),
        (Ok(rule_set), Some(dialect)) => {
            let options = Options {
                events: events.to_string(),
                conversions: conversions.to_string(),
                as_of: as_of.is_finite().then_some(as_of as i64),
            };
            match sql::build(&rule_set, dialect, &options) {
                Ok(query) => json::object([("sql", query.into())]).to_json(),
                Err(list) => {
                    errors(&Value::Array(list.iter().map(|e| e.to_value()).collect()).to_json())
                }
            }
        }
    };
    answer(&mut b.output, &result)
}

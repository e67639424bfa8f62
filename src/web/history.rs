//! The command line's backtest, bound for Node (built with `--features backtest` into
//! js/wasm-cli; the browser's wasm leaves it out). Histories cross as bytes, results as JSON.

use wasm_bindgen::prelude::*;

use super::regex::BrowserRegex;
use crate::engine::Engine;
use crate::error::ValidationError;
use crate::history::{self, Conversions, LineError};
use crate::json::{self, Value};
use crate::rules::parse_rule_set_json;

fn error_json(error: &LineError) -> String {
    json::object([(
        "error",
        json::object([
            ("line", Value::Number(error.line as f64)),
            ("message", error.message.as_str().into()),
        ]),
    )])
    .to_json()
}

/// One engine replaying user after user (see src/history.rs).
#[wasm_bindgen]
pub struct Backtest {
    inner: history::Backtest,
}

#[wasm_bindgen]
impl Backtest {
    /// `conversions_json`: `{ users: { id: ms }, accounts: { userId: accountId }, latest }`;
    /// `end`: end of observation in ms, or NaN for the default. Throws the validation errors'
    /// JSON when the rule set is invalid (the CLI validates it first).
    #[wasm_bindgen(constructor)]
    pub fn new(rules_json: &str, conversions_json: &str, end: f64) -> Result<Backtest, JsValue> {
        let regex = Box::new(BrowserRegex::default());
        let rules = parse_rule_set_json(rules_json, &*regex)
            .map_err(|errors| JsValue::from_str(&ValidationError::list_json(&errors)))?;
        let engine = Engine::new(rules, regex, "backtest", 1);
        let end = end.is_finite().then_some(end as i64);
        Ok(Backtest {
            inner: history::Backtest::new(engine, Conversions::from_json(conversions_json), end),
        })
    }

    /// Replays the users whose lines are in `lines` (NDJSON bytes; each user's lines all
    /// there). `grouped`: each user's lines are contiguous, replay them as they end. `{ users,
    /// seen, events, eventsAfterConversion, convertedBeforeFirstEvent }`, `{ unsorted: true }`
    /// when `grouped` turned out false, or `{ error: { line, message } }`.
    pub fn replay(&mut self, lines: &[u8], first_line: f64, grouped: bool) -> String {
        let first_line = first_line as usize;
        let replayed = history::text_of(lines, first_line).and_then(|text| {
            if grouped {
                self.inner.replay_grouped(text, first_line)
            } else {
                self.inner.replay(text, first_line).map(Some)
            }
        });
        match replayed {
            Ok(Some(replayed)) => replayed.to_json(),
            Ok(None) => r#"{"unsorted":true}"#.into(),
            Err(error) => error_json(&error),
        }
    }
}

/// Byte offset where the last user's lines begin in `lines` (cut a grouped history there);
/// -1 when the lines are all one user's.
#[wasm_bindgen(js_name = lastUserStart)]
pub fn last_user_start(lines: &[u8]) -> f64 {
    match std::str::from_utf8(lines) {
        Ok(text) => history::last_user_start(text).map_or(-1.0, |i| i as f64),
        // Not text: hand all of it on, and let the replay report the line.
        Err(_) => lines.len() as f64,
    }
}

/// For each line of `lines` (split at `\n`), which of `partitions` its user belongs to
/// (`0xFFFFFFFF` for a blank line). Throws `{ line, message }` JSON for a line that cannot be
/// read.
#[wasm_bindgen(js_name = partitionLines)]
pub fn partition_lines(
    lines: &[u8],
    first_line: f64,
    partitions: u32,
) -> Result<Vec<u32>, JsValue> {
    let first_line = first_line as usize;
    history::text_of(lines, first_line)
        .and_then(|text| history::partition_lines(text, first_line, partitions))
        .map_err(|error| JsValue::from_str(&error_json(&error)))
}

/// A timestamp in ms (number text) or ISO 8601 → ms since the epoch; NaN when it is neither.
#[wasm_bindgen(js_name = parseTimestamp)]
pub fn parse_timestamp(text: &str) -> f64 {
    crate::timestamp::parse_timestamp_text(text).map_or(f64::NAN, |t| t as f64)
}

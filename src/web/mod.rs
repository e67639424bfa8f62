//! The binding layer: the only place that knows about JavaScript. Compiled for `wasm32` only.
//!
//! Everything crosses the boundary as JSON text or numbers: the browser's `JSON.parse` and
//! `JSON.stringify` are free, and they keep serde's per-type code out of the wasm (STYLE.md,
//! Size). The JS facade in `js/` owns the public API, errors and events.

mod regex;

use wasm_bindgen::prelude::*;

use crate::engine::{Effect, Engine, PromptOutcome};
use crate::json::{self, Value};
use crate::rules::parse_rule_set_json;

fn effects_json(effects: Vec<Effect>) -> String {
    Value::Array(effects.iter().map(Effect::to_value).collect()).to_json()
}

fn parse_object(text: &str) -> Value {
    match json::parse(text) {
        Ok(value @ Value::Object(_)) => value,
        _ => Value::Object(Vec::new()),
    }
}

/// A compiled rule set and the state of one browser profile.
#[wasm_bindgen]
pub struct Core {
    engine: Option<Engine>,
    errors: String,
}

#[wasm_bindgen]
impl Core {
    /// Validates and compiles `rules_json`. When it is invalid, `errors()` lists every problem
    /// and the other methods do nothing.
    #[wasm_bindgen(constructor)]
    pub fn new(rules_json: &str, anonymous_id: &str, seed: f64) -> Core {
        match parse_rule_set_json(rules_json, &regex::BrowserRegex::default()) {
            Ok(rules) => Core {
                engine: Some(Engine::new(
                    rules,
                    Box::new(regex::BrowserRegex::default()),
                    anonymous_id,
                    seed as u64,
                )),
                errors: "[]".into(),
            },
            Err(errors) => Core {
                engine: None,
                errors: Value::Array(errors.iter().map(|e| e.to_value()).collect()).to_json(),
            },
        }
    }

    /// JSON array of `{ code, path, message }`; `[]` when the rule set is valid.
    pub fn errors(&self) -> String {
        self.errors.clone()
    }

    fn with(&mut self, f: impl FnOnce(&mut Engine) -> Vec<Effect>) -> String {
        self.engine.as_mut().map_or_else(|| "[]".into(), |engine| effects_json(f(engine)))
    }

    /// Records an event; returns the effects as a JSON array of `{ type, payload }`.
    pub fn track(&mut self, name: &str, props_json: &str, now: f64) -> String {
        let props = parse_object(props_json);
        self.with(|e| e.track(name, props, now as i64))
    }

    /// Applies time-driven changes due by `now`.
    pub fn advance(&mut self, now: f64) -> String {
        self.with(|e| e.advance(now as i64))
    }

    /// When `advance` next has work to do; `-1` when nothing is scheduled.
    #[wasm_bindgen(js_name = nextDeadline)]
    pub fn next_deadline(&self) -> f64 {
        self.engine.as_ref().and_then(Engine::next_deadline).map_or(-1.0, |t| t as f64)
    }

    pub fn identify(&mut self, user_id: Option<String>, traits_json: &str, now: f64) -> String {
        let traits = parse_object(traits_json);
        self.with(|e| e.identify(user_id.as_deref(), &traits, now as i64))
    }

    pub fn group(&mut self, account_id: Option<String>, traits_json: &str, now: f64) -> String {
        let traits = parse_object(traits_json);
        self.with(|e| e.group(account_id.as_deref(), &traits, now as i64))
    }

    /// `outcome`: 0 shown, 1 clicked, 2 dismissed.
    #[wasm_bindgen(js_name = promptOutcome)]
    pub fn prompt_outcome(
        &mut self,
        rule_id: Option<String>,
        prompt_id: &str,
        outcome: u8,
        now: f64,
    ) -> String {
        let outcome = match outcome {
            0 => PromptOutcome::Shown,
            1 => PromptOutcome::Clicked,
            _ => PromptOutcome::Dismissed,
        };
        self.with(|e| e.prompt_outcome(rule_id.as_deref(), prompt_id, outcome, now as i64))
    }

    pub fn score(&self) -> String {
        self.engine.as_ref().map_or_else(|| "null".into(), |e| e.score().to_json())
    }

    /// JSON explanation of a rule, or `null` for an unknown id.
    pub fn explain(&self, rule_id: &str, now: f64) -> String {
        let explanation = self.engine.as_ref().and_then(|e| e.explain(rule_id, now as i64));
        explanation.unwrap_or(Value::Null).to_json()
    }
}

/// GrowthBook-compatible condition evaluation: 1 match, 0 no match, -1 unreadable input.
#[wasm_bindgen(js_name = evalCondition)]
pub fn eval_condition(condition_json: &str, attributes_json: &str, groups_json: &str) -> i32 {
    let (Ok(condition), Ok(attributes), Ok(groups)) =
        (json::parse(condition_json), json::parse(attributes_json), json::parse(groups_json))
    else {
        return -1;
    };
    let regex = regex::BrowserRegex::default();
    let ctx = crate::condition::Context { groups: &groups, regex: &regex };
    i32::from(crate::condition::eval_condition(&condition, &attributes, &ctx))
}

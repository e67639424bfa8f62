//! The binding layer: the only place that knows about JavaScript. Compiled for `wasm32` only.
//!
//! Everything crosses the boundary as JSON text or numbers: the browser's `JSON.parse` and
//! `JSON.stringify` are free, and they keep serde's per-type code out of the wasm (STYLE.md,
//! Size). The JS facade in `js/` owns the public API, errors and events.

mod alloc;
#[cfg(feature = "backtest")]
mod history;
mod regex;
mod storage;

use wasm_bindgen::prelude::*;

use crate::consent::{policy, Consent};
use crate::engine::{Effect, Engine, PromptOutcome};
use crate::json::{self, Value};
use crate::rules::parse_rule_set_json;
use storage::Store;

#[global_allocator]
static ALLOCATOR: alloc::SizeClasses = alloc::SizeClasses::new();

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
    store: Store,
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
                store: Store::memory(),
            },
            Err(errors) => Core {
                engine: None,
                errors: Value::Array(errors.iter().map(|e| e.to_value()).collect()).to_json(),
                store: Store::memory(),
            },
        }
    }

    /// JSON array of `{ code, path, message }`; `[]` when the rule set is valid.
    pub fn errors(&self) -> String {
        self.errors.clone()
    }

    fn with(&mut self, f: impl FnOnce(&mut Engine) -> Vec<Effect>) -> String {
        self.engine.as_mut().map_or_else(|| "[]".into(), |engine| Effect::list_json(&f(engine)))
    }

    /// Records an event; returns the effects as a JSON array of `{ type, payload }`, or
    /// `undefined` when there are none.
    pub fn track(&mut self, name: &str, props_json: &str, now: f64) -> Option<String> {
        // `undefined` rather than `[]`: most events have no effect, and a returned string costs
        // the page a TextDecoder call, about a third of a track() (measured in Chromium).
        let effects = self.engine.as_mut()?.track(name, parse_object(props_json), now as i64);
        (!effects.is_empty()).then(|| Effect::list_json(&effects))
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

    /// Opens `storage` (`"local"` or `"memory"`) under `key` and restores the state saved
    /// there. Returns `"restored"`, `"empty"`, `"memory"` (localStorage unavailable: memory
    /// instead), or `"replaced"` when what was there was corrupt or foreign and was discarded.
    #[wasm_bindgen(js_name = openStorage)]
    pub fn open_storage(&mut self, storage: &str, key: &str, now: f64) -> String {
        self.store = if storage == "local" { Store::local(key) } else { Store::memory() };
        let (Some(engine), Some(text)) = (self.engine.as_mut(), self.store.read()) else {
            let fell_back = storage == "local" && !self.store.is_persistent();
            return if fell_back { "memory" } else { "empty" }.into();
        };
        match engine.load_state(&text, now as i64) {
            Ok(()) => "restored".into(),
            Err(_) => {
                self.store.clear();
                "replaced".into()
            }
        }
    }

    /// Moves to another store keeping the current state (consent granted: memory → local).
    #[wasm_bindgen(js_name = moveStorage)]
    pub fn move_storage(&mut self, storage: &str, key: &str) {
        if storage != "local" {
            self.store.clear();
        }
        self.store = if storage == "local" { Store::local(key) } else { Store::memory() };
    }

    /// Writes the current state. Returns `""`, or `"storage_full"` when the browser refused it
    /// and the state now lives in memory.
    pub fn persist(&mut self) -> String {
        let Some(engine) = self.engine.as_ref() else { return String::new() };
        if self.store.write(&engine.save_state()) {
            String::new()
        } else {
            "storage_full".into()
        }
    }

    /// The state as JSON text, for a tab that has just opened.
    #[wasm_bindgen(js_name = saveState)]
    pub fn save_state(&self) -> String {
        self.engine.as_ref().map_or_else(String::new, Engine::save_state)
    }

    /// Takes another tab's state; false (and nothing changed) when it is not valid state.
    #[wasm_bindgen(js_name = loadState)]
    pub fn load_state(&mut self, text: &str, now: f64) -> bool {
        self.engine.as_mut().is_some_and(|e| e.load_state(text, now as i64).is_ok())
    }

    #[wasm_bindgen(js_name = isPersistent)]
    pub fn is_persistent(&self) -> bool {
        self.store.is_persistent()
    }

    /// Whether a prompt is on screen, here or in another tab: no other is issued meanwhile.
    #[wasm_bindgen(js_name = setPromptVisible)]
    pub fn set_prompt_visible(&mut self, visible: bool) {
        if let Some(engine) = self.engine.as_mut() {
            engine.set_prompt_visible(visible);
        }
    }

    /// Log-out: forgets user, counters and caps, here and in storage.
    pub fn reset(&mut self, anonymous_id: &str) {
        if let Some(engine) = self.engine.as_mut() {
            engine.reset(anonymous_id);
        }
        self.store.clear();
    }

    /// JSON explanation of a rule, or `null` for an unknown id.
    pub fn explain(&self, rule_id: &str, now: f64) -> String {
        let explanation = self.engine.as_ref().and_then(|e| e.explain(rule_id, now as i64));
        explanation.unwrap_or(Value::Null).to_json()
    }
}

/// What consent allows: bit 1 store on the device, bit 2 send beacons, bit 4 queue beacons.
#[wasm_bindgen(js_name = consentPolicy)]
pub fn consent_policy(consent: &str, local_only: bool) -> u8 {
    let p = policy(Consent::parse(consent), local_only);
    u8::from(p.store) | u8::from(p.send) << 1 | u8::from(p.queue) << 2
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

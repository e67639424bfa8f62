//! What survives a reload: the profile, every signal's bounded state, rule and frequency
//! history. Versioned JSON, so a browser's saved state can be read by the next release.
//!
//! Signals are saved under `<rule id>/<path inside the rule>` with a hash of their definition:
//! when a product manager edits a rule, the signals they changed start afresh and the others
//! keep their history. Reading is all-or-nothing: corrupt or foreign state is refused whole
//! and leaves the engine as it was.

use super::Engine;
use crate::duration::Millis;
use crate::frequency::{GlobalHistory, RuleHistory};
use crate::json::{self, object, Value};
use crate::profile::Profile;
use crate::signals::SignalState;

/// Bump when the layout changes; older versions are refused (and so replaced).
pub const STATE_VERSION: f64 = 1.0;

/// Why saved state was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateError(pub &'static str);

/// FNV-1a over a signal's JSON: cheap, stable across releases, and only compared for equality.
fn fingerprint(value: &Value) -> f64 {
    f64::from(crate::hash::fnv1a(value.to_json().as_bytes()))
}

fn millis(t: Option<Millis>) -> Value {
    t.map_or(Value::Null, |t| Value::Number(t as f64))
}

/// Any time the engine holds: the host's clock reaches the core through a saturating
/// `f64 as i64`, so a time saved from a clock gone wrong may be as far out as `i64` goes (a
/// bound of 9e15 refused such a state on the next load, and everything in it was lost).
fn read_millis(v: Option<&Value>) -> Result<Option<Millis>, StateError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_finite() && n.fract() == 0.0 && n.abs() <= 9.3e18 => {
            Ok(Some(*n as Millis))
        }
        _ => Err(StateError("a timestamp is not an integer")),
    }
}

fn read_count(v: Option<&Value>) -> Result<u32, StateError> {
    match v {
        Some(Value::Number(n)) if *n >= 0.0 && *n <= f64::from(u32::MAX) && n.fract() == 0.0 => {
            Ok(*n as u32)
        }
        _ => Err(StateError("a counter is not a whole number")),
    }
}

fn read_id(v: Option<&Value>) -> Result<Option<String>, StateError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        _ => Err(StateError("an id is not a string")),
    }
}

fn read_object(v: Option<&Value>) -> Result<Value, StateError> {
    match v {
        Some(o @ Value::Object(_)) => Ok(o.clone()),
        None | Some(Value::Null) => Ok(Value::Object(Vec::new())),
        _ => Err(StateError("traits are not an object")),
    }
}

/// The signal's key inside its rule: `rules[3].when.all[0]` → `when.all[0]`.
pub(crate) fn key_in_rule(path: &str) -> &str {
    crate::error::find_pair(path, b"].").map_or(path, |i| &path[i + 2..])
}

impl Engine {
    /// Everything that must survive a reload, as JSON text.
    pub fn save_state(&self) -> String {
        let p = &self.profile;
        let usage = p
            .usage
            .iter()
            .map(|(name, ratio)| Value::Array(vec![name.as_str().into(), Value::Number(*ratio)]))
            .collect();
        let g = &self.global;
        let mut rules = Value::Object(Vec::new());
        for (rule, rt) in self.rules.rules.iter().zip(&self.runtime) {
            let h = &rt.history;
            rules.insert(
                &rule.id,
                Value::Array(vec![
                    Value::Bool(rt.holds),
                    Value::Number(f64::from(h.shows)),
                    millis(h.last_shown),
                    Value::Number(f64::from(h.dismissals)),
                    millis(h.last_dismissed),
                ]),
            );
        }
        let mut signals = Value::Object(Vec::new());
        for slot in &self.signals {
            let state = slot.state.to_value();
            if state.is_null() {
                continue;
            }
            let mut key = self.rules.rules[slot.rule].id.clone();
            key.push('/');
            key.push_str(key_in_rule(&slot.def.path));
            signals.insert(
                &key,
                Value::Array(vec![Value::Number(fingerprint(&slot.def.source)), state]),
            );
        }
        let id = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::from);
        object([
            ("v", Value::Number(STATE_VERSION)),
            ("anon", p.anonymous_id.as_str().into()),
            ("user", id(&p.user_id)),
            ("traits", p.traits.clone()),
            ("account", id(&p.account_id)),
            ("accountTraits", p.account_traits.clone()),
            ("firstSeen", millis(p.first_seen)),
            ("lastActivity", millis(p.last_activity)),
            ("usage", Value::Array(usage)),
            (
                "global",
                Value::Array(vec![
                    Value::Number(f64::from(g.session_shows)),
                    Value::Number(g.day as f64),
                    Value::Number(f64::from(g.day_shows)),
                    millis(g.last_shown),
                ]),
            ),
            ("qualified", Value::Bool(self.qualified)),
            ("rules", rules),
            ("signals", signals),
        ])
        .to_json()
    }

    /// Restores what [`Engine::save_state`] wrote. On error nothing changes. Every rule is
    /// re-checked at the next [`Engine::advance`], so deadlines that passed while the page was
    /// closed fire then.
    pub fn load_state(&mut self, text: &str, now: Millis) -> Result<(), StateError> {
        let doc = json::parse(text).map_err(|_| StateError("saved state is not JSON"))?;
        if doc.get("v").and_then(Value::as_f64) != Some(STATE_VERSION) {
            return Err(StateError("saved state has another version"));
        }
        let anonymous_id = read_id(doc.get("anon"))?.ok_or(StateError("no anonymous id"))?;
        let mut profile = Profile::new(&anonymous_id);
        profile.user_id = read_id(doc.get("user"))?;
        profile.traits = read_object(doc.get("traits"))?;
        profile.account_id = read_id(doc.get("account"))?;
        profile.account_traits = read_object(doc.get("accountTraits"))?;
        profile.first_seen = read_millis(doc.get("firstSeen"))?;
        profile.last_activity = read_millis(doc.get("lastActivity"))?;
        for entry in doc.get("usage").and_then(Value::as_array).unwrap_or(&[]) {
            match entry.as_array() {
                Some([Value::String(name), Value::Number(ratio)]) if ratio.is_finite() => {
                    profile.set_usage(name, *ratio)
                }
                _ => return Err(StateError("a usage entry is malformed")),
            }
        }
        profile.refresh_attributes();
        let global = match doc.get("global").and_then(Value::as_array) {
            Some([session, day, day_shows, last]) => GlobalHistory {
                session_shows: read_count(Some(session))?,
                day: read_millis(Some(day))?.unwrap_or(0),
                day_shows: read_count(Some(day_shows))?,
                last_shown: read_millis(Some(last))?,
            },
            _ => return Err(StateError("global prompt history is malformed")),
        };
        let qualified =
            doc.get("qualified").and_then(Value::as_bool).ok_or(StateError("no qualified flag"))?;
        let saved_rules = doc.get("rules").ok_or(StateError("no rule history"))?;
        let mut runtime = Vec::with_capacity(self.rules.rules.len());
        for rule in &self.rules.rules {
            let (holds, history) = match saved_rules.get(&rule.id).map(Value::as_array) {
                None => (false, RuleHistory::default()),
                Some(Some([holds, shows, last_shown, dismissals, last_dismissed])) => (
                    holds.as_bool().ok_or(StateError("a rule's state is malformed"))?,
                    RuleHistory {
                        shows: read_count(Some(shows))?,
                        last_shown: read_millis(Some(last_shown))?,
                        dismissals: read_count(Some(dismissals))?,
                        last_dismissed: read_millis(Some(last_dismissed))?,
                    },
                ),
                Some(_) => return Err(StateError("a rule's state is malformed")),
            };
            runtime.push((holds, history));
        }
        let saved_signals = doc.get("signals").ok_or(StateError("no signal state"))?;
        let mut states = Vec::with_capacity(self.signals.len());
        for slot in &self.signals {
            let mut key = self.rules.rules[slot.rule].id.clone();
            key.push('/');
            key.push_str(key_in_rule(&slot.def.path));
            let state = match saved_signals.get(&key).and_then(Value::as_array) {
                Some([Value::Number(hash), state]) if *hash == fingerprint(&slot.def.source) => {
                    SignalState::from_value(&slot.def.kind, state)
                        .ok_or(StateError("a signal's state is malformed"))?
                }
                // The definition changed (or is new): its history starts afresh.
                _ => SignalState::new(&slot.def.kind),
            };
            states.push(state);
        }

        self.profile = profile;
        self.global = global;
        self.qualified = qualified;
        self.score = 0.0;
        for (r, (holds, history)) in runtime.into_iter().enumerate() {
            if holds {
                self.score += self.rules.rules[r].score;
            }
            let rt = &mut self.runtime[r];
            rt.holds = holds;
            rt.history = history;
            rt.scheduled = None;
            self.schedule_check(r, Some(now));
        }
        for (slot, state) in self.signals.iter_mut().zip(states) {
            slot.state = state;
        }
        self.refresh_audiences();
        Ok(())
    }

    /// Log-out: forgets the user, counters, history and caps; keeps the compiled rules.
    pub fn reset(&mut self, anonymous_id: &str) {
        self.profile = Profile::new(anonymous_id);
        self.global = GlobalHistory::default();
        self.score = 0.0;
        self.qualified = false;
        for rt in &mut self.runtime {
            *rt = Default::default();
        }
        self.schedule.clear();
        for slot in &mut self.signals {
            slot.state = SignalState::new(&slot.def.kind);
        }
        self.refresh_audiences();
    }
}

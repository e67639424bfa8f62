//! What survives a reload: the profile, every signal's bounded state, rule and frequency
//! history. Versioned JSON, so a browser's saved state can be read by the next release.
//!
//! Signals are saved under `<rule id>/<path inside the rule>` with a hash of their definition:
//! when a product manager edits a rule, the signals they changed start afresh and the others
//! keep their history. Reading is all-or-nothing: corrupt or foreign state is refused whole
//! and leaves the engine as it was.

use super::Engine;
use crate::duration::{read_millis, Millis};
use crate::frequency::{GlobalHistory, RuleHistory};
use crate::json::{
    self, field_bool, field_json, field_num, field_opt, field_str, key, write_number, write_string,
    Value,
};
use crate::profile::Profile;
use crate::signals::SignalState;

/// Bump when the layout changes; older versions are refused (and so replaced).
pub const STATE_VERSION: f64 = 1.0;

/// Saved state was refused: it is corrupt or foreign (not JSON, another version, or any part
/// malformed). One reason for every flaw, and no words: the host replaces such state whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateError;

/// FNV-1a over a signal's JSON text (`Signal::source`): cheap, stable across releases, and only
/// compared for equality.
fn fingerprint(source: &str) -> f64 {
    f64::from(crate::hash::fnv1a(source.as_bytes()))
}

fn field_millis(out: &mut String, k: &str, t: Option<Millis>) {
    key(out, k);
    write_list_item(out, t.map(|t| t as f64));
}

fn write_list_item(out: &mut String, n: Option<f64>) {
    match n {
        Some(n) => write_number(out, n),
        None => out.push_str("null"),
    }
}

/// `a,b,...`, each a number or `null`: the items of a list.
fn write_items(out: &mut String, items: &[Option<f64>]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_list_item(out, *item);
    }
}

/// A signal's key in saved state: `<rule id>/<path inside the rule>`.
fn signal_key(rule_id: &str, path: &str) -> String {
    let mut key = String::with_capacity(rule_id.len() + path.len());
    key.push_str(rule_id);
    key.push('/');
    key.push_str(key_in_rule(path));
    key
}

fn read_count(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) if *n >= 0.0 && *n <= f64::from(u32::MAX) && n.fract() == 0.0 => {
            Some(*n as u32)
        }
        _ => None,
    }
}

fn read_id(v: Option<&Value>) -> Option<Option<String>> {
    match v {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        _ => None,
    }
}

fn read_object(v: Option<&Value>) -> Option<Value> {
    match v {
        Some(o @ Value::Object(_)) => Some(o.clone()),
        None | Some(Value::Null) => Some(Value::Object(Vec::new())),
        _ => None,
    }
}

/// What [`Engine::read_state`] found in saved state, before any of it is applied.
struct Saved {
    profile: Profile,
    global: GlobalHistory,
    qualified: bool,
    /// Per rule of the rule set: whether it holds, and its prompt history.
    rules: Vec<(bool, RuleHistory)>,
    /// Per source (the state that signals measuring alike share).
    signals: Vec<SignalState>,
}

/// The signal's key inside its rule: `rules[3].when.all[0]` → `when.all[0]`.
pub(crate) fn key_in_rule(path: &str) -> &str {
    crate::error::find_pair(path, b"].").map_or(path, |i| &path[i + 2..])
}

impl Engine {
    /// Everything that must survive a reload, as JSON text, written in one walk (no `Value`
    /// tree is built for it: that cost about 1 KB of the runtime wasm).
    pub fn save_state(&self) -> String {
        let p = &self.profile;
        let g = &self.global;
        let mut out = String::with_capacity(1024);
        out.push('{');
        field_num(&mut out, "v", STATE_VERSION);
        field_str(&mut out, "anon", &p.anonymous_id);
        field_opt(&mut out, "user", p.user_id.as_deref());
        field_json(&mut out, "traits", &p.traits);
        field_opt(&mut out, "account", p.account_id.as_deref());
        field_json(&mut out, "accountTraits", &p.account_traits);
        field_millis(&mut out, "firstSeen", p.first_seen);
        field_millis(&mut out, "lastActivity", p.last_activity);
        key(&mut out, "usage");
        out.push('[');
        for (i, (name, ratio)) in p.usage.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            write_string(&mut out, name);
            out.push(',');
            write_number(&mut out, *ratio);
            out.push(']');
        }
        out.push(']');
        key(&mut out, "global");
        out.push('[');
        write_items(
            &mut out,
            &[
                Some(f64::from(g.session_shows)),
                Some(g.day as f64),
                Some(f64::from(g.day_shows)),
                g.last_shown.map(|t| t as f64),
            ],
        );
        out.push(']');
        field_bool(&mut out, "qualified", self.qualified);
        key(&mut out, "rules");
        out.push('{');
        for ((rule, rt), &holds) in self.rules.rules.iter().zip(&self.runtime).zip(&self.holds) {
            let h = &rt.history;
            // Rule ids are unique (validation), so each key is written once.
            key(&mut out, &rule.id);
            out.push_str(if holds { "[true," } else { "[false," });
            write_items(
                &mut out,
                &[
                    Some(f64::from(h.shows)),
                    h.last_shown.map(|t| t as f64),
                    Some(f64::from(h.dismissals)),
                    h.last_dismissed.map(|t| t as f64),
                ],
            );
            out.push(']');
        }
        out.push('}');
        key(&mut out, "signals");
        out.push('{');
        // Each signal's state under its own key, also where signals share one: the format
        // stays what it was, and a signal keeps its history when its twin leaves the rules.
        // A state that keeps nothing (`null`) is not saved: written, then taken back.
        for slot in &self.signals {
            let start = out.len();
            key(&mut out, &signal_key(&self.rules.rules[slot.rule].id, &slot.def.path));
            out.push('[');
            write_number(&mut out, fingerprint(&slot.def.source));
            out.push(',');
            let state = out.len();
            self.sources[slot.source].state.state().write_json(&mut out);
            if out[state..] == *"null" {
                out.truncate(start);
                continue;
            }
            out.push(']');
        }
        out.push_str("}}");
        out
    }

    /// Restores what [`Engine::save_state`] wrote. On error nothing changes. Every rule is
    /// re-checked at the next [`Engine::advance`], so deadlines that passed while the page was
    /// closed fire then.
    pub fn load_state(&mut self, text: &str, now: Millis) -> Result<(), StateError> {
        // One refusal for every flaw: the host replaces such state whole, whatever is wrong
        // with it, and a reason per field cost the runtime wasm its branches and words.
        // Read into one `Saved` that is dropped once, whatever the flaw: a flaw found with
        // half-read values in hand had each of its exits drop them (0.3 KB of the wasm).
        // A profile made whole, not `Default::default()`: read_state assigns every field, and
        // each assignment over a derived default dropped one more value (38 B of the wasm).
        let mut saved = Saved {
            profile: Profile::new(""),
            global: GlobalHistory::default(),
            qualified: false,
            rules: Vec::new(),
            signals: Vec::new(),
        };
        json::parse(text)
            .ok()
            .and_then(|doc| self.read_state(&doc, &mut saved))
            .ok_or(StateError)?;
        self.profile = saved.profile;
        self.global = saved.global;
        self.qualified = saved.qualified;
        self.score = 0.0;
        // By reference, the values swapped in: a by-value iterator over `saved`'s lists and
        // its drop guard are code of their own.
        for (r, (holds, history)) in saved.rules.iter_mut().enumerate() {
            if *holds {
                self.score += self.rules.rules[r].score;
            }
            self.holds[r] = *holds;
            let rt = &mut self.runtime[r];
            std::mem::swap(&mut rt.history, history);
        }
        for (source, state) in self.sources.iter_mut().zip(&mut saved.signals) {
            std::mem::swap(source.state.state_mut(), state);
        }
        // Every rule and source is checked at the next call, for deadlines passed meanwhile; a
        // source without a window leaves the schedule then (only windows expire).
        for item in 0..self.runtime.len() + self.sources.len() {
            self.schedule.set(item, Some(now));
        }
        self.refresh_facts();
        Ok(())
    }

    /// Reads saved state (a JSON document) against this rule set into `saved`; `None` when it
    /// has another version or any part of it is malformed.
    fn read_state(&self, doc: &Value, saved: &mut Saved) -> Option<()> {
        if doc.get("v").and_then(Value::as_f64) != Some(STATE_VERSION) {
            return None;
        }
        let profile = &mut saved.profile;
        profile.anonymous_id = read_id(doc.get("anon"))??;
        profile.user_id = read_id(doc.get("user"))?;
        profile.traits = read_object(doc.get("traits"))?;
        profile.account_id = read_id(doc.get("account"))?;
        profile.account_traits = read_object(doc.get("accountTraits"))?;
        profile.first_seen = read_millis(doc.get("firstSeen"))?;
        profile.last_activity = read_millis(doc.get("lastActivity"))?;
        // `Option::and_then` with `as_array` would be an instance of its own for two uses.
        let usage = match doc.get("usage") {
            Some(Value::Array(entries)) => &entries[..],
            _ => &[],
        };
        for entry in usage {
            match entry.as_array()? {
                [Value::String(name), Value::Number(ratio)] if ratio.is_finite() => {
                    profile.set_usage(name, *ratio)
                }
                _ => return None,
            }
        }
        profile.refresh_attributes();
        let [session, day, day_shows, last] = doc.get("global")?.as_array()? else { return None };
        saved.global = GlobalHistory {
            session_shows: read_count(session)?,
            day: read_millis(Some(day))?.unwrap_or(0),
            day_shows: read_count(day_shows)?,
            last_shown: read_millis(Some(last))?,
        };
        saved.qualified = doc.get("qualified")?.as_bool()?;
        let saved_rules = doc.get("rules")?;
        for rule in &self.rules.rules {
            saved.rules.push(match saved_rules.get(&rule.id) {
                None => (false, RuleHistory::default()),
                Some(saved) => {
                    let [holds, shows, last_shown, dismissals, last_dismissed] =
                        saved.as_array()?
                    else {
                        return None;
                    };
                    let history = RuleHistory {
                        shows: read_count(shows)?,
                        last_shown: read_millis(Some(last_shown))?,
                        dismissals: read_count(dismissals)?,
                        last_dismissed: read_millis(Some(last_dismissed))?,
                    };
                    (holds.as_bool()?, history)
                }
            });
        }
        let saved_signals = doc.get("signals")?;
        for source in &self.sources {
            // The state saved for the first of its signals whose definition is unchanged: a
            // signal that changed (or is new) has no history of its own and takes that of a
            // signal measuring alike, or starts afresh.
            let saved_state = source.signals.iter().find_map(|&i| {
                let slot = &self.signals[i];
                let key = signal_key(&self.rules.rules[slot.rule].id, &slot.def.path);
                let Some(Value::Array(saved)) = saved_signals.get(&key) else { return None };
                match &saved[..] {
                    [Value::Number(hash), state] if *hash == fingerprint(&slot.def.source) => {
                        Some(SignalState::from_value(&slot.def.kind, state))
                    }
                    _ => None,
                }
            });
            saved.signals.push(match saved_state {
                Some(state) => state?,
                None => SignalState::new(self.source_kind(source)),
            });
        }
        Some(())
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
        self.holds.fill(false);
        self.schedule.clear();
        for s in 0..self.sources.len() {
            let fresh = SignalState::new(self.source_kind(&self.sources[s]));
            *self.sources[s].state.state_mut() = fresh;
        }
        self.refresh_facts();
    }
}

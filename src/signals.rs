//! What each signal remembers between events, and what it measures now.
//!
//! A signal keeps only its own bounded state (a [`WindowCounter`] or a pending deadline); the
//! facts shared by all rules (first-seen time, metered limits, audience attributes) live in the
//! profile and are passed in as [`Facts`].

use std::borrow::Cow;
use std::cell::Cell;

use crate::condition::{Condition, Context};
use crate::duration::{Millis, DAY};
use crate::event::Event;
use crate::json::Value;
use crate::rules::{EventMatch, SignalKind};
use crate::window::WindowCounter;

/// Facts shared by every signal at one moment.
pub struct Facts<'a> {
    pub now: Millis,
    pub first_seen: Option<Millis>,
    /// Last reported `used / max` ratio per metered limit.
    pub usage: &'a [(String, f64)],
    pub attributes: &'a Value,
    pub conditions: Context<'a>,
}

/// The value a signal measured and whether its comparison holds.
pub struct Measure {
    pub actual: Value,
    pub holds: bool,
}

impl Measure {
    /// A window signal's measure when its state measures `amount`.
    fn of_amount(kind: &SignalKind, amount: f64, ctx: &Context) -> Measure {
        Measure { holds: holds_at(kind, amount, ctx), actual: Value::Number(amount) }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum SignalState {
    Window(WindowCounter),
    /// For `notFollowedBy`: the latest start, and whether the follow-up happened after it.
    Pending {
        started: Option<Millis>,
        followed: bool,
    },
    /// Signals that read only [`Facts`].
    Facts,
}

pub fn matches(on: &EventMatch, event: &Event, ctx: &Context) -> bool {
    on.event == event.name
        && on.filter.as_ref().is_none_or(|filter| filter.matches(Some(&event.props), ctx))
}

impl SignalState {
    pub fn new(kind: &SignalKind) -> Self {
        match kind {
            SignalKind::Count { within, .. }
            | SignalKind::Sum { within, .. }
            | SignalKind::Sessions { within, .. } => {
                SignalState::Window(WindowCounter::new(*within))
            }
            SignalKind::DistinctDays { within, .. } => {
                SignalState::Window(WindowCounter::daily(*within))
            }
            SignalKind::NotFollowedBy { .. } => {
                SignalState::Pending { started: None, followed: false }
            }
            _ => SignalState::Facts,
        }
    }

    /// Updates the state with an event; returns whether what the signal measures (or when it
    /// next changes) may have changed, so that its rule needs evaluating again. An event on a
    /// day already counted changes no `distinctDays`, a follow-up after the first changes no
    /// `notFollowedBy`: most events touch no rule through those.
    pub fn observe(&mut self, kind: &SignalKind, event: &Event, ctx: &Context) -> bool {
        match (self, kind) {
            (
                SignalState::Window(counter),
                SignalKind::Count { on, .. } | SignalKind::DistinctDays { on, .. },
            ) if matches(on, event, ctx) => {
                counter.add(event.time, 1.0) | matches!(kind, SignalKind::Count { .. })
            }
            (SignalState::Window(counter), SignalKind::Sum { on, property, .. })
                if matches(on, event, ctx) =>
            {
                let amount = event.props.get_path(property).as_deref().and_then(Value::as_f64);
                amount.is_some_and(|amount| counter.add(event.time, amount) || amount > 0.0)
            }
            (
                SignalState::Pending { started, followed },
                SignalKind::NotFollowedBy { on, then, .. },
            ) => {
                if matches(on, event, ctx) {
                    // The latest start counts: an abandoned flow restarted is measured anew.
                    *started = Some(event.time);
                    *followed = false;
                    true
                } else if !*followed
                    && matches(then, event, ctx)
                    && started.is_some_and(|s| event.time >= s)
                {
                    *followed = true;
                    true
                } else {
                    false
                }
            }
            _ => false,
        }
    }

    /// A new session started at `t` (sessions split by 30 minutes of inactivity).
    pub fn observe_session_start(&mut self, kind: &SignalKind, t: Millis) -> bool {
        match (self, kind) {
            (SignalState::Window(counter), SignalKind::Sessions { .. }) => {
                counter.add(t, 1.0);
                true
            }
            _ => false,
        }
    }

    /// The number a window state measures at `now`, before any comparison (`None` for the
    /// other states): signals that differ only in their comparison share one state, and each
    /// judges this amount with [`holds_at`].
    pub fn amount(&self, kind: &SignalKind, now: Millis) -> Option<f64> {
        match (self, kind) {
            (
                SignalState::Window(counter),
                SignalKind::Count { .. } | SignalKind::Sum { .. } | SignalKind::Sessions { .. },
            ) => Some(counter.total(now)),
            (SignalState::Window(counter), SignalKind::DistinctDays { .. }) => {
                Some(counter.distinct_buckets(now) as f64)
            }
            _ => None,
        }
    }

    /// What a signal that keeps no window measures at `facts.now` (windows are measured from
    /// their amount, by [`CachedState::measure`]). Without `detail`, `actual` is left `null`
    /// where building it allocates (a pending follow-up, the attributes of `traits`): deciding
    /// whether a rule holds needs only `holds`, and does so for every rule an event touches.
    fn measure(&self, kind: &SignalKind, facts: &Facts, detail: bool) -> Measure {
        let now = facts.now;
        let compared = |actual: f64, compare: &Condition| {
            let actual = Value::Number(actual);
            Measure { holds: compare.matches(Some(&actual), &facts.conditions), actual }
        };
        match (self, kind) {
            (
                SignalState::Pending { started: Some(start), followed },
                SignalKind::NotFollowedBy { within, .. },
            ) => Measure {
                holds: !followed && now >= start.saturating_add(*within),
                actual: if detail {
                    let mut actual = Value::Object(Vec::new());
                    actual.insert("started", Value::Number(*start as f64));
                    actual.insert("deadline", Value::Number(start.saturating_add(*within) as f64));
                    actual.insert("followed", Value::Bool(*followed));
                    actual
                } else {
                    Value::Null
                },
            },
            (_, SignalKind::Usage { limit, compare }) => {
                match facts.usage.iter().find(|(name, _)| name == limit) {
                    Some((_, ratio)) => compared(*ratio, compare),
                    None => Measure {
                        holds: compare.matches(None, &facts.conditions),
                        actual: Value::Null,
                    },
                }
            }
            (_, SignalKind::FirstSeen { within }) => match facts.first_seen {
                Some(first) => Measure {
                    holds: now.saturating_sub(first) < *within,
                    actual: Value::Number(first as f64),
                },
                None => Measure { actual: Value::Null, holds: false },
            },
            (_, SignalKind::DaysSinceFirstSeen { compare }) => match facts.first_seen {
                Some(first) => compared(now.saturating_sub(first).div_euclid(DAY) as f64, compare),
                None => Measure { actual: Value::Null, holds: false },
            },
            (_, SignalKind::Traits { condition }) => Measure {
                holds: condition.matches(Some(facts.attributes), &facts.conditions),
                actual: if detail {
                    referenced_attributes(condition.source(), facts.attributes)
                } else {
                    Value::Null
                },
            },
            // A state that does not fit its kind (never built by `new`) measures nothing.
            _ => Measure { actual: Value::Null, holds: false },
        }
    }

    /// The first moment after `now` at which this signal can change without a new event;
    /// windows aside, whose expiries [`CachedState::reading`] gives.
    pub fn next_change(&self, kind: &SignalKind, facts: &Facts) -> Option<Millis> {
        let now = facts.now;
        let after_now = |t: Millis| (t > now).then_some(t);
        match (self, kind) {
            (
                SignalState::Pending { started: Some(start), followed: false },
                SignalKind::NotFollowedBy { within, .. },
            ) => after_now(start.saturating_add(*within)),
            (_, SignalKind::FirstSeen { within }) => {
                after_now(facts.first_seen?.saturating_add(*within))
            }
            (_, SignalKind::DaysSinceFirstSeen { .. }) => {
                let first = facts.first_seen?;
                // Capped so that the next midnight's product cannot overflow: a plain multiply.
                let days = now.saturating_sub(first).div_euclid(DAY).min(i64::MAX / DAY - 1);
                after_now(first.saturating_add((days + 1) * DAY))
            }
            _ => None,
        }
    }
}

/// A [`SignalState`] that remembers its window's amount and next expiry until a bucket leaves
/// the window or the state changes: the signals sharing it, and every evaluation of their
/// rules, read it without summing the buckets again.
#[derive(Debug)]
pub struct CachedState {
    state: SignalState,
    /// `(at, amount, next expiry)`: the reading at `at`, the same until the expiry.
    reading: Cell<Option<(Millis, f64, Option<Millis>)>>,
}

impl CachedState {
    pub fn new(state: SignalState) -> Self {
        CachedState { state, reading: Cell::new(None) }
    }

    pub fn state(&self) -> &SignalState {
        &self.state
    }

    /// The state, to change: what was remembered is forgotten.
    pub fn state_mut(&mut self) -> &mut SignalState {
        *self.reading.get_mut() = None;
        &mut self.state
    }

    /// A window's amount at `facts.now` and its next expiry (`None` for the other states, which
    /// their rules schedule through [`SignalState::next_change`]).
    pub fn reading(&self, kind: &SignalKind, facts: &Facts) -> (Option<f64>, Option<Millis>) {
        let now = facts.now;
        if let SignalState::Window(counter) = &self.state {
            if let Some((at, amount, next)) = self.reading.get() {
                if at <= now && next.is_none_or(|next| now < next) {
                    return (Some(amount), next);
                }
            }
            if let Some(amount) = self.state.amount(kind, now) {
                let next = counter.next_expiry(now);
                self.reading.set(Some((now, amount, next)));
                return (Some(amount), next);
            }
        }
        (None, None)
    }

    /// [`SignalState::measure`], from the remembered reading where there is one.
    pub fn measure(&self, kind: &SignalKind, facts: &Facts, detail: bool) -> Measure {
        match self.reading(kind, facts).0 {
            Some(amount) => Measure::of_amount(kind, amount, &facts.conditions),
            None => self.state.measure(kind, facts, detail),
        }
    }
}

/// What a window signal's amount is judged by.
fn window_compare(kind: &SignalKind) -> Option<&Condition> {
    match kind {
        SignalKind::Count { compare, .. }
        | SignalKind::Sum { compare, .. }
        | SignalKind::Sessions { compare, .. }
        | SignalKind::DistinctDays { compare, .. } => Some(compare),
        _ => None,
    }
}

/// Whether a window signal holds when its state measures `amount` (see [`SignalState::amount`]).
pub fn holds_at(kind: &SignalKind, amount: f64, ctx: &Context) -> bool {
    window_compare(kind).is_some_and(|compare| compare.matches_number(amount, ctx))
}

/// [`Condition::number_range`] of a window signal's comparison; `None` for other signals.
pub fn number_range(kind: &SignalKind) -> Option<(f64, f64)> {
    window_compare(kind)?.number_range()
}

/// Whether two signals measure the same thing, comparisons aside (the same events, filter,
/// property and window): such signals share one state, so an event updates it once however
/// many rules count it.
pub fn same_measure(a: &SignalKind, b: &SignalKind) -> bool {
    use SignalKind::*;
    match (a, b) {
        (Count { on, within, .. }, Count { on: on2, within: within2, .. }) => {
            on == on2 && within == within2
        }
        (DistinctDays { on, within, .. }, DistinctDays { on: on2, within: within2, .. }) => {
            on == on2 && within == within2
        }
        (Sessions { within, .. }, Sessions { within: within2, .. }) => within == within2,
        (
            Sum { on, property, within, .. },
            Sum { on: on2, property: property2, within: within2, .. },
        ) => on == on2 && property == property2 && within == within2,
        (
            NotFollowedBy { on, then, within },
            NotFollowedBy { on: on2, then: then2, within: within2 },
        ) => on == on2 && then == then2 && within == within2,
        _ => false,
    }
}

/// The attribute values a condition looks at, for explanations: `{ "plan": "free", ... }`.
pub fn referenced_attributes(condition: &Value, attributes: &Value) -> Value {
    let mut out = Value::Object(Vec::new());
    collect_referenced(condition, attributes, &mut out);
    out
}

fn collect_referenced(condition: &Value, attributes: &Value, out: &mut Value) {
    match condition {
        Value::Object(entries) => {
            for (key, value) in entries {
                if key.starts_with("$") {
                    collect_referenced(value, attributes, out);
                } else {
                    out.insert(key, attributes.get_path(key).map_or(Value::Null, Cow::into_owned));
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_referenced(item, attributes, out);
            }
        }
        _ => {}
    }
}

impl SignalState {
    /// Compact persisted form, written into `out`: a window's buckets, `[started, followed]`
    /// for a pending follow-up, `null` for signals that keep nothing.
    pub fn write_json(&self, out: &mut String) {
        match self {
            SignalState::Window(counter) => counter.write_json(out),
            SignalState::Pending { started, followed } => {
                out.push('[');
                match started {
                    Some(t) => crate::json::write_number(out, *t as f64),
                    None => out.push_str("null"),
                }
                out.push_str(if *followed { ",true]" } else { ",false]" });
            }
            SignalState::Facts => out.push_str("null"),
        }
    }

    /// Reads what `write_json` wrote (parsed) for a signal of this kind; `None` when it does not
    /// fit.
    pub fn from_value(kind: &SignalKind, value: &Value) -> Option<Self> {
        match SignalState::new(kind) {
            SignalState::Window(fresh) => fresh.restore(value).map(SignalState::Window),
            SignalState::Pending { .. } => {
                let [started, followed] = value.as_array()? else { return None };
                let started = crate::duration::read_millis(Some(started))?;
                Some(SignalState::Pending { started, followed: followed.as_bool()? })
            }
            SignalState::Facts => value.is_null().then_some(SignalState::Facts),
        }
    }
}

#![cfg(not(target_arch = "wasm32"))]
//! The engine as a product manager sees it: rule sets in, `qualified` / `prompt` / `beacon`
//! effects out, driven by a fake clock (every call takes `now`).

use pqlkit::duration::{Millis, DAY, HOUR, MINUTE};
use pqlkit::engine::{Effect, Engine, PromptOutcome};
use pqlkit::json::{parse, Value};
use pqlkit::rules::parse_rule_set_json;

mod support;
use support::NativeRegex;

/// Midnight UTC, 2024-01-01.
const T0: Millis = 19_723 * DAY;

/// Prompts `p`, `p-low`, `p-mid`, `p-high` exist in every rule set built by [`engine`].
const PROMPTS: &str = r#""prompts": {
    "p": {"style": "toast", "title": "Hi {{event.limit}}"},
    "p2": {"style": "toast", "title": "Two"},
    "p-low": {"style": "toast", "title": "Low"},
    "p-mid": {"style": "toast", "title": "Mid"},
    "p-high": {"style": "modal", "title": "High"}
}"#;

/// An engine for `{"version": 1, "rules": [<rules>], <extra>, "prompts": ...}`.
fn engine_with(rules: &str, extra: &str) -> Engine {
    let extra = if extra.is_empty() { String::new() } else { format!("{extra},") };
    let text = format!(r#"{{"version": 1, "rules": [{rules}], {extra} {PROMPTS}}}"#);
    let rule_set = match parse_rule_set_json(&text, &NativeRegex) {
        Ok(rule_set) => rule_set,
        Err(errors) => panic!("invalid rule set {text}: {errors:?}"),
    };
    Engine::new(rule_set, Box::new(NativeRegex), "anon-1", 42)
}

fn engine(rules: &str) -> Engine {
    engine_with(rules, "")
}

fn props(text: &str) -> Value {
    parse(text).expect("valid JSON props")
}

fn none() -> Value {
    Value::Object(Vec::new())
}

/// Rule ids of the rule-reason `qualified` effects, in order.
fn fired(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Qualified(p) if p.get("reason").and_then(Value::as_str) == Some("rule") => {
                p.get("rule").and_then(Value::as_str).map(str::to_string)
            }
            _ => None,
        })
        .collect()
}

/// The score-reason `qualified` effects.
fn score_qualified(effects: &[Effect]) -> Vec<&Value> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Qualified(p) if p.get("reason").and_then(Value::as_str) == Some("score") => {
                Some(p)
            }
            _ => None,
        })
        .collect()
}

/// Ids of the prompts issued.
fn prompts(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Prompt(p) => p.get("id").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .collect()
}

/// Types of the beacons queued.
fn beacons(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Beacon(p) => p.get("type").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .collect()
}

/// Runs every time-driven check due up to and including `until`, as the host's timer would.
fn run_until(engine: &mut Engine, until: Millis) -> Vec<Effect> {
    let mut effects = Vec::new();
    while let Some(deadline) = engine.next_deadline().filter(|&d| d <= until) {
        effects.extend(engine.advance(deadline));
    }
    effects.extend(engine.advance(until));
    effects
}

fn score_of(engine: &Engine) -> f64 {
    engine.score().get("score").and_then(Value::as_f64).unwrap()
}

fn explain(engine: &Engine, id: &str, now: Millis) -> Value {
    engine.explain(id, now).expect("a known rule")
}

fn num(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64)
}

// ---------------------------------------------------------------------------------------------
// Firing

#[test]
fn edge_triggered_rule_fires_once_until_it_went_false_and_true_again() {
    let mut e = engine(
        r#"{"id": "clicks", "when": {"event": "click", "count": {"$gte": 2}, "within": "1h"},
            "actions": [{"prompt": "p"}]}"#,
    );
    assert!(fired(&e.track("click", none(), T0)).is_empty());
    let effects = e.track("click", none(), T0 + MINUTE);
    assert_eq!(fired(&effects), ["clicks"]);
    assert_eq!(prompts(&effects), ["p"]);
    // Still true: no new firing, however many more clicks.
    for i in 2..10 {
        assert!(fired(&e.track("click", none(), T0 + i * MINUTE)).is_empty());
    }
    // The window empties by itself: the rule goes false without any event, silently.
    assert!(e.next_deadline().is_some());
    let effects = run_until(&mut e, T0 + 3 * HOUR);
    assert!(fired(&effects).is_empty());
    assert_eq!(explain(&e, "clicks", T0 + 3 * HOUR).get("matched"), Some(&Value::Bool(false)));
    assert_eq!(
        e.score().get("rules").unwrap().as_array().unwrap()[0].get("matched"),
        Some(&Value::Bool(false))
    );
    // True again: fires again.
    assert!(fired(&e.track("click", none(), T0 + 4 * HOUR)).is_empty());
    assert_eq!(fired(&e.track("click", none(), T0 + 4 * HOUR + MINUTE)), ["clicks"]);
}

#[test]
fn trigger_rule_fires_on_each_trigger_while_when_holds_and_never_without_it() {
    let mut e = engine(
        r#"{"id": "project-limit", "kind": "usage",
            "trigger": {"event": "limit_hit", "where": {"limit": "projects"}},
            "when": {"event": "project_created", "count": {"$gte": 2}, "within": "30d"},
            "actions": [{"prompt": "p"}]}"#,
    );
    let hit = || props(r#"{"limit": "projects", "used": 5, "max": 5}"#);
    // The trigger alone, while `when` does not hold.
    assert!(fired(&e.track("limit_hit", hit(), T0)).is_empty());
    // `when` turns true without the trigger: nothing.
    assert!(fired(&e.track("project_created", none(), T0 + MINUTE)).is_empty());
    assert!(fired(&e.track("project_created", none(), T0 + 2 * MINUTE)).is_empty());
    // Each trigger fires while `when` holds.
    let effects = e.track("limit_hit", hit(), T0 + 3 * MINUTE);
    assert_eq!(fired(&effects), ["project-limit"]);
    let qualified = effects.iter().find_map(|e| match e {
        Effect::Qualified(p) => Some(p),
        _ => None,
    });
    let event = qualified.unwrap().get("event").unwrap();
    assert_eq!(event.get("name").and_then(Value::as_str), Some("limit_hit"));
    assert_eq!(event.get_path("props.limit").and_then(Value::as_str), Some("projects"));
    // The prompt's template reads the trigger event.
    let prompt = effects.iter().find_map(|e| match e {
        Effect::Prompt(p) => Some(p),
        _ => None,
    });
    assert_eq!(prompt.unwrap().get("title").and_then(Value::as_str), Some("Hi projects"));
    // What the host receives: `[{ type, payload }, ...]`, the same as each effect's own value.
    let listed = parse(&Effect::list_json(&effects)).unwrap();
    let each: Vec<Value> = effects.iter().cloned().map(Effect::into_value).collect();
    assert_eq!(listed, Value::Array(each));
    assert_eq!(Effect::list_json(&[]), "[]");
    assert_eq!(fired(&e.track("limit_hit", hit(), T0 + 4 * MINUTE)), ["project-limit"]);
    // A trigger event that does not match `where`.
    let seats = props(r#"{"limit": "seats", "used": 5, "max": 5}"#);
    assert!(fired(&e.track("limit_hit", seats, T0 + 5 * MINUTE)).is_empty());
    // Other events never fire it.
    assert!(fired(&e.track("project_created", none(), T0 + 6 * MINUTE)).is_empty());
}

#[test]
fn audience_reads_plan_from_identify_and_account_traits_from_group() {
    let mut e = engine(
        r#"{"id": "fit", "kind": "fit", "score": 10,
            "audience": {"plan": {"$in": ["free", "trial"]}, "account.company_size": {"$gte": 10}},
            "actions": [{"beacon": "fit"}]}"#,
    );
    assert!(fired(&e.track("visit", none(), T0)).is_empty());
    assert!(fired(&e.identify(Some("u1"), &props(r#"{"plan": "free"}"#), T0 + 1)).is_empty());
    assert!(fired(&e.group(Some("acme"), &props(r#"{"company_size": 5}"#), T0 + 2)).is_empty());
    let effects = e.group(Some("acme"), &props(r#"{"company_size": 50}"#), T0 + 3);
    assert_eq!(fired(&effects), ["fit"]);
    assert_eq!(beacons(&effects), ["fit"]);
    let beacon = effects.iter().find_map(|e| match e {
        Effect::Beacon(p) => Some(p),
        _ => None,
    });
    let beacon = beacon.unwrap();
    assert_eq!(beacon.get("userId").and_then(Value::as_str), Some("u1"));
    assert_eq!(beacon.get("accountId").and_then(Value::as_str), Some("acme"));
    assert_eq!(beacon.get("anonymousId").and_then(Value::as_str), Some("anon-1"));
    assert_eq!(score_of(&e), 10.0);
    // Upgrading leaves the audience; coming back fires again.
    assert!(fired(&e.identify(None, &props(r#"{"plan": "pro"}"#), T0 + 4)).is_empty());
    assert_eq!(score_of(&e), 0.0);
    let x = explain(&e, "fit", T0 + 4);
    let audience = x.get("audience").unwrap();
    assert_eq!(audience.get("matched"), Some(&Value::Bool(false)));
    assert_eq!(audience.get_path("actual.plan").and_then(Value::as_str), Some("pro"));
    assert_eq!(num(audience.get("actual").and_then(|a| a.get("account.company_size"))), Some(50.0));
    assert_eq!(fired(&e.identify(None, &props(r#"{"plan": "trial"}"#), T0 + 5)), ["fit"]);
}

// ---------------------------------------------------------------------------------------------
// Signals

#[test]
fn not_followed_by_fires_at_the_deadline_unless_followed_and_restarts_with_each_start() {
    let mut e = engine(
        r#"{"id": "abandoned", "when": {"event": "checkout_started",
              "notFollowedBy": {"event": "checkout_completed"}, "within": "30m"},
            "actions": [{"prompt": "p"}]}"#,
    );
    // Not followed: fires exactly at start + within.
    assert!(fired(&e.track("checkout_started", none(), T0)).is_empty());
    assert_eq!(e.next_deadline(), Some(T0 + 30 * MINUTE));
    assert!(fired(&e.advance(T0 + 30 * MINUTE - 1)).is_empty());
    let effects = e.advance(T0 + 30 * MINUTE);
    assert_eq!(fired(&effects), ["abandoned"]);
    assert_eq!(prompts(&effects), ["p"]);
    assert_eq!(e.next_deadline(), None);

    // Followed before the deadline: never fires.
    let t1 = T0 + DAY;
    assert!(fired(&e.track("checkout_started", none(), t1)).is_empty());
    assert_eq!(e.next_deadline(), Some(t1 + 30 * MINUTE));
    assert!(fired(&e.track("checkout_completed", none(), t1 + 10 * MINUTE)).is_empty());
    assert!(fired(&run_until(&mut e, t1 + 2 * HOUR)).is_empty());

    // Starting again restarts the clock.
    let t2 = T0 + 2 * DAY;
    assert!(fired(&e.track("checkout_started", none(), t2)).is_empty());
    assert!(fired(&e.track("checkout_started", none(), t2 + 20 * MINUTE)).is_empty());
    assert_eq!(e.next_deadline(), Some(t2 + 50 * MINUTE));
    assert!(fired(&e.advance(t2 + 30 * MINUTE)).is_empty());
    assert_eq!(fired(&e.advance(t2 + 50 * MINUTE)), ["abandoned"]);
}

#[test]
fn not_followed_by_one_event_name_tells_start_and_follow_up_apart_by_where() {
    // A wizard's steps are one event; step 1 without step 2 within 10 minutes is abandonment.
    let mut e = engine(
        r#"{"id": "wizard", "when": {"event": "step", "where": {"n": 1},
              "notFollowedBy": {"event": "step", "where": {"n": 2}}, "within": "10m"},
            "actions": [{"prompt": "p"}]}"#,
    );
    let step = |n: u8| props(&format!(r#"{{"n": {n}}}"#));
    assert!(fired(&e.track("step", step(1), T0)).is_empty());
    assert!(
        fired(&e.track("step", step(3), T0 + MINUTE)).is_empty(),
        "neither start nor follow-up"
    );
    assert!(fired(&e.track("step", step(2), T0 + 2 * MINUTE)).is_empty());
    assert!(fired(&run_until(&mut e, T0 + HOUR)).is_empty(), "followed: never fires");
    assert!(fired(&e.track("step", step(1), T0 + 2 * HOUR)).is_empty());
    assert!(fired(&e.track("step", step(3), T0 + 2 * HOUR + MINUTE)).is_empty());
    assert_eq!(fired(&run_until(&mut e, T0 + 3 * HOUR)), ["wizard"]);
}

#[test]
fn distinct_days_counts_calendar_days_across_utc_midnight() {
    let rule = r#"{"id": "regular", "when": {"event": "feature_used", "distinctDays": {"$gte": 2},
                   "within": "7d"}}"#;
    // Two minutes apart, on either side of midnight UTC: two days.
    let mut e = engine(rule);
    assert!(fired(&e.track("feature_used", none(), T0 + DAY - MINUTE)).is_empty());
    assert_eq!(fired(&e.track("feature_used", none(), T0 + DAY + MINUTE)), ["regular"]);
    // Almost 24 hours apart on the same UTC day: one day.
    let mut e = engine(rule);
    assert!(fired(&e.track("feature_used", none(), T0 + MINUTE)).is_empty());
    assert!(fired(&e.track("feature_used", none(), T0 + DAY - MINUTE)).is_empty());
    let x = explain(&e, "regular", T0 + DAY - MINUTE);
    assert_eq!(num(x.get("when").and_then(|w| w.get("actual"))), Some(1.0));
}

#[test]
fn sum_adds_a_numeric_property() {
    let mut e = engine(
        r#"{"id": "exports", "when": {"event": "export", "where": {"format": "csv"},
              "sum": "rows", "value": {"$gte": 100}, "within": "1d"}}"#,
    );
    assert!(fired(&e.track("export", props(r#"{"format": "csv", "rows": 60}"#), T0)).is_empty());
    // Other formats, and events without the property, add nothing.
    assert!(
        fired(&e.track("export", props(r#"{"format": "pdf", "rows": 500}"#), T0 + 1)).is_empty()
    );
    assert!(fired(&e.track("export", props(r#"{"format": "csv"}"#), T0 + 2)).is_empty());
    assert!(fired(&e.track("export", props(r#"{"format": "csv", "rows": 30}"#), T0 + 3)).is_empty());
    assert_eq!(
        fired(&e.track("export", props(r#"{"format": "csv", "rows": 10}"#), T0 + 4)),
        ["exports"]
    );
    assert_eq!(num(explain(&e, "exports", T0 + 5).get_path("when.actual")), Some(100.0));
}

#[test]
fn sessions_split_after_30_minutes_of_inactivity() {
    let mut e = engine(r#"{"id": "returning", "when": {"sessions": {"$gte": 3}, "within": "7d"}}"#);
    let mut t = T0;
    assert!(fired(&e.track("visit", none(), t)).is_empty());
    // Activity every 29 minutes keeps one session going for hours.
    for _ in 0..10 {
        t += 29 * MINUTE;
        assert!(fired(&e.track("visit", none(), t)).is_empty());
    }
    assert_eq!(num(explain(&e, "returning", t).get_path("when.actual")), Some(1.0));
    t += 30 * MINUTE;
    assert!(fired(&e.track("visit", none(), t)).is_empty());
    assert_eq!(num(explain(&e, "returning", t).get_path("when.actual")), Some(2.0));
    t += 45 * MINUTE;
    assert_eq!(fired(&e.track("visit", none(), t)), ["returning"]);
}

#[test]
fn usage_signal_reads_the_last_reported_ratio_of_a_limit() {
    let mut e = engine(
        r#"{"id": "seats", "when": {"limit": "seats", "usage": {"$gte": 0.8}},
            "actions": [{"prompt": "p"}]}"#,
    );
    let usage = |used: u32| props(&format!(r#"{{"limit": "seats", "used": {used}, "max": 10}}"#));
    assert!(fired(&e.track("usage", usage(7), T0)).is_empty());
    // Another limit does not count.
    let projects = props(r#"{"limit": "projects", "used": 10, "max": 10}"#);
    assert!(fired(&e.track("usage", projects, T0 + 1)).is_empty());
    let effects = e.track("usage", usage(8), T0 + 2);
    assert_eq!(fired(&effects), ["seats"]);
    assert_eq!(num(explain(&e, "seats", T0 + 2).get_path("when.actual")), Some(0.8));
    // Back below, then `limit_hit` reports a full limit: fires again.
    assert!(fired(&e.track("usage", usage(2), T0 + 3)).is_empty());
    let full = props(r#"{"limit": "seats", "used": 10, "max": 10}"#);
    assert_eq!(fired(&e.track("limit_hit", full, T0 + 4)), ["seats"]);
}

#[test]
fn first_seen_and_days_since_first_seen_follow_trial_age() {
    let mut e = engine(
        r#"{"id": "early-adopter", "score": 5, "when": {"all": [
              {"firstSeen": true, "within": "3d"},
              {"event": "feature_used", "count": 1}]}},
           {"id": "week-old", "when": {"daysSinceFirstSeen": {"$gte": 7}}}"#,
    );
    assert!(fired(&e.track("visit", none(), T0 + HOUR)).is_empty());
    assert_eq!(fired(&e.track("feature_used", none(), T0 + DAY)), ["early-adopter"]);
    assert_eq!(score_of(&e), 5.0);
    // After 3 days the trial-age window closes by itself.
    assert!(fired(&run_until(&mut e, T0 + 3 * DAY + 2 * HOUR)).is_empty());
    assert_eq!(score_of(&e), 0.0);
    // Seven whole days after the first visit, with no event in between.
    assert!(fired(&run_until(&mut e, T0 + 7 * DAY + HOUR - 1)).is_empty());
    let effects = run_until(&mut e, T0 + 7 * DAY + HOUR);
    assert_eq!(fired(&effects), ["week-old"]);
    assert_eq!(
        num(explain(&e, "week-old", T0 + 7 * DAY + HOUR).get_path("when.actual")),
        Some(7.0)
    );
}

// ---------------------------------------------------------------------------------------------
// Prompts and frequency

#[test]
fn only_the_highest_priority_prompt_is_issued() {
    let mut e = engine(
        r#"{"id": "low", "priority": 1, "when": {"event": "pricing", "count": 1},
            "actions": [{"prompt": "p-low"}]},
           {"id": "high", "priority": 10, "when": {"event": "pricing", "count": 1},
            "actions": [{"prompt": "p-high"}]},
           {"id": "mid", "priority": 5, "when": {"event": "pricing", "count": 1},
            "actions": [{"prompt": "p-mid"}]}"#,
    );
    let effects = e.track("pricing", none(), T0);
    assert_eq!(fired(&effects), ["low", "high", "mid"]);
    assert_eq!(prompts(&effects), ["p-high"]);
}

/// A rule that fires on every `export` and shows prompt `p`, with this `frequency`.
fn export_rule(frequency: &str) -> Engine {
    engine(&format!(
        r#"{{"id": "r", "trigger": {{"event": "export"}}, "actions": [{{"prompt": "p"}}],
            "frequency": {frequency}}}"#
    ))
}

#[test]
fn cooldown_holds_the_prompt_back_but_not_the_firing() {
    let mut e = export_rule(r#"{"cooldown": "1d"}"#);
    assert_eq!(prompts(&e.track("export", none(), T0)), ["p"]);
    let effects = e.track("export", none(), T0 + HOUR);
    assert_eq!(fired(&effects), ["r"]);
    assert!(prompts(&effects).is_empty());
    assert!(prompts(&e.track("export", none(), T0 + DAY - 1)).is_empty());
    assert_eq!(prompts(&e.track("export", none(), T0 + DAY)), ["p"]);
}

#[test]
fn max_shows_stops_the_prompt_for_good() {
    let mut e = export_rule(r#"{"maxShows": 2}"#);
    let shown: usize =
        (0..5).map(|i| prompts(&e.track("export", none(), T0 + i * DAY)).len()).sum();
    assert_eq!(shown, 2);
    let x = explain(&e, "r", T0 + 10 * DAY);
    assert_eq!(x.get_path("frequency.blocked").and_then(Value::as_str), Some("maxShows"));
}

#[test]
fn snooze_on_dismiss_holds_the_prompt_after_a_dismissal() {
    let mut e = export_rule(r#"{"snoozeOnDismiss": "7d"}"#);
    assert_eq!(prompts(&e.track("export", none(), T0)), ["p"]);
    let effects = e.prompt_outcome(Some("r"), "p", PromptOutcome::Dismissed, T0 + MINUTE);
    assert_eq!(beacons(&effects), ["prompt_dismissed"]);
    assert!(prompts(&e.track("export", none(), T0 + DAY)).is_empty());
    let x = explain(&e, "r", T0 + DAY);
    assert_eq!(x.get_path("frequency.blocked").and_then(Value::as_str), Some("snoozed"));
    assert_eq!(num(x.get_path("frequency.until")), Some((T0 + MINUTE + 7 * DAY) as f64));
    assert!(prompts(&e.track("export", none(), T0 + MINUTE + 7 * DAY - 1)).is_empty());
    assert_eq!(prompts(&e.track("export", none(), T0 + MINUTE + 7 * DAY)), ["p"]);
}

#[test]
fn max_per_session_counts_prompts_of_all_rules_and_resets_with_a_new_session() {
    let mut e = engine_with(
        r#"{"id": "a", "trigger": {"event": "a"}, "actions": [{"prompt": "p"}]},
           {"id": "b", "trigger": {"event": "b"}, "actions": [{"prompt": "p2"}]}"#,
        r#""limits": {"maxPerSession": 1}"#,
    );
    assert_eq!(prompts(&e.track("a", none(), T0)), ["p"]);
    let effects = e.track("b", none(), T0 + 5 * MINUTE);
    assert_eq!(fired(&effects), ["b"]);
    assert!(prompts(&effects).is_empty());
    assert_eq!(
        explain(&e, "b", T0 + 5 * MINUTE).get_path("frequency.blocked").and_then(Value::as_str),
        Some("maxPerSession")
    );
    // 30 minutes of inactivity: a new session.
    assert_eq!(prompts(&e.track("b", none(), T0 + 35 * MINUTE)), ["p2"]);
}

#[test]
fn min_interval_spaces_prompts_of_all_rules() {
    let mut e = engine_with(
        r#"{"id": "a", "trigger": {"event": "a"}, "actions": [{"prompt": "p"}]},
           {"id": "b", "trigger": {"event": "b"}, "actions": [{"prompt": "p2"}]}"#,
        r#""limits": {"minInterval": "1h"}"#,
    );
    assert_eq!(prompts(&e.track("a", none(), T0)), ["p"]);
    assert!(prompts(&e.track("b", none(), T0 + 30 * MINUTE)).is_empty());
    let x = explain(&e, "b", T0 + 30 * MINUTE);
    assert_eq!(x.get_path("frequency.blocked").and_then(Value::as_str), Some("minInterval"));
    assert_eq!(num(x.get_path("frequency.until")), Some((T0 + HOUR) as f64));
    assert_eq!(prompts(&e.track("b", none(), T0 + HOUR)), ["p2"]);
}

// ---------------------------------------------------------------------------------------------
// Score

#[test]
fn score_qualifies_once_until_it_drops_below_the_threshold_and_rises_again() {
    let mut e = engine_with(
        r#"{"id": "a", "score": 30, "when": {"event": "a", "count": 1, "within": "1h"}},
           {"id": "b", "score": 40, "when": {"event": "b", "count": 1, "within": "1h"}}"#,
        r#""scoring": {"threshold": 60, "tiers": {"warm": 30, "hot": 60}},
           "onQualified": [{"beacon": "pql"}]"#,
    );
    let effects = e.track("a", none(), T0);
    assert!(score_qualified(&effects).is_empty());
    let s = e.score();
    assert_eq!(
        (num(s.get("score")), s.get("tier").and_then(Value::as_str)),
        (Some(30.0), Some("warm"))
    );
    assert_eq!(s.get("qualified"), Some(&Value::Bool(false)));

    let effects = e.track("b", none(), T0 + 30 * MINUTE);
    let qualified = score_qualified(&effects);
    assert_eq!(qualified.len(), 1);
    assert_eq!(num(qualified[0].get("score")), Some(70.0));
    assert_eq!(qualified[0].get("tier").and_then(Value::as_str), Some("hot"));
    assert_eq!(qualified[0].get("qualified"), Some(&Value::Bool(true)));
    assert_eq!(beacons(&effects), ["pql"]);
    // The rule's own `qualified` effect carries the score too.
    let rule = effects.iter().find_map(|e| match e {
        Effect::Qualified(p) if p.get("rule").and_then(Value::as_str) == Some("b") => Some(p),
        _ => None,
    });
    assert_eq!(num(rule.unwrap().get("score")), Some(70.0));

    // More activity while qualified: no second qualification.
    for i in 1..5 {
        let effects = e.track("b", none(), T0 + 30 * MINUTE + i);
        assert!(score_qualified(&effects).is_empty());
        assert!(beacons(&effects).is_empty());
    }
    // `a` expires: 40 < 60.
    let effects = run_until(&mut e, T0 + 62 * MINUTE);
    assert!(score_qualified(&effects).is_empty());
    assert_eq!(num(e.score().get("score")), Some(40.0));
    assert_eq!(e.score().get("qualified"), Some(&Value::Bool(false)));
    // And back: qualifies again, once.
    let effects = e.track("a", none(), T0 + 70 * MINUTE);
    assert_eq!(score_qualified(&effects).len(), 1);
    assert_eq!(beacons(&effects), ["pql"]);
    // Everything expires: score 0, no tier.
    run_until(&mut e, T0 + 5 * HOUR);
    let s = e.score();
    assert_eq!((num(s.get("score")), s.get("tier")), (Some(0.0), Some(&Value::Null)));
}

// ---------------------------------------------------------------------------------------------
// Explanations and pages

#[test]
fn explain_shows_each_condition_and_what_holds_the_prompt_back() {
    let mut e = engine(
        r#"{"id": "pricing", "audience": {"plan": "free"},
            "when": {"all": [
              {"event": "pricing_view", "count": {"$gte": 2}, "within": "7d"},
              {"event": "feature_used", "distinctDays": {"$gte": 2}, "within": "14d"}]},
            "actions": [{"prompt": "p"}], "frequency": {"cooldown": "3d"}}"#,
    );
    e.identify(None, &props(r#"{"plan": "free"}"#), T0);
    e.track("pricing_view", none(), T0 + 1);
    let x = explain(&e, "pricing", T0 + 2);
    let keys: Vec<&str> = x.as_object().unwrap().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["id", "matched", "audience", "when", "frequency"]);
    assert_eq!(x.get("id").and_then(Value::as_str), Some("pricing"));
    assert_eq!(x.get("matched"), Some(&Value::Bool(false)));
    let audience = x.get("audience").unwrap();
    assert_eq!(audience.get("op").and_then(Value::as_str), Some("condition"));
    assert_eq!(audience.get("matched"), Some(&Value::Bool(true)));
    assert_eq!(audience.get_path("actual.plan").and_then(Value::as_str), Some("free"));
    assert_eq!(audience.get_path("expected.plan").and_then(Value::as_str), Some("free"));
    let when = x.get("when").unwrap();
    assert_eq!(when.get("op").and_then(Value::as_str), Some("all"));
    assert_eq!(when.get("matched"), Some(&Value::Bool(false)));
    let children = when.get("children").and_then(Value::as_array).unwrap();
    assert_eq!(children.len(), 2);
    for child in children {
        assert_eq!(child.get("op").and_then(Value::as_str), Some("signal"));
        assert_eq!(child.get("matched"), Some(&Value::Bool(false)));
        assert!(child.get("signal").is_some());
    }
    assert_eq!(num(children[0].get("actual")), Some(1.0));
    assert_eq!(num(children[0].get_path("expected.$gte")), Some(2.0));
    assert_eq!(num(children[1].get("actual")), Some(0.0));
    assert_eq!(x.get("frequency"), Some(&props(r#"{"blocked": null}"#)));

    e.track("pricing_view", none(), T0 + HOUR);
    e.track("feature_used", none(), T0 + HOUR);
    let effects = e.track("feature_used", none(), T0 + DAY + HOUR);
    assert_eq!(prompts(&effects), ["p"]);
    let x = explain(&e, "pricing", T0 + DAY + 2 * HOUR);
    assert_eq!(x.get("matched"), Some(&Value::Bool(true)));
    assert_eq!(x.get_path("when.matched"), Some(&Value::Bool(true)));
    assert_eq!(x.get_path("frequency.blocked").and_then(Value::as_str), Some("cooldown"));
    assert_eq!(num(x.get_path("frequency.until")), Some((T0 + 4 * DAY + HOUR) as f64));
    assert!(e.explain("no-such-rule", T0).is_none());
}

#[test]
fn page_views_are_named_by_the_rule_sets_page_patterns() {
    let mut e = engine_with(
        r#"{"id": "pricing-revisits", "when": {"event": "page_view", "where": {"page": "pricing"},
              "count": {"$gte": 2}, "within": "7d"}},
           {"id": "billing", "trigger": {"event": "page_view", "where": {"page": "billing"}}}"#,
        r#""pages": {"pricing": "/pricing*", "billing": "/settings/billing*"}"#,
    );
    let view = |path: &str| props(&format!(r#"{{"path": "{path}"}}"#));
    assert!(fired(&e.track("page_view", view("/pricing"), T0)).is_empty());
    assert!(fired(&e.track("page_view", view("/docs/pricing"), T0 + 1)).is_empty());
    assert_eq!(fired(&e.track("page_view", view("/pricing/teams"), T0 + 2)), ["pricing-revisits"]);
    let effects = e.track("page_view", view("/settings/billing?plan=pro"), T0 + 3);
    assert_eq!(fired(&effects), ["billing"]);
    let payload = effects.iter().find_map(|e| match e {
        Effect::Qualified(p) => Some(p),
        _ => None,
    });
    assert_eq!(
        payload.unwrap().get_path("event.props.page").and_then(Value::as_str),
        Some("billing")
    );
    // A page the app names itself is kept.
    let named = props(r#"{"path": "/docs", "page": "billing"}"#);
    assert_eq!(fired(&e.track("page_view", named, T0 + 4)), ["billing"]);
}

#![cfg(not(target_arch = "wasm32"))]
//! The engine as a product manager sees it: rule sets in, `qualified` / `prompt` / `beacon`
//! effects out, driven by a fake clock (every call takes `now`).

use pqlkit::duration::{Millis, DAY, HOUR, MINUTE};
use pqlkit::engine::{
    Effect, Engine, Expected, ExplainNode, ExplainOp, Explanation, PromptOutcome, Qualified,
};
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
            Effect::Qualified(Qualified { rule: Some(firing), .. }) => Some(firing.id.clone()),
            _ => None,
        })
        .collect()
}

/// The score-reason `qualified` effects.
fn score_qualified(effects: &[Effect]) -> Vec<&Qualified> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Qualified(q) if q.rule.is_none() => Some(q),
            _ => None,
        })
        .collect()
}

/// Ids of the prompts issued.
fn prompts(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Prompt(p) => Some(p.id.clone()),
            _ => None,
        })
        .collect()
}

/// Types of the beacons queued.
fn beacons(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Beacon(b) => Some(b.kind.clone()),
            _ => None,
        })
        .collect()
}

/// The keys of a JSON object, in order.
fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().iter().map(|(k, _)| k.as_str()).collect()
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
    engine.score().score
}

fn explain<'a>(engine: &'a Engine, id: &str, now: Millis) -> Explanation<'a> {
    engine.explain(id, now).expect("a known rule")
}

/// The measured value of a rule whose `when` is one signal.
fn when_actual(engine: &Engine, id: &str, now: Millis) -> Option<f64> {
    explain(engine, id, now).when.as_ref().and_then(ExplainNode::actual).and_then(Value::as_f64)
}

/// The limit that holds a rule's prompt back, and until when.
fn blocked(engine: &Engine, id: &str, now: Millis) -> Option<(&'static str, Option<Millis>)> {
    explain(engine, id, now).frequency.map(|b| (b.reason, b.until))
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
    assert!(!explain(&e, "clicks", T0 + 3 * HOUR).matched());
    assert!(!e.score().rules[0].matched);
    // True again: fires again.
    assert!(fired(&e.track("click", none(), T0 + 4 * HOUR)).is_empty());
    assert_eq!(fired(&e.track("click", none(), T0 + 4 * HOUR + MINUTE)), ["clicks"]);
}

#[test]
fn windows_that_lose_buckets_leave_every_rule_as_a_fresh_evaluation_finds_it() {
    // Rules sharing windows (one counter per event and window), with comparisons of every
    // shape: a bucket leaving a window re-evaluates only the rules it flips, and an event only
    // the rules its counts flip, so each rule's held truth must still be what evaluating it
    // from scratch says, after every call, whenever the calls come.
    let compares = [
        r#"{"$gte": 3}"#,
        r#"{"$lt": 2}"#,
        r#"{"$eq": 4}"#,
        r#"{"$ne": 1}"#,
        r#"{"$in": [1, 5]}"#,
        r#"{"$gt": 1, "$lte": 6}"#,
    ];
    let windows = ["90s", "1h", "24h", "7d"];
    let mut rules = Vec::new();
    for (w, within) in windows.iter().enumerate() {
        for (c, compare) in compares.iter().enumerate() {
            let event = ["a", "b"][(w + c) % 2];
            rules.push(format!(
                r#"{{"id": "count-{w}-{c}", "when": {{"event": "{event}", "count": {compare}, "within": "{within}"}}}}"#
            ));
            rules.push(format!(
                r#"{{"id": "days-{w}-{c}", "when": {{"any": [{{"event": "b", "distinctDays": {compare}, "within": "{within}"}}, {{"not": {{"sessions": {compare}, "within": "{within}"}}}}]}}}}"#
            ));
        }
        rules.push(format!(
            r#"{{"id": "sum-{w}", "when": {{"all": [{{"event": "a", "sum": "n", "value": {{"$gte": 5}}, "within": "{within}"}}, {{"event": "b", "count": {{"$lt": 3}}, "within": "{within}"}}]}}}}"#
        ));
    }
    let ids: Vec<String> =
        (0..rules.len()).map(|i| rules[i].split('"').nth(3).expect("an id").to_string()).collect();
    let mut e = engine(&rules.join(","));
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let mut t = T0;
    for step in 0..3000 {
        // Gaps from a second to days: bursts, windows half emptied, windows emptied whole.
        t += [1_000, 20_000, 10 * MINUTE, 3 * HOUR, 2 * DAY][next(5) as usize]
            * (1 + next(3) as i64);
        match next(4) {
            0 => drop(e.advance(t)),
            1 => drop(run_until(&mut e, t)),
            _ => {
                let name = if next(2) == 0 { "a" } else { "b" };
                drop(e.track(name, props(&format!(r#"{{"n": {}}}"#, next(4))), t));
            }
        }
        for (r, id) in ids.iter().enumerate() {
            assert_eq!(
                e.matched()[r],
                explain(&e, id, t).matched(),
                "rule {id} after step {step} at {t}"
            );
        }
    }
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
    let firing = effects.iter().find_map(|e| match e {
        Effect::Qualified(Qualified { rule: Some(firing), .. }) => Some(firing),
        _ => None,
    });
    let event = firing.unwrap().event.as_ref().expect("the trigger event");
    assert_eq!(event.name, "limit_hit");
    assert_eq!(event.props.get("limit").and_then(Value::as_str), Some("projects"));
    // The prompt's template reads the trigger event.
    let prompt = effects.iter().find_map(|e| match e {
        Effect::Prompt(p) => Some(p),
        _ => None,
    });
    assert_eq!(prompt.unwrap().title, "Hi projects");
    // What the host receives: `[{ type, payload }, ...]`, the payloads' keys in this order.
    let listed = parse(&Effect::list_json(&effects)).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), effects.len());
    for (item, effect) in listed.iter().zip(&effects) {
        assert_eq!(keys(item), ["type", "payload"]);
        assert_eq!(item.get("type").and_then(Value::as_str), Some(effect.kind()));
    }
    let payload = listed[0].get("payload").unwrap();
    assert_eq!(
        keys(payload),
        [
            "reason",
            "rule",
            "kind",
            "ruleScore",
            "signals",
            "event",
            "timestamp",
            "score",
            "tier",
            "qualified"
        ]
    );
    assert_eq!(payload.get("kind").and_then(Value::as_str), Some("usage"));
    assert_eq!(
        payload.get_path("event.props.limit").as_deref().and_then(Value::as_str),
        Some("projects")
    );
    assert_eq!(num(payload.get_path("signals.when").as_deref()), Some(2.0));
    let payload = listed[1].get("payload").unwrap();
    assert_eq!(
        keys(payload),
        ["rule", "id", "style", "slot", "title", "body", "priority", "event"]
    );
    assert_eq!(payload.get("title").and_then(Value::as_str), Some("Hi projects"));
    assert_eq!(payload.get("slot"), Some(&Value::Null));
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
    assert_eq!(beacon.user_id.as_deref(), Some("u1"));
    assert_eq!(beacon.account_id.as_deref(), Some("acme"));
    assert_eq!(beacon.anonymous_id, "anon-1");
    assert_eq!(beacon.rule.as_deref(), Some("fit"));
    let sent = parse(&Effect::list_json(&effects)).unwrap();
    let sent = sent.as_array().unwrap().iter().find_map(|e| e.get("payload")?.get("sdkVersion"));
    assert_eq!(sent.and_then(Value::as_str), Some(pqlkit::engine::SDK_VERSION));
    assert_eq!(score_of(&e), 10.0);
    // Upgrading leaves the audience; coming back fires again.
    assert!(fired(&e.identify(None, &props(r#"{"plan": "pro"}"#), T0 + 4)).is_empty());
    assert_eq!(score_of(&e), 0.0);
    let x = explain(&e, "fit", T0 + 4);
    let audience = x.audience.as_ref().unwrap();
    assert!(!audience.matched);
    let actual = audience.actual().unwrap();
    assert_eq!(actual.get("plan").and_then(Value::as_str), Some("pro"));
    assert_eq!(num(actual.get("account.company_size")), Some(50.0));
    assert_eq!(fired(&e.identify(None, &props(r#"{"plan": "trial"}"#), T0 + 5)), ["fit"]);
}

#[test]
fn identify_and_group_re_evaluate_what_reads_the_changed_attributes() {
    let mut e = engine(
        r#"{"id": "pro", "score": 1,
            "when": {"all": [{"traits": {"plan": "pro"}}, {"event": "x", "count": 1}]}},
           {"id": "admin", "score": 2, "when": {"traits": {"role": {"$regex": "^adm"}}}},
           {"id": "big", "score": 4, "audience": {"account.company_size": {"$gte": 10}},
            "when": {"traits": {"$or": [{"plan": "pro"}, {"seats": {"$gt": 3}}]}}},
           {"id": "named", "score": 8, "when": {"traits": {"id": {"$exists": true}}}}"#,
    );
    let matched = |e: &Engine| e.score().rules.iter().map(|r| r.matched).collect::<Vec<_>>();
    e.track("x", none(), T0);
    assert_eq!(matched(&e), [false, false, false, false]);
    assert_eq!(fired(&e.identify(None, &props(r#"{"plan": "pro"}"#), T0 + 1)), ["pro"]);
    assert_eq!(fired(&e.identify(None, &props(r#"{"role": "admin"}"#), T0 + 2)), ["admin"]);
    assert_eq!(score_of(&e), 3.0);
    assert!(e.identify(None, &props(r#"{"role": "admin", "plan": "pro"}"#), T0 + 3).is_empty());
    assert_eq!(score_of(&e), 3.0, "the same traits again change nothing");
    assert_eq!(fired(&e.group(Some("acme"), &props(r#"{"company_size": 20}"#), T0 + 4)), ["big"]);
    assert_eq!(matched(&e), [true, true, true, false]);
    // Leaving "pro" drops the first rule; "big" still holds through its other branch.
    e.identify(None, &props(r#"{"plan": "free", "seats": 4}"#), T0 + 5);
    assert_eq!(matched(&e), [false, true, true, false]);
    assert_eq!(score_of(&e), 6.0);
    assert_eq!(fired(&e.identify(Some("u1"), &none(), T0 + 6)), ["named"]);
    e.group(None, &props(r#"{"company_size": 3}"#), T0 + 7);
    assert_eq!(matched(&e), [false, true, false, true]);
    assert_eq!(score_of(&e), 10.0);
    // A trait named like a derived attribute is shadowed by it, as before.
    e.identify(None, &props(r#"{"id": null, "account": 1, "role": "x"}"#), T0 + 8);
    assert_eq!(matched(&e), [false, false, false, true]);
    let x = explain(&e, "big", T0 + 8);
    assert_eq!(num(x.audience.unwrap().actual().unwrap().get("account.company_size")), Some(3.0));
}

#[test]
fn a_traits_condition_holds_when_all_its_keys_do_whichever_changed_last() {
    // Each key is tested again only when its attribute changes: the other keys keep their truth.
    let mut e = engine(
        r#"{"id": "fit", "score": 1,
            "when": {"traits": {"plan": "pro", "seats": {"$gt": 3},
                                "$or": [{"role": "admin"}, {"title": {"$regex": "Head"}}]}}}"#,
    );
    let holds = |e: &Engine| e.score().rules[0].matched;
    e.identify(None, &props(r#"{"plan": "pro", "seats": 2, "role": "admin"}"#), T0);
    assert!(!holds(&e), "seats fails");
    assert_eq!(fired(&e.identify(None, &props(r#"{"seats": 4}"#), T0 + 1)), ["fit"]);
    e.identify(None, &props(r#"{"role": "member"}"#), T0 + 2);
    assert!(!holds(&e), "neither role nor title");
    assert_eq!(fired(&e.identify(None, &props(r#"{"title": "Head of Sales"}"#), T0 + 3)), ["fit"]);
    e.identify(None, &props(r#"{"plan": "free", "seats": 1}"#), T0 + 4);
    assert!(!holds(&e), "two keys fail");
    e.identify(None, &props(r#"{"plan": "pro"}"#), T0 + 5);
    assert!(!holds(&e), "seats still fails");
    assert_eq!(fired(&e.identify(None, &props(r#"{"seats": 9}"#), T0 + 6)), ["fit"]);
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
    assert_eq!(when_actual(&e, "regular", T0 + DAY - MINUTE), Some(1.0));
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
    assert_eq!(when_actual(&e, "exports", T0 + 5), Some(100.0));
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
    assert_eq!(when_actual(&e, "returning", t), Some(1.0));
    t += 30 * MINUTE;
    assert!(fired(&e.track("visit", none(), t)).is_empty());
    assert_eq!(when_actual(&e, "returning", t), Some(2.0));
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
    assert_eq!(when_actual(&e, "seats", T0 + 2), Some(0.8));
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
    assert_eq!(when_actual(&e, "week-old", T0 + 7 * DAY + HOUR), Some(7.0));
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
    assert_eq!(blocked(&e, "r", T0 + 10 * DAY), Some(("maxShows", None)));
}

#[test]
fn snooze_on_dismiss_holds_the_prompt_after_a_dismissal() {
    let mut e = export_rule(r#"{"snoozeOnDismiss": "7d"}"#);
    assert_eq!(prompts(&e.track("export", none(), T0)), ["p"]);
    let effects = e.prompt_outcome(Some("r"), "p", PromptOutcome::Dismissed, T0 + MINUTE);
    assert_eq!(beacons(&effects), ["prompt_dismissed"]);
    assert!(prompts(&e.track("export", none(), T0 + DAY)).is_empty());
    assert_eq!(blocked(&e, "r", T0 + DAY), Some(("snoozed", Some(T0 + MINUTE + 7 * DAY))));
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
    assert_eq!(blocked(&e, "b", T0 + 5 * MINUTE), Some(("maxPerSession", None)));
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
    assert_eq!(blocked(&e, "b", T0 + 30 * MINUTE), Some(("minInterval", Some(T0 + HOUR))));
    assert_eq!(prompts(&e.track("b", none(), T0 + HOUR)), ["p2"]);
}

// ---------------------------------------------------------------------------------------------
// Score

#[test]
fn without_a_threshold_a_rule_firing_qualifies_the_user_until_reset() {
    let mut e = engine(r#"{"id": "a", "when": {"event": "a", "count": 1, "within": "1h"}}"#);
    assert!(!e.score().qualified);
    let effects = e.track("a", none(), T0);
    assert_eq!(fired(&effects), ["a"]);
    let Some(Effect::Qualified(q)) = effects.first() else { panic!("{effects:?}") };
    assert!(q.qualified, "the payload says the user is qualified");
    assert!(e.score().qualified);
    // A lead stays a lead once a rule defining one fired, as the score's flag stays up while
    // the score holds: the window passing does not unqualify.
    run_until(&mut e, T0 + 3 * HOUR);
    assert!(e.score().qualified);
    e.reset("anon-2");
    assert!(!e.score().qualified);
}

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
    assert_eq!(fired(&effects), ["a"]);
    let Some(Effect::Qualified(firing)) = effects.first() else { panic!("{effects:?}") };
    assert!(!firing.qualified, "a rule below the threshold does not qualify the user");
    let s = e.score();
    assert_eq!((s.score, s.tier, s.qualified), (30.0, Some("warm"), false));

    let effects = e.track("b", none(), T0 + 30 * MINUTE);
    let qualified = score_qualified(&effects);
    assert_eq!(qualified.len(), 1);
    assert_eq!(
        (qualified[0].score, qualified[0].tier.as_deref(), qualified[0].qualified),
        (70.0, Some("hot"), true)
    );
    assert_eq!(qualified[0].timestamp, T0 + 30 * MINUTE);
    assert_eq!(beacons(&effects), ["pql"]);
    // The rule's own firing (`rule:fired` in the facade) carries the score too.
    let rule = effects.iter().find_map(|e| match e {
        Effect::Qualified(q) if q.rule.as_ref().is_some_and(|f| f.id == "b") => Some(q),
        _ => None,
    });
    assert_eq!((rule.unwrap().score, rule.unwrap().qualified), (70.0, true));

    // More activity while qualified: no second qualification.
    for i in 1..5 {
        let effects = e.track("b", none(), T0 + 30 * MINUTE + i);
        assert!(score_qualified(&effects).is_empty());
        assert!(beacons(&effects).is_empty());
    }
    // `a` expires: 40 < 60.
    let effects = run_until(&mut e, T0 + 62 * MINUTE);
    assert!(score_qualified(&effects).is_empty());
    assert_eq!((e.score().score, e.score().qualified), (40.0, false));
    // And back: qualifies again, once.
    let effects = e.track("a", none(), T0 + 70 * MINUTE);
    assert_eq!(score_qualified(&effects).len(), 1);
    assert_eq!(beacons(&effects), ["pql"]);
    // Everything expires: score 0, no tier.
    run_until(&mut e, T0 + 5 * HOUR);
    let s = e.score();
    assert_eq!((s.score, s.tier), (0.0, None));
    assert_eq!(
        e.score_json(),
        r#"{"score":0,"tier":null,"qualified":false,"rules":[{"id":"a","matched":false,"score":0},{"id":"b","matched":false,"score":0}]}"#
    );
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
    let written = parse(&x.to_json()).unwrap();
    assert_eq!(keys(&written), ["id", "matched", "audience", "when", "frequency"]);
    assert_eq!(e.explain_json("pricing", T0 + 2), Some(x.to_json()));
    assert_eq!(x.id, "pricing");
    assert!(!x.matched());
    let audience = x.audience.as_ref().unwrap();
    assert_eq!(audience.op_name(), "condition");
    assert!(audience.matched);
    assert_eq!(audience.actual().and_then(|a| a.get("plan")).and_then(Value::as_str), Some("free"));
    assert_eq!(audience.expected(), Some(Expected::Condition(&props(r#"{"plan": "free"}"#))));
    let when = x.when.as_ref().unwrap();
    assert_eq!(when.op_name(), "all");
    assert!(!when.matched);
    let children = when.children();
    assert_eq!(children.len(), 2);
    for child in children {
        assert_eq!(child.op_name(), "signal");
        assert!(!child.matched);
        assert!(matches!(child.op, ExplainOp::Signal { .. }));
    }
    assert_eq!(num(children[0].actual()), Some(1.0));
    let Some(Expected::Condition(expected)) = children[0].expected() else { panic!() };
    assert_eq!(num(expected.get("$gte")), Some(2.0));
    assert_eq!(num(children[1].actual()), Some(0.0));
    assert_eq!(x.frequency, None);
    assert_eq!(written.get("frequency"), Some(&props(r#"{"blocked": null}"#)));
    assert_eq!(
        written.get_path("when.children").as_deref().and_then(Value::as_array).map(|c| keys(&c[0])),
        Some(vec!["op", "matched", "signal", "actual", "expected"])
    );

    e.track("pricing_view", none(), T0 + HOUR);
    e.track("feature_used", none(), T0 + HOUR);
    let effects = e.track("feature_used", none(), T0 + DAY + HOUR);
    assert_eq!(prompts(&effects), ["p"]);
    let x = explain(&e, "pricing", T0 + DAY + 2 * HOUR);
    assert!(x.matched());
    assert!(x.when.as_ref().unwrap().matched);
    let frequency = x.frequency.as_ref().unwrap();
    assert_eq!((frequency.reason, frequency.until), ("cooldown", Some(T0 + 4 * DAY + HOUR)));
    let written = parse(&x.to_json()).unwrap();
    assert_eq!(written.get("matched"), Some(&Value::Bool(true)));
    assert_eq!(
        num(written.get_path("frequency.until").as_deref()),
        Some((T0 + 4 * DAY + HOUR) as f64)
    );
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
    let event = effects.iter().find_map(|e| match e {
        Effect::Qualified(Qualified { rule: Some(firing), .. }) => firing.event.as_ref(),
        _ => None,
    });
    assert_eq!(event.unwrap().props.get("page").and_then(Value::as_str), Some("billing"));
    // A page the app names itself is kept.
    let named = props(r#"{"path": "/docs", "page": "billing"}"#);
    assert_eq!(fired(&e.track("page_view", named, T0 + 4)), ["billing"]);
}

#![cfg(not(target_arch = "wasm32"))]
//! Saved state: a reload continues exactly where the page left off, corrupt or foreign state is
//! refused without harm, edited rules keep the history of what did not change, and the state
//! stays small however many events it has seen.

mod support;

use pqlkit::duration::{Millis, DAY, HOUR, MINUTE};
use pqlkit::engine::{Effect, Engine, ExplainNode};
use pqlkit::json::{parse, Value};
use pqlkit::rules::parse_rule_set_json;
use support::NativeRegex;

/// Midnight UTC, 2024-01-01.
const T0: Millis = 19_723 * DAY;

const RULES: &str = r#"{
  "version": 1,
  "pages": { "pricing": "/pricing*" },
  "rules": [
    { "id": "pricing", "kind": "intent", "audience": { "plan": "free" },
      "when": { "event": "page_view", "where": { "page": "pricing" }, "count": 2, "within": "7d" },
      "score": 30, "actions": [{ "prompt": "talk" }], "frequency": { "cooldown": "3d" } },
    { "id": "exports", "kind": "feature",
      "when": { "event": "feature_used", "where": { "feature": "export" }, "distinctDays": 2, "within": "14d" },
      "score": 40 },
    { "id": "abandon", "kind": "intent",
      "when": { "event": "upgrade_started", "notFollowedBy": { "event": "upgrade_completed" }, "within": "1h" },
      "score": 10, "actions": [{ "beacon": "abandoned-upgrade" }] }
  ],
  "scoring": { "threshold": 60, "tiers": { "warm": 30, "hot": 60 } },
  "prompts": { "talk": { "style": "toast", "title": "Comparing plans?" } }
}"#;

fn engine(rules: &str) -> Engine {
    let rule_set = parse_rule_set_json(rules, &NativeRegex).expect("valid rules");
    Engine::new(rule_set, Box::new(NativeRegex), "anon-1", 7)
}

fn props(text: &str) -> Value {
    parse(text).unwrap()
}

/// Effects as the host receives them, without beacon ids (random per engine), for comparing
/// two engines.
fn comparable(effects: Vec<Effect>) -> Vec<String> {
    effects
        .into_iter()
        .map(|mut e| {
            if let Effect::Beacon(b) = &mut e {
                b.id = 0;
            }
            let mut json = String::new();
            e.write_json(&mut json);
            json
        })
        .collect()
}

fn warm_up(e: &mut Engine) {
    e.identify(Some("u1"), &props(r#"{"plan":"free"}"#), T0);
    e.track("page_view", props(r#"{"path":"/pricing"}"#), T0 + MINUTE);
    e.track("feature_used", props(r#"{"feature":"export"}"#), T0 + HOUR);
    e.track("upgrade_started", props("{}"), T0 + 2 * HOUR);
}

#[test]
fn a_reload_continues_exactly_where_it_left_off() {
    let mut original = engine(RULES);
    warm_up(&mut original);
    let saved = original.save_state();

    let mut reloaded = engine(RULES);
    reloaded.load_state(&saved, T0 + 2 * HOUR + MINUTE).unwrap();
    assert_eq!(reloaded.save_state(), saved, "saving again gives the same state");

    // Both engines see the same future and must react identically.
    let script: [(&str, &str, Millis); 4] = [
        ("page_view", r#"{"path":"/pricing/teams"}"#, T0 + DAY),
        ("feature_used", r#"{"feature":"export"}"#, T0 + DAY + HOUR),
        ("page_view", r#"{"path":"/pricing"}"#, T0 + 5 * DAY),
        ("page_view", r#"{"path":"/pricing"}"#, T0 + 9 * DAY),
    ];
    let mut a_all = Vec::new();
    let mut b_all = Vec::new();
    for (name, p, t) in script {
        let a = comparable(original.track(name, props(p), t));
        let b = comparable(reloaded.track(name, props(p), t));
        assert_eq!(a, b, "{name} at {t}");
        a_all.extend(a);
        b_all.extend(b);
    }
    assert!(a_all.iter().any(|e| e.contains(r#""type":"prompt""#)), "the script shows the prompt");
    assert!(a_all.iter().any(|e| e.contains(r#""reason":"score""#)), "the script qualifies");
    assert_eq!(original.score(), reloaded.score());
    for id in ["pricing", "exports", "abandon"] {
        assert_eq!(original.explain(id, T0 + 9 * DAY), reloaded.explain(id, T0 + 9 * DAY));
    }
}

#[test]
fn a_deadline_that_passed_while_the_page_was_closed_fires_on_load() {
    let mut e = engine(RULES);
    warm_up(&mut e);
    let saved = e.save_state();
    let mut later = engine(RULES);
    // The tab was closed for a day: the 1h abandonment window ended meanwhile.
    let now = T0 + DAY;
    later.load_state(&saved, now).unwrap();
    assert_eq!(later.next_deadline(), Some(now), "every rule is re-checked at once");
    let effects = later.advance(now);
    let beacons: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Beacon(b) => Some(b.kind.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(beacons, ["abandoned-upgrade"]);
}

#[test]
fn corrupt_or_foreign_state_is_refused_and_changes_nothing() {
    let mut e = engine(RULES);
    warm_up(&mut e);
    let before = e.save_state();
    let valid = parse(&before).unwrap();
    let mut wrong_version = valid.clone();
    wrong_version.insert("v", Value::Number(99.0));
    let mut bad_counter = valid.clone();
    bad_counter.insert("global", parse(r#"[-1, 0, 0, null]"#).unwrap());
    let mut bad_signal = valid.clone();
    if let Some(Value::Object(signals)) = bad_signal.get("signals").cloned() {
        let mut broken = Value::Object(signals);
        if let Value::Object(entries) = &mut broken {
            entries[0].1 = parse(r#"[1, "not a state"]"#).unwrap();
        }
        bad_signal.insert("signals", broken);
    }
    let hash_ok_state_bad = {
        let mut v = valid.clone();
        let key_and_hash = v
            .get("signals")
            .and_then(Value::as_object)
            .and_then(|s| s.first())
            .map(|(k, val)| (k.clone(), val.as_array().unwrap()[0].clone()))
            .unwrap();
        let mut signals = v.get("signals").unwrap().clone();
        signals.insert(
            &key_and_hash.0,
            Value::Array(vec![key_and_hash.1, parse(r#"[21600000, 81636, -3]"#).unwrap()]),
        );
        v.insert("signals", signals);
        v
    };
    for bad in [
        String::new(),
        "garbage".to_string(),
        "[]".to_string(),
        r#"{"some":"other app's data"}"#.to_string(),
        wrong_version.to_json(),
        bad_counter.to_json(),
        hash_ok_state_bad.to_json(),
        before[..before.len() / 2].to_string(),
    ] {
        assert!(e.load_state(&bad, T0 + DAY).is_err(), "accepted {bad}");
        assert_eq!(e.save_state(), before, "a refused load left traces: {bad}");
    }
    // A mismatching fingerprint is not corruption: that signal restarts.
    assert!(e.load_state(&bad_signal.to_json(), T0 + DAY).is_ok());
}

#[test]
fn editing_one_rule_keeps_the_history_of_the_others() {
    let mut e = engine(RULES);
    warm_up(&mut e);
    e.track("page_view", props(r#"{"path":"/pricing"}"#), T0 + 3 * HOUR);
    let saved = e.save_state();
    // The PM raises the pricing threshold and renames nothing else.
    let edited = RULES.replace(r#""count": 2, "within": "7d""#, r#""count": 3, "within": "7d""#);
    let mut reloaded = engine(&edited);
    reloaded.load_state(&saved, T0 + 4 * HOUR).unwrap();
    reloaded.advance(T0 + 4 * HOUR);
    let pricing = reloaded.explain("pricing", T0 + 4 * HOUR).unwrap();
    let exports = reloaded.explain("exports", T0 + 4 * HOUR).unwrap();
    let actual =
        |x: &pqlkit::engine::Explanation| x.when.as_ref().and_then(ExplainNode::actual).cloned();
    assert_eq!(actual(&pricing), Some(Value::Number(0.0)), "changed signal restarts");
    assert_eq!(actual(&exports), Some(Value::Number(1.0)), "unchanged signal keeps its day");
}

#[test]
fn a_new_rule_counting_what_another_counts_starts_with_its_history() {
    let mut e = engine(RULES);
    warm_up(&mut e);
    let saved = e.save_state();
    // The PM adds a rule over the same pricing views, with a lower bar, and one over views of
    // another page: the first shares the counter the saved state has, the second starts afresh.
    let added = r#"{ "id": "pricing-once", "when": { "event": "page_view", "where": { "page": "pricing" }, "count": 1, "within": "7d" }, "score": 5 },
    { "id": "docs-once", "when": { "event": "page_view", "where": { "page": "docs" }, "count": 1, "within": "7d" }, "score": 5 },
    { "id": "exports","#;
    let edited = RULES.replacen(r#"{ "id": "exports","#, added, 1);
    let mut reloaded = engine(&edited);
    reloaded.load_state(&saved, T0 + 3 * HOUR).unwrap();
    reloaded.advance(T0 + 3 * HOUR);
    let actual = |e: &Engine, id: &str, now: Millis| {
        let explanation = e.explain(id, now).unwrap();
        (explanation.when.as_ref().and_then(ExplainNode::actual).cloned(), explanation.matched())
    };
    let now = T0 + 3 * HOUR;
    let counted = Some(Value::Number(1.0));
    assert_eq!(actual(&reloaded, "pricing-once", now), (counted.clone(), true), "shares the count");
    let fresh = Some(Value::Number(0.0));
    assert_eq!(actual(&reloaded, "docs-once", now), (fresh, false), "counts anew");
    assert_eq!(actual(&reloaded, "pricing", now), (counted, false), "keeps its own bar");
    // One more pricing view moves both rules that count it, each against its own comparison.
    reloaded.track("page_view", props(r#"{"path":"/pricing"}"#), T0 + 4 * HOUR);
    let now = T0 + 4 * HOUR;
    assert_eq!(actual(&reloaded, "pricing", now), (Some(Value::Number(2.0)), true));
    let saved_again = reloaded.save_state();
    assert!(saved_again.contains(r#""pricing-once/when":["#), "each signal keeps its own key");
}

#[test]
fn reset_forgets_the_user_counters_and_caps() {
    let mut e = engine(RULES);
    warm_up(&mut e);
    e.track("page_view", props(r#"{"path":"/pricing"}"#), T0 + 3 * HOUR);
    assert!(e.score().score > 0.0);
    e.reset("anon-2");
    let fresh = engine(RULES);
    let mut expected = parse(&fresh.save_state()).unwrap();
    expected.insert("anon", "anon-2".into());
    assert_eq!(parse(&e.save_state()).unwrap(), expected);
    // The traits went too: the free-plan audience no longer admits the anonymous user.
    for t in [T0 + DAY, T0 + DAY + MINUTE] {
        let effects = comparable(e.track("page_view", props(r#"{"path":"/pricing"}"#), t));
        assert!(effects.iter().all(|e| !e.contains(r#""rule":"pricing""#)), "{effects:?}");
    }
    // Rules without an audience still admit everyone.
    e.track("feature_used", props(r#"{"feature":"export"}"#), T0 + DAY);
    let effects =
        comparable(e.track("feature_used", props(r#"{"feature":"export"}"#), T0 + 2 * DAY));
    assert!(effects.iter().any(|e| e.contains(r#""rule":"exports""#)), "{effects:?}");
    // Identified again on the free plan, the two views count: the rule fires at once.
    let effects =
        comparable(e.identify(Some("u1"), &props(r#"{"plan":"free"}"#), T0 + 2 * DAY + MINUTE));
    assert!(effects.iter().any(|e| e.contains(r#""rule":"pricing""#)), "{effects:?}");
}

#[test]
fn state_stays_under_64_kb_after_a_million_events() {
    // 20 rules over 50 event names and 200 property values, every window size in use.
    let windows = ["90s", "30m", "24h", "7d", "14d", "30d"];
    let mut rules = Vec::new();
    for i in 0..20 {
        let name = format!("event_{}", i % 50);
        let within = windows[i % windows.len()];
        let when = match i % 4 {
            0 => format!(
                r#"{{"event":"{name}","where":{{"item":{{"$in":["v1","v2","v3"]}}}},"count":5,"within":"{within}"}}"#
            ),
            1 => format!(r#"{{"event":"{name}","distinctDays":3,"within":"14d"}}"#),
            2 => format!(r#"{{"event":"{name}","sum":"amount","value":100,"within":"{within}"}}"#),
            _ => format!(
                r#"{{"event":"{name}","notFollowedBy":{{"event":"event_{}"}},"within":"1h"}}"#,
                (i + 1) % 50
            ),
        };
        rules.push(format!(r#"{{"id":"r{i}","when":{when},"score":5}}"#));
    }
    let text =
        format!(r#"{{"version":1,"rules":[{}],"scoring":{{"threshold":50}}}}"#, rules.join(","));
    let mut e = engine(&text);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut t = T0;
    for _ in 0..1_000_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t += (x % 5_000) as Millis; // 1M events over ~29 days
        let name = format!("event_{}", x % 50);
        let p = format!(r#"{{"item":"v{}","amount":{}}}"#, (x >> 8) % 200, (x >> 16) % 10);
        e.track(&name, parse(&p).unwrap(), t);
    }
    let bytes = e.save_state().len();
    println!("state after 1,000,000 events (20 rules, 50 names, 200 values): {bytes} bytes");
    assert!(bytes <= 64 * 1024, "{bytes} bytes");
}

#[test]
fn a_state_saved_from_a_clock_gone_wrong_loads_again() {
    // Found by tests/fuzz.rs: the host's clock reaches the core through a saturating
    // `f64 as i64`, so `now: () => -Infinity` (or 1e20) puts the ends of i64 into the state;
    // the state was then refused on the next load, and all of it was lost.
    for now in [i64::MIN, i64::MAX, -9_000_000_000_000_000] {
        let mut original = engine(RULES);
        original.track("page_view", props(r#"{"path":"/pricing"}"#), now);
        let saved = original.save_state();
        let mut reloaded = engine(RULES);
        assert_eq!(reloaded.load_state(&saved, now), Ok(()), "{saved}");
        assert_eq!(reloaded.save_state(), saved);
    }
}

/// A state in the layout main wrote before saving became one walk (56478e8; saving it again
/// there gives the same text), with usage and prompt history filled in: users have it in
/// localStorage, so it must load, and saving again must give it back byte for byte.
const STATE_OF_56478E8: &str = r#"{"v":1,"anon":"anon-1","user":"u1","traits":{"plan":"free"},"account":"acme","accountTraits":{"size":12},"firstSeen":1704067260000,"lastActivity":1704078000000,"usage":[["seats",0.8]],"global":[1,19723,1,1704070000000],"qualified":false,"rules":{"pricing":[false,1,1704070000000,1,1704078000000],"exports":[false,0,null,0,null],"abandon":[true,0,null,0,null]},"signals":{"pricing/when":[1540775057,[21600000,78892,1]],"exports/when":[1214688715,[86400000,19723,1]],"abandon/when":[731963231,[1704074400000,false]]}}"#;

#[test]
fn a_state_saved_by_the_previous_release_loads_and_saves_back_unchanged() {
    let mut e = engine(RULES);
    assert_eq!(e.load_state(STATE_OF_56478E8, T0 + 3 * HOUR), Ok(()));
    assert_eq!(e.save_state(), STATE_OF_56478E8);
    // The "abandon" rule holds (score 10) and its pending follow-up is remembered: the
    // upgrade completing now ends it.
    assert_eq!(e.score().score, 10.0);
    e.track("upgrade_completed", props("{}"), T0 + 3 * HOUR + MINUTE);
    assert!(e.save_state().contains(r#""abandon/when":[731963231,[1704074400000,true]]"#));
}

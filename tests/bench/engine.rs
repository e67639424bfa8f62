//! Engine throughput: `cargo bench --bench engine`.
//!
//! Generates rule sets of 10, 100 and 1000 rules (count / distinctDays / sum / notFollowedBy
//! signals over 50 event names, `where` on a property with 200 distinct values, some audiences
//! and triggers), then replays the same 200,000 events spread over 60 simulated days through
//! each. Prints one line per figure, ready to paste into a README. No dependencies: a fixed
//! xorshift generator makes every run replay the same events.

use pqlkit::condition::RegexEngine;
use pqlkit::duration::{Millis, DAY};
use pqlkit::engine::Engine;
use pqlkit::json::{object, Value};
use pqlkit::rules::parse_rule_set_json;
use std::hint::black_box;
use std::time::{Duration, Instant};

const EVENT_NAMES: usize = 50;
const ITEMS: usize = 200;
const EVENTS: usize = 200_000;
const DAYS: i64 = 60;
const T0: Millis = 19_723 * DAY;

/// Rule sets here use no `$regex`.
struct NoRegex;

impl RegexEngine for NoRegex {
    fn is_valid(&self, _: &str, _: &str) -> bool {
        true
    }

    fn is_match(&self, _: &str, _: &str, _: &str) -> bool {
        false
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn signal(kind: usize, rng: &mut Rng) -> String {
    let event = rng.below(EVENT_NAMES);
    let item = rng.below(ITEMS);
    match kind % 4 {
        0 => format!(
            r#"{{"event": "e{event}", "where": {{"item": "v{item}"}}, "count": {{"$gte": 3}}, "within": "7d"}}"#
        ),
        1 => format!(r#"{{"event": "e{event}", "distinctDays": {{"$gte": 3}}, "within": "14d"}}"#),
        2 => format!(
            r#"{{"event": "e{event}", "where": {{"item": {{"$in": ["v{item}", "v{}", "v{}"]}}}},
                "sum": "amount", "value": {{"$gte": 100}}, "within": "30d"}}"#,
            (item + 1) % ITEMS,
            (item + 2) % ITEMS
        ),
        _ => format!(
            r#"{{"event": "e{event}", "notFollowedBy": {{"event": "e{}"}}, "within": "1h"}}"#,
            (event + 1) % EVENT_NAMES
        ),
    }
}

fn rule_set(rules: usize) -> String {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ rules as u64);
    let mut out = String::from(r#"{"version": 1, "rules": ["#);
    for i in 0..rules {
        if i > 0 {
            out.push(',');
        }
        // Every third rule combines two signals.
        let when = if i % 3 == 0 {
            format!(r#"{{"all": [{}, {}]}}"#, signal(i, &mut rng), signal(i + 1, &mut rng))
        } else {
            signal(i, &mut rng)
        };
        let audience = if i % 5 == 0 {
            r#""audience": {"plan": {"$in": ["free", "trial"]}, "account.company_size": {"$gte": 10}},"#
        } else {
            ""
        };
        let trigger = if i % 10 == 9 {
            format!(r#""trigger": {{"event": "e{}"}},"#, rng.below(EVENT_NAMES))
        } else {
            String::new()
        };
        let action = if i % 2 == 0 { r#"{"prompt": "p"}"# } else { r#"{"beacon": "intent"}"# };
        out.push_str(&format!(
            r#"{{"id": "r{i}", {audience} {trigger} "when": {when}, "score": 10,
                "priority": {}, "actions": [{action}], "frequency": {{"cooldown": "1d"}}}}"#,
            i % 7
        ));
    }
    out.push_str(
        r#"], "prompts": {"p": {"style": "toast", "title": "Hi"}},
           "scoring": {"threshold": 60, "tiers": {"warm": 30, "hot": 60}},
           "onQualified": [{"beacon": "pql"}],
           "limits": {"maxPerSession": 1, "maxPerDay": 2, "minInterval": "1h"}}"#,
    );
    out
}

const RUNS: usize = 20;

/// Runs `f` RUNS times: mean and best, in milliseconds.
fn timed(mut f: impl FnMut()) -> (f64, f64) {
    let (mut best, mut total) = (Duration::MAX, Duration::ZERO);
    for _ in 0..RUNS {
        let start = Instant::now();
        f();
        let elapsed = start.elapsed();
        best = best.min(elapsed);
        total += elapsed;
    }
    (total.as_secs_f64() * 1e3 / RUNS as f64, best.as_secs_f64() * 1e3)
}

fn compile(text: &str) -> Engine {
    let rules = parse_rule_set_json(text, &NoRegex).expect("a valid generated rule set");
    Engine::new(rules, Box::new(NoRegex), "anon", 7)
}

/// The same events for every size: uniform event names and items, a few activity bursts a
/// day (so sessions split), amounts 0..50.
fn events() -> Vec<(String, Value, Millis)> {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    let span = DAYS * DAY;
    let step = span / EVENTS as i64;
    let mut t = T0;
    (0..EVENTS)
        .map(|i| {
            // Every 500 events, a 2-hour pause (a new session); otherwise a steady stream.
            t += if i % 500 == 499 { step / 2 } else { step };
            let name = format!("e{}", rng.below(EVENT_NAMES));
            let props = object([
                ("item", format!("v{}", rng.below(ITEMS)).into()),
                ("amount", Value::Number(rng.below(50) as f64)),
            ]);
            (name, props, t)
        })
        .collect()
}

/// `cargo bench --bench engine -- --sizes 100` measures some sizes only (for profiling).
fn sizes() -> Vec<usize> {
    let args: Vec<String> = std::env::args().collect();
    let chosen = args.iter().position(|a| a == "--sizes").and_then(|i| args.get(i + 1));
    chosen.map_or(vec![10, 100, 1000], |list| {
        list.split(',').filter_map(|s| s.trim().parse().ok()).collect()
    })
}

fn main() {
    let events = events();
    println!(
        "pqlkit engine benchmark ({} profile, {} events over {DAYS} days, {EVENT_NAMES} event names, {ITEMS} property values)",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        EVENTS
    );

    let big = rule_set(1000);
    let (mean, best) = timed(|| {
        black_box(compile(black_box(&big)));
    });
    println!(
        "compile 1000 rules ({} KB JSON): {mean:.2} ms mean, {best:.2} ms best of {RUNS} (parse + Engine::new)",
        big.len() / 1024
    );

    // A returning visitor's init: the state a page saved, restored into a new engine.
    let mut engine = compile(&big);
    for (name, props, t) in events.iter().take(20_000) {
        engine.track(name, props.clone(), *t);
    }
    let saved = engine.save_state();
    // Engines compiled before and dropped after the timing: only load_state is timed.
    let mut fresh: Vec<Engine> = (0..RUNS).map(|_| compile(&big)).collect();
    let mut restored = Vec::with_capacity(RUNS);
    let (mean, best) = timed(|| {
        let mut engine = fresh.pop().expect("an engine per run");
        let loaded = engine.load_state(black_box(&saved), T0 + DAYS * DAY);
        loaded.expect("the state it saved");
        restored.push(engine);
    });
    println!(
        "restore 1000 rules' saved state ({} KB JSON): {mean:.2} ms mean, {best:.2} ms best of {RUNS} (load_state)",
        saved.len() / 1024
    );

    for size in sizes() {
        let mut engine = compile(&rule_set(size));
        engine.identify(Some("u1"), &object([("plan", "free".into())]), T0);
        engine.group(Some("acme"), &object([("company_size", Value::Number(50.0))]), T0);
        let mut effects = 0usize;
        let start = Instant::now();
        for (name, props, t) in &events {
            effects += black_box(engine.track(name, props.clone(), *t)).len();
        }
        let elapsed = start.elapsed();
        let per_event = elapsed.as_nanos() as f64 / events.len() as f64;
        println!(
            "{size:>5} rules: {:>10.0} events/s, {:>8.0} ns/event ({effects} effects)",
            events.len() as f64 / elapsed.as_secs_f64(),
            per_event
        );
    }
}

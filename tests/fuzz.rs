#![cfg(not(target_arch = "wasm32"))]
//! Property-based fuzzing of everything that reads outside input (issue 13, deliverable 2):
//! rule sets, conditions, saved state, history lines, templates, JSON, durations and
//! timestamps, fed arbitrary Unicode (U+2028/U+2029, NUL, the code points around the
//! surrogate gap, long strings), arbitrary bytes, documents built from a grammar close to the
//! rule language, and mutations of valid inputs.
//!
//! The properties: nothing panics (a panic is a trap of the wasm in a page), results are
//! deterministic, a refused saved state leaves the engine as it was, JSON round-trips.
//!
//! Proptest rather than `cargo fuzz`: it runs on the stable toolchain inside `cargo test`, so
//! `npm test` and CI run it with no nightly and no separate layer, and its grammar strategies
//! reach the rule language's deep shapes that byte mutation would rarely form.
//!
//! Every target runs a fixed number of cases from a fixed seed, so the bounded run in
//! `cargo test` is the same each time (a few seconds; each target prints its count and time).
//! Longer runs: `PQLKIT_FUZZ_SCALE=200` multiplies every count, `PROPTEST_CASES=n` sets them
//! all, `PROPTEST_RNG_SEED=n` picks another seed; `--features authoring` also builds every
//! validation message. A failure is persisted in `tests/fuzz.proptest-regressions` (commit
//! it: every later run replays it first) and gets a named regression test at the end of
//! this file.

mod support;

use std::fmt::Debug;
use std::io::Write;
use std::time::Instant;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, RngSeed, TestCaseError, TestRunner,
};

use pqlkit::condition::{eval_condition, Context};
use pqlkit::duration::{parse_duration, Millis, DAY, HOUR, MINUTE};
use pqlkit::engine::{Effect, Engine, PromptOutcome};
use pqlkit::history::{last_user_start, partition_lines, text_of, Backtest, Conversions};
use pqlkit::json::{parse, Value};
use pqlkit::prompt::{parse_template, TemplateValues};
use pqlkit::rules::{parse_rule_set, parse_rule_set_json, Node, RuleSet, SignalKind};
use pqlkit::timestamp::{parse_timestamp, parse_timestamp_text};
use support::NativeRegex;

/// "pqlkit" in ASCII: the seed of the bounded run.
const SEED: u64 = 0x7071_6c6b_6974;

/// Midnight UTC, 2024-01-01.
const T0: Millis = 19_723 * DAY;

// ---- The runner ----

/// Runs `test` on `cases` values of `strategy` (scaled by the environment, see the module
/// docs), replaying the persisted failures first, and prints the count and the time past the
/// test harness's capture, so that `cargo test` output shows them.
fn fuzz<S>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S: Strategy,
    S::Value: Debug,
{
    let defaults = Config::default(); // reads the PROPTEST_* variables
    let scale = std::env::var("PQLKIT_FUZZ_SCALE").ok().and_then(|s| s.parse::<u32>().ok());
    let cases = match std::env::var_os("PROPTEST_CASES") {
        Some(_) => defaults.cases,
        None => cases.saturating_mul(scale.unwrap_or(1)),
    };
    let rng_seed = match std::env::var_os("PROPTEST_RNG_SEED") {
        Some(_) => defaults.rng_seed,
        None => RngSeed::Fixed(SEED),
    };
    let config = Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        source_file: Some(file!()),
        max_shrink_iters: 4096,
        ..defaults
    };
    let mut runner = TestRunner::new(config);
    let started = Instant::now();
    let result = runner.run(&strategy, test);
    let line = format!(
        "fuzz {name}: {cases} cases in {} ms{}\n",
        started.elapsed().as_millis(),
        if result.is_ok() { "" } else { ", FAILED" }
    );
    // Written to the process's stderr directly: `eprintln!` would be captured.
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Err(error) = result {
        panic!("fuzz {name}: {error}");
    }
}

// ---- Text and values ----

/// Characters that break text handling: line and paragraph separators, NUL and controls, the
/// last code point before the surrogate gap and the first after it, BOM, the last code point,
/// multi-byte letters whose case mapping changes length, and JSON's own punctuation.
const NASTY: &[char] = &[
    '\u{2028}',
    '\u{2029}',
    '\0',
    '\u{1}',
    '\u{1f}',
    '\u{7f}',
    '\u{85}',
    '\u{a0}',
    '\u{d7ff}',
    '\u{e000}',
    '\u{fffd}',
    '\u{feff}',
    '\u{ffff}',
    '\u{10000}',
    '\u{10ffff}',
    'é',
    'İ',
    'ß',
    'ﬃ',
    'Σ',
    '😀',
    '\n',
    '\r',
    '\t',
    ' ',
];
const PUNCTUATION: &[char] = &[
    '{', '}', '[', ']', '"', ':', ',', '.', '\\', '$', '-', '+', 'e', 'E', '0', '1', '9', 'a', 'Z',
    '_', '/', '*', '?', 'u', 'n', 't', 'f',
];

fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![5 => any::<char>(), 4 => select(NASTY), 5 => select(PUNCTUATION)]
}

fn short_text(max: usize) -> impl Strategy<Value = String> {
    vec(nasty_char(), 0..max).prop_map(String::from_iter)
}

/// Mostly short strings; now and then a long one (a piece repeated up to 4,000 times).
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        30 => short_text(16),
        1 => (short_text(6), 100..4000usize).prop_map(|(piece, n)| piece.repeat(n)),
    ]
    .boxed()
}

/// Finite numbers: arbitrary bit patterns, small integers and edge values. Below 1e308: the
/// reader's steps of 10^22 can overflow just under f64::MAX, so that 1.7976931348623157e308
/// reads back as infinity (a known limit of src/number.rs, left as it is).
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => prop::num::f64::ANY.prop_map(|n| if !n.is_finite() { 1e307 } else if n.abs() < 1e308 { n } else { n / 2.0 }),
        3 => (-100i64..100).prop_map(|n| n as f64),
        1 => select(&[
            0.0, -0.0, 0.5, 0.1, 1e21, 1e-7, 123e-20, 9_007_199_254_740_993.0, 1e307,
            -1e307, f64::MIN_POSITIVE, 5e-324, 1.5, 2.5, 4_294_967_296.0, 1e15, 1e16,
        ][..]),
    ]
}

/// A key: mostly from the rule language's vocabulary (so lookups hit), sometimes anything.
fn key() -> BoxedStrategy<String> {
    const KEYS: &[&str] = &[
        "plan",
        "v",
        "tags",
        "account",
        "company_size",
        "a",
        "b",
        "n",
        "x",
        "feature",
        "limit",
        "used",
        "page",
        "path",
        "format",
        "rule",
        "prompt",
        "length",
        "0",
        "1",
        "id",
        "$in",
        "$gte",
        "$not",
        "",
    ];
    prop_oneof![3 => select(KEYS).prop_map(String::from), 1 => short_text(8)].boxed()
}

/// An object with distinct keys (JSON.parse keeps the last of repeated keys, so an object with
/// repeated keys would not round-trip).
fn object_of(entries: Vec<(String, Value)>) -> Value {
    let mut out: Vec<(String, Value)> = Vec::new();
    for (k, v) in entries {
        if !out.iter().any(|(seen, _)| *seen == k) {
            out.push((k, v));
        }
    }
    Value::Object(out)
}

fn obj(entries: Vec<(&str, Option<Value>)>) -> Value {
    Value::Object(entries.into_iter().filter_map(|(k, v)| Some((k.to_string(), v?))).collect())
}

fn json_value() -> BoxedStrategy<Value> {
    value_of(number().boxed())
}

/// JSON values whose numbers come from `numbers`: nested arrays and objects of every leaf kind.
fn value_of(numbers: BoxedStrategy<f64>) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        numbers.prop_map(Value::Number),
        text().prop_map(Value::String),
        version_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 48, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            vec((key(), inner), 0..5).prop_map(object_of),
        ]
    })
    .boxed()
}

/// Version-like text: digits, dots, `-`, `+`, letters and line breaks of every kind.
fn version_text() -> impl Strategy<Value = String> {
    const PARTS: &[&str] = &[
        "0", "1", "2", "10", "99", ".", ".", "-", "+", "v", "beta", "rc", "\u{2028}", "\u{2029}",
        "\n", "\r", " ", "é", "x", "",
    ];
    vec(select(PARTS), 0..10).prop_map(|parts| parts.concat())
}

// ---- The rule language ----

const OPERATORS: &[&str] = &[
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$ini",
    "$nini",
    "$all",
    "$alli",
    "$elemMatch",
    "$size",
    "$exists",
    "$type",
    "$regex",
    "$regexi",
    "$not",
    "$and",
    "$or",
    "$nor",
    "$veq",
    "$vne",
    "$vgt",
    "$vgte",
    "$vlt",
    "$vlte",
    "$inGroup",
    "$notInGroup",
    "$unknown",
    "$",
];
const FIELDS: &[&str] = &[
    "plan",
    "v",
    "tags",
    "tags.0",
    "tags.length",
    "account.company_size",
    "account.id",
    "id",
    "a.b.c",
    "n",
    "feature",
    "limit",
    "page",
    "path",
    "",
    ".",
    "x..y",
    "0",
];
const EVENTS: &[&str] = &[
    "page_view",
    "feature_used",
    "limit_hit",
    "project_created",
    "upgrade_started",
    "upgrade_completed",
    "prompt_shown",
    "prompt_clicked",
    "prompt_dismissed",
    "x",
];

fn word(words: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![6 => select(words).prop_map(String::from), 1 => short_text(8)].boxed()
}

/// An operand or a literal: scalars the operators compare, versions, regular expressions.
fn literal() -> BoxedStrategy<Value> {
    const STRINGS: &[&str] = &[
        "free",
        "trial",
        "pro",
        "acme",
        "admin",
        "1.2.3",
        "1.2.3-beta",
        "v2",
        "string",
        "number",
        "array",
        "object",
        "boolean",
        "null",
        "undefined",
        "^f",
        "(a+)+$",
        "[",
        "beta",
        "export",
    ];
    prop_oneof![
        3 => select(STRINGS).prop_map(Value::from),
        2 => (-3i64..12).prop_map(|n| Value::Number(n as f64)),
        1 => number().prop_map(Value::Number),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        2 => version_text().prop_map(Value::String),
        1 => text().prop_map(Value::String),
    ]
    .boxed()
}

/// A condition: objects of fields and operators, nested `$and`/`$or`/`$nor`/`$not`/
/// `$elemMatch`, operand lists, and now and then a value of the wrong shape.
fn condition() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        3 => literal(),
        4 => (word(OPERATORS), literal()).prop_map(|(op, v)| object_of(vec![(op, v)])),
        2 => (word(FIELDS), literal()).prop_map(|(f, v)| object_of(vec![(f, v)])),
        1 => vec(literal(), 0..4).prop_map(Value::Array),
    ];
    leaf.prop_recursive(5, 40, 4, |inner| {
        prop_oneof![
            3 => vec((word(FIELDS), inner.clone()), 1..4).prop_map(object_of),
            3 => vec((word(OPERATORS), inner.clone()), 1..3).prop_map(object_of),
            2 => (select(&["$and", "$or", "$nor"][..]), vec(inner.clone(), 0..4))
                .prop_map(|(op, list)| object_of(vec![(op.to_string(), Value::Array(list))])),
            1 => vec(inner, 0..4).prop_map(Value::Array),
        ]
    })
    .boxed()
}

/// A condition over the attributes in the shape validation accepts more often: an object of
/// fields, each a literal or an object of operators.
fn audience() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => vec((word(FIELDS), prop_oneof![literal(), vec((word(OPERATORS), literal()), 1..3).prop_map(object_of)]), 0..3)
            .prop_map(object_of),
        1 => condition(),
    ]
    .boxed()
}

fn duration_text() -> BoxedStrategy<Value> {
    const DURATIONS: &[&str] = &[
        "90s",
        "30m",
        "24h",
        "7d",
        "2w",
        "1s",
        "1m",
        "999999999w",
        "0d",
        "07d",
        "1.5h",
        "",
        "d",
        "7D",
        "٣d",
        "1\u{2028}d",
    ];
    prop_oneof![
        4 => select(DURATIONS).prop_map(Value::from),
        3 => (1u32..1_000_000_000, select(&["s", "m", "h", "d", "w"][..]))
            .prop_map(|(n, unit)| Value::String(format!("{n}{unit}"))),
        1 => literal(),
    ]
    .boxed()
}

/// A comparison such as a signal's `count`: a number, `{"$gte": n}`, or any condition.
fn comparison() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => (0i64..6).prop_map(|n| Value::Number(n as f64)),
        3 => (select(&["$gte", "$gt", "$lt", "$lte", "$eq", "$ne"][..]), 0i64..6)
            .prop_map(|(op, n)| object_of(vec![(op.to_string(), Value::Number(n as f64))])),
        1 => condition(),
    ]
    .boxed()
}

fn opt<T: Debug + Clone + 'static>(p: f64, s: BoxedStrategy<T>) -> BoxedStrategy<Option<T>> {
    proptest::option::weighted(p, s).boxed()
}

/// One leaf of `when`, in each of the signal shapes, plus objects mixing their keys.
fn signal() -> BoxedStrategy<Value> {
    let event = || word(EVENTS).prop_map(Value::String).boxed();
    let within = || opt(0.7, duration_text());
    let where_ = || opt(0.4, audience());
    prop_oneof![
        4 => (event(), where_(), comparison(), within())
            .prop_map(|(e, w, c, t)| obj(vec![("event", Some(e)), ("where", w), ("count", Some(c)), ("within", t)])),
        2 => (event(), where_(), comparison(), duration_text())
            .prop_map(|(e, w, c, t)| obj(vec![("event", Some(e)), ("where", w), ("distinctDays", Some(c)), ("within", Some(t))])),
        1 => (comparison(), duration_text())
            .prop_map(|(c, t)| obj(vec![("sessions", Some(c)), ("within", Some(t))])),
        2 => (event(), where_(), word(FIELDS), comparison(), within())
            .prop_map(|(e, w, p, c, t)| obj(vec![("event", Some(e)), ("where", w), ("sum", Some(p.into())), ("value", Some(c)), ("within", t)])),
        1 => (word(&["projects", "seats", ""]), comparison())
            .prop_map(|(l, c)| obj(vec![("limit", Some(l.into())), ("usage", Some(c))])),
        2 => (event(), where_(), event(), where_(), duration_text())
            .prop_map(|(e, w, f, fw, t)| obj(vec![("event", Some(e)), ("where", w),
                ("notFollowedBy", Some(obj(vec![("event", Some(f)), ("where", fw)]))), ("within", Some(t))])),
        1 => (opt(0.5, comparison()), duration_text())
            .prop_map(|(c, t)| obj(vec![("firstSeen", Some(c.unwrap_or(Value::Bool(true)))), ("within", Some(t))])),
        1 => comparison().prop_map(|c| obj(vec![("daysSinceFirstSeen", Some(c))])),
        1 => audience().prop_map(|c| obj(vec![("traits", Some(c))])),
        1 => vec((word(&["event", "count", "within", "where", "sum", "value", "sessions", "limit", "usage",
            "notFollowedBy", "firstSeen", "daysSinceFirstSeen", "traits", "distinctDays"]), literal()), 0..5)
            .prop_map(object_of),
    ]
    .boxed()
}

fn when() -> BoxedStrategy<Value> {
    signal()
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                (select(&["all", "any"][..]), vec(inner.clone(), 0..4))
                    .prop_map(|(op, list)| obj(vec![(op, Some(Value::Array(list)))])),
                inner.prop_map(|node| obj(vec![("not", Some(node))])),
            ]
        })
        .boxed()
}

const PROMPT_IDS: &[&str] = &["p", "q", "talk", "missing"];

fn action() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => word(PROMPT_IDS).prop_map(|p| obj(vec![("prompt", Some(p.into()))])),
        2 => word(&["intent", "pql", "x"]).prop_map(|b| obj(vec![("beacon", Some(b.into()))])),
        1 => literal(),
    ]
    .boxed()
}

fn frequency() -> BoxedStrategy<Value> {
    (
        opt(0.5, duration_text()),
        opt(0.5, comparison()),
        opt(0.3, duration_text()),
        opt(0.2, literal()),
    )
        .prop_map(|(cooldown, max, snooze, dismissals)| {
            obj(vec![
                ("cooldown", cooldown),
                ("maxShows", max),
                ("snoozeOnDismiss", snooze),
                ("maxDismissals", dismissals),
            ])
        })
        .boxed()
}

/// A rule; without an id it is given `r<index>` so that most rule sets have distinct ids.
fn rule() -> BoxedStrategy<(Option<String>, Value)> {
    let kind =
        word(&["usage", "feature", "intent", "fit", "other"]).prop_map(Value::String).boxed();
    let trigger = (word(EVENTS), opt(0.5, audience()))
        .prop_map(|(e, w)| obj(vec![("event", Some(e.into())), ("where", w)]))
        .boxed();
    let score = prop_oneof![(-50i64..80).prop_map(|n| Value::Number(n as f64)), literal()].boxed();
    (
        opt(0.1, word(&["r0", "r1", "dup", ""])),
        opt(0.8, kind),
        opt(0.5, audience()),
        opt(0.85, when()),
        opt(0.3, trigger),
        opt(0.9, score),
        opt(0.6, vec(action(), 0..3).prop_map(Value::Array).boxed()),
        opt(0.4, frequency()),
        opt(0.3, comparison()),
        opt(0.05, vec((key(), literal()), 1..3).prop_map(object_of).boxed()),
    )
        .prop_map(
            |(id, kind, audience, when, trigger, score, actions, frequency, priority, extra)| {
                let mut rule = obj(vec![
                    ("kind", kind),
                    ("audience", audience),
                    ("when", when),
                    ("trigger", trigger),
                    ("score", score),
                    ("actions", actions),
                    ("frequency", frequency),
                    ("priority", priority),
                ]);
                if let Some(Value::Object(extra)) = extra {
                    for (k, v) in extra {
                        rule.insert(&k, v);
                    }
                }
                (id, rule)
            },
        )
        .boxed()
}

fn template_text() -> BoxedStrategy<String> {
    const PIECES: &[&str] = &[
        "{{user.plan}}",
        "{{account.company_size}}",
        "{{event.limit}}",
        "{{rule.id}}",
        "{{ event.used }}",
        "{{event.tags.0}}",
        "{{event.tags.length}}",
        "{{user.}}",
        "{{nope.x}}",
        "{{",
        "}}",
        "{",
        "}",
        "{{{",
        "}}}",
        "{{rule.name}}",
        "{{user..x}}",
        "Hi ",
        "\u{2028}",
        "é",
        "😀",
    ];
    prop_oneof![
        3 => vec(prop_oneof![3 => select(PIECES).prop_map(String::from), 1 => short_text(6)], 0..6)
            .prop_map(|parts| parts.concat()),
        1 => text(),
    ]
    .boxed()
}

fn prompt() -> BoxedStrategy<Value> {
    let url = prop_oneof![
        select(
            &[
                "/settings/billing?plan=pro",
                "https://example.com",
                "javascript:alert(1)",
                " java\tscript:x",
                "//host",
                "data:text/html,x",
                "HTTP://x",
                "mailto:x",
                ""
            ][..]
        )
        .prop_map(String::from),
        text(),
    ]
    .prop_map(Value::String)
    .boxed();
    let cta = (opt(0.9, template_text().prop_map(Value::String).boxed()), opt(0.9, url))
        .prop_map(|(label, url)| obj(vec![("label", label), ("url", url)]))
        .boxed();
    (
        opt(
            0.95,
            word(&["modal", "banner", "toast", "inline", "popup"]).prop_map(Value::String).boxed(),
        ),
        opt(0.3, word(&["sidebar", ""]).prop_map(Value::String).boxed()),
        opt(0.95, template_text().prop_map(Value::String).boxed()),
        opt(0.6, template_text().prop_map(Value::String).boxed()),
        opt(0.5, cta),
        opt(0.3, template_text().prop_map(Value::String).boxed()),
    )
        .prop_map(|(style, slot, title, body, cta, dismiss)| {
            obj(vec![
                ("style", style),
                ("slot", slot),
                ("title", title),
                ("body", body),
                ("cta", cta),
                ("dismiss", dismiss),
            ])
        })
        .boxed()
}

/// A whole rule-set document.
fn rule_set_doc() -> BoxedStrategy<Value> {
    let pages = vec(
        (
            word(&["pricing", "billing", ""]),
            word(&["/pricing*", "/settings/billing*", "*", "/", "/a*b*"]),
        ),
        0..3,
    )
    .prop_map(|entries| {
        object_of(entries.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    })
    .boxed();
    let scoring = (
        opt(0.8, comparison()),
        opt(
            0.6,
            vec((word(&["warm", "hot", "cold"]), comparison()), 0..3).prop_map(object_of).boxed(),
        ),
    )
        .prop_map(|(threshold, tiers)| obj(vec![("threshold", threshold), ("tiers", tiers)]))
        .boxed();
    let prompts = vec((word(PROMPT_IDS), prompt()), 0..3).prop_map(object_of).boxed();
    let limits = (opt(0.5, comparison()), opt(0.5, comparison()), opt(0.5, duration_text()))
        .prop_map(|(s, d, i)| obj(vec![("maxPerSession", s), ("maxPerDay", d), ("minInterval", i)]))
        .boxed();
    let groups = vec((word(&["beta", "g", ""]), vec(literal(), 0..4).prop_map(Value::Array)), 0..3)
        .prop_map(object_of)
        .boxed();
    let version = prop_oneof![9 => Just(Value::Number(1.0)), 1 => literal()].boxed();
    (
        opt(0.97, version),
        opt(0.4, pages),
        vec(rule(), 0..4),
        opt(0.5, scoring),
        opt(0.3, vec(action(), 0..2).prop_map(Value::Array).boxed()),
        opt(0.8, prompts),
        opt(0.3, limits),
        opt(0.4, groups),
    )
        .prop_map(|(version, pages, rules, scoring, on_qualified, prompts, limits, groups)| {
            let rules = rules
                .into_iter()
                .enumerate()
                .map(|(i, (id, mut rule))| {
                    rule.insert("id", Value::String(id.unwrap_or_else(|| format!("r{i}"))));
                    rule
                })
                .collect();
            obj(vec![
                ("version", version),
                ("pages", pages),
                ("rules", Some(Value::Array(rules))),
                ("scoring", scoring),
                ("onQualified", on_qualified),
                ("prompts", prompts),
                ("limits", limits),
                ("groups", groups),
            ])
        })
        .boxed()
}

// ---- Mutations ----

/// An edit of a text at a position chosen among its characters.
#[derive(Clone, Debug)]
enum Edit {
    Delete(Index, usize),
    Insert(Index, String),
    Replace(Index, usize, String),
    /// Copies a slice of the text to another position.
    Duplicate(Index, usize, Index),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<Index>(), 1..8usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<Index>(), short_text(4)).prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<Index>(), 1..4usize, short_text(4)).prop_map(|(at, n, s)| Edit::Replace(at, n, s)),
        (any::<Index>(), 1..40usize, any::<Index>()).prop_map(|(a, n, b)| Edit::Duplicate(a, n, b)),
    ];
    vec(edit, 1..6)
}

fn char_at(text: &str, at: &Index) -> usize {
    let mut pos = at.index(text.len() + 1);
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

fn end_after(text: &str, from: usize, chars: usize) -> usize {
    text[from..].char_indices().nth(chars).map_or(text.len(), |(i, _)| from + i)
}

fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut text = text.to_string();
    for edit in edits {
        match edit {
            Edit::Delete(at, n) => {
                let from = char_at(&text, at);
                let to = end_after(&text, from, *n);
                text.replace_range(from..to, "");
            }
            Edit::Insert(at, s) => {
                let at = char_at(&text, at);
                text.insert_str(at, s);
            }
            Edit::Replace(at, n, s) => {
                let from = char_at(&text, at);
                let to = end_after(&text, from, *n);
                text.replace_range(from..to, s);
            }
            Edit::Duplicate(at, n, to) => {
                let from = char_at(&text, at);
                let piece = text[from..end_after(&text, from, *n)].to_string();
                let to = char_at(&text, to);
                text.insert_str(to, &piece);
            }
        }
    }
    text
}

/// A change of one node of a JSON tree (chosen by its pre-order position).
#[derive(Clone, Debug)]
enum Change {
    Replace(Index, Value),
    /// Removes an object entry or array element.
    Remove(Index),
    /// Numbers: negated, doubled, made fractional, made huge.
    Nudge(Index, u8),
}

fn changes() -> impl Strategy<Value = Vec<Change>> {
    let change = prop_oneof![
        2 => (any::<Index>(), json_value()).prop_map(|(at, v)| Change::Replace(at, v)),
        1 => any::<Index>().prop_map(Change::Remove),
        2 => (any::<Index>(), 0u8..6).prop_map(|(at, how)| Change::Nudge(at, how)),
    ];
    vec(change, 1..4)
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(entries) => entries.iter().map(|(_, v)| count_nodes(v)).sum(),
        _ => 0,
    }
}

/// The node at pre-order position `n` (0 = `v` itself) and its parent's handle.
fn with_node(v: &mut Value, n: &mut usize, f: &mut dyn FnMut(&mut Value)) -> bool {
    if *n == 0 {
        f(v);
        return true;
    }
    *n -= 1;
    let children: Vec<&mut Value> = match v {
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(entries) => entries.iter_mut().map(|(_, v)| v).collect(),
        _ => return false,
    };
    children.into_iter().any(|child| with_node(child, n, f))
}

fn apply_changes(doc: &Value, changes: &[Change]) -> Value {
    let mut doc = doc.clone();
    for change in changes {
        let nodes = count_nodes(&doc);
        match change {
            Change::Replace(at, value) => {
                let mut n = at.index(nodes);
                with_node(&mut doc, &mut n, &mut |node| *node = value.clone());
            }
            Change::Remove(at) => {
                let mut n = at.index(nodes);
                let mut pick = at.index(64);
                with_node(&mut doc, &mut n, &mut |node| match node {
                    Value::Array(items) if !items.is_empty() => {
                        pick %= items.len();
                        items.remove(pick);
                    }
                    Value::Object(entries) if !entries.is_empty() => {
                        pick %= entries.len();
                        entries.remove(pick);
                    }
                    _ => {}
                });
            }
            Change::Nudge(at, how) => {
                let mut n = at.index(nodes);
                with_node(&mut doc, &mut n, &mut |node| {
                    if let Value::Number(x) = node {
                        *x = match how {
                            0 => -*x,
                            1 => *x * 2.0,
                            2 => *x + 0.5,
                            3 => 1e300,
                            4 => *x + 1.0,
                            _ => 9_007_199_254_740_993.0,
                        };
                    } else if *how == 5 {
                        *node = Value::Number(-1.0);
                    }
                });
            }
        }
    }
    doc
}

// ---- Driving an engine ----

/// Two saved states are the same, numbers compared with [`close`]: a trait such as 5e-84 is
/// outside the number reader's exact range and may move in the last place on each reload.
fn same_state(a: &str, b: &str) -> bool {
    a == b || matches!((parse(a), parse(b)), (Ok(x), Ok(y)) if close(&x, &y))
}

#[derive(Clone, Debug)]
enum Call {
    Track(String, Value),
    Identify(Option<String>, Value),
    Group(Option<String>, Value),
    Advance,
    Outcome(Option<String>, String, u8),
    Visible(bool),
    Explain(String),
    Score,
    /// Saves, loads the saved text back into the engine, and checks it saves the same again.
    SaveAndLoad,
    Reset,
}

/// When a call happens relative to the previous one. The host's clock is any number: the
/// facade passes `now()` through an `f64 as i64` cast, so the extremes are reachable.
#[derive(Clone, Debug)]
enum Time {
    Later(Millis),
    Back(Millis),
    At(Millis),
}

fn time() -> impl Strategy<Value = Time> {
    prop_oneof![
        8 => (0..HOUR).prop_map(Time::Later),
        3 => (0..60 * DAY).prop_map(Time::Later),
        1 => (0..10 * DAY).prop_map(Time::Back),
        1 => select(&[i64::MIN, i64::MAX, 0, -1, -DAY, i64::MAX / 2, i64::MIN / 2, 8_640_000_000_000_000, T0][..])
            .prop_map(Time::At),
    ]
}

fn props() -> BoxedStrategy<Value> {
    let value = prop_oneof![
        3 => select(&["export", "projects", "seats", "pricing", "/pricing", "/pricing/teams",
            "/settings/billing", "csv", "p", "r0"][..]).prop_map(Value::from),
        2 => (0i64..10).prop_map(|n| Value::Number(n as f64)),
        2 => json_value(),
    ];
    prop_oneof![
        6 => vec((key(), value), 0..4).prop_map(object_of),
        1 => json_value(),
    ]
    .boxed()
}

fn traits() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => vec((word(&["plan", "role", "company_size", "v", "tags", "industry"]), prop_oneof![literal(), json_value()]), 0..4)
            .prop_map(object_of),
        1 => json_value(),
    ]
    .boxed()
}

fn call() -> BoxedStrategy<Call> {
    let id = || opt(0.7, word(&["u1", "u2", "acme", "globex", ""]));
    prop_oneof![
        10 => (word(EVENTS), props()).prop_map(|(n, p)| Call::Track(n, p)),
        2 => (id(), traits()).prop_map(|(i, t)| Call::Identify(i, t)),
        2 => (id(), traits()).prop_map(|(i, t)| Call::Group(i, t)),
        2 => Just(Call::Advance),
        2 => (opt(0.8, word(&["r0", "r1", "r2", "nope"])), word(PROMPT_IDS), 0u8..3)
            .prop_map(|(r, p, o)| Call::Outcome(r, p, o)),
        1 => any::<bool>().prop_map(Call::Visible),
        1 => word(&["r0", "r1", "r2", "nope"]).prop_map(Call::Explain),
        1 => Just(Call::Score),
        1 => Just(Call::SaveAndLoad),
        1 => Just(Call::Reset),
    ]
    .boxed()
}

fn script() -> impl Strategy<Value = Vec<(Time, Call)>> {
    vec((time(), call()), 0..24)
}

fn new_engine(rules: RuleSet) -> Engine {
    Engine::new(rules, Box::new(NativeRegex), "anon-1", 7)
}

fn effects_json(effects: &[Effect]) -> String {
    Effect::list_json(effects)
}

/// Runs the script and returns everything the host would see, as text.
fn drive(engine: &mut Engine, script: &[(Time, Call)]) -> Result<Vec<String>, TestCaseError> {
    let mut now = T0;
    let mut seen = Vec::new();
    for (time, call) in script {
        now = match *time {
            Time::Later(d) => now.saturating_add(d),
            Time::Back(d) => now.saturating_sub(d),
            Time::At(t) => t,
        };
        let out = match call {
            Call::Track(name, props) => effects_json(&engine.track(name, props.clone(), now)),
            Call::Identify(id, traits) => {
                effects_json(&engine.identify(id.as_deref(), traits, now))
            }
            Call::Group(id, traits) => effects_json(&engine.group(id.as_deref(), traits, now)),
            Call::Advance => effects_json(&engine.advance(now)),
            Call::Outcome(rule, prompt, outcome) => {
                let outcome = match outcome {
                    0 => PromptOutcome::Shown,
                    1 => PromptOutcome::Clicked,
                    _ => PromptOutcome::Dismissed,
                };
                effects_json(&engine.prompt_outcome(rule.as_deref(), prompt, outcome, now))
            }
            Call::Visible(visible) => {
                engine.set_prompt_visible(*visible);
                String::new()
            }
            Call::Explain(id) => engine.explain_json(id, now).unwrap_or_default(),
            Call::Score => engine.score_json(),
            Call::SaveAndLoad => {
                let saved = engine.save_state();
                prop_assert!(parse(&saved).is_ok(), "saved state is not JSON: {saved}");
                let loaded = engine.load_state(&saved, now);
                prop_assert!(loaded.is_ok(), "own saved state refused: {loaded:?}\n{saved}");
                let again = engine.save_state();
                prop_assert!(
                    same_state(&again, &saved),
                    "saving after loading changed the state:\n{again}\n{saved}"
                );
                saved
            }
            Call::Reset => {
                engine.reset("anon-2");
                String::new()
            }
        };
        seen.push(out);
        if let Some(deadline) = engine.next_deadline() {
            seen.push(deadline.to_string());
        }
    }
    seen.push(engine.save_state());
    seen.push(engine.score_json());
    Ok(seen)
}

// ---- Targets ----

/// Rule sets from the grammar: validation never panics and says the same twice, the text and
/// the parsed document validate alike, and a valid set drives an engine through a random
/// script deterministically.
#[test]
fn rule_sets_from_the_grammar() {
    let valid = std::cell::Cell::new(0u32);
    fuzz(
        "rule sets from the grammar (+ engine scripts)",
        600,
        (rule_set_doc(), script()),
        |(doc, script)| {
            let text = doc.to_json();
            let first = parse_rule_set_json(&text, &NativeRegex);
            // The document as the text reads back: numbers beyond the reader's exact range (see
            // `exact_number`) may come back a few units in the last place away.
            let second = parse_rule_set(&parse(&text).unwrap(), &NativeRegex);
            if parse(&text).as_ref() == Ok(&doc) {
                prop_assert_eq!(&second, &parse_rule_set(&doc, &NativeRegex));
            }
            match (first, second) {
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!(&a, &b);
                    valid.set(valid.get() + 1);
                    let mut one = new_engine(a);
                    let mut two = new_engine(b);
                    let seen = drive(&mut one, &script)?;
                    prop_assert_eq!(seen, drive(&mut two, &script)?, "two runs differ");
                }
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                (a, b) => prop_assert!(false, "text and document disagree: {a:?} / {b:?}"),
            }
            Ok(())
        },
    );
    let _ = writeln!(std::io::stderr(), "  valid rule sets among them: {}", valid.get());
}

/// The rule set of PRODUCT.md §4, as the base of mutations.
const PRODUCT_RULES: &str = r#"{
  "version": 1,
  "pages": { "pricing": "/pricing*", "billing": "/settings/billing*" },
  "rules": [
    { "id": "pricing-revisits", "kind": "intent",
      "audience": { "plan": { "$in": ["free", "trial"] }, "account.company_size": { "$gte": 10 } },
      "when": { "all": [
        { "event": "page_view", "where": { "page": "pricing" }, "count": { "$gte": 2 }, "within": "7d" },
        { "event": "feature_used", "distinctDays": { "$gte": 3 }, "within": "14d" }
      ] },
      "score": 30, "actions": [ { "prompt": "talk-to-us" }, { "beacon": "intent" } ],
      "frequency": { "cooldown": "3d", "maxShows": 3, "snoozeOnDismiss": "7d" }, "priority": 10 },
    { "id": "project-limit", "kind": "usage",
      "trigger": { "event": "limit_hit", "where": { "limit": "projects" } },
      "when": { "event": "project_created", "count": { "$gte": 5 }, "within": "30d" },
      "score": 40, "actions": [ { "prompt": "upgrade-projects" } ] },
    { "id": "abandon", "kind": "intent",
      "when": { "event": "upgrade_started", "notFollowedBy": { "event": "upgrade_completed" }, "within": "1h" },
      "score": 10, "actions": [{ "beacon": "abandoned-upgrade" }] },
    { "id": "seats", "when": { "any": [ { "limit": "seats", "usage": { "$gte": 0.8 } },
        { "event": "invite_sent", "sum": "count", "value": { "$gt": 3 } },
        { "not": { "daysSinceFirstSeen": { "$lt": 2 } } }, { "sessions": { "$gte": 3 }, "within": "7d" },
        { "traits": { "role": { "$regex": "^adm", "$ne": "x" }, "v": { "$vgte": "1.2.0" } } } ] },
      "score": 25 }
  ],
  "scoring": { "threshold": 60, "tiers": { "warm": 30, "hot": 60 } },
  "onQualified": [ { "beacon": "pql" } ],
  "prompts": {
    "upgrade-projects": { "style": "modal", "title": "You've reached {{event.limit}} projects",
      "body": "Pro gives you unlimited projects.", "dismiss": "Not now",
      "cta": { "label": "Upgrade {{user.plan}}", "url": "/settings/billing?plan=pro" } },
    "talk-to-us": { "style": "toast", "title": "Comparing plans?", "body": "We can help you pick.",
      "cta": { "label": "Book 15 minutes", "url": "https://example.com/meet" } }
  },
  "limits": { "maxPerSession": 1, "maxPerDay": 2, "minInterval": "1h" },
  "groups": { "beta-accounts": ["acme", "globex"] }
}"#;

/// The product's example rule set, edited as text and as a tree: validation never panics and
/// is deterministic; a valid result drives an engine.
#[test]
fn rule_sets_mutated_from_a_valid_one() {
    let base = parse(PRODUCT_RULES).unwrap();
    assert!(parse_rule_set(&base, &NativeRegex).is_ok(), "the base rule set is valid");
    fuzz(
        "rule sets mutated from PRODUCT.md's",
        400,
        (edits(), changes(), any::<bool>(), script()),
        |(edits, changes, as_text, script)| {
            let text = if as_text {
                apply_edits(PRODUCT_RULES, &edits)
            } else {
                apply_changes(&base, &changes).to_json()
            };
            let first = parse_rule_set_json(&text, &NativeRegex);
            prop_assert_eq!(&first, &parse_rule_set_json(&text, &NativeRegex));
            if let Ok(rules) = first {
                drive(&mut new_engine(rules), &script)?;
            }
            Ok(())
        },
    );
}

/// The engine re-evaluates a rule only when a call may have changed it (its signals, its
/// attributes, a new session, its scheduled time): after every call of a script moving forward
/// in time, each rule's `matched` in the score is what a fresh evaluation of the rule at that
/// moment (`explain`) says. Rules are first evaluated at the first event (the ones reading
/// attributes also at the first identify or group), so a rule is checked from then on.
#[test]
fn incremental_evaluation_agrees_with_a_fresh_one() {
    // Rules of the signals that identify, group and sessions change, over the attributes the
    // scripts set, so that conditions flip often; and the grammar's rule sets.
    let leaf = prop_oneof![
        4 => audience().prop_map(|c| obj(vec![("traits", Some(c))])),
        1 => (0i64..4, select(&["30m", "2h", "1d"][..])).prop_map(|(n, t)| {
            obj(vec![("sessions", Some(Value::Number(n as f64))), ("within", Some(t.into()))])
        }),
        1 => (word(EVENTS), 0i64..3).prop_map(|(e, n)| {
            obj(vec![("event", Some(e.into())), ("count", Some(Value::Number(n as f64))), ("within", Some("1h".into()))])
        }),
        1 => (0i64..3).prop_map(|n| obj(vec![("daysSinceFirstSeen", Some(Value::Number(n as f64)))])),
    ];
    let when = leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            (select(&["all", "any"][..]), vec(inner.clone(), 1..4))
                .prop_map(|(op, list)| obj(vec![(op, Some(Value::Array(list)))])),
            inner.prop_map(|node| obj(vec![("not", Some(node))])),
        ]
    });
    let rule = (opt(0.5, audience()), when, 1i64..40).prop_map(|(a, w, score)| {
        obj(vec![("audience", a), ("when", Some(w)), ("score", Some(Value::Number(score as f64)))])
    });
    let focused = vec(rule, 1..6).prop_map(|rules| {
        let rules = rules.into_iter().enumerate().map(|(i, mut r)| {
            r.insert("id", Value::String(format!("r{i}")));
            r
        });
        obj(vec![
            ("version", Some(Value::Number(1.0))),
            ("rules", Some(Value::Array(rules.collect()))),
        ])
    });
    let valid = std::cell::Cell::new(0u32);
    fuzz(
        "incremental evaluation = fresh evaluation",
        600,
        (prop_oneof![3 => focused, 1 => rule_set_doc()], script()),
        |(doc, script)| {
            let Ok(rules) = parse_rule_set(&doc, &NativeRegex) else { return Ok(()) };
            valid.set(valid.get() + 1);
            let ids: Vec<String> = rules.rules.iter().map(|r| r.id.clone()).collect();
            // Rules are first evaluated at the profile's first event (or a loaded state's); the
            // rules that read facts (an audience, traits, usage) also at the first identify or
            // group.
            let reads_facts: Vec<bool> = rules
                .rules
                .iter()
                .map(|r| r.audience.is_some() || r.when.as_ref().is_some_and(reads_facts))
                .collect();
            let mut engine = new_engine(rules);
            let mut now = T0;
            let mut started = false;
            let mut facts_started = false;
            for (time, call) in &script {
                if let Time::Later(d) = time {
                    now += d;
                }
                let step = [(Time::At(now), call.clone())];
                drive(&mut engine, &step)?;
                engine.advance(now);
                match call {
                    Call::Track(..) | Call::Outcome(..) | Call::SaveAndLoad => started = true,
                    Call::Identify(..) | Call::Group(..) => facts_started = true,
                    Call::Reset => (started, facts_started) = (false, false),
                    _ => {}
                }
                let score = parse(&engine.score_json()).unwrap();
                let listed = score.get("rules").and_then(Value::as_array).unwrap();
                for ((id, listed), &facts) in ids.iter().zip(listed).zip(&reads_facts) {
                    let evaluated = started || facts_started && facts;
                    if !evaluated {
                        continue;
                    }
                    let fresh = parse(&engine.explain_json(id, now).unwrap()).unwrap();
                    prop_assert_eq!(
                        listed.get("matched"),
                        fresh.get("matched"),
                        "rule {} after {:?} at {}",
                        id,
                        call,
                        now
                    );
                }
            }
            Ok(())
        },
    );
    let _ = writeln!(std::io::stderr(), "  valid rule sets among them: {}", valid.get());
}

fn reads_facts(node: &Node) -> bool {
    match node {
        Node::All(nodes) | Node::Any(nodes) => nodes.iter().any(reads_facts),
        Node::Not(node) => reads_facts(node),
        Node::Signal(s) => matches!(s.kind, SignalKind::Traits { .. } | SignalKind::Usage { .. }),
    }
}

/// Raw text, and raw bytes read as text the way the facade would never send them.
#[test]
fn rule_sets_from_raw_text() {
    fuzz(
        "rule sets from raw text",
        1500,
        prop_oneof![
            text(),
            vec(any::<u8>(), 0..64).prop_map(|b| String::from_utf8_lossy(&b).into_owned())
        ],
        |text| {
            let result = parse_rule_set_json(&text, &NativeRegex);
            prop_assert_eq!(&result, &parse_rule_set_json(&text, &NativeRegex));
            Ok(())
        },
    );
}

fn groups() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => vec((word(&["beta", "g", ""]), vec(literal(), 0..4).prop_map(Value::Array)), 0..3).prop_map(object_of),
        1 => json_value(),
    ]
    .boxed()
}

fn attributes() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => vec((word(FIELDS), prop_oneof![literal(), json_value()]), 0..5).prop_map(object_of),
        1 => json_value(),
    ]
    .boxed()
}

/// Unvalidated conditions on arbitrary attributes and groups: no panic, the same answer twice.
#[test]
fn conditions_on_arbitrary_attributes() {
    fuzz(
        "eval_condition",
        3000,
        (condition(), attributes(), groups()),
        |(condition, attributes, groups)| {
            let ctx = Context { groups: &groups, regex: &NativeRegex };
            let first = eval_condition(&condition, &attributes, &ctx);
            prop_assert_eq!(first, eval_condition(&condition, &attributes, &ctx));
            Ok(())
        },
    );
}

/// GrowthBook's conformance cases (shared/, outside the project; skipped without it), their
/// conditions and attributes changed node by node.
#[test]
fn conditions_mutated_from_the_conformance_cases() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/conformance/conditions.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        let _ = writeln!(
            std::io::stderr(),
            "fuzz conformance mutations: skipped, {} not found",
            path.display()
        );
        return;
    };
    let doc = parse(&text).unwrap();
    let cases: Vec<Value> = doc.get("evalCondition").and_then(Value::as_array).unwrap().to_vec();
    fuzz(
        "eval_condition on mutated conformance cases",
        1500,
        (any::<Index>(), changes(), changes()),
        |(pick, on_condition, on_attributes)| {
            let case = cases[pick.index(cases.len())].as_array().unwrap();
            let condition = apply_changes(&case[1], &on_condition);
            let attributes = apply_changes(&case[2], &on_attributes);
            let no_groups = Value::Object(Vec::new());
            let ctx = Context { groups: case.get(4).unwrap_or(&no_groups), regex: &NativeRegex };
            let first = eval_condition(&condition, &attributes, &ctx);
            prop_assert_eq!(first, eval_condition(&condition, &attributes, &ctx));
            Ok(())
        },
    );
}

/// tests/state.rs's three rules and a fourth, `mixed`, of the signal kinds they lack: a
/// state with every kind of signal history.
const STATE_RULES: &str = r#"{
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
      "score": 10, "actions": [{ "beacon": "abandoned-upgrade" }] },
    { "id": "mixed", "when": { "all": [ { "sessions": { "$gte": 1 }, "within": "7d" },
      { "event": "limit_hit", "sum": "used", "value": { "$gte": 1 } }, { "limit": "seats", "usage": { "$gte": 0.5 } },
      { "firstSeen": true, "within": "30d" } ] }, "score": 5 }
  ],
  "scoring": { "threshold": 60, "tiers": { "warm": 30, "hot": 60 } },
  "prompts": { "talk": { "style": "toast", "title": "Comparing plans?" } }
}"#;

fn state_engine() -> Engine {
    let mut e = new_engine(parse_rule_set_json(STATE_RULES, &NativeRegex).unwrap());
    let p = |t: &str| parse(t).unwrap();
    e.identify(Some("u1"), &p(r#"{"plan":"free","tags":["a","b"]}"#), T0);
    e.group(Some("acme"), &p(r#"{"company_size":12}"#), T0);
    e.track("page_view", p(r#"{"path":"/pricing"}"#), T0 + MINUTE);
    e.track("page_view", p(r#"{"path":"/pricing/x"}"#), T0 + 2 * MINUTE);
    e.track("feature_used", p(r#"{"feature":"export"}"#), T0 + HOUR);
    e.track("limit_hit", p(r#"{"limit":"seats","used":4}"#), T0 + HOUR);
    e.track("upgrade_started", p("{}"), T0 + 2 * HOUR);
    e.prompt_outcome(Some("pricing"), "talk", PromptOutcome::Dismissed, T0 + 2 * HOUR);
    e
}

/// Loading state from arbitrary text and from edited valid states: no panic, and a refused
/// state leaves the saved state as it was. An accepted state saves to text that loads again
/// to the same state.
#[test]
fn state_loading_from_arbitrary_and_mutated_text() {
    let valid = state_engine().save_state();
    let tree = parse(&valid).unwrap();
    let input = prop_oneof![
        1 => text(),
        1 => vec(any::<u8>(), 0..128).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        3 => edits().prop_map({ let valid = valid.clone(); move |e| apply_edits(&valid, &e) }),
        4 => changes().prop_map(move |c| apply_changes(&tree, &c).to_json()),
    ];
    let accepted = std::cell::Cell::new(0u32);
    fuzz("Engine::load_state", 1500, (input, time()), |(text, time)| {
        let now = match time {
            Time::Later(d) => T0 + d,
            Time::Back(d) => T0 - d,
            Time::At(t) => t,
        };
        let mut engine = state_engine();
        let before = engine.save_state();
        match engine.load_state(&text, now) {
            Err(_) => {
                prop_assert_eq!(engine.save_state(), before, "a refused state changed the engine")
            }
            Ok(()) => {
                accepted.set(accepted.get() + 1);
                let saved = engine.save_state();
                let mut again = state_engine();
                prop_assert!(
                    again.load_state(&saved, now).is_ok(),
                    "a loaded state saves to one refused: {saved}"
                );
                prop_assert!(same_state(&again.save_state(), &saved));
                engine.track("page_view", parse(r#"{"path":"/pricing"}"#).unwrap(), now);
                engine.advance(now.saturating_add(DAY));
            }
        }
        Ok(())
    });
    let _ = writeln!(std::io::stderr(), "  states accepted among them: {}", accepted.get());
}

/// A history line from the NDJSON format, or not quite.
fn history_line() -> BoxedStrategy<String> {
    let timestamp = prop_oneof![
        (-1_000_000_000_000i64..4_000_000_000_000).prop_map(|n| Value::Number(n as f64)),
        number().prop_map(Value::Number),
        iso_like().prop_map(Value::String),
        text().prop_map(Value::String),
        literal(),
    ]
    .boxed();
    let line = (
        opt(0.9, word(&["u1", "u2", "u3", ""]).prop_map(Value::String).boxed()),
        opt(0.2, word(&["identify", "group", "track"]).prop_map(Value::String).boxed()),
        opt(0.9, timestamp),
        opt(0.85, word(EVENTS).prop_map(Value::String).boxed()),
        opt(0.3, word(&["acme", "globex", ""]).prop_map(Value::String).boxed()),
        opt(0.5, props()),
        opt(0.2, traits()),
    )
        .prop_map(|(user, kind, timestamp, event, account, props, traits)| {
            obj(vec![
                ("userId", user),
                ("type", kind),
                ("timestamp", timestamp),
                ("event", event),
                ("accountId", account),
                ("props", props),
                ("traits", traits),
            ])
            .to_json()
        });
    prop_oneof![
        8 => line,
        1 => text(),
        1 => Just(String::new()),
        1 => Just("\r".to_string()),
    ]
    .boxed()
}

const HISTORY_RULES: &str = r#"{"version":1,"rules":[
  {"id":"abandon","when":{"event":"upgrade_started","notFollowedBy":{"event":"upgrade_completed"},"within":"30m"},"score":5},
  {"id":"limit","trigger":{"event":"limit_hit"},"when":{"event":"project_created","count":{"$gte":2}},"score":40},
  {"id":"neg","audience":{"plan":"pro"},"when":{"event":"page_view","count":{"$gte":1}},"score":-10},
  {"id":"days","when":{"event":"feature_used","distinctDays":{"$gte":2},"within":"7d"},"score":30}
],"scoring":{"threshold":30}}"#;

/// History text: the line functions and the replay never panic, replays are deterministic,
/// and arbitrary bytes are either UTF-8 or refused at a line that exists.
#[test]
fn history_lines() {
    let rules = || parse_rule_set_json(HISTORY_RULES, &NativeRegex).unwrap();
    let history = (vec(history_line(), 0..12), any::<bool>(), 0usize..1_000_000, 0u32..9).prop_map(
        |(lines, crlf, first, parts)| (lines.join(if crlf { "\r\n" } else { "\n" }), first, parts),
    );
    let conversions = prop_oneof![
        Just("{}".to_string()),
        (vec((word(&["u1", "u2"]), literal()), 0..3), opt(0.5, literal())).prop_map(
            |(users, latest)| obj(vec![("users", Some(object_of(users))), ("latest", latest)])
                .to_json()
        ),
        text(),
    ];
    let end = opt(0.3, (0i64..4_000_000_000_000).boxed());
    fuzz(
        "history lines and replay",
        800,
        (history, conversions, end, vec(any::<u8>(), 0..96)),
        |((text, first, parts), conversions, end, bytes)| {
            match text_of(&bytes, first) {
                Ok(t) => prop_assert_eq!(t.as_bytes(), &bytes[..]),
                Err(e) => prop_assert!(e.line >= first && e.line <= first + bytes.len(), "{e:?}"),
            }
            let _ = partition_lines(&text, first, parts);
            if let Some(start) = last_user_start(&text) {
                prop_assert!(text.is_char_boundary(start) && start <= text.len());
            }
            let run = |grouped: bool| {
                let engine = Engine::new(rules(), Box::new(NativeRegex), "backtest", 1);
                let mut bt = Backtest::new(engine, Conversions::from_json(&conversions), end);
                if grouped {
                    bt.replay_grouped(&text, first).map(|r| r.map(|r| r.to_json()))
                } else {
                    bt.replay(&text, first).map(|r| Some(r.to_json()))
                }
            };
            for grouped in [false, true] {
                let first_run = run(grouped);
                prop_assert_eq!(first_run, run(grouped));
            }
            Ok(())
        },
    );
}

/// Templates: parsing never panics, and a template without errors renders the same twice
/// from arbitrary values; the parts' text is the source's text.
#[test]
fn templates() {
    fuzz(
        "parse_template + render",
        3000,
        (template_text(), json_value(), json_value(), props(), text()),
        |(source, user, account, event, rule_id)| {
            let mut errors = Vec::new();
            let template = parse_template(&source, "prompts.p.title", &mut errors);
            let values =
                TemplateValues { user: &user, account: &account, event: &event, rule_id: &rule_id };
            let text = template.render(&values);
            prop_assert_eq!(&text, &template.render(&values));
            if !source.contains("{{") {
                prop_assert_eq!(text, source);
            }
            Ok(())
        },
    );
}

/// Numbers in the range where src/number.rs promises exact reading: at most 15 significant
/// digits and a decimal exponent within ±22 (counts, thresholds, ratios, timestamps), and
/// every integer up to 2^53.
fn exact_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        // Without trailing zeros: 7920947541229100e21 is written 7.9209475412291e+36, whose
        // exponent (23) is past the exact range.
        (-999_999_999_999_999i64..=999_999_999_999_999, -22i32..=22).prop_map(|(m, e)| {
            if m % 10 == 0 {
                m as f64
            } else {
                format!("{m}e{e}").parse::<f64>().unwrap()
            }
        }),
        (-(1i64 << 53)..=(1i64 << 53)).prop_map(|n| n as f64),
        (-100i64..100).prop_map(|n| n as f64 / 8.0),
    ]
}

/// Values whose numbers are all in [`exact_number`]'s range.
fn exact_value() -> BoxedStrategy<Value> {
    value_of(exact_number().boxed())
}

/// The JSON writer and reader: every value round-trips exactly (numbers in the reader's exact
/// range), and every finite number comes back finite and within a few ulps (outside it,
/// the reader is approximate by design: see src/number.rs).
#[test]
fn json_round_trip() {
    fuzz("JSON round trip (parse(v.to_json()) == v)", 3000, exact_value(), |v| {
        let text = v.to_json();
        prop_assert_eq!(parse(&text), Ok(v), "{}", text);
        Ok(())
    });
}

#[test]
fn json_numbers_round_trip_within_a_few_ulps() {
    fuzz("JSON round trip of any finite number", 5000, number(), |n| {
        let text = Value::Number(n).to_json();
        let back = parse(&text).ok().and_then(|v| v.as_f64());
        prop_assert!(back.is_some_and(f64::is_finite), "{n:e} written as {text} reads as {back:?}");
        let back = back.unwrap();
        prop_assert!(ulps(back, n) <= FEW_ULPS, "{n:e} written as {text} reads as {back:e}");
        Ok(())
    });
}

/// `v` with its infinite numbers as null, as the writer spells them.
fn finite(v: &Value) -> Value {
    match v {
        Value::Number(n) if !n.is_finite() => Value::Null,
        Value::Array(items) => Value::Array(items.iter().map(finite).collect()),
        Value::Object(entries) => {
            Value::Object(entries.iter().map(|(k, v)| (k.clone(), finite(v))).collect())
        }
        _ => v.clone(),
    }
}

/// How many representable doubles apart two finite numbers of the same sign are.
fn ulps(x: f64, y: f64) -> u64 {
    if x == y {
        0
    } else if x.is_sign_negative() != y.is_sign_negative() {
        u64::MAX
    } else {
        x.to_bits().abs_diff(y.to_bits())
    }
}

/// src/number.rs reads long mantissas and large exponents "to within a few units in the last
/// place": each step of 10^22 past the fast path may add half a unit (14 steps up to 1e308),
/// so -9.789227493126299e238 comes back 5 units away.
const FEW_ULPS: u64 = 16;

/// Equal, numbers within a few units in the last place.
fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => ulps(*x, *y) <= FEW_ULPS,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((k, a), (l, b))| k == l && close(a, b))
        }
        _ => a == b,
    }
}

#[test]
fn json_reader_on_arbitrary_text() {
    let json_edits = (json_value(), edits()).prop_map(|(v, e)| apply_edits(&v.to_json(), &e));
    let deep = (1usize..300, select(&["[", "{\"a\":", "[{\"\":"][..]))
        .prop_map(|(n, open)| open.repeat(n));
    let input = prop_oneof![3 => text(), 3 => json_edits, 1 => deep];
    fuzz("JSON reader on arbitrary text", 3000, input, |text| {
        if let Ok(v) = parse(&text) {
            let again = parse(&v.to_json());
            prop_assert!(again.is_ok(), "{:?}", again);
            // Numbers outside the exact range may move in the last place, and one past f64's
            // range (1e400) reads as infinity, which JSON writes as null (as JSON.parse and
            // JSON.stringify do).
            prop_assert!(close(&again.unwrap(), &finite(&v)), "{}", v.to_json());
        }
        Ok(())
    });
}

/// Numbers as JSON writes them: `[-]int[.frac][e[+-]exp]`, compared with Rust's exact reader
/// where pqlkit's reader promises exactness (at most 15 significant digits, exponent ±22).
#[test]
fn json_numbers() {
    let digits =
        |max| vec(select(&['0', '1', '2', '5', '9'][..]), 1..max).prop_map(String::from_iter);
    let exact =
        (any::<bool>(), digits(9), opt(0.5, digits(7).boxed()), opt(0.4, (-22i32..=22).boxed()))
            .prop_map(|(neg, int, frac, exp)| {
                let int = int.trim_start_matches('0');
                let mut s = String::from(if neg { "-" } else { "" });
                s.push_str(if int.is_empty() { "0" } else { int });
                if let Some(frac) = frac {
                    s.push('.');
                    s.push_str(&frac);
                }
                if let Some(exp) = exp {
                    s.push_str(&format!("e{exp}"));
                }
                s
            });
    fuzz("JSON numbers (exact range vs str::parse)", 3000, exact, |text| {
        let ours = parse(&text).ok().and_then(|v| v.as_f64());
        let mantissa = text.split('e').next().unwrap();
        let significant = mantissa
            .bytes()
            .skip_while(|b| !b.is_ascii_digit() || *b == b'0')
            .filter(u8::is_ascii_digit)
            .count();
        let fraction = mantissa.split_once('.').map_or(0, |(_, f)| f.len() as i32);
        let trailing =
            mantissa.bytes().rev().filter(|b| *b != b'.').take_while(|b| *b == b'0').count() as i32;
        let exponent = text.split_once('e').map_or(0, |(_, e)| e.parse::<i32>().unwrap())
            - fraction
            + trailing;
        if significant <= 15 && exponent.abs() <= 22 {
            prop_assert_eq!(ours, text.parse::<f64>().ok(), "{}", text);
        }
        Ok(())
    });
}

/// Durations: never a panic, and exactly the documented grammar `^[1-9][0-9]{0,8}[smhdw]$`.
#[test]
fn durations() {
    let near =
        (1u64..2_000_000_000, select(&["s", "m", "h", "d", "w", "", "x", "S"][..]), short_text(2))
            .prop_map(|(n, unit, junk)| format!("{n}{unit}{junk}"));
    fuzz("parse_duration", 5000, prop_oneof![text(), near, version_text()], |text| {
        let got = parse_duration(&text);
        let bytes = text.as_bytes();
        let grammar = bytes.len() >= 2
            && bytes.len() <= 10
            && (b'1'..=b'9').contains(&bytes[0])
            && bytes[1..bytes.len() - 1].iter().all(u8::is_ascii_digit)
            && b"smhdw".contains(&bytes[bytes.len() - 1]);
        prop_assert_eq!(got.is_some(), grammar, "{:?}", text);
        if let Some(ms) = got {
            let unit = match bytes[bytes.len() - 1] {
                b's' => 1_000,
                b'm' => MINUTE,
                b'h' => HOUR,
                b'd' => DAY,
                _ => 7 * DAY,
            };
            prop_assert_eq!(ms, text[..text.len() - 1].parse::<i64>().unwrap() * unit);
        }
        Ok(())
    });
}

/// ISO 8601-ish text near the accepted grammar.
fn iso_like() -> BoxedStrategy<String> {
    (
        0u32..10_000,
        0u32..14,
        0u32..33,
        opt(0.7, (0u32..26, 0u32..61, opt(0.6, (0u32..61).boxed())).boxed()),
        opt(0.4, vec(select(&['0', '5', '9'][..]), 0..6).prop_map(String::from_iter).boxed()),
        select(
            &["", "Z", "z", "+02:00", "-0030", "+05", "+2", "+24:00", "Q", "\u{2028}", "Z "][..],
        ),
    )
        .prop_map(|(y, m, d, time, frac, zone)| {
            let mut s = format!("{y:04}-{m:02}-{d:02}");
            if let Some((h, min, sec)) = time {
                s.push_str(&format!("T{h:02}:{min:02}"));
                if let Some(sec) = sec {
                    s.push_str(&format!(":{sec:02}"));
                    if let Some(frac) = &frac {
                        s.push('.');
                        s.push_str(frac);
                    }
                }
                s.push_str(zone);
            }
            s
        })
        .boxed()
}

fn days_before_year(year: i64) -> i64 {
    let leap = |y: i64| y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let mut days = 0;
    if year >= 1970 {
        for y in 1970..year {
            days += if leap(y) { 366 } else { 365 };
        }
    } else {
        for y in year..1970 {
            days -= if leap(y) { 366 } else { 365 };
        }
    }
    days
}

/// Timestamps: never a panic; a valid calendar date reads as the naive day count; numbers and
/// digit strings read as milliseconds.
#[test]
fn timestamps() {
    let input =
        prop_oneof![3 => iso_like(), 2 => text(), 1 => (any::<i64>()).prop_map(|n| n.to_string())];
    fuzz("parse_timestamp", 5000, (input, json_value()), |(text, value)| {
        let got = parse_timestamp_text(&text);
        let _ = parse_timestamp(&value);
        let b = text.as_bytes();
        if b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        {
            let (y, m, d): (i64, usize, i64) = (
                text[..4].parse().unwrap(),
                text[5..7].parse().unwrap(),
                text[8..].parse().unwrap(),
            );
            let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            let lengths = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
            let expected = ((1..=12).contains(&m) && d >= 1 && d <= lengths[m - 1]).then(|| {
                (days_before_year(y) + lengths[..m - 1].iter().sum::<i64>() + d - 1) * DAY
            });
            prop_assert_eq!(got, expected, "{}", text);
        }
        Ok(())
    });
}

//! Every problem of a table of invalid documents, with its code, path and message; the
//! runtime build finds the same without the words; mutated documents never panic.

use super::*;

/// A problem as the authoring build reports it: code, path and message.
type Problem = (ErrorCode, &'static str, &'static str);

/// Invalid documents and every problem each one has, in order. The runtime build must find
/// the same codes and paths, without the words.
fn explained() -> Vec<(String, Vec<Problem>)> {
    use ErrorCode::*;
    let eleven_prompts: Vec<String> =
        ('a'..='k').map(|id| format!(r#""{id}": {{"style": "toast", "title": "t"}}"#)).collect();
    vec![
        (
            r#"{"version": 1,}"#.into(),
            vec![(
                InvalidJson,
                "",
                "the rule set is not valid JSON: expected a quoted key at byte 14",
            )],
        ),
        ("[1]".into(), vec![(InvalidType, "", "expected an object, found an array")]),
        (
            r#"{"version": 2, "rules": []}"#.into(),
            vec![(UnsupportedVersion, "version", "this SDK reads rule sets of version 1")],
        ),
        (
            r#"{"rules": []}"#.into(),
            vec![(UnsupportedVersion, "version", "missing \"version\": write \"version\": 1")],
        ),
        (
            r#"{"version": 1, "rules": [], "onqualifed": []}"#.into(),
            vec![(
                UnknownField,
                "onqualifed",
                "unknown field \"onqualifed\"; did you mean \"onQualified\"?",
            )],
        ),
        (
            with_rules(r#"{"id": "r", "frequency": {"snooze_on_dismiss": "1d"}}"#),
            vec![(
                UnknownField,
                "rules[0].frequency.snooze_on_dismiss",
                "unknown field \"snooze_on_dismiss\"; did you mean \"snoozeOnDismiss\"?",
            )],
        ),
        (
            with_rules(r#"{"id": "r", "when": {"event": "x", "count": 1, "colour": 1}}"#),
            vec![(UnknownField, "rules[0].when.colour", "unknown field \"colour\"")],
        ),
        (
            with_rules(r#"{"id": "b", "when": {"all": [{"event": "e", "distinctDays": 3}]}}"#),
            vec![(
                MissingField,
                "rules[0].when.all[0].within",
                "missing \"within\": this signal needs a time window such as \"7d\"",
            )],
        ),
        (
            with_rules(r#"{"id": "r", "when": {"event": "x", "count": 1, "sum": "n"}}"#),
            vec![(
                InvalidSignal,
                "rules[0].when",
                "a signal measures one thing: found both \"count\" and \"sum\"",
            )],
        ),
        (
            with_rules(r#"{"id": "r", "when": {}}"#),
            vec![(InvalidSignal, "rules[0].when", "this is not a signal: a signal is one of {event, count}, {event, distinctDays, within}, {sessions}, {event, sum, value}, {limit, usage}, {event, notFollowedBy, within}, {firstSeen: true, within}, {daysSinceFirstSeen} or {traits}, where event signals may add \"where\" and \"within\"")],
        ),
        (
            with_rules(r#"{"id": "r", "when": {"event": "x", "cuont": 2}}"#),
            vec![
                (
                    UnknownField,
                    "rules[0].when.cuont",
                    "unknown field \"cuont\"; did you mean \"count\"?",
                ),
                (InvalidSignal, "rules[0].when", "an event signal needs \"count\", \"distinctDays\", \"sum\" or \"notFollowedBy\"; a signal is one of {event, count}, {event, distinctDays, within}, {sessions}, {event, sum, value}, {limit, usage}, {event, notFollowedBy, within}, {firstSeen: true, within}, {daysSinceFirstSeen} or {traits}, where event signals may add \"where\" and \"within\""),
            ],
        ),
        (
            with_rules(r#"{"id": "r", "when": {"all": [], "any": []}, "score": 1e999}"#),
            vec![
                (
                    UnknownField,
                    "rules[0].when.any",
                    "\"any\" cannot sit beside \"all\": a node has exactly one of all, any or not, or is a signal",
                ),
                (InvalidValue, "rules[0].when.all", "list at least one condition"),
                (InvalidValue, "rules[0].score", "this number is too large"),
            ],
        ),
        (
            with_rules(r#"{"id": "r", "when": {"event": "x", "count": {"gte": 2}}}"#),
            vec![(
                InvalidValue,
                "rules[0].when.count.gte",
                "\"gte\" is not an operator: operators start with $, such as {\"$gte\": 2}",
            )],
        ),
        (
            with_rules(r#"{"id": "r", "when": {"firstSeen": false, "within": "7d"}}"#),
            vec![(
                InvalidValue,
                "rules[0].when.firstSeen",
                "write \"firstSeen\": true; for users first seen longer ago, wrap the signal in {\"not\": ...} or use daysSinceFirstSeen",
            )],
        ),
        (
            with_rules(
                r#"{"id": "r", "actions": [{}, {"beacon": "b", "prompt": "p"}, {"prompt": "q"}]}"#,
            ),
            vec![
                (
                    InvalidValue,
                    "rules[0].actions[0]",
                    "an action is {\"prompt\": \"<prompt id>\"} or {\"beacon\": \"<type>\"}",
                ),
                (
                    InvalidValue,
                    "rules[0].actions[1]",
                    "an action has either \"prompt\" or \"beacon\", not both",
                ),
                (
                    UnknownPrompt,
                    "rules[0].actions[2].prompt",
                    "no prompt \"q\" in \"prompts\"; known prompts: \"p\"",
                ),
            ],
        ),
        (
            r#"{"version": 1, "rules": [], "onQualified": [{"prompt": "x"}]}"#.into(),
            vec![(
                UnknownPrompt,
                "onQualified[0].prompt",
                "no prompt \"x\" in \"prompts\", which defines none",
            )],
        ),
        (
            format!(
                r#"{{"version": 1, "rules": [], "onQualified": [{{"prompt": "x"}}], "prompts": {{{}}}}}"#,
                eleven_prompts.join(", ")
            ),
            vec![(
                UnknownPrompt,
                "onQualified[0].prompt",
                "no prompt \"x\" in \"prompts\"; known prompts: \"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\", …",
            )],
        ),
        (
            with_rules(
                r#"{"id": "r", "audience": {"plan": {"$inn": ["free"]}, "seats": {"$in": 3},
                    "$and": [1, {"ua": {"$regex": "(("}}], "id": {"$inGroup": "gamma"},
                    "$gte": 1, "t": {"$type": "text", "$gt": 1, "x": 2}}}"#,
            ),
            vec![
                (UnknownOperator, "rules[0].audience.plan.$inn", "`$inn` is not a known operator. Use one of: $eq $ne $gt $gte $lt $lte $in $nin $ini $nini $all $alli $elemMatch $size $exists $type $regex $regexi $not $veq $vne $vgt $vgte $vlt $vlte $inGroup $notInGroup."),
                (
                    InvalidType,
                    "rules[0].audience.seats.$in",
                    "`$in` expects a list of values such as [\"free\", \"trial\"], not a number.",
                ),
                (
                    InvalidType,
                    "rules[0].audience.$and[0]",
                    "A condition must be an object such as {\"plan\": \"pro\"}, not a number.",
                ),
                (
                    InvalidRegex,
                    "rules[0].audience.$and[1].ua.$regex",
                    "`$regex` pattern \"((\" is not a valid regular expression.",
                ),
                (
                    UnknownGroup,
                    "rules[0].audience.id.$inGroup",
                    "There is no group named \"gamma\" in `groups`.",
                ),
                (
                    UnknownOperator,
                    "rules[0].audience.$gte",
                    "`$gte` compares one attribute, so it belongs under an attribute name, e.g. {\"plan\": {\"$gte\": ...}}.",
                ),
                (
                    InvalidValue,
                    "rules[0].audience.t",
                    "This mixes the operator `$type` with the plain field \"x\"; use either operators only, such as {\"$gte\": 2}, or a plain value.",
                ),
            ],
        ),
        (
            r#"{"version": 1, "rules": [], "prompts": {"p": {"style": "inline", "title": "{{user}} {{user.name"}}}"#.into(),
            vec![
                (
                    MissingField,
                    "prompts.p.slot",
                    "missing \"slot\": an inline prompt renders into <div data-pqlkit-slot=\"NAME\">; name that slot",
                ),
                (
                    InvalidValue,
                    "prompts.p.title",
                    "\"{{user}}\" names no field: write such as {{user.name}}",
                ),
                (
                    InvalidValue,
                    "prompts.p.title",
                    "a \"{{\" is never closed: write placeholders such as {{user.name}}",
                ),
            ],
        ),
        (
            r#"{"version": 1, "rules": [], "pages": {"pricing": "pricing"},
                "scoring": {"tiers": {"x": -1}}, "groups": {"beta": "acme"}}"#
                .into(),
            vec![
                (
                    InvalidValue,
                    "pages.pricing",
                    "a page is a URL path starting with \"/\", such as \"/pricing*\"",
                ),
                (InvalidValue, "scoring.tiers.x", "a tier's minimum score must be 0 or more"),
                (InvalidType, "groups.beta", "expected an array of values, found a string"),
            ],
        ),
        (
            MANY_PROBLEMS.into(),
            vec![
                (UnknownField, "extra", "unknown field \"extra\""),
                (
                    InvalidValue,
                    "rules[0].kind",
                    "\"sales\" is not a rule kind: use usage, feature, intent, fit, other",
                ),
                (
                    InvalidDuration,
                    "rules[0].when.all[0].within",
                    "\"2 weeks\" is not a duration: write a whole number followed by s, m, h, d or w, such as \"7d\"",
                ),
                (
                    InvalidDuration,
                    "rules[0].when.all[1].within",
                    "\"7x\" is not a duration: write a whole number followed by s, m, h, d or w, such as \"7d\"",
                ),
                (InvalidType, "rules[0].score", "expected a number, found a string"),
                (
                    UnknownPrompt,
                    "rules[0].actions[0].prompt",
                    "no prompt \"missing\" in \"prompts\"; known prompts: \"p\"",
                ),
                (DuplicateRuleId, "rules[1].id", "rule id \"a\" is already used by rules[0]"),
                (
                    InvalidValue,
                    "rules[1].priority",
                    "must be a whole number from -2147483648 to 2147483647",
                ),
                (
                    InvalidValue,
                    "prompts.p.style",
                    "\"popup\" is not a prompt style: use modal, banner, toast, inline",
                ),
                (
                    UnknownTemplateNamespace,
                    "prompts.p.title",
                    "\"{{org.x}}\" cannot be filled in: use {{user.<trait>}}, {{account.<trait>}}, {{event.<property>}} or {{rule.id}}",
                ),
                (
                    UnsafeUrl,
                    "prompts.p.cta.url",
                    "\"javascript:void(0)\" is not allowed: a button URL starts with http:// or https://, or is relative such as \"/settings/billing\"",
                ),
                (InvalidValue, "limits.maxPerSession", "must be a whole number from 1 to 4294967295"),
            ],
        ),
    ]
}

/// Every problem of `text`: code, path and message.
fn problems(text: &str) -> Vec<(ErrorCode, String, String)> {
    errors_of(text).into_iter().map(|e| (e.code, e.path, e.message)).collect()
}

#[cfg(feature = "authoring")]
#[test]
fn messages_explain_every_problem() {
    for (text, expected) in explained() {
        let expected: Vec<_> = expected
            .iter()
            .map(|&(code, path, message)| (code, path.to_string(), message.to_string()))
            .collect();
        assert_eq!(problems(&text), expected, "{text}");
    }
}

#[cfg(not(feature = "authoring"))]
#[test]
fn the_runtime_build_finds_the_same_problems_without_words() {
    for (text, expected) in explained() {
        let expected: Vec<_> = expected
            .iter()
            .map(|&(code, path, _)| (code, path.to_string(), String::new()))
            .collect();
        assert_eq!(problems(&text), expected, "{text}");
    }
}

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const KEYS: &[&str] = &[
    "version",
    "rules",
    "id",
    "when",
    "all",
    "any",
    "not",
    "event",
    "where",
    "count",
    "within",
    "distinctDays",
    "sum",
    "value",
    "sessions",
    "limit",
    "usage",
    "notFollowedBy",
    "firstSeen",
    "daysSinceFirstSeen",
    "traits",
    "prompt",
    "beacon",
    "style",
    "title",
    "cta",
    "url",
    "slot",
    "$gte",
    "$regex",
    "$inGroup",
    "$nope",
    "tiers",
    "threshold",
    "",
];

fn garbage(rng: &mut Rng, depth: usize) -> Value {
    let strings = [
        "",
        "7d",
        "0d",
        "99999999999w",
        "javascript:alert(1)",
        "{{",
        "{{rule.x}}",
        "{{ user.a.b }}}}",
        "\u{0}\u{1f600}é",
        "(",
        "inline",
        "pricing-revisits",
        "talk-to-us",
    ];
    let numbers =
        [0.0, -1.0, 0.5, 1e308, -1e308, f64::INFINITY, f64::NAN, 4294967296.0, 2147483648.0];
    match rng.below(if depth > 6 { 4 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::Number(numbers[rng.below(numbers.len())]),
        3 => Value::String(strings[rng.below(strings.len())].to_string()),
        4 => Value::Array((0..rng.below(4)).map(|_| garbage(rng, depth + 1)).collect()),
        5 => Value::Object(
            (0..rng.below(4))
                .map(|_| (KEYS[rng.below(KEYS.len())].to_string(), garbage(rng, depth + 1)))
                .collect(),
        ),
        _ => {
            // A deep chain of logical nodes.
            let mut node = garbage(rng, 7);
            for _ in 0..rng.below(150) {
                let key = ["all", "any", "not"][rng.below(3)];
                node = if key == "not" {
                    object([(key, node)])
                } else {
                    object([(key, Value::Array(vec![node]))])
                };
            }
            node
        }
    }
}

fn mutate(value: &mut Value, rng: &mut Rng) {
    if rng.below(4) == 0 {
        *value = garbage(rng, 0);
        return;
    }
    match value {
        Value::Object(entries) if !entries.is_empty() => {
            let index = rng.below(entries.len());
            match rng.below(6) {
                0 => {
                    entries.remove(index);
                }
                1 => entries[index].0 = KEYS[rng.below(KEYS.len())].to_string(),
                _ => mutate(&mut entries[index].1, rng),
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let index = rng.below(items.len());
            if rng.below(5) == 0 {
                let copy = items[index].clone();
                items.push(copy);
            } else {
                mutate(&mut items[index], rng);
            }
        }
        _ => *value = garbage(rng, 0),
    }
}

#[test]
fn mutated_and_garbage_documents_never_panic() {
    let example = json(PRODUCT_EXAMPLE);
    let text = example.to_json();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut rejected = 0;
    for _ in 0..3000 {
        let mut document = example.clone();
        for _ in 0..1 + rng.below(6) {
            mutate(&mut document, &mut rng);
        }
        if let Err(errors) = parse_rule_set(&document, &TestRegex) {
            rejected += 1;
            assert!(!errors.is_empty());
        }
        // Byte-level damage to the JSON text as well.
        let mut bytes = text.clone().into_bytes();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len());
            const DAMAGE: &[u8] = b"{}[]\",:0-e\\ a\x01\xff";
            bytes[at] = DAMAGE[rng.below(DAMAGE.len())];
        }
        let damaged = String::from_utf8_lossy(&bytes);
        let _ = parse_rule_set_json(&damaged, &TestRegex);
    }
    assert!(rejected > 1000, "mutations should mostly break the document: {rejected}");
}

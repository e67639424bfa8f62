use super::*;
use crate::duration::{DAY, HOUR};
use crate::json::object;
use crate::prompt::PromptStyle;
use crate::prompt::{Namespace, TemplatePart};
use crate::rules::{Node, SignalKind};

/// The `regex` crate stands in for the browser's `RegExp` natively.
struct TestRegex;

impl TestRegex {
    fn build(pattern: &str, flags: &str) -> Option<regex::Regex> {
        if !flags.chars().all(|flag| matches!(flag, 'i' | 'm' | 's')) {
            return None;
        }
        let prefixed =
            if flags.is_empty() { pattern.to_string() } else { format!("(?{flags}){pattern}") };
        regex::Regex::new(&prefixed).ok()
    }
}

impl RegexEngine for TestRegex {
    fn is_valid(&self, pattern: &str, flags: &str) -> bool {
        Self::build(pattern, flags).is_some()
    }
    fn is_match(&self, pattern: &str, flags: &str, text: &str) -> bool {
        Self::build(pattern, flags).is_some_and(|re| re.is_match(text))
    }
}

/// Conditions are equal when written the same: these compile without checks.
fn cond(source: Value) -> Condition {
    let groups = Value::Null;
    Condition::new(source, "", &Context { groups: &groups, regex: &TestRegex }, &mut Vec::new())
}

fn value_cond(source: Value) -> Condition {
    let groups = Value::Null;
    let ctx = Context { groups: &groups, regex: &TestRegex };
    Condition::value(source, "", &ctx, &mut Vec::new())
}

/// The rule set of PRODUCT.md §4, verbatim.
const PRODUCT_EXAMPLE: &str = r#"{
  "version": 1,
  "pages": { "pricing": "/pricing*", "billing": "/settings/billing*" },
  "rules": [
{
  "id": "pricing-revisits",
  "kind": "intent",
  "audience": { "plan": { "$in": ["free", "trial"] }, "account.company_size": { "$gte": 10 } },
  "when": { "all": [
    { "event": "page_view", "where": { "page": "pricing" }, "count": { "$gte": 2 }, "within": "7d" },
    { "event": "feature_used", "distinctDays": { "$gte": 3 }, "within": "14d" }
  ] },
  "score": 30,
  "actions": [ { "prompt": "talk-to-us" }, { "beacon": "intent" } ],
  "frequency": { "cooldown": "3d", "maxShows": 3, "snoozeOnDismiss": "7d" },
  "priority": 10
},
{
  "id": "project-limit",
  "kind": "usage",
  "trigger": { "event": "limit_hit", "where": { "limit": "projects" } },
  "when": { "event": "project_created", "count": { "$gte": 5 }, "within": "30d" },
  "score": 40,
  "actions": [ { "prompt": "upgrade-projects" } ]
}
  ],
  "scoring": { "threshold": 60, "tiers": { "warm": 30, "hot": 60 } },
  "onQualified": [ { "beacon": "pql" } ],
  "prompts": {
"upgrade-projects": {
  "style": "modal",
  "title": "You've reached {{event.limit}} projects",
  "body": "Pro gives you unlimited projects and version history.",
  "cta": { "label": "Upgrade to Pro", "url": "/settings/billing?plan=pro" },
  "dismiss": "Not now"
},
"talk-to-us": { "style": "toast", "title": "Comparing plans?", "body": "We can help you pick.",
                "cta": { "label": "Book 15 minutes", "url": "https://example.com/meet" } }
  },
  "limits": { "maxPerSession": 1, "maxPerDay": 2, "minInterval": "1h" },
  "groups": { "beta-accounts": ["acme", "globex"] }
}"#;

fn parse(text: &str) -> Result<RuleSet, Vec<ValidationError>> {
    parse_rule_set_json(text, &TestRegex)
}

fn json(text: &str) -> Value {
    json::parse(text).unwrap()
}

/// A version-1 document with these rules and one prompt, `p`.
fn with_rules(rules: &str) -> String {
    format!(
        r#"{{"version": 1, "rules": [{rules}],
            "prompts": {{"p": {{"style": "toast", "title": "Hi"}}}}}}"#
    )
}

fn errors_of(text: &str) -> Vec<ValidationError> {
    match parse(text) {
        Ok(_) => panic!("expected errors for {text}"),
        Err(errors) => errors,
    }
}

/// The only error of `text`, checked for its code and exact path.
fn only_error(text: &str, code: ErrorCode, path: &str) -> ValidationError {
    let errors = errors_of(text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!((errors[0].code, errors[0].path.as_str()), (code, path), "{errors:#?}");
    errors.into_iter().next().unwrap()
}

fn count(event: &str, filter: Option<Value>, within: Option<Millis>, min: f64) -> SignalKind {
    SignalKind::Count {
        on: EventMatch { event: event.into(), filter: filter.map(cond) },
        within,
        compare: value_cond(object([("$gte", min.into())])),
    }
}

#[test]
fn the_product_example_parses() {
    let set = parse(PRODUCT_EXAMPLE).unwrap();
    assert_eq!(set.version, 1);
    assert_eq!(
        set.pages,
        vec![
            ("pricing".to_string(), "/pricing*".to_string()),
            ("billing".to_string(), "/settings/billing*".to_string())
        ]
    );
    let first = &set.rules[0];
    assert_eq!((first.id.as_str(), first.kind), ("pricing-revisits", RuleKind::Intent));
    assert_eq!(
        first.audience,
        Some(cond(json(r#"{"plan":{"$in":["free","trial"]},"account.company_size":{"$gte":10}}"#)))
    );
    assert_eq!(first.trigger, None);
    let Some(Node::All(children)) = &first.when else { panic!("{:?}", first.when) };
    let Node::Signal(pricing) = &children[0] else { panic!() };
    assert_eq!(pricing.path, "rules[0].when.all[0]");
    // The signal as written, "7d" and all (not the milliseconds it compiles to).
    assert_eq!(
        pricing.source,
        r#"{"event":"page_view","where":{"page":"pricing"},"count":{"$gte":2},"within":"7d"}"#
    );
    assert_eq!(
        pricing.kind,
        count("page_view", Some(json(r#"{"page":"pricing"}"#)), Some(7 * DAY), 2.0)
    );
    let Node::Signal(days) = &children[1] else { panic!() };
    assert_eq!(days.path, "rules[0].when.all[1]");
    assert_eq!(
        days.kind,
        SignalKind::DistinctDays {
            on: EventMatch { event: "feature_used".into(), filter: None },
            within: 14 * DAY,
            compare: value_cond(json(r#"{"$gte":3}"#)),
        }
    );
    assert_eq!(first.score, 30.0);
    assert_eq!(
        first.actions,
        vec![Action::Prompt("talk-to-us".into()), Action::Beacon("intent".into())]
    );
    assert_eq!(
        first.frequency,
        Frequency {
            cooldown: Some(3 * DAY),
            max_shows: Some(3),
            snooze_on_dismiss: Some(7 * DAY),
            max_dismissals: None
        }
    );
    assert_eq!(first.priority, 10);

    let second = &set.rules[1];
    assert_eq!((second.kind, second.priority), (RuleKind::Usage, 0));
    assert_eq!(
        second.trigger,
        Some(EventMatch {
            event: "limit_hit".into(),
            filter: Some(cond(json(r#"{"limit":"projects"}"#)))
        })
    );
    let Some(Node::Signal(created)) = &second.when else { panic!() };
    assert_eq!(created.path, "rules[1].when");
    assert_eq!(created.kind, count("project_created", None, Some(30 * DAY), 5.0));

    assert_eq!(set.scoring.threshold, Some(60.0));
    assert_eq!(set.scoring.tiers, vec![("warm".to_string(), 30.0), ("hot".to_string(), 60.0)]);
    assert_eq!(set.on_qualified, vec![Action::Beacon("pql".into())]);
    let ids: Vec<&str> = set.prompts.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["upgrade-projects", "talk-to-us"]);
    let upgrade = &set.prompts[0].1;
    assert_eq!(upgrade.style, PromptStyle::Modal);
    assert_eq!(
        upgrade.title.parts,
        vec![
            TemplatePart::Text("You've reached ".into()),
            TemplatePart::Placeholder { namespace: Namespace::Event, path: "limit".into() },
            TemplatePart::Text(" projects".into()),
        ]
    );
    assert_eq!(upgrade.cta.as_ref().unwrap().url, "/settings/billing?plan=pro");
    assert!(upgrade.dismiss.is_some());
    assert_eq!(set.prompts[1].1.style, PromptStyle::Toast);
    assert_eq!(
        set.limits,
        Limits { max_per_session: Some(1), max_per_day: Some(2), min_interval: Some(HOUR) }
    );
    assert_eq!(set.groups, json(r#"{"beta-accounts":["acme","globex"]}"#));
}

#[test]
fn every_signal_shape_parses_and_bare_numbers_mean_at_least() {
    let set = parse(&with_rules(
        r#"{"id": "r", "when": {"any": [
            {"event": "x", "count": 3},
            {"sessions": 5, "within": "7d"},
            {"sessions": {"$lt": 2}},
            {"event": "msg", "where": {"kind": "sms"}, "sum": "chars", "value": 2000, "within": "30d"},
            {"limit": "seats", "usage": 0.8},
            {"event": "upgrade_started", "notFollowedBy": {"event": "upgraded"}, "within": "1h"},
            {"not": {"firstSeen": true, "within": "14d"}},
            {"daysSinceFirstSeen": {"$gte": 3, "$lt": 10}},
            {"traits": {"role": "admin"}}
        ]}}"#,
    ))
    .unwrap();
    let Some(Node::Any(nodes)) = &set.rules[0].when else { panic!() };
    let kinds: Vec<&SignalKind> = nodes
        .iter()
        .map(|node| match node {
            Node::Signal(signal) => &signal.kind,
            Node::Not(inner) => match &**inner {
                Node::Signal(signal) => &signal.kind,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect();
    let gte = |n: f64| value_cond(object([("$gte", n.into())]));
    assert_eq!(*kinds[0], count("x", None, None, 3.0));
    assert_eq!(*kinds[1], SignalKind::Sessions { within: Some(7 * DAY), compare: gte(5.0) });
    assert_eq!(
        *kinds[2],
        SignalKind::Sessions { within: None, compare: value_cond(json(r#"{"$lt":2}"#)) }
    );
    assert_eq!(
        *kinds[3],
        SignalKind::Sum {
            on: EventMatch { event: "msg".into(), filter: Some(cond(json(r#"{"kind":"sms"}"#))) },
            property: "chars".into(),
            within: Some(30 * DAY),
            compare: gte(2000.0),
        }
    );
    assert_eq!(*kinds[4], SignalKind::Usage { limit: "seats".into(), compare: gte(0.8) });
    assert_eq!(
        *kinds[5],
        SignalKind::NotFollowedBy {
            on: EventMatch { event: "upgrade_started".into(), filter: None },
            then: EventMatch { event: "upgraded".into(), filter: None },
            within: HOUR,
        }
    );
    assert_eq!(*kinds[6], SignalKind::FirstSeen { within: 14 * DAY });
    assert_eq!(
        *kinds[7],
        SignalKind::DaysSinceFirstSeen { compare: value_cond(json(r#"{"$gte":3,"$lt":10}"#)) }
    );
    assert_eq!(*kinds[8], SignalKind::Traits { condition: cond(json(r#"{"role":"admin"}"#)) });
    let Node::Not(first_seen) = &nodes[6] else { panic!() };
    let Node::Signal(first_seen) = &**first_seen else { panic!() };
    assert_eq!(first_seen.path, "rules[0].when.any[6].not");
}

#[test]
fn defaults_and_tier_order() {
    let set = parse(
        r#"{"$schema": "https://example.com/pqlkit.schema.json", "version": 1,
            "rules": [{"id": "a", "description": "audience only", "audience": {"plan": "free"}}],
            "scoring": {"tiers": {"hot": 60, "cold": 0, "warm": 30}}}"#,
    )
    .unwrap();
    let rule = &set.rules[0];
    assert_eq!((rule.kind, rule.score, rule.priority), (RuleKind::Other, 0.0, 0));
    assert_eq!((rule.when.as_ref(), rule.actions.len()), (None, 0));
    assert_eq!(rule.frequency, Frequency::default());
    let tiers: Vec<&str> = set.scoring.tiers.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(tiers, ["cold", "warm", "hot"]);
    // Tiers of one minimum keep their document order, whatever comes between them.
    let set = parse(
        r#"{"version": 1, "rules": [],
            "scoring": {"tiers": {"b": 50, "x": 10, "c": 50, "a": 30, "d": 50, "y": 10}}}"#,
    )
    .unwrap();
    let tiers: Vec<&str> = set.scoring.tiers.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(tiers, ["x", "y", "a", "b", "c", "d"]);
    assert_eq!(set.scoring.threshold, None);
    assert_eq!(set.groups, json("{}"));
    assert!(parse(r#"{"version": 1, "rules": []}"#).is_ok());
}

#[test]
fn invalid_json_is_one_error_on_the_document() {
    only_error(r#"{"version": 1,}"#, ErrorCode::InvalidJson, "");
    only_error(r#"{"version": 1} x"#, ErrorCode::InvalidJson, "");
}

#[test]
fn only_version_1_is_read() {
    only_error(r#"{"version": 2, "rules": []}"#, ErrorCode::UnsupportedVersion, "version");
    only_error(r#"{"rules": []}"#, ErrorCode::UnsupportedVersion, "version");
    only_error(r#"{"version": "1", "rules": []}"#, ErrorCode::InvalidType, "version");
}

#[test]
fn unknown_fields_are_reported_at_their_own_path() {
    only_error(
        r#"{"version": 1, "rules": [], "onqualifed": []}"#,
        ErrorCode::UnknownField,
        "onqualifed",
    );
    only_error(
        &with_rules(r#"{"id": "r", "frequency": {"snooze_on_dismiss": "1d"}}"#),
        ErrorCode::UnknownField,
        "rules[0].frequency.snooze_on_dismiss",
    );
    only_error(
        &with_rules(
            r#"{"id": "r", "when": {"event": "x", "count": 1, "within": "1d", "colour": 1}}"#,
        ),
        ErrorCode::UnknownField,
        "rules[0].when.colour",
    );
    only_error(
        &with_rules(r#"{"id": "r", "when": {"all": [{"event": "x", "count": 1}], "any": []}}"#),
        ErrorCode::UnknownField,
        "rules[0].when.any",
    );
}

#[test]
fn missing_fields_are_named_at_their_path() {
    let text = with_rules(
        r#"{"id": "a"}, {"id": "b", "when": {"all": [{"event": "feature_used", "distinctDays": 3}]}}"#,
    );
    only_error(&text, ErrorCode::MissingField, "rules[1].when.all[0].within");
    only_error(&with_rules(r#"{"kind": "fit"}"#), ErrorCode::MissingField, "rules[0].id");
    only_error(r#"{"version": 1}"#, ErrorCode::MissingField, "rules");
    only_error(
        r#"{"version": 1, "rules": [], "prompts": {"s": {"style": "inline", "title": "t"}}}"#,
        ErrorCode::MissingField,
        "prompts.s.slot",
    );
    only_error(
        &with_rules(r#"{"id": "r", "when": {"event": "x", "sum": "n"}}"#),
        ErrorCode::MissingField,
        "rules[0].when.value",
    );
}

#[test]
fn wrong_types_are_reported() {
    only_error(
        &with_rules(r#"{"id": "r", "score": "30"}"#),
        ErrorCode::InvalidType,
        "rules[0].score",
    );
    only_error(r#"{"version": 1, "rules": {}}"#, ErrorCode::InvalidType, "rules");
    only_error(&with_rules(r#"[]"#), ErrorCode::InvalidType, "rules[0]");
    only_error(
        &with_rules(r#"{"id": "r", "when": {"event": "x", "count": "2"}}"#),
        ErrorCode::InvalidType,
        "rules[0].when.count",
    );
    only_error(
        &with_rules(r#"{"id": "r", "audience": ["free"]}"#),
        ErrorCode::InvalidType,
        "rules[0].audience",
    );
    only_error(
        r#"{"version": 1, "rules": [], "groups": {"beta": "acme"}}"#,
        ErrorCode::InvalidType,
        "groups.beta",
    );
    only_error(r#"[1]"#, ErrorCode::InvalidType, "");
}

#[test]
fn invalid_values_are_reported() {
    for (text, path) in [
        (r#"{"version": 1, "rules": [], "limits": {"maxPerDay": 0}}"#, "limits.maxPerDay"),
        (&with_rules(r#"{"id": "r", "kind": "sales"}"#), "rules[0].kind"),
        (r#"{"version": 1, "rules": [], "scoring": {"tiers": {"x": -1}}}"#, "scoring.tiers.x"),
        (r#"{"version": 1, "rules": [], "pages": {"pricing": "pricing"}}"#, "pages.pricing"),
        (r#"{"version": 1, "rules": [], "scoring": {"threshold": 1e999}}"#, "scoring.threshold"),
        (&with_rules(r#"{"id": "r", "priority": 1.5}"#), "rules[0].priority"),
        (&with_rules(r#"{"id": ""}"#), "rules[0].id"),
        (&with_rules(r#"{"id": "r", "when": {"any": []}}"#), "rules[0].when.any"),
        (&with_rules(r#"{"id": "r", "actions": [{}]}"#), "rules[0].actions[0]"),
        (
            &with_rules(r#"{"id": "r", "actions": [{"beacon": "b", "prompt": "p"}]}"#),
            "rules[0].actions[0]",
        ),
        (
            &with_rules(r#"{"id": "r", "when": {"event": "x", "count": {"gte": 2}}}"#),
            "rules[0].when.count.gte",
        ),
        (
            &with_rules(r#"{"id": "r", "when": {"firstSeen": false, "within": "7d"}}"#),
            "rules[0].when.firstSeen",
        ),
        (
            r#"{"version": 1, "rules": [], "prompts": {"p": {"style": "toast", "title": "{{user.name"}}}"#,
            "prompts.p.title",
        ),
    ] {
        only_error(text, ErrorCode::InvalidValue, path);
    }
}

#[test]
fn unknown_operators_come_from_the_condition_module() {
    let errors = errors_of(&with_rules(r#"{"id": "r", "audience": {"plan": {"$inn": ["free"]}}}"#));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].code, ErrorCode::UnknownOperator);
    assert!(errors[0].path.starts_with("rules[0].audience"), "{}", errors[0].path);
    // Comparisons go through the same module.
    let errors =
        errors_of(&with_rules(r#"{"id": "r", "when": {"event": "x", "count": {"$gte2": 1}}}"#));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].code, ErrorCode::UnknownOperator);
    assert!(errors[0].path.starts_with("rules[0].when.count"), "{}", errors[0].path);
}

#[test]
fn invalid_regexes_are_checked_with_the_given_engine() {
    let errors =
        errors_of(&with_rules(r#"{"id": "r", "audience": {"email": {"$regex": "(unclosed"}}}"#));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].code, ErrorCode::InvalidRegex);
    assert!(errors[0].path.starts_with("rules[0].audience.email"), "{}", errors[0].path);
}

#[test]
fn unknown_groups_are_looked_up_in_groups() {
    let text = r#"{"version": 1, "groups": {"beta": ["acme"]}, "rules": [
        {"id": "ok", "audience": {"account.id": {"$inGroup": "beta"}}},
        {"id": "bad", "audience": {"account.id": {"$inGroup": "alpha"}}}]}"#;
    let errors = errors_of(text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].code, ErrorCode::UnknownGroup);
    assert!(errors[0].path.starts_with("rules[1].audience"), "{}", errors[0].path);
}

#[test]
fn bad_durations_are_refused() {
    only_error(
        &with_rules(r#"{"id": "r", "when": {"event": "x", "count": 1, "within": "3 days"}}"#),
        ErrorCode::InvalidDuration,
        "rules[0].when.within",
    );
    only_error(
        r#"{"version": 1, "rules": [], "limits": {"minInterval": "0h"}}"#,
        ErrorCode::InvalidDuration,
        "limits.minInterval",
    );
    only_error(
        &with_rules(r#"{"id": "r", "frequency": {"cooldown": 3}}"#),
        ErrorCode::InvalidType,
        "rules[0].frequency.cooldown",
    );
}

#[test]
fn prompt_actions_name_a_defined_prompt() {
    only_error(
        &with_rules(r#"{"id": "r", "actions": [{"beacon": "b"}, {"prompt": "upgrade"}]}"#),
        ErrorCode::UnknownPrompt,
        "rules[0].actions[1].prompt",
    );
    only_error(
        r#"{"version": 1, "rules": [], "onQualified": [{"prompt": "x"}]}"#,
        ErrorCode::UnknownPrompt,
        "onQualified[0].prompt",
    );
}

#[test]
fn a_repeated_rule_id_is_reported_on_the_second_rule() {
    only_error(
        &with_rules(r#"{"id": "a"}, {"id": "b"}, {"id": "a"}"#),
        ErrorCode::DuplicateRuleId,
        "rules[2].id",
    );
}

#[test]
fn templates_only_use_known_namespaces() {
    for title in ["Hi {{org.name}}", "{{ rule.name }}", "x {{ plan }}"] {
        let text = format!(
            r#"{{"version": 1, "rules": [], "prompts": {{"p": {{"style": "modal", "title": "{title}"}}}}}}"#
        );
        let errors = errors_of(&text);
        assert_eq!(errors[0].code, ErrorCode::UnknownTemplateNamespace, "{title}");
        assert_eq!(errors[0].path, "prompts.p.title");
    }
    only_error(
        r#"{"version": 1, "rules": [], "prompts": {"p": {"style": "modal", "title": "t", "cta": {"label": "{{ company.name }}", "url": "/"}}}}"#,
        ErrorCode::UnknownTemplateNamespace,
        "prompts.p.cta.label",
    );
    only_error(
        r#"{"version": 1, "rules": [], "prompts": {"p": {"style": "modal", "title": "{{user}}"}}}"#,
        ErrorCode::InvalidValue,
        "prompts.p.title",
    );
}

#[test]
fn script_urls_are_refused_in_every_disguise() {
    for url in [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "  javascript:alert(1)",
        "\\u0001javascript:alert(1)",
        "java\\tscript:alert(1)",
        "java\\nscript:alert(1)",
        "\\u0000\\r\\njavascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "DATA:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "\\\\javascript:alert(1)",
    ] {
        let text = format!(
            r#"{{"version": 1, "rules": [], "prompts": {{"p": {{"style": "modal", "title": "t", "cta": {{"label": "Go", "url": "{url}"}}}}}}}}"#
        );
        only_error(&text, ErrorCode::UnsafeUrl, "prompts.p.cta.url");
    }
    for url in [
        "https://example.com/x",
        "HTTP://example.com",
        "/settings?x=1:2",
        "//cdn.example.com/a",
        "pricing",
        "#plans",
        "?plan=pro",
    ] {
        let text = format!(
            r#"{{"version": 1, "rules": [], "prompts": {{"p": {{"style": "modal", "title": "t", "cta": {{"label": "Go", "url": "{url}"}}}}}}}}"#
        );
        assert!(parse(&text).is_ok(), "{url}");
    }
}

#[test]
fn objects_that_are_no_signal_are_refused() {
    only_error(
        &with_rules(r#"{"id": "r", "when": {"event": "page_view", "within": "7d"}}"#),
        ErrorCode::InvalidSignal,
        "rules[0].when",
    );
    only_error(
        &with_rules(r#"{"id": "r", "when": {}}"#),
        ErrorCode::InvalidSignal,
        "rules[0].when",
    );
    only_error(
        &with_rules(r#"{"id": "r", "when": {"event": "x", "count": 1, "sum": "n", "value": 1}}"#),
        ErrorCode::InvalidSignal,
        "rules[0].when",
    );
    let errors = errors_of(&with_rules(r#"{"id": "r", "when": {"event": "x", "cuont": 2}}"#));
    let codes: Vec<_> = errors.iter().map(|e| (e.code, e.path.as_str())).collect();
    assert_eq!(
        codes,
        [
            (ErrorCode::UnknownField, "rules[0].when.cuont"),
            (ErrorCode::InvalidSignal, "rules[0].when")
        ]
    );
}

/// A rule set with a dozen problems, reported in this order.
const MANY_PROBLEMS: &str = r#"{
      "version": 1,
      "rules": [
        {"id": "a", "kind": "sales", "score": "10",
         "when": {"all": [{"event": "x", "count": 2, "within": "2 weeks"}, {"sessions": 3, "within": "7x"}]},
         "actions": [{"prompt": "missing"}]},
        {"id": "a", "priority": 1.5}
      ],
      "prompts": {"p": {"style": "popup", "title": "{{org.x}}", "cta": {"label": "x", "url": "javascript:void(0)"}}},
      "limits": {"maxPerSession": -1},
      "extra": true
    }"#;

#[test]
fn every_error_is_reported_at_once() {
    let found: Vec<(ErrorCode, String)> =
        errors_of(MANY_PROBLEMS).into_iter().map(|e| (e.code, e.path)).collect();
    let expected = [
        (ErrorCode::UnknownField, "extra"),
        (ErrorCode::InvalidValue, "rules[0].kind"),
        (ErrorCode::InvalidDuration, "rules[0].when.all[0].within"),
        (ErrorCode::InvalidDuration, "rules[0].when.all[1].within"),
        (ErrorCode::InvalidType, "rules[0].score"),
        (ErrorCode::UnknownPrompt, "rules[0].actions[0].prompt"),
        (ErrorCode::DuplicateRuleId, "rules[1].id"),
        (ErrorCode::InvalidValue, "rules[1].priority"),
        (ErrorCode::InvalidValue, "prompts.p.style"),
        (ErrorCode::UnknownTemplateNamespace, "prompts.p.title"),
        (ErrorCode::UnsafeUrl, "prompts.p.cta.url"),
        (ErrorCode::InvalidValue, "limits.maxPerSession"),
    ];
    let expected: Vec<(ErrorCode, String)> =
        expected.iter().map(|(code, path)| (*code, path.to_string())).collect();
    assert_eq!(found, expected);
}

#[test]
fn deep_when_trees_are_refused_without_overflow() {
    let mut node = json(r#"{"event": "x", "count": 1}"#);
    for i in 0..200 {
        node = if i % 2 == 0 {
            object([("not", node)])
        } else {
            object([("all", Value::Array(vec![node]))])
        };
    }
    let document = object([
        ("version", 1.0.into()),
        ("rules", Value::Array(vec![object([("id", "r".into()), ("when", node)])])),
    ]);
    let errors = parse_rule_set(&document, &TestRegex).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, ErrorCode::InvalidValue);
    #[cfg(feature = "authoring")]
    assert!(errors[0].message.contains("nested too deeply"));
}

mod problems;

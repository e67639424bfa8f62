//! JSON → validated [`RuleSet`]. Every problem is reported, not only the first, so that a
//! product manager fixes a rule set in one pass; each error carries a stable code, the JSON
//! path of the offending value and a message written for them.
//!
//! Messages are built by concatenation rather than `format!`: `core::fmt` costs wasm bytes.
//! Each is a closure that only the authoring build calls (see `error`): the runtime build
//! makes the same checks without their words.

use super::{
    Action, EventMatch, Frequency, Limits, Node, Rule, RuleKind, RuleSet, Scoring, Signal,
    SignalKind,
};
use crate::condition::{Condition, Context, RegexEngine};
use crate::duration::{parse_duration, Millis};
use crate::error::{child_path, index_path, join, ErrorCode, ValidationError};
use crate::json::{self, Value};
use crate::prompt::{is_safe_url, parse_template, Cta, Prompt, PromptStyle, Template};

/// Parses and validates a rule-set document (already parsed from JSON).
pub fn parse_rule_set(
    document: &Value,
    regex: &dyn RegexEngine,
) -> Result<RuleSet, Vec<ValidationError>> {
    check::<false>(document, regex)
}

/// `ACCOUNT`: account-level signals (`"across": "account"`, `distinctUsers`) are read; otherwise
/// they are unknown fields, as the browser sees them.
fn check<const ACCOUNT: bool>(
    document: &Value,
    regex: &dyn RegexEngine,
) -> Result<RuleSet, Vec<ValidationError>> {
    // Linear lookups and no sorting: rule sets hold a handful of prompts, and the sort code
    // would cost more wasm than the lookups cost time. Known ids are listed in document order.
    let mut prompt_ids: Vec<&str> = Vec::new();
    if let Some(Value::Object(entries)) = document.get("prompts") {
        for (id, _) in entries {
            prompt_ids.push(id);
        }
    }
    // Conditions anywhere may name groups, so groups are read first.
    let groups = groups_of(document.get("groups"));
    let mut checker = Checker::new(&groups, regex, prompt_ids);
    #[cfg(feature = "sql")]
    {
        checker.account_signals = ACCOUNT;
    }
    let mut rule_set = checker.rule_set(document);
    let errors = checker.errors;
    if errors.is_empty() {
        rule_set.groups = groups;
        Ok(rule_set)
    } else {
        Err(errors)
    }
}

/// [`parse_rule_set_json`] for the SQL engines, which also read account-level signals.
#[cfg(feature = "sql")]
pub fn parse_rule_set_json_with_account_signals(
    text: &str,
    regex: &dyn RegexEngine,
) -> Result<RuleSet, Vec<ValidationError>> {
    match json::parse(text) {
        Ok(document) => check::<true>(&document, regex),
        Err(_) => parse_rule_set_json(text, regex),
    }
}

/// Parses JSON text, then validates it as a rule set.
pub fn parse_rule_set_json(
    text: &str,
    regex: &dyn RegexEngine,
) -> Result<RuleSet, Vec<ValidationError>> {
    match json::parse(text) {
        Ok(document) => parse_rule_set(&document, regex),
        Err(error) => {
            let message = || {
                let mut message =
                    join(&["the rule set is not valid JSON: ", error.message, " at byte "]);
                json::write_int(&mut message, error.offset as i64);
                message
            };
            Err(vec![ValidationError::new(ErrorCode::InvalidJson, "", message)])
        }
    }
}

const TOP_FIELDS: &[&str] = &[
    "$schema",
    "version",
    "pages",
    "rules",
    "scoring",
    "onQualified",
    "prompts",
    "limits",
    "groups",
];
const RULE_FIELDS: &[&str] = &[
    "id",
    "kind",
    "description",
    "audience",
    "trigger",
    "when",
    "score",
    "actions",
    "frequency",
    "priority",
];
const RULE_KINDS: &[&str] = &["usage", "feature", "intent", "fit", "other"];
const PROMPT_FIELDS: &[&str] = &["style", "slot", "title", "body", "cta", "dismiss", "description"];
const PROMPT_STYLES: &[&str] = &["modal", "banner", "toast", "inline"];
const EVENT_FIELDS: &[&str] = &["event", "where"];

/// The signal shapes, told apart by their key (the shape's name is its key).
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Count,
    DistinctDays,
    Sum,
    NotFollowedBy,
    Sessions,
    Usage,
    FirstSeen,
    DaysSinceFirstSeen,
    Traits,
}

/// The key that tells each signal shape apart, the shape, and the keys that shape allows.
const SIGNAL_SHAPES: &[(&str, Shape, &[&str])] = &[
    ("count", Shape::Count, &["event", "where", "count", "within"]),
    ("distinctDays", Shape::DistinctDays, &["event", "where", "distinctDays", "within"]),
    ("sum", Shape::Sum, &["event", "where", "sum", "value", "within"]),
    ("notFollowedBy", Shape::NotFollowedBy, &["event", "where", "notFollowedBy", "within"]),
    ("sessions", Shape::Sessions, &["sessions", "within"]),
    ("usage", Shape::Usage, &["limit", "usage"]),
    ("firstSeen", Shape::FirstSeen, &["firstSeen", "within"]),
    ("daysSinceFirstSeen", Shape::DaysSinceFirstSeen, &["daysSinceFirstSeen"]),
    ("traits", Shape::Traits, &["traits"]),
];
const ALL_SIGNAL_FIELDS: &[&str] = &[
    "event",
    "where",
    "within",
    "count",
    "distinctDays",
    "sum",
    "value",
    "notFollowedBy",
    "sessions",
    "limit",
    "usage",
    "firstSeen",
    "daysSinceFirstSeen",
    "traits",
];
const SIGNAL_LIST: &str = "a signal is one of {event, count}, {event, distinctDays, within}, \
{sessions}, {event, sum, value}, {limit, usage}, {event, notFollowedBy, within}, \
{firstSeen: true, within}, {daysSinceFirstSeen} or {traits}, where event signals may add \
\"where\" and \"within\"";

/// Why the browser refuses an account-level signal (authoring messages only).
const ACCOUNT_SIGNALS_ELSEWHERE: &str = ": account-level signals (\"across\": \"account\", \"distinctUsers\") count over \
every user of an account, which the browser, seeing one user, cannot evaluate. Only `pqlkit sql` and \
`pqlkit backtest --engine duckdb` read them: keep such rules in the rule set you give those";

/// `when` trees deeper than this are refused: no real rule needs it, and it bounds recursion
/// for documents built in code (the JSON parser already caps nesting).
const MAX_NODE_DEPTH: usize = 32;
/// How many prompt ids an UnknownPrompt message lists.
const MAX_LISTED_PROMPTS: usize = 10;

/// The valid entries of `groups` (errors are reported later, with the other fields).
fn groups_of(value: Option<&Value>) -> Value {
    let mut groups = Vec::new();
    if let Some(Value::Object(entries)) = value {
        for (name, list) in entries {
            if list.as_array().is_some() {
                groups.push((name.clone(), list.clone()));
            }
        }
    }
    Value::Object(groups)
}

struct Checker<'a> {
    errors: Vec<ValidationError>,
    ctx: Context<'a>,
    prompt_ids: Vec<&'a str>,
    /// Whether account-level signals are read (the SQL engines) or unknown (the browser).
    #[cfg(feature = "sql")]
    account_signals: bool,
}

impl<'a> Checker<'a> {
    fn new(groups: &'a Value, regex: &'a dyn RegexEngine, prompt_ids: Vec<&'a str>) -> Self {
        Checker {
            errors: Vec::new(),
            ctx: Context { groups, regex },
            prompt_ids,
            #[cfg(feature = "sql")]
            account_signals: false,
        }
    }

    fn report(&mut self, code: ErrorCode, path: &str, message: impl FnOnce() -> String) {
        ValidationError::report(&mut self.errors, code, path, message);
    }

    fn invalid(&mut self, path: &str, message: &str) {
        self.report(ErrorCode::InvalidValue, path, || message.to_string());
    }

    fn wrong_type(&mut self, path: &str, expected: &str, found: &Value) {
        self.report(ErrorCode::InvalidType, path, || {
            let found = match found {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                Value::Array(_) => "an array",
                Value::Object(_) => "an object",
            };
            join(&["expected ", expected, ", found ", found])
        });
    }

    fn missing(&mut self, parent: &str, key: &str, hint: &str) {
        let message = || join(&["missing \"", key, "\"", hint]);
        self.report(ErrorCode::MissingField, &child_path(parent, key), message);
    }

    fn unknown_field(&mut self, parent: &str, key: &str, known: &[&str]) {
        let message = || {
            let mut message = join(&["unknown field \"", key, "\""]);
            if key == "across" || key == "distinctUsers" {
                message.push_str(ACCOUNT_SIGNALS_ELSEWHERE);
                return message;
            }
            if let Some(suggestion) = closest(key, known) {
                message.push_str("; did you mean \"");
                message.push_str(suggestion);
                message.push_str("\"?");
            }
            message
        };
        self.report(ErrorCode::UnknownField, &child_path(parent, key), message);
    }

    /// `value` as an object whose keys are all in `known`; unknown keys are reported.
    fn object(&mut self, value: &Value, path: &str, known: &[&str]) -> bool {
        let Some(entries) = value.as_object() else {
            self.wrong_type(path, "an object", value);
            return false;
        };
        for (key, _) in entries {
            if !known.contains(&key.as_str()) {
                self.unknown_field(path, key, known);
            }
        }
        true
    }

    /// The field `key` of `parent`, reported as missing when absent.
    fn required<'v>(
        &mut self,
        parent: &'v Value,
        path: &str,
        key: &str,
        hint: &str,
    ) -> Option<&'v Value> {
        let field = parent.get(key);
        if field.is_none() {
            self.missing(path, key, hint);
        }
        field
    }

    fn text<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v str> {
        let text = value.as_str();
        if text.is_none() {
            self.wrong_type(path, "a string", value);
        }
        text
    }

    fn non_empty<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v str> {
        let text = self.text(value, path)?;
        if text.is_empty() {
            self.invalid(path, "must not be empty");
            return None;
        }
        Some(text)
    }

    fn name(&mut self, value: &Value, path: &str) -> Option<String> {
        self.non_empty(value, path).map(str::to_string)
    }

    fn number(&mut self, value: &Value, path: &str) -> Option<f64> {
        match value {
            Value::Number(n) if n.is_finite() => Some(*n),
            // `1e999` parses to infinity.
            Value::Number(_) => {
                self.invalid(path, "this number is too large");
                None
            }
            _ => {
                self.wrong_type(path, "a number", value);
                None
            }
        }
    }

    fn whole_number(&mut self, value: &Value, path: &str, min: i64, max: i64) -> Option<i64> {
        let n = self.number(value, path)?;
        if n.fract() != 0.0 || n < min as f64 || n > max as f64 {
            self.report(ErrorCode::InvalidValue, path, || {
                let mut message = String::from("must be a whole number from ");
                json::write_int(&mut message, min);
                message.push_str(" to ");
                json::write_int(&mut message, max);
                message
            });
            return None;
        }
        Some(n as i64)
    }

    /// A cap such as `maxShows`: a whole number of at least 1.
    fn cap(&mut self, value: &Value, path: &str) -> Option<u32> {
        self.whole_number(value, path, 1, u32::MAX as i64).map(|n| n as u32)
    }

    fn duration(&mut self, value: &Value, path: &str) -> Option<Millis> {
        let Some(text) = value.as_str() else {
            self.wrong_type(path, "a duration such as \"7d\"", value);
            return None;
        };
        let millis = parse_duration(text);
        if millis.is_none() {
            let message = || {
                join(&[
                    "\"",
                    text,
                    "\" is not a duration: write a whole number followed by s, m, h, d or w, such as \"7d\"",
                ])
            };
            self.report(ErrorCode::InvalidDuration, path, message);
        }
        millis
    }

    /// The optional duration field `key` of `parent`.
    fn optional_duration(&mut self, parent: &Value, path: &str, key: &str) -> Option<Millis> {
        let value = parent.get(key)?;
        self.duration(value, &child_path(path, key))
    }

    /// One of `options`, returned as its index.
    fn choice(&mut self, value: &Value, path: &str, options: &[&str], what: &str) -> Option<usize> {
        let text = self.text(value, path)?;
        let index = options.iter().position(|option| *option == text);
        if index.is_none() {
            self.report(ErrorCode::InvalidValue, path, || {
                let mut message = join(&["\"", text, "\" is not ", what, ": use "]);
                for (i, option) in options.iter().enumerate() {
                    if i > 0 {
                        message.push_str(", ");
                    }
                    message.push_str(option);
                }
                message
            });
        }
        index
    }

    /// A condition object (audience, where, traits), checked by the condition module.
    fn condition(&mut self, value: &Value, path: &str) -> Option<Condition> {
        if value.as_object().is_none() {
            self.wrong_type(path, "an object of conditions", value);
            return None;
        }
        Some(Condition::new(value.clone(), path, &self.ctx, &mut self.errors))
    }

    /// A comparison on a measured number: `{"$gte": 2}`, or a bare number read as `$gte`.
    fn comparison(&mut self, value: &Value, path: &str) -> Option<Condition> {
        match value {
            Value::Number(_) => {
                let n = self.number(value, path)?;
                let mut compare = Value::Object(Vec::new());
                compare.insert("$gte", Value::Number(n));
                Some(Condition::value(compare, path, &self.ctx, &mut self.errors))
            }
            Value::Object(entries) => {
                if entries.is_empty() {
                    self.invalid(path, "write a comparison such as {\"$gte\": 2}");
                    return None;
                }
                // A key without `$` would make the condition module compare the number with an
                // object, which never holds: almost certainly a forgotten `$`.
                let mut operators_only = true;
                for (key, _) in entries {
                    if key.starts_with("$") {
                        continue;
                    }
                    operators_only = false;
                    let message = || {
                        join(&[
                            "\"",
                            key,
                            "\" is not an operator: operators start with $, such as {\"$gte\": 2}",
                        ])
                    };
                    self.report(ErrorCode::InvalidValue, &child_path(path, key), message);
                }
                // Only operators are worth checking: the keys above are reported already.
                let mut unchecked = Vec::new();
                let errors = if operators_only { &mut self.errors } else { &mut unchecked };
                Some(Condition::value(value.clone(), path, &self.ctx, errors))
            }
            _ => {
                self.wrong_type(path, "a number or a comparison such as {\"$gte\": 2}", value);
                None
            }
        }
    }

    fn rule_set(&mut self, document: &Value) -> RuleSet {
        let mut rule_set = RuleSet {
            version: 1,
            pages: Vec::new(),
            rules: Vec::new(),
            scoring: Scoring::default(),
            on_qualified: Vec::new(),
            prompts: Vec::new(),
            limits: Limits::default(),
            groups: Value::Object(Vec::new()),
        };
        // A document that is no object is that one problem (its fields are not looked for).
        if !self.object(document, "", TOP_FIELDS) {
            return rule_set;
        }
        match document.get("version") {
            Some(Value::Number(n)) if *n == 1.0 => {}
            Some(Value::Number(_)) => self.report(ErrorCode::UnsupportedVersion, "version", || {
                "this SDK reads rule sets of version 1".to_string()
            }),
            Some(other) => self.wrong_type("version", "the number 1", other),
            // error.rs defines UnsupportedVersion as covering a missing version.
            None => self.report(ErrorCode::UnsupportedVersion, "version", || {
                "missing \"version\": write \"version\": 1".to_string()
            }),
        }
        if let Some(schema) = document.get("$schema") {
            self.text(schema, "$schema");
        }
        if let Some(pages) = document.get("pages") {
            rule_set.pages = self.pages(pages, "pages");
        }
        if let Some(rules) =
            self.required(document, "", "rules", ": a rule set has a list of rules")
        {
            rule_set.rules = self.rules(rules, "rules");
        }
        if let Some(scoring) = document.get("scoring") {
            rule_set.scoring = self.scoring(scoring, "scoring");
        }
        if let Some(actions) = document.get("onQualified") {
            rule_set.on_qualified = self.actions(actions, "onQualified");
        }
        if let Some(prompts) = document.get("prompts") {
            rule_set.prompts = self.prompts(prompts, "prompts");
        }
        if let Some(limits) = document.get("limits") {
            rule_set.limits = self.limits(limits, "limits");
        }
        if let Some(groups) = document.get("groups") {
            if let Some(entries) = groups.as_object() {
                for (name, list) in entries {
                    if list.as_array().is_none() {
                        self.wrong_type(&child_path("groups", name), "an array of values", list);
                    }
                }
            } else {
                self.wrong_type("groups", "an object", groups);
            }
        }
        rule_set
    }

    fn pages(&mut self, value: &Value, path: &str) -> Vec<(String, String)> {
        let mut pages = Vec::new();
        let Some(entries) = value.as_object() else {
            self.wrong_type(path, "an object", value);
            return pages;
        };
        for (name, pattern) in entries {
            let pattern_path = child_path(path, name);
            let Some(pattern) = self.text(pattern, &pattern_path) else { continue };
            if pattern.starts_with("/") {
                pages.push((name.clone(), pattern.to_string()));
            } else {
                self.invalid(
                    &pattern_path,
                    "a page is a URL path starting with \"/\", such as \"/pricing*\"",
                );
            }
        }
        pages
    }

    fn rules(&mut self, value: &Value, path: &str) -> Vec<Rule> {
        let Some(items) = value.as_array() else {
            self.wrong_type(path, "an array of rules", value);
            return Vec::new();
        };
        // Rule id → index of the rule that first used it, found through a table of `seen`
        // indices (plus one) by the id's hash: comparing every pair made 1000 rules quadratic.
        let mut seen: Vec<(&str, usize)> = Vec::new();
        let slots = (items.len() * 2).next_power_of_two();
        let mut by_hash = vec![0usize; slots];
        let mut rules = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let rule_path = index_path(path, index);
            if let Some(id) = item.get("id").and_then(Value::as_str).filter(|id| !id.is_empty()) {
                let mut at = crate::hash::fnv1a(id.as_bytes()) as usize;
                // Read with `get`: indexing would bring a bounds check and its panic location.
                while let Some(slot) = by_hash.get_mut(at & (slots - 1)) {
                    match seen.get(slot.wrapping_sub(1)) {
                        None => {
                            seen.push((id, index));
                            *slot = seen.len();
                            break;
                        }
                        Some(&(known, first)) if known == id => {
                            let message = || {
                                join(&["rule id \"", id, "\" is already used by "])
                                    + &index_path(path, first)
                            };
                            let id_path = child_path(&rule_path, "id");
                            self.report(ErrorCode::DuplicateRuleId, &id_path, message);
                            break;
                        }
                        _ => at += 1,
                    }
                }
            }
            if let Some(rule) = self.rule(item, &rule_path) {
                rules.push(rule);
            }
        }
        rules
    }

    fn rule(&mut self, value: &Value, path: &str) -> Option<Rule> {
        if !self.object(value, path, RULE_FIELDS) {
            return None;
        }
        let field = |key: &str| child_path(path, key);
        let id = self
            .required(value, path, "id", ": every rule needs a unique id")
            .and_then(|id| self.name(id, &field("id")));
        let kind = match value.get("kind") {
            Some(kind) => match self.choice(kind, &field("kind"), RULE_KINDS, "a rule kind") {
                Some(0) => RuleKind::Usage,
                Some(1) => RuleKind::Feature,
                Some(2) => RuleKind::Intent,
                Some(3) => RuleKind::Fit,
                _ => RuleKind::Other,
            },
            None => RuleKind::Other,
        };
        if let Some(description) = value.get("description") {
            self.text(description, &field("description"));
        }
        let audience = value.get("audience").and_then(|v| self.condition(v, &field("audience")));
        let trigger = value.get("trigger").and_then(|trigger| {
            let trigger_path = field("trigger");
            if self.object(trigger, &trigger_path, EVENT_FIELDS) {
                self.event_match(trigger, &trigger_path)
            } else {
                None
            }
        });
        let when = value.get("when").and_then(|when| self.node(when, &field("when"), 0));
        let score = value.get("score").and_then(|v| self.number(v, &field("score")));
        let actions = match value.get("actions") {
            Some(actions) => self.actions(actions, &field("actions")),
            None => Vec::new(),
        };
        let frequency = match value.get("frequency") {
            Some(frequency) => self.frequency(frequency, &field("frequency")),
            None => Frequency::default(),
        };
        let priority = value.get("priority").and_then(|v| {
            self.whole_number(v, &field("priority"), i32::MIN as i64, i32::MAX as i64)
        });
        // As a prompt: built whole, dropped whole without an id.
        let complete = id.is_some();
        let rule = Rule {
            id: id.unwrap_or_default(),
            kind,
            audience,
            trigger,
            when,
            score: score.unwrap_or(0.0),
            actions,
            frequency,
            priority: priority.unwrap_or(0) as i32,
        };
        complete.then_some(rule)
    }

    fn frequency(&mut self, value: &Value, path: &str) -> Frequency {
        let mut frequency = Frequency::default();
        if self.object(value, path, &["cooldown", "maxShows", "snoozeOnDismiss", "maxDismissals"]) {
            frequency.cooldown = self.optional_duration(value, path, "cooldown");
            frequency.snooze_on_dismiss = self.optional_duration(value, path, "snoozeOnDismiss");
            frequency.max_shows =
                value.get("maxShows").and_then(|v| self.cap(v, &child_path(path, "maxShows")));
            frequency.max_dismissals = value
                .get("maxDismissals")
                .and_then(|v| self.cap(v, &child_path(path, "maxDismissals")));
        }
        frequency
    }

    fn limits(&mut self, value: &Value, path: &str) -> Limits {
        let mut limits = Limits::default();
        if self.object(value, path, &["maxPerSession", "maxPerDay", "minInterval"]) {
            limits.max_per_session = value
                .get("maxPerSession")
                .and_then(|v| self.cap(v, &child_path(path, "maxPerSession")));
            limits.max_per_day =
                value.get("maxPerDay").and_then(|v| self.cap(v, &child_path(path, "maxPerDay")));
            limits.min_interval = self.optional_duration(value, path, "minInterval");
        }
        limits
    }

    fn scoring(&mut self, value: &Value, path: &str) -> Scoring {
        let mut scoring = Scoring::default();
        if !self.object(value, path, &["threshold", "tiers"]) {
            return scoring;
        }
        scoring.threshold =
            value.get("threshold").and_then(|v| self.number(v, &child_path(path, "threshold")));
        if let Some(tiers) = value.get("tiers") {
            let tiers_path = child_path(path, "tiers");
            match tiers.as_object() {
                Some(entries) => {
                    for (name, minimum) in entries {
                        let tier_path = child_path(&tiers_path, name);
                        match self.number(minimum, &tier_path) {
                            Some(n) if n < 0.0 => {
                                self.invalid(&tier_path, "a tier's minimum score must be 0 or more")
                            }
                            Some(n) => {
                                // Kept sorted by minimum score as they are read: the new tier
                                // goes before the first with a greater minimum, the rest move
                                // up one (not `Vec::insert`, whose index check and panic
                                // location the runtime would carry for this one use).
                                let mut carried = (name.clone(), n);
                                let mut shifting = false;
                                for tier in &mut scoring.tiers {
                                    if shifting || tier.1 > n {
                                        std::mem::swap(tier, &mut carried);
                                        shifting = true;
                                    }
                                }
                                scoring.tiers.push(carried);
                            }
                            None => {}
                        }
                    }
                }
                None => self.wrong_type(&tiers_path, "an object of tier names and scores", tiers),
            }
        }
        scoring
    }

    fn actions(&mut self, value: &Value, path: &str) -> Vec<Action> {
        let Some(items) = value.as_array() else {
            self.wrong_type(path, "an array of actions", value);
            return Vec::new();
        };
        let mut actions = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if let Some(action) = self.action(item, &index_path(path, index)) {
                actions.push(action);
            }
        }
        actions
    }

    fn action(&mut self, value: &Value, path: &str) -> Option<Action> {
        if !self.object(value, path, &["prompt", "beacon"]) {
            return None;
        }
        match (value.get("prompt"), value.get("beacon")) {
            (Some(_), Some(_)) => {
                self.invalid(path, "an action has either \"prompt\" or \"beacon\", not both");
                None
            }
            (Some(prompt), None) => {
                let prompt_path = child_path(path, "prompt");
                let id = self.name(prompt, &prompt_path)?;
                if !self.prompt_ids.contains(&id.as_str()) {
                    self.unknown_prompt(&prompt_path, &id);
                }
                Some(Action::Prompt(id))
            }
            (None, Some(beacon)) => {
                self.name(beacon, &child_path(path, "beacon")).map(Action::Beacon)
            }
            (None, None) => {
                // Unknown keys were already reported, with a suggestion.
                if value.as_object().is_some_and(|entries| entries.is_empty()) {
                    self.invalid(
                        path,
                        "an action is {\"prompt\": \"<prompt id>\"} or {\"beacon\": \"<type>\"}",
                    );
                }
                None
            }
        }
    }

    fn unknown_prompt(&mut self, path: &str, id: &str) {
        let prompt_ids = &self.prompt_ids;
        let message = || {
            let mut message = join(&["no prompt \"", id, "\" in \"prompts\""]);
            if prompt_ids.is_empty() {
                message.push_str(", which defines none");
            } else {
                message.push_str("; known prompts: ");
                for (index, known) in prompt_ids.iter().take(MAX_LISTED_PROMPTS).enumerate() {
                    if index > 0 {
                        message.push_str(", ");
                    }
                    message.push('"');
                    message.push_str(known);
                    message.push('"');
                }
                if prompt_ids.len() > MAX_LISTED_PROMPTS {
                    message.push_str(", …");
                }
            }
            message
        };
        // Not `report`: the message borrows `prompt_ids`, `report` all of `self`.
        ValidationError::report(&mut self.errors, ErrorCode::UnknownPrompt, path, message);
    }

    fn prompts(&mut self, value: &Value, path: &str) -> Vec<(String, Prompt)> {
        let mut prompts = Vec::new();
        let Some(entries) = value.as_object() else {
            self.wrong_type(path, "an object of prompts by id", value);
            return prompts;
        };
        for (id, prompt) in entries {
            if let Some(prompt) = self.prompt(prompt, &child_path(path, id)) {
                prompts.push((id.clone(), prompt));
            }
        }
        prompts
    }

    fn prompt(&mut self, value: &Value, path: &str) -> Option<Prompt> {
        if !self.object(value, path, PROMPT_FIELDS) {
            return None;
        }
        let field = |key: &str| child_path(path, key);
        let style = self
            .required(value, path, "style", ": use modal, banner, toast or inline")
            .and_then(|style| self.choice(style, &field("style"), PROMPT_STYLES, "a prompt style"))
            .map(|index| match index {
                0 => PromptStyle::Modal,
                1 => PromptStyle::Banner,
                2 => PromptStyle::Toast,
                _ => PromptStyle::Inline,
            });
        let slot = match value.get("slot") {
            Some(slot) => self.name(slot, &field("slot")),
            None => {
                if style == Some(PromptStyle::Inline) {
                    self.missing(
                        path,
                        "slot",
                        ": an inline prompt renders into <div data-pqlkit-slot=\"NAME\">; name that slot",
                    );
                }
                None
            }
        };
        let title = self
            .required(value, path, "title", "")
            .and_then(|title| self.template(title, &field("title"), true));
        let body = value.get("body").and_then(|body| self.template(body, &field("body"), false));
        let dismiss = value.get("dismiss").and_then(|d| self.template(d, &field("dismiss"), true));
        let cta = value.get("cta").and_then(|cta| self.cta(cta, &field("cta")));
        if let Some(description) = value.get("description") {
            self.text(description, &field("description"));
        }
        // Built whole and dropped whole when a part is missing: a `?` per part gave each exit
        // its own drops of the parts already read.
        let complete = style.is_some() && title.is_some();
        let prompt = Prompt {
            style: style.unwrap_or(PromptStyle::Modal),
            slot,
            title: title.unwrap_or_default(),
            body: body.unwrap_or_default(),
            cta,
            dismiss,
        };
        complete.then_some(prompt)
    }

    fn cta(&mut self, value: &Value, path: &str) -> Option<Cta> {
        if !self.object(value, path, &["label", "url"]) {
            return None;
        }
        let label = self
            .required(value, path, "label", ": the text of the button")
            .and_then(|label| self.template(label, &child_path(path, "label"), true));
        let url_path = child_path(path, "url");
        let url = self
            .required(value, path, "url", ": where the button leads")
            .and_then(|url| self.name(url, &url_path));
        if let Some(url) = &url {
            if !is_safe_url(url) {
                let message = || {
                    join(&[
                        "\"",
                        url,
                        "\" is not allowed: a button URL starts with http:// or https://, or is relative such as \"/settings/billing\"",
                    ])
                };
                self.report(ErrorCode::UnsafeUrl, &url_path, message);
                return None;
            }
        }
        Some(Cta { label: label?, url: url? })
    }

    fn template(&mut self, value: &Value, path: &str, non_empty: bool) -> Option<Template> {
        let text = if non_empty { self.non_empty(value, path)? } else { self.text(value, path)? };
        Some(parse_template(text, path, &mut self.errors))
    }

    /// `event` and `where` of a trigger, an event signal or a `notFollowedBy`.
    fn event_match(&mut self, value: &Value, path: &str) -> Option<EventMatch> {
        let event = self
            .required(value, path, "event", ": the name of the event, such as \"page_view\"")
            .and_then(|event| self.name(event, &child_path(path, "event")));
        let filter = value
            .get("where")
            .and_then(|filter| self.condition(filter, &child_path(path, "where")));
        Some(EventMatch { event: event?, filter })
    }

    fn node(&mut self, value: &Value, path: &str, depth: usize) -> Option<Node> {
        let Some(entries) = value.as_object() else {
            self.wrong_type(path, "an object (all, any, not, or a signal)", value);
            return None;
        };
        if depth > MAX_NODE_DEPTH {
            self.invalid(path, "conditions are nested too deeply (more than 32 levels)");
            return None;
        }
        let Some((operator, inner)) =
            entries.iter().find(|(key, _)| matches!(key.as_str(), "all" | "any" | "not"))
        else {
            return self.signal(value, path).map(|signal| Node::Signal(Box::new(signal)));
        };
        for (key, _) in entries {
            if key == operator {
                continue;
            }
            let message = || {
                join(&[
                    "\"",
                    key,
                    "\" cannot sit beside \"",
                    operator,
                    "\": a node has exactly one of all, any or not, or is a signal",
                ])
            };
            self.report(ErrorCode::UnknownField, &child_path(path, key), message);
        }
        let inner_path = child_path(path, operator);
        if operator == "not" {
            let node = self.node(inner, &inner_path, depth + 1)?;
            return Some(Node::Not(Box::new(node)));
        }
        let Some(items) = inner.as_array() else {
            self.wrong_type(&inner_path, "an array", inner);
            return None;
        };
        if items.is_empty() {
            self.invalid(&inner_path, "list at least one condition");
        }
        let mut nodes = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if let Some(node) = self.node(item, &index_path(&inner_path, index), depth + 1) {
                nodes.push(node);
            }
        }
        Some(if operator == "all" { Node::All(nodes) } else { Node::Any(nodes) })
    }

    fn signal(&mut self, value: &Value, path: &str) -> Option<Signal> {
        #[cfg(feature = "sql")]
        if self.account_signals
            && (value.get("across").is_some() || value.get("distinctUsers").is_some())
        {
            return self.account_signal(value, path);
        }
        // The first two shapes present: one is the signal, two are a mistake.
        let (mut first, mut second) = (None, None);
        for entry @ &(key, shape, _) in SIGNAL_SHAPES {
            if value.get(key).is_some() || (shape == Shape::Usage && value.get("limit").is_some()) {
                *if first.is_none() { &mut first } else { &mut second } = Some(entry);
            }
        }
        let Some(&(measure, shape, allowed)) = first else {
            self.object(value, path, ALL_SIGNAL_FIELDS);
            self.report(ErrorCode::InvalidSignal, path, || {
                let lead = if value.get("event").is_some() {
                    "an event signal needs \"count\", \"distinctDays\", \"sum\" or \"notFollowedBy\"; "
                } else {
                    "this is not a signal: "
                };
                join(&[lead, SIGNAL_LIST])
            });
            return None;
        };
        if let Some(&(other, _, _)) = second {
            let message = || {
                join(&[
                    "a signal measures one thing: found both \"",
                    measure,
                    "\" and \"",
                    other,
                    "\"",
                ])
            };
            self.report(ErrorCode::InvalidSignal, path, message);
            return None;
        }
        self.object(value, path, allowed);
        let field = |key: &str| child_path(path, key);
        // Present for every shape but `usage`, which `limit` alone also selects.
        let measured = value.get(measure).unwrap_or(&Value::Null);
        let window = ": this signal needs a time window such as \"7d\"";
        // Every shape's own key names the field its measure is read from.
        let measure_path = field(measure);
        let kind = match shape {
            Shape::Count | Shape::DistinctDays | Shape::Sum | Shape::NotFollowedBy => {
                let on = self.event_match(value, path);
                let within = if shape == Shape::DistinctDays || shape == Shape::NotFollowedBy {
                    let within = self.required(value, path, "within", window);
                    within.and_then(|within| self.duration(within, &field("within"))).map(Some)
                } else {
                    Some(self.optional_duration(value, path, "within"))
                };
                match shape {
                    Shape::Count => {
                        let compare = self.comparison(measured, &measure_path);
                        SignalKind::Count { on: on?, within: within?, compare: compare? }
                    }
                    Shape::DistinctDays => {
                        let compare = self.comparison(measured, &measure_path);
                        SignalKind::DistinctDays { on: on?, within: within??, compare: compare? }
                    }
                    Shape::Sum => {
                        let property = self.name(measured, &measure_path);
                        let compare = self
                            .required(
                                value,
                                path,
                                "value",
                                ": the comparison, such as {\"$gte\": 100}",
                            )
                            .and_then(|compare| self.comparison(compare, &field("value")));
                        SignalKind::Sum {
                            on: on?,
                            property: property?,
                            within: within?,
                            compare: compare?,
                        }
                    }
                    _ => {
                        let then = measured;
                        let then = if self.object(then, &measure_path, EVENT_FIELDS) {
                            self.event_match(then, &measure_path)
                        } else {
                            None
                        };
                        SignalKind::NotFollowedBy { on: on?, then: then?, within: within?? }
                    }
                }
            }
            Shape::Sessions => {
                let compare = self.comparison(measured, &measure_path);
                let within = self.optional_duration(value, path, "within");
                SignalKind::Sessions { within, compare: compare? }
            }
            Shape::Usage => {
                let limit = self
                    .required(
                        value,
                        path,
                        "limit",
                        ": the name of the metered limit, such as \"seats\"",
                    )
                    .and_then(|limit| self.name(limit, &field("limit")));
                let compare = self
                    .required(
                        value,
                        path,
                        "usage",
                        ": the used/limit ratio to compare, such as {\"$gte\": 0.8}",
                    )
                    .and_then(|usage| self.comparison(usage, &measure_path));
                SignalKind::Usage { limit: limit?, compare: compare? }
            }
            Shape::FirstSeen => {
                // Only `true` exists: "first seen at least N ago" is written with `not` or
                // `daysSinceFirstSeen`, so the model keeps one meaning.
                let recent = match measured {
                    Value::Bool(true) => Some(()),
                    Value::Bool(false) => {
                        self.invalid(
                            &measure_path,
                            "write \"firstSeen\": true; for users first seen longer ago, wrap the signal in {\"not\": ...} or use daysSinceFirstSeen",
                        );
                        None
                    }
                    _ => {
                        self.wrong_type(&measure_path, "true", measured);
                        None
                    }
                };
                let within = self
                    .required(value, path, "within", window)
                    .and_then(|within| self.duration(within, &field("within")));
                recent?;
                SignalKind::FirstSeen { within: within? }
            }
            Shape::DaysSinceFirstSeen => {
                let compare = self.comparison(measured, &measure_path);
                SignalKind::DaysSinceFirstSeen { compare: compare? }
            }
            Shape::Traits => {
                SignalKind::Traits { condition: self.condition(measured, &measure_path)? }
            }
        };
        Some(Signal { path: path.to_string(), source: value.clone(), kind })
    }

    /// `{event, where?, count | sum + value | distinctDays | distinctUsers, within?, across: "account"}`.
    #[cfg(feature = "sql")]
    fn account_signal(&mut self, value: &Value, path: &str) -> Option<Signal> {
        use super::AccountMeasure;
        let field = |key: &str| child_path(path, key);
        const SHAPE: &[&str] = &[
            "event",
            "where",
            "count",
            "sum",
            "value",
            "distinctDays",
            "distinctUsers",
            "within",
            "across",
        ];
        self.object(value, path, SHAPE);
        match value.get("across") {
            Some(Value::String(s)) if s == "account" => {}
            Some(other) => {
                self.report(ErrorCode::InvalidValue, &field("across"), || {
                    join(&["\"across\" takes \"account\", found ", &other.to_json()])
                });
                return None;
            }
            None => {
                self.missing(
                    path,
                    "across",
                    ": distinctUsers counts the users of an account: add \"across\": \"account\"",
                );
                return None;
            }
        }
        let measures = ["count", "sum", "distinctDays", "distinctUsers"];
        let present: Vec<&str> = measures.into_iter().filter(|m| value.get(m).is_some()).collect();
        let [measure] = present.as_slice() else {
            self.report(ErrorCode::InvalidSignal, path, || {
                "an account-level signal measures one of count, sum (with value), distinctDays or distinctUsers".to_string()
            });
            return None;
        };
        let on = self.event_match(value, path);
        let within = self.optional_duration(value, path, "within");
        let measured = value.get(measure).unwrap_or(&Value::Null);
        let (measure, compare) = match *measure {
            "sum" => {
                let property = self.name(measured, &field("sum"));
                let compare = self
                    .required(value, path, "value", ": the comparison, such as {\"$gte\": 100}")
                    .and_then(|compare| self.comparison(compare, &field("value")));
                (AccountMeasure::Sum(property?), compare)
            }
            "distinctDays" => {
                (AccountMeasure::DistinctDays, self.comparison(measured, &field("distinctDays")))
            }
            "distinctUsers" => {
                (AccountMeasure::DistinctUsers, self.comparison(measured, &field("distinctUsers")))
            }
            _ => (AccountMeasure::Count, self.comparison(measured, &field("count"))),
        };
        let kind = SignalKind::Account { measure, on: on?, within, compare: compare? };
        Some(Signal { path: path.to_string(), source: value.clone(), kind })
    }
}

/// The entry of `known` closest to a mistyped `key` (case-insensitive edit distance ≤ 2).
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let mut best: Option<(usize, &str)> = None;
    for &candidate in known {
        let distance = edit_distance(key, candidate);
        // A one- or two-letter key is within 2 of everything short: demand a closer match.
        if distance <= 2 && distance < key.len() && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// Levenshtein distance over ASCII-lowercased bytes, giving up early past 2.
fn edit_distance(a: &str, b: &str) -> usize {
    if a.len().abs_diff(b.len()) > 2 {
        return 3;
    }
    let b = b.as_bytes();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            let substitution = diagonal + usize::from(!ca.eq_ignore_ascii_case(cb));
            row[j + 1] = (above + 1).min(row[j] + 1).min(substitution);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::{DAY, HOUR};
    use crate::json::object;
    use crate::prompt::{Namespace, TemplatePart};

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
            Some(cond(json(
                r#"{"plan":{"$in":["free","trial"]},"account.company_size":{"$gte":10}}"#
            )))
        );
        assert_eq!(first.trigger, None);
        let Some(Node::All(children)) = &first.when else { panic!("{:?}", first.when) };
        let Node::Signal(pricing) = &children[0] else { panic!() };
        assert_eq!(pricing.path, "rules[0].when.all[0]");
        assert_eq!(pricing.source.get("within"), Some(&Value::from("7d")));
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
                on: EventMatch {
                    event: "msg".into(),
                    filter: Some(cond(json(r#"{"kind":"sms"}"#)))
                },
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
            (
                r#"{"version": 1, "rules": [], "scoring": {"threshold": 1e999}}"#,
                "scoring.threshold",
            ),
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
        let errors =
            errors_of(&with_rules(r#"{"id": "r", "audience": {"plan": {"$inn": ["free"]}}}"#));
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
        let errors = errors_of(&with_rules(
            r#"{"id": "r", "audience": {"email": {"$regex": "(unclosed"}}}"#,
        ));
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
            &with_rules(
                r#"{"id": "r", "when": {"event": "x", "count": 1, "sum": "n", "value": 1}}"#,
            ),
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

    /// A problem as the authoring build reports it: code, path and message.
    type Problem = (ErrorCode, &'static str, &'static str);

    /// Invalid documents and every problem each one has, in order. The runtime build must find
    /// the same codes and paths, without the words.
    fn explained() -> Vec<(String, Vec<Problem>)> {
        use ErrorCode::*;
        let eleven_prompts: Vec<String> = ('a'..='k')
            .map(|id| format!(r#""{id}": {{"style": "toast", "title": "t"}}"#))
            .collect();
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
}

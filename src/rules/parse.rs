//! JSON → validated [`RuleSet`]. Every problem is reported, not only the first, so that a
//! product manager fixes a rule set in one pass; each error carries a stable code, the JSON
//! path of the offending value and a message written for them.
//!
//! Messages are built by concatenation rather than `format!`: `core::fmt` costs wasm bytes.
//! Each is a closure that only the authoring build calls (see `error`): the runtime build
//! makes the same checks without their words.

use super::{Action, EventMatch, Frequency, Limits, Rule, RuleKind, RuleSet, Scoring};
use crate::condition::{Condition, Context, RegexEngine};
use crate::duration::{parse_duration, Millis};
use crate::error::{child_path, index_path, join, ErrorCode, ValidationError};
use crate::json::{self, Value};

mod prompts;
mod signals;

/// Why the browser refuses an account-level signal (authoring messages only).
const ACCOUNT_SIGNALS_ELSEWHERE: &str = ": account-level signals (\"across\": \"account\", \"distinctUsers\") count over \
every user of an account, which the browser, seeing one user, cannot evaluate. Only `pqlkit sql` and \
`pqlkit backtest --engine duckdb` read them: keep such rules in the rule set you give those";

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
const EVENT_FIELDS: &[&str] = &["event", "where"];

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

    /// The field `key` of `parent` as a non-empty string, reported as missing when absent.
    fn required_name(
        &mut self,
        parent: &Value,
        path: &str,
        key: &str,
        hint: &str,
    ) -> Option<String> {
        let value = self.required(parent, path, key, hint)?;
        self.name(value, &child_path(path, key))
    }

    /// The field `key` of `parent` as a duration, reported as missing when absent.
    fn required_duration(
        &mut self,
        parent: &Value,
        path: &str,
        key: &str,
        hint: &str,
    ) -> Option<Millis> {
        let value = self.required(parent, path, key, hint)?;
        self.duration(value, &child_path(path, key))
    }

    /// The field `key` of `parent` as a comparison, reported as missing when absent.
    fn required_comparison(
        &mut self,
        parent: &Value,
        path: &str,
        key: &str,
        hint: &str,
    ) -> Option<Condition> {
        let value = self.required(parent, path, key, hint)?;
        self.comparison(value, &child_path(path, key))
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

    /// The optional cap field `key` of `parent`.
    fn optional_cap(&mut self, parent: &Value, path: &str, key: &str) -> Option<u32> {
        let value = parent.get(key)?;
        self.cap(value, &child_path(path, key))
    }

    /// The optional number field `key` of `parent`.
    fn optional_number(&mut self, parent: &Value, path: &str, key: &str) -> Option<f64> {
        let value = parent.get(key)?;
        self.number(value, &child_path(path, key))
    }

    /// The optional condition field `key` of `parent`.
    fn optional_condition(&mut self, parent: &Value, path: &str, key: &str) -> Option<Condition> {
        let value = parent.get(key)?;
        self.condition(value, &child_path(path, key))
    }

    /// Checks the optional text field `key` of `parent` (a description, `$schema`).
    fn optional_text(&mut self, parent: &Value, path: &str, key: &str) {
        if let Some(value) = parent.get(key) {
            self.text(value, &child_path(path, key));
        }
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
        self.optional_text(document, "", "$schema");
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
        let id = self.required_name(value, path, "id", ": every rule needs a unique id");
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
        self.optional_text(value, path, "description");
        let audience = self.optional_condition(value, path, "audience");
        let trigger = value.get("trigger").and_then(|trigger| {
            let trigger_path = field("trigger");
            if self.object(trigger, &trigger_path, EVENT_FIELDS) {
                self.event_match(trigger, &trigger_path)
            } else {
                None
            }
        });
        let when = value.get("when").and_then(|when| self.node(when, &field("when"), 0));
        let score = self.optional_number(value, path, "score");
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
            frequency.max_shows = self.optional_cap(value, path, "maxShows");
            frequency.max_dismissals = self.optional_cap(value, path, "maxDismissals");
        }
        frequency
    }

    fn limits(&mut self, value: &Value, path: &str) -> Limits {
        let mut limits = Limits::default();
        if self.object(value, path, &["maxPerSession", "maxPerDay", "minInterval"]) {
            limits.max_per_session = self.optional_cap(value, path, "maxPerSession");
            limits.max_per_day = self.optional_cap(value, path, "maxPerDay");
            limits.min_interval = self.optional_duration(value, path, "minInterval");
        }
        limits
    }

    fn scoring(&mut self, value: &Value, path: &str) -> Scoring {
        let mut scoring = Scoring::default();
        if !self.object(value, path, &["threshold", "tiers"]) {
            return scoring;
        }
        scoring.threshold = self.optional_number(value, path, "threshold");
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

    /// `event` and `where` of a trigger, an event signal or a `notFollowedBy`.
    fn event_match(&mut self, value: &Value, path: &str) -> Option<EventMatch> {
        let event = self.required_name(
            value,
            path,
            "event",
            ": the name of the event, such as \"page_view\"",
        );
        let filter = self.optional_condition(value, path, "where");
        Some(EventMatch { event: event?, filter })
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
mod tests;

//! `when` trees and their signals: each shape told apart by its key, its fields checked, and
//! account-level signals for the SQL engines only.

use super::{Checker, EVENT_FIELDS};
use crate::error::{child_path, index_path, join, ErrorCode};
use crate::json::Value;
use crate::rules::{Node, Signal, SignalKind};

/// `when` trees deeper than this are refused: no real rule needs it, and it bounds recursion
/// for documents built in code (the JSON parser already caps nesting).
const MAX_NODE_DEPTH: usize = 32;
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

impl Checker<'_> {
    pub(super) fn node(&mut self, value: &Value, path: &str, depth: usize) -> Option<Node> {
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
                    self.required_duration(value, path, "within", window).map(Some)
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
                        let compare = self.required_comparison(
                            value,
                            path,
                            "value",
                            ": the comparison, such as {\"$gte\": 100}",
                        );
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
                let limit = self.required_name(
                    value,
                    path,
                    "limit",
                    ": the name of the metered limit, such as \"seats\"",
                );
                let compare = self.required_comparison(
                    value,
                    path,
                    "usage",
                    ": the used/limit ratio to compare, such as {\"$gte\": 0.8}",
                );
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
                let within = self.required_duration(value, path, "within", window);
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
        Some(Signal { path: path.to_string(), source: value.to_json(), kind })
    }

    /// `{event, where?, count | sum + value | distinctDays | distinctUsers, within?, across: "account"}`.
    #[cfg(feature = "sql")]
    fn account_signal(&mut self, value: &Value, path: &str) -> Option<Signal> {
        use crate::rules::AccountMeasure;
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
                let compare = self.required_comparison(
                    value,
                    path,
                    "value",
                    ": the comparison, such as {\"$gte\": 100}",
                );
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
        Some(Signal { path: path.to_string(), source: value.to_json(), kind })
    }
}

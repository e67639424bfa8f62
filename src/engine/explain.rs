//! What the host can ask about: the score (PRODUCT.md §4 "Score") and why a rule does or does
//! not match (§3 `explain`). Both borrow from the engine; JSON is written at the boundary.

use super::{Engine, Tree};
use crate::condition::Condition;
use crate::duration::Millis;
use crate::frequency::Blocked;
use crate::json::{field_bool, field_json, field_num, field_opt, field_str, key, Value};
use crate::rules::{Action, EventMatch, Signal, SignalKind};
use crate::signals::{referenced_attributes, Facts};

/// `{ score, tier, qualified, rules: [{ id, matched, score }] }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Score<'a> {
    pub score: f64,
    pub tier: Option<&'a str>,
    pub qualified: bool,
    /// Every rule, in rule-set order.
    pub rules: Vec<RuleScore<'a>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RuleScore<'a> {
    pub id: &'a str,
    pub matched: bool,
    /// What the rule adds to the score now: its `score` while it holds, else 0.
    pub score: f64,
}

/// Why a rule does or does not match: `{ id, matched, audience, when, frequency, trigger? }`.
#[derive(Debug, PartialEq)]
pub struct Explanation<'a> {
    pub id: &'a str,
    /// An [`ExplainOp::Condition`] node, for a rule with an audience.
    pub audience: Option<ExplainNode<'a>>,
    pub when: Option<ExplainNode<'a>>,
    /// What would hold the rule's prompt back now; `None` when nothing would, or when the rule
    /// shows no prompt (written `{ blocked: null }`).
    pub frequency: Option<Blocked>,
    pub trigger: Option<&'a EventMatch>,
}

/// A node of an explanation: `{ op, matched, children?, signal?, actual?, expected? }`.
#[derive(Debug, PartialEq)]
pub struct ExplainNode<'a> {
    /// For `all`, `any` and `not`, computed from the children when the node is built.
    pub matched: bool,
    pub op: ExplainOp<'a>,
}

/// What an [`ExplainNode`] is.
#[derive(Debug, PartialEq)]
pub enum ExplainOp<'a> {
    All(Vec<ExplainNode<'a>>),
    Any(Vec<ExplainNode<'a>>),
    Not(Box<ExplainNode<'a>>),
    /// A leaf of `when`, with its measured value.
    Signal {
        signal: &'a Signal,
        actual: Value,
    },
    /// An audience, with the attributes it reads.
    Condition {
        condition: &'a Condition,
        actual: Value,
    },
}

/// The comparison a signal checks, shown next to its actual value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Expected<'a> {
    /// A condition as written, such as `{ "$gte": 2 }`.
    Condition(&'a Value),
    /// `{ notFollowedWithinMs }`
    NotFollowedWithin(Millis),
    /// `{ firstSeenWithinMs }`
    FirstSeenWithin(Millis),
}

impl Expected<'_> {
    fn of(kind: &SignalKind) -> Expected<'_> {
        match kind {
            SignalKind::Count { compare, .. }
            | SignalKind::DistinctDays { compare, .. }
            | SignalKind::Sessions { compare, .. }
            | SignalKind::Sum { compare, .. }
            | SignalKind::Usage { compare, .. }
            | SignalKind::DaysSinceFirstSeen { compare } => Expected::Condition(compare.source()),
            SignalKind::NotFollowedBy { within, .. } => Expected::NotFollowedWithin(*within),
            SignalKind::FirstSeen { within } => Expected::FirstSeenWithin(*within),
            SignalKind::Traits { condition } => Expected::Condition(condition.source()),
            #[cfg(feature = "sql")]
            SignalKind::Account { compare, .. } => Expected::Condition(compare.source()),
        }
    }

    fn write_json(self, out: &mut String) {
        let (k, within) = match self {
            Expected::Condition(source) => return source.write_json(out),
            Expected::NotFollowedWithin(within) => ("notFollowedWithinMs", within),
            Expected::FirstSeenWithin(within) => ("firstSeenWithinMs", within),
        };
        out.push('{');
        field_num(out, k, within as f64);
        out.push('}');
    }
}

impl<'a> ExplainNode<'a> {
    pub(super) fn all(children: Vec<ExplainNode<'a>>) -> Self {
        ExplainNode { matched: children.iter().all(|c| c.matched), op: ExplainOp::All(children) }
    }

    pub(super) fn any(children: Vec<ExplainNode<'a>>) -> Self {
        ExplainNode { matched: children.iter().any(|c| c.matched), op: ExplainOp::Any(children) }
    }

    pub(super) fn negate(child: ExplainNode<'a>) -> Self {
        ExplainNode { matched: !child.matched, op: ExplainOp::Not(Box::new(child)) }
    }

    /// `all`, `any`, `not`, `signal` or `condition`.
    pub fn op_name(&self) -> &'static str {
        match self.op {
            ExplainOp::All(_) => "all",
            ExplainOp::Any(_) => "any",
            ExplainOp::Not(_) => "not",
            ExplainOp::Signal { .. } => "signal",
            ExplainOp::Condition { .. } => "condition",
        }
    }

    /// The children of `all`, `any` and `not`; none for a leaf.
    pub fn children(&self) -> &[Self] {
        match &self.op {
            ExplainOp::All(children) | ExplainOp::Any(children) => children,
            ExplainOp::Not(child) => std::slice::from_ref(child),
            _ => &[],
        }
    }

    /// A leaf's measured value (a signal's) or the attributes it reads (an audience's).
    pub fn actual(&self) -> Option<&Value> {
        match &self.op {
            ExplainOp::Signal { actual, .. } | ExplainOp::Condition { actual, .. } => Some(actual),
            _ => None,
        }
    }

    /// What a leaf compares its actual value with.
    pub fn expected(&self) -> Option<Expected<'a>> {
        match self.op {
            ExplainOp::Signal { signal, .. } => Some(Expected::of(&signal.kind)),
            ExplainOp::Condition { condition, .. } => Some(Expected::Condition(condition.source())),
            _ => None,
        }
    }

    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        field_str(out, "op", self.op_name());
        field_bool(out, "matched", self.matched);
        match &self.op {
            ExplainOp::Signal { signal, actual } => {
                key(out, "signal");
                out.push_str(&signal.source);
                field_json(out, "actual", actual);
                key(out, "expected");
                Expected::of(&signal.kind).write_json(out);
            }
            ExplainOp::Condition { condition, actual } => {
                field_json(out, "actual", actual);
                field_json(out, "expected", condition.source());
            }
            _ => {
                key(out, "children");
                out.push('[');
                for (i, child) in self.children().iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    child.write_json(out);
                }
                out.push(']');
            }
        }
        out.push('}');
    }
}

/// `{ blocked: reason | null, until? }`
fn write_blocked(out: &mut String, blocked: Option<&Blocked>) {
    out.push('{');
    field_opt(out, "blocked", blocked.map(|b| b.reason));
    if let Some(until) = blocked.and_then(|b| b.until) {
        field_num(out, "until", until as f64);
    }
    out.push('}');
}

impl Explanation<'_> {
    /// The audience admits the attributes and `when` holds (each when present).
    pub fn matched(&self) -> bool {
        let holds = |node: &Option<ExplainNode>| node.as_ref().is_none_or(|n| n.matched);
        holds(&self.audience) && holds(&self.when)
    }

    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(512);
        self.write_json(&mut out);
        out
    }

    pub fn write_json(&self, out: &mut String) {
        let node = |out: &mut String, k: &str, node: &Option<ExplainNode>| match node {
            Some(node) => {
                key(out, k);
                node.write_json(out);
            }
            None => field_json(out, k, &Value::Null),
        };
        out.push('{');
        field_str(out, "id", self.id);
        field_bool(out, "matched", self.matched());
        node(out, "audience", &self.audience);
        node(out, "when", &self.when);
        key(out, "frequency");
        write_blocked(out, self.frequency.as_ref());
        if let Some(trigger) = self.trigger {
            key(out, "trigger");
            out.push('{');
            field_str(out, "event", &trigger.event);
            if let Some(filter) = &trigger.filter {
                field_json(out, "where", filter.source());
            }
            out.push('}');
        }
        out.push('}');
    }
}

impl Score<'_> {
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(64 + 48 * self.rules.len());
        self.write_json(&mut out);
        out
    }

    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        field_num(out, "score", self.score);
        field_opt(out, "tier", self.tier);
        field_bool(out, "qualified", self.qualified);
        key(out, "rules");
        out.push('[');
        for (i, rule) in self.rules.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            field_str(out, "id", rule.id);
            field_bool(out, "matched", rule.matched);
            field_num(out, "score", rule.score);
            out.push('}');
        }
        out.push_str("]}");
    }
}

impl Engine {
    /// Why a rule does or does not match at `now`, condition by condition, with actual values,
    /// and what would hold its prompt back. `None` for an unknown rule id.
    pub fn explain(&self, rule_id: &str, now: Millis) -> Option<Explanation<'_>> {
        let r = self.rules.rules.iter().position(|rule| rule.id == rule_id)?;
        let facts = self.facts(now);
        let rule = &self.rules.rules[r];
        let attributes = &self.profile.attributes;
        let audience = rule.audience.as_ref().map(|condition| ExplainNode {
            matched: condition.matches(Some(attributes), &facts.conditions),
            op: ExplainOp::Condition {
                condition,
                actual: referenced_attributes(condition.source(), attributes),
            },
        });
        let has_prompt = rule.actions.iter().any(|a| matches!(a, Action::Prompt(_)));
        Some(Explanation {
            id: &rule.id,
            audience,
            when: self.trees[r].as_ref().map(|tree| self.explain_tree(tree, &facts)),
            frequency: if has_prompt { self.prompt_blocked(Some(r), now) } else { None },
            trigger: rule.trigger.as_ref(),
        })
    }

    /// [`Engine::explain`] as JSON text.
    pub fn explain_json(&self, rule_id: &str, now: Millis) -> Option<String> {
        self.explain(rule_id, now).map(|x| x.to_json())
    }

    fn explain_tree(&self, tree: &Tree, facts: &Facts) -> ExplainNode<'_> {
        let all = |children: &[Tree]| {
            let mut nodes = Vec::with_capacity(children.len());
            for child in children {
                nodes.push(self.explain_tree(child, facts));
            }
            nodes
        };
        match tree {
            Tree::All(children) => ExplainNode::all(all(children)),
            Tree::Any(children) => ExplainNode::any(all(children)),
            Tree::Not(child) => ExplainNode::negate(self.explain_tree(child, facts)),
            Tree::Leaf(i) | Tree::Traits(i) => {
                let measure = self.measure(*i, facts, true);
                let signal = &self.signals[*i].def;
                ExplainNode {
                    matched: measure.holds,
                    op: ExplainOp::Signal { signal, actual: measure.actual },
                }
            }
        }
    }
}

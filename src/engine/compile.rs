//! A rule set's `when` trees moved into the engine: every signal leaf in one flat list, its
//! state shared with the signals that measure alike, and indexes by event name and attribute
//! so that a call touches only the rules that read what it changed.

use super::{listeners, push_once, Engine, SignalSlot, Source, TraitPart, Tree};
use crate::rules::{Node, SignalKind};
use crate::signals::{number_range, same_measure, CachedState, SignalState};

impl Engine {
    /// Each rule's `when` moves into the engine, as a tree over the flat signal list.
    pub(super) fn compile(&mut self) {
        let mut rules = std::mem::take(&mut self.rules.rules);
        let mut roots = Vec::new();
        for (r, rule) in rules.iter_mut().enumerate() {
            let start = self.signals.len();
            let tree = rule.when.take().map(|node| self.compile_node(r, node));
            self.signal_ranges.push((start, self.signals.len()));
            self.trees.push(tree);
            if let Some(trigger) = &rule.trigger {
                push_once(&mut listeners(&mut self.by_event, &trigger.event).rules, r);
            }
            if let Some(audience) = &rule.audience {
                audience.roots(&mut roots);
                // Not `drain(..)`: its iterator and drop guard are code of their own.
                for root in &roots {
                    push_once(&mut listeners(&mut self.by_attribute, root).rules, r);
                }
                roots.clear();
            }
        }
        self.rules.rules = rules;
    }

    fn compile_nodes(&mut self, rule: usize, mut nodes: Vec<Node>) -> Vec<Tree> {
        let mut trees = Vec::with_capacity(nodes.len());
        // Taken by reference: a by-value iterator and its drop guard are code of their own.
        for node in &mut nodes {
            trees.push(self.compile_node(rule, std::mem::replace(node, Node::All(Vec::new()))));
        }
        trees
    }

    fn compile_node(&mut self, rule: usize, node: Node) -> Tree {
        match node {
            Node::All(children) => Tree::All(self.compile_nodes(rule, children)),
            Node::Any(children) => Tree::Any(self.compile_nodes(rule, children)),
            Node::Not(child) => Tree::Not(Box::new(self.compile_node(rule, *child))),
            Node::Signal(signal) => {
                let index = self.signals.len();
                let source = self.source_for(&signal.kind);
                self.sources[source].signals.push(index);
                let mut tree = Tree::Leaf(index);
                match &signal.kind {
                    SignalKind::Usage { .. } => push_once(&mut self.usage_rules, rule),
                    SignalKind::Traits { condition } => {
                        let mut roots = Vec::new();
                        for part in 0..condition.parts() {
                            let id = self.trait_parts.len();
                            self.trait_parts.push(TraitPart { signal: index, part, holds: false });
                            condition.part_roots(part, &mut roots);
                            for root in &roots {
                                push_once(&mut listeners(&mut self.by_attribute, root).signals, id);
                            }
                            roots.clear();
                        }
                        tree = Tree::Traits(index);
                    }
                    SignalKind::Sessions { .. }
                    | SignalKind::FirstSeen { .. }
                    | SignalKind::DaysSinceFirstSeen { .. } => {
                        push_once(&mut self.session_rules, rule)
                    }
                    _ => {}
                }
                let range = number_range(&signal.kind).unwrap_or((f64::MIN, f64::MAX));
                self.signals.push(SignalSlot { rule, source, def: *signal, range });
                tree
            }
        }
    }

    /// The state a signal of this kind reads: the source of a signal that measures alike, or
    /// a new one, registered with the events (or the session starts) that update it.
    /// Signals that keep no state of their own (traits, usage, first seen) share one.
    fn source_for(&mut self, kind: &SignalKind) -> usize {
        let state = SignalState::new(kind);
        let (on, then) = match kind {
            SignalKind::Count { on, .. }
            | SignalKind::DistinctDays { on, .. }
            | SignalKind::Sum { on, .. } => (Some(&on.event), None),
            SignalKind::NotFollowedBy { on, then, .. } => (Some(&on.event), Some(&then.event)),
            _ => (None, None),
        };
        let facts = matches!(state, SignalState::Facts);
        // A source that measures alike is one the same event (or a session start) updates:
        // only those are searched, not every source (the search made a 1000-rule compile
        // quadratic in its signals), and a new source joins the list searched.
        let alike_in = match on {
            Some(event) => &mut listeners(&mut self.by_event, event).signals,
            None if facts => &mut self.facts_sources,
            // `sessions`, the one kind with a window and no event: session starts update it.
            None => &mut self.session_sources,
        };
        // The fields themselves, not `self.source_kind`: `alike_in` borrows one of self's.
        let (signals, sources) = (&self.signals, &self.sources);
        let alike =
            |&&s: &&usize| facts || same_measure(&signals[sources[s].signals[0]].def.kind, kind);
        if let Some(&shared) = alike_in.iter().find(alike) {
            return shared;
        }
        let source = self.sources.len();
        alike_in.push(source);
        if let Some(event) = then {
            push_once(&mut listeners(&mut self.by_event, event).signals, source);
        }
        self.sources.push(Source { state: CachedState::new(state), signals: Vec::new() });
        source
    }
}

//! The engine: events in, effects out (PRODUCT.md §4 "Firing" and "Score").
//!
//! Compiling a rule set flattens every signal leaf into one list and indexes it by event name,
//! so an event touches only the signals and rules that mention it. Changes that come with time
//! alone are kept in a min-heap of `(time, item)`: a rule's own deadlines (`notFollowedBy`,
//! trial age), and each window's next expiry, once for every signal that shares the window.
//! [`Engine::advance`] re-evaluates the rules that are due, and of a window that lost a bucket
//! only the rules whose signal it flipped.

use crate::condition::{Context, RegexEngine};
use crate::duration::Millis;
use crate::event::{self, Event};
use crate::frequency::{self, GlobalHistory, RuleHistory};
use crate::json::Value;
use crate::pages::page_matches;
use crate::profile::Profile;
use crate::rules::{Action, RuleSet, Signal, SignalKind};
use crate::signals::{holds_at, matches, CachedState, Facts, Measure};

mod compile;
mod effect;
mod explain;
mod prompts;
mod schedule;
mod state;

pub use effect::{Beacon, Effect, Firing, Qualified, RenderedCta, RenderedPrompt};
pub use explain::{Expected, ExplainNode, ExplainOp, Explanation, RuleScore, Score};
use prompts::PromptCandidate;
use schedule::Schedule;
#[cfg(feature = "sql")]
pub(crate) use state::key_in_rule;
pub use state::{StateError, STATE_VERSION};

pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A `when` tree whose leaves point into the engine's flat signal list.
#[derive(Debug)]
enum Tree {
    All(Vec<Tree>),
    Any(Vec<Tree>),
    Not(Box<Tree>),
    Leaf(usize),
    /// A `traits` signal: it holds when none of its condition's parts fails
    /// (`Engine::failing_parts`).
    Traits(usize),
}

#[derive(Debug)]
struct SignalSlot {
    rule: usize,
    def: Signal,
    /// Its state, in `Engine::sources`.
    source: usize,
    /// The numbers its comparison compares amounts with, least and most (see
    /// `Condition::number_range`); everything for other comparisons.
    range: (f64, f64),
}

/// A signal's state, shared by every signal that measures alike (see `same_measure`): the
/// page-view counter of forty rules is one counter, updated once per page view. The signals
/// that keep no state (traits, usage, first seen) all share one that never changes.
#[derive(Debug)]
struct Source {
    state: CachedState,
    /// The signals that read it; the first one's definition says what it measures.
    signals: Vec<usize>,
}

#[derive(Debug)]
struct TraitPart {
    signal: usize,
    part: usize,
    holds: bool,
}

#[derive(Debug, Default)]
struct RuleRuntime {
    /// The rule's audience admits the current attributes (true without an audience): cached,
    /// since attributes change only with identify, group, a loaded state or a reset, while
    /// rules are evaluated at every event.
    in_audience: bool,
    history: RuleHistory,
}

/// How a user reacted to a prompt; reported by the UI or by a headless app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptOutcome {
    Shown,
    Clicked,
    Dismissed,
}

pub struct Engine {
    rules: RuleSet,
    regex: Box<dyn RegexEngine>,
    trees: Vec<Option<Tree>>,
    signals: Vec<SignalSlot>,
    sources: Vec<Source>,
    /// `signals[start..end]` belong to rule `r`.
    signal_ranges: Vec<(usize, usize)>,
    /// What each event name sets off, ordered by the hash of the name (see `find`).
    by_event: Vec<(u32, String, Listeners)>,
    /// Who reads each attribute (the first segment of a path, see `Condition::roots`), in the
    /// same kind of index: the parts of `traits` conditions (in `trait_parts`), and the rules
    /// whose audience reads it. identify and group test again only those.
    by_attribute: Vec<(u32, String, Listeners)>,
    /// The keys of each `traits` signal's condition (`Condition::parts`), each with its truth
    /// for the current attributes: a change of `plan` tests `{"plan": ...}` again, not the
    /// other keys of the condition.
    trait_parts: Vec<TraitPart>,
    /// How many parts of each `traits` signal's condition fail now (0 for other signals).
    failing_parts: Vec<u32>,
    /// Whether identify or group evaluated the rules that read facts since the engine started
    /// (or reset, or loaded a state): the first call evaluates them all, later ones only what
    /// reads the attributes that changed.
    facts_evaluated: bool,
    /// Rules with a `usage` signal: a metered limit's report re-evaluates them.
    usage_rules: Vec<usize>,
    /// Rules with a signal that a new session can change (`sessions`, `firstSeen`,
    /// `daysSinceFirstSeen`), and the sources of the `sessions` signals.
    session_rules: Vec<usize>,
    session_sources: Vec<usize>,
    /// The one source of the signals that keep no state of their own, once there is one.
    facts_sources: Vec<usize>,
    runtime: Vec<RuleRuntime>,
    /// Each rule's truth as of its last evaluation, a byte per rule (read by the facade).
    holds: Vec<bool>,
    /// Changes whenever the score, `qualified` or a rule's truth does: a host that cached the
    /// score asks for it again only then.
    score_version: u32,
    /// Next check times: item `r` is rule `r`'s own check, item `rules + s` window source `s`'s
    /// next expiry.
    schedule: Schedule,
    profile: Profile,
    global: GlobalHistory,
    score: f64,
    qualified: bool,
    /// A prompt is on screen (in this tab or another): no other is issued meanwhile.
    prompt_visible: bool,
    /// Whether the host hears firings (`qualified` effects): when it does not, none is written
    /// and a rule's signals are measured for its beacons only.
    firings_heard: bool,
    /// Two xorshift64* streams, one per half of a beacon id.
    rng: [u64; 2],
    /// Scratch lists for `ingest` (and `triggered` for `run_schedule`, which runs before it),
    /// kept to spare allocations per event.
    touched: Vec<usize>,
    triggered: Vec<usize>,
}

/// In `by_event`, the sources that observe an event name and the rules it triggers; in
/// `by_attribute`, the `traits` condition parts and the audiences (by rule) that read an
/// attribute.
#[derive(Default)]
struct Listeners {
    signals: Vec<usize>,
    rules: Vec<usize>,
}

static NO_LISTENERS: Listeners = Listeners { signals: Vec::new(), rules: Vec::new() };

/// Where `name` is, or would sort, in a `by_event` index: ordered by the name's hash, then the
/// name, so that a search compares integers and the name itself about once.
fn find(index: &[(u32, String, Listeners)], name: &str) -> Result<usize, usize> {
    let key = (crate::hash::fnv1a(name.as_bytes()), name);
    index.binary_search_by(|(hash, n, _)| (*hash, n.as_str()).cmp(&key))
}

/// `name`'s entry in a `by_event` index, added when missing.
fn listeners<'a>(index: &'a mut Vec<(u32, String, Listeners)>, name: &str) -> &'a mut Listeners {
    let i = find(index, name).unwrap_or_else(|i| {
        let hash = crate::hash::fnv1a(name.as_bytes());
        index.insert(i, (hash, name.to_string(), Listeners::default()));
        i
    });
    &mut index[i].2
}

/// Adds `item` to a list built in increasing order, once.
fn push_once(list: &mut Vec<usize>, item: usize) {
    if list.last() != Some(&item) {
        list.push(item);
    }
}

/// Adds rule `r` to a sorted list of rules to re-evaluate, once.
fn touch(touched: &mut Vec<usize>, r: usize) {
    if let Err(at) = touched.binary_search(&r) {
        touched.insert(at, r);
    }
}

impl Engine {
    /// `anonymous_id` identifies this browser profile; `seed` feeds beacon ids (pass 128
    /// random bits from the host so that tabs never produce the same id).
    pub fn new(
        rules: RuleSet,
        regex: Box<dyn RegexEngine>,
        anonymous_id: &str,
        seed: u128,
    ) -> Self {
        // xorshift has no zero state: a zero half takes a fixed odd constant.
        let half = |h: u64| if h == 0 { 0x9E37_79B9_7F4A_7C15 } else { h };
        let mut engine = Engine {
            trees: Vec::with_capacity(rules.rules.len()),
            runtime: Vec::new(),
            holds: vec![false; rules.rules.len()],
            score_version: 0,
            rules,
            regex,
            signals: Vec::new(),
            sources: Vec::new(),
            signal_ranges: Vec::new(),
            by_event: Vec::new(),
            by_attribute: Vec::new(),
            trait_parts: Vec::new(),
            failing_parts: Vec::new(),
            facts_evaluated: false,
            usage_rules: Vec::new(),
            session_rules: Vec::new(),
            session_sources: Vec::new(),
            facts_sources: Vec::new(),
            schedule: Schedule::default(),
            profile: Profile::new(anonymous_id),
            global: GlobalHistory::default(),
            score: 0.0,
            qualified: false,
            prompt_visible: false,
            firings_heard: true,
            rng: [half(seed as u64), half((seed >> 64) as u64)],
            touched: Vec::new(),
            triggered: Vec::new(),
        };
        // Pushed one by one: a mapped iterator collected is an instance of its own.
        for _ in 0..engine.rules.rules.len() {
            engine.runtime.push(RuleRuntime::default());
        }
        engine.compile();
        engine.schedule = Schedule::new(engine.runtime.len() + engine.sources.len());
        engine.failing_parts = vec![0; engine.signals.len()];
        engine.refresh_facts();
        engine
    }

    /// Recomputes each rule's cached `in_audience` and each `traits` condition part's truth;
    /// called wherever all the attributes may have changed (a loaded state, a reset).
    fn refresh_facts(&mut self) {
        let ctx = Context { groups: &self.rules.groups, regex: &*self.regex };
        let attributes = Some(&self.profile.attributes);
        for (rule, rt) in self.rules.rules.iter().zip(&mut self.runtime) {
            rt.in_audience = rule.audience.as_ref().is_none_or(|a| a.matches(attributes, &ctx));
        }
        self.failing_parts.fill(0);
        for part in &mut self.trait_parts {
            if let SignalKind::Traits { condition } = &self.signals[part.signal].def.kind {
                part.holds = condition.part_matches(part.part, attributes, &ctx);
                self.failing_parts[part.signal] += u32::from(!part.holds);
            }
        }
        self.facts_evaluated = false;
        self.score_changed();
    }

    fn score_changed(&mut self) {
        self.score_version = self.score_version.wrapping_add(1);
    }

    /// What a source measures: its first signal's definition.
    fn source_kind(&self, source: &Source) -> &SignalKind {
        &self.signals[source.signals[0]].def.kind
    }

    /// The rule set, without its `when` trees: those now live in the engine.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Handles time-driven changes due at or before `now`: windows expiring, deadlines passing.
    pub fn advance(&mut self, now: Millis) -> Vec<Effect> {
        let mut step = Step::default();
        self.run_schedule(now, &mut step);
        self.finish(now, step)
    }

    /// Evaluates, in rule order, the rules due by `now`: those whose own deadline passed, and
    /// those whose signal flipped as a window lost a bucket.
    fn run_schedule(&mut self, now: Millis, step: &mut Step) {
        let mut due = std::mem::take(&mut self.triggered);
        let rules = self.runtime.len();
        while let Some((at, item)) = self.schedule.pop_due(now) {
            let Some(s) = item.checked_sub(rules) else {
                touch(&mut due, item);
                continue;
            };
            // The amount just before the expiry is what the rules reading it were judged by.
            let kind = self.source_kind(&self.sources[s]);
            let state = &self.sources[s].state;
            let was = state.state().amount(kind, at.saturating_sub(1));
            if let (Some(is), next) = state.reading(kind, &self.facts(now)) {
                if let Some(was) = was {
                    self.touch_flipped(s, was, is, &mut due);
                }
                self.schedule.set(item, next);
            }
        }
        for &r in &due {
            self.evaluate(r, now, None, step);
        }
        due.clear();
        self.triggered = due;
    }

    /// Adds to `touched` the rules of source `s` with a signal that holds for one of two
    /// amounts and not for the other.
    fn touch_flipped(&self, s: usize, was: f64, is: f64, touched: &mut Vec<usize>) {
        let ctx = Context { groups: &self.rules.groups, regex: &*self.regex };
        let (low, high) = if was <= is { (was, is) } else { (is, was) };
        for &i in &self.sources[s].signals {
            let slot = &self.signals[i];
            // A signal whose comparison lies wholly outside the move is not even tested.
            let outside = slot.range.0 > high || slot.range.1 < low;
            if !outside && holds_at(&slot.def.kind, was, &ctx) != holds_at(&slot.def.kind, is, &ctx)
            {
                touch(touched, slot.rule);
            }
        }
    }

    /// The earliest time at which [`Engine::advance`] has work to do.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.schedule.next()
    }

    /// Records an event and returns what it set off.
    pub fn track(&mut self, name: &str, props: Value, now: Millis) -> Vec<Effect> {
        self.track_event(Event::new(name, props, now))
    }

    /// [`Engine::track`] for an event already built (the backtest's, read from a history).
    pub fn track_event(&mut self, event: Event) -> Vec<Effect> {
        let now = event.time;
        let mut step = Step::default();
        self.run_schedule(now, &mut step);
        self.ingest(event, &mut step);
        self.finish(now, step)
    }

    fn ingest(&mut self, mut event: Event, step: &mut Step) {
        let now = event.time;
        if event.name == event::PAGE_VIEW && event.props.get("page").is_none() {
            let path = event.props.get("path").and_then(Value::as_str).unwrap_or("");
            if let Some((name, _)) =
                self.rules.pages.iter().find(|(_, pattern)| page_matches(pattern, path))
            {
                let name = name.clone();
                event.props.insert("page", name.into());
            }
        }
        // Rules to re-evaluate: each once, in rule order, however many of its signals changed.
        let mut touched = std::mem::take(&mut self.touched);
        let first_event = self.profile.last_activity.is_none();
        let new_session = self.profile.touch(now);
        if new_session {
            self.global.session_shows = 0;
            // Pushed one by one: `extend` over a range and over a slice are instances of their own.
            if first_event {
                // The first event of a profile evaluates every rule for the first time.
                for r in 0..self.rules.rules.len() {
                    touched.push(r);
                }
            } else {
                // Only session, first-seen and trial-age signals change with a new session.
                for &r in &self.session_rules {
                    touched.push(r);
                }
            }
        }
        if event.name == event::LIMIT_HIT || event.name == event::USAGE {
            let limit = event.props.get("limit").and_then(Value::as_str);
            let used = event.props.get("used").and_then(Value::as_f64);
            let max = event.props.get("max").and_then(Value::as_f64);
            if let (Some(limit), Some(used), Some(max)) = (limit, used, max) {
                if max > 0.0 {
                    self.profile.set_usage(limit, used / max);
                    for &r in &self.usage_rules {
                        touch(&mut touched, r);
                    }
                }
            }
        }
        let facts = Facts {
            now,
            first_seen: self.profile.first_seen,
            usage: &self.profile.usage,
            attributes: &self.profile.attributes,
            conditions: Context { groups: &self.rules.groups, regex: &*self.regex },
        };
        // A window this call changes expires on its own schedule: item `rules + s`.
        let rules = self.runtime.len();
        if new_session {
            for &s in &self.session_sources {
                let source = &mut self.sources[s];
                let kind = &self.signals[source.signals[0]].def.kind;
                source.state.state_mut().observe_session_start(kind, now);
                self.schedule.set(rules + s, source.state.reading(kind, &facts).1);
            }
        }
        let found = find(&self.by_event, &event.name);
        let on_event = found.map_or(&NO_LISTENERS, |i| &self.by_event[i].2);
        for &s in &on_event.signals {
            let source = &mut self.sources[s];
            let kind = &self.signals[source.signals[0]].def.kind;
            let before = source.state.reading(kind, &facts);
            if !source.state.state_mut().observe(kind, &event, &facts.conditions) {
                continue;
            }
            let after = source.state.reading(kind, &facts);
            // A window's rules are evaluated again only when one of their signals flips: a
            // count going from 7 to 8 does not for `{"$gte": 3}`, and is not even tested against
            // it. When the window next expires is its own entry in the schedule.
            let (Some(was), Some(is)) = (before.0, after.0) else {
                for &i in &source.signals {
                    touch(&mut touched, self.signals[i].rule);
                }
                continue;
            };
            self.schedule.set(rules + s, after.1);
            self.touch_flipped(s, was, is, &mut touched);
        }
        let ctx = facts.conditions;
        let mut triggered = std::mem::take(&mut self.triggered);
        for &r in &on_event.rules {
            if let Some(trigger) = &self.rules.rules[r].trigger {
                if matches(trigger, &event, &ctx) {
                    triggered.push(r);
                }
            }
        }
        for &r in &triggered {
            touch(&mut touched, r);
        }
        for &r in &touched {
            let trigger = triggered.contains(&r).then_some(&event);
            self.evaluate(r, now, trigger, step);
        }
        touched.clear();
        triggered.clear();
        self.touched = touched;
        self.triggered = triggered;
    }

    /// Re-evaluates one rule at `now`, fires it on a rising edge (or on its trigger), keeps the
    /// score current and schedules the next time-driven check.
    fn evaluate(&mut self, r: usize, now: Millis, trigger: Option<&Event>, step: &mut Step) {
        let holds = self.rule_holds(r, now);
        let was = std::mem::replace(&mut self.holds[r], holds);
        let score = self.rules.rules[r].score;
        if holds != was {
            self.score += if holds { score } else { -score };
            self.score_changed();
        }
        let fires = match (&self.rules.rules[r].trigger, trigger) {
            (Some(_), Some(event)) => holds.then_some(Some(event)),
            (Some(_), None) => None,
            (None, _) => (holds && !was).then_some(None),
        };
        if let Some(event) = fires {
            self.fire(r, now, event, step);
        }
        self.reschedule(r, now);
    }

    /// What every signal may read at `now`.
    fn facts(&self, now: Millis) -> Facts<'_> {
        Facts {
            now,
            first_seen: self.profile.first_seen,
            usage: &self.profile.usage,
            attributes: &self.profile.attributes,
            conditions: Context { groups: &self.rules.groups, regex: &*self.regex },
        }
    }

    fn rule_holds(&self, r: usize, now: Millis) -> bool {
        self.runtime[r].in_audience
            && self.trees[r].as_ref().is_none_or(|tree| self.tree_holds(tree, &self.facts(now)))
    }

    fn tree_holds(&self, tree: &Tree, facts: &Facts) -> bool {
        match tree {
            Tree::All(children) => children.iter().all(|c| self.tree_holds(c, facts)),
            Tree::Any(children) => children.iter().any(|c| self.tree_holds(c, facts)),
            Tree::Not(child) => !self.tree_holds(child, facts),
            Tree::Leaf(i) => self.measure(*i, facts, false).holds,
            Tree::Traits(i) => self.failing_parts[*i] == 0,
        }
    }

    fn measure(&self, i: usize, facts: &Facts, detail: bool) -> Measure {
        let slot = &self.signals[i];
        self.sources[slot.source].state.measure(&slot.def.kind, facts, detail)
    }

    /// A rule's signals: compiled in rule order, so they are one contiguous run.
    fn signal_range(&self, r: usize) -> std::ops::Range<usize> {
        let (start, end) = self.signal_ranges[r];
        start..end
    }

    /// Schedules rule `r`'s own next check: its signals' deadlines, windows aside (a window's
    /// expiry is scheduled once for all the rules reading it).
    fn reschedule(&mut self, r: usize, now: Millis) {
        let facts = self.facts(now);
        // The earliest in a loop: `filter_map(..).min()` is an iterator instance of its own.
        let mut next: Option<Millis> = None;
        for slot in &self.signals[self.signal_range(r)] {
            let change =
                self.sources[slot.source].state.state().next_change(&slot.def.kind, &facts);
            if let Some(t) = change {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        }
        self.schedule.set(r, next);
    }

    /// The values of a rule's signals at `now`, keyed by their path inside the rule.
    fn signal_values(&self, r: usize, now: Millis) -> Value {
        let facts = self.facts(now);
        let mut values = Value::Object(Vec::new());
        for i in self.signal_range(r) {
            let slot = &self.signals[i];
            values.insert(state::key_in_rule(&slot.def.path), self.measure(i, &facts, true).actual);
        }
        values
    }

    fn fire(&mut self, r: usize, now: Millis, trigger: Option<&Event>, step: &mut Step) {
        step.any_fired = true;
        let beacons = self.rules.rules[r].actions.iter().any(|a| matches!(a, Action::Beacon(_)));
        let signals =
            if self.firings_heard || beacons { self.signal_values(r, now) } else { Value::Null };
        let rule = &self.rules.rules[r];
        self.run_actions(&rule.actions, Some(r), trigger, &signals, step);
        if !self.firings_heard {
            return;
        }
        step.fired.push(Some(Firing {
            index: r,
            id: rule.id.clone(),
            kind: rule.kind,
            score: rule.score,
            signals,
            event: trigger.cloned(),
        }));
    }

    fn run_actions(
        &self,
        actions: &[Action],
        r: Option<usize>,
        trigger: Option<&Event>,
        signals: &Value,
        step: &mut Step,
    ) {
        for action in actions {
            match action {
                Action::Beacon(kind) => step.beacons.push((kind.clone(), r, signals.clone())),
                Action::Prompt(id) => step.prompts.push(PromptCandidate {
                    rule: r,
                    prompt: id.clone(),
                    priority: r.map_or(0, |r| self.rules.rules[r].priority),
                    event: trigger.map(|e| e.props.clone()),
                }),
            }
        }
    }

    /// Settles the score, picks at most one prompt, and turns the step into effects.
    fn finish(&mut self, now: Millis, mut step: Step) -> Vec<Effect> {
        if let Some(threshold) = self.rules.scoring.threshold {
            if !self.qualified && self.score >= threshold {
                self.qualified = true;
                self.score_changed();
                step.any_fired = true;
                if self.firings_heard {
                    step.fired.push(None);
                }
                let no_signals = Value::Object(Vec::new());
                self.run_actions(&self.rules.on_qualified, None, None, &no_signals, &mut step);
            } else if self.qualified && self.score < threshold {
                self.qualified = false;
                self.score_changed();
            }
        } else {
            // Without a threshold each rule defines a PQL: its firing qualifies the user (the
            // host names it `qualified` as well as `rule:fired`), until `reset`.
            self.qualified |= step.any_fired;
        }
        let mut effects = Vec::new();
        // By reference, each value taken: a by-value iterator and its drop guard are code of
        // their own in the wasm.
        for rule in &mut step.fired {
            let rule = rule.take();
            effects.push(Effect::Qualified(Qualified {
                rule,
                timestamp: now,
                score: self.score,
                tier: self.tier().map(str::to_string),
                qualified: self.qualified,
            }));
        }
        for (kind, r, signals) in &mut step.beacons {
            let beacon = self.beacon(std::mem::take(kind), *r, std::mem::take(signals), now);
            effects.push(Effect::Beacon(beacon));
        }
        // The highest priority that no limit holds back; among equals, the rule written first.
        let mut best: Option<&PromptCandidate> = None;
        for c in &step.prompts {
            let better = best.is_none_or(|b| {
                c.priority > b.priority || (c.priority == b.priority && c.rule < b.rule)
            });
            if better && self.prompt_blocked(c.rule, now).is_none() {
                best = Some(c);
            }
        }
        if let Some(candidate) = best {
            if let Some(prompt) = self.render_prompt(candidate) {
                match candidate.rule {
                    Some(r) => {
                        frequency::record_show(&mut self.runtime[r].history, &mut self.global, now)
                    }
                    None => {
                        frequency::record_show(&mut RuleHistory::default(), &mut self.global, now)
                    }
                }
                effects.push(Effect::Prompt(prompt));
            }
        }
        effects
    }

    /// Whether the host hears firings. A page with no `qualified` or `rule:fired` listener
    /// says no: the effects it would drop unread are not written, nor their signals measured.
    pub fn set_firings_heard(&mut self, heard: bool) {
        self.firings_heard = heard;
    }

    pub fn identify(&mut self, user_id: Option<&str>, traits: &Value, now: Millis) -> Vec<Effect> {
        let changed = self.profile.identify(user_id, traits);
        self.attributes_changed(&changed, now)
    }

    pub fn group(&mut self, account_id: Option<&str>, traits: &Value, now: Millis) -> Vec<Effect> {
        let changed = self.profile.group(account_id, traits);
        self.attributes_changed(&changed, now)
    }

    /// Re-evaluates the audiences and `traits` signals that read a `changed` attribute, then
    /// the rules where one of them changed.
    fn attributes_changed(&mut self, changed: &[&str], now: Millis) -> Vec<Effect> {
        let ctx = Context { groups: &self.rules.groups, regex: &*self.regex };
        let attributes = Some(&self.profile.attributes);
        let mut touched = std::mem::take(&mut self.touched);
        if !std::mem::replace(&mut self.facts_evaluated, true) {
            for (r, rule) in self.rules.rules.iter().enumerate() {
                let (start, end) = self.signal_ranges[r];
                let reads_facts = self.signals[start..end].iter().any(|slot| {
                    matches!(slot.def.kind, SignalKind::Traits { .. } | SignalKind::Usage { .. })
                });
                if reads_facts || rule.audience.is_some() {
                    touched.push(r);
                }
            }
        }
        for root in changed {
            let Ok(at) = find(&self.by_attribute, root) else { continue };
            let readers = &self.by_attribute[at].2;
            for &r in &readers.rules {
                let audience = self.rules.rules[r].audience.as_ref();
                let admits = audience.is_none_or(|a| a.matches(attributes, &ctx));
                if std::mem::replace(&mut self.runtime[r].in_audience, admits) != admits {
                    touch(&mut touched, r);
                }
            }
            for &k in &readers.signals {
                let part = &mut self.trait_parts[k];
                let slot = &self.signals[part.signal];
                let SignalKind::Traits { condition } = &slot.def.kind else { continue };
                let holds = condition.part_matches(part.part, attributes, &ctx);
                if std::mem::replace(&mut part.holds, holds) != holds {
                    let failing = &mut self.failing_parts[part.signal];
                    let held = *failing == 0;
                    *failing = if holds { *failing - 1 } else { *failing + 1 };
                    if held != (*failing == 0) {
                        touch(&mut touched, slot.rule);
                    }
                }
            }
        }
        let mut step = Step::default();
        self.run_schedule(now, &mut step);
        for &r in &touched {
            self.evaluate(r, now, None, &mut step);
        }
        touched.clear();
        self.touched = touched;
        self.finish(now, step)
    }

    fn tier(&self) -> Option<&str> {
        self.tier_index().0.map(|i| self.rules.scoring.tiers[i].0.as_str())
    }

    /// The tier's index in the rule set's `scoring.tiers` (`None`: no tier) and `qualified`.
    pub fn tier_index(&self) -> (Option<usize>, bool) {
        let tiers = &self.rules.scoring.tiers;
        (tiers.iter().rposition(|(_, min)| self.score >= *min), self.qualified)
    }

    /// The score as of the last event or [`Engine::advance`].
    pub fn total_score(&self) -> f64 {
        self.score
    }

    /// The score, tier, qualification and each rule's part, as of the last event or
    /// [`Engine::advance`].
    pub fn score(&self) -> Score<'_> {
        let rules = self.rules.rules.iter().zip(&self.holds).map(|(rule, &holds)| RuleScore {
            id: &rule.id,
            matched: holds,
            score: if holds { rule.score } else { 0.0 },
        });
        Score {
            score: self.score,
            tier: self.tier(),
            qualified: self.qualified,
            rules: rules.collect(),
        }
    }

    /// Changes whenever [`Engine::score`] does (its total, tier, `qualified` or a rule's
    /// `matched`): a host that keeps the score reads it again only then.
    pub fn score_version(&self) -> u32 {
        self.score_version
    }

    /// Whether each rule holds, in rule-set order: the `matched` of [`Engine::score`].
    pub fn matched(&self) -> &[bool] {
        &self.holds
    }

    /// [`Engine::score`] as JSON: `{ score, tier, qualified, rules: [{ id, matched, score }] }`.
    pub fn score_json(&self) -> String {
        self.score().to_json()
    }

    fn beacon(&mut self, kind: String, r: Option<usize>, signals: Value, now: Millis) -> Beacon {
        let id = self.next_id();
        let p = &self.profile;
        Beacon {
            id,
            kind,
            rule: r.map(|r| self.rules.rules[r].id.clone()),
            score: self.score,
            tier: self.tier().map(str::to_string),
            user_id: p.user_id.clone(),
            anonymous_id: p.anonymous_id.clone(),
            account_id: p.account_id.clone(),
            signals,
            timestamp: now,
        }
    }

    /// 128 random bits (two xorshift64* streams, seeded by the host's 128 bits).
    fn next_id(&mut self) -> u128 {
        let mut id = 0;
        for rng in &mut self.rng {
            *rng ^= *rng >> 12;
            *rng ^= *rng << 25;
            *rng ^= *rng >> 27;
            id = id << 64 | u128::from(rng.wrapping_mul(0x2545_F491_4F6C_DD1D));
        }
        id
    }
}

/// What one call set off, before it becomes effects.
#[derive(Default)]
struct Step {
    /// The rules that fired, in order; `None` when the score reached the threshold. They
    /// become `qualified` effects in `finish`, with the score the step settles on.
    fired: Vec<Option<Firing>>,
    /// Whether a rule fired (or the threshold was reached), heard or not.
    any_fired: bool,
    beacons: Vec<(String, Option<usize>, Value)>,
    prompts: Vec<PromptCandidate>,
}

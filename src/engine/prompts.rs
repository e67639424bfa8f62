//! Prompts: which one a step issues (frequency caps, one on screen at a time), its templates
//! rendered against the user, the account and the event, and what became of it.

use super::{Effect, Engine, PromptOutcome, RenderedCta, RenderedPrompt, Step};
use crate::duration::Millis;
use crate::event::{self, Event};
use crate::frequency::{self, Blocked, RuleHistory};
use crate::json::Value;
use crate::prompt::TemplateValues;

/// A prompt a fired rule (or the threshold) asked for; the step issues the best one.
pub(super) struct PromptCandidate {
    pub(super) rule: Option<usize>,
    pub(super) prompt: String,
    pub(super) priority: i32,
    pub(super) event: Option<Value>,
}

impl Engine {
    /// The UI reports whether a prompt is on screen; at most one is visible at a time.
    pub fn set_prompt_visible(&mut self, visible: bool) {
        self.prompt_visible = visible;
    }

    pub(super) fn prompt_blocked(&self, r: Option<usize>, now: Millis) -> Option<Blocked> {
        if self.prompt_visible {
            return Some(Blocked { reason: "visible", until: None });
        }
        let default = (Default::default(), RuleHistory::default());
        let (frequency, history) = match r {
            Some(r) => (&self.rules.rules[r].frequency, &self.runtime[r].history),
            None => (&default.0, &default.1),
        };
        frequency::check(frequency, history, &self.rules.limits, &self.global, now)
    }

    pub(super) fn render_prompt(&self, candidate: &PromptCandidate) -> Option<RenderedPrompt> {
        let (_, prompt) = self.rules.prompts.iter().find(|(id, _)| *id == candidate.prompt)?;
        let rule_id = candidate.rule.map(|r| self.rules.rules[r].id.as_str());
        let no_event = Value::Object(Vec::new());
        let values = TemplateValues {
            user: &self.profile.attributes,
            account: self.profile.attributes.get("account").unwrap_or(&no_event),
            event: candidate.event.as_ref().unwrap_or(&no_event),
            rule_id: rule_id.unwrap_or(""),
        };
        Some(RenderedPrompt {
            rule: rule_id.map(str::to_string),
            id: candidate.prompt.clone(),
            style: prompt.style,
            slot: prompt.slot.clone(),
            title: prompt.title.render(&values),
            body: prompt.body.render(&values),
            cta: prompt
                .cta
                .as_ref()
                .map(|cta| RenderedCta { label: cta.label.render(&values), url: cta.url.clone() }),
            dismiss: prompt.dismiss.as_ref().map(|d| d.render(&values)),
            priority: candidate.priority,
            event: candidate.event.clone(),
        })
    }

    /// The app or the built-in UI reports what became of a prompt. It is tracked as an event
    /// (`prompt_shown` / `prompt_clicked` / `prompt_dismissed`, so rules may use it) and sent
    /// as a beacon.
    pub fn prompt_outcome(
        &mut self,
        rule_id: Option<&str>,
        prompt_id: &str,
        outcome: PromptOutcome,
        now: Millis,
    ) -> Vec<Effect> {
        let r = rule_id.and_then(|id| self.rules.rules.iter().position(|rule| rule.id == id));
        if outcome == PromptOutcome::Dismissed {
            if let Some(r) = r {
                frequency::record_dismissal(&mut self.runtime[r].history, now);
            }
        }
        let name = match outcome {
            PromptOutcome::Shown => event::PROMPT_SHOWN,
            PromptOutcome::Clicked => event::PROMPT_CLICKED,
            PromptOutcome::Dismissed => event::PROMPT_DISMISSED,
        };
        let rule_value = rule_id.map_or(Value::Null, Value::from);
        let mut props = Value::Object(Vec::new());
        props.insert("rule", rule_value);
        props.insert("prompt", prompt_id.into());
        let mut step = Step::default();
        self.run_schedule(now, &mut step);
        self.ingest(Event::new(name, props.clone(), now), &mut step);
        step.beacons.push((name.to_string(), r, props));
        self.finish(now, step)
    }
}

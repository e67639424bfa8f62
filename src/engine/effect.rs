//! What the engine asks of the host (PRODUCT.md §4 "Firing", §5), as types; JSON is written
//! only when the list crosses the boundary ([`Effect::list_json`]), straight into one string.

use crate::duration::Millis;
use crate::event::Event;
use crate::json::{field_bool, field_json, field_num, field_opt, field_str, key, Value};
use crate::prompt::PromptStyle;
use crate::rules::RuleKind;

use super::SDK_VERSION;

/// Something the host must do: emit an event to listeners, show a prompt, send a beacon.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// A rule fired, or the score reached the threshold: the `qualified` event.
    Qualified(Qualified),
    /// A prompt is due, templates already filled in.
    Prompt(RenderedPrompt),
    /// A beacon to queue for the collector.
    Beacon(Beacon),
}

/// The `qualified` event: `{ reason, rule, [kind, ruleScore, signals, event,] timestamp, score,
/// tier, qualified }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Qualified {
    /// The rule that fired (`reason: "rule"`); `None` when the score reached the threshold
    /// (`reason: "score"`).
    pub rule: Option<Firing>,
    pub timestamp: Millis,
    /// The score, tier and qualification once the call that set this off is settled.
    pub score: f64,
    pub tier: Option<String>,
    pub qualified: bool,
}

/// A rule that fired.
#[derive(Clone, Debug, PartialEq)]
pub struct Firing {
    /// The rule's position in the rule set.
    pub index: usize,
    pub id: String,
    pub kind: RuleKind,
    /// The rule's own `score`.
    pub score: f64,
    /// The values of the rule's signals, keyed by their path inside the rule (`when.all[0]`).
    pub signals: Value,
    /// The trigger event, for a rule with a `trigger` (written as `{ name, props }`).
    pub event: Option<Event>,
}

/// The `prompt` event: `{ rule, id, style, slot, title, body, priority, cta?, dismiss?, event }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderedPrompt {
    /// The rule that asked for it; `None` for `onQualified`.
    pub rule: Option<String>,
    pub id: String,
    pub style: PromptStyle,
    pub slot: Option<String>,
    pub title: String,
    pub body: String,
    pub cta: Option<RenderedCta>,
    pub dismiss: Option<String>,
    pub priority: i32,
    /// The trigger event's properties, for a rule with a `trigger`.
    pub event: Option<Value>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RenderedCta {
    pub label: String,
    pub url: String,
}

/// A beacon (PRODUCT.md §5): `{ id, type, rule, score, tier, userId, anonymousId, accountId,
/// signals, timestamp, sdkVersion }`; `sdkVersion` is this build's [`SDK_VERSION`].
#[derive(Clone, Debug, PartialEq)]
pub struct Beacon {
    /// 128 random bits, written as 32 hex digits: the collector deduplicates by it.
    pub id: u128,
    /// The beacon's `type`.
    pub kind: String,
    pub rule: Option<String>,
    pub score: f64,
    pub tier: Option<String>,
    pub user_id: Option<String>,
    pub anonymous_id: String,
    pub account_id: Option<String>,
    pub signals: Value,
    pub timestamp: Millis,
}

impl Qualified {
    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        match &self.rule {
            None => {
                field_str(out, "reason", "score");
                field_json(out, "rule", &Value::Null);
            }
            Some(f) => {
                field_str(out, "reason", "rule");
                field_str(out, "rule", &f.id);
                field_str(out, "kind", f.kind.as_str());
                field_num(out, "ruleScore", f.score);
                field_json(out, "signals", &f.signals);
                key(out, "event");
                match &f.event {
                    None => out.push_str("null"),
                    Some(e) => {
                        out.push('{');
                        field_str(out, "name", &e.name);
                        field_json(out, "props", &e.props);
                        out.push('}');
                    }
                }
            }
        }
        field_num(out, "timestamp", self.timestamp as f64);
        field_num(out, "score", self.score);
        field_opt(out, "tier", self.tier.as_deref());
        field_bool(out, "qualified", self.qualified);
        out.push('}');
    }
}

impl RenderedPrompt {
    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        field_opt(out, "rule", self.rule.as_deref());
        field_str(out, "id", &self.id);
        field_str(out, "style", self.style.as_str());
        field_opt(out, "slot", self.slot.as_deref());
        field_str(out, "title", &self.title);
        field_str(out, "body", &self.body);
        field_num(out, "priority", f64::from(self.priority));
        if let Some(cta) = &self.cta {
            key(out, "cta");
            out.push('{');
            field_str(out, "label", &cta.label);
            field_str(out, "url", &cta.url);
            out.push('}');
        }
        if let Some(dismiss) = &self.dismiss {
            field_str(out, "dismiss", dismiss);
        }
        field_json(out, "event", self.event.as_ref().unwrap_or(&Value::Null));
        out.push('}');
    }
}

impl Beacon {
    pub fn write_json(&self, out: &mut String) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.push('{');
        key(out, "id");
        out.push('"');
        for word in [(self.id >> 64) as u64, self.id as u64] {
            for shift in (0..16).rev() {
                out.push(HEX[((word >> (shift * 4)) & 15) as usize] as char);
            }
        }
        out.push('"');
        field_str(out, "type", &self.kind);
        field_opt(out, "rule", self.rule.as_deref());
        field_num(out, "score", self.score);
        field_opt(out, "tier", self.tier.as_deref());
        field_opt(out, "userId", self.user_id.as_deref());
        field_str(out, "anonymousId", &self.anonymous_id);
        field_opt(out, "accountId", self.account_id.as_deref());
        field_json(out, "signals", &self.signals);
        field_num(out, "timestamp", self.timestamp as f64);
        field_str(out, "sdkVersion", SDK_VERSION);
        out.push('}');
    }
}

impl Effect {
    /// The effect's `type` as the host receives it.
    pub fn kind(&self) -> &'static str {
        match self {
            Effect::Qualified(_) => "qualified",
            Effect::Prompt(_) => "prompt",
            Effect::Beacon(_) => "beacon",
        }
    }

    /// `{ type, payload }`, as the host receives it.
    pub fn write_json(&self, out: &mut String) {
        out.push('{');
        field_str(out, "type", self.kind());
        key(out, "payload");
        match self {
            Effect::Qualified(q) => q.write_json(out),
            Effect::Prompt(p) => p.write_json(out),
            Effect::Beacon(b) => b.write_json(out),
        }
        out.push('}');
    }

    /// A list of effects as the host receives it: `[{ type, payload }, ...]`.
    pub fn list_json(effects: &[Effect]) -> String {
        // A call's effects are a few hundred bytes, written in one allocation.
        let mut out = String::with_capacity(1024);
        out.push('[');
        for (i, effect) in effects.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            effect.write_json(&mut out);
        }
        out.push(']');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{object, parse};

    #[test]
    fn a_beacon_is_written_with_its_id_in_hex_and_this_builds_version() {
        let beacon = Beacon {
            id: 0x0123_4567_89ab_cdef_0000_0000_0000_002a,
            kind: "pql \"x\"".into(),
            rule: None,
            score: 12.5,
            tier: Some("warm".into()),
            user_id: Some("u1".into()),
            anonymous_id: "anon".into(),
            account_id: None,
            signals: object([("when", Value::Number(3.0))]),
            timestamp: 1_704_067_200_000,
        };
        let text = Effect::list_json(&[Effect::Beacon(beacon)]);
        assert_eq!(
            text,
            format!(
                "[{{\"type\":\"beacon\",\"payload\":{{\"id\":\"0123456789abcdef000000000000002a\",\
                 \"type\":\"pql \\\"x\\\"\",\"rule\":null,\"score\":12.5,\"tier\":\"warm\",\
                 \"userId\":\"u1\",\"anonymousId\":\"anon\",\"accountId\":null,\
                 \"signals\":{{\"when\":3}},\"timestamp\":1704067200000,\
                 \"sdkVersion\":\"{SDK_VERSION}\"}}}}]"
            )
        );
        assert!(parse(&text).is_ok());
    }

    #[test]
    fn a_score_qualification_names_no_rule() {
        let q = Qualified { rule: None, timestamp: 5, score: 60.0, tier: None, qualified: true };
        let mut text = String::new();
        Effect::Qualified(q).write_json(&mut text);
        assert_eq!(
            text,
            "{\"type\":\"qualified\",\"payload\":{\"reason\":\"score\",\"rule\":null,\
             \"timestamp\":5,\"score\":60,\"tier\":null,\"qualified\":true}}"
        );
        assert_eq!(Effect::list_json(&[]), "[]");
    }
}

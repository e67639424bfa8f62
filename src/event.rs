//! Events as the engine receives them, and the names pqlkit itself gives to events.

use crate::duration::Millis;
use crate::json::Value;

/// `pql.featureUsed('export')` tracks this with `{ feature }`.
pub const FEATURE_USED: &str = "feature_used";
/// `pql.limitHit(name, { used, limit })` tracks this with `{ limit: name, used, max }`.
pub const LIMIT_HIT: &str = "limit_hit";
/// `pql.usage(name, used, max)` tracks this with `{ limit: name, used, max, ratio }`.
pub const USAGE: &str = "usage";
/// Page views (manual or autocaptured) carry `{ path, page? }`; `page` is the rule set's name
/// for the path, added by the engine from `pages`.
pub const PAGE_VIEW: &str = "page_view";
/// Tracked when a prompt is shown, clicked or dismissed, with `{ rule, prompt }`.
pub const PROMPT_SHOWN: &str = "prompt_shown";
pub const PROMPT_CLICKED: &str = "prompt_clicked";
pub const PROMPT_DISMISSED: &str = "prompt_dismissed";

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub name: String,
    /// Always a JSON object.
    pub props: Value,
    pub time: Millis,
}

impl Event {
    pub fn new(name: &str, props: Value, time: Millis) -> Self {
        let props =
            if matches!(props, Value::Object(_)) { props } else { Value::Object(Vec::new()) };
        Event { name: name.to_string(), props, time }
    }
}

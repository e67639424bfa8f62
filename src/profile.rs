//! Who the engine is watching: ids, traits, first-seen time, sessions and metered limits.

use crate::duration::{Millis, MINUTE};
use crate::json::Value;

/// Sessions split after this much inactivity, as in Segment and PostHog.
pub const SESSION_TIMEOUT: Millis = 30 * MINUTE;

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Profile {
    pub anonymous_id: String,
    pub user_id: Option<String>,
    /// A JSON object.
    pub traits: Value,
    pub account_id: Option<String>,
    /// A JSON object.
    pub account_traits: Value,
    pub first_seen: Option<Millis>,
    pub last_activity: Option<Millis>,
    /// Last `used / max` ratio per metered limit, in first-report order.
    pub usage: Vec<(String, f64)>,
    /// Audience attributes derived from the above; rebuilt by [`Profile::refresh_attributes`].
    pub attributes: Value,
}

impl Profile {
    pub fn new(anonymous_id: &str) -> Self {
        let mut profile = Profile {
            anonymous_id: anonymous_id.to_string(),
            traits: Value::Object(Vec::new()),
            account_traits: Value::Object(Vec::new()),
            ..Profile::default()
        };
        profile.refresh_attributes();
        profile
    }

    /// Audience attributes: the user traits, `id`, and the account traits plus `id` under
    /// `account` (so `account.company_size` and `account.id` resolve as dotted paths).
    pub fn refresh_attributes(&mut self) {
        let mut attributes = match &self.traits {
            Value::Object(_) => self.traits.clone(),
            _ => Value::Object(Vec::new()),
        };
        let id = self.user_id.as_deref().map_or(Value::Null, Value::from);
        attributes.insert("id", id);
        let mut account = match &self.account_traits {
            Value::Object(_) => self.account_traits.clone(),
            _ => Value::Object(Vec::new()),
        };
        let account_id = self.account_id.as_deref().map_or(Value::Null, Value::from);
        account.insert("id", account_id);
        attributes.insert("account", account);
        self.attributes = attributes;
    }

    /// Records activity at `t`; returns whether it starts a new session.
    pub fn touch(&mut self, t: Millis) -> bool {
        if self.first_seen.is_none_or(|first| t < first) {
            self.first_seen = Some(t);
        }
        let new_session =
            self.last_activity.is_none_or(|last| t.saturating_sub(last) >= SESSION_TIMEOUT);
        if self.last_activity.is_none_or(|last| t > last) {
            self.last_activity = Some(t);
        }
        new_session
    }

    pub fn set_usage(&mut self, limit: &str, ratio: f64) {
        if !ratio.is_finite() {
            return;
        }
        match self.usage.iter_mut().find(|(name, _)| name == limit) {
            Some(entry) => entry.1 = ratio,
            None => self.usage.push((limit.to_string(), ratio)),
        }
    }
}

/// Merges `update`'s keys into the object `target` (traits given to `identify` / `group`).
pub fn merge_traits(target: &mut Value, update: &Value) {
    if !matches!(target, Value::Object(_)) {
        *target = Value::Object(Vec::new());
    }
    if let Value::Object(entries) = update {
        for (key, value) in entries {
            target.insert(key, value.clone());
        }
    }
}

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

/// Merges `update`'s keys into the object `target` (traits given to `identify` / `group`),
/// pushing onto `changed` each key whose value is new.
fn merge_traits(target: &mut Value, update: &Value, changed: &mut Vec<String>) {
    if !matches!(target, Value::Object(_)) {
        *target = Value::Object(Vec::new());
    }
    if let Value::Object(entries) = update {
        for (key, value) in entries {
            // Numbers by their bits: 0 and -0 are `==` but not the same trait.
            let same = match (target.get(key), value) {
                (Some(Value::Number(a)), Value::Number(b)) => a.to_bits() == b.to_bits(),
                (old, _) => old == Some(value),
            };
            if !same && !changed.contains(key) {
                changed.push(key.clone());
            }
            target.insert(key, value.clone());
        }
    }
}

/// Sets `keys` of the object `to` to their values in `from`, in place: a new key goes before
/// the last `derived` keys, where [`Profile::refresh_attributes`] would have put it.
fn copy_keys(to: &mut Value, from: &Value, keys: &[String], derived: usize) {
    let Value::Object(entries) = to else { return };
    for key in keys {
        let value = from.get(key).cloned().unwrap_or(Value::Null);
        match entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => entries.insert(entries.len().saturating_sub(derived), (key.clone(), value)),
        }
    }
}

impl Profile {
    /// `identify`: the user id (when given) and traits merged into the current ones. Returns
    /// the attributes that changed; the attributes are updated in place, not rebuilt.
    pub fn identify(&mut self, user_id: Option<&str>, update: &Value) -> Vec<String> {
        let mut changed = Vec::new();
        merge_traits(&mut self.traits, update, &mut changed);
        // A trait named like a derived attribute is shadowed by it: rebuilt in full (rare).
        let shadowed = self.traits.get("id").is_some() || self.traits.get("account").is_some();
        if shadowed {
            self.refresh_attributes();
        } else {
            copy_keys(&mut self.attributes, &self.traits, &changed, 2);
        }
        if let Some(id) = user_id.filter(|id| self.user_id.as_deref() != Some(*id)) {
            self.user_id = Some(id.to_string());
            self.attributes.insert("id", id.into());
            changed.push("id".into());
        }
        changed
    }

    /// `group`: the account id (when given) and account traits; returns `["account"]` when
    /// anything changed.
    pub fn group(&mut self, account_id: Option<&str>, update: &Value) -> Vec<String> {
        let mut changed = Vec::new();
        merge_traits(&mut self.account_traits, update, &mut changed);
        let new_id = account_id.filter(|id| self.account_id.as_deref() != Some(*id));
        if let Some(id) = new_id {
            self.account_id = Some(id.to_string());
        }
        let account = match &mut self.attributes {
            Value::Object(entries) => entries.iter_mut().find(|(k, _)| k == "account"),
            _ => None,
        };
        match account {
            Some((_, account)) if self.account_traits.get("id").is_none() => {
                copy_keys(account, &self.account_traits, &changed, 1);
                if let Some(id) = new_id {
                    account.insert("id", id.into());
                }
            }
            _ => self.refresh_attributes(),
        }
        if changed.is_empty() && new_id.is_none() {
            return changed;
        }
        vec!["account".into()]
    }
}

//! Who the engine is watching: ids, traits, first-seen time, sessions and metered limits.

use crate::duration::{Millis, MINUTE};
use crate::json::Value;

/// Sessions split after this much inactivity, as in Segment and PostHog.
pub const SESSION_TIMEOUT: Millis = 30 * MINUTE;

#[derive(Clone, Debug, PartialEq)]
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
            user_id: None,
            traits: Value::Object(Vec::new()),
            account_id: None,
            account_traits: Value::Object(Vec::new()),
            first_seen: None,
            last_activity: None,
            usage: Vec::new(),
            attributes: Value::Null,
        };
        profile.refresh_attributes();
        profile
    }

    /// Audience attributes: the user traits, `id`, and the account traits plus `id` under
    /// `account` (so `account.company_size` and `account.id` resolve as dotted paths).
    pub fn refresh_attributes(&mut self) {
        let mut attributes = with_id(&self.traits, self.user_id.as_deref());
        attributes.insert("account", with_id(&self.account_traits, self.account_id.as_deref()));
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

/// A copy of the object `traits` (empty when it is none) with `id` on top.
fn with_id(traits: &Value, id: Option<&str>) -> Value {
    let mut object = match traits {
        Value::Object(_) => traits.clone(),
        _ => Value::Object(Vec::new()),
    };
    object.insert("id", id.map_or(Value::Null, Value::from));
    object
}

/// Merges `update`'s keys into the object `target` (traits given to `identify` / `group`),
/// pushing onto `changed` each key whose value is new.
fn merge_traits<'u>(target: &mut Value, update: &'u Value, changed: &mut Vec<&'u str>) {
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
            if !same && !changed.contains(&key.as_str()) {
                changed.push(key);
            }
            target.insert(key, value.clone());
        }
    }
}

/// Sets `keys` of the object `to` to their values in `from`, in place: a new key goes before
/// the last `derived` keys, where [`Profile::refresh_attributes`] would have put it.
fn copy_keys(to: &mut Value, from: &Value, keys: &[&str], derived: usize) {
    let Value::Object(entries) = to else { return };
    for key in keys {
        let value = from.get(key).cloned().unwrap_or(Value::Null);
        match entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => entries.insert(entries.len().saturating_sub(derived), (key.to_string(), value)),
        }
    }
}

/// `identify` and `group` alike: merges `update` into `traits` (pushing the changed keys onto
/// `changed`), keeps a new `id` in `slot`, and writes both into `view`, their copy in the
/// attributes (the attributes themselves, or their `account`), whose last `derived` keys are
/// derived. Returns whether the id changed, and whether `view` must be rebuilt instead: it is
/// missing, or a trait has a derived key's name (rare).
fn merge_into<'u>(
    traits: &mut Value,
    slot: &mut Option<String>,
    view: Option<&mut Value>,
    derived: usize,
    id: Option<&str>,
    update: &'u Value,
    changed: &mut Vec<&'u str>,
) -> (bool, bool) {
    merge_traits(traits, update, changed);
    let new_id = id.filter(|id| slot.as_deref() != Some(*id));
    if let Some(id) = new_id {
        *slot = Some(id.to_string());
    }
    let shadowed = traits.get("id").is_some() || (derived > 1 && traits.get("account").is_some());
    let Some(view) = view.filter(|_| !shadowed) else { return (new_id.is_some(), true) };
    copy_keys(view, traits, changed, derived);
    if let Some(id) = new_id {
        view.insert("id", id.into());
    }
    (new_id.is_some(), false)
}

impl Profile {
    /// `identify`: the user id (when given) and traits merged into the current ones. Returns
    /// the attributes that changed; the attributes are updated in place, not rebuilt.
    pub fn identify<'u>(&mut self, user_id: Option<&str>, update: &'u Value) -> Vec<&'u str> {
        let mut changed = Vec::new();
        let view = Some(&mut self.attributes);
        let (new_id, rebuild) =
            merge_into(&mut self.traits, &mut self.user_id, view, 2, user_id, update, &mut changed);
        if rebuild {
            self.refresh_attributes();
        }
        if new_id {
            changed.push("id");
        }
        changed
    }

    /// `group`: the account id (when given) and account traits; returns `["account"]` when
    /// anything changed.
    pub fn group<'u>(&mut self, account_id: Option<&str>, update: &'u Value) -> Vec<&'u str> {
        let mut changed = Vec::new();
        let view = match &mut self.attributes {
            Value::Object(entries) => {
                entries.iter_mut().find(|(k, _)| k == "account").map(|(_, v)| v)
            }
            _ => None,
        };
        let (new_id, rebuild) = merge_into(
            &mut self.account_traits,
            &mut self.account_id,
            view,
            1,
            account_id,
            update,
            &mut changed,
        );
        if rebuild {
            self.refresh_attributes();
        }
        if changed.is_empty() && !new_id {
            return changed;
        }
        vec!["account"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    /// The attributes kept in place by `identify` and `group` are what a rebuild makes, key
    /// order included, whichever traits shadow the derived `id` and `account`.
    #[test]
    fn attributes_updated_in_place_are_those_a_rebuild_makes() {
        let mut p = Profile::new("anon");
        let steps: [(bool, Option<&str>, &str); 9] = [
            (false, None, r#"{"plan": "free", "seats": 2}"#),
            (true, Some("acme"), r#"{"company_size": 20}"#),
            (false, Some("u1"), r#"{"seats": 3, "role": "admin"}"#),
            (true, None, r#"{"company_size": 30, "tier": "gold"}"#),
            (false, None, r#"{"account": 1}"#),
            (true, Some("globex"), r#"{"id": "own"}"#),
            (false, Some("u2"), r#"{"id": "shadow", "plan": "pro"}"#),
            (true, Some("initech"), r#"{"tier": null}"#),
            (false, Some("u3"), r#"{}"#),
        ];
        for (group, id, traits) in steps {
            let traits = parse(traits).unwrap();
            if group {
                p.group(id, &traits);
            } else {
                p.identify(id, &traits);
            }
            let mut rebuilt = p.clone();
            rebuilt.refresh_attributes();
            assert_eq!(p.attributes.to_json(), rebuilt.attributes.to_json(), "after {traits:?}");
        }
        assert_eq!(p.user_id.as_deref(), Some("u3"));
        assert_eq!(p.account_id.as_deref(), Some("initech"));
    }

    #[test]
    fn identify_names_the_changed_attributes_and_group_names_account() {
        let mut p = Profile::new("anon");
        let traits = parse(r#"{"plan": "pro", "seats": 2}"#).unwrap();
        assert_eq!(p.identify(Some("u1"), &traits), ["plan", "seats", "id"]);
        assert!(p.identify(Some("u1"), &traits).is_empty(), "nothing new");
        assert_eq!(p.group(Some("acme"), &Value::Object(Vec::new())), ["account"]);
        assert!(p.group(Some("acme"), &Value::Object(Vec::new())).is_empty());
    }
}

//! Prompt frequency: per-rule `frequency` and the rule set's global `limits`.
//!
//! A show is counted when the engine issues the prompt (the built-in UI shows it at once; a
//! headless app is handed it), so two events in quick succession can never issue it twice.

use crate::duration::{utc_day, Millis};
use crate::rules::{Frequency, Limits};

/// Why a prompt is held back, and until when if that is known.
#[derive(Clone, Debug, PartialEq)]
pub struct Blocked {
    pub reason: &'static str,
    pub until: Option<Millis>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct RuleHistory {
    pub shows: u32,
    pub last_shown: Option<Millis>,
    pub dismissals: u32,
    pub last_dismissed: Option<Millis>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct GlobalHistory {
    /// Shows in the current session.
    pub session_shows: u32,
    /// The UTC day of `day_shows`.
    pub day: i64,
    pub day_shows: u32,
    pub last_shown: Option<Millis>,
}

/// The first limit that holds a prompt back at `now`, per-rule limits first.
pub fn check(
    frequency: &Frequency,
    rule: &RuleHistory,
    limits: &Limits,
    global: &GlobalHistory,
    now: Millis,
) -> Option<Blocked> {
    let blocked = |reason, until| Some(Blocked { reason, until });
    if frequency.max_dismissals.is_some_and(|max| rule.dismissals >= max) {
        return blocked("maxDismissals", None);
    }
    if let (Some(snooze), Some(dismissed)) = (frequency.snooze_on_dismiss, rule.last_dismissed) {
        let until = dismissed.saturating_add(snooze);
        if now < until {
            return blocked("snoozed", Some(until));
        }
    }
    if frequency.max_shows.is_some_and(|max| rule.shows >= max) {
        return blocked("maxShows", None);
    }
    if let (Some(cooldown), Some(shown)) = (frequency.cooldown, rule.last_shown) {
        let until = shown.saturating_add(cooldown);
        if now < until {
            return blocked("cooldown", Some(until));
        }
    }
    if limits.max_per_session.is_some_and(|max| global.session_shows >= max) {
        return blocked("maxPerSession", None);
    }
    if limits.max_per_day.is_some_and(|max| global.day == utc_day(now) && global.day_shows >= max) {
        return blocked("maxPerDay", Some((utc_day(now) + 1) * crate::duration::DAY));
    }
    if let (Some(interval), Some(shown)) = (limits.min_interval, global.last_shown) {
        let until = shown.saturating_add(interval);
        if now < until {
            return blocked("minInterval", Some(until));
        }
    }
    None
}

pub fn record_show(rule: &mut RuleHistory, global: &mut GlobalHistory, now: Millis) {
    rule.shows = rule.shows.saturating_add(1);
    rule.last_shown = Some(now);
    let today = utc_day(now);
    if global.day != today {
        global.day = today;
        global.day_shows = 0;
    }
    global.day_shows = global.day_shows.saturating_add(1);
    global.session_shows = global.session_shows.saturating_add(1);
    global.last_shown = Some(now);
}

pub fn record_dismissal(rule: &mut RuleHistory, now: Millis) {
    rule.dismissals = rule.dismissals.saturating_add(1);
    rule.last_dismissed = Some(now);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::{DAY, HOUR};

    fn freq() -> Frequency {
        Frequency {
            cooldown: Some(3 * DAY),
            max_shows: Some(3),
            snooze_on_dismiss: Some(7 * DAY),
            max_dismissals: Some(2),
        }
    }

    #[test]
    fn cooldown_holds_until_it_elapses() {
        let (mut rule, mut global) = (RuleHistory::default(), GlobalHistory::default());
        let limits = Limits::default();
        assert_eq!(check(&freq(), &rule, &limits, &global, 0), None);
        record_show(&mut rule, &mut global, 0);
        let b = check(&freq(), &rule, &limits, &global, 3 * DAY - 1).unwrap();
        assert_eq!((b.reason, b.until), ("cooldown", Some(3 * DAY)));
        assert_eq!(check(&freq(), &rule, &limits, &global, 3 * DAY), None);
    }

    #[test]
    fn max_shows_and_dismissals_stop_for_good() {
        let (mut rule, mut global) = (RuleHistory::default(), GlobalHistory::default());
        let limits = Limits::default();
        for i in 0..3 {
            record_show(&mut rule, &mut global, i * 10 * DAY);
        }
        assert_eq!(check(&freq(), &rule, &limits, &global, 100 * DAY).unwrap().reason, "maxShows");
        let mut rule = RuleHistory::default();
        record_dismissal(&mut rule, 0);
        assert_eq!(check(&freq(), &rule, &limits, &global, DAY).unwrap().reason, "snoozed");
        record_dismissal(&mut rule, 0);
        assert_eq!(
            check(&freq(), &rule, &limits, &global, 100 * DAY).unwrap().reason,
            "maxDismissals"
        );
    }

    #[test]
    fn global_limits_apply_across_rules() {
        let limits =
            Limits { max_per_session: Some(1), max_per_day: Some(2), min_interval: Some(HOUR) };
        let none = Frequency::default();
        let mut global = GlobalHistory::default();
        record_show(&mut RuleHistory::default(), &mut global, 10 * DAY);
        let fresh = RuleHistory::default();
        assert_eq!(
            check(&none, &fresh, &limits, &global, 10 * DAY + 1).unwrap().reason,
            "maxPerSession"
        );
        global.session_shows = 0;
        assert_eq!(
            check(&none, &fresh, &limits, &global, 10 * DAY + 1).unwrap().reason,
            "minInterval"
        );
        record_show(&mut RuleHistory::default(), &mut global, 10 * DAY + 2 * HOUR);
        global.session_shows = 0;
        let b = check(&none, &fresh, &limits, &global, 10 * DAY + 4 * HOUR).unwrap();
        assert_eq!((b.reason, b.until), ("maxPerDay", Some(11 * DAY)));
        assert_eq!(check(&none, &fresh, &limits, &global, 11 * DAY), None);
    }
}

//! The rule set a product manager writes (PRODUCT.md §4), as the engine uses it after
//! [`parse`] has validated it. Every field that came from JSON keeps its JSON path where the
//! engine needs to point back at it (explanations, state keys).

mod parse;

#[cfg(feature = "sql")]
pub use parse::parse_rule_set_json_with_account_signals;
pub use parse::{parse_rule_set, parse_rule_set_json};

use crate::condition::Condition;
use crate::duration::Millis;
use crate::json::Value;
use crate::prompt::Prompt;

/// A validated, compiled rule set.
#[derive(Debug, PartialEq)]
pub struct RuleSet {
    pub version: u32,
    /// Page names and their URL path patterns (`"/pricing*"`), in document order.
    pub pages: Vec<(String, String)>,
    pub rules: Vec<Rule>,
    pub scoring: Scoring,
    pub on_qualified: Vec<Action>,
    /// Prompt definitions by id, in document order.
    pub prompts: Vec<(String, Prompt)>,
    pub limits: Limits,
    /// Named lists of values for `$inGroup` / `$notInGroup`: a JSON object of arrays.
    pub groups: Value,
}

#[derive(Debug, PartialEq)]
pub struct Rule {
    pub id: String,
    pub kind: RuleKind,
    /// A condition over the audience attributes (user traits, `account.*`, `id`, `account.id`).
    pub audience: Option<Condition>,
    /// When present the rule is checked only when this event happens, and fires each time it holds.
    pub trigger: Option<EventMatch>,
    /// `None` means "always" (an audience-only rule).
    pub when: Option<Node>,
    pub score: f64,
    pub actions: Vec<Action>,
    pub frequency: Frequency,
    pub priority: i32,
}

/// The PQL signal family a rule belongs to (PRODUCT.md §1); reported, never interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleKind {
    Usage,
    Feature,
    Intent,
    Fit,
    Other,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Usage => "usage",
            RuleKind::Feature => "feature",
            RuleKind::Intent => "intent",
            RuleKind::Fit => "fit",
            RuleKind::Other => "other",
        }
    }
}

/// `{ "event": "limit_hit", "where": { "limit": "projects" } }`
#[derive(Debug, PartialEq)]
pub struct EventMatch {
    pub event: String,
    /// A condition over the event's properties.
    pub filter: Option<Condition>,
}

/// A node of a `when` tree.
#[derive(Debug, PartialEq)]
pub enum Node {
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    Signal(Box<Signal>),
}

/// A leaf of a `when` tree.
#[derive(Debug, PartialEq)]
pub struct Signal {
    /// JSON path of the signal in the rule set, e.g. `rules[0].when.all[1]`.
    pub path: String,
    /// The signal's JSON as written (as the core writes JSON), used to recognise its saved state
    /// after the rule set changes (state is kept only while the definition is unchanged) and
    /// shown by explanations. Text, not a `Value`: written once at compile, where a copy of the
    /// tree cost every signal its allocations, and hashed at every save without writing again.
    pub source: String,
    pub kind: SignalKind,
}

/// What a signal measures. `compare` fields hold a condition applied to the measured number,
/// such as `{ "$gte": 2 }`; a bare number `n` is read as `{ "$gte": n }`.
#[derive(Debug, PartialEq)]
pub enum SignalKind {
    /// Number of matching events in the window.
    Count { on: EventMatch, within: Option<Millis>, compare: Condition },
    /// Number of distinct UTC calendar days with a matching event in the window.
    DistinctDays { on: EventMatch, within: Millis, compare: Condition },
    /// Number of sessions (split by 30 minutes of inactivity) started in the window.
    Sessions { within: Option<Millis>, compare: Condition },
    /// Sum of a numeric event property over the window.
    Sum { on: EventMatch, property: String, within: Option<Millis>, compare: Condition },
    /// Last reported `used / limit` ratio of a metered limit.
    Usage { limit: String, compare: Condition },
    /// `on` happened and `then` did not follow within `within`; holds once the time has elapsed.
    NotFollowedBy { on: EventMatch, then: EventMatch, within: Millis },
    /// The user was first seen less than `within` ago.
    FirstSeen { within: Millis },
    /// Whole days since the user was first seen, compared with `compare`.
    DaysSinceFirstSeen { compare: Condition },
    /// A condition over the audience attributes.
    Traits { condition: Condition },
    /// `"across": "account"`: measured over the events of every user of the user's account.
    /// Only the SQL engines evaluate it (the browser sees one user): rule sets with it are
    /// read by [`parse_rule_set_json_with_account_signals`] alone.
    #[cfg(feature = "sql")]
    Account { measure: AccountMeasure, on: EventMatch, within: Option<Millis>, compare: Condition },
}

/// What an account-level signal measures across the account's users.
#[cfg(feature = "sql")]
#[derive(Debug, PartialEq)]
pub enum AccountMeasure {
    Count,
    /// The sum of this numeric property.
    Sum(String),
    DistinctDays,
    /// Distinct users with a matching event.
    DistinctUsers,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Show the prompt with this id (subject to frequency and limits).
    Prompt(String),
    /// Send a beacon of this type.
    Beacon(String),
}

/// Per-rule prompt frequency.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Frequency {
    /// Minimum time between two shows of this rule's prompt.
    pub cooldown: Option<Millis>,
    /// Total shows allowed for this rule's prompt.
    pub max_shows: Option<u32>,
    /// After a dismissal, no show for this long.
    pub snooze_on_dismiss: Option<Millis>,
    /// After this many dismissals, never show again.
    pub max_dismissals: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Scoring {
    /// Score at which the user is qualified; `None` means the score never qualifies.
    pub threshold: Option<f64>,
    /// Tier names and their minimum scores, sorted by ascending minimum.
    pub tiers: Vec<(String, f64)>,
}

/// Global prompt limits, across all rules.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Limits {
    pub max_per_session: Option<u32>,
    pub max_per_day: Option<u32>,
    pub min_interval: Option<Millis>,
}

//! A rule set as one SQL query over an event history (`pqlkit sql`, `backtest --engine
//! duckdb`), with the engine's semantics: the README's window bucket rule, 30-minute sessions,
//! UTC days, the replay's time order and cut-off at conversion.
//!
//! The query evaluates every rule at every *point* of a user's timeline: each history row
//! (events, identify and group rows), and a tick at each moment a time-driven signal can change
//! without an event (a `notFollowedBy` deadline, a window bucket leaving the window of a signal
//! whose truth can rise when a count falls, a trial-age boundary, the end of observation). The
//! replay engine evaluates a rule exactly at such moments, so both find the same first flag
//! time. Windowed measures are a running total minus what left the window: a `RANGE` frame
//! over bucket numbers, `bucket(now) - bucket(t) <= W / g` (the README's edge rule when g
//! divides W; windows it does not divide are refused, as are constructs listed in
//! `condition.rs`).
//!
//! Input tables (names are parameters, so the query can be a dbt model):
//! - events: `user_id`, `ts` (ms since the epoch, UTC; NULL on identify / group rows that apply
//!   before the first event), `type` (`identify`, `group`, anything else or NULL: an event),
//!   `event`, `account_id`, `props` (JSON text: the event's properties, or the traits of an
//!   identify / group row), `seq` (order of rows with equal `ts`, e.g. the line number).
//! - conversions: `user_id` (NULL for an account-only conversion), `converted_at` (ms),
//!   `account_id`.

mod condition;
pub mod dialect;

use std::collections::BTreeSet;

use crate::duration::{Millis, DAY};
use crate::json::Value;
use crate::rules::{AccountMeasure, EventMatch, Node, RuleSet, SignalKind};
use crate::window::WindowCounter;
use condition::{Actual, Conditions};
use dialect::quote;
pub use dialect::Dialect;

/// A construct the SQL cannot express, with its JSON path. Code `sql_unsupported`.
#[derive(Clone, Debug, PartialEq)]
pub struct SqlError {
    pub path: String,
    pub message: String,
}

impl SqlError {
    pub const CODE: &'static str = "sql_unsupported";

    pub fn new(path: &str, message: &str) -> SqlError {
        SqlError { path: path.to_string(), message: message.to_string() }
    }

    pub fn to_value(&self) -> Value {
        crate::json::object([
            ("code", Self::CODE.into()),
            ("path", self.path.as_str().into()),
            ("message", self.message.as_str().into()),
        ])
    }
}

/// The query's parameters.
#[derive(Clone, Debug)]
pub struct Options {
    /// Table (or dbt `{{ ref(...) }}`) of the history.
    pub events: String,
    /// Table of conversions.
    pub conversions: String,
    /// End of observation in ms: time-driven checks run up to it, and `rN_holds` is read then.
    /// `None`: the later of each user's last event and the latest conversion (as the replay).
    pub as_of: Option<Millis>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            events: "pqlkit_events".into(),
            conversions: "pqlkit_conversions".into(),
            as_of: None,
        }
    }
}

const SESSION: Millis = crate::profile::SESSION_TIMEOUT;
/// The window clause of a user's timeline in evaluation order.
const BY_USER: &str = "PARTITION BY user_id ORDER BY pos";
const TO_HERE: &str = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW";

/// Builds the query for `rules`, or every construct it cannot express.
pub fn build(
    rules: &RuleSet,
    dialect: Dialect,
    options: &Options,
) -> Result<String, Vec<SqlError>> {
    let mut b = Builder {
        d: dialect,
        rules,
        row_columns: Vec::new(),
        order_columns: Vec::new(),
        buckets: BTreeSet::new(),
        value_columns: Vec::new(),
        account_columns: Vec::new(),
        user_traits: BTreeSet::new(),
        account_traits: BTreeSet::new(),
        ticks: Vec::new(),
        holds: Vec::new(),
        triggers: Vec::new(),
        signals: Vec::new(),
        count: 0,
    };
    let mut errors = Vec::new();
    for r in 0..rules.rules.len() {
        if let Err(e) = b.rule(r) {
            errors.extend(e);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(b.query(options))
}

struct Builder<'a> {
    d: Dialect,
    rules: &'a RuleSet,
    /// Columns of `tl` (history rows): per-signal match flags and amounts.
    row_columns: Vec<String>,
    /// Columns of `ord` (after `pos`): bucket numbers, first-of-day flags.
    order_columns: Vec<String>,
    buckets: BTreeSet<Millis>,
    /// Columns of `vals`: windowed measures and traits as of each point.
    value_columns: Vec<String>,
    /// Columns of `accts`: measures over every user of an account.
    account_columns: Vec<String>,
    user_traits: BTreeSet<String>,
    account_traits: BTreeSet<String>,
    /// `SELECT user_id, <ms> AS ts FROM ...` moments at which a signal can change by itself.
    ticks: Vec<String>,
    /// Per rule: whether it holds (SQL over `vals`), its trigger (or none), its signals'
    /// values as `(key, expression)`.
    holds: Vec<String>,
    triggers: Vec<Option<String>>,
    signals: Vec<Vec<(String, String)>>,
    count: usize,
}

impl Builder<'_> {
    fn rule(&mut self, r: usize) -> Result<(), Vec<SqlError>> {
        let rule = &self.rules.rules[r];
        let path = format!("rules[{r}]");
        let mut errors = Vec::new();
        let audience = match &rule.audience {
            Some(a) => self
                .attributes(a.source(), &format!("{path}.audience"))
                .map_err(|e| errors.push(e))
                .ok(),
            None => Some("TRUE".into()),
        };
        let mut values = Vec::new();
        let when = match &rule.when {
            Some(node) => self.node(node, false, &mut values, &mut errors),
            None => Some("TRUE".into()),
        };
        let trigger = match &rule.trigger {
            Some(t) => self
                .event_match(t, &format!("{path}.trigger"))
                .map_err(|e| errors.push(e))
                .ok()
                .map(Some),
            None => Some(None),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let (Some(audience), Some(when), Some(trigger)) = (audience, when, trigger) else {
            return Err(errors);
        };
        // Before the first event the replay evaluates only rules that read traits (on the
        // identify and group rows); the others start at the first event.
        let facts = rule.audience.is_some() || rule.when.as_ref().is_some_and(reads_facts);
        let seen = if facts { "TRUE" } else { "seen = 1" };
        self.holds.push(format!("{seen} AND ({audience}) AND ({when})"));
        self.triggers.push(trigger);
        self.signals.push(values);
        Ok(())
    }

    fn node(
        &mut self,
        node: &Node,
        negated: bool,
        values: &mut Vec<(String, String)>,
        errors: &mut Vec<SqlError>,
    ) -> Option<String> {
        let mut list = |b: &mut Self, children: &[Node], op: &str| {
            let parts: Vec<Option<String>> =
                children.iter().map(|c| b.node(c, negated, values, errors)).collect();
            let parts: Option<Vec<String>> = parts.into_iter().collect();
            parts.map(|p| format!("({})", p.join(op)))
        };
        match node {
            Node::All(children) => list(self, children, ") AND ("),
            Node::Any(children) => list(self, children, ") OR ("),
            Node::Not(child) => {
                self.node(child, !negated, values, errors).map(|c| format!("NOT ({c})"))
            }
            Node::Signal(signal) => match self.signal(&signal.kind, &signal.path, negated) {
                Ok((truth, value)) => {
                    values.push((crate::engine::key_in_rule(&signal.path).to_string(), value));
                    Some(format!("COALESCE({truth}, FALSE)"))
                }
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        }
    }

    /// A signal's truth and measured value at each point, as SQL over `vals`.
    fn signal(
        &mut self,
        kind: &SignalKind,
        path: &str,
        negated: bool,
    ) -> Result<(String, String), SqlError> {
        let i = self.count;
        self.count += 1;
        let at = |key: &str| format!("{path}.{key}");
        let d = self.d;
        let rising =
            |compare: &crate::condition::Condition| !negated && only_lower_bounds(compare.source());
        Ok(match kind {
            SignalKind::Count { on, within, compare }
            | SignalKind::Sum { on, within, compare, .. } => {
                let matched = self.event_match(on, path)?;
                let amount = match kind {
                    SignalKind::Sum { property, .. } => amount(d, &matched, property, &at("sum"))?,
                    _ => format!("CASE WHEN {matched} THEN 1 ELSE 0 END"),
                };
                self.row_columns.push(format!("{amount} AS m{i}"));
                let value = self.windowed(&format!("m{i}"), *within, &at("within"), false)?;
                self.value_columns.push(format!("{value} AS v{i}"));
                if !rising(compare) {
                    self.expiry_ticks(&format!("m{i} > 0"), *within, false);
                }
                (compared(d, compare, &format!("v{i}"), path)?, format!("v{i}"))
            }
            SignalKind::DistinctDays { on, within, compare } => {
                let matched = self.event_match(on, path)?;
                self.row_columns.push(format!("CASE WHEN {matched} THEN 1 ELSE 0 END AS m{i}"));
                let day = d.bucket("ts", DAY);
                self.order_columns.push(format!(
                    "CASE WHEN m{i} = 1 AND ROW_NUMBER() OVER (PARTITION BY user_id, m{i}, {day} ORDER BY ts, phase, orig_ts, seq) = 1 THEN 1 ELSE 0 END AS f{i}"
                ));
                let value = self.windowed(&format!("f{i}"), Some(*within), &at("within"), true)?;
                self.value_columns.push(format!("{value} AS v{i}"));
                if !rising(compare) {
                    self.expiry_ticks(&format!("m{i} = 1"), Some(*within), true);
                }
                (compared(d, compare, &format!("v{i}"), path)?, format!("v{i}"))
            }
            SignalKind::Sessions { within, compare } => {
                let value = self.windowed("sess", *within, &at("within"), false)?;
                self.value_columns.push(format!("{value} AS v{i}"));
                if !rising(compare) {
                    self.expiry_ticks("sess = 1", *within, false);
                }
                (compared(d, compare, &format!("v{i}"), path)?, format!("v{i}"))
            }
            SignalKind::Usage { limit, compare } => {
                let text = |key: &str| d.json_text("props", &[key]);
                let (used, max) = (d.to_double(&text("used")), d.to_double(&text("max")));
                self.row_columns.push(format!(
                    "CASE WHEN kind = 'track' AND event IN ('limit_hit', 'usage') AND {} = {} AND {max} > 0 THEN {used} / {max} END AS u{i}",
                    text("limit"),
                    quote(limit)
                ));
                self.value_columns
                    .push(format!("{} AS v{i}", d.last_non_null(&format!("u{i}"), BY_USER)));
                (compared(d, compare, &format!("v{i}"), path)?, format!("v{i}"))
            }
            SignalKind::NotFollowedBy { on, then, within } => {
                let started = self.event_match(on, path)?;
                let followed = self.event_match(then, &at("notFollowedBy"))?;
                self.row_columns.push(format!("CASE WHEN {started} THEN 1 ELSE 0 END AS m{i}"));
                // An event matching both restarts the flow (the engine checks `on` first).
                self.row_columns.push(format!(
                    "CASE WHEN {followed} AND NOT ({started}) THEN 1 ELSE 0 END AS n{i}"
                ));
                let to_here = |x: &str| format!("MAX({x}) OVER ({BY_USER} {TO_HERE})");
                self.value_columns.push(format!(
                    "{} AS v{i}",
                    to_here(&format!("CASE WHEN m{i} = 1 THEN ts END"))
                ));
                self.value_columns.push(format!(
                    "{} AS vp{i}",
                    to_here(&format!("CASE WHEN m{i} = 1 THEN pos END"))
                ));
                self.value_columns.push(format!(
                    "{} AS vf{i}",
                    to_here(&format!("CASE WHEN n{i} = 1 THEN pos END"))
                ));
                self.ticks
                    .push(format!("SELECT user_id, ts + {within} AS ts FROM tl WHERE m{i} = 1"));
                (format!("(v{i} IS NOT NULL AND (vf{i} IS NULL OR vf{i} < vp{i}) AND ts >= v{i} + {within})"), format!("v{i}"))
            }
            SignalKind::FirstSeen { within } => {
                if negated {
                    self.ticks
                        .push(format!("SELECT user_id, first_seen + {within} AS ts FROM users"));
                }
                // Unknown (false) before the first event, as in the replay.
                (format!("(seen = 1 AND ts - first_seen < {within})"), "first_seen".into())
            }
            SignalKind::DaysSinceFirstSeen { compare } => {
                let days = d.bucket("(ts - first_seen)", DAY);
                let mut boundaries = BTreeSet::new();
                numbers_in(compare.source(), &mut |n| {
                    if (0.0..1e6).contains(&n) {
                        boundaries.insert(n.ceil() as i64);
                        boundaries.insert(n.floor() as i64 + 1);
                    }
                });
                for k in boundaries {
                    self.ticks
                        .push(format!("SELECT user_id, first_seen + {} AS ts FROM users", k * DAY));
                }
                let truth = Conditions { dialect: d, field: None }.value(
                    compare.source(),
                    &Actual::Number(&days),
                    path,
                )?;
                (format!("(seen = 1 AND {truth})"), days)
            }
            SignalKind::Traits { condition } => {
                (self.attributes(condition.source(), &at("traits"))?, "NULL".into())
            }
            SignalKind::Account { measure, on, within, compare } => {
                let matched = self.event_match(on, path)?;
                let flag = match measure {
                    AccountMeasure::Sum(property) => amount(d, &matched, property, &at("sum"))?,
                    _ => format!("CASE WHEN {matched} THEN 1 ELSE 0 END"),
                };
                self.row_columns.push(format!("{flag} AS m{i}"));
                // Every point of the account's users, by time; users without an account are
                // their own. Exact windows: an event counts while it is less than W old.
                let frame = match within {
                    Some(w) => {
                        format!("RANGE BETWEEN {} PRECEDING AND CURRENT ROW", (w - 1).max(0))
                    }
                    None => "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW".into(),
                };
                let over = format!("PARTITION BY account_key ORDER BY ts {frame}");
                let value = match measure {
                    AccountMeasure::Count | AccountMeasure::Sum(_) => {
                        format!("SUM(m{i}) OVER ({over})")
                    }
                    AccountMeasure::DistinctDays => d.distinct_count(
                        &format!("CASE WHEN m{i} = 1 THEN {} END", d.bucket("ts", DAY)),
                        &over,
                    ),
                    AccountMeasure::DistinctUsers => {
                        d.distinct_count(&format!("CASE WHEN m{i} = 1 THEN user_id END"), &over)
                    }
                };
                self.account_columns.push(format!("{value} AS v{i}"));
                (compared(d, compare, &format!("v{i}"), path)?, format!("v{i}"))
            }
        })
    }

    /// `SUM(column)` over the window `within` ending at each point, by the bucket rule.
    fn windowed(
        &mut self,
        column: &str,
        within: Option<Millis>,
        path: &str,
        daily: bool,
    ) -> Result<String, SqlError> {
        let running = format!("SUM({column}) OVER ({BY_USER} {TO_HERE})");
        let Some(w) = within else { return Ok(running) };
        let g = if daily { DAY } else { WindowCounter::new(Some(w)).granularity().unwrap_or(1000) };
        if w <= 0 || w % g != 0 {
            let what = if daily {
                "distinct days need a window of whole days"
            } else {
                "the window is not a whole number of its buckets"
            };
            return Err(SqlError::new(
                path,
                &format!("{what} ({w} ms, buckets of {g} ms): the engine's edge rule then depends on the exact time, which a SQL window frame cannot express; use a window such as 7d, 24h or 30m"),
            ));
        }
        self.buckets.insert(g);
        let gone = format!("SUM({column}) OVER (PARTITION BY user_id ORDER BY b{g} RANGE BETWEEN UNBOUNDED PRECEDING AND {} PRECEDING)", w / g + 1);
        Ok(format!("({running} - COALESCE({gone}, 0))"))
    }

    /// Ticks when the rows matching `filter` leave a window of `within`.
    fn expiry_ticks(&mut self, filter: &str, within: Option<Millis>, daily: bool) {
        let Some(w) = within else { return };
        let g = if daily { DAY } else { WindowCounter::new(Some(w)).granularity().unwrap_or(1000) };
        // An event in bucket b counts while now < (b + 1) * g + W.
        let bucket = self.d.bucket("ts", g);
        self.ticks.push(format!(
            "SELECT user_id, ({bucket} + 1) * {g} + {w} AS ts FROM tl WHERE {filter}"
        ));
    }

    /// SQL matching a history row against `{event, where}`.
    fn event_match(&mut self, on: &EventMatch, path: &str) -> Result<String, SqlError> {
        let mut sql = format!("kind = 'track' AND event = {}", quote(&on.event));
        if let Some(filter) = &on.filter {
            let d = self.d;
            let pages = if on.event == crate::event::PAGE_VIEW { self.page_names()? } else { None };
            let mut field = |key: &str, at: &str| -> Result<String, SqlError> {
                let keys = keys_of(key, at)?;
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                let text = d.json_text("props", &keys);
                Ok(match (&pages, keys.as_slice()) {
                    // The engine names the page from `pages` when the event has no `page`.
                    (Some(names), ["page"]) => format!("COALESCE({text}, {names})"),
                    _ => text,
                })
            };
            let condition = Conditions { dialect: d, field: Some(&mut field) }
                .object(filter.source(), &format!("{path}.where"))?;
            sql = format!("{sql} AND ({condition})");
        }
        Ok(sql)
    }

    /// The name of the first `pages` pattern matching a page view's `path`, as SQL.
    fn page_names(&self) -> Result<Option<String>, SqlError> {
        if self.rules.pages.is_empty() {
            return Ok(None);
        }
        let path =
            format!("REGEXP_REPLACE({}, '[?#].*$', '')", self.d.json_text("props", &["path"]));
        let mut cases = String::from("CASE");
        for (name, pattern) in &self.rules.pages {
            if pattern.contains(['%', '_', '\\', '\'']) {
                return Err(SqlError::new(
                    &format!("pages.{name}"),
                    "a page pattern with % _ \\ or ' has no portable SQL LIKE form",
                ));
            }
            cases.push_str(&format!(
                " WHEN {path} LIKE '{}' THEN {}",
                pattern.replace('*', "%"),
                quote(name)
            ));
        }
        cases.push_str(" END");
        Ok(Some(cases))
    }

    /// A condition over the audience attributes at each point.
    fn attributes(&mut self, source: &Value, path: &str) -> Result<String, SqlError> {
        let d = self.d;
        let (users, accounts) = (&mut self.user_traits, &mut self.account_traits);
        let mut field = |key: &str, at: &str| -> Result<String, SqlError> {
            let keys = keys_of(key, at)?;
            let (column, rest) = match keys.as_slice() {
                [id] if id == "id" => return Ok("user_id".into()),
                [account, id] if account == "account" && id == "id" => return Ok("acct".into()),
                [account, key, rest @ ..] if account == "account" => {
                    accounts.insert(key.clone());
                    (format!("at_{key}"), rest)
                }
                [key, rest @ ..] => {
                    users.insert(key.clone());
                    (format!("ut_{key}"), rest)
                }
                [] => return Err(SqlError::new(at, "an empty attribute name")),
            };
            if rest.is_empty() {
                return Ok(column);
            }
            let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
            Ok(format!("CASE WHEN {column} LIKE '{{%' THEN {} END", d.json_text(&column, &rest)))
        };
        Conditions { dialect: d, field: Some(&mut field) }.object(source, path)
    }

    fn query(&self, options: &Options) -> String {
        let d = self.d;
        let big = d.bigint_type();
        let text = d.text_type();
        let as_of = options.as_of.map_or(format!("CAST(NULL AS {big})"), |t| t.to_string());
        let mut q = String::new();
        q.push_str(&format!("-- pqlkit {} · dialect {}\n", crate::engine::SDK_VERSION, d.name()));
        for (r, rule) in self.rules.rules.iter().enumerate() {
            q.push_str(&format!("-- r{} = {}\n", r + 1, rule.id.replace('\n', " ")));
        }
        let events = &options.events;
        let conversions = &options.conversions;
        q.push_str(&format!(
            "WITH conv AS (\n  SELECT user_id, MIN(converted_at) AS converted_at, MAX(account_id) AS account_id\n  FROM {conversions} WHERE user_id IS NOT NULL AND user_id <> '' GROUP BY user_id\n),\n\
             latest AS (SELECT MAX(converted_at) AS latest FROM {conversions}),\n\
             src AS (\n  SELECT e.user_id, e.ts, CASE WHEN e.type = 'identify' THEN 'identify' WHEN e.type = 'group' THEN 'group' ELSE 'track' END AS kind,\n    e.event, CASE WHEN e.account_id = '' THEN NULL ELSE e.account_id END AS account_id, e.props, e.seq,\n    COALESCE(c.converted_at, 9223372036854775807) AS cutoff, c.converted_at, c.account_id AS conv_account\n  FROM {events} e LEFT JOIN conv c ON c.user_id = e.user_id\n  WHERE e.user_id IS NOT NULL AND e.user_id <> ''\n),\n\
             users AS (\n  SELECT user_id, first_seen, last_seen, events, events_after_conversion, converted_at, conv_account, cutoff,\n    CASE WHEN first_seen IS NULL THEN NULL ELSE LEAST(COALESCE({as_of}, CASE WHEN latest > last_seen THEN latest ELSE last_seen END), cutoff) END AS tail\n  FROM (\n    SELECT user_id,\n      MIN(CASE WHEN kind = 'track' AND ts <= cutoff THEN ts END) AS first_seen,\n      MAX(CASE WHEN kind = 'track' AND ts <= cutoff THEN ts END) AS last_seen,\n      SUM(CASE WHEN kind = 'track' AND ts <= cutoff THEN 1 ELSE 0 END) AS events,\n      SUM(CASE WHEN kind = 'track' AND ts > cutoff THEN 1 ELSE 0 END) AS events_after_conversion,\n      MAX(converted_at) AS converted_at, MAX(conv_account) AS conv_account, MAX(cutoff) AS cutoff\n    FROM src GROUP BY user_id\n  ) s CROSS JOIN latest\n),\n"
        ));
        // What later steps read of a row's event and properties, computed here once, so that
        // the JSON text does not travel through every window's sort (memory and time).
        let mut row_columns = self.row_columns.clone();
        for (r, trigger) in self.triggers.iter().enumerate() {
            if let Some(t) = trigger {
                row_columns.push(format!("CASE WHEN {t} THEN 1 ELSE 0 END AS t{}", r + 1));
            }
        }
        for (kind, prefix, keys) in
            [("identify", "xu", &self.user_traits), ("group", "xa", &self.account_traits)]
        {
            for key in keys {
                let text = d.json_text("props", &[key]);
                row_columns
                    .push(format!("CASE WHEN kind = '{kind}' THEN {text} END AS {prefix}_{key}"));
            }
        }
        // History rows of replayed users, up to their conversion; rows before the first event
        // happen at it, in their own time order.
        let mut tl_columns = vec![
            "user_id".to_string(),
            "ts".into(),
            "orig_ts".into(),
            "phase".into(),
            "seq".into(),
            "kind".into(),
            "account_id".into(),
            "first_seen".into(),
            format!("CASE WHEN kind = 'track' AND (LAG(ts) OVER (PARTITION BY user_id, kind ORDER BY ts, orig_ts, seq) IS NULL OR ts - LAG(ts) OVER (PARTITION BY user_id, kind ORDER BY ts, orig_ts, seq) >= {SESSION}) THEN 1 ELSE 0 END AS sess"),
        ];
        tl_columns.extend(row_columns.iter().cloned());
        q.push_str(&format!(
            "tl0 AS (\n  SELECT s.user_id, CASE WHEN s.ts IS NULL OR s.ts < u.first_seen THEN u.first_seen ELSE s.ts END AS ts, s.ts AS orig_ts, 2 AS phase, s.seq, s.kind, s.event, s.account_id, s.props, u.first_seen\n  FROM src s JOIN users u ON u.user_id = s.user_id\n  WHERE u.first_seen IS NOT NULL AND (s.ts IS NULL OR s.ts <= u.cutoff)\n),\n\
             tl AS (\n  SELECT {}\n  FROM tl0\n),\n",
            tl_columns.join(",\n    ")
        ));
        let mut ticks =
            vec!["SELECT user_id, tail AS ts FROM users WHERE first_seen IS NOT NULL".to_string()];
        ticks.extend(self.ticks.iter().cloned());
        let zeros: Vec<String> = row_columns
            .iter()
            .map(|c| {
                let name = c.rsplit(" AS ").next().unwrap_or("x");
                // Usage ratios and traits are "not reported" on ticks; flags and amounts are 0.
                let value = if name.starts_with(['u', 'x']) { "NULL" } else { "0" };
                format!("{value} AS {name}")
            })
            .collect();
        let mut tick_columns = vec![
            "t.user_id".to_string(),
            "t.ts".into(),
            format!("CAST(NULL AS {big}) AS orig_ts"),
            "PHASE AS phase".into(),
            format!("CAST(NULL AS {big}) AS seq"),
            "'KIND' AS kind".into(),
            format!("CAST(NULL AS {text}) AS account_id"),
            "u.first_seen".into(),
            "0 AS sess".into(),
        ];
        tick_columns.extend(zeros);
        let tick_rows = ticks.join("\n  UNION ALL ");
        let tick_columns = tick_columns.join(", ");
        // `init`: the replay's first step, at the first event, before any row is applied.
        let (ticks, init) = (
            tick_columns.replace("PHASE", "0").replace("KIND", "tick"),
            tick_columns.replace("PHASE", "1").replace("KIND", "init").replacen(
                "t.user_id, t.ts",
                "u.user_id, u.first_seen AS ts",
                1,
            ),
        );
        q.push_str(&format!(
            "ticks AS (\n  SELECT DISTINCT user_id, ts FROM (\n  {tick_rows}\n  ) x\n),\n\
             pts AS (\n  SELECT * FROM tl\n  UNION ALL\n  SELECT {ticks}\n  FROM ticks t JOIN users u ON u.user_id = t.user_id\n  WHERE t.ts >= u.first_seen AND t.ts <= u.tail\n  UNION ALL\n  SELECT {init}\n  FROM users u WHERE u.first_seen IS NOT NULL\n),\n"
        ));
        let mut ord = vec!["pts.*".to_string(), "ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts, phase, orig_ts NULLS FIRST, seq) AS pos".into()];
        for g in &self.buckets {
            ord.push(format!("{} AS b{g}", d.bucket("ts", *g)));
        }
        ord.extend(self.order_columns.iter().cloned());
        q.push_str(&format!("ord AS (\n  SELECT {}\n  FROM pts\n),\n", ord.join(",\n    ")));
        let mut vals = vec!["ord.*".to_string()];
        vals.push(format!(
            "MAX(CASE WHEN kind = 'track' THEN 1 ELSE 0 END) OVER ({BY_USER} {TO_HERE}) AS seen"
        ));
        vals.push(format!(
            "{} AS acct",
            d.last_non_null("CASE WHEN kind IN ('group', 'track') THEN account_id END", BY_USER)
        ));
        for key in &self.user_traits {
            vals.push(format!("{} AS ut_{key}", d.last_non_null(&format!("xu_{key}"), BY_USER)));
        }
        for key in &self.account_traits {
            vals.push(format!("{} AS at_{key}", d.last_non_null(&format!("xa_{key}"), BY_USER)));
        }
        vals.extend(self.value_columns.iter().cloned());
        q.push_str(&format!("vals AS (\n  SELECT {}\n  FROM ord\n),\n", vals.join(",\n    ")));
        let mut accts = vec!["vals.*".to_string()];
        accts.extend(self.account_columns.iter().cloned());
        q.push_str(&format!(
            "keyed AS (\n  SELECT vals.*, COALESCE(acct, '~user~' || user_id) AS account_key\n  FROM vals\n),\n\
             accts AS (\n  SELECT {}\n  FROM keyed\n),\n",
            accts.join(",\n    ").replacen("vals.*", "keyed.*", 1)
        ));
        let mut holds = vec!["accts.*".to_string()];
        let mut score = Vec::new();
        for (r, rule) in self.rules.rules.iter().enumerate() {
            let n = r + 1;
            holds.push(format!("CASE WHEN {} THEN 1 ELSE 0 END AS h{n}", self.holds[r]));
            holds.push(match &self.triggers[r] {
                Some(_) => format!("CASE WHEN phase = 2 AND t{n} = 1 THEN 1 ELSE 0 END AS g{n}"),
                None => format!("1 AS g{n}"),
            });
            let pairs: Vec<(String, String)> = self.signals[r].clone();
            holds.push(format!("{} AS s{n}", d.json_object(&pairs)));
            if rule.score != 0.0 {
                score.push(format!("{} * h{n}", Value::Number(rule.score).to_json()));
            }
        }
        let score = if score.is_empty() { "0".into() } else { score.join(" + ") };
        q.push_str(&format!(
            "holds AS (\n  SELECT {}\n  FROM accts\n),\n\
             scored AS (\n  SELECT holds.*, CAST({score} AS {dbl}) AS score,\n    COALESCE(MAX(CAST({score} AS {dbl})) OVER ({BY_USER} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS best_before\n  FROM holds\n),\n",
            holds.join(",\n    "),
            dbl = d.double_type()
        ));
        let mut agg = vec![
            "user_id".to_string(),
            format!(
                "{} AS last_account",
                d.value_at("acct", "CASE WHEN acct IS NOT NULL THEN pos END", true)
            ),
        ];
        for r in 1..=self.rules.rules.len() {
            let fire = format!("CASE WHEN h{r} = 1 AND g{r} = 1 THEN pos END");
            agg.push(format!(
                "MIN(CASE WHEN h{r} = 1 AND g{r} = 1 THEN ts END) AS r{r}_flagged_at"
            ));
            agg.push(format!("{} AS r{r}_signals", d.value_at(&format!("s{r}"), &fire, false)));
            agg.push(format!(
                "{} AS r{r}_holds",
                d.value_at(&format!("h{r}"), "CASE WHEN ts <= tail THEN pos END", true)
            ));
        }
        match self.rules.scoring.threshold {
            Some(t) => agg.push(format!(
                "MIN(CASE WHEN score >= {} THEN ts END) AS score_reached_at",
                Value::Number(t).to_json()
            )),
            None => agg.push(format!("CAST(NULL AS {big}) AS score_reached_at")),
        }
        agg.push(format!(
            "{} AS score_rises",
            d.ordered_list(
                &format!(
                    "CASE WHEN score > best_before THEN {} || ':' || {} END",
                    d.to_text("ts"),
                    d.to_text("score")
                ),
                "pos"
            )
        ));
        agg.push(format!(
            "{} AS score_as_of",
            d.value_at("score", "CASE WHEN ts <= tail THEN pos END", true)
        ));
        q.push_str(&format!(
            "agg AS (\n  SELECT {}\n  FROM scored JOIN (SELECT user_id AS uid, tail FROM users) t ON t.uid = scored.user_id\n  GROUP BY user_id\n",
            agg.join(",\n    ")
        ));
        let mut out = vec![
            "'user' AS level".to_string(),
            "u.user_id AS id".into(),
            "COALESCE(a.last_account, u.conv_account) AS account_id".into(),
            "u.first_seen".into(),
            "u.last_seen".into(),
            "u.converted_at".into(),
            "u.events".into(),
            "u.events_after_conversion".into(),
        ];
        // Accounts: the earliest of their users' (and account-only conversions).
        let mut accounts = vec![
            "'account' AS level".to_string(),
            "p.account_id AS id".into(),
            "p.account_id".into(),
            "MIN(p.first_seen) AS first_seen".into(),
            "MAX(p.last_seen) AS last_seen".into(),
            "CASE WHEN MIN(p.converted_at) IS NULL OR MIN(c.converted_at) < MIN(p.converted_at) THEN MIN(c.converted_at) ELSE MIN(p.converted_at) END AS converted_at".into(),
            "SUM(p.events) AS events".into(),
            "SUM(p.events_after_conversion) AS events_after_conversion".into(),
        ];
        for r in 1..=self.rules.rules.len() {
            out.push(format!("a.r{r}_flagged_at"));
            out.push(format!("a.r{r}_signals"));
            out.push(format!("a.r{r}_holds"));
            accounts.push(format!("MIN(p.r{r}_flagged_at) AS r{r}_flagged_at"));
            accounts.push(format!(
                "{} AS r{r}_signals",
                d.value_at(&format!("p.r{r}_signals"), &format!("p.r{r}_flagged_at"), false)
            ));
            accounts.push(format!("MAX(p.r{r}_holds) AS r{r}_holds"));
        }
        out.extend([
            "a.score_reached_at".to_string(),
            "a.score_rises".into(),
            "a.score_as_of".into(),
        ]);
        accounts.extend([
            "MIN(p.score_reached_at) AS score_reached_at".to_string(),
            format!("CAST(NULL AS {text}) AS score_rises"),
            "MAX(p.score_as_of) AS score_as_of".into(),
        ]);
        q.push_str(&format!(
            "),\nper_user AS (\n  SELECT {}\n  FROM users u LEFT JOIN agg a ON a.user_id = u.user_id\n),\n\
             account_conv AS (\n  SELECT account_id, MIN(converted_at) AS converted_at FROM {conversions}\n  WHERE (user_id IS NULL OR user_id = '') AND account_id IS NOT NULL GROUP BY account_id\n)\n\
             SELECT * FROM per_user\nUNION ALL\nSELECT {}\nFROM per_user p LEFT JOIN account_conv c ON c.account_id = p.account_id\nWHERE p.account_id IS NOT NULL AND p.first_seen IS NOT NULL\nGROUP BY p.account_id\n",
            out.join(",\n    "),
            accounts.join(",\n  ")
        ));
        q
    }
}

/// A dotted path's keys, each a plain identifier (so that every dialect's JSON path and
/// column names take it as written).
fn keys_of(path: &str, at: &str) -> Result<Vec<String>, SqlError> {
    let keys: Vec<String> = path.split('.').map(str::to_string).collect();
    let plain =
        |k: &String| !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if keys.iter().all(plain) {
        Ok(keys)
    } else {
        Err(SqlError::new(at, &format!("\"{path}\": SQL paths take letters, digits and _ only")))
    }
}

/// A row's amount of `property` for a sum when it matches (SQL `matched`), else 0. The engine
/// skips negative and non-numeric amounts.
fn amount(dialect: Dialect, matched: &str, property: &str, path: &str) -> Result<String, SqlError> {
    let keys = keys_of(property, path)?;
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let amount = dialect.to_double(&dialect.json_text("props", &keys));
    Ok(format!("CASE WHEN {matched} AND {amount} >= 0 THEN {amount} ELSE 0 END"))
}

/// A measured number `value` compared as the signal says.
fn compared(
    dialect: Dialect,
    compare: &crate::condition::Condition,
    value: &str,
    path: &str,
) -> Result<String, SqlError> {
    Conditions { dialect, field: None }.value(compare.source(), &Actual::Number(value), path)
}

/// Whether a `when` tree reads traits or metered limits.
fn reads_facts(node: &Node) -> bool {
    match node {
        Node::All(children) | Node::Any(children) => children.iter().any(reads_facts),
        Node::Not(child) => reads_facts(child),
        Node::Signal(s) => matches!(s.kind, SignalKind::Usage { .. } | SignalKind::Traits { .. }),
    }
}

/// Whether a comparison only ever turns true as its value grows: `$gt` / `$gte` alone.
fn only_lower_bounds(compare: &Value) -> bool {
    compare
        .as_object()
        .is_some_and(|entries| entries.iter().all(|(k, _)| k == "$gt" || k == "$gte"))
}

fn numbers_in(value: &Value, f: &mut dyn FnMut(f64)) {
    match value {
        Value::Number(n) => f(*n),
        Value::Array(items) => items.iter().for_each(|i| numbers_in(i, f)),
        Value::Object(entries) => entries.iter().for_each(|(_, v)| numbers_in(v, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests;

//! Event histories replayed through the engine: the core of the command line's backtest.
//!
//! A history is NDJSON, one line per event or traits update (the format is in `pqlkit --help`
//! and js/cli/backtest.js). Each user's lines are replayed in time order through one engine,
//! reset between users, and only what calibration needs is kept per user: when each rule first
//! fired, when the score first reached the threshold, and each rise of the score (for the
//! threshold sweep). The figures are computed from these records in JS.
//!
//! Parsing happens here rather than in JS because it is most of the work: a history has
//! millions of lines, and one parse in the engine's own JSON reader is several times cheaper
//! than `JSON.parse` followed by re-serialising every event for the engine.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use crate::duration::Millis;
use crate::engine::{Effect, Engine};
use crate::event::Event;
use crate::json::{self, Value};
use crate::timestamp::{parse_timestamp, parse_timestamp_text};

/// A line the backtest cannot use, with its 1-based line number in the file.
#[derive(Clone, Debug, PartialEq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, PartialEq)]
enum Action<'a> {
    Event { name: Cow<'a, str>, props: Value },
    Identify { traits: Value },
    Group { account: Cow<'a, str>, traits: Value },
}

/// One parsed line. `time` is `None` for identify / group lines without a timestamp: they apply
/// before the user's first event.
#[derive(Debug, PartialEq)]
struct Item<'a> {
    time: Option<Millis>,
    /// An event line's `accountId`: the user moved to this account.
    account: Option<Cow<'a, str>>,
    action: Action<'a>,
}

fn timestamp_error(value: &Value) -> String {
    format!("\"timestamp\" {} is not ms or ISO 8601", value.to_json())
}

/// A top-level field of a line: a string (borrowed when it has no escapes) or another value.
type Field<'a> = Result<Cow<'a, str>, Value>;

fn non_empty(field: Option<Field<'_>>) -> Option<Cow<'_, str>> {
    match field {
        Some(Ok(text)) if !text.is_empty() => Some(text),
        _ => None,
    }
}

/// Reads one line into its user id and what it does.
fn parse_line(line: &str) -> Result<(Cow<'_, str>, Item<'_>), String> {
    let (mut user, mut kind, mut timestamp, mut event, mut account) =
        (None, None, None, None, None);
    let (mut props, mut traits) = (None, None);
    let is_object = json::parse_entries(line, |key, entry| {
        let field = match key {
            "userId" => &mut user,
            "type" => &mut kind,
            "timestamp" => &mut timestamp,
            "event" => &mut event,
            "accountId" => &mut account,
            "props" => {
                props = Some(entry.value()?);
                return Ok(());
            }
            "traits" => {
                traits = Some(entry.value()?);
                return Ok(());
            }
            _ => return Ok(()),
        };
        *field = Some(entry.text()?);
        Ok(())
    })
    .map_err(|e| format!("not JSON ({} at byte {})", e.message, e.offset))?;
    if !is_object {
        return Err("each line needs a string \"userId\"".into());
    }
    let user = non_empty(user).ok_or("each line needs a string \"userId\"")?;
    let time = match timestamp {
        None => None,
        Some(Ok(text)) => Some(
            parse_timestamp_text(&text)
                .ok_or_else(|| timestamp_error(&Value::String(text.into_owned())))?,
        ),
        Some(Err(value)) => Some(parse_timestamp(&value).ok_or_else(|| timestamp_error(&value))?),
    };
    let traits = || traits.unwrap_or_else(|| Value::Object(Vec::new()));
    let action = match kind.as_ref().and_then(|k| k.as_deref().ok()) {
        Some("identify") => Action::Identify { traits: traits() },
        Some("group") => Action::Group {
            account: non_empty(account.take())
                .ok_or("a group line needs a string \"accountId\"")?,
            traits: traits(),
        },
        _ => {
            let name = non_empty(event).ok_or(
                "an event line needs a string \"event\" (or \"type\": \"identify\" / \"group\")",
            )?;
            if time.is_none() {
                return Err("an event line needs a \"timestamp\" (ms or ISO 8601)".into());
            }
            // As `Event::new` does: props that are not an object are none.
            let props = props.filter(|p| matches!(p, Value::Object(_)));
            let props = props.unwrap_or_else(|| Value::Object(Vec::new()));
            Action::Event { name, props }
        }
    };
    let account = if matches!(action, Action::Event { .. }) { non_empty(account) } else { None };
    Ok((user, Item { time, account, action }))
}

/// `bytes` as text, or the line where it stops being UTF-8.
pub fn text_of(bytes: &[u8], first_line: usize) -> Result<&str, LineError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let line = first_line + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        LineError { line, message: "not UTF-8 text".into() }
    })
}

/// The lines of `text` with their 1-based numbers, counting from `first_line`; blank lines
/// skipped. Once it is exhausted, `line_ends` tells how many lines the text held (counted on the
/// way rather than in a second pass over megabytes).
struct NumberedLines<'a> {
    parts: std::str::Split<'a, char>,
    first: usize,
    next: usize,
}

fn numbered_lines(text: &str, first_line: usize) -> NumberedLines<'_> {
    NumberedLines { parts: text.split('\n'), first: first_line, next: first_line }
}

impl NumberedLines<'_> {
    fn line_ends(&self) -> usize {
        (self.next - self.first).saturating_sub(1)
    }
}

impl<'a> Iterator for NumberedLines<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        loop {
            let line = self.parts.next()?;
            let number = self.next;
            self.next += 1;
            let line = line.strip_suffix('\r').unwrap_or(line);
            if !line.trim().is_empty() {
                return Some((number, line));
            }
        }
    }
}

/// Which of `partitions` each line of `text` (split at `\n`) goes to, by a hash of its user
/// id; `u32::MAX` for a blank line. For histories not grouped by user: each partition then
/// holds whole users. Every line is validated as the replay will read it.
pub fn partition_lines(
    text: &str,
    first_line: usize,
    partitions: u32,
) -> Result<Vec<u32>, LineError> {
    text.split('\n')
        .enumerate()
        .map(|(i, line)| {
            if line.trim().is_empty() {
                return Ok(u32::MAX);
            }
            let (user, _) =
                parse_line(line).map_err(|message| LineError { line: first_line + i, message })?;
            Ok(crate::hash::fnv1a(user.as_bytes()) % partitions.max(1))
        })
        .collect()
}

/// Where the lines of the last user in `text` start: a history grouped by user can be cut
/// there into pieces that each hold whole users. `None` when every line is that user's (or
/// the text has no line end). A line that cannot be read ends the run: its error is reported
/// by whoever replays it.
pub fn last_user_start(text: &str) -> Option<usize> {
    let end = text.rfind('\n')? + 1;
    let mut last: Option<Cow<str>> = None;
    let mut start = end;
    let mut cursor = end - 1; // the newline ending the last complete line
    loop {
        let line_start = text[..cursor].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[line_start..cursor];
        if !line.trim().is_empty() {
            let user = parse_line(line).ok().map(|(user, _)| user);
            match (&last, user) {
                (_, None) => return Some(start),
                (None, Some(user)) => last = Some(user),
                (Some(run), Some(user)) if *run != user => return Some(start),
                _ => {}
            }
        }
        start = line_start;
        if line_start == 0 {
            return None;
        }
        cursor = line_start - 1;
    }
}

/// When users converted: the earliest conversion per user, their account, and the latest
/// conversion overall (the default end of observation).
#[derive(Debug, Default)]
pub struct Conversions {
    pub users: HashMap<String, Millis>,
    pub accounts: HashMap<String, String>,
    pub latest: Option<Millis>,
}

impl Conversions {
    /// From `{ "users": { id: ms }, "accounts": { userId: accountId }, "latest": ms | null }`.
    pub fn from_json(text: &str) -> Conversions {
        let document = json::parse(text).unwrap_or_default();
        let entries = |key| document.get(key).and_then(Value::as_object).unwrap_or(&[]);
        Conversions {
            users: entries("users")
                .iter()
                .filter_map(|(id, t)| Some((id.clone(), parse_timestamp(t)?)))
                .collect(),
            accounts: entries("accounts")
                .iter()
                .filter_map(|(id, a)| Some((id.clone(), a.as_str()?.to_string())))
                .collect(),
            latest: document.get("latest").and_then(parse_timestamp),
        }
    }
}

/// What calibration keeps of one user.
#[derive(Clone, Debug, PartialEq)]
pub struct UserRecord {
    pub user_id: String,
    pub account_id: Option<String>,
    pub first_seen: Millis,
    pub last_seen: Millis,
    pub conversion: Option<Millis>,
    /// When each rule (in rule-set order) first fired.
    pub fires: Vec<Option<Millis>>,
    /// When the score first reached the threshold.
    pub score_reached: Option<Millis>,
    /// Each time the score rose to a new maximum: `(time, score)`.
    pub rises: Vec<(Millis, f64)>,
}

/// The outcome of replaying a piece of a history.
#[derive(Debug, Default, PartialEq)]
pub struct Replayed {
    /// Line ends in the piece: where the next piece's line numbers start.
    pub lines: usize,
    pub users: Vec<UserRecord>,
    /// Every user id met, in order of first appearance (replayed or not).
    pub seen: Vec<String>,
    pub events: u64,
    pub events_after_conversion: u64,
    /// Users whose conversion precedes their first event: left out.
    pub converted_before_first_event: Vec<String>,
}

impl Replayed {
    pub fn to_json(&self) -> String {
        let time = |t: Option<Millis>| t.map_or(Value::Null, |t| Value::Number(t as f64));
        let strings =
            |list: &[String]| Value::Array(list.iter().map(|s| s.as_str().into()).collect());
        let users = self.users.iter().map(|u| {
            let rises =
                u.rises.iter().flat_map(|&(t, s)| [Value::Number(t as f64), Value::Number(s)]);
            json::object([
                ("userId", u.user_id.as_str().into()),
                ("accountId", u.account_id.as_deref().map_or(Value::Null, Value::from)),
                ("firstSeen", Value::Number(u.first_seen as f64)),
                ("lastSeen", Value::Number(u.last_seen as f64)),
                ("conversion", time(u.conversion)),
                ("fires", Value::Array(u.fires.iter().map(|&t| time(t)).collect())),
                ("scoreReached", time(u.score_reached)),
                ("rises", Value::Array(rises.collect())),
            ])
        });
        json::object([
            ("lines", Value::Number(self.lines as f64)),
            ("users", Value::Array(users.collect())),
            ("seen", strings(&self.seen)),
            ("events", Value::Number(self.events as f64)),
            ("eventsAfterConversion", Value::Number(self.events_after_conversion as f64)),
            ("convertedBeforeFirstEvent", strings(&self.converted_before_first_event)),
        ])
        .to_json()
    }
}

/// Replays histories through one engine, reset for each user.
pub struct Backtest {
    engine: Engine,
    conversions: Conversions,
    /// End of observation: time-driven checks run up to it after a user's last event.
    end: Option<Millis>,
    /// The score can rise without a `qualified` effect (a trigger rule with a positive score
    /// starts to hold, or a rule with a negative score stops holding): then it is read after
    /// every step instead of from the effects.
    score_from_engine: bool,
}

/// One user's replay in progress.
struct UserReplay<'a> {
    record: &'a mut UserRecord,
    best_score: f64,
    last_deadline: Millis,
}

impl Backtest {
    pub fn new(engine: Engine, conversions: Conversions, end: Option<Millis>) -> Backtest {
        let score_from_engine = engine
            .rules()
            .rules
            .iter()
            .any(|r| (r.trigger.is_some() && r.score > 0.0) || r.score < 0.0);
        Backtest { engine, conversions, end, score_from_engine }
    }

    /// Replays the users of `text`, a piece of a history grouped by user, one user at a time
    /// as their lines end: memory holds one user's lines. `None` when a user's lines turn out
    /// not to be contiguous (the history is not grouped; use [`Backtest::replay`] on
    /// partitions of it instead).
    pub fn replay_grouped(
        &mut self,
        text: &str,
        first_line: usize,
    ) -> Result<Option<Replayed>, LineError> {
        let mut out = Replayed::default();
        let mut finished: HashSet<Cow<str>> = HashSet::new();
        let mut run: Option<(Cow<str>, Vec<Item>)> = None;
        let mut lines = numbered_lines(text, first_line);
        for (line, s) in lines.by_ref() {
            let (user, item) = parse_line(s).map_err(|message| LineError { line, message })?;
            match &mut run {
                Some((current, items)) if *current == user => items.push(item),
                _ => {
                    if finished.contains(&user) {
                        return Ok(None);
                    }
                    if let Some((done, items)) = run.replace((user, vec![item])) {
                        self.replay_user(&done, items, &mut out);
                        out.seen.push(done.to_string());
                        finished.insert(done);
                    }
                }
            }
        }
        if let Some((done, items)) = run {
            self.replay_user(&done, items, &mut out);
            out.seen.push(done.into_owned());
        }
        out.lines = lines.line_ends();
        Ok(Some(out))
    }

    /// Replays the users of `text` (NDJSON; `first_line` numbers its first line). Each user's
    /// lines must all be in `text`; they need not be contiguous.
    pub fn replay(&mut self, text: &str, first_line: usize) -> Result<Replayed, LineError> {
        let mut order: Vec<(Cow<str>, Vec<Item>)> = Vec::new();
        let mut index: HashMap<Cow<str>, usize> = HashMap::new();
        let mut lines = numbered_lines(text, first_line);
        for (line, s) in lines.by_ref() {
            let (user, item) = parse_line(s).map_err(|message| LineError { line, message })?;
            // Grouped histories repeat the previous line's user: skip the hash lookup then.
            let slot = match order.last() {
                Some((last, _)) if *last == user => order.len() - 1,
                _ => *index.entry(user).or_insert_with_key(|user| {
                    order.push((user.clone(), Vec::new()));
                    order.len() - 1
                }),
            };
            order[slot].1.push(item);
        }
        let mut out = Replayed { lines: lines.line_ends(), ..Replayed::default() };
        for (user, items) in order {
            self.replay_user(&user, items, &mut out);
            out.seen.push(user.into_owned());
        }
        Ok(out)
    }

    fn replay_user(&mut self, user: &str, mut items: Vec<Item>, out: &mut Replayed) {
        // Stable: equal times keep file order; untimed identify / group lines come first.
        let key = |it: &Item| it.time.unwrap_or(Millis::MIN);
        if !items.is_sorted_by_key(key) {
            items.sort_by_key(key);
        }
        let conversion = self.conversions.users.get(user).copied();
        let cutoff = conversion.unwrap_or(Millis::MAX);
        let event_times = items.iter().filter(|it| matches!(it.action, Action::Event { .. }));
        let counted = event_times.filter_map(|it| it.time).filter(|&t| t <= cutoff);
        let (first, last) =
            counted.fold((None, None), |(first, _), t| (first.or(Some(t)), Some(t)));
        let (Some(first), Some(last)) = (first, last) else {
            if conversion.is_some()
                && items.iter().any(|it| matches!(it.action, Action::Event { .. }))
            {
                out.converted_before_first_event.push(user.to_string());
            }
            return;
        };
        let mut record = UserRecord {
            user_id: user.to_string(),
            account_id: self.conversions.accounts.get(user).cloned(),
            first_seen: first,
            last_seen: last,
            conversion,
            fires: vec![None; self.engine.rules().rules.len()],
            score_reached: None,
            rises: Vec::new(),
        };
        self.engine.reset(user);
        let mut run =
            UserReplay { record: &mut record, best_score: 0.0, last_deadline: Millis::MIN };
        let effects = self.engine.identify(Some(user), &Value::Object(Vec::new()), first);
        self.note(&mut run, effects);
        let mut current_account: Option<Cow<str>> = None;
        for item in items {
            let t = item.time.map_or(first, |t| t.max(first));
            if t > cutoff {
                if matches!(item.action, Action::Event { .. }) {
                    out.events_after_conversion += 1;
                }
                continue;
            }
            match item.action {
                Action::Identify { traits } => {
                    self.run_deadlines(&mut run, t);
                    let effects = self.engine.identify(Some(user), &traits, t);
                    self.note(&mut run, effects);
                }
                Action::Group { account, traits } => {
                    self.run_deadlines(&mut run, t);
                    let effects = self.engine.group(Some(&account), &traits, t);
                    self.note(&mut run, effects);
                    run.record.account_id = Some(account.to_string());
                    current_account = Some(account);
                }
                Action::Event { name, props } => {
                    if let Some(account) =
                        item.account.filter(|a| current_account.as_ref() != Some(a))
                    {
                        self.run_deadlines(&mut run, t);
                        let effects =
                            self.engine.group(Some(&account), &Value::Object(Vec::new()), t);
                        self.note(&mut run, effects);
                        run.record.account_id = Some(account.to_string());
                        current_account = Some(account);
                    }
                    out.events += 1;
                    self.run_deadlines(&mut run, t);
                    let effects =
                        self.engine.track_event(Event { name: name.into_owned(), props, time: t });
                    self.note(&mut run, effects);
                }
            }
            self.check_score(&mut run, t);
        }
        let tail = self.end.unwrap_or_else(|| last.max(self.conversions.latest.unwrap_or(last)));
        self.run_deadlines(&mut run, tail.min(cutoff));
        out.users.push(record);
    }

    /// Fires the time-driven checks due by `until`, each at its own time.
    fn run_deadlines(&mut self, run: &mut UserReplay, until: Millis) {
        while let Some(due) = self.engine.next_deadline() {
            // A deadline that advance() did not move on would repeat forever: stop there.
            if due > until || due <= run.last_deadline {
                break;
            }
            run.last_deadline = due;
            let effects = self.engine.advance(due);
            self.note(run, effects);
            self.check_score(run, due);
        }
    }

    fn note(&self, run: &mut UserReplay, effects: Vec<Effect>) {
        for effect in effects {
            let Effect::Qualified(qualified) = effect else { continue };
            let t = qualified.timestamp;
            match qualified.rule {
                Some(firing) => run.record.fires[firing.index].get_or_insert(t),
                None => run.record.score_reached.get_or_insert(t),
            };
            if !self.score_from_engine {
                run.rise(t, qualified.score);
            }
        }
    }

    fn check_score(&self, run: &mut UserReplay, t: Millis) {
        if self.score_from_engine {
            run.rise(t, self.engine.total_score());
        }
    }
}

impl UserReplay<'_> {
    fn rise(&mut self, t: Millis, score: f64) {
        if score > self.best_score {
            self.best_score = score;
            self.record.rises.push((t, score));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_read_with_clear_errors() {
        let (user, item) = parse_line(
            r#"{"timestamp":5,"userId":"u1","accountId":"A","event":"e","props":{"k":1}}"#,
        )
        .unwrap();
        assert_eq!(user, "u1");
        assert_eq!(item.time, Some(5));
        assert_eq!(item.account.as_deref(), Some("A"));
        let untimed = parse_line(r#"{"type":"identify","userId":"u1","traits":{"plan":"pro"}}"#);
        assert_eq!(untimed.unwrap().1.time, None);
        let error = |line: &str| parse_line(line).unwrap_err();
        assert!(error("{oops").starts_with("not JSON"));
        assert!(error("[1]").contains("\"userId\""));
        assert!(error(r#"{"userId":"","event":"e","timestamp":1}"#).contains("\"userId\""));
        assert!(error(r#"{"userId":"u","timestamp":1}"#).contains("\"event\""));
        assert!(error(r#"{"userId":"u","event":"e"}"#).contains("\"timestamp\""));
        assert_eq!(
            error(r#"{"userId":"u","event":"e","timestamp":"soon"}"#),
            "\"timestamp\" \"soon\" is not ms or ISO 8601"
        );
        assert!(error(r#"{"type":"group","userId":"u"}"#).contains("\"accountId\""));
    }

    #[test]
    fn unsorted_histories_are_partitioned_by_user() {
        let line =
            |user: &str| format!("{{\"userId\":\"{user}\",\"event\":\"e\",\"timestamp\":1}}");
        let text = [line("a"), line("b"), String::new(), line("a"), line("c")].join("\n");
        let parts = partition_lines(&text, 1, 8).unwrap();
        assert_eq!(parts.len(), 5);
        assert_eq!(parts[0], parts[3], "one user, one partition");
        assert_eq!(parts[2], u32::MAX, "blank line");
        assert!(parts.iter().filter(|&&p| p != u32::MAX).all(|&p| p < 8));
        let bad = partition_lines(&format!("{}\n{{\"userId\":1}}", line("a")), 10, 8).unwrap_err();
        assert_eq!(bad.line, 11);
    }

    #[test]
    fn the_last_users_lines_are_found_for_cutting() {
        let text = "{\"userId\":\"a\",\"event\":\"e\",\"timestamp\":1}\n\
                    {\"userId\":\"b\",\"event\":\"e\",\"timestamp\":1}\n\
                    \n\
                    {\"userId\":\"b\",\"event\":\"e\",\"timestamp\":2}\n\
                    {\"userId\":\"c\",\"ev";
        let start = last_user_start(text).unwrap();
        assert!(text[start..].starts_with("{\"userId\":\"b\""));
        assert_eq!(last_user_start(&text[start..]), None, "one user only");
        assert_eq!(last_user_start("no line end"), None);
    }
}

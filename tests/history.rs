#![cfg(not(target_arch = "wasm32"))]
//! Event histories replayed through the engine, as the command line's backtest runs them.

use pqlkit::engine::Engine;
use pqlkit::history::{Backtest, Conversions};
use pqlkit::rules::parse_rule_set_json;

mod support;
use support::NativeRegex;

fn backtest(rules: &str, conversions: &str, end: Option<i64>) -> Backtest {
    let rules = parse_rule_set_json(rules, &NativeRegex).expect("valid rules");
    let engine = Engine::new(rules, Box::new(NativeRegex), "backtest", 1);
    Backtest::new(engine, Conversions::from_json(conversions), end)
}

const ABANDON: &str = r#"{"version":1,"rules":[{"id":"abandon","when":{"event":"upgrade_started","notFollowedBy":{"event":"upgrade_completed"},"within":"30m"},"score":5}]}"#;

#[test]
fn deadlines_fire_at_their_own_time_not_at_the_next_event() {
    let mut bt = backtest(ABANDON, "{}", None);
    let history = "{\"userId\":\"u1\",\"event\":\"upgrade_started\",\"timestamp\":1000}\n\
                   {\"userId\":\"u1\",\"event\":\"page_view\",\"timestamp\":7200000}\n";
    let out = bt.replay(history, 1).unwrap();
    let user = &out.users[0];
    assert_eq!(user.fires, vec![Some(1_801_000)], "30 minutes after the start");
    assert_eq!(user.rises, vec![(1_801_000, 5.0)]);
    assert_eq!((user.first_seen, user.last_seen), (1000, 7_200_000));
}

#[test]
fn users_are_replayed_in_time_order_up_to_their_conversion() {
    // u2's lines are out of order and interleaved with u1's; u2 converts before starting the
    // upgrade a second time; u3 converted before their first event and is left out.
    let conversions =
        r#"{"users":{"u2":"1970-01-01T01:00:00Z","u3":5},"accounts":{"u2":"A"},"latest":3600000}"#;
    let mut bt = backtest(ABANDON, conversions, None);
    let history = [
        r#"{"userId":"u2","event":"upgrade_started","timestamp":9000000}"#,
        r#"{"userId":"u1","event":"upgrade_started","timestamp":"1970-01-01T00:00:01Z"}"#,
        r#"{"userId":"u2","event":"upgrade_started","timestamp":60000}"#,
        r#"{"type":"identify","userId":"u2","traits":{"plan":"trial"}}"#,
        "",
        r#"{"userId":"u3","event":"upgrade_started","timestamp":10}"#,
    ]
    .join("\n");
    let out = bt.replay(&history, 1).unwrap();
    assert_eq!(out.seen, ["u2", "u1", "u3"]);
    assert_eq!(out.events, 2, "u2's event after the conversion is not replayed");
    assert_eq!(out.events_after_conversion, 1);
    assert_eq!(out.converted_before_first_event, ["u3"]);
    let u2 = out.users.iter().find(|u| u.user_id == "u2").unwrap();
    assert_eq!(u2.conversion, Some(3_600_000));
    assert_eq!(u2.account_id.as_deref(), Some("A"));
    assert_eq!(u2.fires, vec![Some(60_000 + 1_800_000)]);
    let u1 = out.users.iter().find(|u| u.user_id == "u1").unwrap();
    // Observation ends at the latest conversion: u1's deadline (at 1,801,000) is inside it.
    assert_eq!(u1.fires, vec![Some(1_801_000)]);
}

#[test]
fn an_unreadable_line_is_reported_with_its_number() {
    let mut bt = backtest(ABANDON, "{}", None);
    let history = "{\"userId\":\"u1\",\"event\":\"e\",\"timestamp\":1}\n\n{\"userId\":\"u1\",\"event\":\"e\"}\n";
    let error = bt.replay(history, 41).unwrap_err();
    assert_eq!(error.line, 43);
    assert!(error.message.contains("\"timestamp\""), "{}", error.message);
}

#[test]
fn a_grouped_piece_is_replayed_user_by_user_and_a_split_user_is_noticed() {
    let line = |user: &str, t: i64| {
        format!(r#"{{"userId":"{user}","event":"upgrade_started","timestamp":{t}}}"#)
    };
    let grouped = [line("a", 1000), line("a", 2000), line("b", 1000)].join("\n");
    let mut bt = backtest(ABANDON, "{}", None);
    let out = bt.replay_grouped(&grouped, 1).unwrap().expect("grouped");
    assert_eq!(out.seen, ["a", "b"]);
    let mut again = backtest(ABANDON, "{}", None);
    assert_eq!(Some(out), again.replay(&grouped, 1).ok(), "same records as the grouping replay");
    let split = [line("a", 1000), line("b", 1000), line("a", 2000)].join("\n");
    assert_eq!(bt.replay_grouped(&split, 1).unwrap(), None);
}

#[test]
fn a_piece_reports_its_line_count_for_the_next_pieces_numbering() {
    let line = r#"{"userId":"a","event":"e","timestamp":1}"#;
    for (text, lines) in [
        (format!("{line}\n"), 1),
        (format!("{line}\n\n{line}\r\n"), 3),
        (line.to_string(), 0),
        (String::new(), 0),
    ] {
        let mut bt = backtest(ABANDON, "{}", None);
        assert_eq!(bt.replay_grouped(&text, 1).unwrap().unwrap().lines, lines, "{text:?}");
        let mut bt = backtest(ABANDON, "{}", None);
        assert_eq!(bt.replay(&text, 1).unwrap().lines, lines, "{text:?}");
    }
}

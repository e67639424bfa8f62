//! Exports of the authoring build only (`--features authoring`): condition checks and
//! durations for the command line, pqlkit/validate and the playground, through the same input
//! buffer as the runtime's calls. A page's rules are compiled by `core_new` instead.

use super::{bindings, regex, text};
use crate::json;

/// GrowthBook-compatible condition evaluation (condition, attributes and groups as JSON in the
/// input): 1 match, 0 no match, -1 unreadable input. For authoring tools and the conformance
/// tests: a page's rules are compiled by `core_new`.
#[no_mangle]
pub extern "C" fn eval_condition(condition_len: i32, attributes_len: i32, groups_len: i32) -> i32 {
    let input = &bindings().input;
    let at = |start: i32, len| json::parse(text(input, start as usize, len)?).ok();
    let (Some(condition), Some(attributes), Some(groups)) = (
        at(0, condition_len),
        at(condition_len, attributes_len),
        at(condition_len + attributes_len, groups_len),
    ) else {
        return -1;
    };
    let regex = regex::BrowserRegex::default();
    let ctx = crate::condition::Context { groups: &groups, regex: &regex };
    i32::from(crate::condition::eval_condition(&condition, &attributes, &ctx))
}

/// A duration as rule sets write them (`"90s" "30m" "24h" "7d" "2w"`, the text in the input)
/// in milliseconds; NaN when it is not one. For the command line and the playground, so that
/// they read durations exactly as the validator does.
#[no_mangle]
pub extern "C" fn parse_duration(len: i32) -> f64 {
    let text = text(&bindings().input, 0, len).unwrap_or("");
    crate::duration::parse_duration(text).map_or(f64::NAN, |ms| ms as f64)
}

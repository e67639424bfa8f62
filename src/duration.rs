//! Durations as product managers write them: `"90s" "30m" "24h" "7d" "2w"`, and times as
//! saved state holds them.

use crate::json::Value;

/// Milliseconds since the Unix epoch, or a span of milliseconds. Time is always an input to
/// the core; it never reads a clock.
pub type Millis = i64;

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;
pub const WEEK: Millis = 7 * DAY;

/// Parses `<positive integer><unit>` with unit `s`, `m`, `h`, `d` or `w`: the grammar of the
/// shipped JSON Schema, `^[1-9][0-9]{0,8}[smhdw]$`. Returns `None` for anything else (zero, a
/// leading zero, fractions, missing unit, overflow).
pub fn parse_duration(text: &str) -> Option<Millis> {
    let unit = match text.as_bytes().last()? {
        b's' => SECOND,
        b'm' => MINUTE,
        b'h' => HOUR,
        b'd' => DAY,
        b'w' => WEEK,
        _ => return None,
    };
    let digits = &text[..text.len() - 1];
    if digits.is_empty() || digits.len() > 9 || digits.starts_with("0") {
        return None;
    }
    let mut amount: Millis = 0;
    for digit in digits.bytes() {
        if !digit.is_ascii_digit() {
            return None;
        }
        amount = amount * 10 + Millis::from(digit - b'0');
    }
    Some(amount * unit)
}

/// Any time the engine holds: the host's clock reaches the core through a saturating
/// `f64 as i64`, so a time saved from a clock gone wrong may be as far out as `i64` goes (a
/// bound of 9e15 refused such a state on the next load, and everything in it was lost).
/// `Some(None)` for an absent time or `null`; `None` when it is not valid state.
pub fn read_millis(v: Option<&Value>) -> Option<Option<Millis>> {
    match v {
        None | Some(Value::Null) => Some(None),
        Some(Value::Number(n)) if n.is_finite() && n.fract() == 0.0 && n.abs() <= 9.3e18 => {
            Some(Some(*n as Millis))
        }
        _ => None,
    }
}

/// The UTC calendar day a timestamp falls on (days since 1970-01-01).
pub fn utc_day(t: Millis) -> i64 {
    t.div_euclid(DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        assert_eq!(parse_duration("90s"), Some(90 * SECOND));
        assert_eq!(parse_duration("30m"), Some(30 * MINUTE));
        assert_eq!(parse_duration("24h"), Some(DAY));
        assert_eq!(parse_duration("7d"), Some(WEEK));
        assert_eq!(parse_duration("2w"), Some(14 * DAY));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        let bad =
            ["", "d", "7", "0d", "07d", "1.5h", "-1d", "+1d", "7 d", "7D", "1y", "9999999999d"];
        for bad in bad.into_iter().chain(["٣d"]) {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn utc_days_split_at_midnight() {
        assert_eq!(utc_day(DAY - 1), 0);
        assert_eq!(utc_day(DAY), 1);
        assert_eq!(utc_day(-1), -1);
    }
}

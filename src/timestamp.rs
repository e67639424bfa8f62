//! Points in time as histories and conversion files write them: milliseconds since the epoch or
//! ISO 8601. Read here, not with JavaScript's `Date.parse`, so that the command line reads every
//! file the same way on every machine (a date and time without an offset is UTC).

use crate::duration::Millis;
use crate::json::Value;
use crate::number::parse_decimal;

/// A timestamp: milliseconds since the epoch (a number or a string of digits) or ISO 8601
/// (`2025-01-06`, `2025-01-06T08:00:00Z`, `2025-01-06T10:00:00.250+02:00`). A date and time
/// without an offset is read as UTC, so a history means the same on every machine.
pub fn parse_timestamp(value: &Value) -> Option<Millis> {
    match value {
        Value::Number(n) if n.is_finite() => Some(n.trunc() as Millis),
        Value::String(s) => parse_timestamp_text(s),
        _ => None,
    }
}

pub fn parse_timestamp_text(text: &str) -> Option<Millis> {
    let digits = text.strip_prefix("-").unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return parse_decimal(text).filter(|n| n.is_finite()).map(|n| n as Millis);
    }
    parse_iso8601(text.as_bytes())
}

fn parse_iso8601(s: &[u8]) -> Option<Millis> {
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        part.iter().try_fold(0i64, |n, &b| b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0')))
    };
    let sep = |at: usize, c: u8| s.get(at) == Some(&c);
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if !sep(4, b'-') || !sep(7, b'-') || !(1..=12).contains(&month) {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if day < 1 || day > month_days[month as usize - 1] {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * 86_400_000;
    let mut at = 10;
    if at == s.len() {
        return Some(ms);
    }
    if !matches!(s[at], b'T' | b't' | b' ') {
        return None;
    }
    let (hour, minute) = (num(at + 1, 2)?, num(at + 4, 2)?);
    if !sep(at + 3, b':') || hour > 23 || minute > 59 {
        return None;
    }
    ms += (hour * 60 + minute) * 60_000;
    at += 6;
    if sep(at, b':') {
        let second = num(at + 1, 2)?;
        if second > 59 {
            return None;
        }
        ms += second * 1000;
        at += 3;
        if sep(at, b'.') || sep(at, b',') {
            let start = at + 1;
            at = start;
            while s.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == start {
                return None;
            }
            // Milliseconds: the first three digits, the rest truncated as Date.parse does.
            let millis = (start..start + 3).fold(0, |n, i| {
                n * 10 + s.get(i).filter(|b| b.is_ascii_digit()).map_or(0, |b| i64::from(b - b'0'))
            });
            ms += millis;
        }
    }
    match s.get(at) {
        None => Some(ms),
        Some(b'Z' | b'z') if at + 1 == s.len() => Some(ms),
        Some(&sign @ (b'+' | b'-')) => {
            let hours = num(at + 1, 2)?;
            let minutes = match s.len() - at {
                3 => 0,
                5 => num(at + 3, 2)?,
                6 if sep(at + 3, b':') => num(at + 4, 2)?,
                _ => return None,
            };
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = (hours * 60 + minutes) * 60_000;
            Some(if sign == b'+' { ms - offset } else { ms + offset })
        }
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Option<Millis> {
        parse_timestamp_text(text)
    }

    #[test]
    fn timestamps_in_ms_and_iso8601() {
        assert_eq!(ts("1736150400000"), Some(1_736_150_400_000));
        assert_eq!(ts("-1000"), Some(-1000));
        assert_eq!(ts("2025-01-06"), Some(1_736_121_600_000));
        assert_eq!(ts("2025-01-06T08:00:00Z"), Some(1_736_150_400_000));
        assert_eq!(ts("2025-01-06T08:00Z"), Some(1_736_150_400_000));
        assert_eq!(ts("2025-01-06 08:00:00"), Some(1_736_150_400_000));
        assert_eq!(ts("2025-01-06T10:00:00.250+02:00"), Some(1_736_150_400_250));
        assert_eq!(ts("2025-01-06T07:30:00.1-0030"), Some(1_736_150_400_100));
        assert_eq!(ts("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(ts("1969-12-31T23:59:59.999Z"), Some(-1));
        for bad in [
            "",
            "-",
            "2025-13-01",
            "2023-02-29",
            "2025-01-06T24:00",
            "2025-01-06T08",
            "2025-01-06X",
            "2025-01-06T08:00:00+2",
            "Jan 6 2025",
            "2025-01-06T08:00:00.Z",
            "1e3",
        ] {
            assert_eq!(ts(bad), None, "{bad}");
        }
        assert_eq!(parse_timestamp(&Value::Number(1.9)), Some(1));
        assert_eq!(parse_timestamp(&Value::Bool(true)), None);
    }
}

//! Decimal text ⇄ `f64` without `core::fmt` or `str::parse::<f64>`, whose float machinery
//! (flt2dec, dec2flt and their tables) would be about a fifth of the wasm.
//!
//! In the page (or Node), the wasm hands everything but small integers to JavaScript's own
//! `Number(text)` and `String(n)` (src/web/host.rs): the search for digits below stays out of
//! the wasm every page downloads. Natively, exactness: a number whose decimal mantissa has at
//! most 15 significant digits and whose decimal exponent is within ±22 — every count,
//! threshold, ratio and timestamp pqlkit sees — is read correctly rounded (Clinger's fast
//! path: one exact integer and one exact power of ten, one rounding). Longer mantissas or
//! larger exponents are read to within a few units in the last place. Writing picks the
//! shortest digits (up to 17) that read back to the same number, in the notation of
//! JavaScript's `Number.prototype.toString`.

/// `10^k` for `0 <= k <= 22` is exact in an `f64`; beyond that it is approximate.
#[cfg(not(target_arch = "wasm32"))]
fn pow10(k: u32) -> f64 {
    let mut result = 1.0;
    let mut base = 10.0f64;
    let mut k = k;
    while k > 0 {
        if k & 1 == 1 {
            result *= base;
        }
        base *= base;
        k >>= 1;
    }
    result
}

#[cfg(not(target_arch = "wasm32"))]
fn pow10_int(k: u32) -> u64 {
    10u64.pow(k)
}

/// `x × 10^exponent`; for |exponent| <= 22 a single correctly rounded operation, beyond that
/// in steps that never overflow an intermediate power (so 5e-324 and 1e308 stay finite).
#[cfg(not(target_arch = "wasm32"))]
fn mul_pow10(x: f64, exponent: i32) -> f64 {
    let mut x = x;
    let mut e = exponent;
    while e > 22 {
        x *= pow10(22);
        e -= 22;
    }
    while e < -22 {
        x /= pow10(22);
        e += 22;
    }
    if e >= 0 {
        x * pow10(e as u32)
    } else {
        x / pow10(e.unsigned_abs())
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn scale(mantissa: u64, exponent: i32) -> f64 {
    mul_pow10(mantissa as f64, exponent)
}

/// Reads `[+-]digits[.digits][(e|E)[+-]digits]` (a leading or trailing `.` is allowed, as in
/// JavaScript's `Number()`). Returns `None` for anything else, including empty text.
pub fn parse_decimal(text: &str) -> Option<f64> {
    // Counts, ids and timestamps: digits alone, read here without a call to the page.
    let digits = text.strip_prefix("-").unwrap_or(text);
    if !digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()) {
        let n = digits.bytes().fold(0u64, |n, b| n * 10 + u64::from(b - b'0')) as f64;
        return Some(if digits.len() < text.len() { -n } else { n });
    }
    // Over these characters `Number(text)` reads exactly the grammar above, and NaN is its
    // answer to anything else.
    #[cfg(target_arch = "wasm32")]
    return (!text.is_empty()
        && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'+' | b'-' | b'.' | b'e' | b'E')))
    .then(|| crate::web::host::number_value(text))
    .filter(|n| !n.is_nan());
    #[cfg(not(target_arch = "wasm32"))]
    read_decimal(text)
}

#[cfg(not(target_arch = "wasm32"))]
fn read_decimal(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let negative = match bytes.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    // Trailing zeros are held back in `pending` so that "150" reads as 15e1, exactly as the
    // writer spells it, and long runs of zeros never overflow the mantissa.
    let mut mantissa: u64 = 0;
    let mut significant: u32 = 0;
    let mut pending: i32 = 0;
    let mut fraction_digits: i32 = 0;
    let mut digits = 0;
    let mut seen_point = false;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if seen_point {
                    fraction_digits += 1;
                }
                let digit = u64::from(b - b'0');
                if digit == 0 && mantissa == 0 {
                    // A leading zero ("0.000123"): not significant, and not held back, or it
                    // would use up the 19 digits the mantissa keeps.
                } else if digit == 0 || significant + pending as u32 + 1 > 19 {
                    // Past 19 significant digits the rest only scales the value.
                    pending += 1;
                } else {
                    mantissa = mantissa * pow10_int(pending as u32 + 1) + digit;
                    significant += pending as u32 + 1;
                    pending = 0;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    let mut exponent = pending - fraction_digits;
    if digits == 0 {
        return None;
    }
    if let Some(b'e' | b'E') = bytes.get(i) {
        i += 1;
        let negative_exponent = match bytes.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i32 = 0;
        while let Some(&b @ b'0'..=b'9') = bytes.get(i) {
            e = e.saturating_mul(10).saturating_add(i32::from(b - b'0'));
            i += 1;
        }
        if i == start {
            return None;
        }
        exponent = exponent.saturating_add(if negative_exponent { -e } else { e });
    }
    if i != bytes.len() {
        return None;
    }
    let value = if mantissa == 0 {
        0.0
    } else if exponent > 400 {
        f64::INFINITY
    } else if exponent < -400 {
        0.0
    } else {
        scale(mantissa, exponent)
    };
    Some(if negative { -value } else { value })
}

/// Writes `n` as JavaScript's `String(n)` does, for finite numbers (NaN and infinities are
/// the caller's business: JSON has no spelling for them).
pub fn write_shortest(out: &mut String, n: f64) {
    if n == 0.0 {
        out.push('0');
        return;
    }
    if n < 0.0 {
        out.push('-');
    }
    let a = n.abs();
    if a.fract() == 0.0 && a < 1e18 {
        crate::json::write_int(out, a as u64 as i64);
        return;
    }
    // In the page (or Node) JavaScript's own `String(n)` writes the rest, and the search for
    // the shortest digits below stays out of the wasm: 0.3 KB gzip of every page.
    #[cfg(target_arch = "wasm32")]
    out.push_str(&crate::web::host::number_text(a));
    #[cfg(not(target_arch = "wasm32"))]
    write_digits(out, a);
}

/// [`write_shortest`] of a positive number that is not a small integer.
#[cfg(not(target_arch = "wasm32"))]
fn write_digits(out: &mut String, a: f64) {
    // Decimal exponent: 10^e <= a < 10^(e+1).
    let mut e: i32 = 0;
    let mut probe = a;
    while probe >= 10.0 {
        probe /= 10.0;
        e += 1;
    }
    while probe < 1.0 {
        probe *= 10.0;
        e -= 1;
    }
    let mut best = (0u64, 0i32);
    for precision in 1..=17u32 {
        let shift = precision as i32 - 1 - e;
        let mantissa = (mul_pow10(a, shift) + 0.5) as u64;
        best = (mantissa, -shift);
        if scale(mantissa, -shift) == a {
            break;
        }
    }
    let (mut mantissa, mut exponent) = best;
    while mantissa >= 10 && mantissa % 10 == 0 {
        mantissa /= 10;
        exponent += 1;
    }
    let mut digits = String::new();
    crate::json::write_int(&mut digits, mantissa as i64);
    // Position of the decimal point relative to the first digit.
    let point = digits.len() as i32 + exponent;
    if point > -6 && point <= 21 {
        if point <= 0 {
            out.push_str("0.");
            for _ in 0..-point {
                out.push('0');
            }
            out.push_str(&digits);
        } else if point as usize >= digits.len() {
            out.push_str(&digits);
            for _ in 0..(point as usize - digits.len()) {
                out.push('0');
            }
        } else {
            point_at(out, &digits, point as usize);
        }
    } else {
        point_at(out, &digits, 1);
        out.push('e');
        let exp = point - 1;
        out.push(if exp < 0 { '-' } else { '+' });
        crate::json::write_int(out, i64::from(exp.unsigned_abs()));
    }
}

/// `digits` with a decimal point after the first `at` of them, if any follow. The digits are
/// ASCII: split without the index operators' checks and their panic paths.
#[cfg(not(target_arch = "wasm32"))]
fn point_at(out: &mut String, digits: &str, at: usize) {
    let (whole, fraction) = digits.split_at_checked(at).unwrap_or((digits, ""));
    out.push_str(whole);
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shortest(n: f64) -> String {
        let mut out = String::new();
        write_shortest(&mut out, n);
        out
    }

    #[test]
    fn writes_like_javascript() {
        let cases = [
            (0.8, "0.8"),
            (-2.5, "-2.5"),
            (42.0, "42"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1.5e22, "1.5e+22"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (123.456, "123.456"),
            (1e20, "100000000000000000000"),
        ];
        for (n, text) in cases {
            assert_eq!(shortest(n), text, "{n:e}");
        }
        // Outside the fast path the digits may differ in the last place, but read back the same.
        for n in [1.5e300, 5e-324, 1e308, 2.2250738585072014e-308] {
            let written = shortest(n);
            let read = parse_decimal(&written).unwrap();
            assert!(((read - n) / n).abs() < 1e-14, "{n:e} written as {written}");
        }
    }

    #[test]
    fn reads_decimal_text() {
        assert_eq!(parse_decimal("0.8"), Some(0.8));
        assert_eq!(parse_decimal("-12.5e2"), Some(-1250.0));
        assert_eq!(parse_decimal("+.5"), Some(0.5));
        assert_eq!(parse_decimal("5."), Some(5.0));
        assert_eq!(parse_decimal("1e400"), Some(f64::INFINITY));
        assert_eq!(parse_decimal("1e-400"), Some(0.0));
        // Leading zeros are not significant digits (found by tests/fuzz.rs: the writer spells
        // 1.0003930560701e-6 this way, and the last two digits were dropped on reading).
        assert_eq!(parse_decimal("0.0000010003930560701"), Some(1.0003930560701e-6));
        assert_eq!(parse_decimal("0.00000000000000000000012"), Some(1.2e-22));
        assert_eq!(parse_decimal("000000000000000000000012"), Some(12.0));
        for bad in ["", "-", ".", "e5", "1e", "1.2.3", "1x", " 1"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn round_trips_and_agrees_with_std_on_the_fast_path() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Typical magnitudes: ratios, counts, sums, timestamps.
            let mantissa = x % 1_000_000_000_000_000;
            let exponent = (x >> 50) as i32 % 23 - 15;
            let text = mantissa.to_string() + "e" + &exponent.to_string();
            let std: f64 = text.parse().unwrap();
            assert_eq!(parse_decimal(&text), Some(std), "{text}");
            let written = shortest(std);
            assert_eq!(written.parse::<f64>().unwrap(), std, "{text} written as {written}");
            assert_eq!(parse_decimal(&written), Some(std), "{written}");
        }
    }
}

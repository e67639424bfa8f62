//! Windowed counters with bounded memory: "how many / how much in the last W" at time `now`.
//!
//! Signals such as `{event, count, within: "7d"}`, `{event, distinctDays, within}`,
//! `{sum, within}` and `{sessions, within}` are answered from time buckets, so the persisted
//! state grows with the window, never with the number of events. Time is always an argument.
//!
//! **Granularity.** A window W is cut into buckets of g, the largest of 1s, 10s, 1m, 10m, 1h,
//! 6h, 1d with W >= 24·g (`90s` → 1s, `30m` → 1m, `24h` → 1h, `7d` → 6h, `14d` → 6h,
//! `30d` → 1d); windows shorter than 24s use 1s. An event at `t` lands in bucket `floor(t / g)`.
//! The `daily` flavour uses UTC days (g = 1d, bucket = `utc_day(t)`) whatever W is, so that
//! `distinct_buckets` is the number of distinct calendar days. Without a window ("all history")
//! there are no buckets, only a running total.
//!
//! **Edge rule** (copied to the README):
//! > Counts are never low; they may include events up to g older than W. Precisely, at time
//! > `now` an event counts iff its bucket ends after `now - W`, i.e.
//! > `(floor(t / g) + 1) · g > now - W`: an event less than W old always counts, an event
//! > W + g old or older never counts, and one in between counts until its bucket has fully
//! > left the window. Events stamped after `now` count. For distinct days, a UTC day counts
//! > iff it ends after `now - W`; for a whole number of days that is
//! > `day(now) - day(t) <= W / 1d` (today and the W/1d days before it).
//!
//! When g divides W (every example above) this is the same as
//! `bucket(now) - bucket(t) <= W / g`. It is written as "the bucket ends after `now - W`"
//! rather than "W rounded up to a multiple of g" because the latter is looser when g does not
//! divide W: for `250s` (g = 10s) rounding would count events up to 269.999 s old (W + 1.9·g),
//! for `145h` (g = 6h) up to 155h59m; the rule above stops at W + g in every case, at no cost.
//!
//! **Memory.** Only non-empty buckets are kept, oldest first, at most `ceil(W / g) + 1` of
//! them (29 for 7d, 57 for 14d, 31 for 30d, 91 for 90s). Each `add` drops the buckets that have
//! left the window as seen from the newest bucket; `prune(now)` drops those gone at `now`.
//! Events may arrive out of order (another tab): one already outside the window is ignored, an
//! older bucket still inside is merged in place. (So a timestamp far in the future makes `add`
//! forget what will have expired by then: time is trusted to move forward.)
//!
//! **Amounts** are 1.0 for counts and the property value for sums. They must be finite and
//! non-negative: NaN, infinite and negative amounts are ignored (so persisted state can reject
//! them as corrupt). Timestamps are clamped to JavaScript's `Date` range (±8.64e15 ms) so that
//! bucket numbers stay exact in JSON.
//!
//! **Persisted state** (`write_json`): `[g, b0, a0, d1, a1, d2, a2, ...]` — the granularity in ms
//! (so state written under another granularity is refused, not misread), the oldest bucket
//! number `b0` and its amount, then for each further bucket its distance from the previous one
//! and its amount; `[g]` when empty. Without a window: the total, or `null` when nothing was
//! added. A 7d counter holds at most 29 buckets: about 220 bytes with four-digit counts.

use crate::duration::{Millis, DAY, HOUR, MINUTE, SECOND};
use crate::json::{write_number, Value};

/// Bucket sizes to choose from, coarsest first.
const UNITS: [Millis; 7] = [DAY, 6 * HOUR, HOUR, 10 * MINUTE, MINUTE, 10 * SECOND, SECOND];

/// JavaScript's `Date` range; bucket numbers within it are exact as JSON numbers (< 2^53).
const MAX_TIME: Millis = 8_640_000_000_000_000;

/// Counts or sums amounts over a sliding time window, in bounded memory.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowCounter {
    window: Option<Millis>,
    /// None exactly when `window` is None.
    granularity: Option<Millis>,
    /// Non-empty buckets as (bucket number, amount), strictly increasing by bucket number.
    /// Without a window, at most one entry, numbered 0, holding the running total.
    buckets: Vec<(i64, f64)>,
}

impl WindowCounter {
    /// A counter over `window` (None: all history). A negative window acts as 0.
    pub fn new(window: Option<Millis>) -> Self {
        let window = window.map(|w| w.max(0));
        let granularity =
            window.map(|w| UNITS.into_iter().find(|&g| w / 24 >= g).unwrap_or(SECOND));
        WindowCounter { window, granularity, buckets: Vec::new() }
    }

    /// UTC-day buckets, for distinct-day signals.
    pub fn daily(window: Millis) -> Self {
        WindowCounter { window: Some(window.max(0)), granularity: Some(DAY), buckets: Vec::new() }
    }

    pub fn window(&self) -> Option<Millis> {
        self.window
    }

    /// The bucket size; None when there is no window.
    pub fn granularity(&self) -> Option<Millis> {
        self.granularity
    }

    /// Records `amount` (1.0 for counts, the property value for sums) at time `t`. Returns
    /// whether the buckets themselves changed (one added, expired ones dropped): when they did
    /// not, `distinct_buckets` and `next_expiry` answer as before.
    pub fn add(&mut self, t: Millis, amount: f64) -> bool {
        if !amount.is_finite() || amount < 0.0 {
            return false;
        }
        let b = self.bucket(t.clamp(-MAX_TIME, MAX_TIME));
        // Without a clock, the start of the newest bucket is the latest time known to have
        // passed: whatever has expired by then is gone for good.
        let newest = self.buckets.last().map_or(b, |last| last.0.max(b));
        let known_now = self.start(newest);
        let before = self.buckets.len();
        self.prune(known_now);
        let pruned = self.buckets.len() != before;
        if !self.counts(b, known_now) {
            return pruned;
        }
        match self.buckets.binary_search_by_key(&b, |e| e.0) {
            Ok(i) => {
                if let Some(e) = self.buckets.get_mut(i) {
                    e.1 = (e.1 + amount).min(f64::MAX);
                }
                pruned
            }
            Err(i) => {
                self.buckets.insert(i, (b, amount));
                true
            }
        }
    }

    /// Sum of the amounts counted at `now`.
    pub fn total(&self, now: Millis) -> f64 {
        // fold from +0.0: an empty float `sum` is -0.0.
        self.live(now).fold(0.0, |sum, e| sum + e.1).min(f64::MAX)
    }

    /// Non-empty buckets counted at `now`: distinct UTC days for `daily`; 0 or 1 without a
    /// window.
    pub fn distinct_buckets(&self, now: Millis) -> u32 {
        (self.buckets.len() - self.first_live(now)).min(u32::MAX as usize) as u32
    }

    /// The first time after `now` at which `total`/`distinct_buckets` can drop because a bucket
    /// leaves the window; None if nothing will expire.
    pub fn next_expiry(&self, now: Millis) -> Option<Millis> {
        self.live(now).next().and_then(|e| self.expiry(e.0))
    }

    /// Forget buckets that no longer count at `now`.
    pub fn prune(&mut self, now: Millis) {
        let gone = self.first_live(now);
        self.buckets.drain(..gone);
    }

    /// Compact JSON for persisted state (layout in the module doc), written straight into
    /// `out`: no value tree is built for it.
    pub fn write_json(&self, out: &mut String) {
        let Some(g) = self.granularity else {
            match self.buckets.first() {
                Some(e) => write_number(out, e.1),
                None => out.push_str("null"),
            }
            return;
        };
        out.push('[');
        write_number(out, g as f64);
        let mut previous = None;
        for &(b, amount) in &self.buckets {
            // Gaps are positive and small; the first bucket is absolute.
            out.push(',');
            write_number(out, previous.map_or(b, |p| b - p) as f64);
            out.push(',');
            write_number(out, amount);
            previous = Some(b);
        }
        out.push(']');
    }

    /// [`WindowCounter::write_json`]'s JSON read back, for the tests.
    #[cfg(test)]
    pub fn to_value(&self) -> Value {
        let mut out = String::new();
        self.write_json(&mut out);
        crate::json::parse(&out).unwrap()
    }

    /// A counter for `window` (UTC-day buckets when `daily`) rebuilt from `write_json` output;
    /// see [`WindowCounter::restore`].
    #[cfg(test)]
    pub fn from_value(value: &Value, window: Option<Millis>, daily: bool) -> Option<Self> {
        match (window, daily) {
            (Some(w), true) => Self::daily(w),
            (_, true) => return None,
            (w, false) => Self::new(w),
        }
        .restore(value)
    }

    /// This empty counter's buckets filled from `write_json` output (parsed); `None` if the value
    /// is not valid state: another granularity, a non-integer or unsorted bucket number, a
    /// negative or non-finite amount, or buckets spanning more than the window.
    pub fn restore(self, value: &Value) -> Option<Self> {
        let mut counter = self;
        let (Some(g), Some(w)) = (counter.granularity, counter.window) else {
            match value {
                Value::Null => {}
                Value::Number(n) if n.is_finite() && *n >= 0.0 => counter.buckets.push((0, *n)),
                _ => return None,
            }
            return Some(counter);
        };
        let items = value.as_array()?;
        if items.len() % 2 == 0 || int(items.first()?)? != g {
            return None;
        }
        // A bucket this far behind the newest would have been dropped by `add`.
        let span = w / g + i64::from(w % g != 0);
        let limit = MAX_TIME / g + 1;
        let mut first = None;
        for pair in items[1..].chunks_exact(2) {
            let [n, amount] = pair else { return None };
            let (n, amount) = (int(n)?, amount.as_f64()?);
            if !amount.is_finite() || amount < 0.0 {
                return None;
            }
            let b = match first {
                None => n,
                Some(_) if n < 1 => return None,
                Some(_) => counter.buckets.last()?.0.checked_add(n)?,
            };
            let oldest = *first.get_or_insert(b);
            if b.abs() > limit || b - oldest > span {
                return None;
            }
            counter.buckets.push((b, amount));
        }
        Some(counter)
    }

    fn bucket(&self, t: Millis) -> i64 {
        self.granularity.map_or(0, |g| t.div_euclid(g))
    }

    /// Bounded as in `expiry`: a plain multiply.
    fn start(&self, b: i64) -> Millis {
        self.granularity.map_or(0, |g| b * g)
    }

    /// When bucket `b` stops counting: once its end is no longer after `now - W`.
    fn expiry(&self, b: i64) -> Option<Millis> {
        let (g, w) = (self.granularity?, self.window?);
        // Bucket numbers are bounded by `MAX_TIME / g + 1` (times are clamped, saved state is
        // checked), so `(b + 1) * g` cannot overflow: no 128-bit multiply per bucket test.
        Some(((b + 1) * g).saturating_add(w))
    }

    fn counts(&self, b: i64, now: Millis) -> bool {
        self.expiry(b).is_none_or(|e| e > now)
    }

    /// Where the buckets counted at `now` start: expired ones can only be at the front.
    fn first_live(&self, now: Millis) -> usize {
        let first = self.buckets.iter().position(|e| self.counts(e.0, now));
        first.unwrap_or(self.buckets.len())
    }

    /// The buckets counted at `now`.
    fn live(&self, now: Millis) -> std::slice::Iter<'_, (i64, f64)> {
        self.buckets[self.first_live(now)..].iter()
    }
}

/// An integer stored exactly in a JSON number.
fn int(v: &Value) -> Option<i64> {
    let n = v.as_f64()?;
    (n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0).then_some(n as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::{parse_duration, utc_day, WEEK};
    use crate::json::parse;

    /// 2025-11-17T00:00:00Z, a UTC midnight, so that tests do not sit at the epoch.
    const T0: Millis = 1_763_337_600_000;

    fn d(text: &str) -> Millis {
        parse_duration(text).unwrap()
    }

    #[test]
    fn granularity_follows_the_window() {
        let cases = [
            ("1s", SECOND),
            ("23s", SECOND),
            ("24s", SECOND),
            ("90s", SECOND),
            ("4m", 10 * SECOND),
            ("30m", MINUTE),
            ("4h", 10 * MINUTE),
            ("24h", HOUR),
            ("6d", 6 * HOUR),
            ("7d", 6 * HOUR),
            ("14d", 6 * HOUR),
            ("24d", DAY),
            ("30d", DAY),
            ("2w", 6 * HOUR),
        ];
        for (w, g) in cases {
            assert_eq!(WindowCounter::new(Some(d(w))).granularity(), Some(g), "{w}");
        }
        assert_eq!(WindowCounter::new(None).granularity(), None);
        assert_eq!(WindowCounter::daily(d("7d")).granularity(), Some(DAY));
        assert_eq!(WindowCounter::daily(d("7d")).window(), Some(WEEK));
    }

    /// Just inside, exactly at the documented edge, and well outside, for one flavour.
    fn check_edges(w: Millis) {
        let mut c = WindowCounter::new(Some(w));
        let g = c.granularity().unwrap();
        let t = T0 + 7 * g; // a bucket start
        c.add(t, 1.0);
        // W - 1 ms old: counts.
        assert_eq!(c.total(t + w - 1), 1.0);
        // The bucket [t, t + g) ends after now - W until now = t + g + W.
        assert_eq!(c.total(t + w + g - 1), 1.0);
        assert_eq!(c.next_expiry(t + w - 1), Some(t + w + g));
        assert_eq!(c.total(t + w + g), 0.0);
        assert_eq!(c.next_expiry(t + w + g), None);
        // An event at a bucket's last millisecond stops counting right after it is W old.
        let mut late = WindowCounter::new(Some(w));
        late.add(t + g - 1, 2.0);
        assert_eq!(late.total(t + g - 1 + w), 2.0);
        assert_eq!(late.total(t + g + w), 0.0);
        // W + g old: never counts, wherever it sits in its bucket.
        for offset in [0, 1, g / 2, g - 1] {
            let mut c = WindowCounter::new(Some(w));
            c.add(t + offset, 1.0);
            assert_eq!(c.total(t + offset + w + g), 0.0);
            assert_eq!(c.distinct_buckets(t + offset + w + g), 0);
            assert_eq!(c.total(t + offset + w - 1), 1.0);
        }
    }

    #[test]
    fn edges_for_every_granularity() {
        for w in ["20s", "90s", "4m", "30m", "4h", "24h", "7d", "14d", "30d", "250s", "145h"] {
            check_edges(d(w));
        }
    }

    #[test]
    fn when_g_does_not_divide_w_the_edge_is_still_within_g() {
        // 250s with g = 10s: W rounded up would count this event at 269.999 s.
        let mut c = WindowCounter::new(Some(d("250s")));
        c.add(T0, 1.0);
        assert_eq!(c.total(T0 + 259_999), 1.0);
        assert_eq!(c.total(T0 + 260_000), 0.0);
    }

    #[test]
    fn add_reports_whether_the_buckets_changed() {
        let mut c = WindowCounter::daily(d("7d"));
        assert!(c.add(T0, 1.0), "a first day");
        assert!(!c.add(T0 + HOUR, 1.0), "the same day: distinct days and expiry unchanged");
        assert!(c.add(T0 + DAY, 1.0), "a new day");
        assert!(!c.add(T0 + DAY, f64::NAN), "ignored");
        assert!(c.add(T0 + 9 * DAY, 1.0), "a new day, and the first one dropped");
        assert!(!c.add(T0 - 30 * DAY, 1.0), "outside the window: ignored");
        let mut running = WindowCounter::new(None);
        assert!(running.add(T0, 2.0));
        assert!(!running.add(T0 + DAY, 3.0), "a running total has one bucket");
        assert_eq!(running.total(T0 + DAY), 5.0);
    }

    #[test]
    fn daily_counts_utc_days_across_midnight() {
        let mut c = WindowCounter::daily(d("14d"));
        let midnight = T0 + 3 * DAY;
        c.add(midnight - 1, 1.0);
        assert_eq!(c.distinct_buckets(midnight), 1);
        c.add(midnight, 1.0);
        c.add(midnight + HOUR, 1.0);
        assert_eq!(c.distinct_buckets(midnight + HOUR), 2);
        assert_eq!(c.total(midnight + HOUR), 3.0);
        assert_eq!(utc_day(midnight) - utc_day(midnight - 1), 1);
        // The day before `midnight` (day D) counts through day D + 14, which ends at
        // `midnight + 14d`: day(now) - day(t) <= 14.
        let end14 = midnight + 14 * DAY;
        assert_eq!(c.distinct_buckets(end14 - 1), 2);
        assert_eq!(c.next_expiry(end14 - 1), Some(end14));
        assert_eq!(c.distinct_buckets(end14), 1);
        assert_eq!(c.total(end14), 2.0);
        assert_eq!(c.next_expiry(end14), Some(end14 + DAY));
        assert_eq!(c.distinct_buckets(end14 + DAY), 0);
        // Just inside: the event at `midnight - 1` is W - 1 ms old at `end14 - 2`.
        assert_eq!(c.distinct_buckets(end14 - 2), 2);
        c.prune(end14);
        assert_eq!(c.buckets.len(), 1);
    }

    #[test]
    fn no_window_keeps_a_running_total() {
        let mut c = WindowCounter::new(None);
        assert_eq!((c.total(0), c.distinct_buckets(0)), (0.0, 0));
        assert_eq!(c.to_value(), Value::Null);
        c.add(T0, 2.5);
        c.add(-T0, 1.0);
        c.add(i64::MAX, 1.0);
        c.prune(i64::MAX);
        assert_eq!(c.total(i64::MIN), 4.5);
        assert_eq!(c.distinct_buckets(0), 1);
        assert_eq!(c.next_expiry(T0), None);
        assert_eq!(c.to_value().to_json(), "4.5");
    }

    #[test]
    fn out_of_order_events_merge_or_are_ignored() {
        let mut c = WindowCounter::new(Some(d("7d")));
        c.add(T0, 1.0);
        c.add(T0 + 3 * DAY, 1.0);
        c.add(T0 + DAY, 1.0); // older, inside: inserted in place
        c.add(T0 + DAY + 1, 1.0); // merged
        c.add(T0 - 20 * DAY, 1.0); // outside the window seen from the newest: ignored
        assert_eq!(c.buckets.len(), 3);
        assert!(c.buckets.windows(2).all(|p| p[0].0 < p[1].0));
        assert_eq!(c.total(T0 + 3 * DAY), 4.0);
    }

    #[test]
    fn bad_amounts_and_extreme_times_do_not_panic() {
        let mut c = WindowCounter::new(Some(d("7d")));
        for a in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0] {
            c.add(T0, a);
        }
        assert_eq!(c.distinct_buckets(T0), 0);
        c.add(T0, f64::MAX);
        c.add(T0, f64::MAX);
        assert_eq!(c.total(T0), f64::MAX);
        for t in [i64::MIN, i64::MAX, 0, -1] {
            c.add(t, 1.0);
            for now in [i64::MIN, i64::MAX, 0, t] {
                let _ = (c.total(now), c.distinct_buckets(now), c.next_expiry(now));
            }
            c.prune(t);
        }
        let back = WindowCounter::from_value(&c.to_value(), Some(d("7d")), false);
        assert_eq!(back.as_ref(), Some(&c));
        for w in [0, -5, i64::MAX, i64::MIN] {
            let mut c = WindowCounter::new(Some(w));
            c.add(T0, 1.0);
            c.add(i64::MAX, 1.0);
            let _ = (c.total(T0), c.next_expiry(i64::MIN), c.to_value());
            let mut c = WindowCounter::daily(w);
            c.add(i64::MIN, 1.0);
            let _ = (c.total(i64::MAX), c.next_expiry(i64::MIN));
        }
    }

    /// xorshift64: deterministic, no crates.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
    }

    /// Every event kept; the documented rule applied directly.
    struct Naive {
        window: Option<Millis>,
        g: Millis,
        events: Vec<(Millis, f64)>,
    }

    /// What the naive reference finds at one `now`.
    #[derive(Debug, PartialEq)]
    struct Answer {
        total: f64,
        distinct: u32,
        expiry: Option<Millis>,
    }

    impl Naive {
        fn counted(&self, t: Millis, now: Millis) -> bool {
            self.window.is_none_or(|w| (t.div_euclid(self.g) + 1) * self.g > now - w)
        }

        /// The documented answer, and the exact-window total (events less than W old).
        fn query(&self, now: Millis) -> (Answer, f64) {
            let (mut total, mut exact, mut expiry, mut buckets) = (0.0, 0.0, None, Vec::new());
            for &(t, amount) in &self.events {
                let Some(w) = self.window else {
                    total += amount;
                    buckets.push(0);
                    continue;
                };
                if now - t < w {
                    exact += amount;
                }
                if self.counted(t, now) {
                    // Anything counted beyond the exact window is less than W + g old.
                    assert!(now - t < w + self.g, "counted {} ms old", now - t);
                    let b = t.div_euclid(self.g);
                    total += amount;
                    buckets.push(b);
                    let e = (b + 1) * self.g + w;
                    expiry = Some(expiry.map_or(e, |x: Millis| x.min(e)));
                }
            }
            buckets.sort_unstable();
            buckets.dedup();
            (Answer { total, distinct: buckets.len() as u32, expiry }, exact)
        }
    }

    fn randomized(counter: WindowCounter, daily: bool, seed: u64) {
        let mut rng = Rng(seed);
        let window = counter.window();
        let g = counter.granularity().unwrap_or(1);
        let w = window.unwrap_or(30 * DAY);
        let span = window.map_or(0, |w| w / g + i64::from(w % g != 0));
        let mut c = counter;
        let mut naive = Naive { window, g, events: Vec::new() };
        let mut latest = T0 + rng.below(DAY as u64) as Millis;
        for _ in 0..2500 {
            // Mostly forward steps of up to W/10, sometimes a jump; a quarter of the events are
            // late by up to 2W (another tab), some of them too late to count.
            latest += match rng.below(20) {
                0 => rng.below(2 * w as u64) as Millis,
                1..=3 => 0,
                _ => rng.below((w / 10) as u64 + 1) as Millis,
            };
            let late = rng.below(4) == 0;
            let t = if late { latest - rng.below(2 * w as u64) as Millis } else { latest };
            // Quarters are exact in f64, so sums compare exactly whatever the order.
            let amount = rng.below(9) as f64 / 4.0;
            c.add(t, amount);
            naive.events.push((t, amount));
            assert!(c.buckets.len() as i64 <= span + 1);
            assert!(c.buckets.windows(2).all(|p| p[0].0 < p[1].0));
            for _ in 0..2 {
                // `now` never precedes an event already added: time moves forward.
                let now = latest + rng.below(w as u64 + 2 * g as u64) as Millis;
                let got = Answer {
                    total: c.total(now),
                    distinct: c.distinct_buckets(now),
                    expiry: c.next_expiry(now),
                };
                let (want, exact) = naive.query(now);
                assert_eq!(got, want, "at {now}");
                // Never low against the exact window (the excess is checked in `query`).
                assert!(window.is_none() || got.total >= exact);
            }
            if rng.below(50) == 0 {
                c.prune(latest);
                let back = WindowCounter::from_value(&c.to_value(), window, daily);
                assert_eq!(back.as_ref(), Some(&c));
            }
        }
    }

    #[test]
    fn matches_a_naive_reference() {
        let windows = ["20s", "90s", "250s", "30m", "24h", "145h", "7d", "14d", "30d"];
        for (i, w) in windows.iter().enumerate() {
            randomized(WindowCounter::new(Some(d(w))), false, 0x9E37_79B9_7F4A_7C15 ^ i as u64);
        }
        for (i, w) in ["1d", "36h", "14d", "30d"].iter().enumerate() {
            randomized(WindowCounter::daily(d(w)), true, 0xD1B5_4A32_D192_ED03 ^ i as u64);
        }
        randomized(WindowCounter::new(None), false, 42);
    }

    #[test]
    fn a_million_events_stay_small() {
        let mut c = WindowCounter::new(Some(d("7d")));
        let mut rng = Rng(7);
        let mut max_buckets = 0;
        let mut now = T0;
        for i in 0..1_000_000 {
            now = T0 + i * (60 * DAY / 1_000_000);
            // Jitter of up to a day, so some events arrive late.
            c.add(now - rng.below(DAY as u64) as Millis, 1.0);
            max_buckets = max_buckets.max(c.buckets.len());
        }
        let json = c.to_value().to_json();
        println!(
            "7d after 1,000,000 events: {max_buckets} buckets max, {} bytes: {json}",
            json.len()
        );
        assert!(max_buckets <= 24 * 7 / 6 + 2);
        assert!(json.len() < 400);
        assert!(c.total(now) > 100_000.0);

        // A realistic set of counters, each fed the same million events.
        let mut total_bytes = 0;
        let mut set: Vec<WindowCounter> = ["90s", "30m", "24h", "7d", "14d", "30d", "2w"]
            .iter()
            .map(|w| WindowCounter::new(Some(d(w))))
            .collect();
        set.push(WindowCounter::daily(d("14d")));
        set.push(WindowCounter::daily(d("30d")));
        set.push(WindowCounter::new(None));
        for i in 0..1_000_000 {
            let t = T0 + i * (60 * DAY / 1_000_000);
            for c in &mut set {
                c.add(t, 1.0);
            }
        }
        for c in &mut set {
            c.prune(now);
            let json = c.to_value().to_json();
            println!(
                "{:?}/{:?}: {} buckets, {} bytes",
                c.window,
                c.granularity,
                c.buckets.len(),
                json.len()
            );
            total_bytes += json.len();
        }
        println!("{} counters: {total_bytes} bytes", set.len());
        assert!(total_bytes < 4096);
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut c = WindowCounter::new(Some(d("7d")));
        for (t, a) in [(T0, 1.0), (T0 + HOUR, 2.5), (T0 + DAY, 1.0), (T0 + 6 * DAY, 0.0)] {
            c.add(t, a);
        }
        let json = c.to_value().to_json();
        assert_eq!(json, "[21600000,81636,3.5,4,1,20,0]");
        let back = WindowCounter::from_value(&parse(&json).unwrap(), Some(WEEK), false).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.distinct_buckets(T0 + 6 * DAY), 3);

        let mut daily = WindowCounter::daily(d("14d"));
        daily.add(T0, 1.0);
        daily.add(T0 + 2 * DAY, 1.0);
        let v = daily.to_value();
        assert_eq!(WindowCounter::from_value(&v, Some(14 * DAY), true), Some(daily));
        let empty = WindowCounter::new(Some(d("30m")));
        assert_eq!(empty.to_value().to_json(), "[60000]");
        assert_eq!(
            WindowCounter::from_value(&empty.to_value(), Some(d("30m")), false),
            Some(empty)
        );
        let mut all = WindowCounter::new(None);
        assert_eq!(WindowCounter::from_value(&all.to_value(), None, false), Some(all.clone()));
        all.add(T0, 3.0);
        assert_eq!(WindowCounter::from_value(&all.to_value(), None, false), Some(all));
    }

    #[test]
    fn garbage_state_is_refused() {
        let w7 = Some(WEEK);
        let bad = [
            "null",
            "{}",
            "\"x\"",
            "[]",
            "[21600000,81636]",                  // even length
            "[3600000,81636,1]",                 // another granularity
            "[21600000,81636,-1]",               // negative amount
            "[21600000,81636,\"1\"]",            // not a number
            "[21600000,81636.5,1]",              // fractional bucket
            "[21600000,81636,1,0,1]",            // repeated bucket
            "[21600000,81636,1,-2,1]",           // unsorted
            "[21600000,81636,1,29,1]",           // wider than the window
            "[21600000,81636,1,10,1,10,1,10,1]", // wider, in steps
            "[21600000,1e300,1]",                // absurd bucket
            "[21600000,81636,1e999]",            // infinite amount
            "[21600000,81636,[1]]",              // nested
            "[21600000,9007199254740992,1,1,1]", // past any real time
        ];
        for text in bad {
            let value = parse(text).unwrap();
            assert_eq!(WindowCounter::from_value(&value, w7, false), None, "{text}");
        }
        assert!(WindowCounter::from_value(&parse("[21600000,81636,1,28,1]").unwrap(), w7, false)
            .is_some());
        let nan = Value::Array(vec![
            Value::Number(21600000.0),
            Value::Number(1.0),
            Value::Number(f64::NAN),
        ]);
        assert_eq!(WindowCounter::from_value(&nan, w7, false), None);
        assert_eq!(WindowCounter::from_value(&parse("[86400000]").unwrap(), None, true), None);
        assert_eq!(WindowCounter::from_value(&parse("[86400000]").unwrap(), w7, false), None);
        assert!(WindowCounter::from_value(&parse("[86400000]").unwrap(), w7, true).is_some());
        for text in ["-1", "[1]", "\"3\"", "{}"] {
            assert_eq!(
                WindowCounter::from_value(&parse(text).unwrap(), None, false),
                None,
                "{text}"
            );
        }
        let inf = Value::Number(f64::INFINITY);
        assert_eq!(WindowCounter::from_value(&inf, None, false), None);
    }
}

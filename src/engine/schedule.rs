//! The engine's schedule: for each item (a rule's own check, a window's next expiry) at most
//! one time, and the items due come out earliest first (ties by item).
//!
//! A binary min-heap of `(time, item)` beside each item's live time. Moving an item leaves its
//! old entry in the heap, stale, skipped when it reaches the top: cheaper than removing it from
//! the middle. Written out because std's heap brings its hole-based sifts, its rebuild and its
//! drain into the wasm pages download for this one use.

use std::cmp::Reverse;

use crate::duration::Millis;

type Entry = Reverse<(Millis, usize)>;

#[derive(Default)]
pub struct Schedule {
    heap: Vec<Entry>,
    /// Each item's live time; an entry of the heap that differs is stale.
    times: Vec<Option<Millis>>,
}

impl Schedule {
    /// A schedule of `items` items, none scheduled.
    pub fn new(items: usize) -> Self {
        Schedule { heap: Vec::new(), times: vec![None; items] }
    }

    /// Unschedules every item.
    pub fn clear(&mut self) {
        self.heap.clear();
        self.times.fill(None);
    }

    /// Schedules `item` at `t` (or never), replacing its previous time.
    pub fn set(&mut self, item: usize, t: Option<Millis>) {
        if self.times[item] == t {
            return;
        }
        self.times[item] = t;
        if let Some(t) = t {
            self.push(Reverse((t, item)));
        }
        // Stale entries of items moved again and again stay bounded.
        if self.heap.len() > 2 * self.times.len() + 64 {
            self.heap.clear();
            for item in 0..self.times.len() {
                if let Some(t) = self.times[item] {
                    self.push(Reverse((t, item)));
                }
            }
        }
        self.drop_stale();
    }

    /// The earliest time an item is scheduled at.
    pub fn next(&self) -> Option<Millis> {
        self.heap.first().map(|&Reverse((t, _))| t)
    }

    /// The earliest item due by `now`, and its time, unscheduled.
    pub fn pop_due(&mut self, now: Millis) -> Option<(Millis, usize)> {
        let &Reverse((t, item)) = self.heap.first().filter(|&&Reverse((t, _))| t <= now)?;
        self.times[item] = None;
        self.pop();
        self.drop_stale();
        Some((t, item))
    }

    /// Pops stale entries off the top, so that the top is the true next time.
    fn drop_stale(&mut self) {
        while let Some(&Reverse((t, item))) = self.heap.first() {
            if self.times[item] == Some(t) {
                break;
            }
            self.pop();
        }
    }

    fn push(&mut self, entry: Entry) {
        let heap = &mut self.heap;
        let mut at = heap.len();
        heap.push(entry);
        while at > 0 {
            let parent = (at - 1) / 2;
            if heap[parent].0 <= heap[at].0 {
                break;
            }
            heap.swap(parent, at);
            at = parent;
        }
    }

    /// Removes the earliest entry.
    fn pop(&mut self) {
        let heap = &mut self.heap;
        let Some(last) = heap.pop() else { return };
        let Some(first) = heap.first_mut() else { return };
        *first = last;
        let mut at = 0;
        loop {
            let mut child = 2 * at + 1;
            let Some(left) = heap.get(child) else { break };
            if heap.get(child + 1).is_some_and(|right| right.0 < left.0) {
                child += 1;
            }
            if heap[at].0 <= heap[child].0 {
                break;
            }
            heap.swap(at, child);
            at = child;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_out_at_their_latest_time_earliest_first() {
        let mut seed = 0x2545_f491_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        // Few items and times: ties, moves and unscheduling are common; the naive model is
        // each item's latest time.
        let mut ours = Schedule::new(8);
        let mut model: [Option<Millis>; 8] = [None; 8];
        for round in 0..5000 {
            if next() % 3 == 0 {
                let now = (next() % 60) as Millis;
                let due = model
                    .iter()
                    .enumerate()
                    .filter_map(|(item, t)| t.filter(|&t| t <= now).map(|t| (t, item)))
                    .min();
                assert_eq!(ours.pop_due(now), due, "round {round}");
                if let Some((_, item)) = due {
                    model[item] = None;
                }
            } else {
                let item = (next() % 8) as usize;
                let t = (next() % 5 != 0).then(|| (next() % 50) as Millis);
                ours.set(item, t);
                model[item] = t;
            }
            assert_eq!(ours.next(), model.iter().flatten().min().copied(), "round {round}");
            assert!(ours.heap.len() <= 2 * 8 + 64 + 1);
        }
    }
}

//! The engine's schedule of rule checks: a binary min-heap of `(time, rule)`, with the part of
//! `BinaryHeap<Reverse<_>>`'s interface the engine uses. Written out because std's heap brings
//! its hole-based sifts, its rebuild and its drain into the wasm pages download for this one
//! use; the order entries come out in is the same (the smallest `(time, rule)` first).

use std::cmp::Reverse;

use crate::duration::Millis;

type Entry = Reverse<(Millis, usize)>;

#[derive(Default)]
pub struct Schedule(Vec<Entry>);

impl Schedule {
    pub fn new() -> Self {
        Schedule(Vec::new())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The earliest entry.
    pub fn peek(&self) -> Option<&Entry> {
        self.0.first()
    }

    pub fn push(&mut self, entry: Entry) {
        let heap = &mut self.0;
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
    pub fn pop(&mut self) {
        let heap = &mut self.0;
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
    fn entries_come_out_smallest_first_as_from_std_heap() {
        let mut seed = 0x2545_f491_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut ours = Schedule::new();
        let mut std_heap = std::collections::BinaryHeap::new();
        for round in 0..2000 {
            if next() % 3 == 0 {
                assert_eq!(ours.peek().copied(), std_heap.peek().copied(), "round {round}");
                ours.pop();
                std_heap.pop();
            } else {
                // Few distinct times and rules: ties and repeated entries are common.
                let entry = Reverse(((next() % 50) as Millis, (next() % 8) as usize));
                ours.push(entry);
                std_heap.push(entry);
            }
            assert_eq!(ours.len(), std_heap.len());
        }
        while let Some(&entry) = std_heap.peek() {
            assert_eq!(ours.peek(), Some(&entry));
            ours.pop();
            std_heap.pop();
        }
        assert_eq!(ours.peek(), None);
    }
}

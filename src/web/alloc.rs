//! The wasm's memory allocator: power-of-two size classes with a free list each.
//!
//! The engine allocates and frees many small, short-lived blocks per event (parsed properties,
//! effect payloads). Here an allocation is a pop from its class's list (or the next block of
//! its newest slab) and a free is a push, a few instructions each, where the general-purpose allocator searched bins, split and
//! merged chunks; and this code is a fraction of its size. A freed block serves only its own
//! class again, and memory is never handed back to the browser (wasm cannot shrink memory
//! anyway): the peak of each class stays reserved, which for pqlkit's working set is small.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::UnsafeCell;
use core::ptr::null_mut;

/// Blocks below this size are carved from slabs of this size; larger ones come whole.
const SLAB: usize = 4096;
const PAGE: usize = 65536;
/// Memory grows by 256 KiB more than a request needs: a page at a time made `init` (which
/// allocates the compiled rules) 25 % slower, as every growth makes JS rebuild its views of the
/// memory; 1 MiB steps were no faster than 256 KiB and held 0.25 MiB more at 100 rules.
const GROWTH_PAGES: usize = 4;
/// The smallest block holds the free list's link, and most small strings.
const MIN_CLASS: u32 = 3;

struct State {
    /// Head of each class's free list (block address, 0 = empty); class `c` holds `1 << c` bytes.
    free: [usize; usize::BITS as usize],
    /// Each class's newest slab, from its first block never handed out to its end: blocks are
    /// carved as needed, not listed when the slab is made (which wrote every block of a fresh
    /// slab, a quarter of `init`'s time at 1000 rules).
    fresh: [(usize, usize); usize::BITS as usize],
    /// Memory obtained from the browser and not yet handed out: `next..end`, SLAB-aligned.
    next: usize,
    end: usize,
}

pub struct SizeClasses(UnsafeCell<State>);

// wasm32-unknown-unknown runs pqlkit on one thread: the allocator is never entered twice at once.
// (A build with shared-memory threads would break that; it is refused below.)
unsafe impl Sync for SizeClasses {}

#[cfg(target_feature = "atomics")]
compile_error!("pqlkit's allocator is single-threaded: build without the atomics target feature");

impl SizeClasses {
    pub const fn new() -> Self {
        SizeClasses(UnsafeCell::new(State {
            free: [0; usize::BITS as usize],
            fresh: [(0, 0); usize::BITS as usize],
            next: 0,
            end: 0,
        }))
    }
}

/// The class of a layout: the smallest power of two holding its size, at least its alignment.
fn class_of(layout: Layout) -> u32 {
    let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
    usize::BITS - (size - 1).leading_zeros()
}

impl State {
    /// `bytes` (a multiple of SLAB) of fresh, SLAB-aligned memory; null when the browser refuses.
    fn take(&mut self, bytes: usize) -> *mut u8 {
        while self.end - self.next < bytes {
            let pages = (bytes - (self.end - self.next)) / PAGE + GROWTH_PAGES;
            let previous = wasm32::memory_grow(0, pages);
            if previous == usize::MAX {
                return null_mut();
            }
            let start = previous * PAGE;
            // New pages continue the region, unless memory grew elsewhere meanwhile.
            if start != self.end {
                self.next = start;
            }
            self.end = start + pages * PAGE;
        }
        let block = self.next;
        self.next += bytes;
        block as *mut u8
    }

    fn alloc(&mut self, class: u32) -> *mut u8 {
        let head = self.free[class as usize];
        if head != 0 {
            // SAFETY: a block on a free list is ours and holds the next link in its first word.
            self.free[class as usize] = unsafe { *(head as *const usize) };
            return head as *mut u8;
        }
        let size = 1usize << class;
        if size >= SLAB {
            return self.take(size);
        }
        let (next, end) = self.fresh[class as usize];
        if next < end {
            self.fresh[class as usize].0 = next + size;
            return next as *mut u8;
        }
        // A new slab of this class: hand out its first block, carve the others later.
        let slab = self.take(SLAB);
        if !slab.is_null() {
            self.fresh[class as usize] = (slab as usize + size, slab as usize + SLAB);
        }
        slab
    }

    fn free(&mut self, block: *mut u8, class: u32) {
        let head = &mut self.free[class as usize];
        // SAFETY: the block was allocated in this class and is no longer used by its owner.
        unsafe { *(block as *mut usize) = *head };
        *head = block as usize;
    }
}

unsafe impl GlobalAlloc for SizeClasses {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // Blocks are aligned to their size up to SLAB only; nothing in pqlkit asks for more.
        if layout.align() > SLAB {
            return null_mut();
        }
        // SAFETY: single-threaded (see `Sync` above) and not re-entered.
        let state = unsafe { &mut *self.0.get() };
        state.alloc(class_of(layout))
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let state = unsafe { &mut *self.0.get() };
        state.free(block, class_of(layout));
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = class_of(layout);
        // SAFETY: the caller guarantees `new_size` with this alignment is a valid layout.
        let new = class_of(unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) });
        if new == old {
            return block;
        }
        let state = unsafe { &mut *self.0.get() };
        let moved = state.alloc(new);
        if !moved.is_null() {
            unsafe { core::ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size)) };
            state.free(block, old);
        }
        moved
    }
}

//! The binding layer: the only place that knows about JavaScript. Compiled for `wasm32` only.
//!
//! Calls cross as numbers. The facade (js/core.js) writes a call's strings as UTF-8, and its
//! values (an event's properties, traits) as value.rs reads them, into one input buffer in
//! linear memory and passes their byte lengths; an answer (JSON text) is written into one
//! output buffer, and the call returns its length. These exports are plain
//! `extern "C"` functions of numbers: wasm-bindgen would give every method that returns a
//! string an export shim and a JS wrapper of its own (about 9 KB of the wasm, measured with
//! twiggy), so it binds only the imports, in host.rs (RegExp, localStorage, toLowerCase). JSON and
//! not serde: the browser's `JSON.parse` is free, and serde's per-type code is not (STYLE.md).

mod alloc;
// What only the authoring build exports (js/wasm-authoring: the CLI, pqlkit/validate, the
// playground): the runtime every page loads is the rest of this folder.
#[cfg(feature = "authoring")]
mod authoring;
#[cfg(feature = "backtest")]
mod history;
pub(crate) mod host;
mod regex;
#[cfg(feature = "engine")]
mod runtime;
#[cfg(feature = "engine")]
pub use runtime::*;
#[cfg(feature = "sql")]
mod sql;
#[cfg(feature = "engine")]
mod storage;
// Values the facade writes: the runtime's events and traits, and its JSON.parse (host.rs).
#[cfg(any(feature = "engine", not(feature = "authoring")))]
mod value;

use core::cell::UnsafeCell;

use crate::engine::Engine;
#[cfg(not(feature = "authoring"))]
use crate::error::ErrorCode;
use crate::error::ValidationError;
#[cfg(not(feature = "authoring"))]
use crate::rules::parse_rule_set;
#[cfg(feature = "authoring")]
use crate::rules::parse_rule_set_json;
#[cfg(feature = "engine")]
use storage::Store;

#[global_allocator]
static ALLOCATOR: alloc::SizeClasses = alloc::SizeClasses::new();

/// A compiled rule set and the state of one browser profile. `engine` is `None` when the rule
/// set was refused (`errors` then lists why), and always in the validator's build, which checks
/// rule sets and runs none.
struct Core {
    engine: Option<Engine>,
    errors: String,
    #[cfg(feature = "engine")]
    store: Store,
    /// Boxed: the facade keeps its address while `Bindings::cores` grows.
    status: Box<Status>,
}

/// What the facade reads after any call without making another (js/core.js `status`): when the
/// core next has time-driven work, and the score. Written after every call on an engine, so that
/// neither a track() nor an unchanged score() costs a second crossing. All f64: one view.
#[repr(C)]
pub struct Status {
    /// Milliseconds; -1 when nothing is scheduled.
    pub next_deadline: f64,
    pub score: f64,
    /// Changes whenever the score, tier, `qualified` or a rule's truth does.
    pub version: f64,
    /// Bit 0: qualified; the bits above: the tier's index in `core_rules`' tiers plus one (0: none).
    pub flags: f64,
}

impl Status {
    fn new() -> Box<Status> {
        Box::new(Status { next_deadline: -1.0, score: 0.0, version: 0.0, flags: 0.0 })
    }
}

struct Bindings {
    /// Live cores by handle; a freed handle's slot is reused.
    cores: Vec<Option<Core>>,
    input: Vec<u8>,
    output: String,
    /// `core_matched`'s answer.
    #[cfg(feature = "engine")]
    matched: Vec<u32>,
}

struct Shared(UnsafeCell<Bindings>);

// The wasm is single-threaded: a build with shared-memory threads is refused in `alloc`.
unsafe impl Sync for Shared {}

static BINDINGS: Shared = Shared(UnsafeCell::new(Bindings {
    cores: Vec::new(),
    input: Vec::new(),
    output: String::new(),
    #[cfg(feature = "engine")]
    matched: Vec::new(),
}));

fn bindings() -> &'static mut Bindings {
    // SAFETY: one thread, and no export is re-entered: the imports it calls (RegExp,
    // localStorage) never call back into the wasm.
    unsafe { &mut *BINDINGS.0.get() }
}

/// The input buffer's `[start, start + len)` as text; a length of -1 stands for no string.
fn text(input: &[u8], start: usize, len: i32) -> Option<&str> {
    let bytes = input.get(start..start + usize::try_from(len).ok()?)?;
    // SAFETY: the facade (js/core.js `write`) is what fills the input, byte by byte for ASCII
    // and with TextEncoder.encodeInto otherwise, which writes UTF-8 only (a lone surrogate
    // becomes U+FFFD); wasm-bindgen passes its `&str` arguments with the same trust. Checking
    // again cost the runtime 0.7 KB of wasm.
    Some(unsafe { core::str::from_utf8_unchecked(bytes) })
}

/// Puts `answer` in the output buffer and returns its length.
fn answer(output: &mut String, answer: &str) -> u32 {
    output.clear();
    output.push_str(answer);
    output.len() as u32
}

/// A buffer of at least `len` bytes for the next call's strings. It only grows: zeroing it
/// anew at every call cost track() time.
#[no_mangle]
pub extern "C" fn core_input(len: u32) -> *mut u8 {
    let input = &mut bindings().input;
    if input.len() < len as usize {
        input.resize(len as usize, 0);
    }
    input.as_mut_ptr()
}

/// Where the last answer is; valid until the next call.
#[no_mangle]
pub extern "C" fn core_output() -> *const u8 {
    bindings().output.as_ptr()
}

/// Validates and compiles the rule set (the input's first `rules_len` bytes; the anonymous id
/// follows). Pages pass the rule set as a value (value.rs), written from the app's object
/// without JSON text in between; the authoring builds (the CLI, pqlkit/validate) pass its JSON
/// text, which their own reader parses. A length of -1: none, refused as not JSON. `seed`:
/// 128 random bits for beacon ids, as four 32-bit words (an f64 carries only 53). Returns the
/// core's handle; when the rule set is invalid, `core_errors` says why and the other calls do
/// nothing.
#[no_mangle]
pub extern "C" fn core_new(rules_len: i32, id_len: i32, s0: u32, s1: u32, s2: u32, s3: u32) -> u32 {
    let seed = u128::from(s0) | u128::from(s1) << 32 | u128::from(s2) << 64 | u128::from(s3) << 96;
    let b = bindings();
    let anonymous_id = text(&b.input, rules_len.max(0) as usize, id_len).unwrap_or("");
    // One regex engine compiles the rule set and then runs it: conditions keep the RegExp ids
    // it gave their patterns.
    let regex = Box::new(regex::BrowserRegex::default());
    #[cfg(feature = "authoring")]
    let parsed = parse_rule_set_json(text(&b.input, 0, rules_len).unwrap_or(""), &*regex);
    #[cfg(not(feature = "authoring"))]
    let parsed =
        match usize::try_from(rules_len).ok().and_then(|len| value::read(b.input.get(..len)?)) {
            Some(document) => parse_rule_set(&document, &*regex),
            None => {
                let mut errors = Vec::new();
                ValidationError::report(&mut errors, ErrorCode::InvalidJson, "", String::new);
                Err(errors)
            }
        };
    let (engine, errors) = match parsed {
        #[cfg(feature = "engine")]
        Ok(rules) => (Some(Engine::new(rules, regex, anonymous_id, seed)), String::new()),
        // The validator's build answers the problems only: no engine to run a valid set.
        #[cfg(not(feature = "engine"))]
        Ok(_) => {
            let _ = (anonymous_id, seed);
            (None, String::new())
        }
        Err(errors) => (None, ValidationError::list_json(&errors)),
    };
    let core = Core {
        engine,
        errors,
        #[cfg(feature = "engine")]
        store: Store::memory(),
        status: Status::new(),
    };
    let free = b.cores.iter().position(Option::is_none).unwrap_or(b.cores.len());
    if free == b.cores.len() {
        b.cores.push(None);
    }
    b.cores[free] = Some(core);
    free as u32
}

/// The refused rule set's problems as a JSON array of `{ code, path, message }`; 0 (no
/// answer) when it was valid.
#[no_mangle]
pub extern "C" fn core_errors(handle: u32) -> u32 {
    let b = bindings();
    let errors = b.cores.get(handle as usize).and_then(Option::as_ref).map_or("", |c| &c.errors);
    answer(&mut b.output, errors)
}

#[no_mangle]
pub extern "C" fn core_free(handle: u32) {
    if let Some(slot) = bindings().cores.get_mut(handle as usize) {
        *slot = None;
    }
}

/// Where the core's [`Status`] is: fixed for the core's life. Null for a refused rule set.
#[no_mangle]
pub extern "C" fn core_status(handle: u32) -> *const Status {
    match bindings().cores.get(handle as usize).and_then(Option::as_ref) {
        Some(core) if core.engine.is_some() => &*core.status,
        _ => core::ptr::null(),
    }
}

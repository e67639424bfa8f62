//! The calls on a compiled rule set: events, traits, prompts, the score, explanations, storage
//! and consent. Pages and the command line run them (`--features engine`, on by default); the
//! validator's wasm (pqlkit/validate) only checks rule sets, and leaves them and the engine
//! they reach out.

use super::value;
use super::{answer, bindings, text, Status, Store};
use crate::consent::{policy, Consent};
use crate::engine::{Effect, Engine, PromptOutcome};
use crate::json::{self, Value};

impl Status {
    #[inline(never)]
    fn publish(&mut self, engine: &Engine) {
        let (tier, qualified) = engine.tier_index();
        *self = Status {
            next_deadline: engine.next_deadline().map_or(-1.0, |t| t as f64),
            score: engine.total_score(),
            version: f64::from(engine.score_version()),
            flags: f64::from(u32::from(qualified) | tier.map_or(0, |t| t as u32 + 1) << 1),
        };
    }
}

/// The input's `[start, start + len)` as a value the facade wrote (value.rs); an empty object
/// when there is none, or it is not an object.
fn object_at(input: &[u8], start: usize, len: i32) -> Value {
    let bytes = usize::try_from(len).ok().and_then(|len| input.get(start..start + len));
    match bytes.and_then(value::read) {
        Some(value @ Value::Object(_)) => value,
        _ => Value::Object(Vec::new()),
    }
}

fn effects(output: &mut String, effects: &[Effect]) -> u32 {
    if effects.is_empty() {
        // 0: nothing for the facade to decode, the common case of a track().
        return 0;
    }
    *output = Effect::list_json(effects);
    output.len() as u32
}

/// Runs `f` on the core `handle` when it holds a compiled rule set, then publishes its status;
/// `None` otherwise.
fn with_engine<R>(handle: u32, f: impl FnOnce(&mut Engine, &[u8], &mut String) -> R) -> Option<R> {
    let b = bindings();
    let core = b.cores.get_mut(handle as usize)?.as_mut()?;
    let engine = core.engine.as_mut()?;
    let result = f(engine, &b.input, &mut b.output);
    core.status.publish(engine);
    Some(result)
}

fn store_of(local: u32, key: Option<&str>) -> Store {
    match (local, key) {
        (1, Some(key)) => Store::local(key),
        _ => Store::memory(),
    }
}

/// Records an event (its name, then its properties as a value, in the input); returns the
/// length of the effects' JSON array, or 0 when there are none.
#[no_mangle]
pub extern "C" fn core_track(handle: u32, name_len: i32, props_len: i32, now: f64) -> u32 {
    with_engine(handle, |engine, input, output| {
        let name = text(input, 0, name_len).unwrap_or("");
        let props = object_at(input, name_len as usize, props_len);
        effects(output, &engine.track(name, props, now as i64))
    })
    .unwrap_or(0)
}

/// Applies time-driven changes due by `now`.
#[no_mangle]
pub extern "C" fn core_advance(handle: u32, now: f64) -> u32 {
    with_engine(handle, |engine, _, output| effects(output, &engine.advance(now as i64)))
        .unwrap_or(0)
}

/// `identify` (`account` 0) or `group` (1): the id (length -1: none), then the traits as a
/// value.
#[no_mangle]
pub extern "C" fn core_identify(
    handle: u32,
    account: u32,
    id_len: i32,
    traits_len: i32,
    now: f64,
) -> u32 {
    with_engine(handle, |engine, input, output| {
        let id = text(input, 0, id_len);
        let traits = object_at(input, id_len.max(0) as usize, traits_len);
        let now = now as i64;
        let fired = if account == 1 {
            engine.group(id, &traits, now)
        } else {
            engine.identify(id, &traits, now)
        };
        effects(output, &fired)
    })
    .unwrap_or(0)
}

/// What became of a prompt: the rule id (length -1: none), then the prompt id; `outcome` 0
/// shown, 1 clicked, 2 dismissed.
#[no_mangle]
pub extern "C" fn core_prompt_outcome(
    handle: u32,
    rule_len: i32,
    prompt_len: i32,
    outcome: u32,
    now: f64,
) -> u32 {
    with_engine(handle, |engine, input, output| {
        let rule = text(input, 0, rule_len);
        let prompt = text(input, rule_len.max(0) as usize, prompt_len).unwrap_or("");
        let outcome = match outcome {
            0 => PromptOutcome::Shown,
            1 => PromptOutcome::Clicked,
            _ => PromptOutcome::Dismissed,
        };
        effects(output, &engine.prompt_outcome(rule, prompt, outcome, now as i64))
    })
    .unwrap_or(0)
}

/// Whether each rule holds, a bit per rule in rule-set order (rule `i`: bit `i % 32` of word
/// `i / 32`); valid until the next call. Bits, not a byte per rule: the facade copies them at
/// every score() whose score changed, and a copy of R bytes out of the memory was a typed
/// array each time (1.7 µs at 100 rules in Chromium, against 21 ns for four words).
#[no_mangle]
pub extern "C" fn core_matched(handle: u32) -> *const u32 {
    let b = bindings();
    let Some(engine) =
        b.cores.get(handle as usize).and_then(Option::as_ref).and_then(|c| c.engine.as_ref())
    else {
        return core::ptr::null();
    };
    let words = &mut b.matched;
    words.clear();
    let mut word = 0;
    for (i, &holds) in engine.matched().iter().enumerate() {
        word |= u32::from(holds) << (i % 32);
        if i % 32 == 31 {
            words.push(word);
            word = 0;
        }
    }
    words.push(word);
    words.as_ptr()
}

/// The tier names and the rules' ids and scores, `[[tier, ...], [[id, score], ...]]` in
/// rule-set order: fixed for a rule set.
#[no_mangle]
pub extern "C" fn core_rules(handle: u32) -> u32 {
    with_engine(handle, |engine, _, output| {
        let rules = engine.rules();
        output.clear();
        output.push('[');
        for (i, (tier, _)) in rules.scoring.tiers.iter().enumerate() {
            output.push(if i > 0 { ',' } else { '[' });
            json::write_string(output, tier);
        }
        output.push_str(if rules.scoring.tiers.is_empty() { "[],[" } else { "],[" });
        for (i, rule) in rules.rules.iter().enumerate() {
            output.push_str(if i > 0 { ",[" } else { "[" });
            json::write_string(output, &rule.id);
            output.push(',');
            json::write_number(output, rule.score);
            output.push(']');
        }
        output.push_str("]]");
        output.len() as u32
    })
    .unwrap_or(0)
}

/// The explanation of the rule whose id is in the input, as JSON; `null` for an unknown id.
#[no_mangle]
pub extern "C" fn core_explain(handle: u32, id_len: i32, now: f64) -> u32 {
    with_engine(handle, |engine, input, output| {
        let explanation = engine.explain_json(text(input, 0, id_len).unwrap_or(""), now as i64);
        answer(output, explanation.as_deref().unwrap_or("null"))
    })
    .unwrap_or(0)
}

/// Opens localStorage (`local` 1) or memory under the key in the input and restores the state
/// saved there: 0 restored, 1 empty, 2 memory (localStorage unavailable), 3 replaced (what was
/// there was corrupt or foreign, and was discarded).
#[no_mangle]
pub extern "C" fn core_open_storage(handle: u32, local: u32, key_len: i32, now: f64) -> u32 {
    let b = bindings();
    let Some(core) = b.cores.get_mut(handle as usize).and_then(Option::as_mut) else { return 1 };
    core.store = store_of(local, text(&b.input, 0, key_len));
    let (Some(engine), Some(saved)) = (core.engine.as_mut(), core.store.read()) else {
        return if local == 1 && !core.store.is_persistent() { 2 } else { 1 };
    };
    let loaded = engine.load_state(&saved, now as i64).is_ok();
    core.status.publish(engine);
    if loaded {
        0
    } else {
        core.store.clear();
        3
    }
}

/// Moves to another store keeping the current state (consent granted: memory → local).
#[no_mangle]
pub extern "C" fn core_move_storage(handle: u32, local: u32, key_len: i32) {
    let b = bindings();
    if let Some(core) = b.cores.get_mut(handle as usize).and_then(Option::as_mut) {
        if local != 1 {
            core.store.clear();
        }
        core.store = store_of(local, text(&b.input, 0, key_len));
    }
}

/// Writes the current state: 1, or 0 when the browser refused it (quota) and the state now
/// lives in memory.
#[no_mangle]
pub extern "C" fn core_persist(handle: u32) -> u32 {
    let b = bindings();
    let Some(core) = b.cores.get_mut(handle as usize).and_then(Option::as_mut) else { return 1 };
    let Some(engine) = core.engine.as_ref() else { return 1 };
    u32::from(core.store.write(&engine.save_state()))
}

/// The state as JSON text, for a tab that has just opened.
#[no_mangle]
pub extern "C" fn core_save_state(handle: u32) -> u32 {
    with_engine(handle, |engine, _, output| answer(output, &engine.save_state())).unwrap_or(0)
}

/// Takes another tab's state (in the input): 1, or 0 (nothing changed) when it is not valid.
#[no_mangle]
pub extern "C" fn core_load_state(handle: u32, len: i32, now: f64) -> u32 {
    with_engine(handle, |engine, input, _| {
        let state = text(input, 0, len).unwrap_or("");
        u32::from(engine.load_state(state, now as i64).is_ok())
    })
    .unwrap_or(0)
}

#[no_mangle]
pub extern "C" fn core_is_persistent(handle: u32) -> u32 {
    let core = bindings().cores.get(handle as usize).and_then(Option::as_ref);
    u32::from(core.is_some_and(|c| c.store.is_persistent()))
}

/// Whether the page listens to firings (`qualified`, `rule:fired`): 1 yes, 0 no.
#[no_mangle]
pub extern "C" fn core_hear_firings(handle: u32, heard: u32) {
    with_engine(handle, |engine, _, _| engine.set_firings_heard(heard == 1));
}

/// Whether a prompt is on screen, here or in another tab: no other is issued meanwhile.
#[no_mangle]
pub extern "C" fn core_set_prompt_visible(handle: u32, visible: u32) {
    with_engine(handle, |engine, _, _| engine.set_prompt_visible(visible == 1));
}

/// Log-out: forgets user, counters and caps, here and in storage. The new anonymous id is in
/// the input.
#[no_mangle]
pub extern "C" fn core_reset(handle: u32, id_len: i32) {
    let b = bindings();
    let Some(core) = b.cores.get_mut(handle as usize).and_then(Option::as_mut) else { return };
    if let Some(engine) = core.engine.as_mut() {
        engine.reset(text(&b.input, 0, id_len).unwrap_or(""));
        core.status.publish(engine);
    }
    core.store.clear();
}

/// What consent (the input's text) allows: bit 1 store on the device, bit 2 send beacons,
/// bit 4 queue beacons.
#[no_mangle]
pub extern "C" fn consent_policy(consent_len: i32, local_only: u32) -> u32 {
    let consent = Consent::parse(text(&bindings().input, 0, consent_len).unwrap_or(""));
    let p = policy(consent, local_only == 1);
    u32::from(p.store) | u32::from(p.send) << 1 | u32::from(p.queue) << 2
}

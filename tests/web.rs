//! wasm-bindgen tests in headless Chromium: the binding layer with the browser's own RegExp.
#![cfg(target_arch = "wasm32")]

use pqlkit::web::{
    consent_policy, core_errors, core_free, core_identify, core_input, core_is_persistent,
    core_matched, core_move_storage, core_new, core_open_storage, core_output, core_persist,
    core_save_state, core_status, core_track,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const RULES: &str = r#"{"version":1,"rules":[{"id":"r","when":{"event":"feature_used","count":{"$gte":2}},"score":10}]}"#;

#[wasm_bindgen(module = "/src/web/host.js")]
extern "C" {
    /// How the facade writes an event's properties and traits (src/web/value.rs's layout),
    /// from JSON text as another tab sends them; the byte length, or -1.
    #[wasm_bindgen(js_name = writeJson)]
    fn write_json(text: &str) -> i32;

    #[wasm_bindgen(js_name = copyValue)]
    fn copy_value(bytes: &mut [u8], at: u32, length: i32);
}

/// `json` as the facade writes a value into the input buffer.
fn value(json: &str) -> Vec<u8> {
    let length = write_json(json);
    let mut bytes = vec![0; usize::try_from(length).expect("JSON")];
    copy_value(&mut bytes, 0, length);
    bytes
}

/// Writes `parts` (strings' UTF-8, values' bytes) into the input buffer one after the other,
/// as js/core.js does; their lengths.
fn put(parts: &[&[u8]]) -> Vec<i32> {
    let total: usize = parts.iter().map(|s| s.len()).sum();
    let mut at = core_input(total as u32);
    parts
        .iter()
        .map(|s| {
            // SAFETY: core_input made room for all of them.
            unsafe {
                at.copy_from_nonoverlapping(s.as_ptr(), s.len());
                at = at.add(s.len());
            }
            s.len() as i32
        })
        .collect()
}

/// The answer of the last call, as js/core.js reads it.
fn answer(length: u32) -> String {
    // SAFETY: the output holds `length` bytes of UTF-8 until the next call.
    let bytes = unsafe { std::slice::from_raw_parts(core_output(), length as usize) };
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A core driven through the exports, freed when dropped.
struct Core(u32);

impl Core {
    /// The rules cross as a value, as a page's facade passes them to the runtime build.
    fn new(rules: &str, anonymous_id: &str, seed: f64) -> Core {
        let lengths = put(&[&value(rules), anonymous_id.as_bytes()]);
        Core(core_new(lengths[0], lengths[1], seed as u32, 0, 0, 0))
    }

    fn errors(&self) -> String {
        answer(core_errors(self.0))
    }

    fn track(&self, name: &str, props: &str, now: f64) -> String {
        let lengths = put(&[name.as_bytes(), &value(props)]);
        answer(core_track(self.0, lengths[0], lengths[1], now))
    }

    fn identify(&self, traits: &str, now: f64) -> String {
        let lengths = put(&[&value(traits)]);
        answer(core_identify(self.0, 0, -1, lengths[0], now))
    }

    fn score(&self) -> f64 {
        // SAFETY: a live core's status stays where it is until the core is freed.
        unsafe { (*core_status(self.0)).score }
    }

    /// Whether the first rule holds, as the facade reads `score().rules`.
    fn first_matched(&self) -> bool {
        // SAFETY: the core answers a bit per rule, in words valid until the next call.
        unsafe { *core_matched(self.0) & 1 == 1 }
    }

    fn open_storage(&self, local: bool, key: &str, now: f64) -> u32 {
        core_open_storage(self.0, u32::from(local), put(&[key.as_bytes()])[0], now)
    }

    fn move_storage(&self, local: bool, key: &str) {
        core_move_storage(self.0, u32::from(local), put(&[key.as_bytes()])[0]);
    }

    fn save_state(&self) -> String {
        answer(core_save_state(self.0))
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        core_free(self.0);
    }
}

/// Whether a rule with `audience` holds for a user with `traits`: conditions as a page runs them.
fn audience_admits(audience: &str, traits: &str) -> bool {
    let rules = [r#"{"version":1,"rules":[{"id":"a","audience":"#, audience, r#","score":1}]}"#];
    let core = Core::new(&rules.concat(), "anon", 1.0);
    assert_eq!(core.errors(), "", "{audience}");
    core.identify(traits, 0.0);
    core.first_matched()
}

#[wasm_bindgen_test]
fn core_fires_a_rule_and_reports_effects_as_json() {
    let core = Core::new(RULES, "anon", 7.0);
    assert_eq!(core.errors(), "", "a valid rule set has no errors");
    assert_eq!(core.track("feature_used", "{}", 1000.0), "", "no effects: a length of 0");
    let effects = core.track("feature_used", "{}", 2000.0);
    assert!(effects.contains(r#""type":"qualified""#), "{effects}");
    assert_eq!(core.score(), 10.0);
    assert!(core.first_matched());
}

#[wasm_bindgen_test]
fn invalid_rules_report_errors_and_do_nothing() {
    let core = Core::new(r#"{"version":2,"rules":[]}"#, "anon", 1.0);
    assert!(core.errors().contains("unsupported_version"), "{}", core.errors());
    assert_eq!(core.track("x", "{}", 0.0), "");
}

#[wasm_bindgen_test]
fn rules_that_are_no_value_are_refused_as_invalid_json() {
    // -1: the facade had no value to write (absent rules, or nested past the layout's depth).
    let none = Core(core_new(-1, put(&[b"anon"])[0], 1, 0, 0, 0));
    assert!(none.errors().contains("invalid_json"), "{}", none.errors());
    // Bytes that are not the value layout (JSON text, say) are refused the same way.
    let text = put(&[RULES.as_bytes(), b"anon"]);
    let garbled = Core(core_new(text[0], text[1], 1, 0, 0, 0));
    assert!(garbled.errors().contains("invalid_json"), "{}", garbled.errors());
    assert_eq!(garbled.track("feature_used", "{}", 0.0), "");
}

#[wasm_bindgen_test]
fn freed_handles_are_reused_and_a_freed_core_does_nothing() {
    let first = Core::new(RULES, "anon-a", 1.0);
    let handle = first.0;
    drop(first);
    assert!(core_status(handle).is_null(), "a freed core answers nothing");
    let second = Core::new(RULES, "anon-b", 2.0);
    assert_eq!(second.0, handle, "the slot is reused");
    assert!(second.save_state().contains("anon-b"));
}

#[wasm_bindgen_test]
fn strings_cross_as_utf8_both_ways() {
    let rules = r#"{"version":1,"rules":[{"id":"r","trigger":{"event":"café_ü"},"score":1,"actions":[{"beacon":"b"}]}]}"#;
    let core = Core::new(rules, "anon", 1.0);
    let effects = core.track("café_ü", r#"{"note":"日本語 ✓"}"#, 1000.0);
    assert!(effects.contains(r#""note":"日本語 ✓""#), "{effects}");
}

#[wasm_bindgen_test]
fn regex_conditions_use_the_browser_regexp() {
    // Lookbehind is JavaScript syntax the native regex crate lacks: proof the browser evaluates it.
    let audience = r#"{"email":{"$regex":"(?<=@)acme\\.com$"}}"#;
    assert!(audience_admits(audience, r#"{"email":"a@acme.com"}"#));
    assert!(!audience_admits(audience, r#"{"email":"a@other.com"}"#));
    // An invalid pattern is refused with the rule set, never thrown.
    let core = Core::new(
        r#"{"version":1,"rules":[{"id":"a","audience":{"email":{"$regex":"("}}}]}"#,
        "anon",
        1.0,
    );
    assert!(core.errors().contains("invalid_regex"), "{}", core.errors());
}

#[wasm_bindgen_test]
fn case_insensitive_operators_lowercase_as_javascript_does() {
    // The browser's toLowerCase: accented capitals, and a final sigma after a letter.
    let cases = [
        (r#"{"city":{"$ini":["ÉCOLE","Paris"]}}"#, r#"{"city":"école"}"#, true),
        // "ΟΔΟΣ".toLowerCase() ends with the final sigma (U+03C2), not U+03C3.
        (r#"{"word":{"$ini":["ΟΔΟΣ"]}}"#, r#"{"word":"\u03bf\u03b4\u03bf\u03c2"}"#, true),
        (r#"{"word":{"$ini":["ΟΔΟΣ"]}}"#, r#"{"word":"\u03bf\u03b4\u03bf\u03c3"}"#, false),
        (r#"{"tags":{"$alli":["ÄRGER"]}}"#, r#"{"tags":["ärger"]}"#, true),
        (r#"{"city":{"$nini":["ÉCOLE"]}}"#, r#"{"city":"École"}"#, false),
        // Lowercasing may take more bytes than the text: "İ" (2) becomes "i̇" (3).
        (r#"{"city":{"$ini":["İZMİR"]}}"#, r#"{"city":"i\u0307zmi\u0307r"}"#, true),
    ];
    for (condition, attributes, expected) in cases {
        assert_eq!(audience_admits(condition, attributes), expected, "{condition} {attributes}");
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = localStorage, js_name = getItem)]
    fn stored(key: &str) -> Option<String>;
    #[wasm_bindgen(js_namespace = localStorage, js_name = setItem)]
    fn store(key: &str, value: &str);
    #[wasm_bindgen(js_namespace = localStorage, js_name = removeItem)]
    fn unstore(key: &str);
}

#[wasm_bindgen_test]
fn state_survives_a_new_core_through_local_storage() {
    let key = "pqlkit:test:survives";
    unstore(key);
    let first = Core::new(RULES, "anon-a", 1.0);
    assert_eq!(first.open_storage(true, key, 0.0), 1, "empty");
    assert_eq!(core_is_persistent(first.0), 1);
    first.track("feature_used", "{}", 1000.0);
    assert_eq!(core_persist(first.0), 1);
    let saved = stored(key).expect("state written");
    assert!(saved.contains("anon-a"), "{saved}");

    let second = Core::new(RULES, "anon-b", 2.0);
    assert_eq!(second.open_storage(true, key, 2000.0), 0, "restored");
    let state = second.save_state();
    assert!(
        state.contains(r#""anon":"anon-a""#),
        "the browser profile keeps its anonymous id: {state}"
    );
    let effects = second.track("feature_used", "{}", 3000.0);
    assert!(effects.contains(r#""type":"qualified""#), "the count went on from 1: {effects}");
}

#[wasm_bindgen_test]
fn stored_text_comes_back_whole_whatever_its_characters() {
    // localStorage hands the wasm its text through a buffer sized by a first call: UTF-8
    // lengths (not JavaScript's UTF-16 ones) must be the ones that cross.
    let key = "pqlkit:test:unicode";
    unstore(key);
    let first = Core::new(RULES, "anon-é", 1.0);
    first.open_storage(true, key, 0.0);
    first.identify(r#"{"name":"Zoë 😀","city":"İZMİR"}"#, 1000.0);
    assert_eq!(core_persist(first.0), 1);
    let second = Core::new(RULES, "anon-b", 2.0);
    assert_eq!(second.open_storage(true, key, 2000.0), 0, "restored");
    assert_eq!(second.save_state(), first.save_state());
    assert!(second.save_state().contains(r#""name":"Zoë 😀""#));
}

#[wasm_bindgen_test]
fn corrupt_or_foreign_state_is_replaced_not_trusted() {
    let key = "pqlkit:test:corrupt";
    store(key, r#"{"v":1,"anon":42}"#);
    let core = Core::new(RULES, "anon", 1.0);
    assert_eq!(core.open_storage(true, key, 0.0), 3, "replaced");
    assert_eq!(stored(key), None, "the bad copy is removed");
    assert!(core.save_state().contains(r#""anon":"anon""#), "the fresh profile is kept");
}

#[wasm_bindgen_test]
fn memory_storage_never_touches_local_storage() {
    let key = "pqlkit:test:memory";
    unstore(key);
    let core = Core::new(RULES, "anon", 1.0);
    assert_eq!(core.open_storage(false, key, 0.0), 1, "empty");
    core.track("feature_used", "{}", 1000.0);
    assert_eq!(core_persist(core.0), 1);
    assert_eq!(core_is_persistent(core.0), 0);
    assert_eq!(stored(key), None);
    // Consent granted later: the state moves to localStorage with what was counted.
    core.move_storage(true, key);
    assert_eq!(core_persist(core.0), 1);
    assert!(stored(key).unwrap().contains("r/when"));
    // Denied afterwards: the stored copy goes away.
    core.move_storage(false, key);
    assert_eq!(stored(key), None);
}

#[wasm_bindgen_test]
fn consent_policy_bits_follow_the_documented_table() {
    let policy = |consent: &str, local_only: bool| {
        consent_policy(put(&[consent.as_bytes()])[0], u32::from(local_only))
    };
    // bit 1 store, bit 2 send, bit 4 queue
    assert_eq!(policy("granted", false), 1 | 2 | 4);
    assert_eq!(policy("granted", true), 1, "DNT/GPC: local-only, prompts still work");
    assert_eq!(policy("pending", false), 4, "nothing stored or sent, beacons wait");
    assert_eq!(policy("denied", false), 0);
    assert_eq!(policy("something else", false), 4, "unknown words are pending");
}

/// The wasm's allocator (src/web/alloc.rs): blocks of every size class, grown, shrunk and freed
/// in a shuffled order, never overlap and keep their contents.
#[wasm_bindgen_test]
fn allocator_keeps_blocks_apart_through_growth_and_reuse() {
    let mut state = 0x2545_f491_u32;
    let mut random = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    // Log-uniform lengths from 1 byte to 128 KiB: mostly small, as pqlkit allocates.
    let length = |random: &mut dyn FnMut() -> u32| 1 + (random() % (1 << (random() % 18))) as usize;
    let mut live: Vec<(u8, Vec<u8>)> = Vec::new();
    for step in 0..20_000u32 {
        let tag = (step % 251) as u8;
        match random() % 4 {
            0 | 1 => live.push((tag, vec![tag; length(&mut random)])),
            2 if !live.is_empty() => {
                let i = random() as usize % live.len();
                let (tag, block) = &mut live[i];
                block.resize(length(&mut random), *tag);
                if random() % 2 == 0 {
                    block.shrink_to_fit();
                }
            }
            _ if !live.is_empty() => {
                let (tag, block) = live.swap_remove(random() as usize % live.len());
                assert!(block.iter().all(|&b| b == tag), "a block changed before it was freed");
            }
            _ => {}
        }
    }
    for (tag, block) in &live {
        assert!(block.iter().all(|b| b == tag), "a live block was overwritten");
    }
}

#[wasm_bindgen_test]
fn allocator_honours_alignment_up_to_4096_bytes() {
    use std::alloc::{alloc, dealloc, Layout};
    for align in [1, 2, 8, 16, 64, 512, 4096] {
        for size in [1, 7, 100, 5000, 70_000] {
            let layout = Layout::from_size_align(size, align).unwrap();
            // SAFETY: a non-zero size; the block is freed with the layout it was allocated with.
            unsafe {
                let block = alloc(layout);
                assert!(!block.is_null(), "{size} B aligned to {align}");
                assert_eq!(block as usize % align, 0, "{size} B aligned to {align}");
                block.write_bytes(0xAB, size);
                dealloc(block, layout);
            }
        }
    }
}

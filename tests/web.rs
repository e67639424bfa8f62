//! wasm-bindgen tests in headless Chromium: the binding layer with the browser's own RegExp.
#![cfg(target_arch = "wasm32")]

use pqlkit::web::{consent_policy, eval_condition, Core};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const RULES: &str = r#"{"version":1,"rules":[{"id":"r","when":{"event":"feature_used","count":{"$gte":2}},"score":10}]}"#;

#[wasm_bindgen_test]
fn core_fires_a_rule_and_reports_effects_as_json() {
    let mut core = Core::new(RULES, "anon", 7.0);
    assert_eq!(core.errors(), "[]");
    assert_eq!(core.track("feature_used", "{}", 1000.0), None, "no effects: undefined in JS");
    let effects = core.track("feature_used", "{}", 2000.0).expect("effects");
    assert!(effects.contains(r#""type":"qualified""#), "{effects}");
    assert!(core.score().contains(r#""score":10"#));
}

#[wasm_bindgen_test]
fn invalid_rules_report_errors_and_do_nothing() {
    let mut core = Core::new(r#"{"version":2,"rules":[]}"#, "anon", 1.0);
    assert!(core.errors().contains("unsupported_version"), "{}", core.errors());
    assert_eq!(core.track("x", "{}", 0.0), None);
}

#[wasm_bindgen_test]
fn regex_conditions_use_the_browser_regexp() {
    // Lookbehind is JavaScript syntax the native regex crate lacks: proof the browser evaluates it.
    assert_eq!(
        eval_condition(
            r#"{"email":{"$regex":"(?<=@)acme\\.com$"}}"#,
            r#"{"email":"a@acme.com"}"#,
            "{}"
        ),
        1
    );
    assert_eq!(
        eval_condition(
            r#"{"email":{"$regex":"(?<=@)acme\\.com$"}}"#,
            r#"{"email":"a@other.com"}"#,
            "{}"
        ),
        0
    );
    // An invalid pattern never matches and never throws.
    assert_eq!(eval_condition(r#"{"email":{"$regex":"("}}"#, r#"{"email":"("}"#, "{}"), 0);
    assert_eq!(eval_condition("not json", "{}", "{}"), -1);
}

#[wasm_bindgen_test]
fn case_insensitive_operators_lowercase_as_javascript_does() {
    // The browser's toLowerCase: accented capitals, and a final sigma after a letter.
    let cases = [
        (r#"{"city":{"$ini":["ÉCOLE","Paris"]}}"#, r#"{"city":"école"}"#, 1),
        // "ΟΔΟΣ".toLowerCase() ends with the final sigma (U+03C2), not U+03C3.
        (r#"{"word":{"$ini":["ΟΔΟΣ"]}}"#, r#"{"word":"\u03bf\u03b4\u03bf\u03c2"}"#, 1),
        (r#"{"word":{"$ini":["ΟΔΟΣ"]}}"#, r#"{"word":"\u03bf\u03b4\u03bf\u03c3"}"#, 0),
        (r#"{"tags":{"$alli":["ÄRGER"]}}"#, r#"{"tags":["ärger"]}"#, 1),
        (r#"{"city":{"$nini":["ÉCOLE"]}}"#, r#"{"city":"École"}"#, 0),
    ];
    for (condition, attributes, expected) in cases {
        assert_eq!(
            eval_condition(condition, attributes, "{}"),
            expected,
            "{condition} {attributes}"
        );
    }
}

fn local_storage() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

#[wasm_bindgen_test]
fn state_survives_a_new_core_through_local_storage() {
    let key = "pqlkit:test:survives";
    local_storage().remove_item(key).unwrap();
    let mut first = Core::new(RULES, "anon-a", 1.0);
    assert_eq!(first.open_storage("local", key, 0.0), "empty");
    assert!(first.is_persistent());
    first.track("feature_used", "{}", 1000.0);
    assert_eq!(first.persist(), "");
    let saved = local_storage().get_item(key).unwrap().expect("state written");
    assert!(saved.contains("anon-a"), "{saved}");

    let mut second = Core::new(RULES, "anon-b", 2.0);
    assert_eq!(second.open_storage("local", key, 2000.0), "restored");
    let state = second.save_state();
    assert!(
        state.contains(r#""anon":"anon-a""#),
        "the browser profile keeps its anonymous id: {state}"
    );
    let effects = second.track("feature_used", "{}", 3000.0).expect("effects");
    assert!(effects.contains(r#""type":"qualified""#), "the count went on from 1: {effects}");
}

#[wasm_bindgen_test]
fn corrupt_or_foreign_state_is_replaced_not_trusted() {
    let key = "pqlkit:test:corrupt";
    local_storage().set_item(key, r#"{"v":1,"anon":42}"#).unwrap();
    let mut core = Core::new(RULES, "anon", 1.0);
    assert_eq!(core.open_storage("local", key, 0.0), "replaced");
    assert_eq!(local_storage().get_item(key).unwrap(), None, "the bad copy is removed");
    assert!(core.save_state().contains(r#""anon":"anon""#), "the fresh profile is kept");
}

#[wasm_bindgen_test]
fn memory_storage_never_touches_local_storage() {
    let key = "pqlkit:test:memory";
    local_storage().remove_item(key).unwrap();
    let mut core = Core::new(RULES, "anon", 1.0);
    assert_eq!(core.open_storage("memory", key, 0.0), "empty");
    core.track("feature_used", "{}", 1000.0);
    assert_eq!(core.persist(), "");
    assert!(!core.is_persistent());
    assert_eq!(local_storage().get_item(key).unwrap(), None);
    // Consent granted later: the state moves to localStorage with what was counted.
    core.move_storage("local", key);
    assert_eq!(core.persist(), "");
    assert!(local_storage().get_item(key).unwrap().unwrap().contains("r/when"));
    // Denied afterwards: the stored copy goes away.
    core.move_storage("memory", key);
    assert_eq!(local_storage().get_item(key).unwrap(), None);
}

#[wasm_bindgen_test]
fn consent_policy_bits_follow_the_documented_table() {
    // bit 1 store, bit 2 send, bit 4 queue
    assert_eq!(consent_policy("granted", false), 1 | 2 | 4);
    assert_eq!(consent_policy("granted", true), 1, "DNT/GPC: local-only, prompts still work");
    assert_eq!(consent_policy("pending", false), 4, "nothing stored or sent, beacons wait");
    assert_eq!(consent_policy("denied", false), 0);
    assert_eq!(consent_policy("something else", false), 4, "unknown words are pending");
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

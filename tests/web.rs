//! wasm-bindgen tests in headless Chromium: the binding layer with the browser's own RegExp.
#![cfg(target_arch = "wasm32")]

use pqlkit::web::{eval_condition, Core};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const RULES: &str = r#"{"version":1,"rules":[{"id":"r","when":{"event":"feature_used","count":{"$gte":2}},"score":10}]}"#;

#[wasm_bindgen_test]
fn core_fires_a_rule_and_reports_effects_as_json() {
    let mut core = Core::new(RULES, "anon", 7.0);
    assert_eq!(core.errors(), "[]");
    assert_eq!(core.track("feature_used", "{}", 1000.0), "[]");
    let effects = core.track("feature_used", "{}", 2000.0);
    assert!(effects.contains(r#""type":"qualified""#), "{effects}");
    assert!(core.score().contains(r#""score":10"#));
}

#[wasm_bindgen_test]
fn invalid_rules_report_errors_and_do_nothing() {
    let mut core = Core::new(r#"{"version":2,"rules":[]}"#, "anon", 1.0);
    assert!(core.errors().contains("unsupported_version"), "{}", core.errors());
    assert_eq!(core.track("x", "{}", 0.0), "[]");
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

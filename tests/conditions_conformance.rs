#![cfg(not(target_arch = "wasm32"))]
//! Runs the shared `evalCondition` cases (GrowthBook's `cases.json`, see
//! `../shared/conformance/README.md`) against `pqlkit::condition`. The file stays outside the
//! project; without it the test says so and passes.

use pqlkit::condition::{eval_condition, Context};
use pqlkit::json::{parse, Value};
use std::path::Path;

mod support;
use support::NativeRegex;

#[test]
fn eval_condition_conformance_cases() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/conditions.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("conformance cases skipped: {} not found", path.display());
        return;
    };
    let doc = parse(&text).expect("conditions.json is valid JSON");
    let cases = doc.get("evalCondition").and_then(Value::as_array).expect("an evalCondition list");
    assert!(!cases.is_empty(), "no evalCondition cases in {}", path.display());

    let no_groups = Value::Object(Vec::new());
    let mut failures = Vec::new();
    for case in cases {
        let parts = case.as_array().expect("each case is a list");
        let name = parts[0].as_str().unwrap_or("(unnamed)");
        let expected = parts[3].as_bool().expect("expected is true or false");
        let ctx = Context { groups: parts.get(4).unwrap_or(&no_groups), regex: &NativeRegex };
        if eval_condition(&parts[1], &parts[2], &ctx) != expected {
            failures.push(format!("{name} (expected {expected})"));
        }
    }
    println!("{} of {} conformance cases pass", cases.len() - failures.len(), cases.len());
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

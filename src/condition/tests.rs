use super::compile::plain_literal;
use super::javascript::*;
use super::*;
use crate::error::ErrorCode;
use crate::json::parse;

#[test]
fn strings_order_as_javascript_orders_them() {
    let samples = [
        "",
        "a",
        "ab",
        "b",
        "Z",
        "é",
        "ü",
        "\u{7ff}",
        "\u{800}",
        "\u{d7ff}",
        "\u{e000}",
        "\u{ffff}",
        "\u{10000}",
        "😀",
        "😀a",
        "\u{10ffff}",
        "a😀",
        "a\u{ffff}",
    ];
    for a in samples {
        for b in samples {
            assert_eq!(utf16_cmp(a, b), a.encode_utf16().cmp(b.encode_utf16()), "{a:?} {b:?}");
        }
    }
}

#[test]
fn versions_with_unicode_line_breaks_are_read_as_javascript_reads_them() {
    let version = |text: &str| padded_version(Some(&Value::String(text.into())), &NativeRegex);
    // `"…".replace(/\+.*$/, "")`: only a '+' after the last line break is cut.
    assert_eq!(version("1\u{2028}2+build"), "1\u{2028}2");
    assert_eq!(version("1+a\u{2029}2"), "1+a\u{2029}2");
    assert_eq!(version("1.2.3+x\r\n"), "    1-    2-3+x\r\n-~");
    assert_eq!(version("\u{2028}"), "\u{2028}");
    assert_eq!(version("1.2.3"), "    1-    2-    3-~");
}

struct NativeRegex;

fn compile(pattern: &str, flags: &str) -> Option<regex::Regex> {
    regex::RegexBuilder::new(pattern).case_insensitive(flags == "i").build().ok()
}

impl RegexEngine for NativeRegex {
    fn is_valid(&self, pattern: &str, flags: &str) -> bool {
        compile(pattern, flags).is_some()
    }
    fn is_match(&self, pattern: &str, flags: &str, text: &str) -> bool {
        compile(pattern, flags).is_some_and(|re| re.is_match(text))
    }
}

fn json(text: &str) -> Value {
    parse(text).unwrap_or_else(|e| panic!("bad test JSON {text}: {e:?}"))
}

const GROUPS: &str = r#"{"beta": ["acme", "globex", 7], "odd": "acme"}"#;

fn ev(condition: &str, attributes: &str) -> bool {
    let groups = json(GROUPS);
    let ctx = Context { groups: &groups, regex: &NativeRegex };
    eval_condition(&json(condition), &json(attributes), &ctx)
}

fn val(condition_value: &str, actual: Option<&str>) -> bool {
    let groups = json(GROUPS);
    let ctx = Context { groups: &groups, regex: &NativeRegex };
    let actual = actual.map(json);
    Condition::value(json(condition_value), "", &ctx, &mut Vec::new())
        .matches(actual.as_ref(), &ctx)
}

fn errors(condition: &str) -> Vec<(ErrorCode, String)> {
    let groups = json(GROUPS);
    let ctx = Context { groups: &groups, regex: &NativeRegex };
    let mut errors = Vec::new();
    Condition::new(json(condition), "rules[0].audience", &ctx, &mut errors);
    errors.into_iter().map(|e| (e.code, e.path)).collect()
}

#[test]
fn literals_use_javascript_coercions() {
    assert!(ev(r#"{"n": 10}"#, r#"{"n": "10"}"#));
    assert!(ev(r#"{"n": "10"}"#, r#"{"n": 10}"#));
    assert!(ev(r#"{"n": 10}"#, r#"{"n": [10]}"#));
    assert!(ev(r#"{"tags": "a,b"}"#, r#"{"tags": ["a", "b"]}"#));
    assert!(
        ev(r#"{"n": "null"}"#, "{}"),
        "a missing attribute is null, and null + \"\" is \"null\""
    );
    assert!(ev(r#"{"n": 0}"#, "{}"), "null * 1 === 0");
    assert!(ev(r#"{"flag": true}"#, r#"{"flag": 1}"#));
    assert!(ev(r#"{"flag": false}"#, r#"{"flag": 0}"#));
    assert!(!ev(r#"{"flag": false}"#, r#"{"flag": null}"#));
    assert!(ev(r#"{"o": {"a": 1, "b": [2]}}"#, r#"{"o": {"a": 1, "b": [2]}}"#));
    assert!(
        !ev(r#"{"o": {"a": 1, "b": 2}}"#, r#"{"o": {"b": 2, "a": 1}}"#),
        "JSON.stringify keeps key order"
    );
    assert!(ev(r#"{"o": {}}"#, r#"{"o": {}}"#));
    assert!(!ev(r#"{"o": {}}"#, r#"{"o": []}"#));
}

#[test]
fn eq_and_ne_are_strict() {
    assert!(ev(r#"{"a": {"$eq": "x"}}"#, r#"{"a": "x"}"#));
    assert!(!ev(r#"{"a": {"$eq": 1}}"#, r#"{"a": "1"}"#));
    assert!(!ev(r#"{"a": {"$eq": [1]}}"#, r#"{"a": [1]}"#), "arrays are compared by reference");
    assert!(ev(r#"{"a": {"$eq": null}}"#, "{}"));
    assert!(ev(r#"{"a": {"$ne": 1}}"#, r#"{"a": "1"}"#));
    assert!(!ev(r#"{"a": {"$ne": "x"}}"#, r#"{"a": "x"}"#));
    assert!(!val(r#"{"$eq": null}"#, None), "undefined !== null");
    assert!(val(r#"{"$ne": null}"#, None));
}

#[test]
fn relational_operators_compare_like_javascript() {
    assert!(ev(r#"{"n": {"$gt": 5, "$lte": 10}}"#, r#"{"n": 10}"#));
    assert!(ev(r#"{"n": {"$gt": "5"}}"#, r#"{"n": 8}"#), "number against text compares numbers");
    assert!(ev(r#"{"s": {"$lt": "9"}}"#, r#"{"s": "10"}"#), "text against text compares text");
    assert!(ev(r#"{"s": {"$gte": "B"}}"#, r#"{"s": "a"}"#));
    assert!(ev(r#"{"n": {"$gt": -1}}"#, "{}"), "missing is null, which compares as 0");
    assert!(ev(r#"{"n": {"$lt": 1}}"#, r#"{"n": false}"#));
    assert!(ev(r#"{"n": {"$gte": 2}}"#, r#"{"n": [3]}"#));
    assert!(!ev(r#"{"n": {"$lt": 5}}"#, r#"{"n": "abc"}"#));
    assert!(!ev(r#"{"n": {"$gte": 5}}"#, r#"{"n": "abc"}"#), "NaN is neither smaller nor larger");
    assert!(!val(r#"{"$lte": 0}"#, None), "undefined is NaN");
    assert!(ev(r#"{"n": {"$gt": 9}}"#, r#"{"n": " 0x10 "}"#));
    // UTF-16 order: the surrogate of U+1F600 sorts before U+FF61.
    assert!(ev(r#"{"s": {"$lt": "｡"}}"#, r#"{"s": "😀"}"#));
}

#[test]
fn in_and_nin() {
    assert!(ev(r#"{"plan": {"$in": ["free", "trial"]}}"#, r#"{"plan": "trial"}"#));
    assert!(!ev(r#"{"plan": {"$in": ["free"]}}"#, r#"{"plan": "FREE"}"#));
    assert!(ev(r#"{"tags": {"$in": ["a"]}}"#, r#"{"tags": ["b", "a"]}"#));
    assert!(!ev(r#"{"n": {"$in": ["1"]}}"#, r#"{"n": 1}"#));
    assert!(ev(r#"{"n": {"$in": [null]}}"#, "{}"));
    assert!(!ev(r#"{"n": {"$in": 1}}"#, r#"{"n": 1}"#));
    assert!(!ev(r#"{"n": {"$nin": 1}}"#, r#"{"n": 2}"#), "a non-list operand fails both ways");
    assert!(ev(r#"{"n": {"$nin": [1, 2]}}"#, r#"{"n": 3}"#));
    assert!(!ev(r#"{"tags": {"$nin": ["a"]}}"#, r#"{"tags": ["b", "a"]}"#));
    assert!(ev(r#"{"c": {"$ini": ["US"]}}"#, r#"{"c": "us"}"#));
    assert!(ev(r#"{"c": {"$ini": ["us"]}}"#, r#"{"c": ["x", "US"]}"#));
    assert!(!ev(r#"{"c": {"$nini": ["us"]}}"#, r#"{"c": "US"}"#));
    assert!(ev(r#"{"c": {"$nini": ["us"]}}"#, r#"{"c": "UK"}"#));
}

#[test]
fn all_and_alli() {
    assert!(ev(r#"{"t": {"$all": ["a", "b"]}}"#, r#"{"t": ["b", "c", "a"]}"#));
    assert!(!ev(r#"{"t": {"$all": ["a", "b"]}}"#, r#"{"t": ["a"]}"#));
    assert!(ev(r#"{"t": {"$all": []}}"#, r#"{"t": []}"#));
    assert!(!ev(r#"{"t": {"$all": ["a"]}}"#, r#"{"t": "a"}"#));
    assert!(
        ev(r#"{"t": {"$all": [{"$gt": 5}, 1]}}"#, r#"{"t": [1, 7]}"#),
        "elements are condition values"
    );
    assert!(ev(r#"{"t": {"$alli": ["A", "b"]}}"#, r#"{"t": ["a", "B"]}"#));
    assert!(!ev(r#"{"t": {"$alli": "a"}}"#, r#"{"t": ["a"]}"#));
}

#[test]
fn elem_match_on_values_and_objects() {
    assert!(ev(r#"{"n": {"$elemMatch": {"$gt": 10}}}"#, r#"{"n": [1, 11]}"#));
    assert!(
        !ev(r#"{"n": {"$elemMatch": {"$eq": 0}}}"#, r#"{"n": [0]}"#),
        "falsy elements are skipped"
    );
    assert!(ev(
        r#"{"h": {"$elemMatch": {"name": "golf", "hours": {"$gte": 2}}}}"#,
        r#"{"h": [{"name": "golf", "hours": 1}, {"name": "golf", "hours": 3}]}"#
    ));
    assert!(!ev(r#"{"h": {"$elemMatch": {"name": "golf"}}}"#, r#"{"h": {"name": "golf"}}"#));
    assert!(ev(r#"{"h": {"$not": {"$elemMatch": {"$eq": "x"}}}}"#, r#"{"h": ["y"]}"#));
}

#[test]
fn size_exists_and_type() {
    assert!(ev(r#"{"t": {"$size": 2}}"#, r#"{"t": [1, 2]}"#));
    assert!(ev(r#"{"t": {"$size": {"$gte": 2, "$lt": 4}}}"#, r#"{"t": [1, 2, 3]}"#));
    assert!(!ev(r#"{"t": {"$size": 3}}"#, r#"{"t": "abc"}"#));
    assert!(ev(r#"{"a.b": {"$exists": true}}"#, r#"{"a": {"b": 0}}"#));
    assert!(ev(r#"{"a": {"$exists": false}}"#, r#"{"a": null}"#));
    assert!(ev(r#"{"a": {"$exists": 0}}"#, "{}"), "any falsy operand means \"does not exist\"");
    for (ty, attr) in [
        ("string", "\"x\""),
        ("number", "1"),
        ("boolean", "true"),
        ("array", "[]"),
        ("object", "{}"),
        ("null", "null"),
    ] {
        assert!(
            ev(&["{\"a\": {\"$type\": \"", ty, "\"}}"].concat(), &["{\"a\": ", attr, "}"].concat()),
            "{ty}"
        );
    }
    assert!(ev(r#"{"a": {"$type": "null"}}"#, "{}"), "missing attributes are null, not undefined");
    assert!(val(r#"{"$type": "undefined"}"#, None));
    assert!(!val(r#"{"$type": ["string"]}"#, Some("\"x\"")));
}

#[test]
fn regex_tests_the_text_form() {
    assert!(ev(r#"{"ua": {"$regex": "Mobile"}}"#, r#"{"ua": "iOS Mobile"}"#));
    assert!(!ev(r#"{"ua": {"$regex": "mobile"}}"#, r#"{"ua": "iOS Mobile"}"#));
    assert!(ev(r#"{"ua": {"$regexi": "MOBILE"}}"#, r#"{"ua": "iOS Mobile"}"#));
    assert!(ev(r#"{"ua": {"$regex": "^null$"}}"#, "{}"), "RegExp.test(null) tests \"null\"");
    assert!(ev(r#"{"t": {"$regex": "^a,b$"}}"#, r#"{"t": ["a", "b"]}"#));
    assert!(ev(r#"{"n": {"$regex": "^1e\\+21$"}}"#, r#"{"n": 1e21}"#));
    assert!(!ev(r#"{"ua": {"$regex": "(("}}"#, r#"{"ua": "(("}"#));
    assert!(!ev(r#"{"ua": {"$regex": 5}}"#, r#"{"ua": "5"}"#));
}

#[test]
fn numbers_are_matched_as_the_general_walk_does() {
    let ctx = Context { groups: &Value::Null, regex: &NativeRegex };
    let conditions = [
        r#"{"$gte": 3}"#,
        r#"{"$gt": 2, "$lte": 4}"#,
        r#"{"$lt": -0.5}"#,
        r#"{"$eq": 3}"#,
        r#"{"$ne": 3}"#,
        r#"{"$gt": "2"}"#,
        r#"{"$in": [1, 3]}"#,
        r#"{}"#,
        "3",
    ];
    for condition in conditions {
        let c = Condition::value(json(condition), "", &ctx, &mut Vec::new());
        for n in [-1.0, -0.5, 0.0, 2.0, 2.5, 3.0, 4.0, 5.0, f64::NAN, f64::INFINITY] {
            let general = c.matches(Some(&Value::Number(n)), &ctx);
            assert_eq!(c.matches_number(n, &ctx), general, "{condition} on {n}");
        }
    }
}

#[test]
fn plain_text_patterns_answer_as_the_regex_does() {
    let texts = ["iOS Mobile", "a.b", "axb", "$5", "costs 5$", "x\\", "", "(x) a/b -", "é€🎉x"];
    for pattern in [
        "Mobile",
        "^iOS",
        "Mobile$",
        "^iOS Mobile$",
        "a\\.b",
        "\\$5",
        "5\\$",
        "x\\\\$",
        "",
        "^",
        "$",
        "^$",
        "a/b",
        "\\-",
        "\\(x\\)",
        "🎉x",
        "^é",
        "\\\\",
    ] {
        assert!(plain_literal(pattern).is_some(), "{pattern} is plain text");
        let re = compile(pattern, "").unwrap();
        let condition = Value::Object(vec![(
            "t".into(),
            Value::Object(vec![("$regex".into(), pattern.into())]),
        )]);
        for text in texts {
            let attrs = Value::Object(vec![("t".into(), text.into())]);
            let ctx = Context { groups: &Value::Null, regex: &NativeRegex };
            let got = eval_condition(&condition, &attrs, &ctx);
            assert_eq!(got, re.is_match(text), "{pattern:?} on {text:?}");
        }
    }
    for pattern in ["a.b", "\\d", "a|b", "a{2}", "[x]", "a$b", "x^", "a*", "(x)", "\\"] {
        assert_eq!(plain_literal(pattern), None, "{pattern} needs a RegExp");
    }
    assert_eq!(plain_literal("a\\$$").as_deref(), Some("*a$"));
    assert_eq!(plain_literal("x\\\\$").as_deref(), Some("*x\\"));
    assert_eq!(plain_literal("^iOS").as_deref(), Some("iOS*"));
    assert_eq!(plain_literal("a\\*b"), None, "a literal * is no page pattern");
}

#[test]
fn logical_operators() {
    let attrs = r#"{"plan": "pro", "seats": 12}"#;
    assert!(ev(r#"{"$and": [{"plan": "pro"}, {"seats": {"$gt": 10}}]}"#, attrs));
    assert!(!ev(r#"{"$and": [{"plan": "pro"}, {"seats": {"$gt": 20}}]}"#, attrs));
    assert!(ev(r#"{"$or": [{"plan": "free"}, {"seats": {"$gt": 10}}]}"#, attrs));
    assert!(!ev(r#"{"$nor": [{"plan": "free"}, {"seats": {"$gt": 10}}]}"#, attrs));
    assert!(ev(r#"{"$not": {"plan": "free"}}"#, attrs));
    assert!(ev(r#"{"plan": {"$not": {"$in": ["free"]}}}"#, attrs));
    assert!(ev(r#"{"$and": [], "$or": []}"#, attrs));
    assert!(!ev(r#"{"$nor": []}"#, attrs), "an empty $or passes, so an empty $nor fails");
    assert!(!ev(r#"{"$or": [{"plan": "pro"}], "seats": 1}"#, attrs), "siblings of $or still count");
    assert!(ev(r#"{"$groups": {"$elemMatch": {"$eq": "a"}}}"#, r#"{"$groups": ["a"]}"#));
}

#[test]
fn malformed_conditions_do_not_match_even_under_not() {
    for condition in [
        "null",
        "[]",
        "\"plan\"",
        "7",
        r#"{"$or": {}}"#,
        r#"{"$not": {"$or": null}}"#,
        r#"{"$nor": [1]}"#,
        r#"{"$not": {"$and": "x"}}"#,
        r#"{"$not": "x"}"#,
        r#"{"a": {"$not": {"$elemMatch": 5}}}"#,
        r#"{"$not": {"id": {"$inGroup": "odd"}}}"#,
    ] {
        assert!(!ev(condition, r#"{"a": [1], "id": "acme"}"#), "{condition}");
    }
    assert!(
        ev(r#"{"a": {"$not": {"$elemMatch": 5}}}"#, r#"{"a": "x"}"#),
        "only reached for arrays, as in JS"
    );
    assert!(ev(r#"{"a": {"$not": {"$unknown": 1}}}"#, "{}"), "an unknown operator is just false");
}

#[test]
fn a_compiled_condition_serves_many_evaluations_in_written_order() {
    let groups = json(GROUPS);
    let ctx = Context { groups: &groups, regex: &NativeRegex };
    let mut errors = Vec::new();
    // `$or` without a list is a fault, reached only when the key before it passes.
    let c = Condition::new(json(r#"{"$not": {"a": 1, "$or": {}}}"#), "c", &ctx, &mut errors);
    assert_eq!(errors.len(), 1, "validated while compiling");
    assert!(c.matches(Some(&json(r#"{"a": 2}"#)), &ctx));
    assert!(!c.matches(Some(&json(r#"{"a": 1}"#)), &ctx), "the fault is not inverted");
    assert!(c.matches(Some(&json(r#"{"a": 3}"#)), &ctx));
    let n = Condition::value(json(r#"{"$gt": 2, "$lte": "4"}"#), "n", &ctx, &mut errors);
    let results: Vec<bool> =
        ["2", "3", "\"4\"", "5", "[3]"].map(|v| n.matches(Some(&json(v)), &ctx)).to_vec();
    assert_eq!(results, [false, true, true, false, true]);
    assert!(!n.matches(None, &ctx), "undefined is NaN");
    assert!(n == Condition::value(json(r#"{"$gt": 2, "$lte": "4"}"#), "", &ctx, &mut errors));
}

#[test]
fn dotted_paths_walk_objects_and_arrays() {
    let attrs = r#"{"account": {"company_size": 12, "tags": ["x", "y"], "name": "Acme"}}"#;
    assert!(ev(r#"{"account.company_size": {"$gte": 10}}"#, attrs));
    assert!(ev(r#"{"account.tags.1": "y"}"#, attrs));
    assert!(ev(r#"{"account.tags.length": 2}"#, attrs));
    assert!(ev(r#"{"account.tags.01": null, "account.tags.length.x": null}"#, attrs));
    assert!(ev(r#"{"account.name.length": null}"#, attrs), "strings are not walked");
    assert!(ev(r#"{"account.missing.deeper": {"$exists": false}}"#, attrs));
}

#[test]
fn version_strings_are_padded_like_growthbook() {
    assert_eq!(
        padded_version(Some(&json("\"v1.2.3+build.7\"")), &NativeRegex),
        "    1-    2-    3-~"
    );
    assert_eq!(
        padded_version(Some(&json("\"1.0.0-rc.1\"")), &NativeRegex),
        "    1-    0-    0-rc-    1"
    );
    assert_eq!(padded_version(Some(&json("123456")), &NativeRegex), "123456");
    assert_eq!(padded_version(Some(&json("2.5")), &NativeRegex), "    2-    5");
    assert_eq!(padded_version(Some(&json("\"\"")), &NativeRegex), "    0");
    assert_eq!(padded_version(Some(&json("true")), &NativeRegex), "    0");
    assert_eq!(padded_version(None, &NativeRegex), "    0");
    assert!(ev(r#"{"v": {"$vgt": "1.9.9", "$vlt": "1.10.0"}}"#, r#"{"v": "1.9.10"}"#));
    assert!(ev(r#"{"v": {"$vgte": "1.0.0", "$vlte": "1.0.0"}}"#, r#"{"v": "v1.0.0+abc"}"#));
    assert!(
        ev(r#"{"v": {"$vlt": "1.0.0"}}"#, r#"{"v": "1.0.0-beta"}"#),
        "pre-releases sort before the release"
    );
    assert!(ev(r#"{"v": {"$vne": "1.0.0"}}"#, r#"{"v": "1.0.1"}"#));
    assert!(ev(r#"{"v": {"$veq": 0}}"#, "{}"), "anything but text and numbers is \"0\"");
    assert!(ev(r#"{"v": {"$vgt": 9}}"#, r#"{"v": 10}"#));
}

#[test]
fn groups_are_looked_up_by_name() {
    assert!(ev(r#"{"id": {"$inGroup": "beta"}}"#, r#"{"id": "acme"}"#));
    assert!(ev(r#"{"id": {"$inGroup": "beta"}}"#, r#"{"id": ["x", "globex"]}"#));
    assert!(!ev(r#"{"id": {"$inGroup": "beta"}}"#, r#"{"id": "7"}"#));
    assert!(!ev(r#"{"id": {"$inGroup": "nope"}}"#, r#"{"id": "acme"}"#));
    assert!(ev(r#"{"id": {"$notInGroup": "nope"}}"#, r#"{"id": "acme"}"#));
    assert!(!ev(r#"{"id": {"$notInGroup": "beta"}}"#, r#"{"id": "globex"}"#));
    assert!(!ev(r#"{"id": {"$inGroup": "odd"}}"#, r#"{"id": "acme"}"#));
    assert!(
        !ev(r#"{"id": {"$notInGroup": "odd"}}"#, r#"{"id": "x"}"#),
        "a group that is not a list is a fault"
    );
}

#[test]
fn value_conditions_compare_counts() {
    assert!(val(r#"{"$gte": 2}"#, Some("3")));
    assert!(!val(r#"{"$gte": 2}"#, Some("1")));
    assert!(val("2", Some("2")));
    assert!(val(r#"{"$exists": false}"#, None));
    assert!(val("false", None), "undefined !== null, and !!undefined === false");
    assert!(!val("null", None));
    assert!(!val("[]", None), "JSON.stringify(undefined) is not a string");
    assert!(!val("{\"$gte\": 1}", None));
}

#[test]
fn a_number_comparison_answers_alike_outside_its_range() {
    let groups = json(GROUPS);
    let ctx = Context { groups: &groups, regex: &NativeRegex };
    let numeric = [r#"{"$gte": 3}"#, r#"{"$ne": 5}"#, "7", r#"{"$lt": 2.5, "$gt": 1}"#];
    for source in numeric {
        let condition = Condition::value(json(source), "", &ctx, &mut Vec::new());
        let (least, most) = condition.number_range().unwrap_or_else(|| panic!("{source}"));
        let amounts: Vec<f64> = (0..=26).map(|i| f64::from(i) * 0.5).collect();
        for pair in amounts.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if least > b || most < a {
                let holds = |x: f64| condition.matches_number(x, &ctx);
                assert_eq!(holds(a), holds(b), "{source} from {a} to {b}");
            }
        }
    }
    let both = Condition::value(json(r#"{"$gte": 3, "$lt": 10}"#), "", &ctx, &mut Vec::new());
    assert_eq!(both.number_range(), Some((3.0, 10.0)));
    let others = [
        r#"{"$in": [1, 2]}"#,
        r#"{"$exists": true}"#,
        r#"{"$gte": "3"}"#,
        r#"{"$not": {"$gt": 2}}"#,
    ];
    for other in others {
        let condition = Condition::value(json(other), "", &ctx, &mut Vec::new());
        assert_eq!(condition.number_range(), None, "{other}");
    }
}

#[test]
fn javascript_number_and_text_conversions() {
    let text = |n: f64| {
        let mut s = String::new();
        js_number(n, &mut s);
        s
    };
    assert_eq!(text(1e21), "1e+21");
    assert_eq!(text(1.5e-7), "1.5e-7");
    assert_eq!(text(1e-6), "0.000001");
    assert_eq!(text(1e20), "100000000000000000000");
    assert_eq!(text(-0.0), "0");
    assert_eq!(text(0.5), "0.5");
    assert_eq!(text(f64::NAN), "NaN");
    assert_eq!(text(f64::NEG_INFINITY), "-Infinity");
    assert_eq!(js_string(Some(&json(r#"[1, null, [2, "a"], {}]"#))), "1,,2,a,[object Object]");
    for (s, n) in [
        ("", 0.0),
        (" 12 ", 12.0),
        ("1.", 1.0),
        (".5", 0.5),
        ("-.5", -0.5),
        ("1.e2", 100.0),
        ("+1e3", 1000.0),
        ("0x1F", 31.0),
        ("0b101", 5.0),
        ("0o17", 15.0),
        ("-Infinity", f64::NEG_INFINITY),
        ("\u{feff}3\n", 3.0),
    ] {
        assert_eq!(str_to_number(s), n, "{s:?}");
    }
    for s in ["inf", "NaN", "infinity", "1e", ".", "-0x1", "0x", "1_0", "e5", "\u{85}1", "12px"] {
        assert!(str_to_number(s).is_nan(), "{s:?}");
    }
}

#[test]
fn validation_reports_each_problem_with_its_path() {
    assert_eq!(
        errors(r#"{"plan": {"$in": ["free"]}, "$or": [{"a": 1}, {"b": {"$gte": 1}}]}"#),
        vec![]
    );
    assert_eq!(
        errors(
            r#"{"plan": {"$inn": ["free"]}, "seats": {"$in": 3}, "$and": [1, {"ua": {"$regex": "(("}}]}"#
        ),
        vec![
            (ErrorCode::UnknownOperator, "rules[0].audience.plan.$inn".into()),
            (ErrorCode::InvalidType, "rules[0].audience.seats.$in".into()),
            (ErrorCode::InvalidType, "rules[0].audience.$and[0]".into()),
            (ErrorCode::InvalidRegex, "rules[0].audience.$and[1].ua.$regex".into()),
        ]
    );
    assert_eq!(
        errors(r#"{"$or": {"a": 1}}"#),
        vec![(ErrorCode::InvalidType, "rules[0].audience.$or".into())]
    );
    assert_eq!(errors("[]"), vec![(ErrorCode::InvalidType, "rules[0].audience".into())]);
    assert_eq!(
        errors(r#"{"id": {"$inGroup": "gamma", "$notInGroup": "beta"}, "x": {"$notInGroup": 1}}"#),
        vec![
            (ErrorCode::UnknownGroup, "rules[0].audience.id.$inGroup".into()),
            (ErrorCode::InvalidType, "rules[0].audience.x.$notInGroup".into()),
        ]
    );
    assert_eq!(
        errors(r#"{"t": {"$type": "text", "$exists": 1, "$vgt": [1], "$eq": {}}}"#),
        vec![
            (ErrorCode::InvalidValue, "rules[0].audience.t.$type".into()),
            (ErrorCode::InvalidType, "rules[0].audience.t.$exists".into()),
            (ErrorCode::InvalidType, "rules[0].audience.t.$vgt".into()),
            (ErrorCode::InvalidType, "rules[0].audience.t.$eq".into()),
        ]
    );
    assert_eq!(
        errors(
            r#"{"$in": [1], "$groups": ["a"], "a": {"$or": []}, "b": {"$gte": 1, "within": "7d"}}"#
        ),
        vec![
            (ErrorCode::UnknownOperator, "rules[0].audience.$in".into()),
            (ErrorCode::UnknownOperator, "rules[0].audience.a.$or".into()),
            (ErrorCode::InvalidValue, "rules[0].audience.b".into()),
        ]
    );
    assert_eq!(
        errors(
            r#"{"h": {"$elemMatch": {"n": {"$bad": 1}}, "$size": {"$gt": "x", "$x": 1}, "$all": [{"$y": 1}]}}"#
        ),
        vec![
            (ErrorCode::UnknownOperator, "rules[0].audience.h.$elemMatch.n.$bad".into()),
            (ErrorCode::UnknownOperator, "rules[0].audience.h.$size.$x".into()),
            (ErrorCode::UnknownOperator, "rules[0].audience.h.$all[0].$y".into()),
        ]
    );
    assert_eq!(errors(r#"{"h": {"$elemMatch": 3, "$not": {"$z": 1}}}"#).len(), 2);
}

#[cfg(feature = "authoring")]
#[test]
fn messages_name_the_operator_and_what_was_expected() {
    let groups = json(GROUPS);
    let ctx = Context { groups: &groups, regex: &NativeRegex };
    let mut errors = Vec::new();
    Condition::value(json(r#"{"$in": "free"}"#), "rules[2].when.count", &ctx, &mut errors);
    Condition::value(json(r#"{"$regexi": "[a"}"#), "x", &ctx, &mut errors);
    Condition::value(json(r#"{"$gte": 2}"#), "ok", &ctx, &mut errors);
    Condition::value(json("7"), "ok", &ctx, &mut errors);
    let messages: Vec<_> = errors.iter().map(|e| (e.path.as_str(), e.message.as_str())).collect();
    assert_eq!(
        messages,
        vec![
            (
                "rules[2].when.count.$in",
                "`$in` expects a list of values such as [\"free\", \"trial\"], not text."
            ),
            ("x.$regexi", "`$regexi` pattern \"[a\" is not a valid regular expression."),
        ]
    );
}

#[test]
fn odd_inputs_never_panic() {
    let samples: Vec<Value> = [
        "null",
        "true",
        "false",
        "0",
        "-1.5",
        "1e308",
        "\"\"",
        "\"1.2.3\"",
        "\"x\"",
        "[]",
        "[null, 0, \"a\", [1], {}]",
        "{}",
        r#"{"a": 1}"#,
        r#"{"$gt": 1}"#,
        r#"{"$and": []}"#,
        r#"{"$x": null}"#,
    ]
    .into_iter()
    .map(json)
    .collect();
    let groups = json(GROUPS);
    let ctx = Context { groups: &groups, regex: &NativeRegex };
    let mut errors = Vec::new();
    let ops = OPERATORS.split(' ').chain(["$and", "$or", "$nor", "$unknown", "a", "a.b"]);
    for op in ops {
        for operand in &samples {
            let condition = Value::Object(vec![(op.to_string(), operand.clone())]);
            let nested = Value::Object(vec![("a".to_string(), condition.clone())]);
            let compiled = Condition::value(condition.clone(), "c", &ctx, &mut errors);
            for actual in &samples {
                let attrs = Value::Object(vec![("a".to_string(), actual.clone())]);
                eval_condition(&condition, &attrs, &ctx);
                eval_condition(&nested, &attrs, &ctx);
                compiled.matches(Some(actual), &ctx);
                Condition::value(operand.clone(), "c", &ctx, &mut errors)
                    .matches(Some(actual), &ctx);
            }
            compiled.matches(None, &ctx);
            Condition::new(condition.clone(), "c", &ctx, &mut errors);
            Condition::new(nested, "c", &ctx, &mut errors);
        }
    }
    assert!(!errors.is_empty());
}

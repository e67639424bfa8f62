use super::*;
use crate::rules::parse_rule_set_json;

struct NoRegex;
impl crate::condition::RegexEngine for NoRegex {
    fn is_valid(&self, _: &str, _: &str) -> bool {
        true
    }
    fn is_match(&self, _: &str, _: &str, _: &str) -> bool {
        false
    }
}

fn sql(rules: &str, dialect: Dialect) -> Result<String, Vec<SqlError>> {
    let rules = parse_rule_set_json(rules, &NoRegex).expect("a valid rule set");
    build(&rules, dialect, &Options::default())
}

const DEFAULT_RULES: &str = include_str!("../../www/rules/default.json");

#[test]
fn the_demo_rule_set_is_one_statement_in_every_dialect() {
    for dialect in [Dialect::DuckDb, Dialect::Spark, Dialect::BigQuery, Dialect::Snowflake] {
        let q = sql(DEFAULT_RULES, dialect).unwrap();
        assert!(q.contains("WITH conv AS"), "{}", dialect.name());
        assert_eq!(q.matches(';').count(), 0, "one statement, no terminator");
        assert!(q.contains("r1_flagged_at") && q.contains("score_rises"));
    }
    let spark = sql(DEFAULT_RULES, Dialect::Spark).unwrap();
    assert!(spark.contains("get_json_object(props, '$.feature')"));
    assert!(spark.contains("min_by(") && !spark.contains("arg_min("));
    let bigquery = sql(DEFAULT_RULES, Dialect::BigQuery).unwrap();
    assert!(bigquery.contains("SAFE_CAST(") && !bigquery.contains("AS VARCHAR)"));
}

#[test]
fn table_names_and_the_end_of_observation_are_parameters() {
    let rules = parse_rule_set_json(DEFAULT_RULES, &NoRegex).unwrap();
    let options = Options {
        events: "{{ ref('pql_events') }}".into(),
        conversions: "analytics.conversions".into(),
        as_of: Some(1_767_225_600_000),
    };
    let q = build(&rules, Dialect::DuckDb, &options).unwrap();
    assert!(q.contains("FROM {{ ref('pql_events') }} e"));
    assert!(q.contains("FROM analytics.conversions"));
    assert!(q.contains("COALESCE(1767225600000,"));
}

#[test]
fn what_sql_cannot_express_is_refused_with_its_path() {
    let rules = r#"{"version": 1, "rules": [
        {"id": "a", "when": {"event": "x", "where": {"path": {"$regex": "^/a"}}, "count": 1}},
        {"id": "b", "when": {"any": [{"event": "x", "count": 1, "within": "145h"},
                                     {"event": "x", "distinctDays": 2, "within": "36h"}]}},
        {"id": "c", "audience": {"plan": {"$gt": "pro"}, "beta": {"$inGroup": "g"}}},
        {"id": "d", "when": {"event": "x", "where": {"a-b": 1}, "count": 1}}
    ], "groups": {"g": ["x"]}}"#;
    let errors = sql(rules, Dialect::DuckDb).unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "rules[0].when.where.path.$regex",
            "rules[1].when.any[0].within",
            "rules[1].when.any[1].within",
            "rules[2].audience.plan.$gt",
            "rules[3].when.where.a-b",
        ]
    );
    assert!(errors[2].message.contains("whole days"));
    assert!(errors[3].message.contains("compare with a number"));
    assert_eq!(errors[0].to_value().get("code"), Some(&Value::from("sql_unsupported")));
}

#[test]
fn account_signals_are_read_for_sql_only() {
    let text = r#"{"version": 1, "rules": [{"id": "team", "when":
        {"event": "feature_used", "distinctUsers": 3, "within": "14d", "across": "account"}}]}"#;
    let browser = parse_rule_set_json(text, &NoRegex).unwrap_err();
    let paths: Vec<&str> = browser.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["rules[0].when.distinctUsers", "rules[0].when.across", "rules[0].when"]);
    let rules = crate::rules::parse_rule_set_json_with_account_signals(text, &NoRegex).unwrap();
    let q = build(&rules, Dialect::Spark, &Options::default()).unwrap();
    assert!(q.contains("size(collect_set(CASE WHEN m0 = 1 THEN user_id END) OVER (PARTITION BY account_key ORDER BY ts RANGE BETWEEN 1209599999 PRECEDING AND CURRENT ROW))"));
    let wrong = text.replace("\"account\"", "\"team\"");
    let errors =
        crate::rules::parse_rule_set_json_with_account_signals(&wrong, &NoRegex).unwrap_err();
    assert_eq!(errors[0].path, "rules[0].when.across");
}

//! What differs between the SQL engines the builder writes for: JSON access, casts, "last
//! non-null value" windows, picking a row's value by an order, ordered string aggregation.
//! Everything else the query uses (CTEs, `ROWS` and numeric `RANGE` frames, `CASE`,
//! `row_number`, `lag`) is written once, in the SQL they all share.

/// An SQL engine. `DuckDb` and `Spark` are executed in the tests; `BigQuery` and `Snowflake`
/// are parsed (sqlglot) only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    DuckDb,
    Spark,
    BigQuery,
    Snowflake,
}

impl Dialect {
    pub const NAMES: &'static str = "duckdb, spark, bigquery, snowflake";

    pub fn from_name(name: &str) -> Option<Dialect> {
        Some(match name {
            "duckdb" => Dialect::DuckDb,
            "spark" => Dialect::Spark,
            "bigquery" => Dialect::BigQuery,
            "snowflake" => Dialect::Snowflake,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Spark => "spark",
            Dialect::BigQuery => "bigquery",
            Dialect::Snowflake => "snowflake",
        }
    }

    /// The text of the JSON value at `path` (`["a", "b"]` = `$.a.b`) inside the JSON text
    /// `json`: a string without its quotes, a number or boolean as written, an object or array
    /// as JSON; NULL when absent or JSON null. Keys are checked to be plain identifiers before.
    pub fn json_text(self, json: &str, path: &[&str]) -> String {
        let dotted = path.join(".");
        match self {
            Dialect::DuckDb => format!("json_extract_string({json}, '$.{dotted}')"),
            Dialect::Spark => format!("get_json_object({json}, '$.{dotted}')"),
            Dialect::BigQuery => format!(
                "COALESCE(JSON_VALUE({json}, '$.{dotted}'), JSON_QUERY({json}, '$.{dotted}'))"
            ),
            Dialect::Snowflake => format!("JSON_EXTRACT_PATH_TEXT({json}, '{dotted}')"),
        }
    }

    /// `text` read as a number; NULL when it is not one.
    pub fn to_double(self, text: &str) -> String {
        match self {
            Dialect::DuckDb => format!("TRY_CAST({text} AS DOUBLE)"),
            Dialect::Spark => format!("try_cast({text} AS DOUBLE)"),
            Dialect::BigQuery => format!("SAFE_CAST({text} AS FLOAT64)"),
            Dialect::Snowflake => format!("TRY_TO_DOUBLE({text})"),
        }
    }

    /// A number as text (for the score rises list).
    pub fn to_text(self, number: &str) -> String {
        match self {
            Dialect::DuckDb => format!("CAST({number} AS VARCHAR)"),
            Dialect::Spark | Dialect::BigQuery => format!("CAST({number} AS STRING)"),
            Dialect::Snowflake => format!("TO_VARCHAR({number})"),
        }
    }

    pub fn double_type(self) -> &'static str {
        match self {
            Dialect::BigQuery => "FLOAT64",
            _ => "DOUBLE",
        }
    }

    pub fn text_type(self) -> &'static str {
        match self {
            Dialect::Spark | Dialect::BigQuery => "STRING",
            _ => "VARCHAR",
        }
    }

    pub fn bigint_type(self) -> &'static str {
        match self {
            Dialect::BigQuery => "INT64",
            _ => "BIGINT",
        }
    }

    /// `floor(t / g)` as an integer, for bucket and UTC day numbers.
    pub fn bucket(self, t: &str, g: i64) -> String {
        format!("CAST(FLOOR({t} / {g}) AS {})", self.bigint_type())
    }

    /// The last non-null `value` up to the current row, in `window` (a `PARTITION BY ...
    /// ORDER BY ...` clause).
    pub fn last_non_null(self, value: &str, window: &str) -> String {
        let frame = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW";
        match self {
            Dialect::DuckDb | Dialect::BigQuery => {
                format!("LAST_VALUE({value} IGNORE NULLS) OVER ({window} {frame})")
            }
            Dialect::Spark => format!("last_value({value}, true) OVER ({window} {frame})"),
            Dialect::Snowflake => {
                format!("LAST_VALUE({value}) IGNORE NULLS OVER ({window} {frame})")
            }
        }
    }

    /// The `value` of the row with the smallest (`largest`: the largest) non-null `key` in the
    /// group; NULL if none.
    pub fn value_at(self, value: &str, key: &str, largest: bool) -> String {
        let function = match (self, largest) {
            (Dialect::DuckDb, false) => "arg_min",
            (Dialect::DuckDb, true) => "arg_max",
            (Dialect::Spark, false) => "min_by",
            (Dialect::Spark, true) => "max_by",
            (Dialect::Snowflake, false) => "MIN_BY",
            (Dialect::Snowflake, true) => "MAX_BY",
            (Dialect::BigQuery, _) => {
                let order = if largest { " DESC" } else { "" };
                return format!(
                    "ARRAY_AGG(IF({key} IS NULL, NULL, {value}) IGNORE NULLS ORDER BY {key}{order} LIMIT 1)[SAFE_OFFSET(0)]"
                );
            }
        };
        format!("{function}({value}, {key})")
    }

    /// The non-null `item`s of the group joined by `,` in the order of `key`.
    pub fn ordered_list(self, item: &str, key: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::BigQuery => format!("STRING_AGG({item}, ',' ORDER BY {key})"),
            Dialect::Spark => format!(
                "array_join(transform(array_sort(collect_list(CASE WHEN {item} IS NOT NULL THEN named_struct('k', {key}, 'v', {item}) END)), e -> e.v), ',')"
            ),
            Dialect::Snowflake => format!("LISTAGG({item}, ',') WITHIN GROUP (ORDER BY {key})"),
        }
    }

    /// A JSON object, as text, of `(key, number)` pairs.
    pub fn json_object(self, pairs: &[(String, String)]) -> String {
        if pairs.is_empty() {
            return "'{}'".into();
        }
        let args: Vec<String> = pairs.iter().map(|(k, v)| format!("{}, {v}", quote(k))).collect();
        let args = args.join(", ");
        match self {
            Dialect::DuckDb => format!("CAST(json_object({args}) AS VARCHAR)"),
            Dialect::Spark => {
                format!("to_json(named_struct({args}), map('ignoreNullFields', 'false'))")
            }
            Dialect::BigQuery => format!("TO_JSON_STRING(JSON_OBJECT({args}))"),
            Dialect::Snowflake => format!("TO_JSON(OBJECT_CONSTRUCT_KEEP_NULL({args}))"),
        }
    }

    /// The number of distinct non-null `value`s in the window `over` (`PARTITION BY ...`).
    pub fn distinct_count(self, value: &str, over: &str) -> String {
        match self {
            Dialect::DuckDb => format!("COUNT(DISTINCT {value}) OVER ({over})"),
            Dialect::Spark => format!("size(collect_set({value}) OVER ({over}))"),
            Dialect::BigQuery => {
                format!("ARRAY_LENGTH(ARRAY_AGG(DISTINCT {value} IGNORE NULLS) OVER ({over}))")
            }
            Dialect::Snowflake => format!("ARRAY_SIZE(ARRAY_UNIQUE_AGG({value}) OVER ({over}))"),
        }
    }
}

/// An SQL string literal.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

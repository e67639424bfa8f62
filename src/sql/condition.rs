//! GrowthBook conditions (already validated by the rule-set parser) as SQL predicates.
//!
//! Values are compared as the SQL engines read JSON: a property is its text (a string without
//! quotes, a number as written) and, for ordering operators, that text read as a number. This
//! matches JavaScript wherever a property has one JSON type throughout the history; where the
//! same property is sometimes the string "5" and sometimes the number 5, `$eq`, `$in` and
//! `$nin` (strict in JavaScript) treat the two alike in SQL. Operators whose meaning SQL
//! engines do not share (`$regex`, `$elemMatch`, `$size`, `$all`, `$type`, the semver
//! operators, `$inGroup`) are refused with the path of the operator.

use super::dialect::{quote, Dialect};
use super::SqlError;
use crate::error::{child_path, index_path};
use crate::json::Value;

/// What a value condition is applied to.
pub enum Actual<'a> {
    /// JSON text at a path (NULL when absent), as [`Dialect::json_text`] returns it.
    Text(&'a str),
    /// A number the query computed (a count, a sum, a ratio, days).
    Number(&'a str),
}

/// Resolves an attribute or property path (and its JSON path, for errors) to SQL text.
pub type Field<'f> = &'f mut dyn FnMut(&str, &str) -> Result<String, SqlError>;

pub struct Conditions<'f> {
    pub dialect: Dialect,
    /// The SQL text expression of an attribute or property path (`"plan"`, `"account.size"`).
    pub field: Option<Field<'f>>,
}

fn number(n: f64) -> String {
    Value::Number(n).to_json()
}

impl Conditions<'_> {
    /// A condition over an object's fields (`where`, `audience`, `traits`).
    pub fn object(&mut self, source: &Value, path: &str) -> Result<String, SqlError> {
        let Some(entries) = source.as_object() else {
            return Err(SqlError::new(path, "a condition here must be an object"));
        };
        let mut parts = Vec::new();
        for (key, value) in entries {
            let at = child_path(path, key);
            parts.push(match key.as_str() {
                "$and" | "$or" | "$nor" => {
                    let items = value.as_array().unwrap_or(&[]);
                    let mut inner = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        inner.push(self.object(item, &index_path(&at, i))?);
                    }
                    let joined = match key.as_str() {
                        "$and" => join(&inner, " AND ", "TRUE"),
                        _ => join(&inner, " OR ", "FALSE"),
                    };
                    if key == "$nor" {
                        format!("NOT ({joined})")
                    } else {
                        format!("({joined})")
                    }
                }
                "$not" => format!("NOT ({})", self.object(value, &at)?),
                k if k.starts_with('$') => return Err(unsupported(&at, k)),
                field => {
                    let Some(resolve) = self.field.as_mut() else {
                        return Err(SqlError::new(&at, "a comparison has no fields"));
                    };
                    let text = resolve(field, &at)?;
                    self.value(value, &Actual::Text(&text), &at)?
                }
            });
        }
        Ok(join(&parts, " AND ", "TRUE"))
    }

    /// A condition on one value: a literal (equality) or an object of operators.
    pub fn value(
        &self,
        condition: &Value,
        actual: &Actual,
        path: &str,
    ) -> Result<String, SqlError> {
        let operators = condition.as_object().filter(|entries| {
            !entries.is_empty() && entries.iter().all(|(k, _)| k.starts_with('$'))
        });
        let Some(entries) = operators else {
            return self.equals(condition, actual, path);
        };
        let mut parts = Vec::new();
        for (op, operand) in entries {
            let at = child_path(path, op);
            let part = match op.as_str() {
                "$eq" => self.equals(operand, actual, &at)?,
                "$ne" => format!("NOT ({})", self.equals(operand, actual, &at)?),
                "$gt" | "$gte" | "$lt" | "$lte" => {
                    let Some(n) = operand.as_f64() else {
                        return Err(SqlError::new(
                            &at,
                            &format!("{op} with a string compares text in JavaScript's order, which SQL engines do not share: compare with a number"),
                        ));
                    };
                    let sign = match op.as_str() {
                        "$gt" => ">",
                        "$gte" => ">=",
                        "$lt" => "<",
                        _ => "<=",
                    };
                    format!("COALESCE({} {sign} {}, FALSE)", self.numeric(actual), number(n))
                }
                "$in" | "$nin" => {
                    let items = operand.as_array().unwrap_or(&[]);
                    let mut any = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        any.push(self.equals(item, actual, &index_path(&at, i))?);
                    }
                    let any = join(&any, " OR ", "FALSE");
                    if op == "$in" {
                        format!("({any})")
                    } else {
                        format!("NOT ({any})")
                    }
                }
                "$exists" => {
                    let present = format!("{} IS NOT NULL", actual.sql());
                    if matches!(operand, Value::Bool(false)) {
                        format!("NOT ({present})")
                    } else {
                        present
                    }
                }
                "$not" => format!("NOT ({})", self.value(operand, actual, &at)?),
                other => return Err(unsupported(&at, other)),
            };
            parts.push(part);
        }
        Ok(join(&parts, " AND ", "TRUE"))
    }

    /// Equality with a literal; never NULL.
    fn equals(&self, literal: &Value, actual: &Actual, path: &str) -> Result<String, SqlError> {
        Ok(match (literal, actual) {
            (Value::String(s), Actual::Text(text)) => format!("COALESCE({text} = {}, FALSE)", quote(s)),
            (Value::String(_), Actual::Number(_)) => "FALSE".into(),
            (Value::Number(n), _) => {
                format!("COALESCE({} = {}, FALSE)", self.numeric(actual), number(*n))
            }
            (Value::Bool(b), Actual::Text(text)) => {
                format!("COALESCE({text} = '{b}', FALSE)")
            }
            (Value::Bool(_), Actual::Number(_)) => "FALSE".into(),
            _ => {
                return Err(SqlError::new(
                    path,
                    "only strings, numbers and booleans can be compared in SQL (not null, lists or objects)",
                ))
            }
        })
    }

    fn numeric(&self, actual: &Actual) -> String {
        match actual {
            Actual::Text(text) => self.dialect.to_double(text),
            Actual::Number(n) => (*n).to_string(),
        }
    }
}

impl Actual<'_> {
    fn sql(&self) -> &str {
        match self {
            Actual::Text(s) | Actual::Number(s) => s,
        }
    }
}

fn unsupported(path: &str, operator: &str) -> SqlError {
    SqlError::new(
        path,
        &format!("{operator} has no SQL translation with JavaScript's meaning (SQL supports $eq $ne $gt $gte $lt $lte $in $nin $exists $not $and $or $nor)"),
    )
}

fn join(parts: &[String], separator: &str, empty: &str) -> String {
    if parts.is_empty() {
        return empty.into();
    }
    parts.iter().map(|p| format!("({p})")).collect::<Vec<_>>().join(separator)
}

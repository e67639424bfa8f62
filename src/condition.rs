//! The Mongo-style condition language, evaluated with the semantics of GrowthBook's
//! `evalCondition` (`packages/sdk-js/src/mongrule.ts`), JavaScript coercions included: a rule set
//! written for GrowthBook must select the same users here.
//!
//! A [`Condition`] is validated and compiled in one walk when the rule set loads: operator
//! names become a tree of enum variants, literals and version operands are prepared ahead
//! (JSON text, padded versions), so an event pays no name lookups and text compares borrow
//! instead of allocating.
//!
//! Where GrowthBook's JavaScript would throw (a `null` condition, `$or` not given a list, ...) or
//! would only work by accident (a string walked as a list of characters), the whole condition
//! does not match; validation rejects those shapes before they can run.

use crate::error::{split_at_byte, ValidationError};
use crate::json::Value;
use crate::pages::wildcard_match;
use std::borrow::Cow;
use std::cell::Cell;
use std::cmp::Ordering;

mod compile;
mod javascript;

use compile::{condition, test};
use javascript::{
    js_string, padded_version, primitive_number, to_number, to_primitive, truthy, utf16_cmp,
};

/// Regular expressions come from the host: the browser's `RegExp` on wasm, the `regex` crate
/// in native tests.
pub trait RegexEngine {
    /// Whether `pattern` compiles with `flags` ("" or "i").
    fn is_valid(&self, pattern: &str, flags: &str) -> bool;
    fn is_match(&self, pattern: &str, flags: &str, text: &str) -> bool;

    /// An id of `pattern` with `flags`, compiled once by `is_valid`, for `is_match_id`: a
    /// condition keeps it and tests without looking the pattern up. The engine that compiled a
    /// rule set must be the one that runs it.
    fn id(&self, _pattern: &str, _flags: &str) -> Option<i32> {
        None
    }

    fn is_match_id(&self, _id: i32, _text: &str) -> bool {
        false
    }

    /// JavaScript's `text.toLowerCase()`, for `$ini`, `$nini` and `$alli`. Rust's
    /// `to_lowercase` applies the same Unicode mapping; the browser passes the host's own and
    /// spares the wasm Rust's case tables.
    fn lowercase(&self, text: &str) -> String {
        text.to_lowercase()
    }

    /// GrowthBook's `paddedVersionString` of a version's text, for `$veq` and friends. The
    /// browser runs GrowthBook's own regular expressions, which spares the wasm this port.
    fn pad_version(&self, text: &str) -> String {
        javascript::pad_version(text)
    }
}

/// What a condition needs besides the attributes.
pub struct Context<'a> {
    pub groups: &'a Value,
    pub regex: &'a dyn RegexEngine,
}

/// A compiled condition: over an object's fields (an audience, a `where`, `traits`), or a
/// condition *value* applied to one value (a signal's `{"$gte": 2}`). Two conditions are equal
/// when they were written the same.
/// Boxed: rule types holding conditions stay small to move.
#[derive(Debug)]
pub struct Condition(Box<(Value, Test)>);

impl Condition {
    /// Compiles a condition over an object's fields, pushing one error per problem with its
    /// JSON path (`path` is the condition's own, e.g. `rules[0].audience`; an error inside goes
    /// to e.g. `rules[0].audience.plan.$in`): unknown operator (`UnknownOperator`), operand of
    /// the wrong type (`InvalidType`, e.g. `$in` not an array, `$and` not an array of objects),
    /// bad regex (`InvalidRegex`, checked with `ctx.regex.is_valid`), `$inGroup` naming a group
    /// missing from `ctx.groups` (`UnknownGroup`). Messages name the operator and what was
    /// expected.
    pub fn new(
        source: Value,
        path: &str,
        ctx: &Context,
        errors: &mut Vec<ValidationError>,
    ) -> Self {
        let test = condition(&source, path, ctx, errors);
        Condition(Box::new((source, test)))
    }

    /// Same for a condition value such as the `count` of a signal (`{"$gte": 2}` or a bare
    /// literal).
    pub fn value(
        source: Value,
        path: &str,
        ctx: &Context,
        errors: &mut Vec<ValidationError>,
    ) -> Self {
        let test = test(&source, false, path, ctx, errors);
        Condition(Box::new((source, test)))
    }

    /// Does `v` (`None`: undefined) satisfy the condition? Never panics; malformed conditions
    /// do not match.
    pub fn matches(&self, v: Option<&Value>, ctx: &Context) -> bool {
        self.0 .1.eval(v, ctx).unwrap_or(false)
    }

    /// [`Condition::matches`] for a number (what a count or a sum measures): a condition of
    /// comparisons with numbers, such as `{"$gte": 3}`, is tested without the general walk.
    pub fn matches_number(&self, n: f64, ctx: &Context) -> bool {
        if let Test::List(tests, false, false) = &self.0 .1 {
            let mut holds = true;
            for test in tests {
                match test {
                    Test::Compare(relation, Value::Number(e)) => {
                        holds &= relation.holds(n.partial_cmp(e));
                    }
                    _ => return self.matches(Some(&Value::Number(n)), ctx),
                }
            }
            return holds;
        }
        self.matches(Some(&Value::Number(n)), ctx)
    }

    /// The smallest and largest numbers a condition value compares with, when it compares
    /// numbers only (`{"$gte": 3, "$lt": 10}`, `5`). It answers the same for any two amounts
    /// with no such number between them (or at either): an amount that moves outside the
    /// range leaves its answer as it was.
    pub fn number_range(&self) -> Option<(f64, f64)> {
        let tests = match &self.0 .1 {
            Test::List(tests, false, false) => tests.as_slice(),
            one => core::slice::from_ref(one),
        };
        let mut range = (f64::INFINITY, f64::NEG_INFINITY);
        for test in tests {
            let (Test::Compare(_, Value::Number(n))
            | Test::Equal(Value::Number(n), _)
            | Test::Number(n)) = test
            else {
                return None;
            };
            // Plain comparisons: a NaN operand (which never compares true) widens nothing.
            if *n < range.0 {
                range.0 = *n;
            }
            if *n > range.1 {
                range.1 = *n;
            }
        }
        Some(range)
    }

    /// The attributes a condition over an object reads, each the first segment of a dotted
    /// path (`account.company_size` reads `account`), pushed onto `out` (repeats possible):
    /// the engine re-evaluates the condition only when one of them changes.
    pub fn roots<'a>(&'a self, out: &mut Vec<&'a str>) {
        self.0 .1.roots(out)
    }

    /// The keys of a condition over an object, each a part tested on its own by
    /// [`Condition::part_matches`]: the condition holds when every part does, so a change of
    /// one attribute needs only the parts that read it tested again.
    pub fn parts(&self) -> usize {
        match &self.0 .1 {
            Test::List(tests, false, false) => tests.len(),
            _ => 1,
        }
    }

    fn part(&self, part: usize) -> &Test {
        match &self.0 .1 {
            Test::List(tests, false, false) => &tests[part],
            test => test,
        }
    }

    /// Whether part `part` (below [`Condition::parts`]) of a condition over an object holds.
    pub fn part_matches(&self, part: usize, v: Option<&Value>, ctx: &Context) -> bool {
        self.part(part).eval(v, ctx).unwrap_or(false)
    }

    /// [`Condition::roots`] of one part.
    pub fn part_roots<'a>(&'a self, part: usize, out: &mut Vec<&'a str>) {
        self.part(part).roots(out)
    }

    /// The condition as written, for explanations.
    pub fn source(&self) -> &Value {
        &self.0 .0
    }
}

impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.source() == other.source()
    }
}

/// Does `attributes` satisfy `condition`, unvalidated? Compiles it for this one evaluation.
pub fn eval_condition(source: &Value, attributes: &Value, ctx: &Context) -> bool {
    let test = condition(source, "", ctx, &mut Vec::new());
    test.eval(Some(attributes), ctx).unwrap_or(false)
}

// ---- Compiling and validating ----
//
// Evaluation returns `None` where GrowthBook would throw, so the fault reaches the top
// instead of being inverted by an enclosing `$not` / `$nor`. Keys and operators keep the
// order they were written in: a fault counts only if evaluation reaches it.

/// `evalCondition` (on an object) and `evalConditionValue` (on one value), operands prepared.
#[derive(Debug)]
enum Test {
    /// `value + "" === text`; lower-cased on both sides when the flag is set (`$alli`).
    Text(String, bool),
    /// `value * 1 === n`: "10" and [10] match 10, and so does a missing attribute 0.
    Number(f64),
    /// `value !== null && !!value === b`
    Bool(bool),
    Null,
    /// `JSON.stringify(value) === json`: key order matters.
    Json(String),
    /// Tests, any: with `any` one must pass (`$or`; an empty list passes, as in GrowthBook),
    /// otherwise none may fail (the keys of a condition, `$and`, an object of operators).
    /// The third flag negates (`$nor`).
    List(Vec<Test>, bool, bool),
    /// A condition's key: the attribute's dotted path, the test of its value, and where in the
    /// object the attribute was found last (`u32::MAX` for a dotted path). Attributes and
    /// event properties keep their order, so a lookup usually compares that one key.
    Field(String, Box<Test>, Cell<u32>),
    /// `$eq`, or `$ne` when negated.
    Equal(Value, bool),
    /// `$lt` ... `$gte`.
    Compare(Relation, Value),
    /// `$veq` ... `$vgte` against the padded operand.
    Version(Relation, String),
    /// `$exists`: whether the operand is truthy.
    Exists(bool),
    /// `$in` / `$ini` / `$nin` / `$nini`: list, insensitive, negated.
    In(Vec<Value>, bool, bool),
    /// `$inGroup`, or `$notInGroup` when negated: the group's name.
    Group(String, bool),
    Not(Box<Test>),
    Size(Box<Test>),
    /// `$elemMatch` with operators or with fields.
    ElemMatch(Box<Test>),
    /// `$elemMatch` with an operand that is not an object: a fault on arrays.
    ElemFault,
    /// `$all` / `$alli`: every test must hold for some element.
    ContainsAll(Vec<Test>),
    /// `$regex` / `$regexi`: pattern, flags, and its id in the engine that compiled it.
    Regex(String, &'static str, Option<i32>),
    /// A case-sensitive `$regex` that is plain text (escapes allowed, but no `*`), tested
    /// without a RegExp as the page pattern it amounts to: `Mobile` is `*Mobile*`, `^iOS` is
    /// `iOS*`, `Mobile$` is `*Mobile`.
    Literal(String),
    Type(String),
    /// An unknown operator, or an operand that never matches.
    Never,
    /// Not an object where a condition is expected, or `$or` / `$nor` / `$and` without a list.
    Fault,
}

/// Which orderings satisfy a comparison: bit 0 less, bit 1 equal, bit 2 greater.
#[derive(Clone, Copy, Debug)]
struct Relation(u8);

impl Relation {
    /// `$eq $ne $gt $gte $lt $lte`, the order of both `$gt`... and `$veq`... in `Op`.
    const ALL: [Relation; 6] = [
        Relation(0b010),
        Relation(0b101),
        Relation(0b100),
        Relation(0b110),
        Relation(0b001),
        Relation(0b011),
    ];

    /// `$gt` ... `$lte` and `$veq` ... `$vlte`.
    fn of(op: Op) -> Self {
        Relation::ALL[op as usize % Op::Veq as usize]
    }

    fn holds(self, ord: Option<Ordering>) -> bool {
        ord.is_some_and(|o| self.0 >> (o as i8 + 1) & 1 == 1)
    }
}

/// Every operator, for lookups and for the message that lists them; `Op` has the same order.
const OPERATORS: &str = "$eq $ne $gt $gte $lt $lte $in $nin $ini $nini $all $alli $elemMatch \
$size $exists $type $regex $regexi $not $veq $vne $vgt $vgte $vlt $vlte $inGroup $notInGroup";

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    Nin,
    Ini,
    Nini,
    All,
    Alli,
    ElemMatch,
    Size,
    Exists,
    Type,
    Regex,
    Regexi,
    Not,
    Veq,
    Vne,
    Vgt,
    Vgte,
    Vlt,
    Vlte,
    InGroup,
    NotInGroup,
}

impl Op {
    const ALL: [Op; 27] = [
        Op::Eq,
        Op::Ne,
        Op::Gt,
        Op::Gte,
        Op::Lt,
        Op::Lte,
        Op::In,
        Op::Nin,
        Op::Ini,
        Op::Nini,
        Op::All,
        Op::Alli,
        Op::ElemMatch,
        Op::Size,
        Op::Exists,
        Op::Type,
        Op::Regex,
        Op::Regexi,
        Op::Not,
        Op::Veq,
        Op::Vne,
        Op::Vgt,
        Op::Vgte,
        Op::Vlt,
        Op::Vlte,
        Op::InGroup,
        Op::NotInGroup,
    ];

    /// One lookup in `OPERATORS` instead of a string comparison per operator.
    fn named(name: &str) -> Option<Op> {
        // Attribute names (most keys) are told apart at their first byte.
        if !name.starts_with("$") {
            return None;
        }
        // One pass over the list, comparing each word in place: splitting it through a
        // separator function was a fifth of compiling 1000 rules.
        let (list, name) = (OPERATORS.as_bytes(), name.as_bytes());
        let (mut start, mut index) = (0, 0);
        for end in 0..=list.len() {
            if list.get(end).is_none_or(|&b| b == b' ') {
                if list.get(start..end) == Some(name) {
                    return Op::ALL.get(index).copied();
                }
                (start, index) = (end + 1, index + 1);
            }
        }
        None
    }
}

// ---- Evaluation ----

static NULL: Value = Value::Null;

/// GrowthBook's `getPath`: a missing attribute is `null` (not undefined).
fn get_path<'a>(obj: &'a Value, path: &str) -> Cow<'a, Value> {
    obj.get_path(path).unwrap_or(Cow::Borrowed(&NULL))
}

fn field(path: &str, test: Test) -> Test {
    let last = if path.bytes().any(|b| b == b'.') { u32::MAX } else { 0 };
    Test::Field(path.to_string(), Box::new(test), Cell::new(last))
}

/// [`get_path`] for a [`Test::Field`], trying first where the attribute was found last.
fn attribute<'a>(obj: &'a Value, path: &str, last: &Cell<u32>) -> Cow<'a, Value> {
    match obj {
        Value::Object(entries) if last.get() != u32::MAX => {
            if let Some((key, value)) = entries.get(last.get() as usize) {
                if key == path {
                    return Cow::Borrowed(value);
                }
            }
            match entries.iter().position(|(key, _)| key == path) {
                Some(at) => {
                    last.set(at as u32);
                    Cow::Borrowed(&entries[at].1)
                }
                None => Cow::Borrowed(&NULL),
            }
        }
        _ => get_path(obj, path),
    }
}

impl Test {
    /// See [`Condition::roots`]: only the keys of a condition object, `$and` / `$or` / `$nor`
    /// and `$not` reach attributes; the tests under a key see that key's value.
    fn roots<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Test::List(tests, ..) => tests.iter().for_each(|t| t.roots(out)),
            Test::Not(t) => t.roots(out),
            Test::Field(path, ..) => out.push(split_at_byte(path, |b| b == b'.').0),
            _ => {}
        }
    }

    fn eval(&self, v: Option<&Value>, ctx: &Context) -> Option<bool> {
        Some(match self {
            Test::Text(s, false) => js_string(v) == s.as_str(),
            Test::Number(n) => to_number(v) == *n,
            Test::Bool(b) => v != Some(&Value::Null) && truthy(v) == *b,
            Test::Null => v == Some(&Value::Null),
            Test::List(tests, any, negated) => {
                // Stops at the first test that decides: a pass for `any`, a failure otherwise.
                let mut decided = false;
                for t in tests {
                    if t.eval(v, ctx)? == *any {
                        decided = true;
                        break;
                    }
                }
                (tests.is_empty() || decided == *any) != *negated
            }
            // Conditions are only evaluated on objects: `v` is never undefined here.
            Test::Field(path, t, last) => t.eval(Some(&attribute(v?, path, last)), ctx)?,
            Test::Equal(e, negated) => v.is_some_and(|a| strict_eq(a, e, false)) != *negated,
            // The abstract relational comparison behind `<`: text against text compares
            // UTF-16 code units, anything else compares as numbers (never when one is NaN).
            Test::Compare(relation, e) => match (v, e) {
                // Two numbers, the common case (every count signal), compare directly.
                (Some(Value::Number(a)), Value::Number(e)) => relation.holds(a.partial_cmp(e)),
                _ => return self.eval_rare(v, ctx),
            },
            // Loose `!= null`: a missing attribute and an explicit null both "do not exist".
            Test::Exists(e) => *e == !matches!(v, None | Some(Value::Null)),
            Test::In(list, insensitive, negated) => is_in(v, list, *insensitive, ctx) != *negated,
            Test::Not(t) => !t.eval(v, ctx)?,
            // `RegExp.test` turns its argument into a string: `null` is tested as "null".
            Test::Regex(pattern, flags, id) => match id {
                Some(id) => ctx.regex.is_match_id(*id, &js_string(v)),
                None => ctx.regex.is_match(pattern, flags, &js_string(v)),
            },
            // Bytes, not `str::contains`: a `&str` pattern brings the Two-Way searcher into
            // the wasm. Byte-wise is exact for UTF-8, as in `pages`.
            Test::Literal(glob) => wildcard_match(glob.as_bytes(), js_string(v).as_bytes()),
            _ => return self.eval_rare(v, ctx),
        })
    }

    /// The tests [`Test::eval`] leaves out: kept apart so that the function every condition
    /// runs stays small for the browser's optimising compiler, which compiles what is hot
    /// while the page runs (Test::eval took as long to compile as the JSON parser nine times).
    #[inline(never)]
    fn eval_rare(&self, v: Option<&Value>, ctx: &Context) -> Option<bool> {
        Some(match self {
            Test::Text(s, true) => ctx.regex.lowercase(&js_string(v)) == ctx.regex.lowercase(s),
            Test::Json(json) => v.is_some_and(|v| v.to_json() == *json),
            Test::Version(relation, e) => {
                relation.holds(Some(utf16_cmp(&padded_version(v, ctx.regex), e)))
            }
            Test::Group(name, negated) => {
                // `savedGroups[expected] || []`
                let group = match ctx.groups.get(name) {
                    Some(Value::Array(list)) => list.as_slice(),
                    Some(g) if truthy(Some(g)) => return None,
                    _ => &[],
                };
                is_in(v, group, false, ctx) != *negated
            }
            Test::Size(t) => match v {
                Some(Value::Array(items)) => {
                    t.eval(Some(&Value::Number(items.len() as f64)), ctx)?
                }
                _ => false,
            },
            // Only arrays match, and GrowthBook skips falsy elements (0, "", false, null).
            Test::ElemMatch(t) => match v {
                Some(Value::Array(items)) => {
                    for item in items {
                        if truthy(Some(item)) && t.eval(Some(item), ctx)? {
                            return Some(true);
                        }
                    }
                    false
                }
                _ => false,
            },
            Test::ElemFault => {
                return if matches!(v, Some(Value::Array(_))) { None } else { Some(false) }
            }
            Test::ContainsAll(expected) => match v {
                Some(Value::Array(items)) => {
                    for x in expected {
                        let mut found = false;
                        for y in items {
                            if x.eval(Some(y), ctx)? {
                                found = true;
                                break;
                            }
                        }
                        if !found {
                            return Some(false);
                        }
                    }
                    true
                }
                _ => false,
            },
            Test::Type(t) => t == v.map_or("undefined", Value::type_name),
            Test::Never => false,
            Test::Fault => return None,
            // The abstract relational comparison behind `<`: text against text compares
            // UTF-16 code units, anything else compares as numbers (never when one is NaN).
            Test::Compare(relation, e) => {
                relation.holds(match (to_primitive(v), to_primitive(Some(e))) {
                    (Ok(a), Ok(e)) => Some(utf16_cmp(&a, &e)),
                    (a, e) => primitive_number(a).partial_cmp(&primitive_number(e)),
                })
            }
            _ => return None,
        })
    }
}

/// `===` between JSON values; objects and arrays are never identical. `nan_eq` gives the
/// SameValueZero of `Array.prototype.includes`.
fn strict_eq(x: &Value, y: &Value, nan_eq: bool) -> bool {
    match (x, y) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Number(a), Value::Number(b)) => a == b || nan_eq && a.is_nan() && b.is_nan(),
        (Value::String(a), Value::String(b)) => a == b,
        _ => false,
    }
}

/// `isIn`: an array attribute matches when any of its elements is in the list.
fn is_in(a: Option<&Value>, list: &[Value], insensitive: bool, ctx: &Context) -> bool {
    let has = |x: &Value| match x {
        // The attribute is lowercased once, not once per element of the list.
        Value::String(p) if insensitive => {
            let p = ctx.regex.lowercase(p);
            list.iter().any(|y| matches!(y, Value::String(q) if ctx.regex.lowercase(q) == p))
        }
        _ => list.iter().any(|y| strict_eq(x, y, !insensitive)),
    };
    match a {
        Some(Value::Array(items)) => items.iter().any(has),
        Some(x) => has(x),
        None => false,
    }
}

#[cfg(test)]
mod tests;

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

use crate::error::{
    child_path, index_path, join, split_at_byte, ByteSplit, ErrorCode, ValidationError,
};
use crate::json::Value;
use crate::pages::wildcard_match;
use std::borrow::Cow;
use std::cell::Cell;
use std::cmp::Ordering;

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

const TYPES: &str = "string number boolean array object null undefined";
const LIST_OF_CONDITIONS: &str =
    "a list of conditions such as [{\"plan\": \"pro\"}, {\"seats\": {\"$gte\": 5}}]";

fn push(
    errors: &mut Vec<ValidationError>,
    code: ErrorCode,
    path: String,
    message: impl FnOnce() -> String,
) {
    ValidationError::report(errors, code, &path, message);
}

fn described(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn wrong_type(
    errors: &mut Vec<ValidationError>,
    path: String,
    op: &str,
    expected: &str,
    got: &Value,
) {
    push(errors, ErrorCode::InvalidType, path, || {
        join(&["`", op, "` expects ", expected, ", not ", described(got), "."])
    });
}

/// A condition object: each key tests the whole object.
fn condition(source: &Value, path: &str, ctx: &Context, errors: &mut Vec<ValidationError>) -> Test {
    let Some(entries) = source.as_object() else {
        push(errors, ErrorCode::InvalidType, path.into(), || {
            let got = described(source);
            join(&["A condition must be an object such as {\"plan\": \"pro\"}, not ", got, "."])
        });
        return Test::Fault;
    };
    let mut keys = Vec::with_capacity(entries.len());
    for (key, v) in entries {
        let p = child_path(path, key);
        keys.push(match key.as_str() {
            "$and" | "$or" | "$nor" => match v.as_array() {
                Some(list) => {
                    let mut conditions = Vec::with_capacity(list.len());
                    for (i, c) in list.iter().enumerate() {
                        conditions.push(condition(c, &index_path(&p, i), ctx, errors));
                    }
                    Test::List(conditions, key != "$and", key == "$nor")
                }
                None => {
                    wrong_type(errors, p, key, LIST_OF_CONDITIONS, v);
                    Test::Fault
                }
            },
            "$not" => Test::Not(Box::new(condition(v, &p, ctx, errors))),
            // Other `$` keys are attribute names for GrowthBook (`$groups`), but a comparison
            // operator here is surely misplaced. Its operand is not checked: one error says it.
            k if Op::named(k).is_some() => {
                let why = "` compares one attribute, so it belongs under an attribute name, e.g. ";
                let code = ErrorCode::UnknownOperator;
                push(errors, code, p.clone(), || {
                    join(&["`", k, why, "{\"plan\": {\"", k, "\": ...}}."])
                });
                field(key, test(v, false, &p, ctx, &mut Vec::new()))
            }
            _ => field(key, test(v, false, &p, ctx, errors)),
        });
    }
    Test::List(keys, false, false)
}

/// A condition value; `insensitive` only affects string literals (used by `$alli`).
fn test(
    source: &Value,
    insensitive: bool,
    path: &str,
    ctx: &Context,
    errors: &mut Vec<ValidationError>,
) -> Test {
    let entries = match source {
        Value::String(s) => return Test::Text(s.clone(), insensitive),
        Value::Number(n) => return Test::Number(*n),
        Value::Bool(b) => return Test::Bool(*b),
        Value::Null => return Test::Null,
        Value::Array(_) => return Test::Json(source.to_json()),
        Value::Object(entries) => entries,
    };
    if is_operator_object(entries) {
        let mut ops = Vec::with_capacity(entries.len());
        for (name, e) in entries {
            ops.push(operator(name, e, &child_path(path, name), ctx, errors));
        }
        return Test::List(ops, false, false);
    }
    // An object without `$` keys is a literal compared as a whole; a mix is almost surely a slip.
    if let (Some((op, _)), Some((field, _))) = (
        entries.iter().find(|(k, _)| k.starts_with("$")),
        entries.iter().find(|(k, _)| !k.starts_with("$")),
    ) {
        push(errors, ErrorCode::InvalidValue, path.into(), || {
            join(&[
                "This mixes the operator `",
                op,
                "` with the plain field \"",
                field,
                "\"; use either operators only, such as {\"$gte\": 2}, or a plain value.",
            ])
        });
    }
    Test::Json(source.to_json())
}

fn is_operator_object(entries: &[(String, Value)]) -> bool {
    !entries.is_empty() && entries.iter().all(|(k, _)| k.starts_with("$"))
}

fn operator(
    name: &str,
    e: &Value,
    path: &str,
    ctx: &Context,
    errors: &mut Vec<ValidationError>,
) -> Test {
    let p = || path.to_string();
    let Some(op) = Op::named(name) else {
        push(errors, ErrorCode::UnknownOperator, p(), || match name {
            "$and" | "$or" | "$nor" => join(&[
                "`",
                name,
                "` combines whole conditions, so it cannot sit under an attribute; write e.g. {\"",
                name,
                "\": [{\"plan\": \"pro\"}, {\"seats\": {\"$gte\": 5}}]}.",
            ]),
            _ => join(&["`", name, "` is not a known operator. Use one of: ", OPERATORS, "."]),
        });
        return Test::Never;
    };
    match op {
        Op::Eq | Op::Ne | Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
            if matches!(e, Value::Array(_) | Value::Object(_)) {
                wrong_type(errors, p(), name, "a single value such as 10 or \"pro\"", e);
            }
            match op {
                Op::Eq | Op::Ne => Test::Equal(e.clone(), op == Op::Ne),
                _ => Test::Compare(Relation::of(op), e.clone()),
            }
        }
        Op::Veq | Op::Vne | Op::Vgt | Op::Vgte | Op::Vlt | Op::Vlte => {
            if !matches!(e, Value::String(_) | Value::Number(_)) {
                wrong_type(errors, p(), name, "a version such as \"1.2.3\"", e);
            }
            Test::Version(Relation::of(op), padded_version(Some(e)))
        }
        Op::In | Op::Nin | Op::Ini | Op::Nini | Op::All | Op::Alli => {
            let Some(items) = e.as_array() else {
                wrong_type(errors, p(), name, "a list of values such as [\"free\", \"trial\"]", e);
                return Test::Never;
            };
            let insensitive = matches!(op, Op::Ini | Op::Nini | Op::Alli);
            if matches!(op, Op::All | Op::Alli) {
                let mut tests = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    tests.push(test(item, insensitive, &index_path(path, i), ctx, errors));
                }
                return Test::ContainsAll(tests);
            }
            Test::In(items.to_vec(), insensitive, matches!(op, Op::Nin | Op::Nini))
        }
        Op::Exists => {
            if !matches!(e, Value::Bool(_)) {
                wrong_type(errors, p(), name, "true or false", e);
            }
            Test::Exists(truthy(Some(e)))
        }
        Op::Type => match e.as_str() {
            Some(t) => {
                if !ByteSplit::new(TYPES, |b| b == b' ').any(|x| x == t) {
                    push(errors, ErrorCode::InvalidValue, p(), || {
                        join(&["`$type` must be one of: ", TYPES, "."])
                    });
                }
                Test::Type(t.into())
            }
            None => {
                wrong_type(errors, p(), name, "a type name such as \"string\"", e);
                Test::Never
            }
        },
        Op::Regex | Op::Regexi => match e.as_str() {
            Some(pattern) => {
                let flags = if op == Op::Regexi { "i" } else { "" };
                if flags.is_empty() {
                    if let Some(glob) = plain_literal(pattern) {
                        return Test::Literal(glob);
                    }
                }
                if !ctx.regex.is_valid(pattern, flags) {
                    push(errors, ErrorCode::InvalidRegex, p(), || {
                        join(&[
                            "`",
                            name,
                            "` pattern \"",
                            pattern,
                            "\" is not a valid regular expression.",
                        ])
                    });
                }
                Test::Regex(pattern.into(), flags, ctx.regex.id(pattern, flags))
            }
            None => {
                wrong_type(errors, p(), name, "a regular expression written as text", e);
                Test::Never
            }
        },
        Op::Not => Test::Not(Box::new(test(e, false, path, ctx, errors))),
        Op::Size => Test::Size(Box::new(test(e, false, path, ctx, errors))),
        Op::ElemMatch => match e {
            Value::Object(entries) if is_operator_object(entries) => {
                Test::ElemMatch(Box::new(test(e, false, path, ctx, errors)))
            }
            Value::Object(_) => Test::ElemMatch(Box::new(condition(e, path, ctx, errors))),
            _ => {
                let expected = "a condition such as {\"$gt\": 10} or {\"name\": \"pro\"}";
                wrong_type(errors, p(), name, expected, e);
                Test::ElemFault
            }
        },
        Op::InGroup | Op::NotInGroup => {
            match e.as_str() {
                Some(g) => {
                    if ctx.groups.get(g).is_none() {
                        push(errors, ErrorCode::UnknownGroup, p(), || {
                            join(&["There is no group named \"", g, "\" in `groups`."])
                        });
                    }
                }
                None => wrong_type(errors, p(), name, "the name of a group from `groups`", e),
            }
            Test::Group(js_string(Some(e)).into(), op == Op::NotInGroup)
        }
    }
}

/// The page pattern (see `pages`) a `$regex` amounts to when it is plain text: what a
/// "contains" becomes (letters, digits, spaces, `\.`-style escapes of punctuation), optionally
/// anchored by a leading `^` and a trailing `$`; `None` when it uses any other RegExp syntax or
/// matches a `*`. Without the `m` flag `^` and `$` match only at the ends of the input, so the
/// answer is the one JavaScript's RegExp gives.
fn plain_literal(pattern: &str) -> Option<String> {
    // Byte by byte (every byte that matters is ASCII): char patterns would bring std's
    // searcher into the wasm.
    let bytes = pattern.as_bytes();
    let start = bytes.first() == Some(&b'^');
    let mut body = &bytes[usize::from(start)..];
    // A trailing `$` anchors unless it is escaped, i.e. preceded by an odd run of `\`.
    if let [before @ .., b'$'] = body {
        if before.iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 0 {
            body = before;
        }
    }
    let end = body.len() + usize::from(start) < bytes.len();
    let mut glob = Vec::with_capacity(body.len() + 2);
    if !start {
        glob.push(b'*');
    }
    let mut rest = body.iter();
    while let Some(&b) = rest.next() {
        match b {
            b'\\' => match *rest.next()? {
                e @ (b'^' | b'$' | b'\\' | b'.' | b'+' | b'?' | b'(' | b')' | b'[' | b']'
                | b'{' | b'}' | b'|' | b'/' | b'-') => glob.push(e),
                _ => return None,
            },
            b'^' | b'$' | b'.' | b'*' | b'+' | b'?' | b'(' | b')' | b'[' | b']' | b'{' | b'}'
            | b'|' => return None,
            b => glob.push(b),
        }
    }
    if !end {
        glob.push(b'*');
    }
    // SAFETY: only ASCII bytes were dropped from valid UTF-8 or added, so it still is.
    Some(unsafe { String::from_utf8_unchecked(glob) })
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
            Test::Version(relation, e) => relation.holds(Some(utf16_cmp(&padded_version(v), e))),
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

fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => *n != 0.0 && !n.is_nan(),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// JavaScript's `String(v)`; text is borrowed, not copied.
fn js_string(v: Option<&Value>) -> Cow<'_, str> {
    // Borrowed where the text exists already: a missing attribute is tested as "undefined"
    // by every `$regex` that reads it, at every evaluation.
    match v {
        Some(Value::String(s)) => return Cow::Borrowed(s),
        None => return Cow::Borrowed("undefined"),
        Some(Value::Null) => return Cow::Borrowed("null"),
        _ => {}
    }
    let mut out = String::new();
    write_js_string(v, &mut out);
    Cow::Owned(out)
}

fn write_js_string(v: Option<&Value>, out: &mut String) {
    match v {
        None => out.push_str("undefined"),
        Some(Value::Null) => out.push_str("null"),
        Some(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::Number(n)) => js_number(*n, out),
        Some(Value::String(s)) => out.push_str(s),
        // `Array.prototype.join`: null elements become empty.
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !item.is_null() {
                    write_js_string(Some(item), out);
                }
            }
        }
        Some(Value::Object(_)) => out.push_str("[object Object]"),
    }
}

/// `Number.prototype.toString()`: exponent notation outside [1e-6, 1e21).
fn js_number(n: f64, out: &mut String) {
    let a = n.abs();
    if n.is_nan() {
        out.push_str("NaN");
    } else if a.is_infinite() {
        out.push_str(if n < 0.0 { "-Infinity" } else { "Infinity" });
    } else {
        crate::number::write_shortest(out, n);
    }
}

/// `ToPrimitive`: strings, arrays and objects become text, everything else a number.
fn to_primitive(v: Option<&Value>) -> Result<Cow<'_, str>, f64> {
    match v {
        Some(Value::String(s)) => Ok(Cow::Borrowed(s)),
        Some(Value::Array(_) | Value::Object(_)) => Ok(js_string(v)),
        None => Err(f64::NAN),
        Some(Value::Null) => Err(0.0),
        Some(Value::Bool(b)) => Err(if *b { 1.0 } else { 0.0 }),
        Some(Value::Number(n)) => Err(*n),
    }
}

fn primitive_number(p: Result<Cow<'_, str>, f64>) -> f64 {
    match p {
        Ok(s) => str_to_number(&s),
        Err(n) => n,
    }
}

fn to_number(v: Option<&Value>) -> f64 {
    primitive_number(to_primitive(v))
}

/// JavaScript's order of strings (by UTF-16 code units), from their UTF-8 bytes. The first
/// byte that differs is a lead byte (or a later byte of two characters of one length), and
/// UTF-8 orders as code points do, but for one thing: in UTF-16 a character past U+FFFF (a
/// lead byte from F0) is a surrogate pair, D800-DBFF, so it sorts before U+E000-U+FFFF (EE
/// and EF) and after everything below. Without `encode_utf16`'s decoder in the runtime.
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    let rank = |byte: u8| if byte >= 0xf0 { 0xed * 2 + 1 } else { u16::from(byte) * 2 };
    for (&x, &y) in a.as_bytes().iter().zip(b.as_bytes()) {
        if x != y {
            return rank(x).cmp(&rank(y)).then(x.cmp(&y));
        }
    }
    a.len().cmp(&b.len())
}

/// JavaScript's `Number(text)`: in the page, its own.
#[cfg(target_arch = "wasm32")]
fn str_to_number(s: &str) -> f64 {
    crate::web::host::number_value(s)
}

/// JavaScript's `Number(text)`.
#[cfg(not(target_arch = "wasm32"))]
fn str_to_number(s: &str) -> f64 {
    let t = s.trim_matches(|c: char| c.is_whitespace() && c != '\u{85}' || c == '\u{feff}');
    if t.is_empty() {
        return 0.0;
    }
    let radix = match t.get(..2) {
        Some("0x" | "0X") => 16,
        Some("0o" | "0O") => 8,
        Some("0b" | "0B") => 2,
        _ => 10,
    };
    if radix != 10 {
        let digits = &t[2..];
        let mut n = 0.0;
        // Byte by byte: a byte of a non-ASCII character is no digit, as the character is not.
        for b in digits.bytes() {
            match char::from(b).to_digit(radix) {
                Some(d) => n = n * radix as f64 + d as f64,
                None => return f64::NAN,
            }
        }
        return if digits.is_empty() { f64::NAN } else { n };
    }
    match t.strip_prefix(['+', '-']).unwrap_or(t) {
        "Infinity" if t.starts_with("-") => f64::NEG_INFINITY,
        "Infinity" => f64::INFINITY,
        // Rust's parser also reads "inf" and "NaN", which JavaScript does not.
        _ if t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) => {
            crate::number::parse_decimal(t).unwrap_or(f64::NAN)
        }
        _ => f64::NAN,
    }
}

/// GrowthBook's `paddedVersionString`: "v1.2.3+build" -> "    1-    2-    3-~", so that plain
/// string comparison orders versions (numeric parts padded, "~" sorting after pre-releases).
fn padded_version(v: Option<&Value>) -> String {
    let input = match v {
        Some(Value::Number(n)) => {
            let mut s = String::new();
            js_number(*n, &mut s);
            s
        }
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => "0".into(),
    };
    let s = input.strip_prefix("v").unwrap_or(&input);
    // `/\+.*$/`: `.` stops at line breaks, so only a '+' after the last one counts.
    // Past the whole break: U+2028 and U+2029 are three bytes (slicing at `i + 1` trapped).
    // Byte-wise: U+2028 and U+2029 end in A8 and A9 after E2 80.
    let bytes = s.as_bytes();
    let line = (0..bytes.len())
        .rev()
        .find(|&i| match bytes[i] {
            b'\n' | b'\r' => true,
            0xa8 | 0xa9 => i >= 2 && bytes[i - 2..i] == [0xe2, 0x80],
            _ => false,
        })
        .map_or(0, |i| i + 1);
    let s = match s[line..].bytes().position(|b| b == b'+') {
        Some(i) => &s[..line + i],
        None => s,
    };
    // Walked twice rather than collected: a `Vec<&str>` of the parts is an instance of its own.
    let parts = || ByteSplit::new(s, |b| b == b'-' || b == b'.');
    let mut out = String::new();
    for (i, part) in parts().enumerate() {
        if i > 0 {
            out.push('-');
        }
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            for _ in part.len()..5 {
                out.push(' ');
            }
        }
        out.push_str(part);
    }
    if parts().count() == 3 {
        out.push_str("-~");
    }
    out
}

#[cfg(test)]
mod tests {
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

    use super::*;
    use crate::json::parse;

    #[test]
    fn versions_with_unicode_line_breaks_are_read_as_javascript_reads_them() {
        let version = |text: &str| padded_version(Some(&Value::String(text.into())));
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
        assert!(
            ev(r#"{"n": {"$gt": "5"}}"#, r#"{"n": 8}"#),
            "number against text compares numbers"
        );
        assert!(ev(r#"{"s": {"$lt": "9"}}"#, r#"{"s": "10"}"#), "text against text compares text");
        assert!(ev(r#"{"s": {"$gte": "B"}}"#, r#"{"s": "a"}"#));
        assert!(ev(r#"{"n": {"$gt": -1}}"#, "{}"), "missing is null, which compares as 0");
        assert!(ev(r#"{"n": {"$lt": 1}}"#, r#"{"n": false}"#));
        assert!(ev(r#"{"n": {"$gte": 2}}"#, r#"{"n": [3]}"#));
        assert!(!ev(r#"{"n": {"$lt": 5}}"#, r#"{"n": "abc"}"#));
        assert!(
            !ev(r#"{"n": {"$gte": 5}}"#, r#"{"n": "abc"}"#),
            "NaN is neither smaller nor larger"
        );
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
                ev(
                    &["{\"a\": {\"$type\": \"", ty, "\"}}"].concat(),
                    &["{\"a\": ", attr, "}"].concat()
                ),
                "{ty}"
            );
        }
        assert!(
            ev(r#"{"a": {"$type": "null"}}"#, "{}"),
            "missing attributes are null, not undefined"
        );
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
        assert!(
            !ev(r#"{"$or": [{"plan": "pro"}], "seats": 1}"#, attrs),
            "siblings of $or still count"
        );
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
        assert!(
            ev(r#"{"a": {"$not": {"$unknown": 1}}}"#, "{}"),
            "an unknown operator is just false"
        );
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
        assert_eq!(padded_version(Some(&json("\"v1.2.3+build.7\""))), "    1-    2-    3-~");
        assert_eq!(padded_version(Some(&json("\"1.0.0-rc.1\""))), "    1-    0-    0-rc-    1");
        assert_eq!(padded_version(Some(&json("123456"))), "123456");
        assert_eq!(padded_version(Some(&json("2.5"))), "    2-    5");
        assert_eq!(padded_version(Some(&json("\"\""))), "    0");
        assert_eq!(padded_version(Some(&json("true"))), "    0");
        assert_eq!(padded_version(None), "    0");
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
        for s in ["inf", "NaN", "infinity", "1e", ".", "-0x1", "0x", "1_0", "e5", "\u{85}1", "12px"]
        {
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
            errors(
                r#"{"id": {"$inGroup": "gamma", "$notInGroup": "beta"}, "x": {"$notInGroup": 1}}"#
            ),
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
        let messages: Vec<_> =
            errors.iter().map(|e| (e.path.as_str(), e.message.as_str())).collect();
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
}

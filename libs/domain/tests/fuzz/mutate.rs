//! Mutations of seed inputs, as proptest values (so that failures shrink to the fewest and
//! smallest mutations):
//!
//! - [`ByteOp`]: bit flips, byte sets, inserts of random bytes or of syntax tokens of JSON,
//!   Markdown and wiki markup, deletes, repeats (huge inputs), splices from another seed,
//!   truncation. The result may be invalid UTF-8.
//! - [`JsonOp`]: structure-aware changes of a JSON value: replace a node by a scalar of any
//!   type, change a node's type, deepen it by up to 200 levels, drop or duplicate keys, huge and
//!   odd Unicode strings, and values written at the paths webhook and queue parsers read.
//!
//! Shared by the fuzz tests of several crates (included with `#[path]`): depends on proptest and
//! serde_json only.

#![allow(dead_code)] // Each fuzz test uses its own part.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};

/// Syntax that parsers of JSON, Markdown, wiki markup and webhook fields react to.
pub const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "\\",
    "\\u0000",
    "\\ud800",
    "\\udfff\\ud800",
    "null",
    "true",
    "1e999",
    "-0",
    "-1",
    "18446744073709551616",
    "9223372036854775807",
    "1.5e-400",
    "\u{feff}",
    "\u{0}",
    "\r",
    "\r\n",
    "\n\n",
    "\t",
    " ",
    "```",
    "~~~",
    "`",
    "{code}",
    "{code:rust}",
    "{quote}",
    "{noformat}",
    "bq. ",
    "[~",
    "[~accountid:",
    "](",
    "](<",
    ")",
    "|",
    "**",
    "__",
    "~~",
    "*",
    "_",
    "+",
    "-",
    "----",
    "---",
    "h1. ",
    "h6.",
    "# ",
    "###### ",
    "> ",
    ">>>>",
    "- ",
    "* ",
    "** ",
    "#* ",
    "1. ",
    "99999999999. ",
    "1) ",
    "&#92;",
    "&#x110000;",
    "&#0;",
    "&#xD800;",
    "&amp;",
    "&",
    "{{",
    "}}",
    "{*}",
    "\\\\",
    "  \n",
    "\\\n",
    "\u{200b}",
    "\u{200f}",
    "\u{2028}",
    "\u{a0}",
    "é",
    "\u{301}",
    "🦀",
    "jira:issue_updated",
    "comment_created",
    "webhookEvent",
    "ABC-1",
    "/issue/10013/comment/10082",
    "employee_update",
];

/// One change of a byte string; positions are relative, so a value applies to any input.
#[derive(Debug, Clone)]
pub enum ByteOp {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, Vec<u8>),
    Token(Index, Index),
    Delete(Index, usize),
    /// Repeats a slice (of up to 64 bytes) up to 2000 times: huge inputs.
    Repeat(Index, usize, usize),
    /// Inserts a slice of another seed.
    Splice(Index, Index, Index, usize),
    Truncate(Index),
}

pub fn byte_op() -> impl Strategy<Value = ByteOp> {
    prop_oneof![
        3 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| ByteOp::Flip(i, b)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| ByteOp::Set(i, b)),
        2 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, b)| ByteOp::Insert(i, b)),
        4 => (any::<Index>(), any::<Index>()).prop_map(|(i, t)| ByteOp::Token(i, t)),
        2 => (any::<Index>(), 1usize..64).prop_map(|(i, n)| ByteOp::Delete(i, n)),
        1 => (any::<Index>(), 1usize..64, 2usize..2000)
            .prop_map(|(i, len, times)| ByteOp::Repeat(i, len, times)),
        2 => (any::<Index>(), any::<Index>(), any::<Index>(), 1usize..256)
            .prop_map(|(at, seed, from, len)| ByteOp::Splice(at, seed, from, len)),
        1 => any::<Index>().prop_map(ByteOp::Truncate),
    ]
}

/// Up to `max` byte mutations.
pub fn byte_ops(max: usize) -> impl Strategy<Value = Vec<ByteOp>> {
    prop::collection::vec(byte_op(), 0..=max)
}

/// A position in `0..=len`.
fn pos(index: &Index, len: usize) -> usize {
    index.index(len + 1)
}

/// Applies `ops` to `input`; `corpus` feeds splices.
pub fn apply_bytes(mut input: Vec<u8>, ops: &[ByteOp], corpus: &[Vec<u8>]) -> Vec<u8> {
    for op in ops {
        let len = input.len();
        match op {
            ByteOp::Flip(i, bit) if len > 0 => input[i.index(len)] ^= 1 << (bit % 8),
            ByteOp::Set(i, byte) if len > 0 => input[i.index(len)] = *byte,
            ByteOp::Insert(i, bytes) => {
                let at = pos(i, len);
                input.splice(at..at, bytes.iter().copied());
            }
            ByteOp::Token(i, t) => {
                let at = pos(i, len);
                input.splice(at..at, t.get(TOKENS).bytes());
            }
            ByteOp::Delete(i, n) if len > 0 => {
                let at = i.index(len);
                input.drain(at..(at + n).min(len));
            }
            ByteOp::Repeat(i, n, times) if len > 0 => {
                let at = i.index(len);
                let slice = input[at..(at + n).min(len)].to_vec();
                let repeated: Vec<u8> = slice.repeat(*times);
                input.splice(at..at, repeated);
            }
            ByteOp::Splice(at, seed, from, n) if !corpus.is_empty() => {
                let other = seed.get(corpus);
                if !other.is_empty() {
                    let start = from.index(other.len());
                    let piece = &other[start..(start + n).min(other.len())];
                    let at = pos(at, len);
                    input.splice(at..at, piece.iter().copied());
                }
            }
            ByteOp::Truncate(i) => input.truncate(i.index(len + 1)),
            _ => {}
        }
    }
    input
}

/// A JSON scalar or empty container to put somewhere.
#[derive(Debug, Clone)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    EmptyObject,
    EmptyArray,
}

impl Scalar {
    pub fn value(&self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(n) => Value::from(*n),
            Scalar::Uint(n) => Value::from(*n),
            Scalar::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Scalar::Str(s) => Value::String(s.clone()),
            Scalar::EmptyObject => Value::Object(Map::new()),
            Scalar::EmptyArray => Value::Array(Vec::new()),
        }
    }
}

/// Strings that webhook fields, ids and markup react to, and random Unicode.
pub fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(TOKENS).prop_map(str::to_owned),
        3 => prop::sample::select(&[
            "", " ", "jira:issue_created", "jira:issue_updated", "jira:issue_deleted",
            "comment_created", "comment_updated", "comment_deleted", "sprint_started",
            "worklog_updated", "ABC-1", "A-0", "-1", "ABC-", "-", "a b-1", "ÄBC-1",
            "ABC-1234567890123456789", "10040", "0", "00", "-5",
            "http://jira:8080/rest/api/2/issue/10013/comment/10082",
            "/issue//comment/1", "issue/x/comment/2", "/comment/", "https://x/rest/api/3/issue/",
            "employee_create", "employee_update", "employee_", "leave_request_create",
            "webhook", "poll", "manual", "a-to-b", "jira-a", "d-1", "2026-01-01T00:00:00Z",
            "not a date", "1e400",
        ][..]).prop_map(str::to_owned),
        3 => ".{0,24}",
        1 => (prop::sample::select(TOKENS), 100usize..20_000).prop_map(|(t, n)| t.repeat(n)),
        1 => (any::<char>(), 1000usize..100_000).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

pub fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        1 => Just(Scalar::Null),
        1 => any::<bool>().prop_map(Scalar::Bool),
        2 => prop_oneof![
            any::<i64>(),
            Just(i64::MIN),
            Just(i64::MAX),
            Just(0i64),
            Just(-1i64),
            Just(1_550_286_601_840i64),
            Just(8_640_000_000_000_001i64),
        ]
        .prop_map(Scalar::Int),
        1 => any::<u64>().prop_map(Scalar::Uint),
        1 => any::<f64>().prop_map(Scalar::Float),
        5 => odd_string().prop_map(Scalar::Str),
        1 => Just(Scalar::EmptyObject),
        1 => Just(Scalar::EmptyArray),
    ]
}

/// Paths (object keys from the root) that the webhook, PeopleForce and queue parsers read.
pub const PATHS: &[&[&str]] = &[
    &["webhookEvent"],
    &["timestamp"],
    &["issue"],
    &["issue", "id"],
    &["issue", "key"],
    &["issue", "fields"],
    &["issue", "fields", "project"],
    &["issue", "fields", "project", "key"],
    &["issue", "fields", "description"],
    &["comment"],
    &["comment", "id"],
    &["comment", "self"],
    &["comment", "author"],
    &["comment", "author", "accountId"],
    &["comment", "body"],
    &["user"],
    &["user", "accountId"],
    &["user", "name"],
    &["action"],
    &["data"],
    &["data", "id"],
    &["connection"],
    &["endpoint"],
    &["entity_id"],
    &["issue_key"],
    &["trigger"],
    &["trigger", "kind"],
    &["trigger", "event"],
    &["delivery_id"],
    &["event_at"],
];

/// One structure-aware change of a JSON value. Nodes are numbered in pre-order.
#[derive(Debug, Clone)]
pub enum JsonOp {
    Replace(Index, Scalar),
    /// Object <-> array, string <-> number, and so on.
    Retype(Index),
    /// Wraps a node in `levels` arrays (or objects).
    Deepen(Index, usize, bool),
    DropKey(Index, Index),
    /// Writes one of an object's keys twice (a different value first).
    DuplicateKey(Index, Index, Scalar),
    /// Copies one node over another.
    Copy(Index, Index),
    /// Writes a value at one of [`PATHS`], creating objects on the way.
    Set(Index, Scalar),
    /// Appends a node's clone to an array, or a scalar to it.
    Grow(Index, usize),
}

pub fn json_op() -> impl Strategy<Value = JsonOp> {
    prop_oneof![
        4 => (any::<Index>(), scalar()).prop_map(|(i, s)| JsonOp::Replace(i, s)),
        2 => any::<Index>().prop_map(JsonOp::Retype),
        1 => (any::<Index>(), 1usize..200, any::<bool>())
            .prop_map(|(i, n, a)| JsonOp::Deepen(i, n, a)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(i, k)| JsonOp::DropKey(i, k)),
        1 => (any::<Index>(), any::<Index>(), scalar())
            .prop_map(|(i, k, s)| JsonOp::DuplicateKey(i, k, s)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| JsonOp::Copy(a, b)),
        5 => (any::<Index>(), scalar()).prop_map(|(p, s)| JsonOp::Set(p, s)),
        1 => (any::<Index>(), 1usize..300).prop_map(|(i, n)| JsonOp::Grow(i, n)),
    ]
}

pub fn json_ops(max: usize) -> impl Strategy<Value = Vec<JsonOp>> {
    prop::collection::vec(json_op(), 0..=max)
}

/// Past this many nodes, mutations that grow a value are skipped: inputs stay in the
/// megabytes, not the gigabytes.
const MAX_NODES: usize = 20_000;
/// Nor does a string grow past about this many bytes.
const MAX_STRING: usize = 1 << 20;

/// Marks a key whose value the writer emits under the key after the prefix, next to the
/// real one: JSON with a duplicate key, which a `Value` cannot hold.
const DUP: &str = "\u{1}dup:";

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// The node at `index` (pre-order over all nodes of `root`).
pub fn node_mut<'v>(root: &'v mut Value, index: &Index) -> &'v mut Value {
    let total = count(root);
    let mut n = index.index(total);
    // Pre-order walk with an explicit path instead of raw pointers.
    let mut path = Vec::new();
    locate(root, &mut n, &mut path);
    let mut node = root;
    for step in path {
        node = match (node, step) {
            (Value::Array(items), Step::At(i)) => &mut items[i],
            (Value::Object(map), Step::Key(k)) => match map.get_mut(&k) {
                Some(child) => child,
                None => unreachable!("the path was just computed"),
            },
            _ => unreachable!("the path was just computed"),
        };
    }
    node
}

enum Step {
    At(usize),
    Key(String),
}

fn locate(v: &Value, n: &mut usize, path: &mut Vec<Step>) -> bool {
    if *n == 0 {
        return true;
    }
    *n -= 1;
    match v {
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(Step::At(i));
                if locate(child, n, path) {
                    return true;
                }
                path.pop();
            }
            false
        }
        Value::Object(map) => {
            for (k, child) in map {
                path.push(Step::Key(k.clone()));
                if locate(child, n, path) {
                    return true;
                }
                path.pop();
            }
            false
        }
        _ => false,
    }
}

fn retype(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Array(map.values().cloned().collect()),
        Value::Array(items) => Value::Object(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| (i.to_string(), x.clone()))
                .collect(),
        ),
        Value::String(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::from(s.len()), Value::Number),
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Null => Value::Bool(false),
    }
}

/// Applies `ops` to `value`.
pub fn apply_json(mut value: Value, ops: &[JsonOp]) -> Value {
    for op in ops {
        let growing = matches!(op, JsonOp::Deepen(..) | JsonOp::Copy(..) | JsonOp::Grow(..));
        if growing && count(&value) > MAX_NODES {
            continue;
        }
        match op {
            JsonOp::Replace(i, s) => *node_mut(&mut value, i) = s.value(),
            JsonOp::Retype(i) => {
                let node = node_mut(&mut value, i);
                *node = retype(node);
            }
            JsonOp::Deepen(i, levels, arrays) => {
                let node = node_mut(&mut value, i);
                let mut inner = node.take();
                for _ in 0..*levels {
                    inner = if *arrays {
                        Value::Array(vec![inner])
                    } else {
                        let mut map = Map::new();
                        map.insert("content".into(), inner);
                        Value::Object(map)
                    };
                }
                *node = inner;
            }
            JsonOp::DropKey(i, k) => {
                if let Value::Object(map) = node_mut(&mut value, i)
                    && !map.is_empty()
                {
                    let key = k.get(&map.keys().cloned().collect::<Vec<_>>()).clone();
                    map.remove(&key);
                }
            }
            JsonOp::DuplicateKey(i, k, s) => {
                if let Value::Object(map) = node_mut(&mut value, i)
                    && !map.is_empty()
                {
                    let key = k.get(&map.keys().cloned().collect::<Vec<_>>()).clone();
                    if !key.starts_with(DUP) {
                        map.insert(format!("{DUP}{key}"), s.value());
                    }
                }
            }
            JsonOp::Copy(from, to) => {
                let copy = node_mut(&mut value, from).clone();
                *node_mut(&mut value, to) = copy;
            }
            JsonOp::Set(p, s) => set_path(&mut value, PATHS[p.index(PATHS.len())], s.value()),
            JsonOp::Grow(i, n) => {
                let node = node_mut(&mut value, i);
                if let Value::Array(items) = node
                    && let Some(first) = items.first().cloned()
                {
                    let times = (*n).min(MAX_NODES / count(&first));
                    items.extend(std::iter::repeat_n(first, times));
                } else if let Value::String(s) = node {
                    let times = (*n).min(MAX_STRING / s.len().max(1));
                    let copy = s.clone();
                    s.push_str(&copy.repeat(times));
                }
            }
        }
    }
    value
}

fn set_path(root: &mut Value, path: &[&str], value: Value) {
    let mut node = root;
    for key in path {
        if !node.is_object() {
            *node = Value::Object(Map::new());
        }
        let Value::Object(map) = node else {
            return;
        };
        node = map.entry((*key).to_owned()).or_insert(Value::Null);
    }
    *node = value;
}

/// Writes `value` as JSON, emitting the keys marked by [`JsonOp::DuplicateKey`] as duplicates.
pub fn to_bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let key = key.strip_prefix(DUP).unwrap_or(key);
                write(&Value::String(key.to_owned()), out);
                out.push(b':');
                write(item, out);
            }
            out.push(b'}');
        }
        scalar => match serde_json::to_vec(scalar) {
            Ok(bytes) => out.extend(bytes),
            Err(_) => out.extend(b"null"),
        },
    }
}

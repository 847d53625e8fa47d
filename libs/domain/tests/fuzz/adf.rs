//! ADF documents to start from, and ADF-aware mutations: insert, delete, duplicate and wrap
//! nodes (deep nesting), change node types, attributes, marks and texts, and break the shape
//! (`content` that is not an array, `attrs` that is not an object).

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

use crate::mutate::{JsonOp, Scalar, json_op, node_mut, odd_string, scalar};

/// Node types of ADF, the supported subset and beyond, plus a few that do not exist.
pub const NODE_TYPES: &[&str] = &[
    "doc",
    "paragraph",
    "text",
    "heading",
    "bulletList",
    "orderedList",
    "listItem",
    "codeBlock",
    "blockquote",
    "rule",
    "hardBreak",
    "mention",
    "emoji",
    "inlineCard",
    "status",
    "date",
    "panel",
    "table",
    "tableRow",
    "tableCell",
    "tableHeader",
    "mediaSingle",
    "media",
    "mediaInline",
    "expand",
    "taskList",
    "taskItem",
    "",
    "unknownNode",
];

const MARK_TYPES: &[&str] = &[
    "strong",
    "em",
    "underline",
    "strike",
    "code",
    "link",
    "textColor",
    "subsup",
    "border",
    "alignment",
    "",
];

const ATTRS: &[&str] = &[
    "level",
    "order",
    "language",
    "id",
    "text",
    "href",
    "url",
    "shortName",
    "panelType",
];

const CONTAINERS: &[&str] = &[
    "blockquote",
    "bulletList",
    "orderedList",
    "listItem",
    "paragraph",
    "panel",
    "tableCell",
    "doc",
];

/// Text with the syntax of both markup dialects, odd whitespace and non-ASCII.
pub fn adf_text() -> impl Strategy<Value = String> {
    const POOL: &[char] = &[
        'a', 'Z', '0', '7', ' ', ' ', '*', '_', '[', ']', '\\', '`', '~', '#', '-', '+', '.', '!',
        '?', '&', ';', '{', '}', '|', '(', ')', '<', '>', '=', '^', ':', '@', '\n', '\r', '\t',
        '\u{a0}', 'é', 'ß', 'Ж', '中', '🦀', '\u{301}', '\u{200b}', '\u{2028}', '"', '/',
    ];
    prop_oneof![
        6 => prop::collection::vec(prop::sample::select(POOL), 0..24)
            .prop_map(|c| c.into_iter().collect::<String>()),
        2 => odd_string(),
    ]
}

/// A random ADF node, up to three levels deep.
pub fn adf_node() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        4 => (adf_text(), prop::collection::vec(mark(), 0..3))
            .prop_map(|(text, marks)| if marks.is_empty() {
                json!({"type": "text", "text": text})
            } else {
                json!({"type": "text", "text": text, "marks": marks})
            }),
        1 => Just(json!({"type": "hardBreak"})),
        1 => (adf_text(), adf_text())
            .prop_map(|(id, text)| json!({"type": "mention", "attrs": {"id": id, "text": text}})),
        1 => adf_text().prop_map(|t| json!({"type": "emoji", "attrs": {"shortName": t}})),
        1 => adf_text().prop_map(|u| json!({"type": "inlineCard", "attrs": {"url": u}})),
        1 => Just(json!({"type": "rule"})),
        1 => (prop::sample::select(NODE_TYPES), scalar())
            .prop_map(|(t, s)| json!({"type": t, "attrs": {"x": s.value()}})),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        (
            prop::sample::select(NODE_TYPES),
            prop::collection::vec(inner, 0..4),
            prop::option::of((prop::sample::select(ATTRS), scalar())),
        )
            .prop_map(|(kind, content, attr)| {
                let mut node = json!({"type": kind, "content": content});
                if let Some((name, value)) = attr {
                    node["attrs"] = json!({ name: value.value() });
                }
                node
            })
    })
    .boxed()
}

fn mark() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(MARK_TYPES),
        prop::option::of(adf_text()),
    )
        .prop_map(|(kind, href)| match href {
            Some(href) => json!({"type": kind, "attrs": {"href": href}}),
            None => json!({"type": kind}),
        })
}

/// One change of an ADF document. Nodes are numbered in pre-order over all JSON values.
#[derive(Debug, Clone)]
pub enum AdfOp {
    Insert(Index, Index, Value),
    Delete(Index),
    Duplicate(Index),
    /// Wraps a node in up to 70 containers.
    Wrap(Index, Vec<&'static str>),
    Retype(Index, &'static str),
    Attr(Index, &'static str, Scalar),
    Mark(Index, Value),
    Text(Index, String),
    Json(JsonOp),
}

pub fn adf_op() -> impl Strategy<Value = AdfOp> {
    prop_oneof![
        4 => (any::<Index>(), any::<Index>(), adf_node())
            .prop_map(|(at, pos, node)| AdfOp::Insert(at, pos, node)),
        2 => any::<Index>().prop_map(AdfOp::Delete),
        2 => any::<Index>().prop_map(AdfOp::Duplicate),
        1 => (any::<Index>(), prop::collection::vec(prop::sample::select(CONTAINERS), 1..70))
            .prop_map(|(at, wrappers)| AdfOp::Wrap(at, wrappers)),
        2 => (any::<Index>(), prop::sample::select(NODE_TYPES)).prop_map(|(i, t)| AdfOp::Retype(i, t)),
        2 => (any::<Index>(), prop::sample::select(ATTRS), scalar())
            .prop_map(|(i, a, s)| AdfOp::Attr(i, a, s)),
        2 => (any::<Index>(), mark()).prop_map(|(i, m)| AdfOp::Mark(i, m)),
        3 => (any::<Index>(), adf_text()).prop_map(|(i, t)| AdfOp::Text(i, t)),
        2 => json_op().prop_map(AdfOp::Json),
    ]
}

pub fn adf_ops(max: usize) -> impl Strategy<Value = Vec<AdfOp>> {
    prop::collection::vec(adf_op(), 0..=max)
}

/// Applies `ops` to the document `doc`.
pub fn apply_adf(mut doc: Value, ops: &[AdfOp]) -> Value {
    for op in ops {
        match op {
            AdfOp::Insert(at, pos, node) => {
                let target = node_mut(&mut doc, at);
                if let Value::Object(map) = target {
                    let content = map.entry("content").or_insert_with(|| json!([]));
                    if let Value::Array(items) = content {
                        let i = pos.index(items.len() + 1);
                        items.insert(i, node.clone());
                    } else {
                        *content = json!([node]);
                    }
                }
            }
            AdfOp::Delete(at) => {
                if let Value::Array(items) = node_mut(&mut doc, at)
                    && !items.is_empty()
                {
                    let i = at.index(items.len());
                    items.remove(i);
                }
            }
            AdfOp::Duplicate(at) => {
                if let Value::Array(items) = node_mut(&mut doc, at)
                    && !items.is_empty()
                {
                    let i = at.index(items.len());
                    let copy = items[i].clone();
                    items.insert(i, copy);
                }
            }
            AdfOp::Wrap(at, wrappers) => {
                let node = node_mut(&mut doc, at);
                let mut inner = node.take();
                for kind in wrappers {
                    inner = json!({"type": kind, "content": [inner]});
                }
                *node = inner;
            }
            AdfOp::Retype(at, kind) => {
                if let Value::Object(map) = node_mut(&mut doc, at) {
                    map.insert("type".into(), json!(kind));
                }
            }
            AdfOp::Attr(at, name, value) => {
                if let Value::Object(map) = node_mut(&mut doc, at) {
                    let attrs = map.entry("attrs").or_insert_with(|| json!({}));
                    match attrs {
                        Value::Object(attrs) => {
                            attrs.insert((*name).to_owned(), value.value());
                        }
                        other => *other = value.value(),
                    }
                }
            }
            AdfOp::Mark(at, mark) => {
                if let Value::Object(map) = node_mut(&mut doc, at) {
                    let marks = map.entry("marks").or_insert_with(|| json!([]));
                    match marks {
                        Value::Array(marks) => marks.push(mark.clone()),
                        other => *other = json!([mark]),
                    }
                }
            }
            AdfOp::Text(at, text) => {
                if let Value::Object(map) = node_mut(&mut doc, at) {
                    map.insert("text".into(), json!(text));
                }
            }
            AdfOp::Json(op) => doc = crate::mutate::apply_json(doc, std::slice::from_ref(op)),
        }
    }
    doc
}

/// Hand-written documents covering every node and mark the converters know, and some they
/// do not.
pub fn seed_documents() -> Vec<Value> {
    let text = |t: &str| json!({"type": "text", "text": t});
    let para = |content: Vec<Value>| json!({"type": "paragraph", "content": content});
    let doc = |content: Vec<Value>| json!({"type": "doc", "version": 1, "content": content});
    vec![
        doc(vec![]),
        doc(vec![para(vec![text("Hello world")])]),
        doc(vec![
            json!({"type": "heading", "attrs": {"level": 2}, "content": [text("Status")]}),
            para(vec![
                text("Some "),
                json!({"type": "text", "text": "bold", "marks": [{"type": "strong"}]}),
                text(", "),
                json!({"type": "text", "text": "em", "marks": [{"type": "em"}, {"type": "underline"}]}),
                json!({"type": "text", "text": "gone", "marks": [{"type": "strike"}]}),
                json!({"type": "text", "text": "x = 1", "marks": [{"type": "code"}]}),
                json!({"type": "hardBreak"}),
                json!({"type": "text", "text": "site", "marks": [{"type": "link", "attrs": {"href": "https://x.example/a_b"}}]}),
                json!({"type": "text", "text": "red", "marks": [{"type": "textColor", "attrs": {"color": "#ff0000"}}]}),
                json!({"type": "mention", "attrs": {"id": "5b10ac8d82e05b22cc7d4ef5", "text": "@Alice", "accessLevel": ""}}),
                json!({"type": "emoji", "attrs": {"shortName": ":smile:", "text": "😄"}}),
                json!({"type": "inlineCard", "attrs": {"url": "https://x.atlassian.net/browse/A-1"}}),
                json!({"type": "status", "attrs": {"text": "DONE", "color": "green"}}),
                json!({"type": "date", "attrs": {"timestamp": "1700000000000"}}),
            ]),
        ]),
        doc(vec![
            json!({"type": "bulletList", "content": [
                {"type": "listItem", "content": [para(vec![text("one")])]},
                {"type": "listItem", "content": [
                    para(vec![text("two")]),
                    {"type": "orderedList", "attrs": {"order": 3}, "content": [
                        {"type": "listItem", "content": [para(vec![text("deep")])]},
                    ]},
                ]},
            ]}),
            json!({"type": "blockquote", "content": [para(vec![text("quoted")])]}),
            json!({"type": "codeBlock", "attrs": {"language": "rust"}, "content": [text("fn x() {}\n```\n")]}),
            json!({"type": "rule"}),
        ]),
        doc(vec![
            json!({"type": "panel", "attrs": {"panelType": "info"}, "content": [para(vec![text("Heads up")])]}),
            json!({"type": "table", "content": [{"type": "tableRow", "content": [
                {"type": "tableHeader", "content": [para(vec![text("h")])]},
                {"type": "tableCell", "content": [para(vec![text("c")])]},
            ]}]}),
            json!({"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "m-1", "type": "file", "collection": "c"}}]}),
            json!({"type": "expand", "attrs": {"title": "More"}, "content": [para(vec![text("hidden")])]}),
            json!({"type": "paragraph", "marks": [{"type": "alignment", "attrs": {"align": "center"}}], "content": [text("centred")]}),
        ]),
        // What the markup parsers produce from the examples of the unit tests.
        jira_sync_domain::richtext::markdown::to_adf(MARKDOWN_EXAMPLE),
        jira_sync_domain::richtext::wiki::to_adf(WIKI_EXAMPLE),
    ]
}

pub const MARKDOWN_EXAMPLE: &str = "# Title\n\nSome **bold**, _em_ and `code`\nsame paragraph.  \nbroken\n\n* one\n* two\n  1. deep\n\n> quoted\n\n```rust\nfn x() {}\n```\n\n---\n\n[site](https://x.example) snake_case_word ~~gone~~ [<a b>](<https://x.example/a b>)";

pub const WIKI_EXAMPLE: &str = "h2. Status\n\n*bold* and _em_ with {{mono}} and [~jdoe] and [~accountid:5b10]\nnext line\n\n* a\n** b\n# one\n#* mixed\n\n{code:java}\nint x;\n{code}\n\n{quote}\nquoted *text*\n{quote}\n\nbq. short quote\n\n[docs|https://x.example] -struck- +under+ {*}in{*}word &#92; &amp;\n\n----";

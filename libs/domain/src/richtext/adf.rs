//! ADF JSON <-> the typed tree. Nodes and marks outside the subset are kept verbatim
//! ([`Block::Other`], [`Inline::Other`], [`Marks::other`]), so ADF -> tree -> ADF loses nothing.

use serde_json::{Map, Value, json};

use super::{Block, Inline, ListItem, Marks};

/// An empty document.
pub fn empty() -> Value {
    json!({"type": "doc", "version": 1, "content": []})
}

/// Whether `v` looks like an ADF document (`{"type": "doc", ...}`).
pub fn is_doc(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("doc")
}

fn kind(v: &Value) -> &str {
    v.get("type").and_then(Value::as_str).unwrap_or_default()
}

fn children(v: &Value) -> &[Value] {
    v.get("content")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn attr<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.get("attrs")?.get(name)
}

/// The blocks of a document (an empty list for anything that is not one).
pub fn blocks_of(doc: &Value) -> Vec<Block> {
    children(doc).iter().map(block).collect()
}

fn has_block_marks(v: &Value) -> bool {
    v.get("marks")
        .and_then(Value::as_array)
        .is_some_and(|m| !m.is_empty())
}

fn block(v: &Value) -> Block {
    if has_block_marks(v) {
        return Block::Other(v.clone());
    }
    match kind(v) {
        "paragraph" => Block::Paragraph(inlines(children(v))),
        "heading" => {
            let level = attr(v, "level").and_then(Value::as_u64).unwrap_or(1);
            match u8::try_from(level) {
                Ok(level @ 1..=6) => Block::Heading(level, inlines(children(v))),
                _ => Block::Other(v.clone()),
            }
        }
        "bulletList" => match items(v) {
            Some(items) => Block::BulletList(items),
            None => Block::Other(v.clone()),
        },
        "orderedList" => {
            let start = attr(v, "order").and_then(Value::as_u64).unwrap_or(1);
            match (items(v), u32::try_from(start)) {
                (Some(items), Ok(start)) => Block::OrderedList(start, items),
                _ => Block::Other(v.clone()),
            }
        }
        "codeBlock" => {
            let all_text = children(v).iter().all(|c| kind(c) == "text");
            if !all_text {
                return Block::Other(v.clone());
            }
            let text = children(v)
                .iter()
                .filter_map(|c| c.get("text").and_then(Value::as_str))
                .collect();
            let language = attr(v, "language")
                .and_then(Value::as_str)
                .filter(|l| !l.is_empty())
                .map(str::to_owned);
            Block::CodeBlock { language, text }
        }
        "blockquote" => Block::Blockquote(children(v).iter().map(block).collect()),
        "rule" => Block::Rule,
        _ => Block::Other(v.clone()),
    }
}

fn items(list: &Value) -> Option<Vec<ListItem>> {
    children(list)
        .iter()
        .map(|item| {
            (kind(item) == "listItem").then(|| ListItem {
                blocks: children(item).iter().map(block).collect(),
            })
        })
        .collect()
}

fn inlines(nodes: &[Value]) -> Vec<Inline> {
    nodes.iter().map(inline).collect()
}

fn inline(v: &Value) -> Inline {
    match kind(v) {
        "text" => Inline::Text {
            text: v
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            marks: marks(v),
        },
        "hardBreak" => Inline::HardBreak,
        "mention" => match attr(v, "id").and_then(Value::as_str) {
            Some(id) => Inline::Mention {
                id: id.to_owned(),
                text: attr(v, "text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            },
            None => Inline::Other(v.clone()),
        },
        _ => Inline::Other(v.clone()),
    }
}

fn marks(v: &Value) -> Marks {
    let mut marks = Marks::default();
    for mark in v
        .get("marks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match kind(mark) {
            "strong" => marks.strong = true,
            "em" => marks.em = true,
            "underline" => marks.underline = true,
            "strike" => marks.strike = true,
            "code" => marks.code = true,
            "link" => match attr(mark, "href").and_then(Value::as_str) {
                Some(href)
                    if mark.get("attrs").and_then(Value::as_object).map(Map::len) == Some(1) =>
                {
                    marks.link = Some(href.to_owned());
                }
                _ => marks.other.push(mark.clone()),
            },
            _ => marks.other.push(mark.clone()),
        }
    }
    marks
}

/// A document of `blocks`.
pub fn document(blocks: &[Block]) -> Value {
    json!({"type": "doc", "version": 1, "content": blocks.iter().map(block_json).collect::<Vec<_>>()})
}

fn node(kind: &str, content: Vec<Value>) -> Value {
    json!({"type": kind, "content": content})
}

fn block_json(block: &Block) -> Value {
    match block {
        Block::Paragraph(inlines) => node("paragraph", inlines_json(inlines)),
        Block::Heading(level, inlines) => {
            let mut v = node("heading", inlines_json(inlines));
            v["attrs"] = json!({"level": level});
            v
        }
        Block::BulletList(items) => node("bulletList", items_json(items)),
        Block::OrderedList(start, items) => {
            let mut v = node("orderedList", items_json(items));
            v["attrs"] = json!({"order": start});
            v
        }
        Block::CodeBlock { language, text } => {
            let content = if text.is_empty() {
                Vec::new()
            } else {
                vec![json!({"type": "text", "text": text})]
            };
            let mut v = node("codeBlock", content);
            if let Some(language) = language {
                v["attrs"] = json!({"language": language});
            }
            v
        }
        Block::Blockquote(blocks) => node("blockquote", blocks.iter().map(block_json).collect()),
        Block::Rule => json!({"type": "rule"}),
        Block::Other(v) => v.clone(),
    }
}

fn items_json(items: &[ListItem]) -> Vec<Value> {
    items
        .iter()
        .map(|i| node("listItem", i.blocks.iter().map(block_json).collect()))
        .collect()
}

fn inlines_json(inlines: &[Inline]) -> Vec<Value> {
    inlines
        .iter()
        .filter_map(|inline| match inline {
            Inline::Text { text, .. } if text.is_empty() => None,
            Inline::Text { text, marks } => {
                let mut v = json!({"type": "text", "text": text});
                let marks = marks_json(marks);
                if !marks.is_empty() {
                    v["marks"] = Value::Array(marks);
                }
                Some(v)
            }
            Inline::HardBreak => Some(json!({"type": "hardBreak"})),
            Inline::Mention { id, text } => {
                Some(json!({"type": "mention", "attrs": {"id": id, "text": text}}))
            }
            Inline::Other(v) => Some(v.clone()),
        })
        .collect()
}

fn marks_json(marks: &Marks) -> Vec<Value> {
    let mut out = Vec::new();
    for (on, name) in [
        (marks.code, "code"),
        (marks.strong, "strong"),
        (marks.em, "em"),
        (marks.underline, "underline"),
        (marks.strike, "strike"),
    ] {
        if on {
            out.push(json!({"type": name}));
        }
    }
    if let Some(href) = &marks.link {
        out.push(json!({"type": "link", "attrs": {"href": href}}));
    }
    out.extend(marks.other.iter().cloned());
    out
}

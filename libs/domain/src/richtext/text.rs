//! Plain text <-> ADF, as Atlassian describes it: paragraphs split on blank lines, single
//! newlines become hard breaks; the other way, text concatenated depth-first with a newline
//! after each block and `@Name` for mentions.

use serde_json::Value;

use super::{Block, Inline, ListItem};

/// A document holding `text`: one paragraph per blank-line-separated chunk, hard breaks for
/// single newlines. Empty text gives an empty document.
pub fn to_blocks(text: &str) -> Vec<Block> {
    let text = super::unify_newlines(text);
    text.split("\n\n")
        .map(|chunk| chunk.trim_matches('\n'))
        .filter(|chunk| !chunk.trim().is_empty())
        .map(|chunk| {
            let mut inlines = Vec::new();
            for (i, line) in chunk.split('\n').enumerate() {
                if i > 0 {
                    inlines.push(Inline::HardBreak);
                }
                if !line.is_empty() {
                    inlines.push(Inline::plain(line));
                }
            }
            Block::Paragraph(inlines)
        })
        .collect()
}

/// The ADF document of plain `text`.
pub fn to_adf(text: &str) -> Value {
    super::to_adf(&to_blocks(text))
}

/// The plain text of an ADF document.
pub fn from_adf(doc: &Value) -> String {
    render(&super::from_adf(doc))
}

/// The plain text of blocks: blocks separated by blank lines, list items on their own lines.
pub fn render(blocks: &[Block]) -> String {
    let parts: Vec<String> = blocks.iter().map(block_text).collect();
    parts.join("\n\n")
}

fn block_text(block: &Block) -> String {
    match block {
        Block::Paragraph(inlines) | Block::Heading(_, inlines) => inline_text(inlines),
        Block::BulletList(items) => list_text(items, |_| "- ".to_owned()),
        Block::OrderedList(start, items) => {
            list_text(items, |i| format!("{}. ", u64::from(*start) + i as u64))
        }
        Block::CodeBlock { text, .. } => text.clone(),
        Block::Blockquote(blocks) => render(blocks),
        Block::Rule => "---".to_owned(),
        Block::Other(v) => other_text(v),
    }
}

fn list_text(items: &[ListItem], bullet: impl Fn(usize) -> String) -> String {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let body = item
                .blocks
                .iter()
                .map(block_text)
                .collect::<Vec<_>>()
                .join("\n");
            format!("{}{}", bullet(i), body.replace('\n', "\n  "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text of inline nodes: text as is, `\n` for hard breaks, the mention text (`@Name`).
pub fn inline_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    for inline in inlines {
        match inline {
            Inline::Text { text, .. } => out.push_str(text),
            Inline::HardBreak => out.push('\n'),
            Inline::Mention { id, text } => out.push_str(&mention_text(id, text)),
            Inline::Other(v) => out.push_str(&other_text(v)),
        }
    }
    out
}

/// `@Name` for a mention: its text (with the `@` Jira usually includes), or `@id`.
pub fn mention_text(id: &str, text: &str) -> String {
    let name = if text.is_empty() { id } else { text };
    if name.starts_with('@') {
        name.to_owned()
    } else {
        format!("@{name}")
    }
}

/// Best-effort text of any ADF node: its text nodes depth-first, a newline after blocks.
pub fn other_text(v: &Value) -> String {
    let mut out = String::new();
    walk(v, &mut out);
    out.trim_end().to_owned()
}

fn walk(v: &Value, out: &mut String) {
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "text" => out.push_str(v.get("text").and_then(Value::as_str).unwrap_or_default()),
        "hardBreak" => out.push('\n'),
        "mention" => {
            let attr = |n| v.pointer(n).and_then(Value::as_str).unwrap_or_default();
            out.push_str(&mention_text(attr("/attrs/id"), attr("/attrs/text")));
        }
        "emoji" => out.push_str(
            v.pointer("/attrs/text")
                .or_else(|| v.pointer("/attrs/shortName"))
                .and_then(Value::as_str)
                .unwrap_or_default(),
        ),
        "inlineCard" => out.push_str(
            v.pointer("/attrs/url")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        ),
        _ => {
            for child in v
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                walk(child, out);
            }
            let inline = matches!(kind, "" | "status" | "date" | "mediaInline");
            if !inline && !out.ends_with('\n') {
                out.push('\n');
            }
        }
    }
}

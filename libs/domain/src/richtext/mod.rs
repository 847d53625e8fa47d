//! Rich text: Atlassian Document Format (ADF) and its conversions.
//!
//! Between two Jira Cloud sites ADF passes through as it is, with only the site-specific ids
//! rewritten ([`mentions`]). For endpoints that do not speak ADF there are converters through a
//! small typed tree ([`Block`], [`Inline`]): plain text ([`text`]), Markdown ([`markdown`]) and
//! Jira wiki markup for Data Center ([`wiki`]).
//!
//! The supported subset, which round-trips exactly through Markdown and wiki markup (see the
//! property tests): paragraphs, headings, bullet and ordered lists (nested), code blocks,
//! block quotes, rules, hard breaks, mentions, and text with the marks strong, em, strike, code
//! and link (plus underline in wiki markup). Text lines do not start or end with spaces. Other
//! nodes (tables, panels, media...) survive an ADF -> tree -> ADF trip unchanged and are
//! rendered as their plain text elsewhere (the conversion is lossy there by nature).

pub mod adf;
pub mod markdown;
pub mod mentions;
mod pieces;
pub mod text;
pub mod wiki;

#[cfg(test)]
mod tests;

use serde_json::Value;

/// How deep the markup parsers nest quotes, lists and links. Deeper markup is read as text, so
/// that hostile input (a line of 100,000 `>`) cannot exhaust the stack; ADF needs no such limit
/// as its JSON parser stops at 128 levels.
pub(crate) const MAX_NESTING: usize = 32;

/// Text with every line ending (`\r\n`, and a lone `\r` too) as `\n`. Only turning `\r\n`
/// into `\n` left a `\r` before a newline that a second trip turned into a line ending again:
/// the conversions were not stable.
pub(crate) fn unify_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// A block node of the supported subset, or any other ADF block kept as it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Paragraph(Vec<Inline>),
    /// Level 1 to 6.
    Heading(u8, Vec<Inline>),
    BulletList(Vec<ListItem>),
    /// The number of the first item, and the items.
    OrderedList(u32, Vec<ListItem>),
    CodeBlock {
        language: Option<String>,
        text: String,
    },
    Blockquote(Vec<Block>),
    Rule,
    /// An ADF node outside the subset, kept verbatim.
    Other(Value),
}

/// One list item: its blocks (a paragraph, then possibly nested lists).
#[derive(Debug, Clone, PartialEq)]
pub struct ListItem {
    pub blocks: Vec<Block>,
}

/// An inline node of the supported subset, or any other ADF inline node kept as it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    Text {
        text: String,
        marks: Marks,
    },
    HardBreak,
    /// `id` is the site's user id; `text` what Jira shows (usually `@Name`).
    Mention {
        id: String,
        text: String,
    },
    Other(Value),
}

/// The marks of a text run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marks {
    pub strong: bool,
    pub em: bool,
    pub underline: bool,
    pub strike: bool,
    pub code: bool,
    pub link: Option<String>,
    /// Marks outside the subset (colours, sub/sup...), kept for ADF and dropped elsewhere.
    pub other: Vec<Value>,
}

impl Inline {
    /// A text run without marks.
    pub fn plain(text: impl Into<String>) -> Self {
        Inline::Text {
            text: text.into(),
            marks: Marks::default(),
        }
    }
}

/// Merges adjacent text runs with the same marks and drops empty ones, recursively: two trees
/// that render the same compare equal after this.
pub fn normalize(blocks: Vec<Block>) -> Vec<Block> {
    blocks.into_iter().map(normalize_block).collect()
}

fn normalize_block(block: Block) -> Block {
    match block {
        Block::Paragraph(inlines) => Block::Paragraph(normalize_inlines(inlines)),
        Block::Heading(level, inlines) => Block::Heading(level, normalize_inlines(inlines)),
        Block::BulletList(items) => Block::BulletList(normalize_items(items)),
        Block::OrderedList(start, items) => Block::OrderedList(start, normalize_items(items)),
        Block::Blockquote(blocks) => Block::Blockquote(normalize(blocks)),
        other => other,
    }
}

fn normalize_items(items: Vec<ListItem>) -> Vec<ListItem> {
    items
        .into_iter()
        .map(|i| ListItem {
            blocks: normalize(i.blocks),
        })
        .collect()
}

/// Merges adjacent equal-mark text runs and drops empty text.
pub fn normalize_inlines(inlines: Vec<Inline>) -> Vec<Inline> {
    let mut out: Vec<Inline> = Vec::with_capacity(inlines.len());
    for inline in inlines {
        match inline {
            Inline::Text { text, .. } if text.is_empty() => {}
            Inline::Text { text, marks } => match out.last_mut() {
                Some(Inline::Text {
                    text: prev,
                    marks: prev_marks,
                }) if *prev_marks == marks => prev.push_str(&text),
                _ => out.push(Inline::Text { text, marks }),
            },
            other => out.push(other),
        }
    }
    out
}

/// Parses an ADF document into blocks (`Other` for nodes outside the subset).
pub fn from_adf(doc: &Value) -> Vec<Block> {
    adf::blocks_of(doc)
}

/// Builds an ADF document from blocks.
pub fn to_adf(blocks: &[Block]) -> Value {
    adf::document(blocks)
}

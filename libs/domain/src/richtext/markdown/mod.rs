//! Markdown (the CommonMark core) <-> the rich-text tree, for endpoints that take Markdown.
//!
//! Rendering escapes what Markdown would otherwise read as syntax, so that the supported
//! subset (without underline and mentions, which Markdown cannot express) comes back exactly.
//! Parsing reads what people write: ATX headings, `-`/`*`/`+` and numbered lists, fenced code,
//! `>` quotes, rules, `**strong**`, `*em*`/`_em_`, `~~strike~~`, `` `code` ``, `[text](url)`
//! and hard breaks (`\` or two spaces before a newline). Mentions become `@Name` text.

mod inline;
mod parse;
mod render;

use serde_json::Value;

use super::Block;

pub use parse::to_blocks;
pub use render::render;

/// The Markdown of an ADF document.
pub fn from_adf(doc: &Value) -> String {
    render(&super::normalize(super::from_adf(doc)))
}

/// The ADF document of Markdown text.
pub fn to_adf(markdown: &str) -> Value {
    super::to_adf(&to_blocks(markdown))
}

/// Blocks -> Markdown -> blocks, for tests and callers that want to see what survives.
pub fn round_trip(blocks: &[Block]) -> Vec<Block> {
    to_blocks(&render(blocks))
}

//! Jira wiki markup (Data Center, REST v2) <-> the rich-text tree.
//!
//! Covers `h1.`..`h6.`, `*`/`#` lists (nested, mixed), `{code:lang}`, `{quote}` and `bq.`,
//! `----`, `*strong*`, `_em_`, `-strike-`, `+underline+`, `{{monospace}}`, `[text|url]` links,
//! `[~user]` mentions and line breaks (a newline inside a paragraph, or `\\`). Marks next to
//! letters use the brace form (`{*}x{*}`) that Jira accepts inside words; syntax characters in
//! text are escaped (a backslash itself as `&#92;`, since `\\` is a line break). Ordered lists
//! always start at 1 in wiki markup; mention texts become `@<user>`.

mod parse;
mod render;

use serde_json::Value;

pub use parse::to_blocks;
pub use render::render;

/// The wiki markup of an ADF document.
pub fn from_adf(doc: &Value) -> String {
    render(&super::normalize(super::from_adf(doc)))
}

/// The ADF document of wiki markup.
pub fn to_adf(wiki: &str) -> Value {
    super::to_adf(&to_blocks(wiki))
}

//! Blocks -> Markdown.

use super::super::text::{mention_text, other_text};
use super::super::{Block, Inline, ListItem};

/// The Markdown of `blocks`: blocks separated by blank lines, lists tight.
pub fn render(blocks: &[Block]) -> String {
    blocks.iter().map(block).collect::<Vec<_>>().join("\n\n")
}

fn block(block: &Block) -> String {
    match block {
        Block::Paragraph(inlines) => inline(inlines),
        Block::Heading(level, inlines) => {
            let mut content = inline(inlines);
            // A trailing `#` run after a space would read as the optional closing sequence.
            if content.ends_with('#') {
                content.insert(content.len() - 1, '\\');
            }
            format!("{} {}", "#".repeat(usize::from(*level)), content)
        }
        Block::BulletList(items) => list(items, |_| "- ".to_owned()),
        Block::OrderedList(start, items) => {
            list(items, |i| format!("{}. ", u64::from(*start) + i as u64))
        }
        Block::CodeBlock { language, text } => {
            let longest = longest_run(text, '`');
            let fence = "`".repeat(longest.max(2) + 1);
            let language = language.as_deref().unwrap_or_default();
            if text.is_empty() {
                format!("{fence}{language}\n{fence}")
            } else {
                format!("{fence}{language}\n{text}\n{fence}")
            }
        }
        Block::Blockquote(blocks) => render(blocks)
            .lines()
            .map(|l| {
                if l.is_empty() {
                    ">".to_owned()
                } else {
                    format!("> {l}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Block::Rule => "---".to_owned(),
        Block::Other(v) => {
            let text = other_text(v);
            text.lines()
                .map(|l| escape_line_start(&escape(l)))
                .collect::<Vec<_>>()
                .join("\\\n")
        }
    }
}

fn list(items: &[ListItem], marker: impl Fn(usize) -> String) -> String {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let marker = marker(i);
            let indent = " ".repeat(marker.len());
            let body = item.blocks.iter().map(block).collect::<Vec<_>>().join("\n");
            let mut lines = body.lines();
            let first = lines.next().unwrap_or_default();
            let mut out = format!("{marker}{first}");
            for line in lines {
                out.push('\n');
                if !line.is_empty() {
                    out.push_str(&indent);
                    out.push_str(line);
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The Markdown of inline nodes; hard breaks are `\` + newline.
fn inline(inlines: &[Inline]) -> String {
    let mut out = String::new();
    let mut line_start = true;
    for node in inlines {
        match node {
            Inline::Text { text, marks } => {
                let mut inner = if marks.code {
                    code_span(text)
                } else {
                    let escaped = escape(text);
                    if line_start {
                        escape_line_start(&escaped)
                    } else {
                        escaped
                    }
                };
                if marks.strike {
                    inner = format!("~~{inner}~~");
                }
                if marks.em {
                    inner = format!("*{inner}*");
                }
                if marks.strong {
                    inner = format!("**{inner}**");
                }
                if let Some(href) = &marks.link {
                    inner = format!("[{inner}]({})", link_target(href));
                }
                out.push_str(&inner);
                line_start = false;
            }
            Inline::HardBreak => {
                out.push_str("\\\n");
                line_start = true;
            }
            Inline::Mention { id, text } => {
                out.push_str(&escape(&mention_text(id, text)));
                line_start = false;
            }
            Inline::Other(v) => {
                out.push_str(&escape(&other_text(v)));
                line_start = false;
            }
        }
    }
    out
}

fn longest_run(text: &str, ch: char) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        run = if c == ch { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

fn code_span(text: &str) -> String {
    let fence = "`".repeat(longest_run(text, '`') + 1);
    let pad = text.starts_with('`')
        || text.ends_with('`')
        || (text.starts_with(' ') && text.ends_with(' ') && !text.trim().is_empty());
    if pad {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

fn link_target(href: &str) -> String {
    if href.is_empty() || href.contains([' ', '(', ')', '<', '>']) {
        format!("<{href}>")
    } else {
        href.to_owned()
    }
}

/// Backslash-escapes the characters Markdown reads as inline syntax.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '_' | '`' | '[' | ']' | '~') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes what would start a block at the beginning of a line: `#`, `>`, `-`, `+`, `=`, and
/// the dot or parenthesis of `1.` / `1)`.
fn escape_line_start(text: &str) -> String {
    let first = text.chars().next();
    if matches!(first, Some('#' | '>' | '-' | '+' | '=')) {
        return format!("\\{text}");
    }
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && matches!(text[digits..].chars().next(), Some('.' | ')')) {
        return format!("{}\\{}", &text[..digits], &text[digits..]);
    }
    text.to_owned()
}

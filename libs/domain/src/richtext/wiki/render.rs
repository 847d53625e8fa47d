//! Blocks -> wiki markup.

use super::super::text::other_text;
use super::super::{Block, Inline, ListItem};

/// The wiki markup of `blocks`, blocks separated by blank lines.
pub fn render(blocks: &[Block]) -> String {
    blocks.iter().map(block).collect::<Vec<_>>().join("\n\n")
}

fn block(block: &Block) -> String {
    match block {
        Block::Paragraph(inlines) => inline(inlines, "\n"),
        Block::Heading(level, inlines) => format!("h{level}. {}", inline(inlines, "\\\\")),
        Block::BulletList(items) => list(items, "*"),
        Block::OrderedList(_, items) => list(items, "#"),
        Block::CodeBlock { language, text } => match language {
            Some(language) => format!("{{code:{language}}}\n{text}\n{{code}}"),
            None => format!("{{code}}\n{text}\n{{code}}"),
        },
        Block::Blockquote(blocks) => format!("{{quote}}\n{}\n{{quote}}", render(blocks)),
        Block::Rule => "----".to_owned(),
        Block::Other(v) => {
            let lines: Vec<String> = other_text(v)
                .lines()
                .map(|l| inline(&[Inline::plain(l)], "\n"))
                .collect();
            lines.join("\n")
        }
    }
}

fn list(items: &[ListItem], prefix: &str) -> String {
    let mut lines = Vec::new();
    for item in items {
        let mut first = true;
        for block in &item.blocks {
            match block {
                Block::BulletList(nested) => lines.push(list(nested, &format!("{prefix}*"))),
                Block::OrderedList(_, nested) => lines.push(list(nested, &format!("{prefix}#"))),
                Block::Paragraph(inlines) if first => {
                    lines.push(format!("{prefix} {}", inline(inlines, "\\\\")));
                }
                other => lines.push(format!("{prefix} {}", block_inline(other))),
            }
            first = false;
        }
        if item.blocks.is_empty() {
            lines.push(format!("{prefix} "));
        }
    }
    lines.join("\n")
}

/// A block squeezed onto a list item's line.
fn block_inline(block: &Block) -> String {
    match block {
        Block::Paragraph(inlines) | Block::Heading(_, inlines) => inline(inlines, "\\\\"),
        other => render(std::slice::from_ref(other)).replace('\n', "\\\\"),
    }
}

/// One unit of rendered inline markup.
enum Token {
    Text(String),
    /// A mark delimiter (`*`, `_`, `-`, `+`); its plain or brace form is chosen at the end.
    Delim(char),
    Raw(String),
}

fn inline(inlines: &[Inline], hard_break: &str) -> String {
    let mut tokens = Vec::new();
    let mut line_start = true;
    for node in inlines {
        match node {
            Inline::Text { text, marks } => {
                let mut escaped = escape(text);
                if line_start {
                    escaped = escape_line_start(escaped);
                }
                let wrappers: Vec<char> = [
                    (marks.strong, '*'),
                    (marks.em, '_'),
                    (marks.underline, '+'),
                    (marks.strike, '-'),
                ]
                .into_iter()
                .filter_map(|(on, c)| on.then_some(c))
                .collect();
                if marks.link.is_some() {
                    tokens.push(Token::Raw("[".into()));
                }
                tokens.extend(wrappers.iter().map(|c| Token::Delim(*c)));
                if marks.code {
                    tokens.push(Token::Raw(format!("{{{{{escaped}}}}}")));
                } else {
                    tokens.push(Token::Text(escaped));
                }
                tokens.extend(wrappers.iter().rev().map(|c| Token::Delim(*c)));
                if let Some(href) = &marks.link {
                    tokens.push(Token::Raw(format!("|{href}]")));
                }
                line_start = false;
            }
            Inline::HardBreak => {
                tokens.push(Token::Raw(hard_break.to_owned()));
                line_start = hard_break == "\n";
            }
            Inline::Mention { id, .. } => {
                tokens.push(Token::Raw(format!("[~{id}]")));
                line_start = false;
            }
            Inline::Other(v) => {
                tokens.push(Token::Text(escape(&other_text(v))));
                line_start = false;
            }
        }
    }
    join(tokens)
}

/// Joins tokens, writing each delimiter plainly where the parser reads it as one, and in its
/// brace form (`{*}`) where a letter or a space next to it would stop that.
fn join(tokens: Vec<Token>) -> String {
    let mut out = String::new();
    let mut open: Vec<char> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Text(t) | Token::Raw(t) => out.push_str(t),
            Token::Delim(c) => {
                let closing = open.last() == Some(c);
                if closing {
                    open.pop();
                } else {
                    open.push(*c);
                }
                let prev = out.chars().last();
                let next = tokens[i + 1..].iter().find_map(|t| match t {
                    Token::Text(t) | Token::Raw(t) => t.chars().next(),
                    Token::Delim(d) => Some(*d),
                });
                let plain = if closing {
                    prev.is_some_and(|p| !p.is_whitespace())
                        && next.is_none_or(|n| !n.is_alphanumeric())
                } else {
                    prev.is_none_or(|p| !p.is_alphanumeric())
                        && next.is_some_and(|n| !n.is_whitespace())
                };
                if plain {
                    out.push(*c);
                } else {
                    out.push('{');
                    out.push(*c);
                    out.push('}');
                }
            }
        }
    }
    out
}

/// Escapes wiki syntax characters in text.
pub(crate) fn escape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        match c {
            '\\' => out.push_str("&#92;"),
            '&' if looks_like_entity(&chars[i + 1..]) => out.push_str("&amp;"),
            '*' | '_' | '+' | '^' | '~' | '{' | '}' | '[' | ']' | '|' | '!' => {
                out.push('\\');
                out.push(*c);
            }
            '?' if prev == Some('?') || next == Some('?') => out.push_str("\\?"),
            '-' => {
                let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
                let space = |c: Option<char>| c.is_some_and(char::is_whitespace);
                if !(word(prev) && word(next) || space(prev) && space(next)) {
                    out.push('\\');
                }
                out.push('-');
            }
            other => out.push(*other),
        }
    }
    out
}

fn looks_like_entity(rest: &[char]) -> bool {
    let body = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '#')
        .count();
    body > 0 && rest.get(body) == Some(&';')
}

/// Escapes what starts a block at the beginning of a line (`h1.`, `bq.`, `#`).
fn escape_line_start(text: String) -> String {
    let starts_macro = |prefix: &str| {
        text.strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.'))
    };
    let heading = (1..=6).any(|n| starts_macro(&format!("h{n}")));
    if heading || starts_macro("bq") {
        let dot = text.find('.').unwrap_or(0);
        return format!("{}&#46;{}", &text[..dot], &text[dot + 1..]);
    }
    if text.starts_with('#') {
        return format!("\\{text}");
    }
    text
}

//! Markdown -> blocks: a line-based block parser and a delimiter-stack inline parser.

use super::super::{Block, Inline, ListItem, MAX_NESTING};
use super::inline::inline;

/// Parses Markdown into blocks.
pub fn to_blocks(text: &str) -> Vec<Block> {
    let text = super::super::unify_newlines(text);
    let lines: Vec<&str> = text.split('\n').collect();
    blocks(&lines, 0)
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The blocks of `lines`, `depth` quotes and lists deep: past [`MAX_NESTING`], quote and list
/// markers are text.
fn blocks(lines: &[&str], depth: usize) -> Vec<Block> {
    let nests = depth < MAX_NESTING;
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            i += 1;
        } else if let Some((ch, n, info)) = fence_open(trimmed) {
            let mut text = Vec::new();
            i += 1;
            while i < lines.len() && !is_fence_close(lines[i].trim_start(), ch, n) {
                text.push(lines[i]);
                i += 1;
            }
            i += 1;
            let language = (!info.is_empty()).then(|| info.to_owned());
            out.push(Block::CodeBlock {
                language,
                text: text.join("\n"),
            });
        } else if let Some((level, rest)) = heading(trimmed) {
            out.push(Block::Heading(level, inline(rest)));
            i += 1;
        } else if is_rule(trimmed) {
            out.push(Block::Rule);
            i += 1;
        } else if nests && trimmed.starts_with('>') {
            let mut inner = Vec::new();
            while let Some(rest) = lines.get(i).and_then(|l| l.trim_start().strip_prefix('>')) {
                inner.push(rest.strip_prefix(' ').unwrap_or(rest));
                i += 1;
            }
            out.push(Block::Blockquote(blocks(&inner, depth + 1)));
        } else if let Some(marker) = list_marker(line).filter(|_| nests) {
            let (block, next) = list(lines, i, &marker, depth);
            out.push(block);
            i = next;
        } else {
            let start = i;
            while i < lines.len()
                && !lines[i].trim().is_empty()
                && (i == start || !starts_block(lines[i], nests))
            {
                i += 1;
            }
            out.push(Block::Paragraph(paragraph(&lines[start..i])));
        }
    }
    out
}

fn starts_block(line: &str, nests: bool) -> bool {
    let trimmed = line.trim_start();
    fence_open(trimmed).is_some()
        || heading(trimmed).is_some()
        || is_rule(trimmed)
        || (nests && (trimmed.starts_with('>') || list_marker(line).is_some()))
}

/// The inline nodes of a paragraph's lines: a trailing `\` or two spaces make a hard break,
/// other line ends a space.
fn paragraph(lines: &[&str]) -> Vec<Inline> {
    let mut text = String::new();
    for (n, line) in lines.iter().enumerate() {
        let mut line = line.trim_start().to_owned();
        let last = n + 1 == lines.len();
        if !last && line.ends_with("  ") {
            line = format!("{}\\", line.trim_end());
        }
        text.push_str(if last { line.trim_end() } else { &line });
        if !last {
            text.push('\n');
        }
    }
    inline(&text)
}

fn fence_open(line: &str) -> Option<(char, usize, &str)> {
    let ch = line.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let n = line.chars().take_while(|c| *c == ch).count();
    let info = line[n..].trim();
    (n >= 3 && !(ch == '`' && info.contains('`'))).then_some((ch, n, info))
}

fn is_fence_close(line: &str, ch: char, n: usize) -> bool {
    let run = line.chars().take_while(|c| *c == ch).count();
    run >= n && line[run..].trim().is_empty()
}

fn heading(line: &str) -> Option<(u8, &str)> {
    let level = line.chars().take_while(|c| *c == '#').count();
    let rest = &line[level..];
    if !(1..=6).contains(&level) || !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    let rest = rest.trim();
    // An optional closing sequence: ` ###` at the end.
    let body = rest.trim_end_matches('#');
    let rest = if body.len() < rest.len() && (body.is_empty() || body.ends_with(' ')) {
        body.trim_end()
    } else {
        rest
    };
    u8::try_from(level).ok().map(|l| (l, rest))
}

fn is_rule(line: &str) -> bool {
    let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(first) = compact.chars().next() else {
        return false;
    };
    matches!(first, '-' | '*' | '_') && compact.len() >= 3 && compact.chars().all(|c| c == first)
}

/// A list item's marker: its kind, its indentation and where its content starts.
struct ListMarker {
    ordered: Option<u32>,
    /// The bullet character, or `.` / `)` of an ordered marker.
    symbol: char,
    indent: usize,
    content: usize,
}

fn list_marker(line: &str) -> Option<ListMarker> {
    let indent = indent_of(line);
    let rest = &line[indent..];
    let first = rest.chars().next()?;
    let (ordered, symbol, width) = if matches!(first, '-' | '+' | '*') {
        (None, first, 1)
    } else {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let symbol = rest[digits..].chars().next()?;
        if !(1..=9).contains(&digits) || !matches!(symbol, '.' | ')') {
            return None;
        }
        (rest[..digits].parse().ok(), symbol, digits + 1)
    };
    let after = &rest[width..];
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    let content = indent + width + usize::from(!after.is_empty());
    Some(ListMarker {
        ordered,
        symbol,
        indent,
        content,
    })
}

/// Parses the list starting at `lines[start]`, `depth` deep; returns it and the index after it.
fn list(lines: &[&str], start: usize, first: &ListMarker, depth: usize) -> (Block, usize) {
    let mut items = Vec::new();
    let mut i = start;
    while let Some(marker) = lines.get(i).and_then(|l| list_marker(l)) {
        let same = marker.indent == first.indent
            && marker.symbol == first.symbol
            && marker.ordered.is_some() == first.ordered.is_some();
        if !same {
            break;
        }
        let mut item_lines = vec![lines[i].get(marker.content..).unwrap_or_default()];
        i += 1;
        while i < lines.len() {
            let line = lines[i];
            if line.trim().is_empty() {
                let next = lines[i..].iter().position(|l| !l.trim().is_empty());
                match next.map(|n| lines[i + n]) {
                    Some(next) if indent_of(next) >= marker.indent + 2 => {
                        item_lines.push("");
                        i += 1;
                        continue;
                    }
                    _ => break,
                }
            }
            if indent_of(line) < marker.indent + 2 {
                break;
            }
            let strip = indent_of(line).min(marker.content);
            item_lines.push(&line[strip..]);
            i += 1;
        }
        items.push(ListItem {
            blocks: blocks(&item_lines, depth + 1),
        });
        // A blank line between items keeps the list going.
        while lines.get(i).is_some_and(|l| l.trim().is_empty())
            && lines[i..]
                .iter()
                .find(|l| !l.trim().is_empty())
                .and_then(|l| list_marker(l))
                .is_some_and(|m| m.indent == first.indent && m.symbol == first.symbol)
        {
            i += 1;
        }
    }
    let block = match first.ordered {
        Some(start) => Block::OrderedList(start, items),
        None => Block::BulletList(items),
    };
    (block, i)
}

//! Wiki markup -> blocks.

use super::super::pieces::{Mark, Openers, Piece, with_marks};
use super::super::{Block, Inline, ListItem, MAX_NESTING, Marks};

/// Parses wiki markup into blocks.
pub fn to_blocks(text: &str) -> Vec<Block> {
    blocks_at(text, 0)
}

/// The blocks of `text`, `depth` quotes deep: past [`MAX_NESTING`], `{quote}` is text.
fn blocks_at(text: &str, depth: usize) -> Vec<Block> {
    let text = super::super::unify_newlines(text);
    let lines: Vec<&str> = text.split('\n').collect();
    blocks(&lines, depth)
}

fn blocks(lines: &[&str], depth: usize) -> Vec<Block> {
    let nests = depth < MAX_NESTING;
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        if line.trim().is_empty() {
            i += 1;
        } else if let Some((language, rest)) = code_open(line) {
            let (text, next) = until(lines, i, rest, |l| {
                l.trim() == "{code}" || l.trim() == "{noformat}"
            });
            out.push(Block::CodeBlock { language, text });
            i = next;
        } else if let Some(rest) = line.strip_prefix("{quote}").filter(|_| nests) {
            let (text, next) = until(lines, i, rest, |l| l.trim() == "{quote}");
            out.push(Block::Blockquote(blocks_at(&text, depth + 1)));
            i = next;
        } else if let Some(rest) = line.strip_prefix("bq. ") {
            out.push(Block::Blockquote(vec![Block::Paragraph(inline(rest))]));
            i += 1;
        } else if let Some((level, rest)) = heading(line) {
            out.push(Block::Heading(level, inline(rest)));
            i += 1;
        } else if line.len() >= 4 && line.trim_end().chars().all(|c| c == '-') {
            out.push(Block::Rule);
            i += 1;
        } else if list_marker(line).is_some() {
            let start = i;
            while lines
                .get(i)
                .is_some_and(|l| list_marker(l.trim_start()).is_some())
            {
                i += 1;
            }
            let entries: Vec<(&str, &str)> = lines[start..i]
                .iter()
                .filter_map(|l| list_marker(l.trim_start()))
                .collect();
            let mut used = 0;
            while used < entries.len() {
                let (block, n) = list(&entries[used..], 0);
                out.extend(block);
                used += n.max(1);
            }
        } else {
            let start = i;
            i += 1;
            while i < lines.len()
                && !lines[i].trim().is_empty()
                && !starts_block(lines[i].trim_start())
            {
                i += 1;
            }
            out.push(Block::Paragraph(inline(&lines[start..i].join("\n"))));
        }
    }
    out
}

fn starts_block(line: &str) -> bool {
    code_open(line).is_some()
        || line.starts_with("{quote}")
        || line.starts_with("bq. ")
        || heading(line).is_some()
        || list_marker(line).is_some()
        || (line.len() >= 4 && line.trim_end().chars().all(|c| c == '-'))
}

/// The text from after an opening macro on line `start` to the closing line; the index after.
fn until(
    lines: &[&str],
    start: usize,
    rest: &str,
    close: impl Fn(&str) -> bool,
) -> (String, usize) {
    let mut body: Vec<&str> = Vec::new();
    if !rest.trim().is_empty() {
        body.push(rest);
    }
    let mut i = start + 1;
    while i < lines.len() && !close(lines[i]) {
        body.push(lines[i]);
        i += 1;
    }
    (body.join("\n"), i + 1)
}

fn code_open(line: &str) -> Option<(Option<String>, &str)> {
    if let Some(rest) = line.strip_prefix("{noformat}") {
        return Some((None, rest));
    }
    let rest = line.strip_prefix("{code")?;
    let end = rest.find('}')?;
    let params = &rest[..end];
    let language = params
        .strip_prefix(':')
        .map(|p| p.split('|').next().unwrap_or_default())
        .filter(|l| !l.is_empty() && !l.contains('='))
        .map(str::to_owned);
    (params.is_empty() || params.starts_with(':')).then_some((language, &rest[end + 1..]))
}

fn heading(line: &str) -> Option<(u8, &str)> {
    let rest = line.strip_prefix('h')?;
    let level = rest.chars().next()?.to_digit(10)?;
    let body = rest[1..]
        .strip_prefix(". ")
        .or_else(|| (rest[1..].trim_end() == ".").then_some(""))?;
    let level = u8::try_from(level).ok().filter(|l| (1..=6).contains(l))?;
    Some((level, body.trim()))
}

/// `(markers, content)` of a list line: `** text`, `#* text`, `- text`. Lists nested deeper
/// than [`MAX_NESTING`] are not lists (each level is a recursion of [`list`]).
fn list_marker(line: &str) -> Option<(&str, &str)> {
    let markers = line
        .chars()
        .take_while(|c| matches!(c, '*' | '#' | '-'))
        .count();
    let (head, rest) = line.split_at(markers);
    let ok =
        (1..=MAX_NESTING).contains(&markers) && (head.chars().all(|c| c != '-') || head == "-");
    let content = rest.strip_prefix(' ')?;
    ok.then_some((head, content))
}

/// Builds the list of `entries` at nesting `depth`; returns it and how many entries it used.
fn list(entries: &[(&str, &str)], depth: usize) -> (Option<Block>, usize) {
    let Some((first, _)) = entries.first() else {
        return (None, 0);
    };
    let ordered = first.as_bytes().get(depth) == Some(&b'#');
    let mut items: Vec<ListItem> = Vec::new();
    let mut i = 0;
    while let Some((markers, content)) = entries.get(i) {
        if markers.len() <= depth {
            break;
        }
        if markers.len() == depth + 1 {
            let kind_ordered = markers.as_bytes().get(depth) == Some(&b'#');
            if kind_ordered != ordered && !items.is_empty() {
                break;
            }
            items.push(ListItem {
                blocks: vec![Block::Paragraph(inline(content))],
            });
            i += 1;
        } else {
            let (nested, used) = list(&entries[i..], depth + 1);
            match (items.last_mut(), nested) {
                (Some(item), Some(nested)) => item.blocks.push(nested),
                (None, Some(nested)) => items.push(ListItem {
                    blocks: vec![nested],
                }),
                (_, None) => {}
            }
            i += used.max(1);
        }
    }
    let block = if ordered {
        Block::OrderedList(1, items)
    } else {
        Block::BulletList(items)
    };
    (Some(block), i)
}

fn mark_of(c: char) -> Option<Mark> {
    match c {
        '*' => Some(Mark::Strong),
        '_' => Some(Mark::Em),
        '+' => Some(Mark::Underline),
        '-' => Some(Mark::Strike),
        _ => None,
    }
}

/// Parses inline wiki markup; a newline is a hard break.
pub(crate) fn inline(text: &str) -> Vec<Inline> {
    let chars: Vec<char> = text.chars().collect();
    let mut pieces = Vec::new();
    let mut openers = Openers::default();
    let (mut code_ends, mut link_ends) = (CloseMemo::default(), CloseMemo::default());
    let mut buf = String::new();
    let flush = |buf: &mut String, pieces: &mut Vec<Piece>| {
        if !buf.is_empty() {
            pieces.push(Piece::Text(std::mem::take(buf)));
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|p| chars[p]);
        match c {
            '\\' if chars.get(i + 1) == Some(&'\\') => {
                flush(&mut buf, &mut pieces);
                pieces.push(Piece::Break);
                i += 2;
                continue;
            }
            '\\' if chars.get(i + 1).is_some_and(char::is_ascii_punctuation) => {
                buf.push(chars[i + 1]);
                i += 2;
                continue;
            }
            '\n' => {
                flush(&mut buf, &mut pieces);
                pieces.push(Piece::Break);
            }
            '&' => match entity(&chars[i..]) {
                Some((decoded, used)) => {
                    buf.push(decoded);
                    i += used;
                    continue;
                }
                None => buf.push('&'),
            },
            '{' if chars.get(i + 1) == Some(&'{') => {
                if let Some(end) = code_ends.find(&chars, i + 2, &['}', '}']) {
                    flush(&mut buf, &mut pieces);
                    let code = unescape(&chars[i + 2..end]);
                    let marks = Marks {
                        code: true,
                        ..Marks::default()
                    };
                    pieces.push(Piece::Group(vec![Inline::Text { text: code, marks }]));
                    i = end + 2;
                    continue;
                }
                buf.push('{');
            }
            '{' if chars.get(i + 2) == Some(&'}')
                && chars.get(i + 1).and_then(|c| mark_of(*c)).is_some() =>
            {
                let d = chars[i + 1];
                if let Some(mark) = mark_of(d) {
                    flush(&mut buf, &mut pieces);
                    if openers.is_open(mark) {
                        pieces.extend(openers.close(mark));
                    } else {
                        pieces.push(openers.open(mark, d, format!("{{{d}}}")));
                    }
                }
                i += 3;
                continue;
            }
            '[' => {
                if let Some(end) = link_ends.find(&chars, i + 1, &[']']) {
                    flush(&mut buf, &mut pieces);
                    pieces.push(Piece::Group(link(&chars[i + 1..end])));
                    i = end + 1;
                    continue;
                }
                buf.push('[');
            }
            d if mark_of(d).is_some() => {
                let next = chars.get(i + 1).copied();
                let can_open = prev.is_none_or(|p| !p.is_alphanumeric())
                    && next.is_some_and(|n| !n.is_whitespace());
                let can_close = prev.is_some_and(|p| !p.is_whitespace())
                    && next.is_none_or(|n| !n.is_alphanumeric());
                match mark_of(d) {
                    Some(mark) if openers.is_open(mark) && can_close => {
                        flush(&mut buf, &mut pieces);
                        pieces.extend(openers.close(mark));
                    }
                    Some(mark) if !openers.is_open(mark) && can_open => {
                        flush(&mut buf, &mut pieces);
                        pieces.push(openers.open(mark, d, d.to_string()));
                    }
                    _ => buf.push(d),
                }
            }
            other => buf.push(other),
        }
        i += 1;
    }
    flush(&mut buf, &mut pieces);
    openers.build(pieces)
}

/// The last search for a closer: where it started and what it found. A later search from a
/// position in between has the same answer when it does not start right after a backslash
/// (both then walk the same escapes), which keeps text like `[[[[…` linear rather than
/// quadratic.
#[derive(Default)]
struct CloseMemo(Option<(usize, Option<usize>)>);

impl CloseMemo {
    fn find(&mut self, chars: &[char], from: usize, close: &[char]) -> Option<usize> {
        if let Some((start, found)) = self.0
            && from >= start
            && found.is_none_or(|f| from <= f)
            && from.checked_sub(1).and_then(|p| chars.get(p)) != Some(&'\\')
        {
            return found;
        }
        let found = find_close(chars, from, close);
        self.0 = Some((from, found));
        found
    }
}

/// The index of the first unescaped occurrence of `close` at or after `from`.
fn find_close(chars: &[char], from: usize, close: &[char]) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '\\' {
            i += 2;
            continue;
        }
        if chars[i..].starts_with(close) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The content of `[...]`: a mention `~user`, a link `text|url`, or a bare link `url`.
fn link(inner: &[char]) -> Vec<Inline> {
    let text: String = inner.iter().collect();
    if let Some(user) = text.strip_prefix('~') {
        let id = user.strip_prefix("accountid:").unwrap_or(user).to_owned();
        return vec![Inline::Mention {
            text: format!("@{id}"),
            id,
        }];
    }
    let split = (0..inner.len())
        .rev()
        .find(|&i| inner[i] == '|' && (i == 0 || inner[i - 1] != '\\'));
    let (label, href) = match split {
        Some(at) => (&inner[..at], inner[at + 1..].iter().collect::<String>()),
        None => (inner, unescape(inner)),
    };
    let marks = Marks {
        link: Some(href.trim().to_owned()),
        ..Marks::default()
    };
    let label: String = label.iter().collect();
    inline(&label)
        .into_iter()
        .map(|n| with_marks(n, &marks))
        .collect()
}

/// Decodes backslash escapes and entities of plain text.
fn unescape(chars: &[char]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if chars.get(i + 1).is_some_and(char::is_ascii_punctuation) => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '&' => match entity(&chars[i..]) {
                Some((c, used)) => {
                    out.push(c);
                    i += used;
                }
                None => {
                    out.push('&');
                    i += 1;
                }
            },
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// An HTML entity at the start of `chars`: the character and the length consumed.
fn entity(chars: &[char]) -> Option<(char, usize)> {
    let end = chars.iter().take(12).position(|c| *c == ';')?;
    let body: String = chars[1..end].iter().collect();
    let decoded = match body.as_str() {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        _ => {
            let number = body.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((decoded, end + 1))
}

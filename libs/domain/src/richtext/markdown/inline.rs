//! Inline Markdown -> inline nodes: a delimiter-stack parser for `*`/`_` emphasis, `~~`
//! strike, code spans, links, escapes and hard breaks.

use std::collections::HashMap;

use super::super::pieces::{Mark, Openers, Piece, with_marks};
use super::super::{Inline, MAX_NESTING, Marks};

/// Parses inline Markdown.
pub(super) fn inline(text: &str) -> Vec<Inline> {
    inline_at(text, 0)
}

/// Parses inline Markdown inside `depth` links; past [`MAX_NESTING`] a `[` is plain text, so
/// that hostile nesting cannot exhaust the stack.
fn inline_at(text: &str, depth: usize) -> Vec<Inline> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = InlineParser::default();
    let mut scan = LinkScan::default();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => match chars.get(i + 1) {
                Some('\n') => {
                    p.piece(Piece::Break);
                    i = skip_spaces(&chars, i + 2);
                    continue;
                }
                Some(next) if next.is_ascii_punctuation() => {
                    p.buf.push(*next);
                    i += 2;
                    continue;
                }
                _ => p.buf.push('\\'),
            },
            '\n' => {
                p.buf.push(' ');
                i = skip_spaces(&chars, i + 1);
                continue;
            }
            '`' => {
                let k = run(&chars, i, '`');
                if let Some(end) = find_run(&chars, i + k, '`', k) {
                    let mut code: String = chars[i + k..end].iter().collect();
                    if code.len() >= 2
                        && code.starts_with(' ')
                        && code.ends_with(' ')
                        && !code.trim().is_empty()
                    {
                        code = code[1..code.len() - 1].to_owned();
                    }
                    let marks = Marks {
                        code: true,
                        ..Marks::default()
                    };
                    p.piece(Piece::Group(vec![Inline::Text { text: code, marks }]));
                    i = end + k;
                } else {
                    p.buf.extend(std::iter::repeat_n('`', k));
                    i += k;
                }
                continue;
            }
            '*' | '_' | '~' => {
                i = p.delimiters(&chars, i);
                continue;
            }
            '[' if depth < MAX_NESTING => {
                if let Some((inner, href, end)) = scan.link(&chars, i) {
                    let link = Marks {
                        link: Some(href),
                        ..Marks::default()
                    };
                    let inlines = inline_at(&inner, depth + 1)
                        .into_iter()
                        .map(|n| with_marks(n, &link));
                    p.piece(Piece::Group(inlines.collect()));
                    i = end;
                    continue;
                }
                p.buf.push('[');
            }
            other => p.buf.push(other),
        }
        i += 1;
    }
    p.finish()
}

#[derive(Default)]
struct InlineParser {
    pieces: Vec<Piece>,
    openers: Openers,
    buf: String,
}

impl InlineParser {
    fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.pieces.push(Piece::Text(std::mem::take(&mut self.buf)));
        }
    }

    fn piece(&mut self, piece: Piece) {
        self.flush();
        self.pieces.push(piece);
    }

    /// Handles the delimiter run at `i`; returns the index after it.
    fn delimiters(&mut self, chars: &[char], i: usize) -> usize {
        let ch = chars[i];
        let mut n = run(chars, i, ch);
        let end = i + n;
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(end).copied();
        let mut can_open = next.is_some_and(|c| !c.is_whitespace());
        let mut can_close = prev.is_some_and(|c| !c.is_whitespace());
        if ch == '_'
            && prev.is_some_and(char::is_alphanumeric)
            && next.is_some_and(char::is_alphanumeric)
        {
            (can_open, can_close) = (false, false);
        }
        if ch == '~' {
            if n == 2 && can_close && self.openers.top('~') == Some(Mark::Strike) {
                self.flush();
                self.pieces.extend(self.openers.close_top());
            } else if n == 2 && can_open {
                self.flush();
                let piece = self.openers.open(Mark::Strike, '~', "~~".into());
                self.pieces.push(piece);
            } else {
                self.buf.extend(std::iter::repeat_n('~', n));
            }
            return end;
        }
        self.flush();
        if can_close {
            while n > 0 {
                match self.openers.top(ch) {
                    Some(Mark::Em) => n -= 1,
                    Some(Mark::Strong) if n >= 2 => n -= 2,
                    _ => break,
                }
                self.pieces.extend(self.openers.close_top());
            }
        }
        while can_open && n > 0 {
            let (mark, width) = if n >= 2 {
                (Mark::Strong, 2)
            } else {
                (Mark::Em, 1)
            };
            let literal: String = std::iter::repeat_n(ch, width).collect();
            let piece = self.openers.open(mark, ch, literal);
            self.pieces.push(piece);
            n -= width;
            if n == 1 {
                let piece = self.openers.open(Mark::Em, ch, ch.to_string());
                self.pieces.push(piece);
                n = 0;
            }
        }
        self.buf.extend(std::iter::repeat_n(ch, n));
        end
    }

    fn finish(mut self) -> Vec<Inline> {
        self.flush();
        self.openers.build(self.pieces)
    }
}

fn skip_spaces(chars: &[char], mut i: usize) -> usize {
    while chars.get(i) == Some(&' ') {
        i += 1;
    }
    i
}

fn run(chars: &[char], i: usize, ch: char) -> usize {
    chars[i..].iter().take_while(|c| **c == ch).count()
}

/// The start of the next run of exactly `k` times `ch` at or after `from`.
fn find_run(chars: &[char], from: usize, ch: char, k: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == ch {
            let n = run(chars, i, ch);
            if n == k {
                return Some(i);
            }
            i += n;
        } else {
            i += 1;
        }
    }
    None
}

/// What link parsing learnt about one text, so that finding links stays about linear: a search
/// per `[` (to the end of the text when nothing closes it) made text like `[[[[…` or `[a](`
/// repeated quadratic.
#[derive(Default)]
struct LinkScan {
    /// The `]` closing the `[` at a position (`None`: nothing closes it), for every `[` a scan
    /// has passed. A scan's rules depend only on the position, so a `[` passed by the scan from
    /// another `[` gets the answer a scan from itself would give.
    closes: HashMap<usize, Option<usize>>,
    /// The last search for `>` and for `)`-or-whitespace: where it started and what it found.
    angle: Option<(usize, Option<usize>)>,
    stop: Option<(usize, Option<usize>)>,
}

impl LinkScan {
    /// A link `[inner](href)` at `start`: its inner text, its target and the index after it.
    fn link(&mut self, chars: &[char], start: usize) -> Option<(String, String, usize)> {
        let close = self.close_of(chars, start)?;
        if chars.get(close + 1) != Some(&'(') {
            return None;
        }
        let inner: String = chars[start + 1..close].iter().collect();
        let mut i = close + 2;
        let href = if chars.get(i) == Some(&'<') {
            let end = next(&mut self.angle, chars, i + 1, |c| c == '>')?;
            let href: String = chars[i + 1..end].iter().collect();
            i = end + 1;
            href
        } else {
            let end = next(&mut self.stop, chars, i, |c| c == ')' || c.is_whitespace())?;
            let href: String = chars[i..end].iter().collect();
            i = end;
            href
        };
        (chars.get(i) == Some(&')')).then(|| (inner, href, i + 1))
    }

    /// The `]` closing the `[` at `start`: escapes skip a character, code spans are skipped,
    /// brackets nest.
    fn close_of(&mut self, chars: &[char], start: usize) -> Option<usize> {
        if let Some(known) = self.closes.get(&start) {
            return *known;
        }
        let mut open: Vec<usize> = Vec::new();
        let mut i = start;
        while i < chars.len() {
            match chars[i] {
                '\\' => i += 1,
                '`' => {
                    let k = run(chars, i, '`');
                    i = find_run(chars, i + k, '`', k).map_or(i + k - 1, |e| e + k - 1);
                }
                '[' => open.push(i),
                ']' => {
                    if let Some(at) = open.pop() {
                        self.closes.insert(at, Some(i));
                    }
                    if open.is_empty() {
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        for at in open {
            self.closes.insert(at, None);
        }
        self.closes.get(&start).copied().flatten()
    }
}

/// The first index at or after `from` whose character matches, remembering the last search:
/// a later search from before what it found has the same answer.
fn next(
    memo: &mut Option<(usize, Option<usize>)>,
    chars: &[char],
    from: usize,
    matches: impl Fn(char) -> bool,
) -> Option<usize> {
    if let Some((start, found)) = *memo
        && from >= start
        && found.is_none_or(|f| from <= f)
    {
        return found;
    }
    let found = chars
        .get(from..)?
        .iter()
        .position(|c| matches(*c))
        .map(|p| from + p);
    *memo = Some((from, found));
    found
}

//! The shared back half of the Markdown and wiki inline parsers: a flat list of pieces (text,
//! mark openers and closers, hard breaks, finished groups), where openers that never got their
//! closer turn back into literal text, folded into inline nodes with their marks.

use std::collections::HashSet;

use super::{Inline, Marks};

/// A mark a delimiter can open or close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    Strong,
    Em,
    Underline,
    Strike,
}

/// One piece of parsed inline text.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    Text(String),
    /// Opens `mark`; `literal` is the source text, used when no closer matched.
    Open {
        id: usize,
        mark: Mark,
        literal: String,
    },
    Close {
        id: usize,
    },
    Break,
    /// Inline nodes already built (links, code spans, mentions); the marks around them are
    /// added on top of their own.
    Group(Vec<Inline>),
}

/// Open delimiters awaiting their closers.
#[derive(Debug, Default)]
pub(crate) struct Openers {
    stack: Vec<(usize, Mark, char)>,
    next_id: usize,
    /// A set: `build` looks up every opener, and a list made that quadratic.
    matched: HashSet<usize>,
}

impl Openers {
    /// Records an opener of `mark` written with `ch`; returns its piece.
    pub fn open(&mut self, mark: Mark, ch: char, literal: String) -> Piece {
        let id = self.next_id;
        self.next_id += 1;
        self.stack.push((id, mark, ch));
        Piece::Open { id, mark, literal }
    }

    /// The mark of the innermost open delimiter, if it was written with `ch`.
    pub fn top(&self, ch: char) -> Option<Mark> {
        self.stack
            .last()
            .and_then(|(_, mark, c)| (*c == ch).then_some(*mark))
    }

    /// Whether `mark` is open anywhere.
    pub fn is_open(&self, mark: Mark) -> bool {
        self.stack.iter().any(|(_, m, _)| *m == mark)
    }

    /// Closes the innermost delimiter; returns its piece.
    pub fn close_top(&mut self) -> Option<Piece> {
        let (id, _, _) = self.stack.pop()?;
        self.matched.insert(id);
        Some(Piece::Close { id })
    }

    /// Closes the innermost open `mark` and everything opened inside it (those become literal).
    pub fn close(&mut self, mark: Mark) -> Option<Piece> {
        let at = self.stack.iter().rposition(|(_, m, _)| *m == mark)?;
        self.stack.truncate(at + 1);
        self.close_top()
    }

    /// Folds `pieces` into inline nodes.
    pub fn build(self, pieces: Vec<Piece>) -> Vec<Inline> {
        let mut active: Vec<(usize, Mark)> = Vec::new();
        let mut out = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Text(text) => out.push(Inline::Text {
                    text,
                    marks: marks_of(&active),
                }),
                Piece::Open { id, mark, literal } => {
                    if self.matched.contains(&id) {
                        active.push((id, mark));
                    } else {
                        out.push(Inline::Text {
                            text: literal,
                            marks: marks_of(&active),
                        });
                    }
                }
                Piece::Close { id } => active.retain(|(a, _)| *a != id),
                Piece::Break => out.push(Inline::HardBreak),
                Piece::Group(inlines) => {
                    let outer = marks_of(&active);
                    out.extend(inlines.into_iter().map(|i| with_marks(i, &outer)));
                }
            }
        }
        super::normalize_inlines(out)
    }
}

fn marks_of(active: &[(usize, Mark)]) -> Marks {
    let mut marks = Marks::default();
    for (_, mark) in active {
        match mark {
            Mark::Strong => marks.strong = true,
            Mark::Em => marks.em = true,
            Mark::Underline => marks.underline = true,
            Mark::Strike => marks.strike = true,
        }
    }
    marks
}

/// `inline` with the marks of `outer` added.
pub(crate) fn with_marks(inline: Inline, outer: &Marks) -> Inline {
    match inline {
        Inline::Text { text, mut marks } => {
            marks.strong |= outer.strong;
            marks.em |= outer.em;
            marks.underline |= outer.underline;
            marks.strike |= outer.strike;
            marks.code |= outer.code;
            if marks.link.is_none() {
                marks.link = outer.link.clone();
            }
            Inline::Text { text, marks }
        }
        other => other,
    }
}

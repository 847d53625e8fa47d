//! Documents of the supported rich-text subset (see `richtext`'s module documentation), built
//! like the unit property tests build them but from a wider alphabet (every syntax character of
//! both dialects, non-ASCII letters, symbols, emoji, combining and zero-width characters) and
//! longer texts, for the exact round trips those tests assert.

use jira_sync_domain::richtext::{Block, Inline, ListItem, Marks, normalize};
use proptest::prelude::*;

/// Word characters: never whitespace (text lines do not start or end with spaces).
const POOL: &[char] = &[
    'a', 'b', 'Z', 'q', '0', '7', '*', '_', '[', ']', '\\', '`', '~', '#', '-', '+', '.', '!', '?',
    '&', ';', '{', '}', '|', '(', ')', '<', '>', '=', '^', ':', '@', 'é', 'ß', 'Ж', '中', '🦀',
    '\u{301}', '\u{200b}', '"', '\'', '/', '$', '%', ',', '1', '9',
];

fn word(pool: &'static [char]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(pool), 1..10).prop_map(|c| c.into_iter().collect())
}

fn words(pool: &'static [char]) -> impl Strategy<Value = String> {
    prop::collection::vec(word(pool), 1..6).prop_map(|w| w.join(" "))
}

/// Which marks a dialect can carry.
#[derive(Clone, Copy, Debug)]
pub struct Dialect {
    underline: bool,
    mentions: bool,
}

pub const MARKDOWN: Dialect = Dialect {
    underline: false,
    mentions: false,
};
pub const WIKI: Dialect = Dialect {
    underline: true,
    mentions: true,
};

fn marks(d: Dialect) -> impl Strategy<Value = Marks> {
    (
        any::<[bool; 5]>(),
        prop::option::of(word(&['a', 'b', '1', '/', '_', '-', '.', '~', '%'])),
    )
        .prop_map(move |(on, link)| {
            let code = on[4];
            Marks {
                strong: on[0] && !code,
                em: on[1] && !code,
                strike: on[2] && !code,
                underline: on[3] && !code && d.underline,
                code,
                link: link.map(|l| format!("https://x.example/{l}")),
                other: Vec::new(),
            }
        })
}

fn segment(d: Dialect) -> BoxedStrategy<Inline> {
    let text = (words(POOL), marks(d)).prop_map(|(text, marks)| Inline::Text { text, marks });
    if !d.mentions {
        return text.boxed();
    }
    let mention = word(&['a', 'b', '1', '2', '-', ':']).prop_map(|id| Inline::Mention {
        text: format!("@{id}"),
        id,
    });
    prop_oneof![8 => text, 1 => mention].boxed()
}

fn inlines(d: Dialect, breaks: bool) -> impl Strategy<Value = Vec<Inline>> {
    prop::collection::vec((segment(d), 0u8..3), 1..7).prop_map(move |parts| {
        let mut out = Vec::new();
        let last = parts.len() - 1;
        for (i, (inline, sep)) in parts.into_iter().enumerate() {
            out.push(inline);
            match sep {
                _ if i == last => {}
                1 => out.push(Inline::plain(" ")),
                2 if breaks => out.push(Inline::HardBreak),
                _ => {}
            }
        }
        out
    })
}

fn code_text() -> impl Strategy<Value = String> {
    const CODE: &[char] = &[
        'a', 'x', ' ', '*', '_', '`', '#', '-', '\\', '(', 'é', '🦀', '>', '|', '~',
    ];
    prop::collection::vec(word(CODE), 0..5).prop_map(|lines| lines.join("\n"))
}

fn list_item(d: Dialect, nested: bool) -> BoxedStrategy<ListItem> {
    let para = inlines(d, true).prop_map(Block::Paragraph);
    if nested {
        (para, prop::option::of(list(d, false)))
            .prop_map(|(p, sub)| ListItem {
                blocks: std::iter::once(p).chain(sub).collect(),
            })
            .boxed()
    } else {
        para.prop_map(|p| ListItem { blocks: vec![p] }).boxed()
    }
}

fn list(d: Dialect, nested: bool) -> BoxedStrategy<Block> {
    let items = prop::collection::vec(list_item(d, nested), 1..5);
    let starts = if d.underline { 1u32..2 } else { 1u32..1000 };
    prop_oneof![
        items.clone().prop_map(Block::BulletList),
        (starts, items).prop_map(|(s, items)| Block::OrderedList(s, items)),
    ]
    .boxed()
}

fn block(d: Dialect) -> impl Strategy<Value = Block> {
    prop_oneof![
        4 => inlines(d, true).prop_map(Block::Paragraph),
        1 => (1u8..7, inlines(d, false)).prop_map(|(l, i)| Block::Heading(l, i)),
        2 => list(d, true),
        1 => (prop::option::of(word(&['r', 's', 't', '+', '#'])), code_text())
            .prop_map(|(language, text)| Block::CodeBlock { language, text }),
        1 => prop::collection::vec(inlines(d, true).prop_map(Block::Paragraph), 1..3)
            .prop_map(Block::Blockquote),
        1 => Just(Block::Rule),
    ]
}

/// A document of the subset where two lists never touch (they would read as one list).
pub fn document(d: Dialect) -> impl Strategy<Value = Vec<Block>> {
    prop::collection::vec(block(d), 1..7).prop_map(|blocks| {
        let mut out: Vec<Block> = Vec::new();
        for b in blocks {
            let is_list = |b: &Block| matches!(b, Block::BulletList(_) | Block::OrderedList(..));
            if out.last().is_some_and(is_list) && is_list(&b) {
                out.push(Block::Paragraph(vec![Inline::plain("between")]));
            }
            out.push(b);
        }
        normalize(out)
    })
}

/// Paragraphs of lines of words, the shape plain text round-trips in.
pub fn plain_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::collection::vec(words(POOL), 1..5), 1..5).prop_map(|paragraphs| {
        paragraphs
            .iter()
            .map(|p| p.join("\n"))
            .collect::<Vec<_>>()
            .join("\n\n")
    })
}

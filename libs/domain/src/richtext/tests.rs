//! Round trips of the supported subset (property tests) and examples of each converter.

use proptest::prelude::*;
use serde_json::json;

use super::*;

/// Characters of words, syntax characters of both dialects included so that escaping is tested.
const POOL: &[char] = &[
    'a', 'b', 'Z', 'q', '0', '7', '*', '_', '[', ']', '\\', '`', '~', '#', '-', '+', '.', '!', '?',
    '&', ';', '{', '}', '|', '(', ')', '<', '>', '=', '^', ':', '@', 'é',
];

fn word(pool: &'static [char]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(pool), 1..6).prop_map(|c| c.into_iter().collect())
}

fn words(pool: &'static [char]) -> impl Strategy<Value = String> {
    prop::collection::vec(word(pool), 1..4).prop_map(|w| w.join(" "))
}

/// Which marks a dialect can carry.
#[derive(Clone, Copy, Debug)]
struct Dialect {
    underline: bool,
    mentions: bool,
}

fn marks(d: Dialect) -> impl Strategy<Value = Marks> {
    (
        any::<[bool; 5]>(),
        prop::option::of(word(&['a', 'b', '1', '/'])),
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
    let mention = word(&['a', 'b', '1', '2', '-']).prop_map(|id| Inline::Mention {
        text: format!("@{id}"),
        id,
    });
    prop_oneof![8 => text, 1 => mention].boxed()
}

/// Inline content: segments joined by nothing, a space or a hard break.
fn inlines(d: Dialect, breaks: bool) -> impl Strategy<Value = Vec<Inline>> {
    prop::collection::vec((segment(d), 0u8..3), 1..5).prop_map(move |parts| {
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
    const CODE: &[char] = &['a', 'x', ' ', '*', '_', '`', '#', '-', '\\', '('];
    prop::collection::vec(word(CODE), 0..4).prop_map(|lines| lines.join("\n"))
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
    let items = prop::collection::vec(list_item(d, nested), 1..4);
    let starts = if d.underline { 1u32..2 } else { 1u32..20 };
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
        1 => (prop::option::of(word(&['r', 's', 't'])), code_text())
            .prop_map(|(language, text)| Block::CodeBlock { language, text }),
        1 => prop::collection::vec(inlines(d, true).prop_map(Block::Paragraph), 1..3)
            .prop_map(Block::Blockquote),
        1 => Just(Block::Rule),
    ]
}

/// A document where two lists never touch (they would read as one list).
fn document(d: Dialect) -> impl Strategy<Value = Vec<Block>> {
    prop::collection::vec(block(d), 1..5).prop_map(|blocks| {
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

const MARKDOWN: Dialect = Dialect {
    underline: false,
    mentions: false,
};
const WIKI: Dialect = Dialect {
    underline: true,
    mentions: true,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_subset_round_trips_through_adf_json(doc in document(WIKI)) {
        prop_assert_eq!(normalize(from_adf(&to_adf(&doc))), doc);
    }

    #[test]
    fn the_subset_round_trips_through_markdown(doc in document(MARKDOWN)) {
        let md = markdown::render(&doc);
        prop_assert_eq!(normalize(markdown::to_blocks(&md)), doc, "markdown:\n{}", md);
    }

    #[test]
    fn the_subset_round_trips_through_wiki_markup(doc in document(WIKI)) {
        let wiki = wiki::render(&doc);
        prop_assert_eq!(normalize(wiki::to_blocks(&wiki)), doc, "wiki:\n{}", wiki);
    }

    #[test]
    fn plain_text_round_trips_through_adf(
        paragraphs in prop::collection::vec(prop::collection::vec(words(POOL), 1..4), 1..4)
    ) {
        let text = paragraphs.iter().map(|p| p.join("\n")).collect::<Vec<_>>().join("\n\n");
        prop_assert_eq!(text::from_adf(&text::to_adf(&text)), text);
    }
}

#[test]
fn markdown_reads_what_people_write() {
    let md = "# Title\n\nSome **bold**, _em_ and `code`\nsame paragraph.  \nbroken\n\n* one\n* two\n  1. deep\n\n> quoted\n\n```rust\nfn x() {}\n```\n\n---\n\n[site](https://x.example) snake_case_word";
    let doc = markdown::to_adf(md);
    let expected = json!({"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 1}, "content": [{"type": "text", "text": "Title"}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "Some "},
            {"type": "text", "text": "bold", "marks": [{"type": "strong"}]},
            {"type": "text", "text": ", "},
            {"type": "text", "text": "em", "marks": [{"type": "em"}]},
            {"type": "text", "text": " and "},
            {"type": "text", "text": "code", "marks": [{"type": "code"}]},
            {"type": "text", "text": " same paragraph."},
            {"type": "hardBreak"},
            {"type": "text", "text": "broken"},
        ]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]},
            {"type": "listItem", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "two"}]},
                {"type": "orderedList", "attrs": {"order": 1}, "content": [
                    {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "deep"}]}]},
                ]},
            ]},
        ]},
        {"type": "blockquote", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "quoted"}]}]},
        {"type": "codeBlock", "attrs": {"language": "rust"}, "content": [{"type": "text", "text": "fn x() {}"}]},
        {"type": "rule"},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "site", "marks": [{"type": "link", "attrs": {"href": "https://x.example"}}]},
            {"type": "text", "text": " snake_case_word"},
        ]},
    ]});
    assert_eq!(doc, expected);
}

#[test]
fn wiki_markup_reads_jira_data_center_text() {
    let wiki = "h2. Status\n\n*bold* and _em_ with {{mono}} and [~jdoe]\nnext line\n\n* a\n** b\n# one\n\n{code:java}\nint x;\n{code}\n\n[docs|https://x.example]";
    let blocks = wiki::to_blocks(wiki);
    let strong = Marks {
        strong: true,
        ..Marks::default()
    };
    assert_eq!(
        blocks[1],
        Block::Paragraph(vec![
            Inline::Text {
                text: "bold".into(),
                marks: strong
            },
            Inline::plain(" and "),
            Inline::Text {
                text: "em".into(),
                marks: Marks {
                    em: true,
                    ..Marks::default()
                }
            },
            Inline::plain(" with "),
            Inline::Text {
                text: "mono".into(),
                marks: Marks {
                    code: true,
                    ..Marks::default()
                }
            },
            Inline::plain(" and "),
            Inline::Mention {
                id: "jdoe".into(),
                text: "@jdoe".into()
            },
            Inline::HardBreak,
            Inline::plain("next line"),
        ])
    );
    assert!(matches!(&blocks[2], Block::BulletList(items) if items[0].blocks.len() == 2));
    assert!(matches!(&blocks[3], Block::OrderedList(1, _)));
    assert_eq!(
        blocks[4],
        Block::CodeBlock {
            language: Some("java".into()),
            text: "int x;".into()
        }
    );
    let rendered = wiki::render(&blocks);
    assert!(
        rendered.starts_with("h2. Status\n\n*bold* and _em_ with {{mono}} and [~jdoe]\nnext line"),
        "{rendered}"
    );
}

#[test]
fn nodes_outside_the_subset_survive_adf_and_become_text_elsewhere() {
    let panel = json!({"type": "panel", "attrs": {"panelType": "info"}, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Heads up"}]}]});
    let doc = json!({"type": "doc", "version": 1, "content": [panel]});
    assert_eq!(to_adf(&from_adf(&doc)), doc);
    assert_eq!(markdown::from_adf(&doc), "Heads up");
    assert_eq!(text::from_adf(&doc), "Heads up");
}

/// How deep quotes and lists nest in `blocks`.
fn nesting(blocks: &[Block]) -> usize {
    blocks
        .iter()
        .map(|b| match b {
            Block::Blockquote(inner) => 1 + nesting(inner),
            Block::BulletList(items) | Block::OrderedList(_, items) => {
                1 + items.iter().map(|i| nesting(&i.blocks)).max().unwrap_or(0)
            }
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn hostile_nesting_is_read_as_text_past_the_limit_instead_of_exhausting_the_stack() {
    // Each of these overflowed the stack (an abort, not a panic) before the nesting limit.
    let quotes = format!("{} deep", ">".repeat(100_000));
    let blocks = markdown::to_blocks(&quotes);
    assert_eq!(nesting(&blocks), MAX_NESTING);
    let lists = format!("{}deep", "- ".repeat(50_000));
    assert_eq!(nesting(&markdown::to_blocks(&lists)), MAX_NESTING);
    let links = format!("{}a{}", "[".repeat(20_000), "](x)".repeat(20_000));
    let adf = markdown::to_adf(&links);
    assert!(adf::is_doc(&adf));

    let wiki_quotes = "{quote}\n".repeat(50_000);
    assert!(nesting(&wiki::to_blocks(&wiki_quotes)) <= MAX_NESTING);
    let wiki_list = format!("{} deep", "*".repeat(100_000));
    assert_eq!(
        wiki::to_blocks(&wiki_list).len(),
        1,
        "one paragraph, not a list"
    );
    let ok_list = format!("{} deep", "*".repeat(MAX_NESTING));
    assert_eq!(nesting(&wiki::to_blocks(&ok_list)), MAX_NESTING);
}

#[test]
fn unclosed_brackets_and_delimiters_are_text_and_parse_in_one_pass() {
    // Each `[` used to search to the end of the text for its `]`: quadratic, minutes here.
    let brackets = "[".repeat(100_000);
    assert_eq!(
        markdown::to_blocks(&brackets),
        vec![Block::Paragraph(vec![Inline::plain(brackets.clone())])]
    );
    assert_eq!(
        wiki::to_blocks(&brackets),
        vec![Block::Paragraph(vec![Inline::plain(brackets.clone())])]
    );
    let targets = "[a](".repeat(25_000);
    assert_eq!(markdown::to_blocks(&targets).len(), 1);
    let code = "{{".repeat(50_000);
    assert_eq!(
        wiki::to_blocks(&code),
        vec![Block::Paragraph(vec![Inline::plain(code.clone())])]
    );
    // Unmatched wiki delimiters: every opener used to be looked up in a list.
    let stars = "*a ".repeat(30_000);
    assert_eq!(wiki::to_blocks(&stars).len(), 1);
    // A link is still found after a long run of unclosed brackets.
    let late = format!("{}[site](https://x.example)", "[".repeat(1_000));
    let Block::Paragraph(inlines) = &markdown::to_blocks(&late)[0] else {
        panic!("a paragraph");
    };
    assert!(
        matches!(inlines.last(), Some(Inline::Text { text, marks }) if text == "site" && marks.link.as_deref() == Some("https://x.example"))
    );
}

#[test]
fn a_lone_carriage_return_is_a_line_ending_so_plain_text_is_stable_after_one_trip() {
    // Found by the fuzz test: `\r\r\n\n` lost one `\r` per trip (only `\r\n` was a line end).
    let text = "in\r\r\r\n\nnext\rline";
    let once = text::from_adf(&text::to_adf(text));
    assert_eq!(once, "in\n\nnext\nline");
    assert_eq!(text::from_adf(&text::to_adf(&once)), once);
    assert_eq!(
        markdown::to_blocks("a\rb"),
        markdown::to_blocks("a\nb"),
        "markdown reads a lone CR as a newline"
    );
    assert_eq!(wiki::to_blocks("a\rb"), wiki::to_blocks("a\nb"));
}

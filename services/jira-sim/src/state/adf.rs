//! Atlassian Document Format: the structural check Jira applies to rich-text input, and a plain
//! text rendering used where Jira's webhooks carry text instead of ADF.

use serde_json::{Value, json};

/// Whether `v` is an ADF document Jira would accept: `{"type":"doc","version":1,"content":[..]}`
/// whose nodes all have a string `type`, and whose text nodes have non-empty text.
pub(crate) fn is_doc(v: &Value) -> bool {
    let Some(obj) = v.as_object() else {
        return false;
    };
    obj.get("type").and_then(Value::as_str) == Some("doc")
        && obj.get("version").is_none_or(|x| x.as_u64() == Some(1))
        && obj
            .get("content")
            .and_then(Value::as_array)
            .is_some_and(|c| c.iter().all(|n| is_node(n, 1)))
}

fn is_node(v: &Value, depth: usize) -> bool {
    let Some(obj) = v.as_object() else {
        return false;
    };
    let Some(kind) = obj.get("type").and_then(Value::as_str) else {
        return false;
    };
    if depth > 32 {
        return false;
    }
    if kind == "text"
        && obj
            .get("text")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        return false;
    }
    match obj.get("content") {
        None => true,
        Some(Value::Array(children)) => children.iter().all(|c| is_node(c, depth + 1)),
        Some(_) => false,
    }
}

/// Plain text of a document: text concatenated, a newline after each block, `@name` for
/// mentions.
pub(crate) fn to_text(v: &Value) -> String {
    let mut out = String::new();
    walk(v, &mut out);
    out.trim_end().to_owned()
}

fn walk(v: &Value, out: &mut String) {
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "text" => out.push_str(v.get("text").and_then(Value::as_str).unwrap_or_default()),
        "hardBreak" => out.push('\n'),
        "mention" => {
            out.push('@');
            let text = v
                .pointer("/attrs/text")
                .and_then(Value::as_str)
                .unwrap_or_default();
            out.push_str(text.trim_start_matches('@'));
        }
        _ => {
            for child in v
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                walk(child, out);
            }
            let block = matches!(
                kind,
                "paragraph" | "heading" | "codeBlock" | "blockquote" | "listItem" | "rule"
            );
            if block && !out.ends_with('\n') {
                out.push('\n');
            }
        }
    }
}

/// A one-paragraph document holding `text` (used for seeded issues).
pub(crate) fn paragraph(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paragraph_document_is_valid_and_reads_back_as_its_text() {
        let doc = paragraph("Hello world");
        assert!(is_doc(&doc));
        assert_eq!(to_text(&doc), "Hello world");
    }

    #[test]
    fn strings_missing_types_and_empty_text_nodes_are_not_documents() {
        assert!(!is_doc(&json!("plain text")));
        assert!(!is_doc(&json!({"type": "paragraph", "content": []})));
        assert!(!is_doc(
            &json!({"type": "doc", "version": 1, "content": [{"content": []}]})
        ));
        let empty_text = json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": ""}]}]});
        assert!(!is_doc(&empty_text));
    }

    #[test]
    fn blocks_become_lines_and_mentions_keep_their_name() {
        let doc = json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "a"},
                {"type": "mention", "attrs": {"id": "x", "text": "@Ann"}}]},
            {"type": "paragraph", "content": [{"type": "text", "text": "b"}, {"type": "hardBreak"},
                {"type": "text", "text": "c"}]}]});
        assert_eq!(to_text(&doc), "a@Ann\nb\nc");
    }
}

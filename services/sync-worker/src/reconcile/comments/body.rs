//! Comment bodies: the attribution header a copy carries ("Alice Example wrote in Acme
//! Jira:"), the canonical form of a body (header stripped, mentions in canonical ids) and its
//! digest, which the comment link keeps per side to tell edits from echoes.

use jira_sync_domain::Side;
use jira_sync_domain::richtext::text::inline_text;
use jira_sync_domain::richtext::{Block, from_adf};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::ReconcileError;
use crate::reconcile::jira_map::people::People;

/// The header paragraph of a copy of a comment written by `author` on site `site`.
pub fn header(author: &str, site: &str) -> Value {
    json!({"type": "paragraph", "content": [
        {"type": "text", "text": author, "marks": [{"type": "strong"}]},
        {"type": "text", "text": format!(" wrote in {site}:")},
    ]})
}

/// Whether the first block of `doc` is a copy header naming `site`.
fn starts_with_header(doc: &Value, site: &str) -> bool {
    let suffix = format!(" wrote in {site}:");
    matches!(from_adf(doc).first(), Some(Block::Paragraph(inlines)) if inline_text(inlines).ends_with(&suffix))
}

/// `doc` without its copy header.
pub fn strip_header(doc: &Value, site: &str) -> Value {
    if !starts_with_header(doc, site) {
        return doc.clone();
    }
    let mut copy = doc.clone();
    if let Some(Value::Array(content)) = copy.get_mut("content") {
        content.remove(0);
    }
    copy
}

/// The body of a copy on `target`: the header, then the canonical content with its mentions
/// in `target`'s ids.
pub async fn copy_body(
    people: &People<'_>,
    content: &Value,
    target: Side,
    author: &str,
    origin_site: &str,
) -> Result<Value, ReconcileError> {
    let content = people.mentions_for(content, target).await?;
    let mut blocks = vec![header(author, origin_site)];
    blocks.extend(
        content
            .get("content")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    );
    Ok(json!({"type": "doc", "version": 1, "content": blocks}))
}

/// The canonical content of a body read on `side`: without the header when it is a copy made
/// from `origin_site`, mentions in canonical ids.
pub async fn canonical(
    people: &People<'_>,
    body: &Value,
    side: Side,
    copy_of: Option<&str>,
) -> Result<Value, ReconcileError> {
    let body = match copy_of {
        Some(site) => strip_header(body, site),
        None => body.clone(),
    };
    people.canonical_mentions(&body, side).await
}

/// A stable digest of a JSON value (keys sorted, whatever the map implementation).
pub fn digest(value: &Value) -> String {
    let mut text = String::new();
    write_sorted(value, &mut text);
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn write_sorted(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_sorted(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(blocks: Vec<Value>) -> Value {
        json!({"type": "doc", "version": 1, "content": blocks})
    }

    fn para(text: &str) -> Value {
        json!({"type": "paragraph", "content": [{"type": "text", "text": text}]})
    }

    #[test]
    fn the_header_of_a_copy_is_recognised_and_stripped() {
        let copy = doc(vec![header("Alice Example", "Acme Jira"), para("hello")]);
        assert_eq!(strip_header(&copy, "Acme Jira"), doc(vec![para("hello")]));
        // Another site's header, or none: the body is left as it is.
        assert_eq!(strip_header(&copy, "Other"), copy);
        let plain = doc(vec![para("hello")]);
        assert_eq!(strip_header(&plain, "Acme Jira"), plain);
    }

    #[test]
    fn digests_do_not_depend_on_key_order() -> Result<(), serde_json::Error> {
        let a: Value = serde_json::from_str(r#"{"a": 1, "b": [{"x": 1, "y": 2}]}"#)?;
        let b: Value = serde_json::from_str(r#"{"b": [{"y": 2, "x": 1}], "a": 1}"#)?;
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(digest(&a), digest(&json!({"a": 2})));
        Ok(())
    }
}

//! Site-specific ids inside ADF: mentions carry the account id of the site they were written
//! on. Copying ADF to another site rewrites each mention to the id of the same person there,
//! and turns a mention of someone without a counterpart into the plain text `@Name`, which is
//! what a reader there can make sense of. Everything else passes through untouched.

use serde_json::{Map, Value, json};

use super::text::mention_text;

/// The account ids mentioned in a document, in order of appearance, without repeats.
pub fn mention_ids(doc: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    collect(doc, &mut ids);
    ids
}

fn collect(v: &Value, ids: &mut Vec<String>) {
    if v.get("type").and_then(Value::as_str) == Some("mention") {
        if let Some(id) = v.pointer("/attrs/id").and_then(Value::as_str)
            && !ids.iter().any(|x| x == id)
        {
            ids.push(id.to_owned());
        }
        return;
    }
    for child in v
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect(child, ids);
    }
}

/// A copy of `doc` with each mention's id replaced by `map(id)`, or the mention replaced by
/// `@Name` text when `map` gives `None`.
pub fn rewrite_mentions(doc: &Value, map: &dyn Fn(&str) -> Option<String>) -> Value {
    match doc {
        Value::Object(obj) if obj.get("type").and_then(Value::as_str) == Some("mention") => {
            let id = doc
                .pointer("/attrs/id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let text = doc
                .pointer("/attrs/text")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match map(id) {
                Some(new_id) => {
                    // `attrs` is whatever the document holds: replaced by an object when it is
                    // not one (indexing a non-object `Value` mutably would panic).
                    let mut copy = obj.clone();
                    let attrs = copy
                        .entry("attrs")
                        .or_insert_with(|| Value::Object(Map::new()));
                    if !attrs.is_object() {
                        *attrs = Value::Object(Map::new());
                    }
                    if let Value::Object(attrs) = attrs {
                        attrs.insert("id".into(), json!(new_id));
                    }
                    Value::Object(copy)
                }
                None => json!({"type": "text", "text": mention_text(id, text)}),
            }
        }
        Value::Object(obj) => {
            let mut copy = obj.clone();
            if let Some(Value::Array(children)) = obj.get("content") {
                let mapped = children.iter().map(|c| rewrite_mentions(c, map)).collect();
                copy.insert("content".into(), Value::Array(mapped));
            }
            Value::Object(copy)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "Hi "},
            {"type": "mention", "attrs": {"id": "a-1", "text": "@Alice", "accessLevel": ""}},
            {"type": "text", "text": " and "},
            {"type": "mention", "attrs": {"id": "a-2", "text": "@Bob"}},
        ]}]})
    }

    #[test]
    fn known_mentions_get_the_other_sites_id_and_unknown_ones_become_text() {
        let out = rewrite_mentions(&doc(), &|id| (id == "a-1").then(|| "b-1".to_owned()));
        let content = &out["content"][0]["content"];
        assert_eq!(
            content[1],
            json!({"type": "mention", "attrs": {"id": "b-1", "text": "@Alice", "accessLevel": ""}})
        );
        assert_eq!(content[3], json!({"type": "text", "text": "@Bob"}));
        assert_eq!(content[0], json!({"type": "text", "text": "Hi "}));
    }

    #[test]
    fn a_mention_whose_attrs_are_not_an_object_is_rewritten_without_panicking() {
        // Found by the fuzz test: `copy["attrs"]["id"] = ..` panicked on such a node.
        for attrs in [json!(false), json!("x"), json!([1]), json!(7)] {
            let doc = json!({"type": "doc", "content": [{"type": "mention", "attrs": attrs}]});
            let out = rewrite_mentions(&doc, &|_| Some("b-1".to_owned()));
            assert_eq!(
                out["content"][0],
                json!({"type": "mention", "attrs": {"id": "b-1"}})
            );
            let out = rewrite_mentions(&doc, &|_| None);
            assert_eq!(out["content"][0], json!({"type": "text", "text": "@"}));
        }
    }

    #[test]
    fn mention_ids_are_listed_once_in_order() {
        assert_eq!(mention_ids(&doc()), vec!["a-1", "a-2"]);
    }
}

//! A small structural check of JSON values against the schemas of `openapi.json`: `$ref`,
//! `allOf`/`anyOf`/`oneOf`, `type` (one or several), `enum`, `required`, `properties`,
//! `additionalProperties`, `items`, `minItems`, `minimum` and the `date-time`/`uuid` formats.
//! Enough to catch a response or an example drifting from the document, not a full validator.

use serde_json::Value;

use super::helpers::Reply;

/// The document in the repository.
pub fn document() -> Value {
    serde_json::from_str(jira_sync_admin::OPENAPI_JSON).expect("openapi.json parses")
}

/// Follows a local `$ref` (`#/components/...`).
pub fn resolve<'d>(doc: &'d Value, node: &'d Value) -> &'d Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            let target = doc
                .pointer(pointer)
                .unwrap_or_else(|| panic!("dangling $ref {reference}"));
            resolve(doc, target)
        }
        None => node,
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        other => panic!("unknown type {other} in the document"),
    }
}

/// Checks `value` against `schema`; the error names the first mismatch and where it is.
pub fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for part in all {
            check(doc, part, value, at)?;
        }
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(|s| check(doc, s, value, at).is_ok())
    {
        return Err(format!("{at}: matches none of anyOf: {value}"));
    }
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = one
            .iter()
            .filter(|s| check(doc, s, value, at).is_ok())
            .count();
        if matching != 1 {
            return Err(format!("{at}: matches {matching} of oneOf, not 1: {value}"));
        }
    }
    match schema.get("type") {
        Some(Value::String(name)) if !type_matches(name, value) => {
            return Err(format!("{at}: expected {name}, got {value}"));
        }
        Some(Value::Array(names))
            if !names
                .iter()
                .filter_map(Value::as_str)
                .any(|n| type_matches(n, value)) =>
        {
            return Err(format!("{at}: expected one of {names:?}, got {value}"));
        }
        _ => {}
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    if let (Some(format), Some(text)) =
        (schema.get("format").and_then(Value::as_str), value.as_str())
    {
        let ok = match format {
            "date-time" => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            "uuid" => uuid::Uuid::parse_str(text).is_ok(),
            _ => true,
        };
        if !ok {
            return Err(format!("{at}: {text:?} is not a {format}"));
        }
    }
    if let (Some(minimum), Some(n)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) && n < minimum
    {
        return Err(format!("{at}: {n} is below {minimum}"));
    }
    if let Some(object) = value.as_object() {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap_or_default();
            if !object.contains_key(name) {
                return Err(format!("{at}: required `{name}` is missing"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, item) in object {
            let at = format!("{at}.{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(property) => check(doc, property, item, &at)?,
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => return Err(format!("{at}: not allowed")),
                    Some(extra @ Value::Object(_)) => check(doc, extra, item, &at)?,
                    _ => {}
                },
            }
        }
    }
    if let Some(items) = value.as_array() {
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && (items.len() as u64) < min
        {
            return Err(format!("{at}: fewer than {min} items"));
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                check(doc, item_schema, item, &format!("{at}[{i}]"))?;
            }
        }
    }
    Ok(())
}

/// The documented JSON schema of `status` answers to `method path`.
pub fn response_schema<'d>(doc: &'d Value, method: &str, path: &str, status: u16) -> &'d Value {
    let operation = doc["paths"][path][method.to_ascii_lowercase()].clone();
    assert!(operation.is_object(), "{method} {path} is not documented");
    let response =
        &doc["paths"][path][method.to_ascii_lowercase()]["responses"][status.to_string()];
    assert!(
        !response.is_null(),
        "{method} {path} does not document status {status}"
    );
    &resolve(doc, response)["content"]["application/json"]["schema"]
}

/// Asserts that a live answer has a documented status and matches its schema.
pub fn assert_documented(method: &str, path: &str, reply: &Reply) {
    let doc = document();
    let schema = response_schema(&doc, method, path, reply.status);
    if let Err(mismatch) = check(&doc, schema, &reply.json, "$") {
        panic!(
            "{method} {path} answered {} off the document: {mismatch}\n{:#}",
            reply.status, reply.json
        );
    }
}

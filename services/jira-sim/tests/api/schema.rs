//! A small validator for the JSON-schema subset the Jira OpenAPI spec uses in the responses the
//! simulator serves: `type`, `properties`, `required`, `items`, `$ref`, `allOf`,
//! `additionalProperties` (false, true or a schema), `nullable` and `enum`. Formats, `readOnly`
//! and lengths are not checked.

use std::sync::OnceLock;

use serde_json::Value;

/// The Atlassian OpenAPI document, parsed once per test binary.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/jira-openapi-v3.json"
        );
        let text = std::fs::read_to_string(path).expect("the OpenAPI fixture is readable");
        serde_json::from_str(&text).expect("the OpenAPI fixture is JSON")
    })
}

/// `#/components/schemas/<name>`.
pub fn component(name: &str) -> &'static Value {
    spec()
        .pointer(&format!("/components/schemas/{name}"))
        .unwrap_or_else(|| panic!("no schema {name}"))
}

/// The JSON response schema of an operation for a status; `None` when the spec gives none (or
/// an empty one). Panics when the status is not documented for the operation at all.
pub fn response_schema(path: &str, method: &str, status: u16) -> Option<&'static Value> {
    let op = spec()
        .get("paths")
        .and_then(|p| p.get(path))
        .and_then(|p| p.get(method))
        .unwrap_or_else(|| panic!("{method} {path} is not in the spec"));
    let response = op
        .get("responses")
        .and_then(|r| r.get(status.to_string()))
        .unwrap_or_else(|| panic!("{method} {path} does not document status {status}"));
    let schema = response.pointer("/content/application~1json/schema")?;
    (schema.as_object().is_some_and(|o| !o.is_empty())).then_some(schema)
}

/// Validates `value` against `schema`; errors carry a JSON-pointer-like location.
pub fn validate(schema: &Value, value: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    check(schema, value, "", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unsupported $ref {r}"));
            resolve(component(name))
        }
        None => schema,
    }
}

fn check(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(schema);
    if value.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        return;
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check(part, value, at, errors);
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {options:?}"));
    }
    let kind = schema.get("type").and_then(Value::as_str);
    let ok = match kind {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if !ok {
        errors.push(format!(
            "{at}: expected {}, got {value}",
            kind.unwrap_or("?")
        ));
        return;
    }
    if let Some(items) = schema.get("items")
        && let Some(list) = value.as_array()
    {
        for (i, item) in list.iter().enumerate() {
            check(items, item, &format!("{at}/{i}"), errors);
        }
    }
    if let Some(obj) = value.as_object() {
        check_object(schema, obj, at, errors);
    }
}

fn check_object(
    schema: &Value,
    obj: &serde_json::Map<String, Value>,
    at: &str,
    errors: &mut Vec<String>,
) {
    let props = schema.get("properties").and_then(Value::as_object);
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if !obj.contains_key(name) {
            errors.push(format!("{at}: required property `{name}` is missing"));
        }
    }
    for (key, v) in obj {
        match props.and_then(|p| p.get(key)) {
            Some(s) => check(s, v, &format!("{at}/{key}"), errors),
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    errors.push(format!("{at}: property `{key}` is not allowed"))
                }
                Some(s @ Value::Object(_)) => check(s, v, &format!("{at}/{key}"), errors),
                _ => {}
            },
        }
    }
}

/// Validates a response body against the spec for `method path status`. Error answers whose
/// schema the spec leaves empty are held to `ErrorCollection`, the shape Jira sends.
pub fn check_response(
    path: &str,
    method: &str,
    status: u16,
    body: &Value,
) -> Result<(), Vec<String>> {
    match response_schema(path, method, status) {
        Some(schema) => validate(schema, body),
        None if status >= 400 => validate(component("ErrorCollection"), body),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_validator_accepts_conforming_bodies_and_rejects_wrong_shapes() {
        let user = json!({"accountId": "a1", "accountType": "atlassian", "active": true, "displayName": "Ann",
                          "avatarUrls": {"48x48": "http://x/a.png"}});
        assert!(validate(component("User"), &user).is_ok());
        let cases = [
            ("User", json!({"accountId": 7}), "expected string"),
            (
                "User",
                json!({"accountId": "a", "favouriteColour": "blue"}),
                "not allowed",
            ),
            (
                "User",
                json!({"accountId": "a", "accountType": "robot"}),
                "is not one of",
            ),
            (
                "FieldMetadata",
                json!({"name": "n", "operations": [], "required": true, "schema": {"type": "x"}}),
                "`key` is missing",
            ),
            (
                "JsonTypeBean",
                json!({"system": "summary"}),
                "`type` is missing",
            ),
            (
                "Comment",
                json!({"id": "1", "author": {"accountId": "a", "shoeSize": 9}}),
                "/author: property `shoeSize`",
            ),
            ("PropertyKeys", json!({"keys": [{"key": 5}]}), "/keys/0/key"),
            ("Comment", json!({"id": null}), "/id: expected string"),
            (
                "SearchAndReconcileResults",
                json!({"issues": [], "total": 3}),
                "`total` is not allowed",
            ),
            (
                "ErrorCollection",
                json!({"errorMessages": "oops"}),
                "expected array",
            ),
        ];
        for (schema, value, expected) in cases {
            let errs = validate(component(schema), &value)
                .err()
                .unwrap_or_default();
            assert!(
                errs.iter().any(|e| e.contains(expected)),
                "{schema} {value}: wanted `{expected}` in {errs:?}"
            );
        }
        assert!(
            validate(
                component("Visibility"),
                &json!({"type": "role", "identifier": null})
            )
            .is_ok(),
            "nullable"
        );
    }

    #[test]
    fn the_spec_types_every_success_body_the_simulator_serves() {
        let typed = [
            ("/rest/api/3/myself", "get", 200),
            ("/rest/api/3/field", "get", 200),
            ("/rest/api/3/serverInfo", "get", 200),
            ("/rest/api/3/issue", "post", 201),
            ("/rest/api/3/issue", "post", 400),
            ("/rest/api/3/issue/{issueIdOrKey}", "get", 200),
            ("/rest/api/3/issue/{issueIdOrKey}/changelog", "get", 200),
            ("/rest/api/3/issue/{issueIdOrKey}/transitions", "get", 200),
            ("/rest/api/3/issue/{issueIdOrKey}/comment", "get", 200),
            ("/rest/api/3/issue/{issueIdOrKey}/comment", "post", 201),
            ("/rest/api/3/issue/{issueIdOrKey}/comment/{id}", "get", 200),
            ("/rest/api/3/issue/{issueIdOrKey}/comment/{id}", "put", 200),
            ("/rest/api/3/issue/{issueIdOrKey}/properties", "get", 200),
            (
                "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}",
                "get",
                200,
            ),
            ("/rest/api/3/search/jql", "get", 200),
            ("/rest/api/3/search/jql", "post", 200),
        ];
        for (path, method, status) in typed {
            assert!(
                response_schema(path, method, status).is_some(),
                "{method} {path} {status} has no schema to check"
            );
        }
    }
}

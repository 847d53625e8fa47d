//! Shared helpers of the deployment checks: the repository root, file and YAML reading, and
//! running external tools ([`tools`]). Domain knowledge lives in the sibling modules: settings
//! keys ([`settings`]), the metric catalog and PromQL ([`metrics`], [`promql`]), a throw-away
//! RabbitMQ node ([`rabbit`]).

pub mod metrics;
pub mod promql;
pub mod rabbit;
pub mod settings;
pub mod tools;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The workspace root (two levels above this package).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| panic!("{} has no grandparent", here.display()))
}

/// A repository file's path, which must exist.
pub fn path(relative: &str) -> PathBuf {
    let path = repo_root().join(relative);
    assert!(path.exists(), "{relative} does not exist");
    path
}

/// A repository file's text.
pub fn read(relative: &str) -> String {
    std::fs::read_to_string(path(relative))
        .unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

/// A repository YAML file as JSON values (anchors resolved).
pub fn yaml(relative: &str) -> Value {
    yaml_str(&read(relative)).unwrap_or_else(|e| panic!("{relative} is not valid YAML: {e}"))
}

/// One YAML document as a JSON value, with `<<` merge keys applied (docker-compose uses them).
pub fn yaml_str(text: &str) -> Result<Value, String> {
    let mut value: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
    value.apply_merge().map_err(|e| e.to_string())?;
    serde_json::to_value(value).map_err(|e| e.to_string())
}

/// Every document of a multi-document YAML stream (empty documents dropped).
pub fn yaml_docs(text: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| {
            <Value as serde::Deserialize>::deserialize(doc)
                .unwrap_or_else(|e| panic!("invalid YAML document: {e}\n{text}"))
        })
        .filter(|doc| !doc.is_null())
        .collect()
}

/// A repository JSON file.
pub fn json(relative: &str) -> Value {
    serde_json::from_str(&read(relative))
        .unwrap_or_else(|e| panic!("{relative} is not valid JSON: {e}"))
}

/// The string at a JSON pointer, or a failure naming the pointer.
pub fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {value}"))
}

/// The entries of a JSON object (empty when absent or not an object).
pub fn entries(value: Option<&Value>) -> Vec<(&String, &Value)> {
    value
        .and_then(Value::as_object)
        .map(|m| m.iter().collect())
        .unwrap_or_default()
}

/// A scalar YAML value as text (numbers and booleans as written).
pub fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A fresh temporary directory, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("jira-sync-{tag}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes a file into the directory and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

//! What the settings keys are, read from the code: the sections and keys of
//! `libs/settings/src/defaults.toml`, and the shape of every section, `endpoints.<id>` and
//! `connections.<id>` included, from the structs of `libs/settings/src/*.rs` (and `FieldRule`
//! of the domain crate). Plus
//! loading a config file with an environment the way `Settings::load` does.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jira_sync_settings::{DEFAULTS_TOML, Settings};

use super::read;

/// The settings schema: struct name -> field name -> field type (as written in Rust).
pub struct Schema {
    structs: BTreeMap<String, BTreeMap<String, String>>,
}

impl Schema {
    /// Parses `pub struct X { pub field: Type, ... }` and the tagged `WebhookAuth` enum.
    pub fn from_code() -> Self {
        let mut structs = BTreeMap::new();
        let mut files = vec!["libs/domain/src/merge.rs".to_owned()];
        let dir = super::repo_root().join("libs/settings/src");
        for entry in std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".rs") && name != "tests.rs" {
                files.push(format!("libs/settings/src/{name}"));
            }
        }
        for file in files {
            let text = read(&file);
            // Test modules come last and hold no settings.
            parse_structs(
                text.split("#[cfg(test)]").next().unwrap_or_default(),
                &mut structs,
            );
        }
        // `#[serde(tag = "method")]`: the tag plus every variant's fields.
        let model = read("libs/settings/src/model.rs");
        let body = block_after(&model, "pub enum WebhookAuth")
            .unwrap_or_else(|| panic!("WebhookAuth not found in model.rs"));
        let mut fields: BTreeMap<String, String> =
            BTreeMap::from([("method".to_owned(), "String".to_owned())]);
        for variant in body.split('}') {
            if let Some((_, inner)) = variant.split_once('{') {
                for field in inner.split(',') {
                    if let Some((name, ty)) = field.split_once(':') {
                        fields.insert(name.trim().to_owned(), ty.trim().to_owned());
                    }
                }
            }
        }
        structs.insert("WebhookAuth".to_owned(), fields);
        assert!(
            structs.contains_key("Settings"),
            "Settings struct not found in model.rs"
        );
        Self { structs }
    }

    /// Whether a dotted path (`amqp.url`, `endpoints.jira-a.webhook.secret`) names a settings key
    /// that holds a value.
    pub fn is_key(&self, path: &str) -> bool {
        let mut ty = "Settings".to_owned();
        let mut segments = path.split('.').peekable();
        while let Some(segment) = segments.next() {
            let Some(fields) = self.structs.get(strip_wrappers(&ty)) else {
                return false;
            };
            let Some(field_ty) = fields.get(segment) else {
                return false;
            };
            ty = field_ty.clone();
            // A map level: the next segment is an id of the user's choosing.
            if let Some(value_ty) = map_value(&ty) {
                if segments.next().is_none() {
                    return false;
                }
                ty = value_ty;
            }
            if segments.peek().is_some() && !self.structs.contains_key(strip_wrappers(&ty)) {
                return false;
            }
        }
        !self.structs.contains_key(strip_wrappers(&ty))
    }

    /// The field names of a struct of the schema.
    pub fn fields(&self, name: &str) -> BTreeSet<String> {
        self.structs
            .get(name)
            .map(|f| f.keys().cloned().collect())
            .unwrap_or_default()
    }
}

fn strip_wrappers(ty: &str) -> &str {
    ty.strip_prefix("Option<")
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(ty)
}

fn map_value(ty: &str) -> Option<String> {
    let inner = ty.strip_prefix("BTreeMap<")?.strip_suffix('>')?;
    inner.split_once(',').map(|(_, v)| v.trim().to_owned())
}

fn block_after<'a>(text: &'a str, head: &str) -> Option<&'a str> {
    let start = text.find(head)? + head.len();
    let open = start + text[start..].find('{')?;
    let mut depth = 0usize;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[open + 1..open + i]);
                }
            }
            _ => {}
        }
    }
    None
}

fn parse_structs(text: &str, out: &mut BTreeMap<String, BTreeMap<String, String>>) {
    let mut rest = text;
    while let Some(at) = rest.find("pub struct ") {
        let after = &rest[at + "pub struct ".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // Only structs with named fields: skip tuple and unit structs.
        let is_braced = after[name.len()..]
            .chars()
            .find(|c| matches!(c, '{' | ';' | '('))
            == Some('{');
        let body = if is_braced {
            block_after(after, &name)
        } else {
            None
        };
        let Some(body) = body else {
            rest = &after[name.len()..];
            continue;
        };
        let fields = body
            .lines()
            .filter_map(|line| line.trim().strip_prefix("pub "))
            .filter_map(|line| line.split_once(':'))
            .map(|(field, ty)| {
                (
                    field.trim().to_owned(),
                    ty.trim().trim_end_matches(',').to_owned(),
                )
            })
            .collect();
        out.insert(name, fields);
        rest = &after[body.len()..];
    }
}

/// Every `section.key` of defaults.toml.
pub fn default_keys() -> BTreeSet<String> {
    let table: toml::Table =
        toml::from_str(DEFAULTS_TOML).unwrap_or_else(|e| panic!("defaults.toml: {e}"));
    table
        .iter()
        .flat_map(|(section, body)| {
            body.as_table()
                .into_iter()
                .flat_map(move |t| t.keys().map(move |k| format!("{section}.{k}")))
        })
        .collect()
}

/// `JIRA_SYNC__AMQP__URL` -> `amqp.url`, as the config crate reads it; `None` for other names.
pub fn env_to_key(name: &str) -> Option<String> {
    let rest = name.strip_prefix("JIRA_SYNC__")?;
    Some(rest.to_lowercase().replace("__", "."))
}

/// Settings keys that hold credentials: they may reach a process only from a secret store.
pub fn is_secret_key(key: &str) -> bool {
    key == "database.url"
        || key == "amqp.url"
        || (key.starts_with("endpoints.")
            && (key.ends_with(".api_token")
                || key.ends_with(".webhook.secret")
                || key.ends_with(".webhook.key")))
}

/// Loads settings as `Settings::load` does (defaults, then `file`, then the environment), but
/// from the given environment instead of the process's, and validates them.
///
/// This repeats the environment source of `Settings::load_from`; a `Settings::load_with_env`
/// in the settings crate would let this use the real one.
pub fn load(file: &str, env: &HashMap<String, String>) -> Result<Settings, String> {
    let environment = config::Environment::with_prefix("JIRA_SYNC")
        .prefix_separator("__")
        .separator("__")
        .list_separator(",")
        .with_list_parse_key("amqp.retry_delays")
        .try_parsing(true)
        .source(Some(env.clone()));
    let settings: Settings = config::Config::builder()
        .add_source(config::File::from_str(
            DEFAULTS_TOML,
            config::FileFormat::Toml,
        ))
        .add_source(config::File::from_str(file, config::FileFormat::Toml))
        .add_source(environment)
        .build()
        .and_then(config::Config::try_deserialize)
        .map_err(|e| e.to_string())?;
    settings.validate().map_err(|e| e.to_string())?;
    Ok(settings)
}

/// Every dotted key path of a TOML document, down to values (tables of `endpoints` and
/// `connections` included, arrays as leaves).
pub fn toml_keys(text: &str) -> Vec<String> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::Table(inner) => walk(&path, inner, out),
                _ => out.push(path),
            }
        }
    }
    let table: toml::Table =
        toml::from_str(text).unwrap_or_else(|e| panic!("invalid TOML: {e}\n{text}"));
    let mut out = Vec::new();
    walk("", &table, &mut out);
    out
}

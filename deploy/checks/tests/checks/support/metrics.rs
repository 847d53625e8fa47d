//! The metric catalog (`deploy/metrics.txt`) and what the Rust code really records: every
//! `counter!`/`gauge!`/`histogram!` call in `libs/` and `services/` with its name (string
//! literal, or a `&str` constant resolved across the workspace) and label keys.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{read, repo_root};

/// Labels every scraped series carries besides its own: Prometheus adds `job` and `instance`,
/// the scrape configuration (compose) or the ServiceMonitor (Helm) adds `component`.
pub const SCRAPE_LABELS: &[&str] = &["job", "instance", "component"];

/// One line of the catalog.
#[derive(Debug, Clone)]
pub struct Metric {
    pub name: String,
    /// counter, gauge, summary or histogram.
    pub kind: String,
    pub exporter: String,
    pub labels: BTreeSet<String>,
}

impl Metric {
    /// Not exported by any code yet (`planned:` exporter).
    pub fn is_planned(&self) -> bool {
        self.exporter.starts_with("planned:")
    }

    /// Recorded by jira-sync's Rust code (not RabbitMQ or Prometheus itself).
    pub fn is_rust(&self) -> bool {
        !matches!(self.exporter.as_str(), "rabbitmq" | "prometheus")
    }
}

/// The catalog, by metric name.
pub fn catalog() -> BTreeMap<String, Metric> {
    let mut out = BTreeMap::new();
    for (n, line) in read("deploy/metrics.txt").lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            cols.len(),
            4,
            "deploy/metrics.txt:{}: want `name type exporter labels`",
            n + 1
        );
        assert!(
            matches!(cols[1], "counter" | "gauge" | "summary" | "histogram"),
            "deploy/metrics.txt:{}: unknown type {}",
            n + 1,
            cols[1]
        );
        let labels = match cols[3] {
            "-" => BTreeSet::new(),
            list => list.split(',').map(str::to_owned).collect(),
        };
        let metric = Metric {
            name: cols[0].to_owned(),
            kind: cols[1].to_owned(),
            exporter: cols[2].to_owned(),
            labels,
        };
        assert!(
            out.insert(metric.name.clone(), metric).is_none(),
            "deploy/metrics.txt lists {} twice",
            cols[0]
        );
    }
    out
}

/// Every series name the catalog allows, with the labels it may carry (scrape labels included).
pub fn series() -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for m in catalog().values() {
        let mut labels = m.labels.clone();
        labels.extend(SCRAPE_LABELS.iter().map(|s| (*s).to_owned()));
        match m.kind.as_str() {
            "summary" | "histogram" => {
                let (extra, base) = if m.kind == "summary" {
                    ("quantile", m.name.clone())
                } else {
                    ("le", format!("{}_bucket", m.name))
                };
                let mut with_extra = labels.clone();
                with_extra.insert(extra.to_owned());
                out.insert(base, with_extra);
                out.insert(format!("{}_sum", m.name), labels.clone());
                out.insert(format!("{}_count", m.name), labels);
            }
            _ => {
                out.insert(m.name.clone(), labels);
            }
        }
    }
    out
}

/// One metric recording found in the code.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub name: String,
    /// counter, gauge or histogram (the macro).
    pub macro_kind: String,
    pub labels: BTreeSet<String>,
    pub at: String,
}

/// Every metric recorded in `libs/` and `services/` (test modules excluded).
pub fn recorded() -> Vec<Recorded> {
    let mut files = Vec::new();
    for dir in ["libs", "services"] {
        rust_files(&repo_root().join(dir), &mut files);
    }
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            let text =
                std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            // Inline test modules come last in this codebase's files; their metrics are not exported.
            let text = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or_default()
                .to_owned();
            (
                f.strip_prefix(repo_root())
                    .unwrap_or(f)
                    .display()
                    .to_string(),
                text,
            )
        })
        .collect();
    let consts = string_consts(&sources);
    let mut out = Vec::new();
    for (file, text) in &sources {
        for kind in ["counter", "gauge", "histogram"] {
            let needle = format!("{kind}!(");
            let mut from = 0;
            while let Some(pos) = text[from..].find(&needle).map(|p| p + from) {
                from = pos + needle.len();
                let before = text[..pos].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue; // describe_counter! and friends
                }
                let args = split_args(&text[from..]);
                let name = resolve(&args[0], &consts).unwrap_or_else(|| {
                    panic!(
                        "{file}: cannot resolve the metric name `{}` of a {kind}! call",
                        args[0]
                    )
                });
                let labels = args[1..]
                    .iter()
                    .filter(|a| !a.trim().is_empty())
                    .map(|a| {
                        let key = a.split("=>").next().unwrap_or_default().trim();
                        key.strip_prefix('"').and_then(|k| k.strip_suffix('"')).map(str::to_owned).unwrap_or_else(|| {
                            panic!("{file}: label `{a}` of {name} is not `\"key\" => value`: the checks cannot read it")
                        })
                    })
                    .collect();
                out.push(Recorded {
                    name,
                    macro_kind: kind.to_owned(),
                    labels,
                    at: file.clone(),
                });
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "tests" && name != "target" {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" && name != "test_support.rs" {
            out.push(path);
        }
    }
}

/// `const NAME: &str = "value";` anywhere in the sources. A name that two files define with
/// different values (unrelated crates may both have an `API_PREFIX`) is kept as ambiguous
/// (`None`): that is only a problem if a metric is named through it.
fn string_consts(sources: &[(String, String)]) -> BTreeMap<String, Option<String>> {
    let mut out: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (_, text) in sources {
        for line in text.lines() {
            let Some(rest) = line.trim().split("const ").nth(1) else {
                continue;
            };
            let Some((ident, rest)) = rest.split_once(": &str = \"") else {
                continue;
            };
            let Some((value, _)) = rest.split_once('"') else {
                continue;
            };
            out.entry(ident.trim().to_owned())
                .and_modify(|old| {
                    if old.as_deref() != Some(value) {
                        *old = None;
                    }
                })
                .or_insert_with(|| Some(value.to_owned()));
        }
    }
    out
}

fn resolve(arg: &str, consts: &BTreeMap<String, Option<String>>) -> Option<String> {
    let arg = arg.trim();
    if let Some(literal) = arg.strip_prefix('"').and_then(|a| a.strip_suffix('"')) {
        return Some(literal.to_owned());
    }
    let ident = arg.rsplit("::").next()?.trim();
    match consts.get(ident)? {
        Some(value) => Some(value.clone()),
        None => panic!("the metric name constant {ident} has different values in different files"),
    }
}

/// The top-level comma-separated arguments up to the closing parenthesis.
fn split_args(text: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
    for c in text.chars() {
        if in_string {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => break,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                args.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    args.push(current);
    args
}

/// The `names::*` constants of libs/telemetry/src/metrics.rs.
pub fn telemetry_names() -> BTreeMap<String, String> {
    let text = read("libs/telemetry/src/metrics.rs");
    let start = text
        .find("pub mod names")
        .unwrap_or_else(|| panic!("no `pub mod names` in telemetry"));
    let body = &text[start..];
    let body = &body[..body.find("\n}").unwrap_or(body.len())];
    string_consts(&[("libs/telemetry/src/metrics.rs".to_owned(), body.to_owned())])
        .into_iter()
        .filter_map(|(ident, value)| Some((ident, value?)))
        .collect()
}

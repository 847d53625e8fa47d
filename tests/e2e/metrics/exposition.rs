//! Just enough of the Prometheus text exposition format to read the samples of a `/metrics`
//! page, and `promtool check metrics` to judge the page as Prometheus would.

// Shared by several test binaries, each using a part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One sample line: `name{label="value",...} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// The samples of one exposition, plus its `# TYPE` lines.
#[derive(Debug, Default)]
pub struct Exposition {
    pub samples: Vec<Sample>,
    pub types: BTreeMap<String, String>,
}

impl Exposition {
    /// Parses the text; panics on a sample line it cannot read.
    pub fn parse(text: &str) -> Self {
        let mut out = Self::default();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                if let Some((name, kind)) = rest.split_once(' ') {
                    out.types.insert(name.to_owned(), kind.to_owned());
                }
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            out.samples.push(sample(line));
        }
        out
    }

    /// The value of the series `name` whose labels are exactly `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == wanted)
            .map(|s| s.value)
    }

    /// The sum over every series `name` that carries at least `labels`; 0 when none does.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).is_some_and(|x| x == v))
            })
            .map(|s| s.value)
            .sum()
    }

    /// Whether some series is called `name`.
    pub fn has(&self, name: &str) -> bool {
        self.samples.iter().any(|s| s.name == name)
    }
}

fn sample(line: &str) -> Sample {
    let unreadable = || format!("cannot read the sample line `{line}`");
    let (series, value) = line
        .rsplit_once(' ')
        .unwrap_or_else(|| panic!("{}", unreadable()));
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|_| panic!("{}", unreadable())),
    };
    let (name, labels) = match series.split_once('{') {
        None => (series, BTreeMap::new()),
        Some((name, rest)) => {
            let rest = rest.strip_suffix('}');
            (
                name,
                labels(rest.unwrap_or_else(|| panic!("{}", unreadable()))),
            )
        }
    };
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}

/// `a="x",b="y"`; values hold no escaped quotes in jira-sync's metrics.
fn labels(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let Some((value, after)) = after.split_once('"') else {
            panic!("unterminated label value in `{text}`");
        };
        out.insert(
            key.trim_start_matches(',').trim().to_owned(),
            value.to_owned(),
        );
        rest = after;
    }
    out
}

/// Runs `promtool check metrics` on `text` and panics with its complaints unless it accepts
/// the page. promtool comes from `.tools/bin` or `PATH`; a missing promtool is a failure.
pub fn promtool_accepts(what: &str, text: &str) {
    let promtool = promtool();
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", promtool.display()));
    child
        .stdin
        .take()
        .unwrap_or_else(|| panic!("promtool stdin"))
        .write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("write to promtool: {e}"));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait for promtool: {e}"));
    assert!(
        out.status.success(),
        "promtool check metrics rejects {what} ({}):\n{}{}\n--- the page\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
}

fn promtool() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let local = root.join(".tools/bin/promtool");
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("promtool"));
    std::iter::once(local)
        .chain(on_path)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "promtool is not installed (looked in .tools/bin and PATH): run \
                 scripts/install-deploy-tools"
            )
        })
}

//! Just enough PromQL reading to check which series and labels an expression names: metric
//! selectors with their matcher labels, and the labels of `by`, `without`, `on`, `ignoring`,
//! `group_left` and `group_right`. Syntax itself is checked by promtool; Grafana variables
//! (`$__rate_interval`, `${prefix}`) are skipped here and substituted before promtool sees them.

use std::collections::{BTreeMap, BTreeSet};

/// A metric selector: `name{label="..."}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub metric: String,
    pub labels: Vec<String>,
}

/// What an expression refers to.
#[derive(Debug, Default)]
pub struct Names {
    pub selectors: Vec<Selector>,
    pub grouping: Vec<String>,
}

const KEYWORDS: &[&str] = &[
    "and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "Inf", "NaN",
];
const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];
const GROUPING: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// Reads the selectors and grouping labels of an expression.
pub fn names(expr: &str) -> Result<Names, String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Names::default();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(&chars, i)?;
        } else if c == '[' {
            i = skip_until(&chars, i, ']')?;
        } else if c == '$' {
            i += 1;
            if chars.get(i) == Some(&'{') {
                i = skip_until(&chars, i, '}')?;
            } else {
                while i < chars.len() && is_ident(chars[i]) {
                    i += 1;
                }
            }
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
        } else if c == '{' {
            // A selector without a metric name: `{__name__="x"}`.
            let (labels, next) = matchers(&chars, i)?;
            out.selectors.push(Selector {
                metric: String::new(),
                labels,
            });
            i = next;
        } else if is_ident_start(c) {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = next_non_space(&chars, i);
            if GROUPING.contains(&word.as_str()) {
                if chars.get(next) == Some(&'(') {
                    let close = skip_until(&chars, next, ')')?;
                    let list: String = chars[next + 1..close - 1].iter().collect();
                    out.grouping.extend(
                        list.split(',')
                            .map(str::trim)
                            .filter(|l| !l.is_empty())
                            .map(str::to_owned),
                    );
                    i = close;
                }
            } else if chars.get(next) == Some(&'(')
                || KEYWORDS.contains(&word.as_str())
                || AGGREGATIONS.contains(&word.as_str())
            {
                // A function or aggregation (`sum by (x) (...)` too), or an operator keyword.
            } else if chars.get(next) == Some(&'{') {
                let (labels, after) = matchers(&chars, next)?;
                out.selectors.push(Selector {
                    metric: word,
                    labels,
                });
                i = after;
            } else {
                out.selectors.push(Selector {
                    metric: word,
                    labels: Vec::new(),
                });
            }
        } else {
            i += 1;
        }
    }
    Ok(out)
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

fn next_non_space(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

/// Index after the string starting at `i`.
fn skip_string(chars: &[char], i: usize) -> Result<usize, String> {
    let quote = chars[i];
    let mut j = i + 1;
    while j < chars.len() {
        if chars[j] == '\\' && quote != '`' {
            j += 2;
            continue;
        }
        if chars[j] == quote {
            return Ok(j + 1);
        }
        j += 1;
    }
    Err("unterminated string".to_owned())
}

/// Index after the `close` matching the opener at `i`, skipping strings and nesting.
fn skip_until(chars: &[char], i: usize, close: char) -> Result<usize, String> {
    let open = chars[i];
    let mut depth = 0;
    let mut j = i;
    while j < chars.len() {
        let c = chars[j];
        if c == '"' || c == '\'' || c == '`' {
            j = skip_string(chars, j)?;
            continue;
        }
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return Ok(j + 1);
            }
        }
        j += 1;
    }
    Err(format!("no closing {close}"))
}

/// The label names of `{a="x", b=~"y"}` starting at `i`, and the index after it.
fn matchers(chars: &[char], i: usize) -> Result<(Vec<String>, usize), String> {
    let end = skip_until(chars, i, '}')?;
    let mut labels = Vec::new();
    let mut j = i + 1;
    while j < end - 1 {
        let c = chars[j];
        if c == '"' || c == '\'' || c == '`' {
            j = skip_string(chars, j)?;
        } else if is_ident_start(c) {
            let start = j;
            while j < chars.len() && is_ident(chars[j]) {
                j += 1;
            }
            labels.push(chars[start..j].iter().collect());
        } else {
            j += 1;
        }
    }
    Ok((labels, end))
}

/// Problems of an expression against the allowed series (name -> labels): unknown series,
/// labels a series does not carry, grouping labels none of its series carry.
pub fn problems(expr: &str, allowed: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let names = match names(expr) {
        Ok(names) => names,
        Err(e) => return vec![format!("cannot read `{expr}`: {e}")],
    };
    let mut out = Vec::new();
    let mut all_labels = BTreeSet::new();
    for selector in &names.selectors {
        let Some(labels) = allowed.get(&selector.metric) else {
            out.push(format!(
                "`{}` is not a series of deploy/metrics.txt (in `{expr}`)",
                selector.metric
            ));
            continue;
        };
        all_labels.extend(labels.iter().cloned());
        for label in &selector.labels {
            if !labels.contains(label) && label != "__name__" {
                out.push(format!(
                    "`{}` has no label `{label}` (in `{expr}`)",
                    selector.metric
                ));
            }
        }
    }
    for label in &names.grouping {
        if !all_labels.contains(label) {
            out.push(format!(
                "no series of `{expr}` has the grouping label `{label}`"
            ));
        }
    }
    out
}

/// Replaces Grafana variables with sample values, so that promtool can parse the expression.
pub fn substitute_grafana_variables(expr: &str) -> String {
    let mut out = expr
        .replace("$__rate_interval", "5m")
        .replace("$__interval", "1m")
        .replace("$__range", "1h");
    while let Some(start) = out.find('$') {
        let rest = &out[start + 1..];
        let len = if let Some(inner) = rest.strip_prefix('{') {
            inner.find('}').map(|e| e + 2).unwrap_or(rest.len())
        } else {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .count()
        };
        out.replace_range(start..start + 1 + len, "sample");
    }
    out
}

/// The variables (`$name`, `${name}`) an expression uses, Grafana's own excluded.
pub fn grafana_variables(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = expr;
    while let Some(start) = rest.find('$') {
        rest = &rest[start + 1..];
        let name: String = rest
            .trim_start_matches('{')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.starts_with("__") && !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

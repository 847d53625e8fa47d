//! Reading issues back from the simulated sites (their in-process view, the same as
//! `/_sim/issues`): twins by jira-sync's origin marker, and the fields the demo compares.

use std::collections::BTreeMap;

use jira_sync_jira_sim::SiteHandle;
use serde_json::Value;

/// The id of the twin of issue `origin` on `site`, once there is one.
pub fn twin_of(site: &SiteHandle, origin: &str) -> Option<String> {
    site.issues(None).into_iter().find_map(|issue| {
        let marked = issue.pointer("/properties/jira-sync.origin/id")?.as_str()? == origin;
        marked.then(|| issue["id"].as_str().map(str::to_owned))?
    })
}

/// What the demo compares between two linked issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compared {
    pub summary: String,
    pub description: String,
    pub status: String,
    pub labels: Vec<String>,
    pub comments: u64,
}

impl Compared {
    /// The compared fields of issue `id` on `site`, when it exists.
    pub fn of(site: &SiteHandle, id: &str) -> Option<Self> {
        let issue = site.issue(id)?;
        let fields = &issue["fields"];
        let mut labels: Vec<String> = fields["labels"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        labels.sort();
        Some(Self {
            summary: fields["summary"].as_str().unwrap_or_default().to_owned(),
            description: plain_text(&fields["description"]),
            status: fields["status"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            labels,
            comments: fields["comment"]["total"].as_u64().unwrap_or_default(),
        })
    }

    /// The fields that differ from `other` (`description` left out when `skip_description`),
    /// each as `field: left | right`.
    pub fn differences(&self, other: &Self, skip_description: bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut diff = |field: &str, left: String, right: String| {
            if left != right {
                out.push(format!("{field}: {left:?} | {right:?}"));
            }
        };
        diff("summary", self.summary.clone(), other.summary.clone());
        if !skip_description {
            diff(
                "description",
                self.description.clone(),
                other.description.clone(),
            );
        }
        diff("status", self.status.clone(), other.status.clone());
        diff("labels", self.labels.join(","), other.labels.join(","));
        diff(
            "comments",
            self.comments.to_string(),
            other.comments.to_string(),
        );
        out
    }
}

/// The text of an ADF document (or a plain string), paragraphs joined by newlines, trimmed.
pub fn plain_text(value: &Value) -> String {
    fn walk(value: &Value, out: &mut String) {
        match value {
            Value::String(s) => out.push_str(s),
            Value::Object(node) => {
                if let Some(Value::String(text)) = node.get("text") {
                    out.push_str(text);
                }
                if let Some(Value::Array(children)) = node.get("content") {
                    for child in children {
                        walk(child, out);
                    }
                    if node.get("type").and_then(Value::as_str) == Some("paragraph") {
                        out.push('\n');
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = String::new();
    walk(value, &mut out);
    out.trim().to_owned()
}

/// Issues of `site` carrying jira-sync's origin marker, counted by the issue they copy.
pub fn twins_by_origin(site: &SiteHandle) -> BTreeMap<String, usize> {
    let mut twins = BTreeMap::new();
    for issue in site.issues(None) {
        if let Some(origin) = issue
            .pointer("/properties/jira-sync.origin/id")
            .and_then(Value::as_str)
        {
            *twins.entry(origin.to_owned()).or_default() += 1;
        }
    }
    twins
}

/// The ids of every issue on `site`.
pub fn ids(site: &SiteHandle) -> Vec<String> {
    site.issues(None)
        .iter()
        .filter_map(|issue| issue["id"].as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_text_reads_the_words_of_an_adf_document() {
        let doc = super::super::person::adf("Smoke from tray 2");
        assert_eq!(plain_text(&doc), "Smoke from tray 2");
        assert_eq!(plain_text(&json!("plain")), "plain");
        assert_eq!(plain_text(&Value::Null), "");
    }
}

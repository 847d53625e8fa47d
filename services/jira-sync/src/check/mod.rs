//! `check-config`: a loaded (hence already valid) configuration checked against the live
//! endpoints, so that a wrong token, a project that does not exist or a priority named
//! differently on the other site shows up before the first sync instead of in the dead-letter
//! queue.
//!
//! - `site`: what each endpoint is (credentials via `/myself`, its priorities, statuses and
//!   fields), read once per endpoint, endpoints in parallel.
//! - `connection`: each connection's references (projects and issue types, synced fields,
//!   priority maps) checked against what its two sites hold.
//!
//! Every problem names the config path to fix (`endpoints.jira-a.api_token`,
//! `connections.a-to-b.priority_map[0].right`). Nothing is written to any site.

mod connection;
mod site;

use std::fmt;

use jira_sync_settings::Settings;

/// One thing in the configuration that will not work against the live endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The config path to fix, e.g. `connections.a-to-b.priority_map[0].right`.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The outcome of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// What will not work, in config order (endpoints first, then connections).
    pub problems: Vec<Problem>,
    /// What was verified or skipped, for people (`jira-a: authenticated as ...`).
    pub notes: Vec<String>,
    /// Endpoints checked live.
    pub endpoints_checked: usize,
    /// Connections whose references were checked (on at least one side).
    pub connections_checked: usize,
}

impl Report {
    /// Whether nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report as printed by `jira-sync check-config`.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for note in &self.notes {
            text.push_str(&format!("  {note}\n"));
        }
        for problem in &self.problems {
            text.push_str(&format!("{problem}\n"));
        }
        let checked = format!(
            "{} endpoint{} and {} connection{} checked against the live sites",
            self.endpoints_checked,
            plural(self.endpoints_checked),
            self.connections_checked,
            plural(self.connections_checked),
        );
        if self.is_ok() {
            text.push_str(&format!(
                "OK: {checked} (credentials, projects, issue types, fields, custom fields, \
                 priority and status maps): no problems\n"
            ));
        } else {
            let n = self.problems.len();
            text.push_str(&format!("FAILED: {n} problem{} ({checked})\n", plural(n)));
        }
        text
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Checks `settings` against the live endpoints it names.
pub async fn check_config(settings: &Settings) -> Report {
    let mut report = Report::default();
    let sites = site::inspect_all(settings, &mut report).await;
    for (id, connection) in &settings.connections {
        if connection::check(id, connection, &sites, &mut report).await {
            report.connections_checked += 1;
        }
    }
    report
}

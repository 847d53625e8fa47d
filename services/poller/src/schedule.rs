//! What runs when: the schedules derived from the settings, one per job per connection.
//!
//! For every connection: an incremental JQL search of each Jira side, a full pass comparing
//! every issue in scope with its link, a sweep of links whose last sync failed, and a full scan
//! of each PeopleForce side. Each schedule has a stable id, used for its leader lock, its
//! cursors and the `schedule` label of the metrics.

use std::fmt;
use std::time::Duration;

use jira_sync_domain::{ConnectionId, Side};
use jira_sync_settings::{EndpointKind, Settings};

/// The work a schedule does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Issues of one Jira side updated since the cursor, enqueued when changed since their
    /// last sync (or unlinked).
    JiraIncremental {
        connection: ConnectionId,
        side: Side,
    },
    /// Every issue in scope on the Jira sides, compared with its link.
    JiraFullPass { connection: ConnectionId },
    /// Links whose last sync failed, enqueued again.
    RetrySweep { connection: ConnectionId },
    /// Every task of a PeopleForce side, compared by content hash.
    PeopleForceScan {
        connection: ConnectionId,
        side: Side,
    },
}

impl Job {
    /// The connection the job works on.
    pub fn connection(&self) -> &ConnectionId {
        match self {
            Job::JiraIncremental { connection, .. }
            | Job::JiraFullPass { connection }
            | Job::RetrySweep { connection }
            | Job::PeopleForceScan { connection, .. } => connection,
        }
    }
}

/// A job with its interval and stable id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// `jira-incremental/<connection>/<side>`, `jira-full-pass/<connection>`,
    /// `retry-sweep/<connection>`, `peopleforce-scan/<connection>/<side>`.
    pub id: String,
    /// What it does.
    pub job: Job,
    /// Time between the starts of two runs.
    pub interval: Duration,
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

/// The schedules of every connection in `settings`, in a stable order.
pub fn plan(settings: &Settings) -> Vec<Schedule> {
    let poller = &settings.poller;
    let mut schedules = Vec::new();
    for (id, connection) in &settings.connections {
        let kind = |side: Side| settings.endpoint_kind(&connection.side(side).endpoint);
        let mut jira_sides = 0;
        for side in [Side::Left, Side::Right] {
            match kind(side) {
                Some(EndpointKind::JiraCloud | EndpointKind::JiraDataCenter) => {
                    jira_sides += 1;
                    schedules.push(Schedule {
                        id: format!("jira-incremental/{id}/{side}"),
                        job: Job::JiraIncremental {
                            connection: id.clone(),
                            side,
                        },
                        interval: connection.poll_interval.unwrap_or(poller.jira_interval),
                    });
                }
                Some(EndpointKind::Peopleforce) => schedules.push(Schedule {
                    id: format!("peopleforce-scan/{id}/{side}"),
                    job: Job::PeopleForceScan {
                        connection: id.clone(),
                        side,
                    },
                    interval: connection
                        .poll_interval
                        .unwrap_or(poller.peopleforce_interval),
                }),
                None => {}
            }
        }
        if jira_sides > 0 {
            schedules.push(Schedule {
                id: format!("jira-full-pass/{id}"),
                job: Job::JiraFullPass {
                    connection: id.clone(),
                },
                interval: poller.full_pass_interval,
            });
        }
        schedules.push(Schedule {
            id: format!("retry-sweep/{id}"),
            job: Job::RetrySweep {
                connection: id.clone(),
            },
            interval: poller.retry_sweep_interval,
        });
    }
    schedules
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: &str = r#"
[poller]
jira_interval = "1m"
peopleforce_interval = "5m"

[endpoints.jira-a]
kind = "jira_cloud"
base_url = "https://a.example.net"
email = "a@example.com"
api_token = "t"

# A Data Center site is polled like a Cloud one.
[endpoints.jira-b]
kind = "jira_data_center"
base_url = "https://jira.b.example.net"
pat = "t"

[endpoints.pf]
kind = "peopleforce"
base_url = "https://app.peopleforce.io"
api_key = "k"

[connections.a-to-b]
left = { endpoint = "jira-a", project = "ACME" }
right = { endpoint = "jira-b", project = "PART" }
poll_interval = "20s"

[connections.hr]
left = { endpoint = "jira-a", project = "HR" }
right = { endpoint = "pf" }
"#;

    #[test]
    fn every_connection_gets_its_increments_full_pass_sweep_and_scans() {
        let settings = Settings::from_toml(SETTINGS).unwrap_or_else(|e| panic!("{e}"));
        let planned: Vec<(String, u64)> = plan(&settings)
            .into_iter()
            .map(|s| (s.id, s.interval.as_secs()))
            .collect();
        assert_eq!(
            planned,
            vec![
                ("jira-incremental/a-to-b/left".to_owned(), 20),
                ("jira-incremental/a-to-b/right".to_owned(), 20),
                ("jira-full-pass/a-to-b".to_owned(), 86_400),
                ("retry-sweep/a-to-b".to_owned(), 300),
                ("jira-incremental/hr/left".to_owned(), 60),
                ("peopleforce-scan/hr/right".to_owned(), 300),
                ("jira-full-pass/hr".to_owned(), 86_400),
                ("retry-sweep/hr".to_owned(), 300),
            ]
        );
    }
}

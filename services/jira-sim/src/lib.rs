//! jira-sync-jira-sim

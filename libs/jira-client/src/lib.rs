//! jira-sync-jira-client

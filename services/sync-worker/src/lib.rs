//! jira-sync-worker

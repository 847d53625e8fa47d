//! jira-sync-tests

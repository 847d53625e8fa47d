//! jira-sync-telemetry

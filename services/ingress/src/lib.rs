//! jira-sync-ingress

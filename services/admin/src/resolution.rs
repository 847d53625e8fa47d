//! How an operator settles a held conflict: [`Resolution`], written into the store's
//! `Conflict::resolution` text, which the worker reads on the link's next reconcile.
//!
//! The type lives in the store (`jira_sync_store::Resolution`), next to `Conflict`, so that the
//! worker can apply resolutions without depending on this crate; it is re-exported here.

pub use jira_sync_store::Resolution;

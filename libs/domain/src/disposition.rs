//! What the worker does with a failure. Every error that reaches the worker is classified into
//! one of these by the layer that understands it (the Jira client knows 429 from 400).

use std::time::Duration;

/// How a failed attempt is to be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Try again later; `retry_after` is the least delay the other side asked for, if any.
    Transient { retry_after: Option<Duration> },
    /// Retrying cannot help: park the message in the dead-letter queue. `class` is a short,
    /// stable name an operator can filter on (`jira_rejected`, `undecodable`, `config`).
    Permanent { class: &'static str },
}

impl Disposition {
    pub fn is_transient(&self) -> bool {
        matches!(self, Disposition::Transient { .. })
    }

    /// The stable name of the error class, for headers and metrics.
    pub fn class(&self) -> &'static str {
        match self {
            Disposition::Transient { .. } => "transient",
            Disposition::Permanent { class } => class,
        }
    }
}

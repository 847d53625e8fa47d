//! The vocabulary of jira-sync, with no I/O: identifiers, the reconcile request every input
//! becomes, the canonical issue document, the routing view of a Jira webhook, the per-field
//! three-way merge (with the observed values of lossy mappings), the scope filter, the user map,
//! the rich-text converters, and the error disposition that tells the worker what to do with a
//! failure.
//!
//! Everything here is pure and deterministic so that it can be property-tested and shared by
//! every service without pulling in a runtime.

pub mod disposition;
pub mod document;
pub mod ids;
pub mod merge;
pub mod observed;
pub mod people;
pub mod request;
pub mod richtext;
pub mod scope;
pub mod webhook;

pub use disposition::Disposition;
pub use document::{CanonicalIssue, Field, Person};
pub use ids::{ConnectionId, DeliveryId, EndpointId, IdError, IssueKey, Side};
pub use merge::{FieldOutcome, MergePlan, merge};
pub use request::{EMPLOYEE_ENTITY_PREFIX, ReconcileRequest, Trigger};
pub use webhook::{JiraWebhook, WebhookError, WebhookKind};

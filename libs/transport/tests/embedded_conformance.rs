//! The transport conformance suite against the embedded SQLite queue (one fresh file in the
//! temp directory per case), then what is specific to it: process restarts, a crashed
//! process, several processes on one file, exact retry delays and queue depths.

use jira_sync_transport::conformance::embedded::EmbeddedFactory;

jira_sync_transport::transport_conformance_tests!(EmbeddedFactory);

#[path = "embedded_conformance/embedded.rs"]
mod embedded;

//! Tests of the simulator over HTTP, as the production Jira client and other crates' tests
//! see it. One binary, one module per concern.

mod common;
mod conformance;
mod faults;
mod rest;
mod schema;
mod search;
mod webhooks;

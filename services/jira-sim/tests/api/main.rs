//! Tests of the simulator over HTTP, as the production Jira client and other crates' tests
//! see it. One binary, one module per concern.

mod catalog;
mod common;
mod conformance;
mod data_center;
mod faults;
mod rest;
mod schema;
mod search;
mod sync_features;
mod webhooks;

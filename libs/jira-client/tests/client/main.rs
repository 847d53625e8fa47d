//! The Jira client against real local HTTP servers scripted per test: retries and budgets,
//! the circuit breaker, rate-limit pauses, request and response shapes, and secret hygiene.

// Panicking on an unexpected outcome is the point of a test.
#![allow(clippy::unwrap_used)]

mod breaker;
mod catalog;
mod data_center;
mod operations;
mod resilience;
mod secrets;
mod support;

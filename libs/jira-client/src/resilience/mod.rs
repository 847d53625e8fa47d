//! The client's self-protection, independent of HTTP: retry delays with jitter, a circuit
//! breaker that fails fast while Jira is down, and a throttle that keeps to a request rate and
//! to the pauses Jira's 429 answers ask for.

pub(crate) mod backoff;
pub(crate) mod breaker;
pub(crate) mod throttle;

//! Telemetry for every jira-sync service: log/trace initialisation ([`init`]), the process-wide
//! Prometheus metrics recorder ([`render_metrics`], [`names`]) and W3C trace-context propagation
//! ([`current_trace_context`], [`set_parent_from`], backed by `tracing-opentelemetry`) that
//! carries one trace from a Jira webhook through RabbitMQ to the write on the other side.
//! Exporting spans (OTLP) is the one piece left to add, inside [`init`] and [`Guard`].
//!
//! Everything here is safe to call several times in one process: tests and the all-in-one
//! binary start several services side by side, each calling [`init`]. The first call wins; later
//! calls reuse what is installed. Serving `/metrics` over HTTP is left to each service (a
//! five-line route around [`render_metrics`]), so this crate does not depend on a web framework.

mod context;
mod logging;
mod metrics;

pub use context::{TRACEPARENT, TRACESTATE, current_trace_context, set_parent_from};
pub use logging::{Guard, init};
pub use metrics::{METRICS_CONTENT_TYPE, install_metrics, names, render_metrics};

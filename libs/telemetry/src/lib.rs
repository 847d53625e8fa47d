//! Telemetry for every jira-sync service: log and trace initialisation ([`init`], flushed by its
//! [`Guard`]), span export over OTLP (gRPC or HTTP, configured in `[telemetry]`), the
//! process-wide Prometheus metrics recorder ([`render_metrics`], [`names`], with real histogram
//! buckets) and W3C trace-context propagation ([`current_trace_context`], [`set_parent_from`],
//! backed by `tracing-opentelemetry`) that carries one trace from a Jira webhook through
//! RabbitMQ to the write on the other side.
//!
//! Everything here is safe to call several times in one process: tests and the all-in-one
//! binary start several services side by side, each calling [`init`]. The first call wins; later
//! calls reuse what is installed. Serving `/metrics` over HTTP and creating the spans of a
//! request are left to each service (a five-line route around [`render_metrics`], a span per
//! hop), so this crate depends on no web framework or HTTP client types.

mod context;
mod guard;
mod json_log;
mod logging;
mod metrics;
mod traces;

pub use context::{TRACEPARENT, TRACESTATE, current_trace_context, set_parent_from};
pub use guard::Guard;
pub use logging::init;
pub use metrics::{METRICS_CONTENT_TYPE, install_metrics, names, render_metrics};
pub use traces::{OTLP_ENDPOINT_ENV, flush_traces};

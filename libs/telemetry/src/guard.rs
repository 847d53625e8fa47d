//! [`Guard`]: what [`crate::init`] hands back, and what flushes spans when the service stops.

use std::time::Duration;

use opentelemetry_sdk::trace::SdkTracerProvider;

/// Upper bound of the final export on drop: a collector that is down must not hold a stopping
/// service past its grace period.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Keeps telemetry alive for the life of a service; dropping it flushes pending telemetry.
///
/// Logs are written synchronously. Spans are exported in batches from a background thread:
/// dropping the guard that installed the tracer provider shuts it down, which exports what is
/// still buffered, waiting at most five seconds. Drop it inside a multi-threaded tokio runtime,
/// before the runtime stops: the gRPC exporter sends through it.
#[must_use = "telemetry is flushed when the guard is dropped: keep it alive until shutdown"]
#[derive(Debug)]
pub struct Guard {
    pub(crate) service_name: &'static str,
    /// Whether this call installed the process-wide subscriber (false when one already was).
    pub(crate) installed: bool,
    /// Whether spans leave the process (an OTLP exporter is configured and was built).
    pub(crate) exporting: bool,
    /// The provider this call installed, shut down on drop.
    pub(crate) provider: Option<SdkTracerProvider>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown_with_timeout(SHUTDOWN_TIMEOUT)
        {
            tracing::warn!(service = self.service_name, error = %e, "tracer shutdown failed");
        }
    }
}

impl Guard {
    /// The service that asked for this guard.
    pub fn service_name(&self) -> &'static str {
        self.service_name
    }

    /// Whether this call installed the global subscriber; `false` when an earlier call (another
    /// service in the same process, or a test) already had.
    pub fn installed_subscriber(&self) -> bool {
        self.installed
    }

    /// Whether this call set up span export over OTLP. `false` when export is off, could not be
    /// built (the reason was logged), or an earlier call had installed telemetry already.
    pub fn exports_spans(&self) -> bool {
        self.exporting
    }
}

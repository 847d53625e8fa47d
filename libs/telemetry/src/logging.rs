//! Log and trace subscriber set-up: an env filter, JSON or pretty output, and the
//! `tracing-opentelemetry` layer that gives every span a W3C trace context, installed once per
//! process. Spans are not exported yet; an OTLP exporter, when added, joins the tracer provider
//! built here and is flushed by [`Guard`].

use jira_sync_settings::{LogFormat, TelemetrySettings};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// The filter used when neither `RUST_LOG` nor `telemetry.log_filter` parses.
const FALLBACK_FILTER: &str = "info,lapin=warn,sqlx=warn";

/// Keeps telemetry alive for the life of a service; dropping it flushes pending telemetry.
///
/// Logs are written synchronously; the guard shuts the tracer provider down (flushing its
/// exporters once there are any), so adding the OTLP exporter changes no service's `main`.
#[must_use = "telemetry is flushed when the guard is dropped: keep it alive until shutdown"]
#[derive(Debug)]
pub struct Guard {
    service_name: &'static str,
    /// Whether this call installed the process-wide subscriber (false when one already was).
    installed: bool,
    /// The provider this call installed, shut down on drop.
    provider: Option<SdkTracerProvider>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
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
}

/// Installs the global tracing subscriber and the metrics recorder.
///
/// `RUST_LOG`, when set and valid, overrides `settings.log_filter`. Output is JSON when
/// `settings.log_format` is `json` and human-readable otherwise. Calling it again in the same
/// process is harmless: the first subscriber stays, and the returned guard says so.
pub fn init(settings: &TelemetrySettings, service_name: &'static str) -> Guard {
    crate::metrics::install_metrics();

    let from_env = std::env::var(EnvFilter::DEFAULT_ENV).ok();
    let (filter, filter_problem) = build_filter(from_env.as_deref(), &settings.log_filter);
    // The log filter applies to log output only: spans keep their trace context (and keep
    // propagating it) even when logging is turned down to `warn`.
    let logs: Box<dyn Layer<Registry> + Send + Sync> = match settings.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_filter(filter).boxed(),
    };
    let provider = SdkTracerProvider::builder().build();
    let traces = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(service_name))
        .with_filter(trace_filter());
    let installed = tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .try_init()
        .is_ok();
    if installed {
        tracing::info!(service = service_name, "telemetry initialised");
        if let Some(problem) = filter_problem {
            tracing::warn!(service = service_name, "{problem}");
        }
    } else {
        tracing::debug!(
            service = service_name,
            "a tracing subscriber was already installed; reusing it"
        );
    }
    Guard {
        service_name,
        installed,
        provider: installed.then_some(provider),
    }
}

/// Which spans get an OpenTelemetry context: ours at `info` and above, not lapin's
/// connection-long `io_loop` span (it would parent every span on its thread).
fn trace_filter() -> Targets {
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("lapin", LevelFilter::WARN)
}

/// `RUST_LOG` if set and valid, else the configured filter, else [`FALLBACK_FILTER`]; with a
/// message to log once the subscriber is up when something was skipped.
fn build_filter(from_env: Option<&str>, configured: &str) -> (EnvFilter, Option<String>) {
    let mut problem = None;
    if let Some(from_env) = from_env {
        match EnvFilter::try_new(from_env) {
            Ok(filter) => return (filter, None),
            Err(e) => problem = Some(format!("ignoring invalid RUST_LOG: {e}")),
        }
    }
    match EnvFilter::try_new(configured) {
        Ok(filter) => (filter, problem),
        Err(e) => (
            EnvFilter::new(FALLBACK_FILTER),
            Some(format!(
                "invalid telemetry.log_filter ({e}); using {FALLBACK_FILTER:?}"
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(format: LogFormat) -> TelemetrySettings {
        TelemetrySettings {
            log_format: format,
            // Logs off: trace context must not depend on the log filter.
            log_filter: "off".into(),
        }
    }

    #[test]
    fn init_can_be_called_twice_in_one_process() {
        let first = init(&settings(LogFormat::Json), "first");
        let second = init(&settings(LogFormat::Pretty), "second");
        assert_eq!(first.service_name(), "first");
        assert!(
            !second.installed_subscriber(),
            "the second call must reuse the first subscriber"
        );
        let context = tracing::info_span!("after init").in_scope(crate::current_trace_context);
        assert!(
            context.contains_key(crate::TRACEPARENT),
            "spans carry a W3C context once init ran: {context:?}"
        );
    }

    #[test]
    fn an_invalid_configured_filter_falls_back_with_a_message() {
        let (filter, problem) = build_filter(None, "info,=[bad");
        assert!(problem.is_some_and(|p| p.contains("log_filter")));
        assert_eq!(
            filter.to_string(),
            EnvFilter::new(FALLBACK_FILTER).to_string()
        );
        let (_, problem) = build_filter(None, "info,lapin=warn");
        assert!(problem.is_none());
    }

    #[test]
    fn rust_log_overrides_the_configured_filter_unless_invalid() {
        let (filter, problem) = build_filter(Some("debug"), "info");
        assert_eq!(filter.to_string(), "debug");
        assert!(problem.is_none());
        let (filter, problem) = build_filter(Some("=[bad"), "warn");
        assert_eq!(filter.to_string(), "warn");
        assert!(problem.is_some_and(|p| p.contains("RUST_LOG")));
    }
}

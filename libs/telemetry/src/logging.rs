//! The subscriber set-up of [`init`]: an env filter, JSON or pretty log output, and the
//! `tracing-opentelemetry` layer that gives every span a W3C trace context and hands it to the
//! tracer provider of [`crate::traces`] (which exports it when OTLP is configured). Installed
//! once per process; [`crate::Guard`] flushes it.

use jira_sync_settings::{LogFormat, TelemetrySettings};
use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::Guard;
use crate::json_log::json_layer;
use crate::traces::{self, OTLP_ENDPOINT_ENV};

/// The filter used when neither `RUST_LOG` nor `telemetry.log_filter` parses.
const FALLBACK_FILTER: &str = "info,lapin=warn,sqlx=warn";

/// Installs the global tracing subscriber, the tracer provider and the metrics recorder.
///
/// `RUST_LOG`, when set and valid, overrides `settings.log_filter`. Output is JSON (with
/// `trace_id` and `span_id` inside traced spans) when `settings.log_format` is `json` and
/// human-readable otherwise. Spans are exported over OTLP to `settings.otlp_endpoint`, or to
/// `OTEL_EXPORTER_OTLP_ENDPOINT` when that is empty; with neither, they stay in process (still
/// propagated). The gRPC exporter needs a tokio runtime: call this inside one. Calling it again
/// in the same process is harmless: the first subscriber and provider stay (their
/// `service.name` included), and the returned guard says so.
pub fn init(settings: &TelemetrySettings, service_name: &'static str) -> Guard {
    crate::metrics::install_metrics();

    let from_env = std::env::var(EnvFilter::DEFAULT_ENV).ok();
    let (filter, filter_problem) = build_filter(from_env.as_deref(), &settings.log_filter);
    // The log filter applies to log output only: spans keep their trace context (and keep
    // propagating it) even when logging is turned down to `warn`.
    let logs: Box<dyn Layer<Registry> + Send + Sync> = match settings.log_format {
        LogFormat::Json => json_layer(std::io::stdout).with_filter(filter).boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().with_filter(filter).boxed(),
    };
    // A second init would throw its provider away: do not open an exporter for it.
    let first = !tracing::dispatcher::has_been_set();
    let export = first
        .then(|| {
            let from_env = std::env::var(OTLP_ENDPOINT_ENV).ok();
            traces::export_target(settings, from_env.as_deref())
        })
        .flatten();
    let (provider, export_problem) =
        traces::build_provider(settings, service_name, export.as_ref());
    let exporting = export.is_some() && export_problem.is_none();
    let spans = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(service_name))
        .with_filter(trace_filter());
    let installed = tracing_subscriber::registry()
        .with(logs)
        .with(spans)
        .try_init()
        .is_ok();
    if !installed {
        tracing::debug!(
            service = service_name,
            "a tracing subscriber was already installed; reusing it"
        );
        if let Err(e) = provider.shutdown() {
            tracing::debug!(error = %e, "unused tracer provider");
        }
        return Guard {
            service_name,
            installed,
            exporting: false,
            provider: None,
        };
    }
    traces::install(&provider);
    let endpoint = (export.as_ref().filter(|_| exporting)).map(|e| {
        format!(
            "{} ({:?})",
            traces::redact_userinfo(&e.endpoint),
            e.protocol
        )
    });
    tracing::info!(
        service = service_name,
        otlp = endpoint.as_deref().unwrap_or("off"),
        sampling_ratio = settings.sampling_ratio,
        "telemetry initialised"
    );
    for problem in [filter_problem, export_problem].into_iter().flatten() {
        tracing::warn!(service = service_name, "{problem}");
    }
    Guard {
        service_name,
        installed,
        exporting,
        provider: Some(provider),
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
            otlp_endpoint: String::new(),
            otlp_protocol: jira_sync_settings::OtlpProtocol::Grpc,
            sampling_ratio: 1.0,
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

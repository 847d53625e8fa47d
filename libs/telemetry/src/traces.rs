//! The tracer provider behind every span: always there (it gives spans the W3C context that
//! [`crate::current_trace_context`] propagates), exporting over OTLP when an endpoint is
//! configured, sampling new traces by `telemetry.sampling_ratio` and following the caller's
//! decision for continued ones, with `service.name` on the resource.
//!
//! Spans go through the SDK's batch processor, which exports from its own thread; the guard of
//! [`crate::init`] flushes it on drop and [`flush_traces`] on demand. Which spans exist and how
//! they nest is the services' concern; this module only decides where they go.

use std::sync::OnceLock;

use jira_sync_settings::{OtlpProtocol, TelemetrySettings};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

/// The standard variable naming the collector when the settings name none.
pub const OTLP_ENDPOINT_ENV: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";

/// The path of the OTLP/HTTP trace service under the collector's base URL.
const HTTP_TRACES_PATH: &str = "/v1/traces";

/// The provider installed by the first [`crate::init`] of the process.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Where spans are exported, once resolved from the settings and the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Export {
    pub(crate) endpoint: String,
    pub(crate) protocol: OtlpProtocol,
}

/// The configured endpoint, else `OTEL_EXPORTER_OTLP_ENDPOINT` (`from_env`), else none.
pub(crate) fn export_target(
    settings: &TelemetrySettings,
    from_env: Option<&str>,
) -> Option<Export> {
    let configured = settings.otlp_endpoint.trim();
    let endpoint = if configured.is_empty() {
        from_env.map(str::trim).filter(|e| !e.is_empty())?
    } else {
        configured
    };
    Some(Export {
        endpoint: endpoint.to_owned(),
        protocol: settings.otlp_protocol,
    })
}

/// A provider for `service_name` with the configured sampler, exporting to `export` when given.
/// A problem building the exporter does not stop the service: the provider then keeps spans in
/// process only, and the returned message says why, to be logged once logging is up.
pub(crate) fn build_provider(
    settings: &TelemetrySettings,
    service_name: &'static str,
    export: Option<&Export>,
) -> (SdkTracerProvider, Option<String>) {
    // Finite and in [0, 1] per `Settings::validate`; clamped again for hand-built settings.
    let ratio = if settings.sampling_ratio.is_nan() {
        1.0
    } else {
        settings.sampling_ratio.clamp(0.0, 1.0)
    };
    let builder = SdkTracerProvider::builder()
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            ratio,
        ))))
        .with_resource(Resource::builder().with_service_name(service_name).build());
    let Some(export) = export else {
        return (builder.build(), None);
    };
    match exporter(export) {
        Ok(exporter) => (builder.with_batch_exporter(exporter).build(), None),
        Err(problem) => (
            builder.build(),
            Some(format!(
                "spans are not exported to {}: {problem}",
                redact_userinfo(&export.endpoint)
            )),
        ),
    }
}

fn exporter(export: &Export) -> Result<SpanExporter, String> {
    match export.protocol {
        OtlpProtocol::Grpc => {
            // The gRPC channel runs its connection on the current tokio runtime.
            if tokio::runtime::Handle::try_current().is_err() {
                return Err("OTLP/gRPC export needs a tokio runtime at start-up".to_owned());
            }
            SpanExporter::builder()
                .with_tonic()
                .with_endpoint(export.endpoint.as_str())
                .build()
        }
        OtlpProtocol::Http => SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(http_traces_url(&export.endpoint))
            .build(),
    }
    .map_err(|e| e.to_string())
}

/// The OTLP/HTTP trace URL under a collector base URL (as `OTEL_EXPORTER_OTLP_ENDPOINT` is
/// read); a URL that already ends in `/v1/traces` is kept.
pub(crate) fn http_traces_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with(HTTP_TRACES_PATH) {
        base.to_owned()
    } else {
        format!("{base}{HTTP_TRACES_PATH}")
    }
}

/// The endpoint without `user:password@`, for logs.
pub(crate) fn redact_userinfo(endpoint: &str) -> String {
    match endpoint.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit('@').next().unwrap_or(authority);
            format!("{scheme}://{host}{path}")
        }
        None => endpoint.rsplit('@').next().unwrap_or(endpoint).to_owned(),
    }
}

/// Makes `provider` the process-wide one (for [`flush_traces`] and OpenTelemetry's global API).
pub(crate) fn install(provider: &SdkTracerProvider) {
    if PROVIDER.set(provider.clone()).is_ok() {
        opentelemetry::global::set_tracer_provider(provider.clone());
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
    }
}

/// Exports the spans still buffered by the process-wide provider now. Blocks until the exporter
/// answered (or timed out): from async code, call it through `tokio::task::spawn_blocking` on
/// a multi-threaded runtime, as the gRPC export itself needs the runtime. Returns `false` when
/// nothing is installed or the export failed. Services need not call it: the guard of
/// [`crate::init`] flushes on drop.
pub fn flush_traces() -> bool {
    match PROVIDER.get() {
        Some(provider) => match provider.force_flush() {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "flushing spans failed");
                false
            }
        },
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use jira_sync_settings::LogFormat;
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    fn settings(endpoint: &str, ratio: f64) -> TelemetrySettings {
        TelemetrySettings {
            log_format: LogFormat::Pretty,
            log_filter: "off".into(),
            otlp_endpoint: endpoint.into(),
            otlp_protocol: OtlpProtocol::Grpc,
            sampling_ratio: ratio,
        }
    }

    #[test]
    fn the_configured_endpoint_wins_over_the_environment_and_empty_means_off() {
        let configured = export_target(&settings("http://a:4317", 1.0), Some("http://env:4317"));
        assert_eq!(
            configured.map(|e| e.endpoint).as_deref(),
            Some("http://a:4317")
        );
        let from_env = export_target(&settings(" ", 1.0), Some("http://env:4317"));
        assert_eq!(
            from_env.map(|e| e.endpoint).as_deref(),
            Some("http://env:4317")
        );
        assert_eq!(export_target(&settings("", 1.0), None), None);
        assert_eq!(export_target(&settings("", 1.0), Some("")), None);
    }

    #[test]
    fn the_http_trace_url_is_the_base_url_plus_v1_traces_once() {
        assert_eq!(http_traces_url("http://c:4318"), "http://c:4318/v1/traces");
        assert_eq!(http_traces_url("http://c:4318/"), "http://c:4318/v1/traces");
        assert_eq!(
            http_traces_url("https://c/otlp/v1/traces"),
            "https://c/otlp/v1/traces"
        );
    }

    #[test]
    fn credentials_in_an_endpoint_are_not_logged() {
        assert_eq!(
            redact_userinfo("https://user:secret@collector:4318/x"),
            "https://collector:4318/x"
        );
        assert_eq!(
            redact_userinfo("http://collector:4317"),
            "http://collector:4317"
        );
    }

    #[test]
    fn grpc_export_without_a_runtime_is_a_problem_not_a_panic() {
        let export = export_target(&settings("http://127.0.0.1:4317", 1.0), None);
        let (_provider, problem) = build_provider(&settings("", 1.0), "test", export.as_ref());
        assert!(
            problem
                .as_deref()
                .is_some_and(|p| p.contains("tokio runtime")),
            "{problem:?}"
        );
    }

    #[test]
    fn a_zero_sampling_ratio_still_propagates_the_context_but_marks_it_unsampled() {
        let traceparent = |ratio: f64| {
            let (provider, problem) = build_provider(&settings("", ratio), "test", None);
            assert!(problem.is_none());
            let subscriber = tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
            tracing::subscriber::with_default(subscriber, || {
                tracing::info_span!("root").in_scope(crate::current_trace_context)
            })
            .remove(crate::TRACEPARENT)
            .unwrap_or_default()
        };
        assert!(traceparent(1.0).ends_with("-01"), "{}", traceparent(1.0));
        assert!(traceparent(0.0).ends_with("-00"), "{}", traceparent(0.0));
    }

    /// Accepts one HTTP request and answers 200; returns its request line, headers and body.
    fn one_http_request(
        listener: std::net::TcpListener,
    ) -> std::thread::JoinHandle<(String, String, Vec<u8>)> {
        use std::io::{BufRead, BufReader, Read, Write};
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            reader.read_line(&mut request_line).expect("request line");
            let (mut headers, mut length) = (String::new(), 0);
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("header");
                if line.trim().is_empty() {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().expect("content-length");
                }
                headers.push_str(&line.to_ascii_lowercase());
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("body");
            let mut stream = stream;
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .expect("answer");
            (request_line, headers, body)
        })
    }

    #[test]
    fn with_the_http_protocol_spans_are_posted_as_protobuf_to_v1_traces() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let collector = one_http_request(listener);
        let settings = TelemetrySettings {
            otlp_protocol: OtlpProtocol::Http,
            ..settings(&endpoint, 1.0)
        };
        let export = export_target(&settings, None);
        let (provider, problem) = build_provider(&settings, "http-export-test", export.as_ref());
        assert!(problem.is_none(), "{problem:?}");
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!("exported_over_http").in_scope(|| {});
        });
        assert!(provider.force_flush().is_ok());
        let (request_line, headers, body) = collector.join().expect("the collector");
        assert!(
            request_line.starts_with("POST /v1/traces "),
            "{request_line}"
        );
        assert!(
            headers.contains("content-type: application/x-protobuf"),
            "{headers}"
        );
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains("exported_over_http"),
            "the span's name: {body}"
        );
        assert!(body.contains("http-export-test"), "service.name: {body}");
        let _ = provider.shutdown();
    }
}

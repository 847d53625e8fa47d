//! W3C trace context across process boundaries: what a producer attaches to an outgoing message
//! ([`current_trace_context`]) and what a consumer continues from ([`set_parent_from`]).
//!
//! Both work on the OpenTelemetry context that the `tracing-opentelemetry` layer installed by
//! [`crate::init`] keeps for every span, so one trace runs from the Jira webhook through RabbitMQ
//! to the write on the other side. Without that layer (a process that never called `init`) they
//! degrade to an empty map and a no-op. Exporting spans is `crate::traces`' concern.

use std::collections::BTreeMap;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C `traceparent` header/key.
pub const TRACEPARENT: &str = "traceparent";
/// The W3C `tracestate` header/key.
pub const TRACESTATE: &str = "tracestate";

struct MapInjector<'a>(&'a mut BTreeMap<String, String>);

impl Injector for MapInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

struct MapExtractor<'a>(&'a BTreeMap<String, String>);

impl Extractor for MapExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// The trace context of the current span as W3C key/values (`traceparent`, and `tracestate`
/// when there is one), to attach to an outgoing message or request. Empty when the current span
/// has no OpenTelemetry context (no span, or `init` was not called).
pub fn current_trace_context() -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let context = tracing::Span::current().context();
    if context.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&context, &mut MapInjector(&mut map));
    }
    map
}

/// Makes `span` a child of the remote trace described by `context` (as produced by
/// [`current_trace_context`] on the other side). Call it before the span is first entered: a
/// started span's parent cannot change. An empty or malformed context is ignored, and so is a
/// process without the OpenTelemetry layer. Returns whether the parent was set.
pub fn set_parent_from(context: &BTreeMap<String, String>, span: &tracing::Span) -> bool {
    let remote = TraceContextPropagator::new().extract(&MapExtractor(context));
    if !remote.span().span_context().is_valid() {
        return false;
    }
    match span.set_parent(remote) {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(error = %e, "cannot continue the remote trace");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    const REMOTE: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    fn with_otel<T>(f: impl FnOnce() -> T) -> T {
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, f)
    }

    fn remote() -> BTreeMap<String, String> {
        BTreeMap::from([(TRACEPARENT.to_owned(), REMOTE.to_owned())])
    }

    #[test]
    fn a_span_exports_a_w3c_traceparent() {
        let context = with_otel(|| tracing::info_span!("producer").in_scope(current_trace_context));
        let traceparent = context.get(TRACEPARENT).expect("a traceparent");
        let parts: Vec<&str> = traceparent.split('-').collect();
        assert_eq!(parts.len(), 4, "{traceparent}");
        assert_eq!((parts[0], parts[1].len(), parts[2].len()), ("00", 32, 16));
    }

    #[test]
    fn a_consumer_span_continues_the_producer_trace() {
        let context = with_otel(|| {
            let span = tracing::info_span!("consumer");
            assert!(set_parent_from(&remote(), &span));
            span.in_scope(current_trace_context)
        });
        let traceparent = context.get(TRACEPARENT).expect("a traceparent");
        assert!(
            traceparent.starts_with("00-0af7651916cd43dd8448eb211c80319c-"),
            "same trace id: {traceparent}"
        );
        assert!(!traceparent.contains("b7ad6b7169203331"), "a new span id");
    }

    #[test]
    fn an_empty_or_malformed_context_is_ignored() {
        with_otel(|| {
            let span = tracing::info_span!("consumer");
            assert!(!set_parent_from(&BTreeMap::new(), &span));
            let bad = BTreeMap::from([(TRACEPARENT.to_owned(), "00-zz-yy-01".to_owned())]);
            assert!(!set_parent_from(&bad, &span));
        });
    }

    #[test]
    fn without_the_opentelemetry_layer_it_degrades_to_nothing() {
        let subscriber = tracing_subscriber::registry();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("plain");
            assert!(!set_parent_from(&remote(), &span));
            assert!(span.in_scope(current_trace_context).is_empty());
        });
    }
}

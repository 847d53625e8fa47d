//! A minimal OpenTelemetry collector for tests: the OTLP/gRPC trace service
//! (`opentelemetry.proto.collector.trace.v1.TraceService/Export`) over HTTP/2 without TLS,
//! keeping every span it receives.
//!
//! gRPC is framed by hand (a 1-byte compression flag, a 4-byte big-endian length, the protobuf
//! message) on the `h2` crate that the exporter's tonic channel already builds, so the test
//! needs neither a tonic server nor a second build of tonic with server features.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The gRPC method every OTLP trace exporter calls.
const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// One span as the collector received it; ids in lowercase hex.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    /// `service.name` of the resource that sent it.
    pub service: String,
    /// Attributes, values rendered as text.
    pub attributes: BTreeMap<String, String>,
}

/// A running receiver; stops when dropped.
pub struct OtlpReceiver {
    addr: SocketAddr,
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
    server: JoinHandle<()>,
}

impl OtlpReceiver {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind the OTLP receiver: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("OTLP receiver address: {e}"));
        let spans = Arc::new(Mutex::new(Vec::new()));
        let server = tokio::spawn(serve(listener, spans.clone()));
        Self {
            addr,
            spans,
            server,
        }
    }

    /// The endpoint to configure as `telemetry.otlp_endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        lock(&self.spans).clone()
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock(spans: &Mutex<Vec<ReceivedSpan>>) -> std::sync::MutexGuard<'_, Vec<ReceivedSpan>> {
    spans.lock().unwrap_or_else(|e| e.into_inner())
}

async fn serve(listener: TcpListener, spans: Arc<Mutex<Vec<ReceivedSpan>>>) {
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let spans = spans.clone();
        tokio::spawn(async move {
            let mut connection = match h2::server::handshake(socket).await {
                Ok(connection) => connection,
                Err(e) => return eprintln!("OTLP receiver: HTTP/2 handshake failed: {e}"),
            };
            // Accepting also drives the connection; each call is answered on its own task.
            while let Some(Ok((request, respond))) = connection.accept().await {
                tokio::spawn(export(request, respond, spans.clone()));
            }
        });
    }
}

/// Answers one gRPC call: decodes an `Export` and keeps its spans.
async fn export(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
) {
    let path = request.uri().path().to_owned();
    let mut body = request.into_body();
    let mut buffer = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let Ok(chunk) = chunk else { return };
        let _ = body.flow_control().release_capacity(chunk.len());
        buffer.extend_from_slice(&chunk);
    }
    let status = match (path == EXPORT_PATH).then(|| decode(&buffer)) {
        Some(Ok(request)) => {
            lock(&spans).extend(flatten(request));
            "0" // OK
        }
        Some(Err(e)) => {
            eprintln!("OTLP receiver: undecodable export: {e}");
            "3" // INVALID_ARGUMENT
        }
        None => "12", // UNIMPLEMENTED
    };
    let head = http::Response::builder()
        .status(200)
        .header("content-type", "application/grpc")
        .body(())
        .unwrap_or_else(|e| panic!("gRPC response head: {e}"));
    let Ok(mut stream) = respond.send_response(head, false) else {
        return;
    };
    if status == "0" {
        // An empty ExportTraceServiceResponse: flag 0, length 0.
        let _ = stream.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), false);
    }
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static(status));
    let _ = stream.send_trailers(trailers);
}

/// The message of one uncompressed gRPC frame.
fn decode(frame: &[u8]) -> Result<ExportTraceServiceRequest, String> {
    let (header, message) = frame
        .split_first_chunk::<5>()
        .ok_or("shorter than a gRPC frame header")?;
    let [compressed, length @ ..] = *header;
    if compressed != 0 {
        return Err("compressed messages are not supported".into());
    }
    let length = u32::from_be_bytes(length) as usize;
    let message = message
        .get(..length)
        .ok_or("the frame is shorter than its length")?;
    ExportTraceServiceRequest::decode(message).map_err(|e| e.to_string())
}

fn flatten(request: ExportTraceServiceRequest) -> Vec<ReceivedSpan> {
    let mut out = Vec::new();
    for resource_spans in request.resource_spans {
        let resource = resource_spans.resource.map(|r| r.attributes);
        let service = attributes(&resource.unwrap_or_default())
            .remove("service.name")
            .unwrap_or_default();
        for scope_spans in resource_spans.scope_spans {
            for span in scope_spans.spans {
                out.push(ReceivedSpan {
                    name: span.name,
                    trace_id: hex::encode(&span.trace_id),
                    span_id: hex::encode(&span.span_id),
                    parent_span_id: hex::encode(&span.parent_span_id),
                    service: service.clone(),
                    attributes: attributes(&span.attributes),
                });
            }
        }
    }
    out
}

fn attributes(list: &[KeyValue]) -> BTreeMap<String, String> {
    list.iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map(text).unwrap_or_default(),
            )
        })
        .collect()
}

fn text(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

//! Test support: spawn an ingress on a free port with fake or real dependencies, and talk to it
//! in the words of the tests (`post_webhook(..).signed_with(secret)`).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, KeyInit, Mac};
use jira_sync_ingress::{Application, IngressDeps, Readiness};
use jira_sync_settings::Settings;
use jira_sync_transport::{Envelope, Publisher, TransportError};
use sha2::Sha256;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The secret of the `jira-a` endpoint.
pub const SECRET: &str = "It's a Secret to Everybody";
/// The secret of the `pf-a` (PeopleForce) endpoint.
pub const PF_SECRET: &str = "pf-webhook-secret";
/// The key of the `jira-key` endpoint.
pub const API_KEY: &str = "k-0123456789";
/// The body limit of test apps.
pub const MAX_BODY: usize = 64 * 1024;

/// Test settings: `jira-a` signs, `jira-key` uses an API key, `jira-b` takes no webhooks; one
/// connection per project of the shared fixtures.
pub fn test_settings() -> Settings {
    let mut text = format!(
        r#"
[ingress]
listen = "127.0.0.1:0"
max_body_bytes = {MAX_BODY}
unavailable_retry_after = "7s"

[amqp]
confirm_timeout = "2s"

[telemetry]
log_filter = "warn"

[endpoints.jira-a]
kind = "jira_cloud"
base_url = "http://127.0.0.1:9"
email = "a@example.com"
api_token = "t"
webhook = {{ method = "hub_signature", secret = "{SECRET}" }}

[endpoints.jira-key]
kind = "jira_cloud"
base_url = "http://127.0.0.1:9"
email = "k@example.com"
api_token = "t"
webhook = {{ method = "api_key", key = "{API_KEY}" }}

[endpoints.jira-b]
kind = "jira_cloud"
base_url = "http://127.0.0.1:9"
email = "b@example.com"
api_token = "t"

[endpoints.pf-a]
kind = "peopleforce"
base_url = "http://127.0.0.1:9"
api_key = "pf-key"
webhook = {{ method = "hub_signature", secret = "{PF_SECRET}" }}
"#
    );
    for project in FIXTURE_PROJECTS {
        let slug = project.to_ascii_lowercase();
        text.push_str(&format!(
            "\n[connections.{slug}]\nleft = {{ endpoint = \"jira-a\", project = \"{project}\" }}\n\
             right = {{ endpoint = \"jira-b\", project = \"{project}\" }}\n"
        ));
    }
    text.push_str(
        "\n[connections.key]\nleft = { endpoint = \"jira-key\", project = \"TES\" }\n\
         right = { endpoint = \"jira-b\", project = \"KEY\" }\n",
    );
    text.push_str(
        "\n[connections.people]\nleft = { endpoint = \"pf-a\" }\n\
         right = { endpoint = \"jira-b\", project = \"HR\" }\n",
    );
    Settings::from_toml(&text).expect("valid test settings")
}

/// Every project key in `tests/fixtures/jira-webhooks`.
pub const FIXTURE_PROJECTS: [&str; 6] = ["TEST", "TES", "KT", "IDT", "PRJA", "HEY"];

/// Fixture files, with their bodies.
pub fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/jira-webhooks");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixture dir") {
        let path = entry.expect("dir entry").path();
        if path.extension().and_then(|e| e.to_str()) == Some("json") {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("?")
                .to_owned();
            out.push((name, std::fs::read(&path).expect("fixture")));
        }
    }
    out.sort();
    assert!(out.len() >= 30, "fixtures missing in {}", dir.display());
    out
}

/// `sha256=<hex>` of `body` under `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Polls `check` until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A publisher that keeps what it is given; it can be told to fail or to take its time.
#[derive(Default)]
pub struct FakePublisher {
    pub published: Mutex<VecDeque<Envelope>>,
    pub failing: AtomicBool,
    /// Publish calls begun (including ones still waiting out `delay`).
    pub started: AtomicUsize,
    pub delay: Mutex<Option<Duration>>,
}

impl FakePublisher {
    pub fn take(&self) -> Vec<Envelope> {
        self.published
            .lock()
            .expect("not poisoned")
            .drain(..)
            .collect()
    }
}

#[async_trait]
impl Publisher for FakePublisher {
    async fn publish(&self, envelope: Envelope) -> Result<(), TransportError> {
        self.started.fetch_add(1, Ordering::SeqCst);
        let delay = *self.delay.lock().expect("not poisoned");
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(TransportError::Unavailable("fake broker is down".into()));
        }
        self.published
            .lock()
            .expect("not poisoned")
            .push_back(envelope);
        Ok(())
    }

    async fn is_ready(&self) -> bool {
        !self.failing.load(Ordering::SeqCst)
    }
}

/// A readiness check that answers what it is told.
pub struct FakeReadiness(pub AtomicBool);

#[async_trait]
impl Readiness for FakeReadiness {
    async fn check(&self) -> Result<(), String> {
        if self.0.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err("fake database is down".into())
        }
    }
}

/// A running ingress.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub shutdown: CancellationToken,
    pub server: JoinHandle<Result<(), jira_sync_ingress::IngressError>>,
}

/// The fakes behind an app from [`spawn_fake_app`].
pub struct Fakes {
    pub publisher: Arc<FakePublisher>,
    pub database: Arc<FakeReadiness>,
}

/// An ingress with in-memory fakes for the broker and the database.
pub async fn spawn_fake_app() -> (TestApp, Fakes) {
    let fakes = Fakes {
        publisher: Arc::new(FakePublisher::default()),
        database: Arc::new(FakeReadiness(AtomicBool::new(true))),
    };
    let deps = IngressDeps {
        publisher: fakes.publisher.clone(),
        readiness: fakes.database.clone(),
    };
    (start(test_settings(), deps), fakes)
}

/// Starts the app on the current runtime, with telemetry initialised (once per process) as
/// `main` does.
pub fn start(settings: Settings, deps: IngressDeps) -> TestApp {
    static TELEMETRY: std::sync::OnceLock<jira_sync_telemetry::Guard> = std::sync::OnceLock::new();
    TELEMETRY.get_or_init(|| jira_sync_telemetry::init(&settings.telemetry, "ingress-tests"));
    let app = Application::build_with(settings, deps).expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    TestApp {
        address,
        client: reqwest::Client::new(),
        shutdown,
        server,
    }
}

impl TestApp {
    /// A webhook POST to `/webhooks/jira/{endpoint}`, to be signed and sent.
    pub fn post_webhook(&self, endpoint: &str, body: impl Into<Vec<u8>>) -> WebhookRequest<'_> {
        WebhookRequest {
            app: self,
            route: "jira",
            endpoint: endpoint.to_owned(),
            body: body.into(),
            headers: Vec::new(),
        }
    }

    /// A request to `POST /webhooks/peopleforce/{endpoint}`.
    pub fn post_peopleforce(&self, endpoint: &str, body: impl Into<Vec<u8>>) -> WebhookRequest<'_> {
        WebhookRequest {
            app: self,
            route: "peopleforce",
            endpoint: endpoint.to_owned(),
            body: body.into(),
            headers: Vec::new(),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent")
    }

    /// The `/metrics` exposition.
    pub async fn metrics(&self) -> String {
        self.get("/metrics")
            .await
            .text()
            .await
            .expect("metrics body")
    }

    /// Stops the app and waits for it to finish.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let result = tokio::time::timeout(Duration::from_secs(30), self.server)
            .await
            .expect("the server stops in time")
            .expect("the server task does not panic");
        assert!(result.is_ok(), "server failed: {result:?}");
    }
}

/// A webhook request being put together.
pub struct WebhookRequest<'a> {
    app: &'a TestApp,
    /// `jira` or `peopleforce`: the path segment after `/webhooks/`.
    route: &'static str,
    endpoint: String,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

impl WebhookRequest<'_> {
    pub fn signed_with(self, secret: &str) -> Self {
        let signature = sign(secret, &self.body);
        self.header("X-Hub-Signature", &signature)
    }

    /// Signs the body as PeopleForce does, in `X-PeopleForce-Signature`.
    pub fn peopleforce_signed_with(self, secret: &str) -> Self {
        let signature = sign(secret, &self.body);
        self.header("X-PeopleForce-Signature", &signature)
    }

    pub fn bearer(self, key: &str) -> Self {
        self.header("Authorization", &format!("Bearer {key}"))
    }

    pub fn delivery(self, id: &str) -> Self {
        self.header("X-Atlassian-Webhook-Identifier", id)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub async fn send(self) -> Reply {
        let mut request = self
            .app
            .client
            .post(format!(
                "{}/webhooks/{}/{}",
                self.app.address, self.route, self.endpoint
            ))
            .header("Content-Type", "application/json; charset=utf-8")
            .body(self.body);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("request sent");
        Reply::read(response).await
    }
}

/// A response, read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<String>,
    pub json: serde_json::Value,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.expect("response body");
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("status {status}: body is not JSON ({e}): {text:?}"));
        Self {
            status,
            retry_after,
            json,
        }
    }

    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }

    pub fn detail(&self) -> &str {
        self.json["detail"].as_str().unwrap_or("")
    }
}

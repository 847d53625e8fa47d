//! Shared test plumbing: a started simulator, a Basic-auth client for a site's users, a polling
//! `eventually`, and a scripted webhook receiver.

use std::collections::VecDeque;
use std::future::Future;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jira_sync_jira_sim::{SimConfig, Simulator, SiteHandle};
use serde_json::Value;

/// A simulator with one site `alpha` (project ALPHA) and fast webhook retries.
pub async fn spawn() -> (Simulator, SiteHandle) {
    spawn_with(|_| {}).await
}

/// Like `spawn`, after letting the test adjust the configuration.
pub async fn spawn_with(adjust: impl FnOnce(&mut SimConfig)) -> (Simulator, SiteHandle) {
    let mut cfg = SimConfig::single_site("alpha", &["ALPHA", "BETA"]);
    cfg.webhook_retry_delay = Duration::from_millis(50);
    adjust(&mut cfg);
    let sim = Simulator::start(cfg).await.expect("simulator starts");
    let site = sim.sites()[0].clone();
    (sim, site)
}

/// A REST client acting as one of the site's users.
#[derive(Clone)]
pub struct Jira {
    pub http: reqwest::Client,
    pub base: String,
    pub email: String,
    pub token: String,
}

impl Jira {
    /// As the site's first (human) user.
    pub fn admin(site: &SiteHandle) -> Self {
        Self::as_user(site, 0)
    }

    /// As the site's bot user.
    pub fn bot(site: &SiteHandle) -> Self {
        Self::as_user(site, 1)
    }

    fn as_user(site: &SiteHandle, idx: usize) -> Self {
        let u = &site.users()[idx];
        Self {
            http: reqwest::Client::new(),
            base: site.base_url(),
            email: u.email.clone(),
            token: u.api_token.clone(),
        }
    }

    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.email, Some(&self.token))
    }

    /// Sends and returns (status, JSON body or Null).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut rb = self.req(method, path);
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let resp = rb.send().await.expect("request is answered");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body is readable");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::DELETE, path, None).await
    }

    /// Creates an ALPHA task and returns (id, key).
    pub async fn create(&self, summary: &str) -> (String, String) {
        let (status, body) = self
            .post(
                "/rest/api/3/issue",
                &serde_json::json!({"fields": {
                    "project": {"key": "ALPHA"}, "issuetype": {"name": "Task"}, "summary": summary,
                }}),
            )
            .await;
        assert_eq!(status, 201, "create answered {body}");
        (
            body["id"].as_str().unwrap_or_default().to_owned(),
            body["key"].as_str().unwrap_or_default().to_owned(),
        )
    }
}

/// An ADF document with one paragraph.
pub fn adf(text: &str) -> Value {
    serde_json::json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

/// Polls `check` until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// What the receiver answered.
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Default)]
struct ReceiverState {
    got: Vec<Received>,
    script: VecDeque<u16>,
}

/// A webhook endpoint answering 200, or the statuses scripted with `answer_next`.
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<ReceiverState>>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let shared = web::Data::new(Arc::clone(&state));
        let listener = TcpListener::bind("127.0.0.1:0").expect("port");
        let port = listener.local_addr().expect("addr").port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .expect("listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            state,
            handle,
        }
    }

    /// The next answers, in order (then 200 again).
    pub fn answer_next(&self, statuses: &[u16]) {
        self.state.lock().expect("lock").script.extend(statuses);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().expect("lock").got.clone()
    }

    /// Waits until at least `n` requests arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        eventually(Duration::from_secs(10), || async {
            let got = self.received();
            (got.len() >= n).then_some(got)
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "expected {n} webhook requests, got {:?}",
                self.received().len()
            )
        })
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<ReceiverState>>>,
) -> HttpResponse {
    let mut st = state.lock().expect("lock");
    let status = st.script.pop_front().unwrap_or(200);
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    st.got.push(Received {
        headers,
        body: body.to_vec(),
        status,
    });
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status")).finish()
}

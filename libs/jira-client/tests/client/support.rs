//! A scripted Jira stand-in: a real actix-web server on 127.0.0.1:0 that answers requests from a
//! queue of canned responses (then a fallback) and records what it received, with timestamps.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jira_sync_jira_client::{ClientPolicy, JiraClient, JiraClientConfig};
use secrecy::SecretString;
use serde_json::Value;

pub const EMAIL: &str = "sync-bot@example.com";
pub const TOKEN: &str = "ATATT-super-secret-token-0123456789";

/// One canned answer.
#[derive(Clone, Debug)]
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Scripted {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: vec![],
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn raw(status: u16, body: &str) -> Self {
        Self {
            body: body.to_owned(),
            ..Self::empty(status)
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// One request as the stub saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: String,
    pub at: Instant,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("request body is JSON")
    }
}

struct State {
    script: VecDeque<Scripted>,
    fallback: Scripted,
    seen: Vec<Seen>,
}

/// The running stub; stops its server when dropped.
pub struct JiraStub {
    port: u16,
    state: Arc<Mutex<State>>,
    handle: ServerHandle,
}

async fn answer(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let scripted = {
        let mut state = state.lock().unwrap();
        state.seen.push(Seen {
            method: req.method().to_string(),
            path: req.path().to_owned(),
            query: req.query_string().to_owned(),
            headers: req
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
            at: Instant::now(),
        });
        let next = state.script.pop_front();
        next.unwrap_or_else(|| state.fallback.clone())
    };
    if !scripted.delay.is_zero() {
        tokio::time::sleep(scripted.delay).await;
    }
    let mut response =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(scripted.status).unwrap());
    for (name, value) in &scripted.headers {
        response.insert_header((name.as_str(), value.as_str()));
    }
    response.body(scripted.body)
}

impl JiraStub {
    /// Starts a stub answering `script` in order, then `fallback` forever.
    pub async fn start(script: Vec<Scripted>, fallback: Scripted) -> Self {
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            fallback,
            seen: Vec::new(),
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            port,
            state,
            handle,
        }
    }

    pub fn url(&self) -> url::Url {
        format!("http://127.0.0.1:{}", self.port).parse().unwrap()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn count(&self) -> usize {
        self.state.lock().unwrap().seen.len()
    }

    pub fn set_fallback(&self, fallback: Scripted) {
        self.state.lock().unwrap().fallback = fallback;
    }

    /// A client for this stub with short back-offs: 3 retries, a 5 s budget.
    pub fn config(&self) -> JiraClientConfig {
        let mut config = JiraClientConfig::new(self.url(), EMAIL, SecretString::from(TOKEN))
            .with_policy(ClientPolicy {
                backoff_base: Duration::from_millis(10),
                backoff_max: Duration::from_millis(50),
                ..ClientPolicy::default()
            });
        config.request_timeout = Duration::from_secs(2);
        config.connect_timeout = Duration::from_secs(1);
        config.max_retries = 3;
        config.retry_budget = Duration::from_secs(5);
        config
    }

    pub fn client(&self) -> JiraClient {
        JiraClient::new(self.config()).unwrap()
    }
}

impl Drop for JiraStub {
    fn drop(&mut self) {
        // `stop` sends its command at once; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }
}

/// Polls `check` until it yields a value or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "condition not met within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn user_json() -> Value {
    serde_json::json!({
        "accountId": "5b10a2844c20165700ede21g", "accountType": "atlassian", "active": true,
        "displayName": "Sync Bot", "emailAddress": EMAIL, "timeZone": "Europe/Berlin"
    })
}

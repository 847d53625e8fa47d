//! No secret reaches the output: `jira-sync serve` runs as a real process with every kind of
//! secret configured (Jira API tokens, webhook HMAC secrets, an ingress API key, admin API keys,
//! PeopleForce API keys, the RabbitMQ and PostgreSQL passwords in their URLs) and every log
//! level on (`log_filter = "trace"`), in the pretty and the JSON format, through webhooks
//! accepted and refused, a sync that writes to the simulated sites, a Jira 401 (an endpoint with
//! a wrong token), a PeopleForce scan and a PeopleForce 401, admin calls with a right and a
//! wrong key. Then a start-up the broker refuses (a wrong AMQP password), an invalid
//! configuration, `check-config` against the sites, and `Debug` of the loaded settings. The
//! output of each must contain none of the secrets, nor the `email:token` pairs in the base64
//! form of Basic auth.

mod support;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use jira_sync_jira_sim::{SimConfig, Simulator, SiteConfig, SiteHandle, WebhookSpec};
use jira_sync_peopleforce_sim as pf_sim;
use jira_sync_settings::Settings;
use jira_sync_store::testing::fresh_postgres;
use secrecy::ExposeSecret;
use support::{Person, Scratch, eventually, site};

/// Real-looking secrets, each unique, so that any appearance is a leak.
const TOKEN_A: &str = "ATATT3xFfGF0aQkz7Lm2Np4Rs6Tv8Wx0Yz1Bc3De5Fg7Hj9KlA1";
const TOKEN_B: &str = "ATATT3xFfGF0bRla8Mn3Oq5St7Uw9Xy1Za2Cd4Ef6Gh8Ij0LmB2";
const WRONG_TOKEN: &str = "ATATT3xFfGF0cSmb9No4Pr6Tu8Vx0Yz2Ab3De5Fg7Hi9Jk1MnC3";
const HOOK_SECRET_A: &str = "whsec_Jq8vN2mX5pL9rT4wZ7yB1cD6fH3kM0sA";
const HOOK_SECRET_B: &str = "whsec_Kr9wO3nY6qM0sU5xA8zC2dE7gI4lN1tB";
const INGRESS_KEY: &str = "ing_live_4f7a9c2e8b1d6f3a0c5e9b2d7f4a1c8e";
const ADMIN_KEY: &str = "adm_live_9e2b7d4f1a8c5e3b0d6f9a2c7e4b1d8f";
const ADMIN_KEY_2: &str = "adm_live_3c8f1a6d9b4e7c2f5a0d8b3e6c9f2a7d";
const PF_KEY: &str = "pfk_live_7b3e9d1f5a2c8e4b6d0f3a9c5e1b7d2f";
const PF_WRONG_KEY: &str = "pfk_live_2d8a4f0c6e9b3d7f1a5c8e2b4d6f9a3c";
const PF_HOOK_SECRET: &str = "pfwh_Lm4nP8qR2sT6uV0wX3yZ7aB1cD5eF9gH";
const AMQP_PASSWORD: &str = "Amqp-Pa55w0rd-7fK2xQ9v";
const PG_PASSWORD: &str = "Pg-Pa55w0rd-9xQ4mW2z";

/// Every secret, and the base64 of every `email:token` pair sent in Basic auth.
fn forbidden() -> Vec<String> {
    let mut all: Vec<String> = [
        TOKEN_A,
        TOKEN_B,
        WRONG_TOKEN,
        HOOK_SECRET_A,
        HOOK_SECRET_B,
        INGRESS_KEY,
        ADMIN_KEY,
        ADMIN_KEY_2,
        PF_KEY,
        PF_WRONG_KEY,
        PF_HOOK_SECRET,
        AMQP_PASSWORD,
        PG_PASSWORD,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for (email, token) in [
        ("bot@a.example.com", TOKEN_A),
        ("bot@b.example.com", TOKEN_B),
        ("bot@b.example.com", WRONG_TOKEN),
    ] {
        all.push(base64(format!("{email}:{token}").as_bytes()));
    }
    all
}

/// Standard base64 with padding, as `Authorization: Basic` carries it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Panics naming every secret found in `output` (by name of the run, never quoting it).
fn assert_no_secret(what: &str, output: &str) {
    let leaked: Vec<usize> = forbidden()
        .iter()
        .enumerate()
        .filter(|(_, secret)| output.contains(secret.as_str()))
        .map(|(i, _)| i)
        .collect();
    if !leaked.is_empty() {
        let lines: Vec<&str> = output
            .lines()
            .filter(|line| forbidden().iter().any(|s| line.contains(s.as_str())))
            .take(5)
            .collect();
        panic!("{what}: secrets #{leaked:?} of `forbidden()` leaked, e.g. in:\n{lines:#?}");
    }
}

/// Two sites whose bots have real-looking tokens.
async fn sites() -> Simulator {
    let mut a = SiteConfig::named("a");
    a.users[1].api_token = TOKEN_A.to_owned();
    // PeopleForce tasks become issues here, away from project A's sync with B.
    a.projects.push("HR".to_owned());
    let mut b = SiteConfig::named("b");
    b.users[1].api_token = TOKEN_B.to_owned();
    Simulator::start(SimConfig {
        sites: vec![a, b],
        webhook_retry_delay: Duration::from_millis(200),
        webhook_max_retries: 20,
        ..SimConfig::default()
    })
    .await
    .unwrap_or_else(|e| panic!("start the Jira simulator: {e}"))
}

/// The whole configuration, every secret in it.
fn config(
    sim: &Simulator,
    pf: &pf_sim::SimHandle,
    database_url: &str,
    data_dir: &Path,
    log_format: &str,
) -> String {
    let (a, b) = (site(sim, "a").base_url(), site(sim, "b").base_url());
    let pf_url = pf.base_url();
    format!(
        r#"
[runtime]
store = "postgres"
data_dir = "{data_dir}"
lease_timeout = "1s"

[database]
url = "{database_url}"

[amqp]
url = "amqp://jira-sync:{AMQP_PASSWORD}@127.0.0.1:1/%2f"
retry_delays = ["200ms", "1s"]
max_attempts = 20

[ingress]
listen = "127.0.0.1:0"

[worker]
listen = "127.0.0.1:0"
drain_timeout = "2s"

[poller]
listen = "127.0.0.1:0"
leader_lock_retry = "200ms"

[admin]
listen = "127.0.0.1:0"
api_keys = ["{ADMIN_KEY}", "{ADMIN_KEY_2}"]

[jira]
request_timeout = "5s"
connect_timeout = "1s"
max_retries = 0
retry_budget = "1s"

[telemetry]
log_format = "{log_format}"
log_filter = "trace"

[endpoints.jira-a]
kind = "jira_cloud"
base_url = "{a}"
email = "bot@a.example.com"
api_token = "{TOKEN_A}"
webhook = {{ method = "hub_signature", secret = "{HOOK_SECRET_A}" }}

[endpoints.jira-b]
kind = "jira_cloud"
base_url = "{b}"
email = "bot@b.example.com"
api_token = "{TOKEN_B}"
webhook = {{ method = "hub_signature", secret = "{HOOK_SECRET_B}" }}

# Site B again, with a token the site refuses: every write through it is a 401.
[endpoints.jira-c]
kind = "jira_cloud"
base_url = "{b}"
email = "bot@b.example.com"
api_token = "{WRONG_TOKEN}"

[endpoints.jira-key]
kind = "jira_cloud"
base_url = "{a}"
email = "bot@a.example.com"
api_token = "{TOKEN_A}"
webhook = {{ method = "api_key", key = "{INGRESS_KEY}" }}

[endpoints.hr]
kind = "peopleforce"
base_url = "{pf_url}"
api_key = "{PF_KEY}"
webhook = {{ method = "hub_signature", secret = "{PF_HOOK_SECRET}" }}

[endpoints.hr-wrong]
kind = "peopleforce"
base_url = "{pf_url}"
api_key = "{PF_WRONG_KEY}"

[connections.a-to-b]
left = {{ endpoint = "jira-a", project = "A" }}
right = {{ endpoint = "jira-b", project = "B" }}

[connections.a-to-c]
left = {{ endpoint = "jira-a", project = "A" }}
right = {{ endpoint = "jira-c", project = "B" }}

[connections.hr-to-a]
left = {{ endpoint = "hr" }}
right = {{ endpoint = "jira-a", project = "HR" }}
create_from = "peopleforce"
poll_interval = "1s"

[connections.hr-wrong-to-a]
left = {{ endpoint = "hr-wrong" }}
right = {{ endpoint = "jira-a", project = "HR" }}
create_from = "peopleforce"
poll_interval = "1s"
"#,
        data_dir = data_dir.display(),
    )
}

/// `jira-sync` as a child process writing stdout and stderr to `log`; killed on drop.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    fn start(args: &[&str], log: &Path) -> Self {
        let file = || File::create(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let out = file();
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("{}: {e}", log.display()));
        let child = Command::new(env!("CARGO_BIN_EXE_jira-sync"))
            .args(args)
            .env_remove("JIRA_SYNC_CONFIG")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start jira-sync: {e}"));
        Self {
            child,
            log: log.to_owned(),
        }
    }

    /// Waits for the process to end by itself.
    async fn wait(&mut self, within: Duration) -> ExitStatus {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "jira-sync did not exit within {within:?}: {}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM (a graceful stop that flushes the logs), then waits.
    async fn stop(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "SIGTERM sent");
        self.wait(Duration::from_secs(30)).await
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The port a role listens on, from the banner (`<role>: http://127.0.0.1:<port>`).
    async fn port(&self, marker: &str) -> u16 {
        eventually(Duration::from_secs(60), marker, || async {
            let output = self.output();
            let at = output.find(marker)? + marker.len();
            let digits: String = output[at..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .await
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let output = self.output();
            let problems: Vec<&str> = output
                .lines()
                .filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("error"))
                .collect();
            let tail = &problems[problems.len().saturating_sub(40)..];
            eprintln!(
                "--- warnings and errors of jira-sync ---\n{}",
                tail.join("\n")
            );
        }
    }
}

async fn post(http: &reqwest::Client, url: &str, headers: &[(&str, String)], body: &str) -> u16 {
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    response.status().as_u16()
}

async fn get(http: &reqwest::Client, url: &str, key: &str) -> u16 {
    let response = http
        .get(url)
        .bearer_auth(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    response.status().as_u16()
}

fn saw_status(site: &SiteHandle, status: u16) -> bool {
    site.recent_requests(1000)
        .iter()
        .any(|r| r.status == status)
}

/// A full run of `serve` in `log_format`; returns its whole output.
async fn full_run(log_format: &str) -> String {
    let sim = sites().await;
    let pf = pf_sim::Simulator::start(pf_sim::SimConfig {
        api_key: PF_KEY.to_owned(),
        ..pf_sim::SimConfig::default()
    })
    .await
    .unwrap_or_else(|e| panic!("start the PeopleForce simulator: {e}"));
    let hr = pf.handle().clone();
    hr.seed_tasks(&pf_sim::TaskSeed {
        count: 1,
        title_prefix: Some("Order a laptop".into()),
        ..pf_sim::TaskSeed::default()
    })
    .unwrap_or_else(|e| panic!("seed a task: {e:?}"));
    let db = fresh_postgres().await;
    // The local server trusts every connection: a password in the URL is accepted, and so
    // travels through the store's configuration as it would in production.
    let mut url = url::Url::parse(db.settings().url.expose_secret())
        .unwrap_or_else(|e| panic!("database URL: {e}"));
    url.set_password(Some(PG_PASSWORD))
        .unwrap_or_else(|()| panic!("a password fits a postgres URL"));
    let scratch = Scratch::new(&format!("secrets-{log_format}"));
    let text = config(
        &sim,
        &hr,
        url.as_str(),
        &scratch.path().join("data"),
        log_format,
    );
    let file = scratch.path().join("jira-sync.toml");
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("write the config: {e}"));
    let file = file.to_string_lossy().into_owned();
    let mut serve = Process::start(&["serve", "--config", &file], &scratch.path().join("log"));

    let ingress = serve.port("webhooks: http://127.0.0.1:").await;
    let admin = serve.port("admin:    http://127.0.0.1:").await;
    let http = reqwest::Client::new();
    for (name, endpoint, secret) in [
        ("a", "jira-a", HOOK_SECRET_A),
        ("b", "jira-b", HOOK_SECRET_B),
    ] {
        let spec = WebhookSpec {
            url: format!("http://127.0.0.1:{ingress}/webhooks/jira/{endpoint}"),
            secret: Some(secret.to_owned()),
            events: vec!["*".to_owned()],
            jql: None,
        };
        site(&sim, name)
            .register_webhook(spec)
            .unwrap_or_else(|e| panic!("register the webhook of {name}: {e:?}"));
    }

    // A sync that writes to B, and (through jira-c) a 401 from B.
    let (a, b) = (site(&sim, "a"), site(&sim, "b"));
    let origin = Person::admin_of(a).create("Printer on fire").await;
    eventually(Duration::from_secs(60), "the twin in B", || async {
        support::twin_of(b, &origin)
    })
    .await;
    eventually(Duration::from_secs(60), "a 401 from B", || async {
        saw_status(b, 401).then_some(())
    })
    .await;

    // Webhooks refused and accepted, on every route and method.
    let hook = format!(
        r#"{{"webhookEvent":"jira:issue_updated","issue":{{"id":"{origin}","key":"A-1","fields":{{"project":{{"key":"A"}}}}}}}}"#
    );
    let jira = format!("http://127.0.0.1:{ingress}/webhooks/jira/jira-a");
    // (The sites' own deliveries, signed with the webhook secrets, are the accepted ones.)
    let bad = [("x-hub-signature", format!("sha256={}", "ab".repeat(32)))];
    assert_eq!(post(&http, &jira, &bad, &hook).await, 401);
    let keyed = format!("http://127.0.0.1:{ingress}/webhooks/jira/jira-key");
    let right = [("authorization", format!("Bearer {INGRESS_KEY}"))];
    assert_eq!(post(&http, &keyed, &right, &hook).await, 202);
    let wrong = [("authorization", format!("Bearer {INGRESS_KEY}x"))];
    assert_eq!(post(&http, &keyed, &wrong, &hook).await, 401);
    let people = format!("http://127.0.0.1:{ingress}/webhooks/peopleforce/hr");
    let event = r#"{"action":"employee_update","data":{"id":1}}"#;
    let unsigned = [(
        "x-peopleforce-signature",
        format!("sha256={}", "cd".repeat(32)),
    )];
    assert_eq!(post(&http, &people, &unsigned, event).await, 401);

    // The PeopleForce scans: one with the right key, one refused.
    eventually(
        Duration::from_secs(60),
        "a PeopleForce 200 and 401",
        || async {
            let seen = hr.recent_requests(1000);
            let ok = seen.iter().any(|r| r.status == 200);
            let refused = seen.iter().any(|r| r.status == 401);
            (ok && refused).then_some(())
        },
    )
    .await;

    // The admin API with each key and a wrong one.
    let links = format!("http://127.0.0.1:{admin}/api/v1/links");
    assert_eq!(get(&http, &links, ADMIN_KEY).await, 200);
    assert_eq!(get(&http, &links, ADMIN_KEY_2).await, 200);
    assert_eq!(get(&http, &links, &format!("{ADMIN_KEY}0")).await, 401);
    let dead = format!("http://127.0.0.1:{admin}/api/v1/dead-letters");
    assert_eq!(get(&http, &dead, ADMIN_KEY).await, 200);

    let status = serve.stop().await;
    assert!(status.success(), "serve stops cleanly: {status:?}");
    let output = serve.output();
    db.cleanup().await;
    pf.stop().await;
    sim.stop().await;
    output
}

fn assert_rich_log(what: &str, output: &str, trace: &str) {
    assert!(output.contains(trace), "{what}: no trace-level line");
    for evidence in [
        "webhook refused",
        "webhook accepted",
        "admin request refused",
        "401",
    ] {
        assert!(
            output.contains(evidence),
            "{what}: nothing about {evidence:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_run_logged_at_trace_in_the_pretty_format_shows_no_secret() {
    let output = full_run("pretty").await;
    assert_rich_log("pretty", &output, "TRACE");
    assert_no_secret("serve, pretty logs", &output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_run_logged_at_trace_in_the_json_format_shows_no_secret() {
    let output = full_run("json").await;
    assert_rich_log("json", &output, r#""level":"TRACE""#);
    assert_no_secret("serve, JSON logs", &output);
}

#[tokio::test]
async fn start_up_failures_config_errors_and_check_config_show_no_secret() {
    let sim = sites().await;
    let pf = pf_sim::Simulator::start(pf_sim::SimConfig {
        api_key: PF_KEY.to_owned(),
        ..pf_sim::SimConfig::default()
    })
    .await
    .unwrap_or_else(|e| panic!("start the PeopleForce simulator: {e}"));
    let scratch = Scratch::new("secrets-startup");
    let database = format!("postgres://postgres:{PG_PASSWORD}@127.0.0.1:1/never");
    let base = config(
        &sim,
        pf.handle(),
        &database,
        &scratch.path().join("data"),
        "pretty",
    );
    let write = |name: &str, text: &str| {
        let path = scratch.path().join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {name}: {e}"));
        path.to_string_lossy().into_owned()
    };

    // RabbitMQ refuses the password (or is unreachable): start-up fails and says so.
    let amqp_addr =
        std::env::var("JIRA_SYNC_TEST_AMQP_ADDR").unwrap_or_else(|_| "127.0.0.1:5672".into());
    let amqp = base
        .replace(
            "@127.0.0.1:1/%2f",
            &format!("@{amqp_addr}/%2f\"\nconfirm_timeout = \"3s"),
        )
        .replace("store = \"postgres\"", "transport = \"amqp\"");
    let file = write("amqp.toml", &amqp);
    let mut run = Process::start(&["serve", "--config", &file], &scratch.path().join("amqp"));
    let status = run.wait(Duration::from_secs(60)).await;
    let output = run.output();
    assert!(!status.success(), "start-up fails: {output}");
    assert!(
        output.contains("cannot open the amqp transport"),
        "the failure is reported: {output}"
    );
    assert_no_secret("serve with a refused AMQP password", &output);

    // An invalid configuration: reported with the key at fault, not the secrets around it.
    let invalid = base.replace(
        "right = { endpoint = \"jira-c\", project = \"B\" }",
        "right = { endpoint = \"jira-x\", project = \"B\" }",
    );
    let file = write("invalid.toml", &invalid);
    let mut run = Process::start(
        &["serve", "--config", &file],
        &scratch.path().join("invalid"),
    );
    let status = run.wait(Duration::from_secs(30)).await;
    let output = run.output();
    assert_eq!(status.code(), Some(2), "{output}");
    assert!(
        output.contains("jira-x"),
        "names the bad reference: {output}"
    );
    assert_no_secret("serve with an invalid config", &output);
    let err = Settings::load_from(Some(Path::new(&file))).expect_err("the config is invalid");
    assert_no_secret("the settings error", &format!("{err} {err:?}"));

    // The valid configuration's settings, printed with Debug.
    let file = write("valid.toml", &base);
    let settings = Settings::load_from(Some(Path::new(&file)))
        .unwrap_or_else(|e| panic!("the configuration is valid: {e}"));
    let debug = format!("{settings:?} {settings:#?}");
    assert!(debug.contains("jira-c"), "Debug shows the settings");
    assert_no_secret("Debug of Settings", &debug);

    // check-config against the live sites, jira-c's token refused there.
    let mut run = Process::start(
        &["check-config", "--config", &file],
        &scratch.path().join("check"),
    );
    let status = run.wait(Duration::from_secs(60)).await;
    let output = run.output();
    assert!(
        !status.success(),
        "jira-c's refused token is a problem: {output}"
    );
    assert!(
        output.contains("jira-c.api_token: authentication failed (401)"),
        "{output}"
    );
    assert_no_secret("check-config", &output);

    pf.stop().await;
    sim.stop().await;
}

#[test]
fn the_leak_check_knows_basic_auth_and_finds_a_secret() {
    // RFC 7617's example.
    assert_eq!(
        base64(b"Aladdin:open sesame"),
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
    assert_eq!(base64(b"ab"), "YWI=");
    let basic = format!(
        "Authorization: Basic {}",
        base64(format!("bot@b.example.com:{TOKEN_B}").as_bytes())
    );
    for output in [
        format!("token {TOKEN_A}"),
        basic,
        format!("postgres://u:{PG_PASSWORD}@db"),
    ] {
        let found = std::panic::catch_unwind(|| assert_no_secret("sample", &output));
        assert!(found.is_err(), "not found in {output:?}");
    }
    assert_no_secret("sample", "nothing secret here: bot@a.example.com, jira-a");
}

//! `jira-sync serve` as a real process, killed with SIGKILL in the middle of a burst of issues
//! and restarted on the same data directory: every webhook it answered 202 was durable, every
//! webhook it could not answer was redelivered by the site (as Jira redelivers), and every
//! issue ends up with exactly one twin.

mod support;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{Person, Scratch, eventually, site, twins_by_origin};

const BURST: usize = 50;

/// The `jira-sync serve` child process; killed (and its log shown, when the test failed) on
/// drop.
struct ServeProcess {
    child: Child,
    log: PathBuf,
}

impl ServeProcess {
    fn start(config: &Path, log: &Path) -> Self {
        let open = || {
            File::options()
                .create(true)
                .append(true)
                .open(log)
                .unwrap_or_else(|e| panic!("open {}: {e}", log.display()))
        };
        let child = Command::new(env!("CARGO_BIN_EXE_jira-sync"))
            .args(["serve", "--config"])
            .arg(config)
            .env_remove("JIRA_SYNC_CONFIG")
            .stdin(Stdio::null())
            .stdout(open())
            .stderr(open())
            .spawn()
            .unwrap_or_else(|e| panic!("start jira-sync serve: {e}"));
        Self {
            child,
            log: log.to_owned(),
        }
    }

    /// SIGKILL: no drain, no flush, no goodbye.
    fn kill(&mut self) {
        if let Err(e) = self.child.kill() {
            panic!("kill jira-sync serve: {e}");
        }
        let _ = self.child.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- jira-sync serve log ---\n{log}\n--- end of log ---");
        }
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("find a free port: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("local address: {e}"))
        .port()
}

async fn wait_until_healthy(http: &reqwest::Client, port: u16) {
    let url = format!("http://127.0.0.1:{port}/healthz");
    eventually(
        Duration::from_secs(60),
        "jira-sync serve to listen",
        || async { support::answers_ok(http, &url).await.then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn serve_killed_mid_burst_and_restarted_leaves_every_issue_with_exactly_one_twin() {
    // Failed webhooks are retried every 300 ms for 30 s: longer than the restart takes.
    let sim = support::two_sites(Duration::from_millis(300), 100).await;
    let scratch = Scratch::new("crash");
    let port = free_port();
    let text = support::embedded_config(&sim, port, &scratch.path().join("data"), "");
    let config = scratch.path().join("jira-sync.toml");
    std::fs::write(&config, text).unwrap_or_else(|e| panic!("write the config: {e}"));
    let log = scratch.path().join("serve.log");
    let http = reqwest::Client::new();

    let mut serve = ServeProcess::start(&config, &log);
    wait_until_healthy(&http, port).await;
    support::register_webhooks(&sim, port);
    let (a, b) = (site(&sim, "a").clone(), site(&sim, "b").clone());

    // The burst: one issue every 20 ms on a task of its own. Half of it is created while
    // jira-sync runs, the other half once it has been killed.
    let (killed, on_kill) = tokio::sync::oneshot::channel::<()>();
    let creator = {
        let a = a.clone();
        tokio::spawn(async move {
            let person = Person::admin_of(&a);
            let mut on_kill = Some(on_kill);
            let mut ids = Vec::new();
            for i in 0..BURST {
                if i == BURST / 2
                    && let Some(on_kill) = on_kill.take()
                {
                    let _ = on_kill.await;
                }
                ids.push(person.create(&format!("Burst issue {i}")).await);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            ids
        })
    };
    let twins_at_kill = eventually(Duration::from_secs(60), "the first twins", || async {
        let twins = twins_by_origin(&b).len();
        (twins >= 5).then_some(twins)
    })
    .await;
    serve.kill();
    let _ = killed.send(());
    let ids = creator
        .await
        .unwrap_or_else(|e| panic!("the burst failed: {e}"));
    eprintln!("killed with {twins_at_kill} of {BURST} twins made");

    // Every issue created while it was down has a failed webhook the site keeps retrying.
    serve = ServeProcess::start(&config, &log);
    wait_until_healthy(&http, port).await;
    let missing = |twins: &std::collections::BTreeMap<String, usize>| {
        ids.iter().filter(|id| !twins.contains_key(*id)).count()
    };
    eventually(
        Duration::from_secs(90),
        "a twin for every issue",
        || async { (missing(&twins_by_origin(&b)) == 0).then_some(()) },
    )
    .await;
    // Let retries and redeliveries run out: the result must not change any more.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let twins = twins_by_origin(&b);
    let not_one: Vec<_> = ids.iter().filter(|id| twins.get(*id) != Some(&1)).collect();
    assert!(
        not_one.is_empty(),
        "issues without exactly one twin: {not_one:?} in {twins:?}"
    );
    assert_eq!(b.issues(None).len(), BURST, "no stray issue in site B");
    let deliveries = a.webhook_deliveries(usize::MAX);
    let accepted = |id: &String| {
        deliveries
            .iter()
            .any(|d| d.issue_id.as_ref() == Some(id) && d.status == Some(202))
    };
    assert!(
        ids.iter().all(accepted),
        "every issue's webhook was accepted in the end"
    );
    let refused = deliveries.iter().filter(|d| d.status.is_none()).count();
    assert!(
        refused > 0,
        "webhooks sent while jira-sync was down failed and were redelivered"
    );
    drop(serve);
    sim.stop().await;
}

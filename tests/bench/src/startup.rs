//! Benchmark 5b: start-up time, from spawning the release binary to its readiness endpoint
//! (`/readyz`) answering 200, for each service of the distributed deployment (their brokers and
//! database up) and for the all-in-one `jira-sync serve` on its embedded queue and store (a
//! fresh data directory each time, so its schema is created on every start). Each is started
//! once unmeasured (page cache, database migrations), then several times; medians.
//!
//! Baselines in the same run, by the same spawn-and-poll method: `jira-sync --version` (spawn,
//! runtime start, exit: no port), a bare TCP listener answering HTTP (`socat`, no language
//! runtime: the floor of the method itself) and the Jira simulator (a Rust HTTP service that
//! connects to nothing).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::Options;
use crate::e2e::World;
use crate::process::{Service, free_port, release_binary, wait_for_200};
use crate::report::Section;
use crate::stats::median;

/// How often readiness is polled: the resolution of every figure.
const POLL: Duration = Duration::from_millis(2);
/// Target of the issue, per service.
const TARGET: Duration = Duration::from_millis(200);

/// How one candidate is started and when it counts as up.
struct Candidate {
    name: String,
    what: &'static str,
    binary: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// Ports whose `/readyz` (or `path`) must answer 200; empty: the process must exit 0.
    ready: Vec<u16>,
    path: &'static str,
    baseline: bool,
    /// `serve`: a fresh data directory per start at this path, and the config template
    /// naming it as [`DATA_DIR`].
    fresh_dir: Option<(PathBuf, String)>,
}

/// The measured starts of one candidate.
struct Timed {
    name: String,
    what: &'static str,
    baseline: bool,
    starts: Vec<Duration>,
    /// Resident memory when it became ready, per start (none for a process that exits).
    ready_rss_kib: Vec<u64>,
}

pub async fn run(opts: Options) -> anyhow::Result<Section> {
    let starts = if opts.quick { 2 } else { 7 };
    let world = World::create("startup").await?;
    let result = measure(&world, starts).await;
    world.cleanup().await;
    Ok(Section {
        name: "startup",
        title: "Start-up time",
        command: opts.command.clone(),
        body: render(&result?, starts),
    })
}

async fn measure(world: &World, starts: usize) -> anyhow::Result<Vec<Timed>> {
    let mut timed = Vec::new();
    for candidate in candidates(world)? {
        eprintln!("    {}", candidate.name);
        let (mut times, mut rss) = (Vec::new(), Vec::new());
        for i in 0..=starts {
            let (time, ready_rss) = start_once(&candidate).await?;
            if i > 0 {
                times.push(time);
                rss.extend(ready_rss);
            }
        }
        timed.push(Timed {
            name: candidate.name,
            what: candidate.what,
            baseline: candidate.baseline,
            starts: times,
            ready_rss_kib: rss,
        });
    }
    Ok(timed)
}

fn candidates(world: &World) -> anyhow::Result<Vec<Candidate>> {
    let config = world.write_config("distributed.toml", None)?;
    let config_text = config.to_string_lossy().into_owned();
    let jira_sync = release_binary("jira-sync")?;
    let p = world.ports;
    let with_config = |command: &str| {
        vec![
            command.to_owned(),
            "--config".to_owned(),
            config_text.clone(),
        ]
    };
    let env = vec![("JIRA_SYNC_CONFIG".to_owned(), config_text.clone())];
    let candidate = |name: &str, what, binary: PathBuf, args, env, ready, baseline| Candidate {
        name: name.to_owned(),
        what,
        binary,
        args,
        env,
        ready,
        path: "/readyz",
        baseline,
        fresh_dir: None,
    };
    let mut list = vec![candidate(
        "`jira-sync --version`",
        "spawn to exit",
        jira_sync.clone(),
        vec!["--version".to_owned()],
        Vec::new(),
        Vec::new(),
        true,
    )];
    if let Ok(socat) = which("socat") {
        let port = free_port()?;
        // Every connection gets this file's bytes, and nothing runs but socat.
        let answer = world.scratch.write(
            "answer.http",
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        list.push(Candidate {
            path: "/",
            ..candidate(
                "bare TCP listener (`socat`)",
                "spawn to first HTTP 200",
                socat,
                vec![
                    "-U".to_owned(),
                    format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
                    format!("OPEN:{},rdonly", answer.display()),
                ],
                Vec::new(),
                vec![port],
                true,
            )
        });
    }
    let sim_port = free_port()?;
    list.push(Candidate {
        path: "/_sim/info",
        ..candidate(
            "`jira-sim` (one site)",
            "spawn to first HTTP 200",
            release_binary("jira-sim")?,
            vec![
                "--names".into(),
                "x".into(),
                "--base-port".into(),
                sim_port.to_string(),
            ],
            Vec::new(),
            vec![sim_port],
            true,
        )
    });
    let ready = "spawn to /readyz 200";
    // The binaries the Docker image and the Helm chart run, then the same roles from the
    // all-in-one binary.
    for (name, port) in [
        ("jira-sync-ingress", p.ingress),
        ("jira-sync-worker", p.worker),
        ("jira-sync-poller", p.poller),
        ("jira-sync-admin", p.admin),
    ] {
        list.push(candidate(
            &format!("`{name}`"),
            ready,
            release_binary(name)?,
            Vec::new(),
            env.clone(),
            vec![port],
            false,
        ));
    }
    for (role, port) in [("ingress", p.ingress), ("worker", p.worker)] {
        list.push(candidate(
            &format!("`jira-sync {role}`"),
            ready,
            jira_sync.clone(),
            with_config(role),
            Vec::new(),
            vec![port],
            false,
        ));
    }
    let serve_template = world.config(Some(std::path::Path::new(DATA_DIR)));
    jira_sync_settings::Settings::from_toml(&serve_template)?;
    list.push(Candidate {
        fresh_dir: Some((world.scratch.dir.join("serve-data"), serve_template)),
        ..candidate(
            "`jira-sync serve` (embedded, no broker)",
            "spawn to /readyz 200 on all four roles",
            jira_sync,
            Vec::new(),
            Vec::new(),
            vec![p.ingress, p.worker, p.poller, p.admin],
            false,
        )
    });
    Ok(list)
}

/// One start: spawn, poll until up (or until it exits for a port-less candidate), stop. The
/// time, and the resident memory once ready.
async fn start_once(candidate: &Candidate) -> anyhow::Result<(Duration, Option<u64>)> {
    let mut args = candidate.args.clone();
    if let Some((dir, template)) = &candidate.fresh_dir {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir)?;
        let config = dir.with_extension("toml");
        std::fs::write(&config, template.replace(DATA_DIR, &dir.to_string_lossy()))?;
        args = vec![
            "serve".into(),
            "--config".into(),
            config.to_string_lossy().into_owned(),
        ];
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = candidate
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if candidate.ready.is_empty() {
        let started = Instant::now();
        let status = tokio::process::Command::new(&candidate.binary)
            .args(&args)
            .stdout(std::process::Stdio::null())
            .status()
            .await?;
        anyhow::ensure!(status.success(), "{} exited with {status}", candidate.name);
        return Ok((started.elapsed(), None));
    }
    let started = Instant::now();
    let mut service = Service::spawn(&candidate.name, &candidate.binary, &args, &env)?;
    let mut up = Ok(Duration::ZERO);
    for port in &candidate.ready {
        up = wait_for_200(
            &mut service,
            *port,
            candidate.path,
            started,
            POLL,
            Duration::from_secs(30),
        )
        .await;
        if up.is_err() {
            break;
        }
    }
    let rss = service.sample().ok().map(|s| s.rss_kib);
    service.stop().await?;
    Ok((up?, rss))
}

/// Where `serve`'s config names its data directory, replaced for each start.
const DATA_DIR: &str = "@DATA_DIR@";

fn which(program: &str) -> anyhow::Result<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .ok_or_else(|| anyhow::anyhow!("{program} is not installed"))
}

fn render(timed: &[Timed], starts: usize) -> String {
    let secs = |d: &[Duration]| d.iter().map(Duration::as_secs_f64).collect::<Vec<_>>();
    let ms = |v: f64| v * 1000.0;
    let floor = timed
        .iter()
        .find(|t| t.name.contains("socat"))
        .or_else(|| timed.first())
        .and_then(|t| median(&secs(&t.starts)))
        .unwrap_or(0.0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "From spawning the release binary to its readiness endpoint answering 200 (polled every \
         {} ms on a new connection: the resolution), the services with RabbitMQ and a fresh \
         PostgreSQL database already up, the simulated sites running; `serve` on its embedded \
         queue and store in a fresh data directory each time (its SQLite schema created at every \
         start). Each candidate started once unmeasured, then {starts} times: median, min and \
         max. Baselines by the same method: `jira-sync --version` (spawn, tokio runtime, exit), \
         a bare TCP listener answering HTTP (`socat`: the floor of the method) and the Jira \
         simulator (a Rust HTTP service that connects to nothing).\n\n\
         The last column is the resident memory when ready (median).\n\n\
         | process | measured | median (ms) | min (ms) | max (ms) | minus the bare listener (ms) | target < {} ms | RSS when ready (MiB) |\n\
         |---|---|---:|---:|---:|---:|---|---:|",
        POLL.as_millis(),
        TARGET.as_millis(),
    );
    for t in timed {
        let values = secs(&t.starts);
        let med = median(&values).unwrap_or(f64::NAN);
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(0.0, f64::max);
        let verdict = if t.baseline {
            "(baseline)".to_owned()
        } else if med < TARGET.as_secs_f64() {
            "met".to_owned()
        } else {
            format!("**missed** by {:.0} ms", ms(med - TARGET.as_secs_f64()))
        };
        let rss: Vec<f64> = t.ready_rss_kib.iter().map(|k| *k as f64 / 1024.0).collect();
        let rss = median(&rss).map_or_else(|| "-".to_owned(), |m| format!("{m:.1}"));
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {verdict} | {rss} |",
            t.name,
            t.what,
            ms(med),
            ms(min),
            ms(max),
            ms(med - floor),
        );
    }
    out
}

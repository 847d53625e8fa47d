//! Starting jira-sync for the lag and cost benchmarks: the end-to-end harness (two simulated
//! Jira sites, the ingress and the worker in-process, real RabbitMQ and PostgreSQL, a unique
//! queue prefix and a fresh database) configured as deployed (the compiled-in `[jira]`,
//! `[amqp]` and `[database]` defaults rather than the tests' short timeouts and small pools),
//! with `pairs` issues created in site A and linked to their twins in B by jira-sync itself.
//!
//! The limits of the simulated sites are set only after the pairs exist: setting up is not
//! what is measured.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use jira_sync_domain::{ConnectionId, Side};
use jira_sync_jira_sim::{LatencyRange, Limits, PerIssueWrites, SiteHandle, TokenBucket};
use jira_sync_settings::Settings;
use jira_sync_store::Store;
use jira_sync_tests::{EnvOptions, TestEnv};

use crate::bare;

/// The connection the harness configures.
pub const CONNECTION: &str = "a-to-b";

/// Jira Cloud's answer times as the benchmarks assume them: 50-150 ms, 100 ms on average.
pub const LATENCY: LatencyRange = LatencyRange { min: 50, max: 150 };

/// Requests per second a site grants the sync bot (Jira Cloud's burst limit is about this).
pub const SITE_RPS: f64 = 100.0;

/// How a simulated site limits its callers during a measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Regime {
    /// Latency only (and Jira's per-issue write limit, which the simulator always applies).
    Latency,
    /// Latency, the per-issue write limit (20 writes per issue per 2 s, 100 per 30 s) and a
    /// global token bucket of [`SITE_RPS`] per site.
    JiraLike,
}

impl Regime {
    pub fn label(self) -> &'static str {
        match self {
            Regime::Latency => "latency 50-150 ms",
            Regime::JiraLike => "latency 50-150 ms + Jira-like limits",
        }
    }

    /// The limits of a site that also serves `other_rps` requests per second of people's own
    /// work (the changes a benchmark makes): the simulator's bucket is per site, not per
    /// account, so their share is added, leaving the bot its [`SITE_RPS`].
    pub fn limits(self, other_rps: f64) -> Limits {
        let global_rps = match self {
            Regime::Latency => None,
            Regime::JiraLike => {
                let rate = SITE_RPS + other_rps;
                Some(TokenBucket {
                    rate,
                    burst: rate.ceil() as u32,
                })
            }
        };
        Limits {
            per_issue_writes: Some(PerIssueWrites::default()),
            global_rps,
            latency_ms: Some(LATENCY),
            ..Limits::default()
        }
    }
}

/// The bot's request budget per site in [`as_deployed_with_budget`]: a little under what the
/// site grants it ([`SITE_RPS`]).
pub const BUDGET_RPS: f64 = 90.0;

/// [`as_deployed`] with `jira.requests_per_second` = [`BUDGET_RPS`].
pub fn as_deployed_with_budget(settings: &mut Settings) {
    as_deployed(settings);
    settings.jira.requests_per_second = Some(BUDGET_RPS);
}

/// The deployed defaults where the test harness shortens them: the Jira client's timeout and
/// retry budget, and a prefetch that never starves the worker's concurrency.
fn as_deployed(settings: &mut Settings) {
    settings.jira.request_timeout = Duration::from_secs(20);
    settings.jira.retry_budget = Duration::from_secs(10);
    let wanted = (settings.worker.concurrency * 2).max(16);
    settings.amqp.prefetch = u16::try_from(wanted).unwrap_or(u16::MAX);
}

/// The worker's database pools: the deployed default (10), or as many as reconciles run at
/// once (each holds an entity lock on a connection of the lock pool, as large as the query
/// pool).
pub fn db_connections(concurrency: usize) -> u32 {
    u32::try_from(concurrency).unwrap_or(u32::MAX).max(10)
}

/// A running installation with linked pairs.
pub struct System {
    pub env: TestEnv,
    pub http: reqwest::Client,
    /// (issue id in A, twin id in B).
    pub pairs: Vec<(String, String)>,
    /// A person on site A (its admin).
    pub person: bare::Jira,
}

impl System {
    /// Starts the installation with `concurrency` reconciles at once and links `pairs` issues.
    pub async fn start(pairs: usize, concurrency: usize) -> anyhow::Result<Self> {
        Self::start_tuned(pairs, concurrency, as_deployed).await
    }

    /// [`System::start`] with the settings adjusted by `tune` (which starts from
    /// [`as_deployed`]).
    pub async fn start_tuned(
        pairs: usize,
        concurrency: usize,
        tune: fn(&mut Settings),
    ) -> anyhow::Result<Self> {
        let env = TestEnv::start(EnvOptions {
            retry_delays: vec!["1s", "10s", "1m", "10m", "1h"],
            max_attempts: 8,
            jira_max_retries: 2,
            worker_concurrency: concurrency,
            tune: Some(tune),
            worker_db_connections: Some(db_connections(concurrency)),
            ..EnvOptions::default()
        })
        .await;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .build()
            .context("HTTP client")?;
        let person = account(&http, env.site("a"), false)?;
        let mut system = Self {
            env,
            http,
            pairs: Vec::new(),
            person,
        };
        match system.link(pairs).await {
            Ok(()) => Ok(system),
            Err(e) => {
                system.stop().await;
                Err(e)
            }
        }
    }

    async fn link(&mut self, count: usize) -> anyhow::Result<()> {
        let mut ids = Vec::with_capacity(count);
        for chunk in (0..count).collect::<Vec<_>>().chunks(16) {
            let created = futures::future::try_join_all(chunk.iter().map(|n| {
                let person = self.person.clone();
                async move { person.create("A", &format!("pair {n}")).await }
            }))
            .await?;
            ids.extend(created);
        }
        let connection = ConnectionId::parse(CONNECTION)?;
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut twins: Vec<Option<String>> = vec![None; count];
        while twins.iter().any(Option::is_none) {
            for (i, id) in ids.iter().enumerate() {
                if twins[i].is_none() {
                    let link = self
                        .env
                        .db
                        .store
                        .find_link(&connection, Side::Left, id)
                        .await?;
                    twins[i] = link.map(|l| l.right_id);
                }
            }
            if Instant::now() > deadline {
                bail!("the {count} pairs were not linked within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.pairs = ids.into_iter().zip(twins.into_iter().flatten()).collect();
        self.settle(Duration::from_secs(60)).await?;
        Ok(())
    }

    pub fn site(&self, name: &str) -> &SiteHandle {
        self.env.site(name)
    }

    /// Messages waiting in the work queue and in the retry tiers.
    pub async fn backlog(&self) -> u64 {
        let (work, retry, _dead) = self.env.queues.depths().await;
        work + retry
    }

    /// Waits until nothing is queued and neither site has seen a request for a second.
    pub async fn settle(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let traffic = || {
            let (a, b) = (self.site("a").stats(), self.site("b").stats());
            a.reads + a.writes + b.reads + b.writes + a.webhooks.sent + b.webhooks.sent
        };
        let mut last = traffic();
        let mut quiet_since = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let now = traffic();
            if now != last || self.backlog().await > 0 {
                last = now;
                quiet_since = Instant::now();
            } else if quiet_since.elapsed() >= Duration::from_secs(1) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("the installation did not settle within {timeout:?}");
            }
        }
    }

    /// Sets both sites' limits for a measurement with `change_rate` changes per second on A.
    pub fn set_regime(&self, regime: Regime, change_rate: f64) -> anyhow::Result<()> {
        self.site("a")
            .set_limits(regime.limits(change_rate))
            .map_err(|e| anyhow::anyhow!("limits of site a: {e:?}"))?;
        self.site("b")
            .set_limits(regime.limits(0.0))
            .map_err(|e| anyhow::anyhow!("limits of site b: {e:?}"))?;
        Ok(())
    }

    pub async fn stop(self) {
        self.env.stop().await;
    }
}

/// A client of `site` as its admin (a person) or as its sync bot.
pub fn account(http: &reqwest::Client, site: &SiteHandle, bot: bool) -> anyhow::Result<bare::Jira> {
    let user = if bot {
        site.bot().context("a site without a bot")?
    } else {
        site.users().first().context("a site without users")?
    };
    Ok(bare::Jira::new(
        http.clone(),
        &site.base_url(),
        &user.email,
        &user.api_token,
    ))
}

/// What a site's sync bot asked of it since the site's stats were reset.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BotCalls {
    /// GETs and searches answered (429s not counted).
    pub reads: u64,
    /// Other calls answered (429s not counted).
    pub writes: u64,
    /// Calls refused with 429.
    pub throttled: u64,
}

impl BotCalls {
    pub fn add(self, other: BotCalls) -> BotCalls {
        BotCalls {
            reads: self.reads + other.reads,
            writes: self.writes + other.writes,
            throttled: self.throttled + other.throttled,
        }
    }
}

/// The sync bot's calls to a site since its stats were reset, from the site's request log;
/// `None` when the log overflowed (it keeps the newest 10,000 requests).
pub fn bot_calls(site: &SiteHandle) -> Option<BotCalls> {
    let bot = site.bot()?.account_id.clone();
    let stats = site.stats();
    let logged = site.recent_requests(usize::MAX);
    if (logged.len() as u64) < stats.reads + stats.writes {
        return None;
    }
    let mut calls = BotCalls::default();
    for r in logged
        .iter()
        .filter(|r| r.account.as_deref() == Some(bot.as_str()))
    {
        if r.status == 429 {
            calls.throttled += 1;
        } else if r.method == "GET" || r.route.ends_with("/search/jql") {
            calls.reads += 1;
        } else {
            calls.writes += 1;
        }
    }
    Some(calls)
}

/// The sync bot's requests to a site since its stats were reset, by `METHOD /route` and
/// status class (`2xx`, `429`, ...).
pub fn bot_routes(site: &SiteHandle) -> BTreeMap<String, u64> {
    let Some(bot) = site.bot().map(|b| b.account_id.clone()) else {
        return BTreeMap::new();
    };
    let mut routes = BTreeMap::new();
    for r in site
        .recent_requests(usize::MAX)
        .into_iter()
        .filter(|r| r.account.as_deref() == Some(bot.as_str()))
    {
        let class = if r.status == 429 {
            "429".to_owned()
        } else {
            format!("{}xx", r.status / 100)
        };
        *routes
            .entry(format!("{} {} -> {class}", r.method, r.route))
            .or_default() += 1;
    }
    routes
}

/// The machine's 1-minute load average, as `/proc/loadavg` shows it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

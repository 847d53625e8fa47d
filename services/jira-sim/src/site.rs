//! One simulated site: its catalog and its mutable state behind one mutex, and the two ways in:
//! `read` for queries and `write` for changes (which counts the write per issue and queues the
//! webhooks of what happened). The lock is never held across an `.await`.

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::mpsc::UnboundedSender;

use crate::clock::Clock;
use crate::config::SiteConfig;
use crate::error::ApiError;
use crate::faults::Faults;
use crate::limits::Limiter;
use crate::state::Store;
use crate::state::catalog::Catalog;
use crate::state::events::Happened;
use crate::state::issues::Ctx;
use crate::stats::Stats;
use crate::webhooks::faults::WebhookFaults;
use crate::webhooks::{Hooks, Job};

/// Everything about a site that changes.
#[derive(Debug)]
pub(crate) struct SiteState {
    pub store: Store,
    pub hooks: Hooks,
    pub faults: Faults,
    pub limiter: Limiter,
    pub stats: Stats,
    pub webhook_faults: WebhookFaults,
    pub clock: Clock,
    /// Latency jitter draws.
    pub rng: StdRng,
}

impl SiteState {
    fn new(cfg: &SiteConfig) -> Self {
        Self {
            store: Store::new(cfg.projects.len()),
            hooks: Hooks::default(),
            faults: Faults::default(),
            limiter: Limiter::new(cfg.limits.clone()),
            stats: Stats::default(),
            webhook_faults: WebhookFaults::default(),
            clock: Clock::default(),
            rng: StdRng::seed_from_u64(cfg.seed),
        }
    }
}

/// A site: fixed catalog, mutable state, and the queue to its webhook sender.
#[derive(Debug)]
pub(crate) struct Site {
    pub name: String,
    pub config: SiteConfig,
    pub cat: Catalog,
    state: Mutex<SiteState>,
    jobs: UnboundedSender<Job>,
}

impl Site {
    pub fn new(config: SiteConfig, base_url: String, jobs: UnboundedSender<Job>) -> Self {
        let links = config.public_url.clone().unwrap_or(base_url);
        let cat = Catalog::new(&config, links.trim_end_matches('/').to_owned());
        let state = Mutex::new(SiteState::new(&config));
        Self {
            name: config.name.clone(),
            config,
            cat,
            state,
            jobs,
        }
    }

    /// The state, recovering from a poisoned lock (a panicking handler leaves data usable).
    pub fn lock(&self) -> MutexGuard<'_, SiteState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs a query against the state.
    pub fn read<T>(&self, f: impl FnOnce(&SiteState, &Catalog) -> T) -> T {
        let st = self.lock();
        f(&st, &self.cat)
    }

    /// Runs a change as `actor`: on success counts a write for `target` and every issue the
    /// events name, and queues their webhooks.
    pub fn write<T>(
        &self,
        actor: &str,
        target: Option<u64>,
        op: impl FnOnce(&mut Store, &Ctx) -> Result<(T, Vec<Happened>), ApiError>,
    ) -> Result<T, ApiError> {
        let mut st = self.lock();
        let now = st.clock.now_ms();
        let ctx = Ctx {
            cat: &self.cat,
            actor,
            now,
        };
        let (out, happened) = op(&mut st.store, &ctx)?;
        let written: BTreeSet<u64> = target
            .into_iter()
            .chain(happened.iter().map(|h| h.what.issue_id()))
            .collect();
        for id in written {
            st.stats.count_issue_write(id);
        }
        let jobs = st.hooks.plan(&self.cat, &st.store, now, &happened);
        st.stats.counters.webhooks.events += jobs.len() as u64;
        for job in jobs {
            // The receiver only goes away when the simulator stops; then nothing is owed.
            let _ = self.jobs.send(job);
        }
        Ok(out)
    }

    /// Back to the configured start: no issues, hooks, faults, stats; limits and clock reset.
    pub fn reset(&self) {
        *self.lock() = SiteState::new(&self.config);
    }
}

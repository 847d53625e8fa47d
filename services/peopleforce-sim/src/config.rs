//! How a simulator starts: where it listens, the API key it accepts, page sizes, an optional
//! rate limit and how many employees it is born with.

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

/// A token bucket: `per_minute` requests refilled evenly, at most `burst` at once. Requests
/// beyond it get 429 with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Requests allowed per minute (PeopleForce's public limit is said to be 300).
    pub per_minute: u32,
    /// Requests allowed at once after idling.
    pub burst: u32,
}

/// The simulator's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Address to bind (default 127.0.0.1).
    pub bind: IpAddr,
    /// Port (0 or `None`: a free one).
    pub port: Option<u16>,
    /// The one API key accepted in `X-API-KEY`.
    pub api_key: String,
    /// Employees created at start (ids 1..=n), so tasks have assignees to point at.
    pub employees: u32,
    /// `per_page` when the client sends none.
    pub default_per_page: u32,
    /// The largest `per_page` honoured; larger values are clamped.
    pub max_per_page: u32,
    /// Built-in rate limit; `None` (the default) is off.
    pub rate_limit: Option<RateLimit>,
    /// actix-web worker threads.
    pub workers: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: None,
            api_key: "pf-sim-api-key".to_owned(),
            employees: 10,
            default_per_page: 50,
            max_per_page: 100,
            rate_limit: None,
            workers: 1,
        }
    }
}

impl SimConfig {
    /// Checks the values that would make the simulator misbehave.
    pub fn validate(&self) -> Result<(), String> {
        if self.api_key.is_empty() {
            return Err("api_key must not be empty".into());
        }
        if self.default_per_page == 0 || self.max_per_page == 0 {
            return Err("page sizes must be at least 1".into());
        }
        if let Some(limit) = self.rate_limit
            && (limit.per_minute == 0 || limit.burst == 0)
        {
            return Err("rate_limit needs per_minute and burst of at least 1".into());
        }
        Ok(())
    }
}

//! The simulator's clock (real, shifted or frozen) and Jira's timestamp formats.
//!
//! Issue `created`/`updated`, comment times, webhook `timestamp` and relative JQL dates all read
//! this clock, so a test can freeze or advance time through `POST /_sim/clock`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A clock command, as `POST /_sim/clock` takes it. Exactly one field is expected.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClockCommand {
    /// Freeze the clock at this RFC 3339 instant.
    #[serde(default)]
    pub freeze_at: Option<DateTime<Utc>>,
    /// Move the clock forward (frozen or not).
    #[serde(default)]
    pub advance_ms: Option<i64>,
    /// Back to real time, no offset.
    #[serde(default)]
    pub real: Option<bool>,
}

/// Real time plus an offset, or a frozen instant.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    frozen: Option<i64>,
    offset_ms: i64,
}

impl Clock {
    /// Milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.frozen
            .unwrap_or_else(|| Utc::now().timestamp_millis() + self.offset_ms)
    }

    pub fn apply(&mut self, cmd: &ClockCommand) {
        if cmd.real == Some(true) {
            *self = Self::default();
        }
        if let Some(at) = cmd.freeze_at {
            self.frozen = Some(at.timestamp_millis());
        }
        if let Some(ms) = cmd.advance_ms {
            match self.frozen.as_mut() {
                Some(f) => *f += ms,
                None => self.offset_ms += ms,
            }
        }
    }
}

/// Jira's timestamp format: `2026-11-24T05:46:33.123+0000`.
pub(crate) fn jira_time(ms: i64) -> String {
    let at = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    at.format("%Y-%m-%dT%H:%M:%S%.3f%z").to_string()
}

/// Parses Jira's timestamp format (and RFC 3339) into epoch milliseconds.
pub(crate) fn parse_time(s: &str) -> Option<i64> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|d| d.timestamp_millis())
}

/// A JQL date literal: `yyyy-MM-dd HH:mm`, `yyyy/MM/dd HH:mm`, `yyyy-MM-dd` or `yyyy/MM/dd`,
/// read in UTC (every simulated user's time zone).
pub(crate) fn parse_jql_date(s: &str) -> Option<i64> {
    let s = s.trim().replace('/', "-");
    if let Ok(dt) = NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M") {
        return Some(dt.and_utc().timestamp_millis());
    }
    NaiveDate::parse_from_str(&s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_use_jiras_format_with_milliseconds_and_offset() {
        let ms = 1_795_499_193_123; // 2026-11-24T05:46:33.123Z
        assert_eq!(jira_time(ms), "2026-11-24T05:46:33.123+0000");
        assert_eq!(parse_time("2026-11-24T05:46:33.123+0000"), Some(ms));
    }

    #[test]
    fn jql_dates_accept_minutes_or_whole_days() {
        assert_eq!(parse_jql_date("2026-11-24 05:46"), Some(1_795_499_160_000));
        assert_eq!(parse_jql_date("2026/11/24"), Some(1_795_478_400_000));
        assert_eq!(parse_jql_date("24.11.2026"), None);
    }

    #[test]
    fn a_frozen_clock_only_moves_when_advanced() {
        let mut clock = Clock::default();
        let at = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .ok();
        clock.apply(&ClockCommand {
            freeze_at: at,
            ..ClockCommand::default()
        });
        assert_eq!(clock.now_ms(), 1_767_225_600_000);
        clock.apply(&ClockCommand {
            advance_ms: Some(60_000),
            ..ClockCommand::default()
        });
        assert_eq!(clock.now_ms(), 1_767_225_660_000);
    }
}

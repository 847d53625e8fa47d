//! How values are written to SQLite and read back: UUIDs as hyphenated text, times as
//! fixed-width RFC 3339 UTC text with nanoseconds (text order is time order, which
//! `ORDER BY created_at` relies on), sides and connection ids as their text. Pure: no I/O.

use chrono::{DateTime, SecondsFormat, Utc};
use jira_sync_domain::{ConnectionId, Side};
use uuid::Uuid;

use super::error::corrupt;
use crate::StoreError;

/// `2026-11-24T10:00:00.123456789Z`: always 30 characters until the year 9999.
pub(super) fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

pub(super) fn now() -> String {
    time(Utc::now())
}

pub(super) fn parse_time(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|e| corrupt("time", format!("{text:?}: {e}")))
}

pub(super) fn parse_optional_time(
    text: Option<String>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.as_deref().map(parse_time).transpose()
}

pub(super) fn uuid(id: Uuid) -> String {
    id.hyphenated().to_string()
}

pub(super) fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| corrupt("id", format!("{text:?}: {e}")))
}

pub(super) fn parse_side(text: &str) -> Result<Side, StoreError> {
    match text {
        "left" => Ok(Side::Left),
        "right" => Ok(Side::Right),
        other => Err(corrupt("side", format!("{other:?}"))),
    }
}

pub(super) fn parse_connection(text: String) -> Result<ConnectionId, StoreError> {
    ConnectionId::parse(text).map_err(|e| corrupt("connection", e))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn times_are_fixed_width_round_trip_exactly_and_sort_as_text() {
        let whole = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
        let later = whole + chrono::Duration::nanoseconds(5);
        assert_eq!(time(whole), "2026-11-24T10:00:00.000000000Z");
        assert_eq!(time(whole).len(), time(later).len());
        assert!(time(whole) < time(later));
        assert_eq!(parse_time(&time(later)).unwrap(), later);
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn uuids_are_hyphenated_lowercase_text() {
        let id = Uuid::now_v7();
        assert_eq!(uuid(id).len(), 36);
        assert_eq!(parse_uuid(&uuid(id)).unwrap(), id);
    }
}

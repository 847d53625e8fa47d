//! The two time formats the poller writes: cursors (fixed-width RFC 3339 UTC with
//! milliseconds, so that they sort chronologically as text, as `Store::advance_cursor`
//! requires) and JQL relative dates (`-90m`, minute grain).

use chrono::{DateTime, SecondsFormat, Utc};

/// `2026-11-24T10:00:00.000Z`.
pub fn cursor_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads a cursor back; `None` when it is not RFC 3339.
pub fn parse_cursor(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A JQL relative date reaching back from `now` to `at` or a little before, in whole minutes
/// rounded up (JQL has no seconds): reading a little more is harmless, reading less would lose
/// changes. `at` in the future is `-0m`.
pub fn jql_minutes_ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds().max(0);
    format!("-{}m", (seconds + 59) / 60)
}

/// A JQL string literal, quoted and escaped.
pub fn jql_string(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_have_a_fixed_width_and_round_trip() {
        let at = DateTime::from_timestamp_millis(1_795_499_193_120).unwrap_or_default();
        let text = cursor_text(at);
        assert_eq!(text, "2026-11-24T05:46:33.120Z");
        assert_eq!(parse_cursor(&text), Some(at));
        let whole = DateTime::from_timestamp(1_795_499_160, 0).unwrap_or_default();
        assert_eq!(cursor_text(whole).len(), text.len());
        assert!(cursor_text(whole) < text);
        assert_eq!(parse_cursor("yesterday"), None);
    }

    #[test]
    fn jql_dates_reach_back_whole_minutes_rounded_up_and_strings_escaped() {
        let at = DateTime::from_timestamp_millis(1_795_499_193_120).unwrap_or_default();
        let later = |secs| at + chrono::Duration::seconds(secs);
        assert_eq!(jql_minutes_ago(at, later(0)), "-0m");
        assert_eq!(jql_minutes_ago(at, later(1)), "-1m");
        assert_eq!(jql_minutes_ago(at, later(60)), "-1m");
        assert_eq!(jql_minutes_ago(at, later(61)), "-2m");
        assert_eq!(
            jql_minutes_ago(at, later(-30)),
            "-0m",
            "a cursor ahead of now"
        );
        assert_eq!(jql_string("ACME"), "\"ACME\"");
        assert_eq!(jql_string(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}

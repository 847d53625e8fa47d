//! The two time formats the poller writes: cursors (fixed-width RFC 3339 UTC with
//! milliseconds, so that they sort chronologically as text, as `Store::advance_cursor`
//! requires) and JQL date literals (`yyyy-MM-dd HH:mm`, minute grain).

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

/// A JQL date literal, floored to the minute (JQL has no seconds): reading a little more is
/// harmless, reading less would lose changes.
pub fn jql_minute(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
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
    fn jql_dates_are_floored_to_the_minute_and_strings_escaped() {
        let at = DateTime::from_timestamp_millis(1_795_499_193_120).unwrap_or_default();
        assert_eq!(jql_minute(at), "2026-11-24 05:46");
        assert_eq!(jql_string("ACME"), "\"ACME\"");
        assert_eq!(jql_string(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}

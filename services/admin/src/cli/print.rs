//! Human-readable output of the admin commands: aligned tables and short summaries, built from
//! the API's own view types.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::views::{
    ConflictList, ConflictView, DeadLetterList, LinkDetail, LinkList, LinkView, ReplayResult,
    ResolveAccepted, SyncAccepted,
};

/// Widest cell of a table, in characters; longer ones are cut with `…`.
const MAX_CELL: usize = 48;

type Out<'a> = &'a mut (dyn Write + Send);

/// Prints rows under headers, each column as wide as its widest cell.
fn table(out: Out<'_>, headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let cut = |text: &str| -> String {
        let one_line = text.replace(['\n', '\r', '\t'], " ");
        if one_line.chars().count() > MAX_CELL {
            let mut short: String = one_line.chars().take(MAX_CELL - 1).collect();
            short.push('…');
            short
        } else {
            one_line
        }
    };
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| cut(c)).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    writeln!(out, "{}", line(headers.to_vec()))?;
    for row in &rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

fn time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn maybe_time(at: &Option<DateTime<Utc>>) -> String {
    at.as_ref().map_or_else(|| "-".to_owned(), time)
}

/// `42s`, `3m20s`, `2h05m`, `3d04h`.
pub(crate) fn lag(seconds: Option<f64>) -> String {
    let Some(seconds) = seconds else {
        return "-".to_owned();
    };
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn issue(id: &str, key: &Option<String>) -> String {
    match key {
        Some(key) => format!("{key} ({id})"),
        None => id.to_owned(),
    }
}

pub(crate) fn sync(out: Out<'_>, accepted: &SyncAccepted) -> std::io::Result<()> {
    writeln!(
        out,
        "enqueued a manual sync of {} on the {} side ({}) of {}\ndelivery id: {}",
        issue(&accepted.entity_id, &accepted.issue_key),
        accepted.side,
        accepted.endpoint,
        accepted.connection,
        accepted.delivery_id
    )
}

fn link_row(link: &LinkView) -> Vec<String> {
    vec![
        link.connection.clone(),
        issue(&link.left.id, &link.left.key),
        issue(&link.right.id, &link.right.key),
        maybe_time(&link.last_synced_at),
        lag(link.lag_seconds),
        link.last_error.clone().unwrap_or_else(|| "-".to_owned()),
    ]
}

pub(crate) fn links(out: Out<'_>, list: &LinkList) -> std::io::Result<()> {
    if list.links.is_empty() {
        return writeln!(out, "no links");
    }
    let rows: Vec<_> = list.links.iter().map(link_row).collect();
    table(
        out,
        &[
            "CONNECTION",
            "LEFT",
            "RIGHT",
            "LAST SYNCED",
            "LAG",
            "LAST ERROR",
        ],
        &rows,
    )
}

pub(crate) fn link(out: Out<'_>, detail: &LinkDetail) -> std::io::Result<()> {
    let link = &detail.link;
    let side = |s: &crate::views::LinkSide| {
        format!(
            "{}  {}",
            s.endpoint.as_deref().unwrap_or("?"),
            issue(&s.id, &s.key)
        )
    };
    writeln!(out, "link         {}", link.id)?;
    writeln!(out, "connection   {}", link.connection)?;
    writeln!(out, "left         {}", side(&link.left))?;
    writeln!(out, "right        {}", side(&link.right))?;
    writeln!(out, "created      {}", time(&link.created_at))?;
    writeln!(
        out,
        "last synced  {} (lag {})",
        maybe_time(&link.last_synced_at),
        lag(link.lag_seconds)
    )?;
    writeln!(
        out,
        "last error   {}",
        link.last_error.as_deref().unwrap_or("-")
    )?;
    writeln!(out, "\nbase:")?;
    let base: Vec<_> = detail
        .base
        .iter()
        .map(|(field, value)| vec![field.clone(), compact(value)])
        .collect();
    table(out, &["FIELD", "VALUE"], &base)?;
    writeln!(out, "\nrecent audit (newest first):")?;
    let audit: Vec<_> = detail
        .audit
        .iter()
        .map(|a| {
            vec![
                time(&a.at),
                a.action.clone(),
                a.target.to_string(),
                a.fields.join(","),
                a.trigger.clone(),
            ]
        })
        .collect();
    table(
        out,
        &["AT", "ACTION", "TARGET", "FIELDS", "TRIGGER"],
        &audit,
    )?;
    if !detail.conflicts.is_empty() {
        writeln!(out, "\nconflicts:")?;
        conflict_table(out, &detail.conflicts)?;
    }
    Ok(())
}

fn conflict_table(out: Out<'_>, conflicts: &[ConflictView]) -> std::io::Result<()> {
    let rows: Vec<_> = conflicts
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                c.connection.clone(),
                c.field.clone(),
                c.status.as_str().to_owned(),
                compact(&c.left),
                compact(&c.right),
                c.resolution.clone().unwrap_or_else(|| "-".to_owned()),
                time(&c.created_at),
            ]
        })
        .collect();
    table(
        out,
        &[
            "ID",
            "CONNECTION",
            "FIELD",
            "STATUS",
            "LEFT",
            "RIGHT",
            "RESOLUTION",
            "CREATED",
        ],
        &rows,
    )
}

pub(crate) fn conflicts(out: Out<'_>, list: &ConflictList) -> std::io::Result<()> {
    if list.conflicts.is_empty() {
        return writeln!(out, "no conflicts");
    }
    conflict_table(out, &list.conflicts)
}

pub(crate) fn resolved(out: Out<'_>, accepted: &ResolveAccepted) -> std::io::Result<()> {
    let c = &accepted.conflict;
    writeln!(
        out,
        "conflict {} ({} of {}) resolved as {}",
        c.id,
        c.field,
        c.connection,
        c.resolution.as_deref().unwrap_or("?")
    )?;
    match &accepted.delivery_id {
        Some(id) => writeln!(out, "reconcile enqueued: delivery id {id}"),
        None => writeln!(out, "the link is gone: nothing was enqueued"),
    }
}

pub(crate) fn dead_letters(out: Out<'_>, list: &DeadLetterList) -> std::io::Result<()> {
    if list.dead_letters.is_empty() {
        return writeln!(out, "no dead letters");
    }
    let rows: Vec<_> = list
        .dead_letters
        .iter()
        .map(|d| {
            let label = |name: &str| d.labels.get(name).cloned().unwrap_or_else(|| "-".into());
            let (class, message) = d.error.as_ref().map_or_else(
                || ("-".to_owned(), "-".to_owned()),
                |e| (e.class.clone(), e.message.clone()),
            );
            vec![
                d.message_id.clone(),
                d.attempts.to_string(),
                time(&d.first_seen),
                class,
                label("connection"),
                d.labels
                    .get("issue")
                    .cloned()
                    .unwrap_or_else(|| label("entity")),
                message,
            ]
        })
        .collect();
    table(
        out,
        &[
            "MESSAGE ID",
            "ATTEMPTS",
            "FIRST SEEN",
            "CLASS",
            "CONNECTION",
            "ISSUE",
            "ERROR",
        ],
        &rows,
    )
}

pub(crate) fn replayed(out: Out<'_>, result: &ReplayResult) -> std::io::Result<()> {
    let plural = if result.replayed == 1 { "" } else { "s" };
    writeln!(out, "replayed {} dead letter{plural}", result.replayed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_reads_like_a_person_would_write_it() {
        assert_eq!(lag(None), "-");
        assert_eq!(lag(Some(4.4)), "4s");
        assert_eq!(lag(Some(200.0)), "3m20s");
        assert_eq!(lag(Some(7500.0)), "2h05m");
        assert_eq!(lag(Some(3.0 * 86400.0 + 4.0 * 3600.0)), "3d04h");
    }

    #[test]
    fn a_table_aligns_its_columns_and_cuts_long_cells() -> std::io::Result<()> {
        let mut out = Vec::new();
        let long = "x".repeat(100);
        table(
            &mut out,
            &["A", "LONGER"],
            &[vec!["wide cell".into(), "1".into()], vec!["b".into(), long]],
        )?;
        let text = String::from_utf8_lossy(&out).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "A          LONGER");
        assert_eq!(lines[1], "wide cell  1");
        assert!(lines[2].starts_with("b          xxx") && lines[2].ends_with('…'));
        assert_eq!(lines[2].chars().count(), 11 + MAX_CELL);
        Ok(())
    }
}

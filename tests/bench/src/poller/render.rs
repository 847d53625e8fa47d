//! The poller section's tables.

use std::fmt::Write as _;
use std::time::Duration;

use super::parts::Parts;
use super::{CHANGED, ISSUES, JiraParts, Measured, PAGE, Plan, med};
use crate::stats::{median, ms};

fn row(out: &mut String, what: &str, runs: &[Measured]) {
    let wall = med(runs, |m| ms(m.wall));
    let bare = med(runs, |m| ms(m.bare_wall));
    let pages = med(runs, |m| m.pages as f64);
    let bare_pages = med(runs, |m| m.bare_pages as f64);
    let _ = writeln!(
        out,
        "| {what} | {wall:.0} ms | {bare:.0} ms | {:.2}x | {pages:.0} | {bare_pages:.0} | {:.2}x | \
         {:.0} | {:.0} | {:.0} |",
        if bare > 0.0 { wall / bare } else { 0.0 },
        if bare_pages > 0.0 {
            pages / bare_pages
        } else {
            0.0
        },
        med(runs, |m| m.per_issue_reads as f64),
        med(runs, |m| m.scanned as f64),
        med(runs, |m| m.enqueued as f64),
    );
}

pub(super) fn render(
    plan: &Plan,
    incremental: &[Measured],
    first: &[Measured],
    steady: &[Measured],
    parts: &[Parts],
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Jira: {ISSUES} issues seeded in bulk (updated two days before), {CHANGED} of them linked \
         and then edited; the cursor ten minutes before the edits; page size {PAGE}, overlap \
         2 min. PeopleForce: {} tasks; the first scan of a fresh database (no content hashes \
         yet), then scans after {} tasks changed. Median of {} repetition(s) (steady scans: \
         {} per repetition); the bare client's time is the median of 3 passes right after. \
         Simulators without injected latency; the poller publishes to RabbitMQ (confirmed) and \
         keeps its cursor, links and hashes in PostgreSQL.\n",
        plan.tasks, plan.changed_tasks, plan.reps, plan.steady
    );
    let _ = writeln!(
        out,
        "| run | poller wall | bare wall | ratio | poller pages | bare pages | ratio | per-issue GETs | scanned | enqueued |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    row(
        &mut out,
        &format!("Jira incremental, {ISSUES} issues, {CHANGED} changed"),
        incremental,
    );
    row(
        &mut out,
        &format!("PeopleForce first scan, {} tasks", plan.tasks),
        first,
    );
    row(
        &mut out,
        &format!(
            "PeopleForce scan, {} tasks, {} changed",
            plan.tasks, plan.changed_tasks
        ),
        steady,
    );
    let part = |f: fn(&JiraParts) -> Duration| {
        let values: Vec<f64> = (incremental.iter())
            .filter_map(|m| m.jira_parts.as_ref().map(|p| ms(f(p))))
            .collect();
        median(&values).unwrap_or(0.0)
    };
    let (wall, bare) = (
        med(incremental, |m| ms(m.wall)),
        med(incremental, |m| ms(m.bare_wall)),
    );
    let (lookups, publishes) = (part(|p| p.lookups), part(|p| p.publishes));
    let _ = writeln!(
        out,
        "\nWhere the incremental run's time goes (each part timed alone right after the run; \
         medians): the search page {bare:.0} ms (bare), {CHANGED} link look-ups (8 at a time) \
         {lookups:.0} ms, {CHANGED} confirmed publishes (32 in flight) {publishes:.0} ms; the \
         rest of the {wall:.0} ms (cursor write, leadership check, scheduling) {:.0} ms.",
        (wall - bare - lookups - publishes).max(0.0)
    );
    let wall = med(steady, |m| ms(m.wall));
    let pages = med(steady, |m| m.pages as f64).max(1.0);
    let part = |f: fn(&Parts) -> Duration| {
        median(&parts.iter().map(|p| ms(f(p))).collect::<Vec<_>>()).unwrap_or(0.0)
    };
    let (client, hashing, leader, hashes) = (
        part(|p| p.client),
        part(|p| p.hashing),
        part(|p| p.leader_checks),
        part(|p| p.hash_load),
    );
    let bare = med(steady, |m| ms(m.bare_wall));
    let _ = writeln!(
        out,
        "\nWhere a steady scan's time goes (each part measured alone right after the scans; \
         medians):\n\n| part | time | per page |\n|---|---|---|"
    );
    for (what, t) in [
        ("the poller's scan (wall)", wall),
        ("bare paging (untyped JSON)", bare),
        ("paging with the poller's PeopleForce client", client),
        ("hashing every task (the poller's content hash)", hashing),
        ("one leadership check per page", leader),
        ("loading the stored hashes (once)", hashes),
        (
            "the rest (not attributed)",
            (wall - client - hashing - leader - hashes).max(0.0),
        ),
    ] {
        let _ = writeln!(out, "| {what} | {t:.0} ms | {:.2} ms |", t / pages);
    }
    let _ = writeln!(
        out,
        "\nPage by page in the poller's last steady scan (medians): a page that enqueues \
         nothing takes {:.2} ms, a page with a changed task {:.2} ms (one confirmed publish and \
         one hash write more); the bare client reads a page in {:.2} ms.",
        part(|p| p.quiet_page),
        part(|p| p.busy_page),
        bare / pages
    );
    let first_wall = med(first, |m| ms(m.wall));
    let _ = writeln!(
        out,
        "\nThe first scan costs {:.1} s more than a steady one: publishing {} confirmed \
         requests (32 in flight) and writing as many content hashes.",
        (first_wall - wall) / 1000.0,
        plan.tasks
    );
    out
}

//! The report: each benchmark returns a [`Section`]; a run writes each section to
//! `target/bench/<name>.md` and then assembles `BENCHMARKS.md` from every section on disk
//! (the ones just measured and the last results of the others), under a header naming the
//! machine and the date.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// One benchmark's results, in Markdown.
#[derive(Debug, Clone)]
pub struct Section {
    /// File-name-safe, e.g. `ingress`.
    pub name: &'static str,
    /// The heading, e.g. `Ingress throughput and latency`.
    pub title: &'static str,
    /// The exact command that produced it.
    pub command: String,
    /// The body: tables of figures with their baselines and ratios, and what limits them.
    pub body: String,
}

impl Section {
    fn render(&self, measured_at: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "## {}\n", self.title);
        let _ = writeln!(out, "Measured {measured_at} with:\n");
        let _ = writeln!(out, "```sh\n{}\n```\n", self.command);
        out.push_str(self.body.trim_end());
        out.push('\n');
        out
    }
}

/// Where the sections of the last runs are kept: `<workspace>/target/bench`.
pub fn results_dir() -> PathBuf {
    workspace_root().join("target").join("bench")
}

/// The workspace root (the directory of the workspace `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A one-line description of this machine: CPU model, cores, memory, kernel.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{model}, {cores} cores, {:.0} GiB RAM, Linux {}",
        mem_kib as f64 / 1_048_576.0,
        kernel.trim()
    )
}

/// Saves `section` beside the others, then rewrites `BENCHMARKS.md` from all of them.
pub fn publish(section: &Section) -> anyhow::Result<PathBuf> {
    let dir = results_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let stamp = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let measured_at = format!("{stamp} on {}", machine());
    let path = dir.join(format!("{}.md", section.name));
    std::fs::write(&path, section.render(&measured_at))
        .with_context(|| format!("write {}", path.display()))?;
    assemble()
}

/// The order of sections in `BENCHMARKS.md`; unknown names follow, alphabetically.
const ORDER: &[&str] = &["ingress", "lag", "cost", "poller", "footprint", "startup"];

/// Rewrites `BENCHMARKS.md` from the sections in [`results_dir`].
pub fn assemble() -> anyhow::Result<PathBuf> {
    let dir = results_dir();
    let mut sections: Vec<(usize, String, String)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
                continue;
            };
            if path.extension().and_then(|e| e.to_str()) != Some("md") {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("read {}", path.display()))?;
            let rank = ORDER.iter().position(|n| *n == name).unwrap_or(ORDER.len());
            sections.push((rank, name, text));
        }
    }
    sections.sort();
    let mut out = String::from(
        "# Benchmarks\n\n\
         Every figure is measured beside its baseline in the same run and reported as a ratio \
         and as an absolute number (medians of several runs unless a table says otherwise). \
         Rerun everything with `cargo run --release -p jira-sync-bench -- all`, or one section \
         with the command under its heading. Benchmarks never run in the tests, and the tests \
         assert no timings.\n\n",
    );
    for (_, _, text) in &sections {
        out.push_str(text.trim_end());
        out.push_str("\n\n");
    }
    let path = workspace_root().join("BENCHMARKS.md");
    std::fs::write(&path, out.trim_end().to_owned() + "\n")
        .with_context(|| format!("write {}", path.display()))?;
    Ok(path)
}

//! A CPU profile of the ingress process under load: `perf record` (software `cpu-clock`
//! sampling, which works in VMs without hardware counters) attached to the pid while a load
//! runs, summarised by shared object and by symbol. Skipped, with the reason, when `perf` is
//! missing or not permitted.

use std::time::Duration;

use anyhow::Context;

use super::Run;

/// Share of samples per shared object and per symbol, highest first.
#[derive(Debug, Clone)]
pub struct Profile {
    pub samples: u64,
    pub by_object: Vec<(f64, String)>,
    pub by_symbol: Vec<(f64, String)>,
    /// The load that ran while profiling (not used for any other figure).
    pub run: Run,
}

/// Profiles `pid` for `duration` plus a second of lead-in while `load` runs. `Ok(None)` when
/// perf is unavailable; the load runs either way.
pub async fn record(
    pid: u32,
    duration: Duration,
    load: impl Future<Output = anyhow::Result<Run>>,
) -> anyhow::Result<Option<Profile>> {
    let file = std::env::temp_dir().join(format!("jira-sync-bench-perf-{pid}.data"));
    let seconds = format!("{:.1}", duration.as_secs_f64() + 1.5);
    let perf = tokio::process::Command::new("perf")
        .args([
            "record",
            "-e",
            "cpu-clock",
            "-F",
            "999",
            "-p",
            &pid.to_string(),
            "-o",
        ])
        .arg(&file)
        .args(["--", "sleep", &seconds])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn();
    let Ok(perf) = perf else {
        let _ = load.await?;
        eprintln!("    perf is not installed: no profile");
        return Ok(None);
    };
    let run = load.await?;
    let status = perf.wait_with_output().await.context("wait for perf")?;
    if !status.status.success() {
        eprintln!("    perf record failed ({}): no profile", status.status);
        let _ = std::fs::remove_file(&file);
        return Ok(None);
    }
    let by_object = report(&file, "dso", 1.0).await?;
    let by_symbol = report(&file, "dso,sym", 0.8).await?;
    let samples = sample_count(&file).await.unwrap_or(0);
    let _ = std::fs::remove_file(&file);
    Ok(Some(Profile {
        samples,
        by_object,
        by_symbol,
        run,
    }))
}

/// `perf report --sort <keys>` lines above `min_percent`, as (percent, text).
async fn report(
    file: &std::path::Path,
    keys: &str,
    min_percent: f64,
) -> anyhow::Result<Vec<(f64, String)>> {
    let output = tokio::process::Command::new("perf")
        .args(["report", "--stdio", "--no-children", "--sort", keys, "-i"])
        .arg(file)
        .output()
        .await
        .context("perf report")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((percent, rest)) = line.split_once('%') else {
            continue;
        };
        let Ok(percent) = percent.trim().parse::<f64>() else {
            continue;
        };
        if percent < min_percent {
            continue;
        }
        let rest = rest.split_whitespace().collect::<Vec<_>>().join(" ");
        let shown: String = rest.chars().take(120).collect();
        lines.push((percent, shown));
    }
    Ok(lines)
}

/// The number of samples in the recording (from `perf report`'s header).
async fn sample_count(file: &std::path::Path) -> Option<u64> {
    let output = tokio::process::Command::new("perf")
        .args(["report", "--stdio", "--sort", "dso", "-i"])
        .arg(file)
        .output()
        .await
        .ok()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("# Samples: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| {
            let n = n.to_ascii_uppercase();
            match n.strip_suffix('K') {
                Some(k) => k.parse::<f64>().ok().map(|k| (k * 1000.0) as u64),
                None => n.parse().ok(),
            }
        })
}

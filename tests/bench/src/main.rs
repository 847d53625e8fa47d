//! `jira-sync-bench`: the benchmarks of jira-sync. Each figure is measured beside its baseline
//! in the same run, as a ratio and as an absolute number (medians of several runs), and the
//! results go to `BENCHMARKS.md` with the command, the machine and the date.
//!
//! ```text
//! cargo run --release -p jira-sync-bench -- all              # every benchmark
//! cargo run --release -p jira-sync-bench -- <name>... [--quick]
//! ```
//!
//! Each benchmark is a module with `pub async fn run(opts: &Options) -> anyhow::Result<Section>`,
//! registered in [`BENCHMARKS`].

mod bare;
mod cost;
mod drive;
mod e2e;
mod footprint;
mod ingress;
mod lag;
mod phases;
mod poller;
mod process;
mod report;
mod scrape;
mod setup;
mod startup;
mod stats;

use std::process::ExitCode;

use report::Section;

/// Options shared by every benchmark.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Shorter runs (fewer repetitions, shorter phases), to check that a benchmark works.
    pub quick: bool,
    /// The command line as typed, for the report.
    pub command: String,
}

type Run = fn(Options) -> std::pin::Pin<Box<dyn Future<Output = anyhow::Result<Section>>>>;

/// Every benchmark by name, in the order `all` runs them.
const BENCHMARKS: &[(&str, Run)] = &[
    ("ingress", |o| Box::pin(ingress::run(o))),
    ("lag", |o| Box::pin(lag::run(o))),
    ("cost", |o| Box::pin(cost::run(o))),
    ("poller", |o| Box::pin(poller::run(o))),
    ("footprint", |o| Box::pin(footprint::run(o))),
    ("startup", |o| Box::pin(startup::run(o))),
];

fn usage() -> String {
    let names: Vec<&str> = BENCHMARKS.iter().map(|(n, _)| *n).collect();
    format!(
        "usage: jira-sync-bench <all | {}>... [--quick]",
        names.join(" | ")
    )
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|a| a == "-h" || a == "--help") {
        eprintln!("{}", usage());
        return ExitCode::from(2);
    }
    let quick = args.iter().any(|a| a == "--quick");
    let wanted: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let selected: Vec<&(&str, Run)> = if wanted.contains(&"all") {
        BENCHMARKS.iter().collect()
    } else {
        let mut selected = Vec::new();
        for name in &wanted {
            match BENCHMARKS.iter().find(|(n, _)| n == name) {
                Some(b) => selected.push(b),
                None => {
                    eprintln!("unknown benchmark `{name}`\n{}", usage());
                    return ExitCode::from(2);
                }
            }
        }
        selected
    };
    let options = Options {
        quick,
        command: format!(
            "cargo run --release -p jira-sync-bench -- {}",
            args.join(" ")
        ),
    };
    let mut failed = false;
    for (name, run) in selected {
        eprintln!("==> {name}");
        match run(options.clone()).await {
            Ok(section) => match report::publish(&section) {
                Ok(path) => {
                    println!("{}", section.body);
                    eprintln!("==> {name}: written to {}", path.display());
                }
                Err(e) => {
                    eprintln!("==> {name}: could not write the report: {e:#}");
                    failed = true;
                }
            },
            Err(e) => {
                eprintln!("==> {name} failed: {e:#}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

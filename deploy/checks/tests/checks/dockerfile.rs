//! deploy/Dockerfile: hadolint, the toolchain release, the non-root runtime, and the binaries it
//! builds against the workspace's binaries and what compose and the Helm chart run.

use std::collections::BTreeSet;

use crate::compose::{command, services};
use crate::support::tools::{command as tool_command, run};
use crate::support::{read, repo_root, scalar, yaml};

fn dockerfile() -> String {
    read("deploy/Dockerfile")
}

/// The `BINARIES` build argument.
fn image_binaries() -> BTreeSet<String> {
    let text = dockerfile();
    let line = text
        .lines()
        .find(|l| l.starts_with("ARG BINARIES="))
        .unwrap_or_else(|| panic!("no ARG BINARIES= in the Dockerfile"));
    line["ARG BINARIES=".len()..]
        .trim_matches('"')
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Every binary target of the workspace members.
fn workspace_binaries() -> BTreeSet<String> {
    let root: toml::Table =
        toml::from_str(&read("Cargo.toml")).unwrap_or_else(|e| panic!("Cargo.toml: {e}"));
    let members = root["workspace"]["members"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out = BTreeSet::new();
    for member in members.iter().filter_map(toml::Value::as_str) {
        let manifest: toml::Table = toml::from_str(&read(&format!("{member}/Cargo.toml")))
            .unwrap_or_else(|e| panic!("{member}/Cargo.toml: {e}"));
        let bins: Vec<String> = manifest
            .get("bin")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|b| {
                b.get("name")
                    .and_then(toml::Value::as_str)
                    .map(str::to_owned)
            })
            .collect();
        if bins.is_empty() && repo_root().join(member).join("src/main.rs").is_file() {
            out.insert(
                manifest["package"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        out.extend(bins);
        if let Ok(dir) = std::fs::read_dir(repo_root().join(member).join("src/bin")) {
            out.extend(dir.flatten().filter_map(|e| {
                e.path()
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
            }));
        }
    }
    out
}

#[test]
fn hadolint_accepts_the_dockerfile() {
    run(tool_command("hadolint").args(["--failure-threshold", "info", "deploy/Dockerfile"]));
}

#[test]
fn the_builder_uses_the_pinned_rust_release_and_the_runtime_runs_as_uid_10001() {
    let text = dockerfile();
    let toolchain: toml::Table =
        toml::from_str(&read("rust-toolchain.toml")).unwrap_or_else(|e| panic!("{e}"));
    let channel = toolchain["toolchain"]["channel"]
        .as_str()
        .unwrap_or_default();
    let minor: String = channel.split('.').take(2).collect::<Vec<_>>().join(".");
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "a builder and a runtime stage: {froms:?}");
    assert!(
        froms[0].starts_with(&format!("FROM rust:{minor}-slim-bookworm ")),
        "{} does not build with Rust {minor}",
        froms[0]
    );
    assert!(
        froms[1].starts_with("FROM debian:bookworm-slim "),
        "runtime: {}",
        froms[1]
    );
    let users: Vec<&str> = text.lines().filter(|l| l.starts_with("USER ")).collect();
    assert_eq!(
        users,
        ["USER 10001:10001"],
        "the runtime runs as numeric uid:gid 10001"
    );
    assert!(
        !text.lines().any(|l| l.starts_with("ENTRYPOINT")),
        "no ENTRYPOINT: the command picks the binary"
    );
    assert!(
        text.contains("CMD [\"jira-sync-ingress\"]"),
        "the default command is the ingress"
    );
    for cache in ["/usr/local/cargo/registry", "/src/target"] {
        assert!(
            text.contains(&format!("--mount=type=cache,target={cache}")),
            "no cache mount for {cache}"
        );
    }
    assert!(text.contains("--locked"), "builds must use Cargo.lock");
    let ignore = read(".dockerignore");
    for entry in ["target/", ".git/", "rust-toolchain.toml"] {
        assert!(
            ignore.lines().any(|l| l.trim() == entry),
            ".dockerignore lacks {entry}"
        );
    }
}

#[test]
fn the_image_builds_exactly_the_workspace_binaries_that_compose_and_helm_run() {
    let image = image_binaries();
    let workspace = workspace_binaries();
    for bin in &image {
        assert!(
            workspace.contains(bin),
            "the Dockerfile builds {bin}, which no workspace member defines ({workspace:?})"
        );
    }
    let mut run_by = Vec::new();
    for (name, service) in services() {
        if service.get("build").is_some() {
            run_by.push((
                format!("compose service {name}"),
                command(&service).first().cloned().unwrap_or_default(),
            ));
        }
    }
    let values = yaml("k8s/jira-sync/values.yaml");
    for component in ["ingress", "worker", "poller"] {
        let first = values
            .pointer(&format!("/{component}/command/0"))
            .map(scalar)
            .unwrap_or_default();
        run_by.push((format!("Helm component {component}"), first));
    }
    for (who, bin) in run_by {
        assert!(
            image.contains(&bin),
            "{who} runs `{bin}`, which the image does not build: add it to ARG BINARIES in deploy/Dockerfile"
        );
    }
}

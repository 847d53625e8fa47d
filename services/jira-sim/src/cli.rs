//! Command-line parsing for the `jira-sim` binary: a TOML file (`--config sim.toml`), or N
//! default sites on fixed ports, with a few global overrides.
//!
//! ```text
//! jira-sim --config sim.toml
//! jira-sim --sites 2 --base-port 8081            # sites site1, site2 on 8081, 8082
//! jira-sim --names alpha,beta --base-port 8081 --bind 0.0.0.0 --public-host jira-sim --workers 2
//! ```

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{SimConfig, SiteConfig};

/// Usage text.
pub const USAGE: &str = "\
usage: jira-sim [--config FILE.toml] [--sites N | --names a,b] [--base-port PORT] [--bind ADDR]
                [--workers N] [--webhook-retry-delay-ms MS] [--webhook-max-retries N]
                [--webhook-concurrency N] [--seed N] [--public-host HOST]";

/// Why the command line cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad or missing flags (the message ends with the usage).
    #[error("{0}\n{USAGE}")]
    Usage(String),
    /// The configuration file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML for `SimConfig`.
    #[error("{path} is not a valid simulator configuration: {source}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// Why.
        source: toml::de::Error,
    },
}

/// Builds the configuration from arguments (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<SimConfig, CliError> {
    let mut args = args.into_iter();
    let mut config: Option<SimConfig> = None;
    let (mut count, mut names, mut base_port, mut seed) = (None, None, None, None);
    let mut public_host: Option<String> = None;
    let mut overrides: Vec<(String, String)> = Vec::new();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(CliError::Usage(String::new()));
        }
        let value = args
            .next()
            .ok_or_else(|| CliError::Usage(format!("{flag} needs a value")))?;
        match flag.as_str() {
            "--config" => {
                let path = PathBuf::from(&value);
                let text = std::fs::read_to_string(&path).map_err(|source| CliError::Read {
                    path: path.clone(),
                    source,
                })?;
                config =
                    Some(toml::from_str(&text).map_err(|source| CliError::Toml { path, source })?);
            }
            "--sites" => count = Some(number(&flag, &value)?),
            "--names" => {
                names = Some(
                    value
                        .split(',')
                        .map(|s| s.trim().to_owned())
                        .collect::<Vec<_>>(),
                )
            }
            "--base-port" => {
                base_port = Some(u16::try_from(number(&flag, &value)?).map_err(|_| bad(&flag))?)
            }
            "--seed" => seed = Some(number(&flag, &value)?),
            "--public-host" => public_host = Some(value),
            _ => overrides.push((flag, value)),
        }
    }
    let mut config = config.unwrap_or_default();
    if config.sites.is_empty() || names.is_some() || count.is_some() {
        let names = names.unwrap_or_else(|| {
            (1..=count.unwrap_or(1))
                .map(|i| format!("site{i}"))
                .collect()
        });
        config.sites = names.iter().map(|n| SiteConfig::named(n)).collect();
    }
    for (i, site) in config.sites.iter_mut().enumerate() {
        if let Some(base) = base_port {
            site.port = Some(base.saturating_add(u16::try_from(i).unwrap_or(u16::MAX)));
        }
        if let Some(seed) = seed {
            site.seed = seed;
        }
        // Self links name the host clients use (a compose service name) instead of the bind address.
        if let (Some(host), Some(port)) = (&public_host, site.port) {
            site.public_url = Some(format!("http://{host}:{port}"));
        }
    }
    for (flag, value) in overrides {
        match flag.as_str() {
            "--bind" => config.bind = value.parse().map_err(|_| bad(&flag))?,
            "--workers" => {
                config.workers = usize::try_from(number(&flag, &value)?).map_err(|_| bad(&flag))?
            }
            "--webhook-retry-delay-ms" => {
                config.webhook_retry_delay = Duration::from_millis(number(&flag, &value)?)
            }
            "--webhook-max-retries" => {
                config.webhook_max_retries =
                    u32::try_from(number(&flag, &value)?).map_err(|_| bad(&flag))?
            }
            "--webhook-concurrency" => {
                config.webhook_concurrency =
                    usize::try_from(number(&flag, &value)?).map_err(|_| bad(&flag))?;
            }
            other => return Err(CliError::Usage(format!("unknown flag {other}"))),
        }
    }
    Ok(config)
}

fn number(flag: &str, value: &str) -> Result<u64, CliError> {
    value.parse().map_err(|_| bad(flag))
}

fn bad(flag: &str) -> CliError {
    CliError::Usage(format!("{flag} has an invalid value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn n_sites_get_consecutive_fixed_ports() {
        let cfg = parse(args(
            "--sites 2 --base-port 8081 --workers 2 --public-host sim",
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let ports: Vec<_> = cfg
            .sites
            .iter()
            .map(|s| (s.name.as_str(), s.port))
            .collect();
        assert_eq!(ports, vec![("site1", Some(8081)), ("site2", Some(8082))]);
        assert_eq!(cfg.workers, 2);
        assert_eq!(cfg.sites[0].projects, vec!["SITE1".to_owned()]);
        assert_eq!(cfg.sites[1].public_url.as_deref(), Some("http://sim:8082"));
    }

    #[test]
    fn a_toml_file_describes_sites_users_and_workflow() {
        let text = r#"
            webhook_retry_delay_ms = 50
            [[sites]]
            name = "alpha"
            port = 9001
            projects = ["ALPHA", "OPS"]
            [[sites.users]]
            account_id = "u1"
            display_name = "Ann"
            email = "ann@example.com"
            api_token = "t1"
        "#;
        let cfg: SimConfig = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg.webhook_retry_delay, Duration::from_millis(50));
        assert_eq!(cfg.sites[0].projects.len(), 2);
        assert_eq!(cfg.sites[0].users[0].email, "ann@example.com");
        assert_eq!(
            cfg.sites[0].workflow.statuses.len(),
            3,
            "the default workflow applies"
        );
        assert!(cfg.validate().is_ok());
    }

    #[test]
    fn the_example_configuration_is_valid() {
        let cfg: SimConfig =
            toml::from_str(include_str!("../sim.example.toml")).unwrap_or_else(|e| panic!("{e}"));
        assert!(cfg.validate().is_ok(), "{:?}", cfg.validate());
        assert_eq!(
            cfg.sites[1].workflow.transitions[1].required_fields,
            vec!["resolution".to_owned()]
        );
        assert_eq!(
            cfg.sites[0]
                .limits
                .per_issue_writes
                .as_ref()
                .map(|p| p.short.limit),
            Some(20)
        );
    }

    #[test]
    fn unknown_flags_are_refused() {
        assert!(matches!(
            parse(args("--colour blue")),
            Err(CliError::Usage(_))
        ));
    }
}

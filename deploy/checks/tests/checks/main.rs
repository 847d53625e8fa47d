//! The deployment checks, one test binary: each module checks one artifact against the code it
//! deploys and runs that artifact's own validator. External tools come from
//! `scripts/install-deploy-tools`; a missing one fails its test with that hint.

mod catalog;
mod compose;
mod compose_wiring;
mod dashboards;
mod dockerfile;
mod helm;
mod helm_manifests;
mod prometheus;
mod rabbitmq;
mod support;
mod yaml_lint;

//! jira-sync-deploy-checks: the tests that keep the deployment artifacts honest.
//!
//! The artifacts live beside this package: `deploy/Dockerfile`, `docker-compose.yml`,
//! `deploy/rabbitmq`, `deploy/prometheus`, `deploy/grafana`, the metric catalog
//! `deploy/metrics.txt` and the Helm chart in `k8s/jira-sync`. The checks live in
//! `tests/checks/`: they parse each artifact, cross-check it against the code it deploys (settings
//! keys, queue names, metric names, binary names), and run the external validators (helm,
//! kubernetes-validate, promtool, hadolint, yamllint, a throw-away RabbitMQ node). A missing tool
//! fails the test and names `scripts/install-deploy-tools`; nothing is skipped.
//!
//! This library is empty on purpose: nothing here is used at run time.

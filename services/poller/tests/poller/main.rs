//! The poller against real PostgreSQL and RabbitMQ (a fresh database and a unique queue
//! prefix per test) and both simulators over HTTP.

mod jira;
mod leadership;
mod peopleforce;
mod service;
mod support;

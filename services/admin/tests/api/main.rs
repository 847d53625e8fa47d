//! The admin API against real PostgreSQL, RabbitMQ and the Jira simulator, one module per
//! concern; `cli` drives the same API through the command-line client.

mod auth;
mod cli;
mod conflicts;
mod dead_letters;
mod helpers;
mod links;
mod openapi;
mod schema;
mod sync;

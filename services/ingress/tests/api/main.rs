//! HTTP-level tests of the ingress. `webhook`, `errors` and `health` run against in-memory fakes
//! of the broker and the database; `broker` runs against the real RabbitMQ and PostgreSQL of
//! this machine (and fails loudly if they are down).

mod binary;
mod broker;
mod errors;
mod health;
mod helpers;
mod hostile;
mod overload;
mod peopleforce;
mod proxy;
mod webhook;

//! The JQL subset the simulator understands, with Jira-style 400 messages for everything else.
//!
//! ```text
//! query   := [clause (AND clause)*] [ORDER BY sort (, sort)*]
//! clause  := project (= | != | in | not in) values
//!          | key | issuekey | id | status        (same operators)
//!          | updated | created (< | <= | > | >=) "yyyy-MM-dd[ HH:mm]" | -5m | -2h | -1d | -1w
//!          | issue.property[key].path (= | !=) "value"
//! sort    := updated | created | key | id  [ASC | DESC]
//! ```
//! `lexer` and `parser` build the AST below; `eval` resolves names against a site, filters,
//! sorts (ties broken by id) and pages with an opaque keyset cursor.

mod eval;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

pub(crate) use eval::{Cursor, resolve};
pub(crate) use parser::parse;

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Query {
    pub clauses: Vec<Clause>,
    pub order: Vec<SortKey>,
}

/// One restriction.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Clause {
    Project {
        negate: bool,
        values: Vec<String>,
    },
    Key {
        negate: bool,
        keys: Vec<String>,
    },
    Id {
        negate: bool,
        ids: Vec<u64>,
    },
    Status {
        negate: bool,
        values: Vec<String>,
    },
    Date {
        field: DateField,
        op: CmpOp,
        value: DateValue,
    },
    Property {
        key: String,
        path: Vec<String>,
        negate: bool,
        value: String,
    },
}

/// `created` or `updated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateField {
    Created,
    Updated,
}

/// A date comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
}

/// An absolute instant (epoch ms) or an offset from now (ms, negative in the past).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateValue {
    At(i64),
    FromNow(i64),
}

/// One `ORDER BY` term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SortKey {
    pub field: SortField,
    pub desc: bool,
}

/// Sortable fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortField {
    Updated,
    Created,
    Key,
    Id,
}

/// A query Jira would refuse, with the message for `errorMessages`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct JqlError(pub String);

impl JqlError {
    pub fn syntax(detail: impl std::fmt::Display) -> Self {
        Self(format!("Error in the JQL Query: {detail}"))
    }

    pub fn unsupported(what: impl std::fmt::Display) -> Self {
        Self(format!(
            "Error in the JQL Query: {what} is not supported by the Jira simulator's JQL subset."
        ))
    }
}

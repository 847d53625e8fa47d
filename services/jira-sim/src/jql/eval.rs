//! Running a parsed query against a site: names resolved (unknown projects, statuses and keys
//! are 400s, as in Jira), issues filtered and sorted stably (ties broken by id ascending), and
//! pages cut after an opaque keyset cursor, so that pages neither skip nor repeat issues that
//! did not change.

use std::cmp::Ordering;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Clause, CmpOp, DateField, DateValue, JqlError, Query, SortField, SortKey};
use crate::state::Store;
use crate::state::catalog::Catalog;
use crate::state::model::Issue;

/// A query bound to one site's projects and statuses.
#[derive(Debug)]
pub(crate) struct Resolved {
    clauses: Vec<Clause>,
    projects: Vec<(bool, Vec<usize>)>,
    statuses: Vec<(bool, Vec<usize>)>,
    order: Vec<SortKey>,
    fingerprint: u64,
}

/// Binds `query` to a site; `jql` is the original text, which the cursor is tied to.
pub(crate) fn resolve(
    query: Query,
    jql: &str,
    cat: &Catalog,
    store: &Store,
) -> Result<Resolved, JqlError> {
    let mut projects = Vec::new();
    let mut statuses = Vec::new();
    for clause in &query.clauses {
        match clause {
            Clause::Project { negate, values } => {
                let idx = values
                    .iter()
                    .map(|v| {
                        let by_id = v
                            .parse::<usize>()
                            .ok()
                            .and_then(|id| id.checked_sub(10_000));
                        by_id
                            .filter(|i| *i < cat.projects.len())
                            .or_else(|| cat.project_by_key(v))
                            .ok_or_else(|| {
                                JqlError(format!(
                                    "The value '{v}' does not exist for the field 'project'."
                                ))
                            })
                    })
                    .collect::<Result<_, _>>()?;
                projects.push((*negate, idx));
            }
            Clause::Status { negate, values } => {
                let idx = values
                    .iter()
                    .map(|v| {
                        cat.workflow.find_status(v).ok_or_else(|| {
                            JqlError(format!(
                                "The value '{v}' does not exist for the field 'status'."
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?;
                statuses.push((*negate, idx));
            }
            Clause::Key { keys, .. } => {
                if let Some(k) = keys.iter().find(|k| !store.key_exists(k)) {
                    return Err(JqlError(format!(
                        "An issue with key '{k}' does not exist for field 'key'."
                    )));
                }
            }
            _ => {}
        }
    }
    let order = if query.order.is_empty() {
        vec![SortKey {
            field: SortField::Key,
            desc: true,
        }]
    } else {
        query.order.clone()
    };
    Ok(Resolved {
        clauses: query.clauses,
        projects,
        statuses,
        order,
        fingerprint: fnv(jql.trim()),
    })
}

impl Resolved {
    /// Whether the query restricts anything (Jira refuses unbounded enhanced searches).
    pub fn is_bounded(&self) -> bool {
        !self.clauses.is_empty()
    }

    /// Whether `issue` satisfies every clause at time `now`.
    pub fn matches(&self, issue: &Issue, now: i64) -> bool {
        let (mut p, mut s) = (self.projects.iter(), self.statuses.iter());
        self.clauses.iter().all(|clause| match clause {
            Clause::Project { .. } => p
                .next()
                .is_none_or(|(neg, idx)| idx.contains(&issue.project) != *neg),
            Clause::Status { .. } => s
                .next()
                .is_none_or(|(neg, idx)| idx.contains(&issue.status) != *neg),
            Clause::Key { negate, keys } => {
                keys.iter().any(|k| k.eq_ignore_ascii_case(&issue.key)) != *negate
            }
            Clause::Id { negate, ids } => ids.contains(&issue.id) != *negate,
            Clause::Date { field, op, value } => {
                let t = if *field == DateField::Updated {
                    issue.updated
                } else {
                    issue.created
                };
                let at = match value {
                    DateValue::At(ms) => *ms,
                    DateValue::FromNow(ms) => now + ms,
                };
                match op {
                    CmpOp::Lt => t < at,
                    CmpOp::Le => t <= at,
                    CmpOp::Gt => t > at,
                    CmpOp::Ge => t >= at,
                }
            }
            Clause::Property {
                key,
                path,
                negate,
                value,
            } => {
                let found = issue
                    .properties
                    .get(key)
                    .and_then(|v| path.iter().try_fold(v, |v, seg| v.get(seg)));
                match found.and_then(scalar) {
                    Some(s) => (s == *value) != *negate,
                    None => false,
                }
            }
        })
    }

    fn sort_vals(&self, issue: &Issue) -> Vec<SortVal> {
        self.order
            .iter()
            .map(|k| match k.field {
                SortField::Updated => SortVal::Int(issue.updated),
                SortField::Created => SortVal::Int(issue.created),
                SortField::Id => SortVal::Int(i64::try_from(issue.id).unwrap_or(i64::MAX)),
                SortField::Key => {
                    let prefix = issue
                        .key
                        .rsplit_once('-')
                        .map_or(issue.key.as_str(), |(p, _)| p);
                    SortVal::Key(prefix.to_owned(), issue.number)
                }
            })
            .collect()
    }

    fn cmp(&self, a: (&[SortVal], u64), b: (&[SortVal], u64)) -> Ordering {
        for (i, key) in self.order.iter().enumerate() {
            let ord = a.0.get(i).cmp(&b.0.get(i));
            let ord = if key.desc { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.1.cmp(&b.1)
    }

    /// Data Center's offset paging: the matching issue ids from `start`, at most `max` of
    /// them, and how many match in all.
    pub fn offset(&self, store: &Store, now: i64, start: usize, max: usize) -> (Vec<u64>, usize) {
        let mut hits: Vec<(Vec<SortVal>, u64)> = (store.issues.values())
            .filter(|i| self.matches(i, now))
            .map(|i| (self.sort_vals(i), i.id))
            .collect();
        hits.sort_by(|a, b| self.cmp((&a.0, a.1), (&b.0, b.1)));
        let total = hits.len();
        let ids = hits.iter().skip(start).take(max).map(|h| h.1).collect();
        (ids, total)
    }

    /// One page of matching issue ids after `after`, at most `max` long.
    pub fn page(
        &self,
        store: &Store,
        now: i64,
        after: Option<&Cursor>,
        max: usize,
    ) -> Result<Page, JqlError> {
        if after.is_some_and(|c| c.q != self.fingerprint) {
            return Err(JqlError(
                "The provided next page token is invalid or expired.".into(),
            ));
        }
        let mut hits: Vec<(Vec<SortVal>, u64)> = store
            .issues
            .values()
            .filter(|i| self.matches(i, now))
            .map(|i| (self.sort_vals(i), i.id))
            .collect();
        hits.sort_by(|a, b| self.cmp((&a.0, a.1), (&b.0, b.1)));
        let start = after.map_or(0, |c| {
            hits.partition_point(|h| self.cmp((&h.0, h.1), (&c.v, c.id)) != Ordering::Greater)
        });
        let end = (start + max).min(hits.len());
        let ids: Vec<u64> = hits[start..end].iter().map(|h| h.1).collect();
        let next = (end < hits.len() && end > start).then(|| {
            let (v, id) = &hits[end - 1];
            Cursor {
                v: v.clone(),
                id: *id,
                q: self.fingerprint,
            }
        });
        Ok(Page { ids, next })
    }
}

/// A page of results and the cursor of the next one.
#[derive(Debug)]
pub(crate) struct Page {
    pub ids: Vec<u64>,
    pub next: Option<Cursor>,
}

/// Where the previous page ended: the sort values and id of its last issue, and the query's
/// fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    v: Vec<SortVal>,
    id: u64,
    q: u64,
}

impl Cursor {
    /// The opaque `nextPageToken`.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(token: &str) -> Result<Self, JqlError> {
        URL_SAFE_NO_PAD
            .decode(token.trim())
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| JqlError("The provided next page token is invalid or expired.".into()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
enum SortVal {
    Int(i64),
    Key(String, u64),
}

/// A property value compared as JQL does: strings by content, numbers and booleans by text.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// FNV-1a, stable across runs and builds.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

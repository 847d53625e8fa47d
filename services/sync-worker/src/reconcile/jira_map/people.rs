//! People across two sites: a person read on one side becomes a canonical [`Person`] (the left
//! side's account id) and a canonical person becomes an account on the target side.
//!
//! Resolution order: the connection's user map, then (if enabled) the e-mail address where the
//! site shows it (`GET /user/search?query=<e-mail>` on the other site, exact match only), else
//! no counterpart: the writer falls back to the side's `default_user` or leaves the field
//! empty. Look-ups are cached per process for [`CACHE_TTL`], negative answers included, so a
//! busy issue does not cost a user search per reconcile.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jira_sync_domain::people::UserMap;
use jira_sync_domain::richtext::mentions::{mention_ids, rewrite_mentions};
use jira_sync_domain::{EndpointId, Person, Side};
use serde_json::Value;

use crate::error::ReconcileError;
use crate::jira::JiraClient;

/// How long a look-up (found or not) is trusted.
pub const CACHE_TTL: Duration = Duration::from_secs(600);

type Key = (EndpointId, String);

/// Per-process cache of e-mail look-ups, shared by all reconciles.
#[derive(Debug, Default)]
pub struct PeopleCache {
    /// (endpoint, account id) -> e-mail, when the site shows it.
    emails: Mutex<HashMap<Key, (Instant, Option<String>)>>,
    /// (endpoint, lower-case e-mail) -> account id.
    accounts: Mutex<HashMap<Key, (Instant, Option<String>)>>,
}

impl PeopleCache {
    fn get(
        map: &Mutex<HashMap<Key, (Instant, Option<String>)>>,
        key: &Key,
    ) -> Option<Option<String>> {
        let map = map.lock().ok()?;
        map.get(key)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, v)| v.clone())
    }

    fn put(map: &Mutex<HashMap<Key, (Instant, Option<String>)>>, key: Key, value: Option<String>) {
        if let Ok(mut map) = map.lock() {
            map.insert(key, (Instant::now(), value));
        }
    }
}

/// The people resolver of one reconcile.
pub struct People<'a> {
    pub(crate) map: UserMap,
    pub(crate) by_email: bool,
    pub(crate) endpoints: [&'a EndpointId; 2],
    pub(crate) clients: [&'a JiraClient; 2],
    /// The fallback account of each side.
    pub(crate) defaults: [Option<String>; 2],
    pub(crate) cache: &'a PeopleCache,
}

fn index(side: Side) -> usize {
    match side {
        Side::Left => 0,
        Side::Right => 1,
    }
}

impl People<'_> {
    /// Remembers the e-mail a user object shows (`assignee`, comment authors...), saving a
    /// look-up later.
    pub fn learn(&self, side: Side, user: &Value) {
        let (Some(id), Some(email)) = (
            user.get("accountId").and_then(Value::as_str),
            user.get("emailAddress").and_then(Value::as_str),
        ) else {
            return;
        };
        let key = (self.endpoints[index(side)].clone(), id.to_owned());
        PeopleCache::put(&self.cache.emails, key, Some(email.to_owned()));
    }

    /// The fallback account on `side`, if one is configured.
    pub fn fallback(&self, side: Side) -> Option<&str> {
        self.defaults[index(side)].as_deref()
    }

    /// The canonical person of account `id` read on `side`.
    pub async fn canonical(&self, side: Side, id: &str) -> Result<Person, ReconcileError> {
        if side == Side::Left {
            return Ok(Person::Known(id.to_owned()));
        }
        Ok(match self.counterpart(side, id).await? {
            Some(left) => Person::Known(left),
            None => Person::Foreign {
                side,
                id: id.to_owned(),
            },
        })
    }

    /// The account of `person` on `target`; `None` when they have no counterpart there.
    pub async fn account_on(
        &self,
        person: &Person,
        target: Side,
    ) -> Result<Option<String>, ReconcileError> {
        match person {
            Person::Known(left) if target == Side::Left => Ok(Some(left.clone())),
            Person::Known(left) => self.counterpart(Side::Left, left).await,
            Person::Foreign { side, id } if *side == target => Ok(Some(id.clone())),
            Person::Foreign { side, id } => self.counterpart(*side, id).await,
        }
    }

    /// The account on the other side of account `id` on `from`.
    async fn counterpart(&self, from: Side, id: &str) -> Result<Option<String>, ReconcileError> {
        if let Some(other) = self.map.counterpart(from, id) {
            return Ok(Some(other.to_owned()));
        }
        if !self.by_email {
            return Ok(None);
        }
        let Some(email) = self.email_of(from, id).await? else {
            return Ok(None);
        };
        self.account_by_email(from.other(), &email).await
    }

    async fn email_of(&self, side: Side, id: &str) -> Result<Option<String>, ReconcileError> {
        let endpoint = self.endpoints[index(side)];
        let key = (endpoint.clone(), id.to_owned());
        if let Some(hit) = PeopleCache::get(&self.cache.emails, &key) {
            return Ok(hit);
        }
        let email = match self.clients[index(side)].user(id).await {
            Ok(user) => user.email_address.filter(|e| !e.is_empty()),
            Err(e) if e.is_not_found() => None,
            Err(e) => {
                return Err(ReconcileError::jira(
                    endpoint,
                    "look up",
                    format!("user {id}"),
                    e,
                ));
            }
        };
        PeopleCache::put(&self.cache.emails, key, email.clone());
        Ok(email)
    }

    async fn account_by_email(
        &self,
        side: Side,
        email: &str,
    ) -> Result<Option<String>, ReconcileError> {
        let endpoint = self.endpoints[index(side)];
        let wanted = email.to_lowercase();
        let key = (endpoint.clone(), wanted.clone());
        if let Some(hit) = PeopleCache::get(&self.cache.accounts, &key) {
            return Ok(hit);
        }
        let found = self.clients[index(side)]
            .search_users(email)
            .await
            .map_err(|e| ReconcileError::jira(endpoint, "search", "users by e-mail", e))?;
        let account = found
            .into_iter()
            .find(|u| (u.email_address.as_deref()).is_some_and(|e| e.eq_ignore_ascii_case(&wanted)))
            .map(|u| u.account_id);
        PeopleCache::put(&self.cache.accounts, key, account.clone());
        Ok(account)
    }

    /// An ADF document read on `side` with its mentions in canonical (left) ids; a mention of
    /// someone without a left counterpart becomes `@Name` text.
    pub async fn canonical_mentions(
        &self,
        doc: &Value,
        side: Side,
    ) -> Result<Value, ReconcileError> {
        if side == Side::Left {
            return Ok(doc.clone());
        }
        let mut ids = HashMap::new();
        for id in mention_ids(doc) {
            let person = self.canonical(side, &id).await?;
            let left = match person {
                Person::Known(left) => Some(left),
                Person::Foreign { .. } => None,
            };
            ids.insert(id, left);
        }
        Ok(rewrite_mentions(doc, &|id| ids.get(id).cloned().flatten()))
    }

    /// A canonical ADF document with its mentions in `target`'s ids; someone without a
    /// counterpart there becomes `@Name` text.
    pub async fn mentions_for(&self, doc: &Value, target: Side) -> Result<Value, ReconcileError> {
        if target == Side::Left {
            return Ok(doc.clone());
        }
        let mut ids = HashMap::new();
        for id in mention_ids(doc) {
            let account = self.account_on(&Person::Known(id.clone()), target).await?;
            ids.insert(id, account);
        }
        Ok(rewrite_mentions(doc, &|id| ids.get(id).cloned().flatten()))
    }
}

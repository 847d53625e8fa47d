//! The issues of one site and every operation that changes them.
//!
//! `Store` holds issues with their comments, properties and history, and hands out ids the way
//! Jira does (issues from 10000, keys `PROJ-1..` per project). The operations (`issues`,
//! `comments`, `properties`) check input fully before changing anything, bump `updated`, append
//! to the changelog and report what happened as `Happened` events; turning those into webhooks
//! is the `webhooks` module's job, and HTTP is the `routes` module's.

pub(crate) mod adf;
pub(crate) mod apply;
pub(crate) mod catalog;
pub(crate) mod comments;
pub(crate) mod custom;
pub(crate) mod events;
pub(crate) mod field_defs;
pub(crate) mod fields;
pub(crate) mod issues;
pub(crate) mod model;
pub(crate) mod properties;
pub(crate) mod registry;
pub(crate) mod render;
pub(crate) mod seed;
pub(crate) mod selection;

use std::collections::{BTreeMap, HashMap};

use model::Issue;
use registry::Registry;

/// Issues of one site, indexed by id and by key.
#[derive(Debug)]
pub(crate) struct Store {
    pub issues: BTreeMap<u64, Issue>,
    by_key: HashMap<String, u64>,
    next_number: Vec<u64>,
    next_issue_id: u64,
    next_comment_id: u64,
    next_change_id: u64,
    pub registry: Registry,
}

impl Store {
    pub fn new(projects: usize) -> Self {
        Self {
            issues: BTreeMap::new(),
            by_key: HashMap::new(),
            next_number: vec![1; projects],
            next_issue_id: 10_000,
            next_comment_id: 10_000,
            next_change_id: 10_000,
            registry: Registry::default(),
        }
    }

    /// The id of an issue given by id or (case-insensitive) key.
    pub fn find(&self, id_or_key: &str) -> Option<u64> {
        if let Ok(id) = id_or_key.parse::<u64>() {
            return self.issues.contains_key(&id).then_some(id);
        }
        self.by_key.get(&id_or_key.to_ascii_uppercase()).copied()
    }

    pub fn get(&self, id: u64) -> Option<&Issue> {
        self.issues.get(&id)
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut Issue> {
        self.issues.get_mut(&id)
    }

    /// Hands out the next issue id and the next number of `project`: (id, number, key).
    pub fn allocate(&mut self, project: usize, project_key: &str) -> (u64, u64, String) {
        let id = self.next_issue_id;
        self.next_issue_id += 1;
        let number = self.next_number.get(project).copied().unwrap_or(1);
        if let Some(n) = self.next_number.get_mut(project) {
            *n += 1;
        }
        (id, number, format!("{project_key}-{number}"))
    }

    /// An issue and the component/version registry, both writable.
    pub fn issue_and_registry(&mut self, id: u64) -> Option<(&mut Issue, &mut Registry)> {
        let issue = self.issues.get_mut(&id)?;
        Some((issue, &mut self.registry))
    }

    pub fn insert(&mut self, issue: Issue) {
        self.by_key.insert(issue.key.clone(), issue.id);
        self.issues.insert(issue.id, issue);
    }

    pub fn remove(&mut self, id: u64) -> Option<Issue> {
        let issue = self.issues.remove(&id)?;
        self.by_key.remove(&issue.key);
        Some(issue)
    }

    pub fn next_comment_id(&mut self) -> u64 {
        self.next_comment_id += 1;
        self.next_comment_id - 1
    }

    pub fn next_change_id(&mut self) -> u64 {
        self.next_change_id += 1;
        self.next_change_id - 1
    }

    /// Whether an issue with this key ever existed in a known project (for JQL's key check).
    pub fn key_exists(&self, key: &str) -> bool {
        self.by_key.contains_key(&key.to_ascii_uppercase())
    }
}

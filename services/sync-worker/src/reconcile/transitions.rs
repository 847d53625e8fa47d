//! Moving an issue to a status through its workflow.
//!
//! Jira only tells which transitions are available from the issue's current status (`GET
//! transitions`), so the workflow graph is discovered hop by hop and remembered per endpoint,
//! project and issue type for the life of the process. To reach a status: take a direct
//! transition if there is one; else a shortest path over the known graph (BFS); else walk
//! towards the nearest status whose transitions are not known yet and look again. A hop out of
//! a status whose transitions were listed in the last ten minutes is taken without listing them
//! again; if Jira refuses it (the workflow was edited, or a condition holds the issue back), the
//! transitions are listed and the move goes on from what they say. When the
//! site has no status of that name at all (`GET /status`), or none is reachable, the target's
//! status category (to do / in progress / done) is the goal instead. Fields the transition
//! screen requires come from the connection's `transition_fields`.
//!
//! "No path" is a permanent error that lists the transitions that were available; the issue is
//! walked back to where it started first, so a failed attempt leaves no trace.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jira_sync_domain::{EndpointId, Side};
use serde_json::{Map, Value};
use tracing::{info, warn};

use super::{Ctx, Reconciler};
use crate::error::{ReconcileError, chain};
use crate::jira::{Issue, JiraClient, Transition};

/// Most transitions one move may take (exploration included).
const MAX_HOPS: usize = 12;

/// How long the transitions seen out of a status are taken without asking Jira again. A
/// workflow edited meanwhile is noticed when Jira refuses a transition, or after this long.
const TRUST_KNOWN_FOR: Duration = Duration::from_secs(600);

type GraphKey = (EndpointId, String, String);

#[derive(Debug, Clone)]
struct Edge {
    /// As Jira listed it, screen fields included, so that a known edge can be taken without
    /// asking again.
    transition: Transition,
    to: String,
}

/// What is known of one workflow.
#[derive(Debug, Default, Clone)]
struct Graph {
    /// Status id -> transitions out of it (present once the status was looked at).
    edges: HashMap<String, Vec<Edge>>,
    /// Status id -> when its transitions were last listed.
    listed_at: HashMap<String, Instant>,
    /// Status id -> (name, category key).
    statuses: HashMap<String, (String, Option<String>)>,
}

impl Graph {
    fn learn(&mut self, from: &str, available: &[Transition]) {
        let edges = available
            .iter()
            .filter(|t| t.to.id != from)
            .map(|t| Edge {
                transition: t.clone(),
                to: t.to.id.clone(),
            })
            .collect();
        self.edges.insert(from.to_owned(), edges);
        self.listed_at.insert(from.to_owned(), Instant::now());
        for t in available {
            (self.statuses).insert(
                t.to.id.clone(),
                (t.to.name.clone(), t.to.category_key.clone()),
            );
        }
    }

    /// Whether the transitions out of `status` were listed recently enough to be taken
    /// without listing them again.
    fn trusted(&self, status: &str) -> bool {
        (self.listed_at.get(status)).is_some_and(|at| at.elapsed() < TRUST_KNOWN_FOR)
    }

    /// The first edge of a shortest known path from `from` to a status that satisfies `goal`.
    fn first_hop(&self, from: &str, goal: &dyn Fn(&str) -> bool) -> Option<Edge> {
        let mut seen = HashSet::from([from.to_owned()]);
        let mut queue: VecDeque<(String, Option<Edge>)> = VecDeque::from([(from.to_owned(), None)]);
        while let Some((node, first)) = queue.pop_front() {
            for edge in self.edges.get(&node).into_iter().flatten() {
                if !seen.insert(edge.to.clone()) {
                    continue;
                }
                let first = first.clone().unwrap_or_else(|| edge.clone());
                if goal(&edge.to) {
                    return Some(first);
                }
                queue.push_back((edge.to.clone(), Some(first)));
            }
        }
        None
    }
}

/// The workflows learnt so far, and each site's status names.
#[derive(Debug, Default)]
pub struct Workflows {
    graphs: Mutex<HashMap<GraphKey, Graph>>,
    names: Mutex<HashMap<EndpointId, HashSet<String>>>,
}

/// Where a move ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    pub name: String,
    pub category: Option<String>,
    /// The transitions taken, by name.
    pub path: Vec<String>,
}

/// The status an issue is in.
#[derive(Debug, Clone)]
struct At {
    id: String,
    name: String,
    category: Option<String>,
}

struct Mover<'a> {
    client: &'a JiraClient,
    endpoint: &'a EndpointId,
    issue: &'a Issue,
    key: GraphKey,
    screen: Map<String, Value>,
    workflows: &'a Workflows,
}

impl Mover<'_> {
    fn graph(&self) -> Graph {
        (self.workflows.graphs.lock().ok())
            .and_then(|g| g.get(&self.key).cloned())
            .unwrap_or_default()
    }

    async fn available(&self, at: &At) -> Result<Vec<Transition>, ReconcileError> {
        let available = (self.client.transitions(&self.issue.id).await).map_err(|e| {
            ReconcileError::jira(
                self.endpoint,
                "read transitions of",
                self.issue.key.clone(),
                e,
            )
        })?;
        if let Ok(mut graphs) = self.workflows.graphs.lock() {
            let graph = graphs.entry(self.key.clone()).or_default();
            graph.learn(&at.id, &available);
            graph
                .statuses
                .insert(at.id.clone(), (at.name.clone(), at.category.clone()));
        }
        Ok(available)
    }

    /// Takes `t`, a transition known from an earlier look at this workflow, without asking
    /// Jira first. `None` when Jira refused it (the workflow changed, or a condition holds the
    /// issue back) or its screen needs a field we lack: then the caller asks which
    /// transitions are available. Any other failure is returned: its outcome may be unknown.
    async fn try_take(&self, t: &Transition) -> Result<Option<At>, ReconcileError> {
        match self.take(t).await {
            Ok(at) => Ok(Some(at)),
            Err(ReconcileError::TransitionFieldMissing { .. }) => Ok(None),
            Err(ReconcileError::Jira { source, .. })
                if matches!(source.status(), Some(400 | 409 | 422)) =>
            {
                warn!(issue = %self.issue.key, transition = %t.name, error = %chain(&source), "a known transition was refused; asking Jira which are available");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn take(&self, t: &Transition) -> Result<At, ReconcileError> {
        let mut fields = Map::new();
        for (id, meta) in &t.fields {
            match self.screen.get(id) {
                Some(value) => {
                    fields.insert(id.clone(), value.clone());
                }
                None if meta.get("required").and_then(Value::as_bool) == Some(true) => {
                    return Err(ReconcileError::TransitionFieldMissing {
                        endpoint: self.endpoint.clone(),
                        issue: self.issue.key.clone(),
                        transition: t.name.clone(),
                        field: id.clone(),
                    });
                }
                None => {}
            }
        }
        let fields = (!fields.is_empty()).then_some(&fields);
        (self.client.transition(&self.issue.id, &t.id, fields).await).map_err(|e| {
            ReconcileError::jira(self.endpoint, "transition", self.issue.key.clone(), e)
        })?;
        Ok(At {
            id: t.to.id.clone(),
            name: t.to.name.clone(),
            category: t.to.category_key.clone(),
        })
    }
}

impl Reconciler {
    /// Moves `issue` on `side` to status `target`, or to a status of `category` when the site
    /// has no reachable status of that name.
    pub(super) async fn move_to(
        &self,
        ctx: &Ctx<'_>,
        side: Side,
        issue: &Issue,
        target: &str,
        category: Option<&str>,
    ) -> Result<Reached, ReconcileError> {
        let field = |name: &str, attr: &str| {
            issue
                .fields
                .get(name)
                .and_then(|v| v.get(attr))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let status = issue.fields.get("status");
        let start = At {
            id: field("status", "id"),
            name: field("status", "name"),
            category: (status
                .and_then(|s| s.pointer("/statusCategory/key"))
                .and_then(Value::as_str))
            .map(str::to_owned),
        };
        let mover = Mover {
            client: ctx.client(side),
            endpoint: ctx.endpoint(side),
            issue,
            key: (
                ctx.endpoint(side).clone(),
                field("project", "key"),
                field("issuetype", "name"),
            ),
            screen: ctx.connection.transition_fields(side),
            workflows: &self.workflows,
        };
        let mut seek_name = self.status_exists(&mover, target).await;
        let mut at = start.clone();
        let mut path: Vec<String> = Vec::new();
        let mut first_available: Option<Vec<String>> = None;
        for _ in 0..MAX_HOPS {
            let done = if seek_name {
                at.name.eq_ignore_ascii_case(target)
            } else {
                category.is_some_and(|c| at.category.as_deref() == Some(c))
            };
            if done {
                return Ok(Reached {
                    name: at.name,
                    category: at.category,
                    path,
                });
            }
            let is_goal = |graph: &Graph, id: &str| {
                let Some((name, cat)) = graph.statuses.get(id) else {
                    return false;
                };
                if seek_name {
                    name.eq_ignore_ascii_case(target)
                } else {
                    category.is_some_and(|c| cat.as_deref() == Some(c))
                }
            };
            // A workflow already known from here: take the known path without asking Jira
            // which transitions are available (a call per hop saved); a refusal asks.
            let known = mover.graph();
            if known.trusted(&at.id)
                && let Some(edge) = known.first_hop(&at.id, &|id| is_goal(&known, id))
            {
                match mover.try_take(&edge.transition).await {
                    Ok(Some(next)) => {
                        at = next;
                        path.push(edge.transition.name.clone());
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        self.walk_back(&mover, &at, &start).await;
                        return Err(e);
                    }
                }
            }
            let available = mover.available(&at).await?;
            first_available.get_or_insert_with(|| describe(&available));
            let graph = mover.graph();
            let goal = |id: &str| is_goal(&graph, id);
            let unexplored = |id: &str| !graph.edges.contains_key(id);
            let hop = graph
                .first_hop(&at.id, &goal)
                .or_else(|| graph.first_hop(&at.id, &unexplored));
            match hop.and_then(|e| available.iter().find(|t| t.id == e.transition.id)) {
                Some(t) => match mover.take(t).await {
                    Ok(next) => {
                        at = next;
                        path.push(t.name.clone());
                    }
                    Err(e) => {
                        self.walk_back(&mover, &at, &start).await;
                        return Err(e);
                    }
                },
                None if seek_name && category.is_some() => seek_name = false,
                None => break,
            }
        }
        self.walk_back(&mover, &at, &start).await;
        Err(ReconcileError::NoTransitionPath {
            endpoint: ctx.endpoint(side).clone(),
            issue: issue.key.clone(),
            target: target.to_owned(),
            available: first_available.unwrap_or_default(),
        })
    }

    /// Whether the site has a status named `name` (`GET /status`, once per endpoint); `true`
    /// when that cannot be told.
    async fn status_exists(&self, mover: &Mover<'_>, name: &str) -> bool {
        let known = (self.workflows.names.lock().ok()).and_then(|n| n.get(mover.endpoint).cloned());
        let names = match known {
            Some(names) => names,
            None => match mover.client.statuses().await {
                Ok(list) => {
                    let names: HashSet<String> =
                        list.into_iter().map(|s| s.name.to_lowercase()).collect();
                    if let Ok(mut cache) = self.workflows.names.lock() {
                        cache.insert(mover.endpoint.clone(), names.clone());
                    }
                    names
                }
                Err(e) => {
                    warn!(error = %chain(&e), "cannot list the site's statuses; looking for the name by walking the workflow");
                    return true;
                }
            },
        };
        names.is_empty() || names.contains(&name.to_lowercase())
    }

    /// Best effort: back to the status a failed move started from.
    async fn walk_back(&self, mover: &Mover<'_>, from: &At, start: &At) {
        let mut at = from.clone();
        for _ in 0..MAX_HOPS {
            if at.id == start.id {
                return;
            }
            let Ok(available) = mover.available(&at).await else {
                return;
            };
            let graph = mover.graph();
            let hop = graph.first_hop(&at.id, &|id: &str| id == start.id);
            let Some(t) = hop.and_then(|e| available.iter().find(|t| t.id == e.transition.id))
            else {
                return;
            };
            match mover.take(t).await {
                Ok(next) => at = next,
                Err(e) => {
                    warn!(error = %chain(&e), "could not walk the issue back after a failed status move");
                    return;
                }
            }
        }
        info!(issue = %mover.issue.key, "gave up walking the issue back");
    }
}

fn describe(available: &[Transition]) -> Vec<String> {
    available
        .iter()
        .map(|t| format!("{} -> {}", t.name, t.to.name))
        .collect()
}

//! The reconcile engine: brings one entity of one connection into sync, level-triggered and
//! idempotent.
//!
//! Per request: resolve the connection and the entity's side, take the entity's lock
//! ([`lock`]), then either create and link its twin (`twin`) or merge the linked pair three
//! ways and write the difference (`linked`, `write`, `transitions`, `comments`), handling
//! held conflicts (`conflicts`) and operators' resolutions of them (`resolutions`), deleted and out-of-scope issues (`deletes`) and custom
//! fields that cannot be mapped (`catalog`). What caused the request does not matter: the
//! current state of both sides and the stored base decide, so duplicates, reordering and our
//! own writes coming back as webhooks all reconcile to nothing.
//!
//! Decoding deliveries, retries and acknowledgements belong to [`crate::handler`]; HTTP
//! details and the transient/permanent classification of Jira failures to the Jira client.

mod catalog;
mod comments;
mod conflicts;
mod deletes;
mod echo;
pub mod jira_map;
mod linked;
pub mod lock;
mod peopleforce;
mod resolutions;
mod seen;
mod transitions;
mod twin;
mod unknown;
mod write;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jira_sync_domain::document::Snapshot;
use jira_sync_domain::merge::FieldRule;
use jira_sync_domain::{ConnectionId, EndpointId, ReconcileRequest, Side};
use jira_sync_settings::{ConnectionSettings, ConnectionSide, Settings};
use jira_sync_store::{NewAuditEntry, Store, StoreError};
use serde_json::Value;
use tracing::debug;
use uuid::Uuid;

use crate::error::ReconcileError;
use crate::jira::{Issue, JiraClient, JiraClients};
use crate::peopleforce::PeopleforceClients;
use catalog::{Catalogs, FieldCatalog};
use jira_map::people::{People, PeopleCache};
use jira_map::{Mapper, ORIGIN_PROPERTY, read_fields};
use lock::lock_key;
use transitions::Workflows;

use comments::COMMENT_FIELD;
pub use comments::CommentMarker;

/// How long a reconcile waits for an entity's lock before giving up (a transient failure).
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// How often a reconcile may find that it holds the wrong lock before giving up.
const MAX_RELOCKS: usize = 4;

/// What one reconcile did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A twin was created on the other side and linked to the entity.
    Created {
        link_id: Uuid,
        twin_id: String,
        twin_key: String,
    },
    /// A linked pair was merged; the named fields were written to each side (none when it was
    /// already in sync), and `held` lists conflicts left for a person.
    Synced {
        link_id: Uuid,
        to_left: Vec<String>,
        to_right: Vec<String>,
        held: Vec<String>,
    },
    /// The issue on `side` no longer exists. A linked pair is detached (after the connection's
    /// `on_delete` policy deleted or commented on the other issue).
    Deleted { side: Side, link_id: Option<Uuid> },
    /// A linked issue left its scope and the pair was detached (`on_leave_scope = "unlink"`).
    Unlinked { link_id: Uuid },
    /// Nothing to do: `out_of_scope` (another project, or the scope filter; a linked pair is
    /// paused while one of its issues is out), `foreign_marker` (an issue carrying a copied
    /// origin marker of an entity that is linked elsewhere), `origin_deleted`, `detached` (the
    /// pair stopped syncing for good); on PeopleForce connections also `create_from` (twins
    /// are not created from this side) and `twin_pending` (our twin of a task, not linked yet);
    /// `own_write` (the webhook of a write the bot made, see `echo`); `already_seen` (another
    /// webhook about a change already reconciled, see `seen`).
    Skipped { reason: &'static str },
    /// A PeopleForce employee changed (their e-mail, and so their Jira user, may have): the
    /// `reconciled` linked tasks assigned to them were reconciled; `wrote` when any write.
    Refreshed { reconciled: usize, wrote: bool },
}

impl Outcome {
    /// Whether anything was written to Jira.
    pub fn wrote(&self) -> bool {
        match self {
            Outcome::Created { .. } => true,
            Outcome::Synced {
                to_left, to_right, ..
            } => !to_left.is_empty() || !to_right.is_empty(),
            Outcome::Refreshed { wrote, .. } => *wrote,
            Outcome::Deleted { .. } | Outcome::Unlinked { .. } | Outcome::Skipped { .. } => false,
        }
    }
}

/// The reconcile engine. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Reconciler {
    settings: Arc<Settings>,
    store: Arc<dyn Store>,
    jira: Arc<JiraClients>,
    lock_wait: Duration,
    catalogs: Arc<Catalogs>,
    workflows: Arc<Workflows>,
    people: Arc<PeopleCache>,
    peopleforce: Arc<PeopleforceClients>,
    bots: Arc<echo::BotAccounts>,
    seen: Arc<seen::SeenChanges>,
}

/// The resolved view of one request: its connection, its side and both sides' clients.
pub(crate) struct Ctx<'a> {
    request: &'a ReconcileRequest,
    connection: &'a ConnectionSettings,
    side: Side,
    /// The synced fields and their merge rules (custom fields that cannot be mapped left out).
    rules: BTreeMap<String, FieldRule>,
    catalog: Arc<FieldCatalog>,
    left: &'a JiraClient,
    right: &'a JiraClient,
    trace_id: Option<&'a str>,
}

impl Ctx<'_> {
    fn id(&self) -> &ConnectionId {
        &self.request.connection
    }

    fn client(&self, side: Side) -> &JiraClient {
        match side {
            Side::Left => self.left,
            Side::Right => self.right,
        }
    }

    fn config(&self, side: Side) -> &ConnectionSide {
        self.connection.side(side)
    }

    fn endpoint(&self, side: Side) -> &EndpointId {
        &self.connection.side(side).endpoint
    }
}

/// What a reconcile holding a lock found it must do next.
pub(crate) enum Step {
    Done(Outcome),
    /// The entity needs another lock key (a link appeared, or it is a twin whose creator holds
    /// its origin's key): release and take this one.
    Relock(String),
}

impl Reconciler {
    /// An engine for the connections in `settings`, with one Jira client per endpoint.
    pub fn new(settings: Arc<Settings>, store: Arc<dyn Store>, jira: JiraClients) -> Self {
        Self {
            settings,
            store,
            jira: Arc::new(jira),
            lock_wait: LOCK_WAIT,
            catalogs: Arc::default(),
            workflows: Arc::default(),
            people: Arc::default(),
            peopleforce: Arc::default(),
            bots: Arc::default(),
            seen: Arc::default(),
        }
    }

    /// Adds the PeopleForce clients, for connections with a PeopleForce side.
    pub fn with_peopleforce(mut self, clients: PeopleforceClients) -> Self {
        self.peopleforce = Arc::new(clients);
        self
    }

    /// Changes how long a reconcile waits for a busy lock (default [`LOCK_WAIT`]).
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// Brings the entity of `request` into sync. `trace_id` goes into audit entries.
    #[tracing::instrument(skip_all, fields(
        connection = %request.connection,
        endpoint = %request.endpoint,
        entity = %request.entity_id,
    ))]
    pub async fn reconcile(
        &self,
        request: &ReconcileRequest,
        trace_id: Option<&str>,
    ) -> Result<Outcome, ReconcileError> {
        if self.is_own_write(request).await {
            return Ok(Outcome::Skipped {
                reason: "own_write",
            });
        }
        // A connection with a PeopleForce side has its own engine; Jira <-> Jira is unchanged.
        if let Some(pf_side) = self.peopleforce_side(request) {
            return self.reconcile_peopleforce(request, trace_id, pf_side).await;
        }
        let mut ctx = self.context(request, trace_id)?;
        ctx.catalog = self.catalog(&ctx).await?;
        ctx.rules = catalog::usable_rules(ctx.connection, &ctx.catalog);
        let link = (self.store)
            .find_link(ctx.id(), ctx.side, &request.entity_id)
            .await?;
        let mut key = lock_key(ctx.id(), ctx.side, &request.entity_id, link.as_ref());
        for _ in 0..MAX_RELOCKS {
            let step = self.under_lock(&key, Box::pin(self.reconcile_locked(&ctx, &key)));
            match step.await? {
                Step::Done(outcome) => return Ok(outcome),
                Step::Relock(next) => key = next,
            }
        }
        Err(ReconcileError::LockUnstable)
    }

    /// Records `error` as the last error of the entity's link, if it has one.
    pub async fn record_error(
        &self,
        request: &ReconcileRequest,
        error: &str,
    ) -> Result<(), ReconcileError> {
        let ctx = self.context(request, None)?;
        if let Some(link) = (self.store)
            .find_link(ctx.id(), ctx.side, &request.entity_id)
            .await?
        {
            self.store.record_error(link.id, error).await?;
        }
        Ok(())
    }

    fn context<'a>(
        &'a self,
        request: &'a ReconcileRequest,
        trace_id: Option<&'a str>,
    ) -> Result<Ctx<'a>, ReconcileError> {
        let connection = (self.settings.connections)
            .get(&request.connection)
            .ok_or_else(|| ReconcileError::UnknownConnection(request.connection.clone()))?;
        // The key's project tells the sides apart when both use the same endpoint.
        let project = request.issue_key.as_ref().map(|k| k.project());
        let side = connection
            .side_of(&request.endpoint, project)
            .or_else(|| connection.side_of(&request.endpoint, None))
            .ok_or_else(|| ReconcileError::EndpointNotInConnection {
                connection: request.connection.clone(),
                endpoint: request.endpoint.clone(),
            })?;
        let client = |side: Side| {
            let endpoint = &connection.side(side).endpoint;
            (self.jira)
                .get(endpoint)
                .ok_or_else(|| ReconcileError::NoClient(endpoint.clone()))
        };
        Ok(Ctx {
            request,
            connection,
            side,
            rules: BTreeMap::new(),
            catalog: Arc::default(),
            left: client(Side::Left)?,
            right: client(Side::Right)?,
            trace_id,
        })
    }

    /// One pass under the lock `held`.
    async fn reconcile_locked(&self, ctx: &Ctx<'_>, held: &str) -> Result<Step, ReconcileError> {
        // Checked under the lock: a webhook about the same change that waited for this lock
        // while the first one was reconciled finds it done.
        if self.seen.contains(ctx.request) {
            debug!("another webhook about this change was reconciled; nothing to do");
            return Ok(Step::Done(Outcome::Skipped {
                reason: "already_seen",
            }));
        }
        let step = self.reconcile_pass(ctx, held).await?;
        if let Step::Done(outcome) = &step
            && !matches!(outcome, Outcome::Skipped { .. })
        {
            self.seen.record(ctx.request);
        }
        Ok(step)
    }

    async fn reconcile_pass(&self, ctx: &Ctx<'_>, held: &str) -> Result<Step, ReconcileError> {
        // Re-check: the link may have been stored while we waited for the lock.
        let link = (self.store)
            .find_link(ctx.id(), ctx.side, &ctx.request.entity_id)
            .await?;
        match link {
            Some(link) => {
                let needed = lock_key(ctx.id(), ctx.side, &ctx.request.entity_id, Some(&link));
                if needed != held {
                    return Ok(Step::Relock(needed));
                }
                self.reconcile_linked(ctx, link).await.map(Step::Done)
            }
            None => self.reconcile_unlinked(ctx, held).await,
        }
    }

    /// Reads an issue with the synced fields and the origin marker; `None` when it is gone.
    async fn read(
        &self,
        ctx: &Ctx<'_>,
        side: Side,
        id: &str,
    ) -> Result<Option<Issue>, ReconcileError> {
        let mapper = self.mapper(ctx);
        let ids = ctx.rules.keys().filter_map(|k| mapper.jira_id(k, side));
        let mut fields = read_fields(ids);
        if ctx.connection.sync.sync_comments {
            // Its `total` tells the comment sync whether there is anything to list.
            fields.push(COMMENT_FIELD.to_owned());
        }
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        match ctx
            .client(side)
            .get_issue(id, &fields, &[ORIGIN_PROPERTY])
            .await
        {
            Ok(issue) => Ok(Some(issue)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(source) => Err(ReconcileError::jira(
                ctx.endpoint(side),
                "read",
                id.to_owned(),
                source,
            )),
        }
    }

    /// The field mapper of this request's connection.
    fn mapper<'a>(&'a self, ctx: &'a Ctx<'_>) -> Mapper<'a> {
        let sync = &ctx.connection.sync;
        let default = |side: Side| {
            (ctx.config(side).options.default_user.as_ref()).map(|u| u.id().to_owned())
        };
        Mapper {
            connection: ctx.connection,
            people: People {
                map: sync.user_map(),
                by_email: sync.match_users_by_email,
                endpoints: [ctx.endpoint(Side::Left), ctx.endpoint(Side::Right)],
                clients: [ctx.left, ctx.right],
                defaults: [default(Side::Left), default(Side::Right)],
                cache: &self.people,
            },
            catalog: &ctx.catalog,
        }
    }

    /// Appends an audit entry for this request.
    async fn audit(
        &self,
        ctx: &Ctx<'_>,
        link_id: Option<Uuid>,
        action: &str,
        target: Side,
        changes: &Snapshot,
    ) -> Result<(), StoreError> {
        let entry = NewAuditEntry {
            link_id,
            connection: ctx.id().clone(),
            action: action.to_owned(),
            target,
            fields: changes.keys().cloned().collect(),
            changes: Value::Object(changes.clone().into_iter().collect()),
            trigger: ctx.request.trigger.name().to_owned(),
            delivery_id: Some(ctx.request.delivery_id.to_string()),
            trace_id: ctx.trace_id.map(str::to_owned),
        };
        self.store.append_audit(entry).await
    }

    /// Appends an audit entry with free-form `changes`.
    async fn audit_value(
        &self,
        ctx: &Ctx<'_>,
        link_id: Option<Uuid>,
        action: &str,
        target: Side,
        fields: &[&str],
        changes: Value,
    ) -> Result<(), ReconcileError> {
        let entry = NewAuditEntry {
            link_id,
            connection: ctx.id().clone(),
            action: action.to_owned(),
            target,
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            changes,
            trigger: ctx.request.trigger.name().to_owned(),
            delivery_id: Some(ctx.request.delivery_id.to_string()),
            trace_id: ctx.trace_id.map(str::to_owned),
        };
        Ok(self.store.append_audit(entry).await?)
    }

    /// Checks the custom fields of every connection against the sites' field catalogues and
    /// reports those that cannot be synced (at start-up; reconciles do it lazily otherwise).
    /// Returns the connections that could not be checked.
    pub async fn check_fields(&self) -> Vec<(ConnectionId, ReconcileError)> {
        let mut failed = Vec::new();
        let with_custom =
            (self.settings.connections.iter()).filter(|(_, c)| !c.sync.custom_fields.is_empty());
        for (id, connection) in with_custom {
            let request = ReconcileRequest {
                connection: id.clone(),
                endpoint: connection.left.endpoint.clone(),
                entity_id: "-".to_owned(),
                issue_key: None,
                trigger: jira_sync_domain::Trigger::Manual,
                delivery_id: jira_sync_domain::DeliveryId::generate(),
                event_at: None,
                change: None,
            };
            let result = match self.context(&request, None) {
                Ok(ctx) => self.catalog(&ctx).await.map(drop),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                failed.push((id.clone(), e));
            }
        }
        failed
    }
}

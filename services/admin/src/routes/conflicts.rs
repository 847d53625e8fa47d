//! `GET /api/v1/conflicts` (held conflicts, open by default) and
//! `POST /api/v1/conflicts/{id}/resolve` (settle one).
//!
//! Resolving stores the operator's choice on the conflict (the store keeps the first
//! resolution) and enqueues a manual reconcile of the link; the worker writes the chosen value
//! to both sides on that reconcile. Repeating the same resolution is harmless and enqueues
//! again (so a 503 can be retried); a different one after the first is a 409.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use jira_sync_domain::{ConnectionId, DeliveryId, ReconcileRequest, Side, Trigger};
use jira_sync_store::{Conflict, ConflictStatus, Link, StoreError};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use uuid::Uuid;

use super::limit;
use super::sync::enqueue;
use crate::error::ApiError;
use crate::resolution::Resolution;
use crate::startup::AppState;
use crate::views::{ConflictList, ConflictView, ResolveAccepted};

/// The query of `GET /conflicts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `open` (the default), `resolved` or `all`.
    pub status: Option<String>,
    pub connection: Option<String>,
    pub limit: Option<i64>,
}

/// The body of `POST /conflicts/{id}/resolve`: exactly one of `take` and `value`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    pub take: Option<Side>,
    /// Present (even as `null`) means "write this value".
    #[serde(default, deserialize_with = "present")]
    pub value: Option<Value>,
}

/// `Some` whenever the field is there, `null` included.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl ResolveBody {
    fn resolution(self) -> Result<Resolution, ApiError> {
        match (self.take, self.value) {
            (Some(side), None) => Ok(Resolution::Take(side)),
            (None, Some(value)) => Ok(Resolution::Value(value)),
            (Some(_), Some(_)) => Err(ApiError::BadRequest(
                "give either take or value, not both".into(),
            )),
            (None, None) => Err(ApiError::BadRequest(
                "give {\"take\": \"left\"|\"right\"} or {\"value\": <json>}".into(),
            )),
        }
    }
}

/// Conflicts, newest first.
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = limit(query.limit, 50, 500)?;
    let status = match query.status.as_deref().unwrap_or("open") {
        "all" => None,
        text => Some(ConflictStatus::parse(text).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "status must be open, resolved or all, not {:?}",
                text.chars().take(32).collect::<String>()
            ))
        })?),
    };
    let connection = match query.connection.as_deref() {
        None | Some("") => None,
        Some(name) => Some(
            ConnectionId::parse(name)
                .map_err(|e| ApiError::BadRequest(format!("connection: {e}")))?,
        ),
    };
    let conflicts = state
        .store
        .list_conflicts(connection.as_ref(), status, limit)
        .await?;
    let conflicts = conflicts.iter().map(ConflictView::from).collect();
    Ok(HttpResponse::Ok().json(ConflictList { conflicts }))
}

/// Stores the resolution and enqueues a manual reconcile of the link.
pub async fn resolve(
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<ResolveBody>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let unknown = || ApiError::UnknownConflict(id.chars().take(64).collect());
    let conflict_id = Uuid::parse_str(&id).map_err(|_| unknown())?;
    let resolution = body.into_inner().resolution()?;
    let text = resolution.encode();
    let conflict = match state.store.resolve_conflict(conflict_id, &text).await {
        Ok(conflict) => conflict,
        Err(StoreError::NotFound(_)) => return Err(unknown()),
        Err(error) => return Err(error.into()),
    };
    if let Some(existing) = conflict.resolution.as_deref()
        && existing != text
    {
        return Err(ApiError::AlreadyResolved(existing.to_owned()));
    }
    let delivery_id = reconcile_link(&state, &conflict).await?;
    tracing::info!(
        conflict = %conflict.id,
        link = %conflict.link_id,
        field = %conflict.field,
        resolution = %text,
        delivery_id = delivery_id.as_deref(),
        "conflict resolved by an operator"
    );
    Ok(HttpResponse::Ok().json(ResolveAccepted {
        conflict: ConflictView::from(&conflict),
        delivery_id,
    }))
}

/// Enqueues a manual reconcile of the conflict's link (by its left issue); `None` when the
/// link or its connection is gone.
async fn reconcile_link(state: &AppState, conflict: &Conflict) -> Result<Option<String>, ApiError> {
    let Some(connection) = state.settings.connections.get(&conflict.connection) else {
        return Ok(None);
    };
    let Some(link) = link_by_id(state, conflict).await? else {
        return Ok(None);
    };
    let request = ReconcileRequest {
        connection: conflict.connection.clone(),
        endpoint: connection.left.endpoint.clone(),
        entity_id: link.left_id.clone(),
        issue_key: link
            .left_key
            .as_deref()
            .and_then(|k| jira_sync_domain::IssueKey::parse(k).ok()),
        trigger: Trigger::Manual,
        delivery_id: DeliveryId::generate(),
        event_at: Some(Utc::now()),
        change: None,
    };
    enqueue(state, &request).await?;
    Ok(Some(request.delivery_id.to_string()))
}

/// The link a conflict belongs to. The store finds links by entity, not by id, so this reads
/// the links of the conflict's connection (a `Store::link(id)` would make it one query).
async fn link_by_id(state: &AppState, conflict: &Conflict) -> Result<Option<Link>, ApiError> {
    let links = state
        .store
        .list_links(Some(&conflict.connection), i64::MAX)
        .await?;
    Ok(links.into_iter().find(|link| link.id == conflict.link_id))
}

//! `GET /api/v1/links` (recent links, optionally of one connection) and
//! `GET /api/v1/links/{connection}/{issue}` (one link: state, base, recent audit, conflicts).
//!
//! A link is found by the issue id of either side, or by a key: the key is resolved through the
//! Jira site of each side whose project it names (keys change when issues move; ids do not, and
//! the store knows links by id).

use actix_web::{HttpResponse, web};
use chrono::Utc;
use jira_sync_domain::{ConnectionId, IssueKey, Side};
use jira_sync_store::Link;
use serde::Deserialize;

use super::limit;
use super::sync::is_issue_id;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::views::{AuditView, ConflictView, LinkDetail, LinkList, LinkView};

/// Audit entries shown with a link.
const RECENT_AUDIT: usize = 20;
/// Conflicts shown with a link.
const RECENT_CONFLICTS: usize = 20;

/// The query of `GET /links`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub connection: Option<String>,
    pub limit: Option<i64>,
}

/// Links, newest first.
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = limit(query.limit, 50, 500)?;
    let connection = match query.connection.as_deref() {
        None | Some("") => None,
        Some(name) => Some(
            ConnectionId::parse(name)
                .map_err(|e| ApiError::BadRequest(format!("connection: {e}")))?,
        ),
    };
    let links = state.store.list_links(connection.as_ref(), limit).await?;
    let now = Utc::now();
    let links = links
        .iter()
        .map(|link| LinkView::new(link, state.settings.connections.get(&link.connection), now))
        .collect();
    Ok(HttpResponse::Ok().json(LinkList { links }))
}

/// One link with its base, recent audit entries and conflicts.
pub async fn detail(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (connection, issue) = path.into_inner();
    let link = find_link(&state, &connection, issue.trim()).await?;
    let audit = state.store.audit_of(link.id).await?;
    let conflicts = state.store.conflicts_of(link.id).await?;
    let detail = LinkDetail {
        link: LinkView::new(
            &link,
            state.settings.connections.get(&link.connection),
            Utc::now(),
        ),
        base: link.base.clone(),
        audit: audit
            .iter()
            .rev()
            .take(RECENT_AUDIT)
            .map(AuditView::from)
            .collect(),
        conflicts: conflicts
            .iter()
            .rev()
            .take(RECENT_CONFLICTS)
            .map(ConflictView::from)
            .collect(),
    };
    Ok(HttpResponse::Ok().json(detail))
}

/// The link of `issue` (an id on either side, or a key) in `connection`.
async fn find_link(state: &AppState, connection: &str, issue: &str) -> Result<Link, ApiError> {
    let not_found = || ApiError::UnknownLink(format!("{issue:?} in connection {connection:?}"));
    let id = ConnectionId::parse(connection).map_err(|_| not_found())?;
    if is_issue_id(issue) {
        for side in [Side::Left, Side::Right] {
            if let Some(link) = state.store.find_link(&id, side, issue).await? {
                return Ok(link);
            }
        }
        return Err(not_found());
    }
    let key = IssueKey::parse(issue).map_err(|_| not_found())?;
    // Keys need the connection's endpoints; a removed connection's links are found by id.
    let settings = state.settings.connections.get(&id).ok_or_else(not_found)?;
    // The side whose project the key names first; the other too, as an old key (from before
    // a move into the project) still leads to the issue.
    let mut sides = [Side::Left, Side::Right];
    sides.sort_by_key(|side| {
        !settings
            .side(*side)
            .project
            .eq_ignore_ascii_case(key.project())
    });
    for side in sides {
        let cs = settings.side(side);
        if !state.jira.knows(&cs.endpoint) {
            continue;
        }
        let found = state
            .jira
            .find(&cs.endpoint, &key)
            .await
            .map_err(|source| ApiError::JiraUnavailable {
                endpoint: cs.endpoint.to_string(),
                source: Box::new(source),
            })?;
        if let Some(found) = found
            && let Some(link) = state.store.find_link(&id, side, &found.id).await?
        {
            return Ok(link);
        }
    }
    Err(not_found())
}

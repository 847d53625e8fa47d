//! `GET /api/v1/dead-letters` (read without consuming) and `POST /api/v1/dead-letters/replay`
//! (move back to the work queue, all or by message id).
//!
//! Both go through the transport's `DeadLetters`, which leaves the queue as it found it after
//! a peek and never loses a message on a replay (publish with confirm, then acknowledge).

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::limit;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::views::{DeadLetterList, DeadLetterView, ReplayResult};

/// The query of `GET /dead-letters`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub limit: Option<i64>,
}

/// The body of `POST /dead-letters/replay`: `{}` for all, `{"ids": [...]}` for some. Unknown
/// fields are refused, so that a misspelt filter never replays everything.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    pub ids: Option<Vec<String>>,
}

/// Dead letters, oldest first, left in the queue.
pub async fn list(
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit =
        usize::try_from(limit(query.limit, 50, 1000)?).map_err(|e| ApiError::Internal(e.into()))?;
    let envelopes = state.dead_letters.peek(limit).await?;
    let dead_letters = envelopes.iter().map(DeadLetterView::from).collect();
    Ok(HttpResponse::Ok().json(DeadLetterList { dead_letters }))
}

/// Replays the selected dead letters; answers how many moved.
pub async fn replay(
    state: web::Data<AppState>,
    body: web::Json<ReplayBody>,
) -> Result<HttpResponse, ApiError> {
    let ids = body.into_inner().ids;
    if ids.as_ref().is_some_and(Vec::is_empty) {
        return Err(ApiError::BadRequest(
            "ids must not be empty; send {} to replay every dead letter".into(),
        ));
    }
    let replayed = state.dead_letters.replay(ids.as_deref()).await?;
    tracing::info!(
        replayed,
        selected = ids.as_ref().map(Vec::len),
        "dead letters replayed by an operator"
    );
    Ok(HttpResponse::Ok().json(ReplayResult { replayed }))
}

//! `GET|POST /issue/{id}/comment` and `GET|PUT|DELETE /issue/{id}/comment/{commentId}`.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{Params, actor, issue_id, json, ok};
use crate::error::ApiError;
use crate::site::Site;
use crate::state::comments;
use crate::state::render::{self, Flavor};

pub(super) async fn list(
    site: web::Data<Site>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of(&req);
    let start = params.number("startAt")?.unwrap_or(0);
    let max = params.number("maxResults")?.unwrap_or(100).clamp(1, 5000);
    let newest_first = match params.first("orderBy") {
        None | Some("created" | "+created") => false,
        Some("-created") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid orderBy '{other}': use created or -created."
            )));
        }
    };
    site.read(|st, cat| {
        let id = st.store.find(&path).ok_or_else(ApiError::issue_not_found)?;
        let issue = st.store.get(id).ok_or_else(ApiError::issue_not_found)?;
        Ok(ok(&render::comment_page(
            cat,
            issue,
            start,
            max,
            newest_first,
            Flavor::Rest,
        )))
    })
}

pub(super) async fn add(
    site: web::Data<Site>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let account = actor(&req)?;
    let id = issue_id(&site, &path)?;
    let body = json(&body)?;
    let comment_id = site.write(&account, Some(id), |store, ctx| {
        comments::add(store, ctx, id, &body)
    })?;
    render_comment(&site, id, comment_id, true)
}

fn render_comment(
    site: &Site,
    issue_id: u64,
    comment_id: u64,
    created: bool,
) -> Result<HttpResponse, ApiError> {
    site.read(|st, cat| {
        let issue = st
            .store
            .get(issue_id)
            .ok_or_else(ApiError::issue_not_found)?;
        let comment = issue.comment(comment_id).ok_or_else(|| {
            ApiError::not_found(format!("Can not find a comment for the id: {comment_id}."))
        })?;
        let body = render::comment(cat, issue_id, comment, Flavor::Rest);
        Ok(if created {
            HttpResponse::Created().json(body)
        } else {
            ok(&body)
        })
    })
}

pub(super) async fn get(
    site: web::Data<Site>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (issue, comment) = path.into_inner();
    let id = issue_id(&site, &issue)?;
    render_comment(&site, id, comments::comment_id(&comment)?, false)
}

pub(super) async fn update(
    site: web::Data<Site>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let account = actor(&req)?;
    let (issue, comment) = path.into_inner();
    let id = issue_id(&site, &issue)?;
    let body = json(&body)?;
    site.write(&account, Some(id), |store, ctx| {
        comments::update(store, ctx, id, &comment, &body).map(|e| ((), e))
    })?;
    render_comment(&site, id, comments::comment_id(&comment)?, false)
}

pub(super) async fn delete(
    site: web::Data<Site>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let account = actor(&req)?;
    let (issue, comment) = path.into_inner();
    let id = issue_id(&site, &issue)?;
    site.write(&account, Some(id), |store, ctx| {
        comments::delete(store, ctx, id, &comment).map(|e| ((), e))
    })?;
    Ok(HttpResponse::NoContent().finish())
}

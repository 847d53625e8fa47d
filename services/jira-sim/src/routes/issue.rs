//! `POST /issue`, `GET|PUT|DELETE /issue/{id}` and `GET /issue/{id}/changelog`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{Params, actor, issue_id, json, ok};
use crate::error::ApiError;
use crate::site::Site;
use crate::state::issues;
use crate::state::render::{self, BeanOptions, Flavor};
use crate::state::selection::{FieldSelection, PropSelection};

pub(super) async fn create(
    site: web::Data<Site>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let account = actor(&req)?;
    let body = json(&body)?;
    let id = site.write(&account, None, |store, ctx| {
        issues::create(store, ctx, &body)
    })?;
    let st = site.lock();
    let key = st.store.get(id).map(|i| i.key.clone()).unwrap_or_default();
    Ok(HttpResponse::Created().json(json!({
        "id": id.to_string(),
        "key": key,
        "self": render::issue_self(&site.cat, id, Flavor::Rest),
    })))
}

/// Bean options from `properties` and `expand`.
pub(super) fn bean_options(params: &Params) -> BeanOptions {
    let expand: Vec<&str> = params
        .all("expand")
        .iter()
        .flat_map(|e| e.split(','))
        .map(str::trim)
        .collect();
    BeanOptions {
        properties: PropSelection::parse(params.all("properties")),
        changelog: expand.contains(&"changelog"),
        names: expand.contains(&"names"),
    }
}

pub(super) async fn get(
    site: web::Data<Site>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of(&req);
    let sel = FieldSelection::parse(params.all("fields"), FieldSelection::all());
    let opts = bean_options(&params);
    site.read(|st, cat| {
        let id = st.store.find(&path).ok_or_else(ApiError::issue_not_found)?;
        let issue = st.store.get(id).ok_or_else(ApiError::issue_not_found)?;
        Ok(ok(&render::bean(cat, issue, &sel, &opts)))
    })
}

pub(super) async fn edit(
    site: web::Data<Site>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let account = actor(&req)?;
    let id = issue_id(&site, &path)?;
    let body = json(&body)?;
    site.write(&account, Some(id), |store, ctx| {
        issues::edit(store, ctx, id, &body).map(|e| ((), e))
    })?;
    let params = Params::of(&req);
    if params.first("returnIssue") == Some("true") {
        return site.read(|st, cat| {
            let issue = st.store.get(id).ok_or_else(ApiError::issue_not_found)?;
            Ok(ok(&render::bean(
                cat,
                issue,
                &FieldSelection::all(),
                &bean_options(&params),
            )))
        });
    }
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn delete(
    site: web::Data<Site>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = actor(&req)?;
    let id = issue_id(&site, &path)?;
    site.write(&account, Some(id), |store, ctx| {
        issues::delete(store, ctx, id).map(|e| ((), e))
    })?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn changelog(
    site: web::Data<Site>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of(&req);
    let start = params.number("startAt")?.unwrap_or(0);
    let max = params.number("maxResults")?.unwrap_or(100).clamp(1, 1000);
    site.read(|st, cat| {
        let id = st.store.find(&path).ok_or_else(ApiError::issue_not_found)?;
        let issue = st.store.get(id).ok_or_else(ApiError::issue_not_found)?;
        let values: Vec<Value> = issue.history.iter().skip(start).take(max).map(|g| render::change_group(cat, g)).collect();
        let total = issue.history.len();
        Ok(ok(&json!({
            "self": format!("{}/changelog?startAt={start}&maxResults={max}", render::issue_self(cat, id, Flavor::Rest)),
            "maxResults": max,
            "startAt": start,
            "total": total,
            "isLast": start + values.len() >= total,
            "values": values,
        })))
    })
}

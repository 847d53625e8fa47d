//! `GET /issue/{id}/properties` and `GET|PUT|DELETE /issue/{id}/properties/{key}`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{actor, issue_id, json, ok};
use crate::error::ApiError;
use crate::site::Site;
use crate::state::properties;
use crate::state::render::{Flavor, issue_self};

pub(super) async fn keys(
    site: web::Data<Site>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    site.read(|st, cat| {
        let id = st.store.find(&path).ok_or_else(ApiError::issue_not_found)?;
        let issue = st.store.get(id).ok_or_else(ApiError::issue_not_found)?;
        let base = issue_self(cat, id, Flavor::Rest);
        let keys: Vec<Value> = issue
            .properties
            .keys()
            .map(|k| json!({"self": format!("{base}/properties/{k}"), "key": k}))
            .collect();
        Ok(ok(&json!({"keys": keys})))
    })
}

pub(super) async fn get(
    site: web::Data<Site>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (issue, key) = path.into_inner();
    site.read(|st, _| {
        let id = st
            .store
            .find(&issue)
            .ok_or_else(ApiError::issue_not_found)?;
        let issue = st.store.get(id).ok_or_else(ApiError::issue_not_found)?;
        let value = issue
            .properties
            .get(&key)
            .ok_or_else(|| properties::missing(&key))?;
        Ok(ok(&json!({"key": key, "value": value})))
    })
}

pub(super) async fn set(
    site: web::Data<Site>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let account = actor(&req)?;
    let (issue, key) = path.into_inner();
    let id = issue_id(&site, &issue)?;
    let value = json(&body)?;
    let created = site.write(&account, Some(id), |store, ctx| {
        properties::set(store, ctx, id, &key, value)
    })?;
    Ok(if created {
        HttpResponse::Created().finish()
    } else {
        HttpResponse::Ok().finish()
    })
}

pub(super) async fn delete(
    site: web::Data<Site>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let account = actor(&req)?;
    let (issue, key) = path.into_inner();
    let id = issue_id(&site, &issue)?;
    site.write(&account, Some(id), |store, ctx| {
        properties::delete(store, ctx, id, &key).map(|e| ((), e))
    })?;
    Ok(HttpResponse::NoContent().finish())
}

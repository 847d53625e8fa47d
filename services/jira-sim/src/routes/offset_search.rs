//! Data Center's search, `GET|POST /rest/api/2/search`: pages by `startAt` with a `total`
//! (the enhanced `/search/jql` is Cloud's only). Navigable fields by default, and the JQL need
//! not be bounded.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::issue::bean_options;
use super::{Params, json, ok};
use crate::error::ApiError;
use crate::jql;
use crate::site::Site;
use crate::state::render::{self, BeanOptions};
use crate::state::selection::{FieldSelection, PropSelection};

/// Data Center's default and largest page.
const DEFAULT_MAX: usize = 50;
const MAX: usize = 1000;

struct OffsetRequest {
    jql: String,
    start: usize,
    max: usize,
    fields: FieldSelection,
    opts: BeanOptions,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    jql: Option<String>,
    #[serde(default)]
    start_at: Option<usize>,
    #[serde(default)]
    max_results: Option<usize>,
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default)]
    expand: Vec<String>,
    #[serde(default)]
    properties: Vec<String>,
}

fn navigable() -> FieldSelection {
    FieldSelection::parse(["*navigable"], FieldSelection::default())
}

pub(super) async fn offset_get(
    site: web::Data<Site>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of(&req);
    let request = OffsetRequest {
        jql: params.first("jql").unwrap_or_default().to_owned(),
        start: params.number("startAt")?.unwrap_or(0),
        max: params.number("maxResults")?.unwrap_or(DEFAULT_MAX),
        fields: FieldSelection::parse(params.all("fields"), navigable()),
        opts: bean_options(&params),
    };
    search(&site, request)
}

pub(super) async fn offset_post(
    site: web::Data<Site>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: Body = serde_json::from_value(json(&body)?)
        .map_err(|e| ApiError::bad_request(format!("The search request is invalid: {e}")))?;
    let has = |name: &str| body.expand.iter().any(|e| e == name);
    let request = OffsetRequest {
        jql: body.jql.clone().unwrap_or_default(),
        start: body.start_at.unwrap_or(0),
        max: body.max_results.unwrap_or(DEFAULT_MAX),
        fields: FieldSelection::parse(body.fields.iter().map(String::as_str), navigable()),
        opts: BeanOptions {
            properties: PropSelection::parse(body.properties.iter().map(String::as_str)),
            changelog: has("changelog"),
            names: has("names"),
        },
    };
    search(&site, request)
}

fn search(site: &Site, r: OffsetRequest) -> Result<HttpResponse, ApiError> {
    let query = jql::parse(&r.jql).map_err(|e| ApiError::bad_request(e.0))?;
    let max = r.max.clamp(1, MAX);
    site.read(|st, cat| {
        let resolved =
            jql::resolve(query, &r.jql, cat, &st.store).map_err(|e| ApiError::bad_request(e.0))?;
        let (ids, total) = resolved.offset(&st.store, st.clock.now_ms(), r.start, max);
        let issues: Vec<Value> = (ids.iter())
            .filter_map(|id| st.store.get(*id))
            .map(|issue| render::bean(cat, issue, &r.fields, &r.opts))
            .collect();
        Ok(ok(&json!({
            "expand": "schema,names",
            "startAt": r.start,
            "maxResults": max,
            "total": total,
            "issues": issues,
        })))
    })
}

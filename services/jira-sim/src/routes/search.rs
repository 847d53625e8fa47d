//! Enhanced search, `GET|POST /search/jql` (cursor pages, no `total`), and the removed legacy
//! `/search`, which answers 410 as Jira Cloud now does.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::issue::bean_options;
use super::{Params, json, ok};
use crate::error::ApiError;
use crate::jql::{self, Cursor};
use crate::site::Site;
use crate::state::render::{self, BeanOptions};
use crate::state::selection::{FieldSelection, PropSelection};

const UNBOUNDED: &str =
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.";

struct SearchRequest {
    jql: String,
    token: Option<String>,
    max: Option<usize>,
    fields: FieldSelection,
    opts: BeanOptions,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    jql: Option<String>,
    #[serde(default)]
    next_page_token: Option<String>,
    #[serde(default)]
    max_results: Option<i64>,
    #[serde(default)]
    fields: Vec<String>,
    #[serde(default)]
    expand: Option<String>,
    #[serde(default)]
    properties: Vec<String>,
}

pub(super) async fn get(site: web::Data<Site>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = Params::of(&req);
    let request = SearchRequest {
        jql: params.first("jql").unwrap_or_default().to_owned(),
        token: params
            .first("nextPageToken")
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
        max: params.number("maxResults")?,
        fields: FieldSelection::parse(params.all("fields"), FieldSelection::default()),
        opts: bean_options(&params),
    };
    search(&site, request)
}

pub(super) async fn post(
    site: web::Data<Site>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: Body = serde_json::from_value(json(&body)?)
        .map_err(|e| ApiError::bad_request(format!("The search request is invalid: {e}")))?;
    let expand: Vec<&str> = body
        .expand
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .collect();
    let request = SearchRequest {
        jql: body.jql.unwrap_or_default(),
        token: body.next_page_token.filter(|t| !t.is_empty()),
        max: body.max_results.map(|m| usize::try_from(m).unwrap_or(0)),
        fields: FieldSelection::parse(
            body.fields.iter().map(String::as_str),
            FieldSelection::default(),
        ),
        opts: BeanOptions {
            properties: PropSelection::parse(body.properties.iter().map(String::as_str)),
            changelog: expand.contains(&"changelog"),
            names: expand.contains(&"names"),
        },
    };
    search(&site, request)
}

fn search(site: &Site, r: SearchRequest) -> Result<HttpResponse, ApiError> {
    if r.jql.trim().is_empty() {
        return Err(ApiError::bad_request(UNBOUNDED));
    }
    let query = jql::parse(&r.jql).map_err(|e| ApiError::bad_request(e.0))?;
    let slim = r.fields.only(&["id", "key"]) && r.opts.properties.is_empty() && !r.opts.changelog;
    let bare = slim && r.fields.only(&["id"]);
    // Jira serves the most per page when only ids (or keys) are asked for.
    let cap = if slim { 5000 } else { 100 };
    let max = r.max.unwrap_or(50).clamp(1, cap);
    let cursor = r
        .token
        .as_deref()
        .map(Cursor::decode)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.0))?;
    site.read(|st, cat| {
        let resolved =
            jql::resolve(query, &r.jql, cat, &st.store).map_err(|e| ApiError::bad_request(e.0))?;
        if !resolved.is_bounded() {
            return Err(ApiError::bad_request(UNBOUNDED));
        }
        let page = resolved
            .page(&st.store, st.clock.now_ms(), cursor.as_ref(), max)
            .map_err(|e| ApiError::bad_request(e.0))?;
        let issues: Vec<Value> = page
            .ids
            .iter()
            .filter_map(|id| st.store.get(*id))
            .map(|issue| {
                if bare {
                    json!({"id": issue.id.to_string()})
                } else {
                    render::bean(cat, issue, &r.fields, &r.opts)
                }
            })
            .collect();
        let mut body = json!({"issues": issues, "isLast": page.next.is_none()});
        if let Some(next) = page.next {
            body["nextPageToken"] = json!(next.encode());
        }
        Ok(ok(&body))
    })
}

pub(super) async fn legacy() -> Result<HttpResponse, ApiError> {
    Err(ApiError::message(
        StatusCode::GONE,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. \
         A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
    ))
}

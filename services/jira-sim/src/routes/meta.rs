//! `GET /myself`, `GET /field` and `GET /serverInfo`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{actor, ok};
use crate::clock::jira_time;
use crate::error::ApiError;
use crate::site::Site;
use crate::state::field_defs::{SYSTEM_FIELDS, custom_details, system_details};
use crate::state::render;

pub(super) async fn myself(
    site: web::Data<Site>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let account = actor(&req)?;
    Ok(ok(&render::myself(&site.cat, &account)))
}

pub(super) async fn fields(site: web::Data<Site>) -> HttpResponse {
    let list: Vec<Value> = SYSTEM_FIELDS
        .iter()
        .map(system_details)
        .chain(site.cat.custom_fields.iter().map(custom_details))
        .collect();
    ok(&Value::Array(list))
}

pub(super) async fn server_info(site: web::Data<Site>) -> HttpResponse {
    let now = site.lock().clock.now_ms();
    // Data Center reports its release and "Server" (Jira Server and Data Center alike).
    let (version, numbers, deployment) = if site.cat.data_center {
        ("9.12.0", [9, 12, 0], "Server")
    } else {
        ("1001.0.0-SNAPSHOT", [1001, 0, 0], "Cloud")
    };
    ok(&json!({
        "baseUrl": site.cat.base_url,
        "displayUrl": site.cat.base_url,
        "version": version,
        "versionNumbers": numbers,
        "deploymentType": deployment,
        "buildNumber": 100_300,
        "buildDate": "2026-11-01T00:00:00.000+0000",
        "serverTime": jira_time(now),
        "scmInfo": "jira-sync-jira-sim",
        "serverTitle": format!("Jira ({})", site.name),
    }))
}

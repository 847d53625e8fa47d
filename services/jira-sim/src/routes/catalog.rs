//! A site's vocabulary: `GET /project/{projectIdOrKey}`, `GET /priority` and `GET /status`,
//! with the shapes of Jira Cloud (what a configuration check reads).

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::ok;
use crate::error::ApiError;
use crate::site::Site;
use crate::state::catalog::Catalog;
use crate::state::render::{self, Flavor};

/// `GET /project/{projectIdOrKey}`: the project, or Jira's 404.
pub(super) async fn project(
    site: web::Data<Site>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let wanted = path.into_inner();
    let cat = &site.cat;
    let idx = cat
        .project_by_key(&wanted)
        .or_else(|| (0..cat.projects.len()).find(|i| Catalog::project_id(*i) == wanted))
        .ok_or_else(|| {
            ApiError::not_found(format!("No project could be found with key '{wanted}'."))
        })?;
    let id = Catalog::project_id(idx);
    let api = format!("{}/rest/api/3", cat.base_url);
    let issue_types: Vec<Value> = cat
        .issue_types
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let type_id = Catalog::issue_type_id(i);
            json!({
                "self": format!("{api}/issuetype/{type_id}"),
                "id": type_id,
                "name": name,
                "description": "",
                "iconUrl": format!("{}/images/icons/issuetypes/task.svg", cat.base_url),
                "subtask": false,
                "hierarchyLevel": 0,
            })
        })
        .collect();
    Ok(ok(&json!({
        "self": format!("{api}/project/{id}"),
        "id": id,
        "key": cat.projects[idx],
        "name": cat.projects[idx],
        "description": "",
        "projectTypeKey": "software",
        "simplified": false,
        "isPrivate": false,
        "archived": false,
        "deleted": false,
        "issueTypes": issue_types,
    })))
}

/// `GET /priority`: every priority, highest first.
pub(super) async fn priorities(site: web::Data<Site>) -> HttpResponse {
    let cat = &site.cat;
    let list: Vec<Value> = cat
        .priorities
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let id = Catalog::priority_id(i);
            json!({
                "self": format!("{}/rest/api/3/priority/{id}", cat.base_url),
                "id": id,
                "name": name,
                "description": "",
                "statusColor": "#cccccc",
                "iconUrl": format!("{}/images/icons/priorities/{}.svg", cat.base_url, i + 1),
                "isDefault": cat.default_priority == Some(i),
            })
        })
        .collect();
    ok(&Value::Array(list))
}

/// `GET /status`: every status of the workflow.
pub(super) async fn statuses(site: web::Data<Site>) -> HttpResponse {
    let cat = &site.cat;
    let list: Vec<Value> = (0..cat.workflow.statuses.len())
        .map(|i| render::status(cat, i, Flavor::Rest))
        .collect();
    ok(&Value::Array(list))
}

//! `GET|POST /issue/{id}/transitions`, driven by the site's workflow.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::{Params, actor, issue_id, json, ok};
use crate::error::ApiError;
use crate::site::Site;
use crate::state::catalog::Catalog;
use crate::state::field_defs::display_name;
use crate::state::issues;
use crate::state::render::{self, Flavor};
use crate::workflow::TransitionDef;

fn transition(cat: &Catalog, t: &TransitionDef, with_fields: bool) -> Value {
    let to = cat.workflow.status_index(&t.to).unwrap_or(0);
    let mut v = json!({
        "id": t.id,
        "name": t.name,
        "to": render::status(cat, to, Flavor::Rest),
        "hasScreen": !t.required_fields.is_empty(),
        "isGlobal": t.from.is_empty(),
        "isInitial": false,
        "isAvailable": true,
        "isConditional": false,
        "isLooped": false,
    });
    if with_fields {
        let fields: Map<String, Value> = t
            .required_fields
            .iter()
            .map(|f| {
                let meta = json!({
                    "required": true,
                    "schema": {"type": f, "system": f},
                    "name": display_name(f, &cat.custom_fields),
                    "key": f,
                    "operations": ["set"],
                    "hasDefaultValue": false,
                });
                (f.clone(), meta)
            })
            .collect();
        v["fields"] = Value::Object(fields);
    }
    v
}

pub(super) async fn list(
    site: web::Data<Site>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of(&req);
    let with_fields = params
        .all("expand")
        .iter()
        .any(|e| e.split(',').any(|x| x.trim() == "transitions.fields"));
    let only = params.first("transitionId").map(str::to_owned);
    site.read(|st, cat| {
        let id = st.store.find(&path).ok_or_else(ApiError::issue_not_found)?;
        let issue = st.store.get(id).ok_or_else(ApiError::issue_not_found)?;
        let list: Vec<Value> = cat
            .workflow
            .available_from(issue.status)
            .filter(|t| only.as_ref().is_none_or(|o| *o == t.id))
            .map(|t| transition(cat, t, with_fields))
            .collect();
        let mut body = json!({"transitions": list});
        if with_fields {
            body["expand"] = json!("transitions");
        }
        Ok(ok(&body))
    })
}

pub(super) async fn perform(
    site: web::Data<Site>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let account = actor(&req)?;
    let id = issue_id(&site, &path)?;
    let body = json(&body)?;
    site.write(&account, Some(id), |store, ctx| {
        issues::transition(store, ctx, id, &body).map(|e| ((), e))
    })?;
    Ok(HttpResponse::NoContent().finish())
}

//! The simulated Jira Cloud REST v3 API (and Data Center's REST v2, through
//! [`crate::dialect`]): one
//! file per resource, plus the helpers they share (query parameters that may repeat, JSON
//! bodies with Jira's 400 for malformed input, the caller from the guard).

mod catalog;
mod comments;
mod issue;
mod meta;
mod offset_search;
mod properties;
mod search;
mod transitions;
mod users;

use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::error::ApiError;
use crate::guard::Actor;
use crate::site::Site;

/// Registers every REST route: Cloud's `/rest/api/3`, or on a Data Center site `/rest/api/2`
/// behind the [`crate::dialect`] translation (the same handlers, with Data Center's own user look-ups
/// and offset search).
pub(crate) fn configure(cfg: &mut web::ServiceConfig, data_center: bool) {
    use web::{get, post, resource};
    if data_center {
        let scope = web::scope("/rest/api/2")
            .route("/user", get().to(users::get_by_name))
            .route("/user/search", get().to(users::search_by_name))
            .service(
                resource("/search")
                    .route(get().to(offset_search::offset_get))
                    .route(post().to(offset_search::offset_post)),
            );
        cfg.service(common(scope).wrap(actix_web::middleware::from_fn(crate::dialect::translate)));
    } else {
        let scope = web::scope("/rest/api/3")
            .route("/user", get().to(users::get))
            .route("/user/search", get().to(users::search))
            .service(
                resource("/search/jql")
                    .route(get().to(search::get))
                    .route(post().to(search::post)),
            )
            .route("/search", web::to(search::legacy));
        cfg.service(common(scope));
    }
}

/// The routes both APIs share.
fn common<T>(scope: actix_web::Scope<T>) -> actix_web::Scope<T>
where
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Error = actix_web::Error,
            InitError = (),
        >,
{
    use web::{delete, get, post, put, resource};
    scope
        .route("/myself", get().to(meta::myself))
        .route("/field", get().to(meta::fields))
        .route("/serverInfo", get().to(meta::server_info))
        .route("/project/{projectIdOrKey}", get().to(catalog::project))
        .route("/priority", get().to(catalog::priorities))
        .route("/status", get().to(catalog::statuses))
        .route("/issue", post().to(issue::create))
        .service(
            resource("/issue/{id}")
                .route(get().to(issue::get))
                .route(put().to(issue::edit))
                .route(delete().to(issue::delete)),
        )
        .route("/issue/{id}/changelog", get().to(issue::changelog))
        .service(
            resource("/issue/{id}/transitions")
                .route(get().to(transitions::list))
                .route(post().to(transitions::perform)),
        )
        .service(
            resource("/issue/{id}/comment")
                .route(get().to(comments::list))
                .route(post().to(comments::add)),
        )
        .service(
            resource("/issue/{id}/comment/{commentId}")
                .route(get().to(comments::get))
                .route(put().to(comments::update))
                .route(delete().to(comments::delete)),
        )
        .route("/issue/{id}/properties", get().to(properties::keys))
        .service(
            resource("/issue/{id}/properties/{key}")
                .route(get().to(properties::get))
                .route(put().to(properties::set))
                .route(delete().to(properties::delete)),
        )
        .default_service(web::to(unknown))
}

/// JSON 404 for paths the simulator does not serve.
pub(crate) async fn unknown() -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::message(
        StatusCode::NOT_FOUND,
        "The requested resource is not simulated.",
    ))
}

/// Query parameters in order, repeats kept (`fields=a&fields=b`).
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub fn of(req: &HttpRequest) -> Self {
        Self(
            url::form_urlencoded::parse(req.query_string().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn first(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A non-negative integer parameter, 400 when malformed.
    pub fn number(&self, name: &str) -> Result<Option<usize>, ApiError> {
        self.first(name)
            .map(|v| {
                v.trim().parse::<usize>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "The '{name}' parameter must be a non-negative integer."
                    ))
                })
            })
            .transpose()
    }
}

/// The caller set by the guard.
pub(crate) fn actor(req: &HttpRequest) -> Result<String, ApiError> {
    req.extensions()
        .get::<Actor>()
        .map(|a| a.0.clone())
        .ok_or_else(ApiError::unauthorized)
}

/// A JSON body, with Jira's error for malformed JSON.
pub(crate) fn json(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "No content to map due to end-of-input",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Unexpected character in the JSON body: {e}")))
}

/// The id of the issue named in the path, or Jira's 404.
pub(crate) fn issue_id(site: &Site, raw: &str) -> Result<u64, ApiError> {
    site.lock()
        .store
        .find(raw)
        .ok_or_else(ApiError::issue_not_found)
}

/// A JSON 200.
pub(crate) fn ok(v: &Value) -> HttpResponse {
    HttpResponse::Ok().json(v)
}

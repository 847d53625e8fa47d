//! `GET /user/search?query=` and `GET /user?accountId=`: users by display-name or e-mail
//! prefix (active users only, as Jira), and one user by account id. Data Center's are
//! `GET /user/search?username=` (which also matches user names) and `GET /user?username=`
//! (or `?key=`).

use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

use super::{Params, ok};
use crate::config::SimUser;
use crate::error::ApiError;
use crate::site::Site;
use crate::state::render::{self, Flavor};

/// Jira's default page size of user searches.
const DEFAULT_MAX: usize = 50;

pub(super) async fn search(
    site: web::Data<Site>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of(&req);
    let query = params
        .first("query")
        .or_else(|| params.first("accountId"))
        .map(str::to_lowercase)
        .ok_or_else(|| ApiError::bad_request("One of 'accountId' or 'query' must be specified."))?;
    let start = params.number("startAt")?.unwrap_or(0);
    let max = params
        .number("maxResults")?
        .unwrap_or(DEFAULT_MAX)
        .clamp(1, 1000);
    let cat = &site.cat;
    let found: Vec<Value> = cat
        .users
        .iter()
        .filter(|u| matches(u, &query) || u.account_id.to_lowercase() == query)
        .skip(start)
        .take(max)
        .map(|u| render::user(cat, &u.account_id, Flavor::Rest))
        .collect();
    Ok(ok(&Value::Array(found)))
}

pub(super) async fn get(site: web::Data<Site>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let params = Params::of(&req);
    let account = params
        .first("accountId")
        .ok_or_else(|| ApiError::bad_request("The 'accountId' query parameter is required."))?;
    let user = site
        .cat
        .user(account)
        .ok_or_else(|| ApiError::not_found(format!("Specified user does not exist: {account}")))?;
    Ok(ok(&render::user(&site.cat, &user.account_id, Flavor::Rest)))
}

/// Whether `u` matches a lower-case search by display-name word or e-mail prefix. E-mail
/// matches only where Jira would show it.
fn matches(u: &SimUser, query: &str) -> bool {
    let by_email = u.email_visible && u.email.to_lowercase().starts_with(query);
    let by_name = (u.display_name.to_lowercase().split_whitespace())
        .chain(std::iter::once(u.display_name.to_lowercase().as_str()))
        .any(|w| w.starts_with(query));
    by_email || by_name
}

/// Data Center: `GET /user/search?username=`: active users whose user name, display name or
/// e-mail starts with it.
pub(super) async fn search_by_name(
    site: web::Data<Site>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of(&req);
    let query = params
        .first("username")
        .map(str::to_lowercase)
        .ok_or_else(|| ApiError::bad_request("The username query parameter was not provided"))?;
    let start = params.number("startAt")?.unwrap_or(0);
    let max = params
        .number("maxResults")?
        .unwrap_or(DEFAULT_MAX)
        .clamp(1, 1000);
    let cat = &site.cat;
    let found: Vec<Value> = (cat.users.iter())
        .filter(|u| matches(u, &query) || u.account_id.to_lowercase().starts_with(&query))
        .skip(start)
        .take(max)
        .map(|u| render::user(cat, &u.account_id, Flavor::Rest))
        .collect();
    Ok(ok(&Value::Array(found)))
}

/// Data Center: `GET /user?username=` or `?key=`: one user (404 when unknown).
pub(super) async fn get_by_name(
    site: web::Data<Site>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = Params::of(&req);
    let cat = &site.cat;
    let user = match (params.first("username"), params.first("key")) {
        (Some(name), _) => cat.user(name),
        (None, Some(key)) => cat.user_by_key(key),
        (None, None) => {
            return Err(ApiError::bad_request(
                "Either the 'username' or the 'key' query parameter is required.",
            ));
        }
    };
    let user =
        user.ok_or_else(|| ApiError::not_found("The user named in the request does not exist."))?;
    Ok(ok(&render::user(cat, &user.account_id, Flavor::Rest)))
}

//! The route table of the admin API: one list ([`ROUTES`]) that both registers the routes and
//! answers "what is served" ([`served_routes`]), so that the OpenAPI document can be checked
//! against what the server really routes.
//!
//! Layout: the OpenAPI document is public; everything else under `/api/v1` sits in a scope whose
//! middleware checks the API key before routing, so that an unauthenticated caller learns
//! nothing (not even which paths exist). Each path is one resource: a method it does not serve
//! gets 405 with `Allow`.

mod conflicts;
mod dead_letters;
mod health;
mod links;
mod sync;

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{HttpResponse, Route, web};

use crate::API_PREFIX;
use crate::auth::require_key;
use crate::error::{ApiError, json_error, path_error, query_error};
use crate::startup::AppState;

/// Largest JSON body accepted.
const MAX_JSON_BYTES: usize = 64 * 1024;

/// Where a route is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Under `/api/v1`, behind the API key.
    Api,
    /// Under `/api/v1`, public.
    PublicApi,
    /// At the root of the standalone server only (liveness and readiness probes).
    Probe,
}

struct RouteDef {
    method: Method,
    /// The full path, with `{name}` placeholders (the same syntax in actix and OpenAPI).
    path: &'static str,
    place: Place,
    route: fn() -> Route,
}

/// Every route, in registration order.
const ROUTES: &[RouteDef] = &[
    RouteDef {
        method: Method::GET,
        path: "/api/v1/openapi.json",
        place: Place::PublicApi,
        route: || web::route().to(openapi),
    },
    RouteDef {
        method: Method::POST,
        path: "/api/v1/sync",
        place: Place::Api,
        route: || web::route().to(sync::request_sync),
    },
    RouteDef {
        method: Method::GET,
        path: "/api/v1/links",
        place: Place::Api,
        route: || web::route().to(links::list),
    },
    RouteDef {
        method: Method::GET,
        path: "/api/v1/links/{connection}/{issue}",
        place: Place::Api,
        route: || web::route().to(links::detail),
    },
    RouteDef {
        method: Method::GET,
        path: "/api/v1/dead-letters",
        place: Place::Api,
        route: || web::route().to(dead_letters::list),
    },
    RouteDef {
        method: Method::POST,
        path: "/api/v1/dead-letters/replay",
        place: Place::Api,
        route: || web::route().to(dead_letters::replay),
    },
    RouteDef {
        method: Method::GET,
        path: "/api/v1/conflicts",
        place: Place::Api,
        route: || web::route().to(conflicts::list),
    },
    RouteDef {
        method: Method::POST,
        path: "/api/v1/conflicts/{id}/resolve",
        place: Place::Api,
        route: || web::route().to(conflicts::resolve),
    },
    RouteDef {
        method: Method::GET,
        path: "/healthz",
        place: Place::Probe,
        route: || web::route().to(health::healthz),
    },
    RouteDef {
        method: Method::GET,
        path: "/readyz",
        place: Place::Probe,
        route: || web::route().to(health::readyz),
    },
];

/// A route the standalone server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// `GET`, `POST`.
    pub method: &'static str,
    /// The path template, `{name}` for a parameter.
    pub path: &'static str,
    /// Whether it wants `Authorization: Bearer <key>`.
    pub authenticated: bool,
    /// Whether [`configure`](crate::configure) mounts it (the probes are the standalone
    /// server's own).
    pub mounted_by_configure: bool,
}

/// Every route of the standalone server.
pub fn served_routes() -> Vec<RouteInfo> {
    ROUTES
        .iter()
        .map(|r| RouteInfo {
            method: r.method.as_str(),
            path: r.path,
            authenticated: r.place == Place::Api,
            mounted_by_configure: r.place != Place::Probe,
        })
        .collect()
}

/// Registers the routes of `place`, one resource per path, on `cfg` with `strip` removed from
/// the front of each path.
fn register(cfg: &mut web::ServiceConfig, place: Place, strip: &str) {
    let mut paths: Vec<&'static str> = Vec::new();
    for def in ROUTES.iter().filter(|r| r.place == place) {
        if !paths.contains(&def.path) {
            paths.push(def.path);
        }
    }
    for path in paths {
        let defs: Vec<&RouteDef> = ROUTES
            .iter()
            .filter(|r| r.place == place && r.path == path)
            .collect();
        let allow = defs
            .iter()
            .map(|r| r.method.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut resource = web::resource(path.strip_prefix(strip).unwrap_or(path));
        for def in defs {
            resource = resource.route((def.route)().method(def.method.clone()));
        }
        cfg.service(resource.default_service(web::to(move || {
            let allow = allow.clone();
            async move { Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow }) }
        })));
    }
}

/// Mounts `/api/v1`: the public OpenAPI document, then the authenticated scope.
pub(crate) fn configure_api(cfg: &mut web::ServiceConfig, state: web::Data<AppState>) {
    register(cfg, Place::PublicApi, "");
    cfg.service(
        web::scope(API_PREFIX)
            .app_data(state)
            .app_data(
                web::JsonConfig::default()
                    .limit(MAX_JSON_BYTES)
                    .error_handler(|e, _| json_error(e)),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, _| query_error(e)))
            .app_data(web::PathConfig::default().error_handler(|e, _| path_error(e)))
            .wrap(from_fn(require_key))
            .configure(|scope| register(scope, Place::Api, API_PREFIX))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::NotFound)
            })),
    );
}

/// Mounts `/healthz` and `/readyz` (the standalone server's probes).
pub(crate) fn configure_probes(cfg: &mut web::ServiceConfig) {
    register(cfg, Place::Probe, "");
}

/// `GET /api/v1/openapi.json`: the API's description.
async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(crate::OPENAPI_JSON)
}

/// `limit` of a listing: `default` when absent, otherwise between 1 and `max`.
fn limit(value: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match value {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {max}, not {n}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_and_method_is_listed_once_and_lives_under_its_place() {
        let routes = served_routes();
        for (i, a) in routes.iter().enumerate() {
            for b in &routes[i + 1..] {
                assert!(
                    (a.method, a.path) != (b.method, b.path),
                    "{} {} twice",
                    a.method,
                    a.path
                );
            }
            assert_eq!(
                a.path.starts_with("/api/v1/"),
                a.mounted_by_configure,
                "{}",
                a.path
            );
        }
        let public: Vec<_> = routes
            .iter()
            .filter(|r| r.mounted_by_configure && !r.authenticated)
            .map(|r| r.path)
            .collect();
        assert_eq!(public, ["/api/v1/openapi.json"]);
    }

    #[test]
    fn the_served_openapi_document_is_json() {
        let doc: serde_json::Value =
            serde_json::from_str(crate::OPENAPI_JSON).expect("openapi.json parses");
        assert_eq!(doc["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    }

    #[test]
    fn a_limit_outside_its_range_is_refused_with_the_range() {
        assert_eq!(limit(None, 50, 500).ok(), Some(50));
        assert_eq!(limit(Some(500), 50, 500).ok(), Some(500));
        let refused = limit(Some(0), 50, 500).map_err(|e| e.to_string());
        assert_eq!(
            refused,
            Err("limit must be between 1 and 500, not 0".into())
        );
    }
}

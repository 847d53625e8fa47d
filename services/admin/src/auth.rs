//! API-key authentication of the admin API: `Authorization: Bearer <key>` against the keys of
//! `admin.api_keys`.
//!
//! Only SHA-256 digests of the configured keys are kept, and a presented key is compared by
//! digest in constant time against every configured one (no early exit, and equal lengths, so
//! neither the content nor the length of a key leaks through timing). A refusal is a 401 with a
//! `WWW-Authenticate: Bearer` challenge (RFC 6750); the key itself is never logged.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::startup::AppState;

/// The realm of the challenge.
const REALM: &str = "jira-sync-admin";

/// Why a request was not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("an API key is required: send `Authorization: Bearer <key>`")]
    Missing,
    #[error("the Authorization header must be `Bearer <key>`")]
    Malformed,
    #[error("the API key is not valid")]
    WrongKey,
}

impl AuthFailure {
    /// The `WWW-Authenticate` value: a bare challenge when no credentials came, with
    /// `error="invalid_token"` when wrong ones did (RFC 6750, section 3).
    pub fn challenge(&self) -> String {
        match self {
            AuthFailure::Missing => format!("Bearer realm=\"{REALM}\""),
            AuthFailure::Malformed => {
                format!("Bearer realm=\"{REALM}\", error=\"invalid_request\"")
            }
            AuthFailure::WrongKey => format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""),
        }
    }
}

/// The accepted keys, as digests.
#[derive(Clone)]
pub struct ApiKeys {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for ApiKeys {
    /// The number of keys only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeys")
            .field("count", &self.digests.len())
            .finish()
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl ApiKeys {
    /// Digests of `keys`.
    pub fn new(keys: &[SecretString]) -> Self {
        Self {
            digests: keys
                .iter()
                .map(|k| digest(k.expose_secret().as_bytes()))
                .collect(),
        }
    }

    /// Whether no key is configured (every request would be refused).
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Checks an `Authorization` header; returns the position of the matching key in
    /// `admin.api_keys` (for logs: which key was used, never what it is).
    pub fn check(&self, header: Option<&HeaderValue>) -> Result<usize, AuthFailure> {
        let header = header.ok_or(AuthFailure::Missing)?;
        let text = header.to_str().map_err(|_| AuthFailure::Malformed)?;
        let (scheme, token) = text.trim().split_once(' ').ok_or(AuthFailure::Malformed)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(AuthFailure::Malformed);
        }
        let presented = digest(token.as_bytes());
        // Every configured key is compared, matching or not: no early exit.
        let mut matched = None;
        for (index, configured) in self.digests.iter().enumerate() {
            let equal: bool = configured.ct_eq(&presented).into();
            if equal && matched.is_none() {
                matched = Some(index);
            }
        }
        matched.ok_or(AuthFailure::WrongKey)
    }
}

/// Middleware of the authenticated scope: refuses the request with 401 before routing,
/// extraction or any handler runs.
pub(crate) async fn require_key(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Err(ApiError::Internal("the admin state is not mounted".into()).into());
    };
    match state.keys.check(req.headers().get(AUTHORIZATION)) {
        Ok(key) => {
            tracing::debug!(key, path = req.path(), "admin request authenticated");
            next.call(req).await
        }
        Err(failure) => {
            tracing::warn!(reason = %failure, path = req.path(), "admin request refused");
            Err(ApiError::Unauthorized(failure).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> ApiKeys {
        ApiKeys::new(&[
            SecretString::from("first-key-0123456789"),
            SecretString::from("second-key-0123456789"),
        ])
    }

    fn header(text: &str) -> HeaderValue {
        HeaderValue::from_str(text).expect("a valid header")
    }

    #[test]
    fn a_configured_key_is_accepted_and_named_by_its_position() {
        let keys = keys();
        assert_eq!(
            keys.check(Some(&header("Bearer first-key-0123456789"))),
            Ok(0)
        );
        assert_eq!(
            keys.check(Some(&header("bearer   second-key-0123456789 "))),
            Ok(1)
        );
    }

    #[test]
    fn missing_malformed_and_wrong_keys_are_refused_for_their_reason() {
        let keys = keys();
        assert_eq!(keys.check(None), Err(AuthFailure::Missing));
        for bad in [
            "first-key-0123456789",
            "Basic Zm9vOmJhcg==",
            "Bearer ",
            "Bearer",
        ] {
            assert_eq!(
                keys.check(Some(&header(bad))),
                Err(AuthFailure::Malformed),
                "{bad}"
            );
        }
        for wrong in [
            "Bearer first-key-012345678",
            "Bearer first-key-0123456789x",
            "Bearer FIRST-KEY-0123456789",
        ] {
            assert_eq!(
                keys.check(Some(&header(wrong))),
                Err(AuthFailure::WrongKey),
                "{wrong}"
            );
        }
    }

    #[test]
    fn no_configured_key_refuses_everything_and_debug_shows_no_digest() {
        let none = ApiKeys::new(&[]);
        assert!(none.is_empty());
        assert_eq!(
            none.check(Some(&header("Bearer anything-at-all-0123"))),
            Err(AuthFailure::WrongKey)
        );
        assert_eq!(format!("{:?}", keys()), "ApiKeys { count: 2 }");
    }
}

//! Webhook authentication: turns raw bytes plus headers into a [`VerifiedWebhook`], the only
//! input the rest of the ingress accepts.
//!
//! Verification runs over the raw body before anything parses it, and every comparison of a
//! secret-derived value is constant-time. Errors say what was wrong with the request (missing
//! header, unsupported method, mismatch) and never contain the secret or the expected value.

use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use jira_sync_domain::EndpointId;
use jira_sync_settings::WebhookAuth;
use secrecy::ExposeSecret;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header Jira puts its HMAC in: `method=hex` (no `-256` suffix, unlike GitHub).
pub const SIGNATURE_HEADER: &str = "x-hub-signature";

/// The header PeopleForce puts its HMAC in: `sha256=hex` of the raw body.
pub const PEOPLEFORCE_SIGNATURE_HEADER: &str = "x-peopleforce-signature";

/// Who sends a webhook, which decides the header its HMAC signature travels in. Both senders
/// sign the same way (`sha256=<hex HMAC-SHA256 of the raw body>`), so one check serves both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// Jira: `X-Hub-Signature`.
    Jira,
    /// PeopleForce: `X-PeopleForce-Signature`.
    Peopleforce,
}

impl Sender {
    /// The header name (lower case) and how errors spell it.
    fn signature_header(self) -> (&'static str, &'static str) {
        match self {
            Sender::Jira => (SIGNATURE_HEADER, "X-Hub-Signature"),
            Sender::Peopleforce => (PEOPLEFORCE_SIGNATURE_HEADER, "X-PeopleForce-Signature"),
        }
    }
}

/// Why a webhook was not authenticated. The message is safe to return to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing `{0}` header")]
    MissingHeader(&'static str),
    #[error("`{0}` header is malformed: {1}")]
    Malformed(&'static str, &'static str),
    #[error("signature method `{0}` is not supported (only sha256)")]
    UnsupportedMethod(String),
    #[error("signature does not match the body")]
    SignatureMismatch,
    #[error("API key is not valid")]
    BadApiKey,
}

/// A webhook body whose origin was proven by [`verify`]. Its constructor is private to this
/// module, so holding one means verification succeeded.
#[derive(Debug, Clone)]
pub struct VerifiedWebhook {
    endpoint: EndpointId,
    body: Bytes,
}

impl VerifiedWebhook {
    /// The endpoint whose secret verified the body.
    pub fn endpoint(&self) -> &EndpointId {
        &self.endpoint
    }

    /// The raw, verified body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// Authenticates a Jira `body` for `endpoint` with the endpoint's configured `auth`.
pub fn verify(
    endpoint: &EndpointId,
    auth: &WebhookAuth,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<VerifiedWebhook, AuthError> {
    verify_from(Sender::Jira, endpoint, auth, headers, body)
}

/// Authenticates `body` sent by `sender` for `endpoint` with the endpoint's configured `auth`.
pub fn verify_from(
    sender: Sender,
    endpoint: &EndpointId,
    auth: &WebhookAuth,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<VerifiedWebhook, AuthError> {
    match auth {
        WebhookAuth::HubSignature { secret } => {
            let (name, display) = sender.signature_header();
            let header = header_str(headers, name, display)?;
            check_hub_signature(secret.expose_secret().as_bytes(), header, &body, display)?;
        }
        WebhookAuth::ApiKey { key } => {
            let header = header_str(headers, AUTHORIZATION.as_str(), "Authorization")?;
            check_bearer(key.expose_secret().as_bytes(), header)?;
        }
    }
    Ok(VerifiedWebhook {
        endpoint: endpoint.clone(),
        body,
    })
}

fn header_str<'h>(
    headers: &'h HeaderMap,
    name: &str,
    display: &'static str,
) -> Result<&'h str, AuthError> {
    headers
        .get(name)
        .ok_or(AuthError::MissingHeader(display))?
        .to_str()
        .map_err(|_| AuthError::Malformed(display, "not visible ASCII"))
}

/// Checks `method=hex` against the HMAC of `body`. The method is parsed rather than assumed,
/// as Atlassian reserves the right to add others.
fn check_hub_signature(
    secret: &[u8],
    header: &str,
    body: &[u8],
    name: &'static str,
) -> Result<(), AuthError> {
    let (method, hex_sig) = header
        .trim()
        .split_once('=')
        .ok_or(AuthError::Malformed(name, "expected `method=signature`"))?;
    if !method.eq_ignore_ascii_case("sha256") {
        return Err(AuthError::UnsupportedMethod(printable_prefix(method)));
    }
    let signature =
        hex::decode(hex_sig).map_err(|_| AuthError::Malformed(name, "signature is not hex"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .map_err(|_| AuthError::Malformed(name, "unusable key"))?;
    mac.update(body);
    // `verify_slice` compares in constant time (and fails on a length mismatch).
    mac.verify_slice(&signature)
        .map_err(|_| AuthError::SignatureMismatch)
}

/// Checks `Bearer <key>` in constant time. The length of the key may leak through timing; its
/// content does not.
fn check_bearer(key: &[u8], header: &str) -> Result<(), AuthError> {
    let (scheme, presented) = header.trim().split_once(' ').ok_or(AuthError::Malformed(
        "Authorization",
        "expected `Bearer <key>`",
    ))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Malformed(
            "Authorization",
            "expected the Bearer scheme",
        ));
    }
    if bool::from(presented.trim().as_bytes().ct_eq(key)) {
        Ok(())
    } else {
        Err(AuthError::BadApiKey)
    }
}

/// At most 16 printable ASCII characters of attacker-controlled text, for error messages.
fn printable_prefix(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};
    use secrecy::SecretString;

    const SECRET: &str = "It's a Secret to Everybody";
    const BODY: &[u8] = b"Hello World!";
    const VECTOR: &str = "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9";

    fn endpoint() -> EndpointId {
        EndpointId::parse("jira-a").expect("valid id")
    }

    fn hub() -> WebhookAuth {
        WebhookAuth::HubSignature {
            secret: SecretString::from(SECRET),
        }
    }

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).expect("valid header"),
        );
        map
    }

    fn check(
        auth: &WebhookAuth,
        headers: &HeaderMap,
        body: &'static [u8],
    ) -> Result<(), AuthError> {
        verify(&endpoint(), auth, headers, Bytes::from_static(body)).map(|v| {
            assert_eq!(v.body(), body);
            assert_eq!(v.endpoint(), &endpoint());
        })
    }

    #[test]
    fn the_official_test_vector_verifies() {
        assert_eq!(
            check(&hub(), &headers(SIGNATURE_HEADER, VECTOR), BODY),
            Ok(())
        );
    }

    #[test]
    fn a_peopleforce_signature_is_read_from_its_own_header() {
        let pf = |h: &HeaderMap| {
            verify_from(
                Sender::Peopleforce,
                &endpoint(),
                &hub(),
                h,
                Bytes::from_static(BODY),
            )
            .map(|v| v.body().to_vec())
        };
        assert_eq!(
            pf(&headers(PEOPLEFORCE_SIGNATURE_HEADER, VECTOR)),
            Ok(BODY.to_vec())
        );
        assert_eq!(
            pf(&headers(SIGNATURE_HEADER, VECTOR)),
            Err(AuthError::MissingHeader("X-PeopleForce-Signature"))
        );
        let other = VECTOR.replacen("a4", "b4", 1);
        assert_eq!(
            pf(&headers(PEOPLEFORCE_SIGNATURE_HEADER, &other)),
            Err(AuthError::SignatureMismatch)
        );
    }

    #[test]
    fn the_method_name_is_case_insensitive() {
        let upper = VECTOR.replacen("sha256", "SHA256", 1);
        assert_eq!(
            check(&hub(), &headers(SIGNATURE_HEADER, &upper), BODY),
            Ok(())
        );
    }

    #[test]
    fn a_signature_of_another_body_is_a_mismatch() {
        assert_eq!(
            check(&hub(), &headers(SIGNATURE_HEADER, VECTOR), b"Hello World?"),
            Err(AuthError::SignatureMismatch)
        );
    }

    #[test]
    fn a_signature_made_with_another_secret_is_a_mismatch() {
        let other = WebhookAuth::HubSignature {
            secret: SecretString::from("not the secret"),
        };
        assert_eq!(
            check(&other, &headers(SIGNATURE_HEADER, VECTOR), BODY),
            Err(AuthError::SignatureMismatch)
        );
    }

    #[test]
    fn a_truncated_signature_is_a_mismatch() {
        assert_eq!(
            check(&hub(), &headers(SIGNATURE_HEADER, &VECTOR[..41]), BODY),
            Err(AuthError::SignatureMismatch)
        );
    }

    #[test]
    fn a_missing_signature_header_is_reported() {
        assert_eq!(
            check(&hub(), &HeaderMap::new(), BODY),
            Err(AuthError::MissingHeader("X-Hub-Signature"))
        );
    }

    #[test]
    fn an_unknown_method_is_reported_by_name() {
        let err = check(&hub(), &headers(SIGNATURE_HEADER, "md5=abcd"), BODY);
        assert_eq!(err, Err(AuthError::UnsupportedMethod("md5".into())));
    }

    #[test]
    fn malformed_signatures_are_reported_without_echoing_the_value() {
        for value in ["a4771c39", "sha256=zz", "sha256"] {
            let err = check(&hub(), &headers(SIGNATURE_HEADER, value), BODY);
            assert!(
                matches!(err, Err(AuthError::Malformed("X-Hub-Signature", _))),
                "{value}: {err:?}"
            );
        }
    }

    #[test]
    fn the_api_key_is_accepted_only_as_a_matching_bearer_token() {
        let auth = WebhookAuth::ApiKey {
            key: SecretString::from("k-123"),
        };
        assert_eq!(
            check(&auth, &headers("authorization", "Bearer k-123"), BODY),
            Ok(())
        );
        assert_eq!(
            check(&auth, &headers("authorization", "bearer k-123"), BODY),
            Ok(())
        );
        assert_eq!(
            check(&auth, &headers("authorization", "Bearer k-124"), BODY),
            Err(AuthError::BadApiKey)
        );
        assert_eq!(
            check(&auth, &headers("authorization", "Bearer k-1234"), BODY),
            Err(AuthError::BadApiKey)
        );
        assert!(matches!(
            check(&auth, &headers("authorization", "Basic k-123"), BODY),
            Err(AuthError::Malformed("Authorization", _))
        ));
        assert_eq!(
            check(&auth, &HeaderMap::new(), BODY),
            Err(AuthError::MissingHeader("Authorization"))
        );
    }

    #[test]
    fn error_messages_never_contain_the_secret() {
        let err =
            check(&hub(), &headers(SIGNATURE_HEADER, "sha256=00"), BODY).expect_err("must fail");
        assert!(!err.to_string().contains(SECRET));
        let hostile = "x".repeat(100) + "\u{7f}";
        let err = check_hub_signature(
            SECRET.as_bytes(),
            &format!("{hostile}=00"),
            BODY,
            "X-Hub-Signature",
        )
        .expect_err("must fail");
        assert_eq!(err, AuthError::UnsupportedMethod("x".repeat(16)));
    }
}

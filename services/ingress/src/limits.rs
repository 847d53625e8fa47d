//! Limits on what a request may carry before any route sees it.
//!
//! actix-web itself refuses a header section of 128 KiB or more (431) and bounds how long a
//! client may take to send it (`ingress.client_request_timeout`, set in `startup`). Webhook
//! senders need a few hundred bytes of headers, so anything beyond [`MAX_HEADER_BYTES`] is
//! refused here with 431 and the usual error body, before routing, authentication or reading
//! the body.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::middleware::Next;

use crate::error::ApiError;

/// The most header bytes (names, values and separators) a request may carry.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The size of a header section as sent: `name: value\r\n` per header.
pub fn header_bytes(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

/// Middleware refusing requests whose headers exceed [`MAX_HEADER_BYTES`] with 431.
pub(crate) async fn limit_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let size = header_bytes(req.headers());
    if size > MAX_HEADER_BYTES {
        tracing::warn!(
            size,
            path = req.path(),
            "request refused: headers too large"
        );
        return Err(ApiError::HeadersTooLarge {
            limit: MAX_HEADER_BYTES,
        }
        .into());
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    #[test]
    fn the_size_counts_names_values_and_separators() {
        let mut headers = HeaderMap::new();
        assert_eq!(header_bytes(&headers), 0);
        headers.insert(
            HeaderName::from_static("x-hub-signature"),
            HeaderValue::from_static("sha256=00"),
        );
        assert_eq!(
            header_bytes(&headers),
            "x-hub-signature: sha256=00\r\n".len()
        );
    }
}

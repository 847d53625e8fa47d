//! The middleware in front of a Data Center site's `/rest/api/2` routes: the request body is
//! translated to Cloud's before the handler runs, and the JSON answer to Data Center's after
//! (except entity property answers, whose values are the caller's own JSON).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};

use super::request::{Body, to_cloud};
use super::to_dc;
use crate::site::Site;

/// Translates one request and its answer (see the module doc).
pub(crate) async fn translate(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(site) = req.app_data::<web::Data<Site>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let path = req.path().to_owned();
    let kind = Body::of(req.method().as_str(), &path);
    if kind != Body::Other {
        let body = req.extract::<web::Bytes>().await?;
        match to_cloud(&site.cat, kind, &body) {
            Ok(Some(cloud)) => {
                let bytes = serde_json::to_vec(&cloud).unwrap_or_default();
                req.set_payload(Payload::from(bytes));
            }
            Ok(None) => req.set_payload(Payload::from(body)),
            Err(refused) => return Ok(req.into_response(refused.error_response())),
        }
    }
    let served = next.call(req).await?;
    if path.contains("/properties") {
        return Ok(served.map_into_boxed_body());
    }
    let (req, res) = served.into_parts();
    let (head, body) = res.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("could not read the answer"))?;
    let body = match serde_json::from_slice(&bytes) {
        Ok(value) => serde_json::to_vec(&to_dc(&site.cat, &value)).unwrap_or_default(),
        Err(_) => bytes.to_vec(),
    };
    Ok(ServiceResponse::new(req, head.set_body(BoxBody::new(body))))
}

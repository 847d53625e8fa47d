//! The control API under `/_sim/` (no auth, JSON): seeding, editing tasks as a person would,
//! faults, the rate limit, counters, the request log and reset. [`crate::SimHandle`] offers the
//! same operations in-process.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::config::RateLimit;
use crate::error::SimError;
use crate::faults::FaultSpec;
use crate::model::{EmployeeEdit, EmployeeSeed, TaskEdit, TaskSeed};
use crate::state::{Bucket, Sim};

type Data = web::Data<Sim>;
type Answer = Result<HttpResponse, SimError>;

/// Registers the `/_sim/` routes.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    use web::{delete, get, patch, post, put, resource};
    cfg.service(
        web::scope("/_sim")
            .route("/info", get().to(info))
            .route("/tasks", get().to(tasks))
            .route("/tasks/bulk", post().to(seed_tasks))
            .service(
                resource("/tasks/{id}")
                    .route(get().to(task))
                    .route(patch().to(edit_task))
                    .route(delete().to(delete_task)),
            )
            .route("/employees/bulk", post().to(seed_employees))
            .route("/employees/{id}", patch().to(edit_employee))
            .service(
                resource("/faults")
                    .route(get().to(faults))
                    .route(post().to(add_fault))
                    .route(delete().to(clear_faults)),
            )
            .service(
                resource("/limits")
                    .route(get().to(limits))
                    .route(put().to(set_limits)),
            )
            .route("/stats", get().to(stats))
            .route("/stats/reset", post().to(reset_stats))
            .route("/requests", get().to(requests))
            .route("/reset", post().to(reset)),
    );
}

fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, SimError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    serde_json::from_slice(bytes)
        .map_err(|e| SimError::bad_request(format!("Invalid control request: {e}")))
}

fn task_id(raw: &str) -> Result<u64, SimError> {
    raw.parse().map_err(|_| SimError::not_found("Task"))
}

async fn info(sim: Data) -> HttpResponse {
    let st = sim.lock();
    HttpResponse::Ok().json(json!({
        "tasks": st.tasks.len(),
        "employees": st.employees.len(),
        "maxPerPage": sim.config.max_per_page,
        "rateLimit": sim.config.rate_limit,
    }))
}

async fn tasks(sim: Data) -> HttpResponse {
    let all: Vec<_> = sim.lock().tasks.values().cloned().collect();
    HttpResponse::Ok().json(all)
}

async fn task(sim: Data, path: web::Path<String>) -> Answer {
    let id = task_id(&path)?;
    let found = sim.lock().tasks.get(&id).cloned();
    found
        .map(|t| HttpResponse::Ok().json(t))
        .ok_or_else(|| SimError::not_found("Task"))
}

async fn seed_tasks(sim: Data, bytes: web::Bytes) -> Answer {
    let seed: TaskSeed = body(&bytes)?;
    let seeded = sim.lock().seed_tasks(&seed)?;
    Ok(HttpResponse::Created().json(seeded))
}

async fn edit_task(sim: Data, path: web::Path<String>, bytes: web::Bytes) -> Answer {
    let edit: TaskEdit = body(&bytes)?;
    let task = sim.lock().edit_task(task_id(&path)?, &edit)?;
    Ok(HttpResponse::Ok().json(task))
}

async fn delete_task(sim: Data, path: web::Path<String>) -> Answer {
    let task = sim.lock().delete_task(task_id(&path)?)?;
    Ok(HttpResponse::Ok().json(task))
}

async fn edit_employee(sim: Data, path: web::Path<String>, bytes: web::Bytes) -> Answer {
    let edit: EmployeeEdit = body(&bytes)?;
    let id = (path.parse()).map_err(|_| SimError::not_found("Employee"))?;
    let employee = sim.lock().edit_employee(id, &edit)?;
    Ok(HttpResponse::Ok().json(employee))
}

async fn seed_employees(sim: Data, bytes: web::Bytes) -> Answer {
    let seed: EmployeeSeed = body(&bytes)?;
    sim.lock().seed_employees(&seed);
    Ok(HttpResponse::Created().json(json!({ "created": seed.count })))
}

async fn faults(sim: Data) -> HttpResponse {
    HttpResponse::Ok().json(sim.lock().faults.list())
}

async fn add_fault(sim: Data, bytes: web::Bytes) -> Answer {
    let spec: FaultSpec = body(&bytes)?;
    Ok(HttpResponse::Created().json(sim.lock().faults.add(spec)))
}

async fn clear_faults(sim: Data) -> HttpResponse {
    sim.lock().faults.clear();
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
struct LimitsBody {
    #[serde(default)]
    rate_limit: Option<RateLimit>,
}

async fn limits(sim: Data) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "rate_limit": sim.lock().rate_limit }))
}

async fn set_limits(sim: Data, bytes: web::Bytes) -> Answer {
    let limits: LimitsBody = body(&bytes)?;
    if limits
        .rate_limit
        .is_some_and(|l| l.per_minute == 0 || l.burst == 0)
    {
        return Err(SimError::invalid(
            "rate_limit",
            "needs per_minute and burst >= 1",
        ));
    }
    let mut st = sim.lock();
    st.rate_limit = limits.rate_limit;
    st.limiter = Bucket::from_limit(limits.rate_limit);
    Ok(HttpResponse::Ok().json(json!({ "rate_limit": st.rate_limit })))
}

async fn stats(sim: Data) -> HttpResponse {
    HttpResponse::Ok().json(sim.lock().stats.counters.clone())
}

async fn reset_stats(sim: Data) -> HttpResponse {
    sim.lock().stats.reset();
    HttpResponse::NoContent().finish()
}

async fn requests(sim: Data, query: web::Query<HashMap<String, String>>) -> Answer {
    let limit = match query.get("limit") {
        Some(v) => v
            .parse()
            .map_err(|_| SimError::bad_request("limit must be a number"))?,
        None => 100,
    };
    Ok(HttpResponse::Ok().json(sim.lock().stats.recent(limit)))
}

async fn reset(sim: Data) -> HttpResponse {
    sim.reset();
    HttpResponse::NoContent().finish()
}

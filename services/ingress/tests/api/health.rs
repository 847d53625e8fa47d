//! Liveness, readiness and graceful shutdown.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::helpers::{Reply, SECRET, eventually, spawn_fake_app};

#[tokio::test]
async fn healthz_is_always_200() {
    let (app, fakes) = spawn_fake_app().await;
    fakes.publisher.failing.store(true, Ordering::SeqCst);
    fakes.database.0.store(false, Ordering::SeqCst);
    assert_eq!(app.get("/healthz").await.status().as_u16(), 200);
    app.stop().await;
}

#[tokio::test]
async fn readyz_is_200_only_when_broker_and_database_are_up_and_names_what_is_down() {
    let (app, fakes) = spawn_fake_app().await;
    assert_eq!(app.get("/readyz").await.status().as_u16(), 200);

    fakes.database.0.store(false, Ordering::SeqCst);
    let reply = Reply::read(app.get("/readyz").await).await;
    assert_eq!((reply.status, reply.code()), (503, "not_ready"));
    assert_eq!(reply.detail(), "not ready: database");
    assert!(!reply.detail().contains("fake database"), "{reply:?}");

    fakes.publisher.failing.store(true, Ordering::SeqCst);
    let reply = Reply::read(app.get("/readyz").await).await;
    assert_eq!(reply.detail(), "not ready: broker, database");

    fakes.database.0.store(true, Ordering::SeqCst);
    let reply = Reply::read(app.get("/readyz").await).await;
    assert_eq!(reply.detail(), "not ready: broker");
    app.stop().await;
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_webhook_finish_and_then_stops_accepting() {
    let (app, fakes) = spawn_fake_app().await;
    *fakes.publisher.delay.lock().expect("not poisoned") = Some(Duration::from_millis(800));
    let body = r#"{"webhookEvent":"jira:issue_updated","issue":{"id":"1","key":"TES-1"}}"#;
    let request = app
        .client
        .post(format!("{}/webhooks/jira/jira-a", app.address))
        .header(
            "X-Hub-Signature",
            crate::helpers::sign(SECRET, body.as_bytes()),
        )
        .body(body);
    let in_flight = tokio::spawn(request.send());
    // Wait until the request reached the publisher, then ask for shutdown.
    let publisher = fakes.publisher.clone();
    let started = eventually(Duration::from_secs(5), || {
        let publisher = publisher.clone();
        async move { (publisher.started.load(Ordering::SeqCst) > 0).then_some(()) }
    })
    .await;
    assert!(started.is_some());
    let address = app.address.clone();
    app.shutdown.cancel();
    let response = in_flight
        .await
        .expect("task does not panic")
        .expect("the in-flight request is answered");
    assert_eq!(response.status().as_u16(), 202);
    assert_eq!(fakes.publisher.take().len(), 1);
    let stopped = tokio::time::timeout(Duration::from_secs(10), app.server).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
    let after = reqwest::Client::new()
        .get(format!("{address}/healthz"))
        .send()
        .await;
    assert!(after.is_err(), "still accepting after shutdown: {after:?}");
}

//! Structured request logs: method, path, status, latency and the caller's key name —
//! never a token, never the query string (it is the caller's business), and never a
//! person id (the API has none to log).

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// The key name of the caller, put on the response by the bearer check for this log.
#[derive(Debug, Clone)]
pub struct CallerName(pub String);

/// Logs one line per request at `info` under the target `wirkung::access`.
pub async fn log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let caller = response
        .extensions()
        .get::<CallerName>()
        .map_or("-", |c| c.0.as_str());
    tracing::info!(
        target: "wirkung::access",
        %method,
        path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1e3,
        caller,
    );
    response
}

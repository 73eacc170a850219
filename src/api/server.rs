//! Running the API: the router with its layers, binding under the loopback rule, and
//! graceful shutdown on Ctrl-C or SIGTERM.
//!
//! docs/operations.md: without `--auth` the server runs open, so it binds only to a loopback address
//! and says so; asked to bind elsewhere without `--auth`, it refuses to start.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;

use super::problem::Problem;
use super::{AppState, access_log, auth, handlers, page};

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen address does not resolve.
    #[error("--listen {addr}: {reason}")]
    Address {
        /// The address given.
        addr: String,
        /// Why it is unusable.
        reason: String,
    },
    /// Open mode on an address other machines can reach.
    #[error(
        "--listen {0} is not a loopback address; without --auth the server is open to anyone who can connect, so it binds only to 127.0.0.1 or ::1. Start it with --auth FILE to listen on {0}"
    )]
    OpenOnNetwork(String),
    /// Binding or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The router of every endpoint with its layers.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .route("/api/v1/indicators", get(handlers::indicators))
        .route("/api/v1/indicators/{code}", get(handlers::indicator))
        .route("/api/v1/indicators/{code}/values", get(handlers::values))
        .route("/api/v1/indicators/{code}/compare", get(handlers::compare))
        .route(
            "/api/v1/indicators/{code}/contrast",
            get(handlers::contrast),
        )
        .route("/api/v1/targets", get(handlers::targets))
        .route("/api/v1/units", get(handlers::units))
        .route("/api/v1/openapi.json", get(handlers::openapi))
        .route("/api/v1/reload", post(handlers::reload))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    Router::new()
        .route("/api/v1/health", get(handlers::health))
        .route("/", get(page::index))
        .route("/assets/{version}/{*path}", get(page::asset))
        .merge(protected)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(panicked))
        // Outermost, so that a request whose handler panicked is logged with its 500.
        .layer(middleware::from_fn(access_log::log))
        .with_state(state)
}

async fn not_found() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        "no such endpoint; GET /api/v1/openapi.json lists them",
    )
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "every endpoint answers GET, except /api/v1/reload, which answers POST",
    )
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The panic message is printed by the panic hook to the log; the caller gets none.
    tracing::error!("a request handler panicked");
    Problem::internal().into_response()
}

/// Binds `listen` (host:port; names are resolved). Without `auth`, every address it
/// resolves to must be loopback.
pub async fn bind(listen: &str, auth: bool) -> Result<TcpListener, ServeError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(listen)
        .await
        .map_err(|e| ServeError::Address {
            addr: listen.into(),
            reason: e.to_string(),
        })?
        .collect();
    let Some(first) = addrs.first().copied() else {
        return Err(ServeError::Address {
            addr: listen.into(),
            reason: "resolves to no address".into(),
        });
    };
    if !auth && addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(ServeError::OpenOnNetwork(listen.into()));
    }
    Ok(TcpListener::bind(first).await?)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let stopping = state.clone();
    let shutdown = async move {
        shutdown.await;
        stopping.begin_shutdown();
    };
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

//! The operational surface every service has: `/metrics` (Prometheus), `/healthz` (the process is
//! alive), `/readyz` (it is consuming: assigned and caught up enough to serve), and shutdown on SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use prometheus::{Encoder, Registry, TextEncoder};

/// Liveness, readiness and the stop request, shared between the service loop and the HTTP server.
#[derive(Debug, Default)]
pub(crate) struct Health {
    ready: AtomicBool,
    stopping: AtomicBool,
}

impl Health {
    pub(crate) fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }
    pub(crate) fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
    /// Asks the service loop to drain and stop.
    pub(crate) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }
    pub(crate) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

/// The ops routes; `extra` adds a service's own routes (ingest's push endpoint).
pub(crate) fn router(registry: Registry, health: Arc<Health>, extra: Option<Router>) -> Router {
    let ready = health.clone();
    let base = Router::new()
        .route(
            "/metrics",
            get(move || {
                let registry = registry.clone();
                async move {
                    let mut out = Vec::new();
                    match TextEncoder::new().encode(&registry.gather(), &mut out) {
                        Ok(()) => (StatusCode::OK, String::from_utf8_lossy(&out).into_owned()),
                        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
                    }
                }
            }),
        )
        .route("/healthz", get(|| async { (StatusCode::OK, "ok\n") }))
        .route(
            "/readyz",
            get(move || {
                let ready = ready.is_ready();
                async move {
                    if ready {
                        (StatusCode::OK, "ready\n")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
                    }
                }
            }),
        );
    match extra {
        Some(extra) => base.merge(extra),
        None => base,
    }
}

/// Starts a tokio runtime that serves `router` on `listen` and turns SIGTERM/SIGINT into
/// [`Health::stop`]. The runtime lives as long as the returned handle.
pub(crate) fn serve(
    listen: &str,
    router: Router,
    health: Arc<Health>,
) -> anyhow::Result<tokio::runtime::Runtime> {
    let addr: SocketAddr = listen
        .parse()
        .with_context(|| format!("cannot listen on `{listen}`: not an address"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the HTTP runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(addr))
        .with_context(|| format!("cannot listen on {addr}; is another service using it?"))?;
    runtime.spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    });
    let stop = health.clone();
    runtime.spawn(async move {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::select! {
            _ = term => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("stop requested: draining");
        stop.stop();
    });
    tracing::info!(%addr, "serving /metrics, /healthz, /readyz");
    Ok(runtime)
}

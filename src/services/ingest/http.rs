//! The HTTP push endpoint: `POST /ingest` (or `/ingest/{provider}`, the provider a hint kept in the
//! source name) with a body of native records in any wire format `normalize_bytes` detects. The answer
//! comes only once every produced message is acknowledged by the broker, so a 200 means durable.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use tokio::sync::oneshot;
use vigil_ingest::{Limits, normalize_bytes};
use vigil_schemas::Provider;

use super::metrics::IngestMetrics;
use super::output::{Counts, Output, Pending};
use crate::services::ops::Health;

/// What the handlers share.
pub(super) struct Push {
    pub(super) output: Arc<Output>,
    pub(super) limits: Limits,
    pub(super) health: Arc<Health>,
    pub(super) metrics: IngestMetrics,
    /// How long a request waits for the broker's acknowledgements before answering 503.
    pub(super) ack_timeout: Duration,
    /// Requests being handled, so a shutdown can wait for their answers.
    pub(super) active: AtomicUsize,
    /// Numbers requests in source names (`http:aws#12`), to tell their dead letters apart.
    sequence: AtomicU64,
}

impl Push {
    pub(super) fn new(
        output: Arc<Output>,
        limits: Limits,
        health: Arc<Health>,
        metrics: IngestMetrics,
        ack_timeout: Duration,
    ) -> Arc<Push> {
        Arc::new(Push {
            output,
            limits,
            health,
            metrics,
            ack_timeout,
            active: AtomicUsize::new(0),
            sequence: AtomicU64::new(0),
        })
    }
}

pub(super) fn routes(push: Arc<Push>) -> Router {
    Router::new()
        .route("/ingest", post(ingest_any))
        .route("/ingest/{provider}", post(ingest_hinted))
        .with_state(push)
}

async fn ingest_any(State(push): State<Arc<Push>>, headers: HeaderMap, body: Body) -> Response {
    handle(push, None, headers, body).await
}

async fn ingest_hinted(
    State(push): State<Arc<Push>>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(push, Some(provider), headers, body).await
}

/// Counts the request as active for its whole life, including the wait for acknowledgements.
struct Active<'a>(&'a AtomicUsize);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(push: Arc<Push>, hint: Option<String>, headers: HeaderMap, body: Body) -> Response {
    push.active.fetch_add(1, Ordering::SeqCst);
    let _active = Active(&push.active);
    let (status, body) = answer(&push, hint, &headers, body).await;
    push.metrics
        .http_requests
        .with_label_values(&[status.as_str()])
        .inc();
    let content_type = if status == StatusCode::OK {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn answer(
    push: &Arc<Push>,
    hint: Option<String>,
    headers: &HeaderMap,
    body: Body,
) -> (StatusCode, String) {
    if push.health.stopping() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting down; retry on another instance\n".into(),
        );
    }
    let hint = match hint
        .as_deref()
        .map(|h| (h, Provider::parse(&h.to_ascii_lowercase())))
    {
        None => "auto",
        Some((_, Some(p))) => p.as_str(),
        Some((h, None)) => {
            return (
                StatusCode::NOT_FOUND,
                format!(
                    "unknown provider `{h}`: use /ingest, /ingest/aws, /ingest/azure or /ingest/gcp\n"
                ),
            );
        }
    };
    let max = push.limits.max_input_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return too_large(max);
    }
    let bytes = match read_body(body, max).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return too_large(max),
        Err(BodyError::Broken(e)) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("cannot read the request body: {e}\n"),
            );
        }
    };
    if bytes.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            "empty body: send native records (NDJSON, a {\"Records\":[...]} document, a Pub/Sub push \
             envelope, EventBridge events...)\n"
                .into(),
        );
    }
    let started = Instant::now();
    let n = push.sequence.fetch_add(1, Ordering::Relaxed);
    let source = format!("http:{hint}#{n}");
    let (tx, rx) = oneshot::channel();
    let work = Arc::clone(push);
    // Normalizing is CPU work and handing messages to a full producer queue may wait: off the
    // async workers.
    let produced = tokio::task::spawn_blocking(move || -> Counts {
        let normalized = normalize_bytes(&source, &bytes, Utc::now(), &work.limits);
        let pending = Pending::new(started, work.metrics.latency("http"), Some(tx));
        work.output.produce(normalized, &pending)
    })
    .await;
    let counts = match produced {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "push request worker failed");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error while normalizing\n".into(),
            );
        }
    };
    match tokio::time::timeout(push.ack_timeout, rx).await {
        Ok(Ok(Ok(()))) => {
            let doc =
                serde_json::json!({"events": counts.events, "dead_letters": counts.dead_letters});
            (StatusCode::OK, format!("{doc}\n"))
        }
        Ok(Ok(Err(reason))) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not stored, retry later: {reason}\n"),
        ),
        Ok(Err(_)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not stored, retry later: delivery reports were lost\n".into(),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the broker did not acknowledge within {}s; retry later (some records may arrive twice)\n",
                push.ack_timeout.as_secs_f64()
            ),
        ),
    }
}

fn too_large(max: u64) -> (StatusCode, String) {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("body larger than ingest.max_input_bytes ({max} bytes); send smaller batches\n"),
    )
}

enum BodyError {
    TooLarge,
    Broken(axum::Error),
}

/// Reads the body, refusing it as soon as it grows past `max` bytes.
async fn read_body(mut body: Body, max: u64) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(BodyError::Broken)?;
        if let Ok(data) = frame.into_data() {
            if (out.len() + data.len()) as u64 > max {
                return Err(BodyError::TooLarge);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

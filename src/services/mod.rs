//! `vigil ingest`, `vigil detect` and `vigil sink`: the pipeline's stages as services connected by
//! Kafka topics. Each is a blocking loop over an rdkafka consumer on its own thread, plus a small tokio
//! runtime serving `/metrics`, `/healthz` and `/readyz` (and, for ingest, the HTTP push endpoint).
//!
//! At least once, end to end: consumers never store an offset (`enable.auto.offset.store=false`) before
//! everything derived from that message is acknowledged by the broker (idempotent producer, `acks=all`)
//! or durable on disk; stored offsets are committed in the background. On SIGTERM or SIGINT a service
//! stops taking input, drains, flushes, commits and exits 0. After a Kafka failure it cannot ride out,
//! a service drains, commits what is settled and starts itself again ([`restart`]).

pub(crate) mod detect;
pub(crate) mod ingest;
pub(crate) mod kafka;
pub(crate) mod ops;
pub(crate) mod restart;
pub(crate) mod sink;

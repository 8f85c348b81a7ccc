//! The encoding of normalized events on Kafka, chosen by measurement: the same 2,000 realistic events
//! (simulated AWS, Azure and GCP records in their native formats, normalized by `vigil-ingest`) encoded
//! and decoded one message at a time, as the services do, with serde_json and with MessagePack
//! (`rmp-serde`, fields by name: `Event` skips empty optional fields, which a positional encoding
//! cannot express). Bytes per event are printed before the timings; criterion reports events/s.
//!
//! `cargo bench -p vigil-schemas --bench event_encoding`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vigil_ingest::simulate::{Simulation, SimulationConfig};
use vigil_ingest::{Limits, normalize_bytes};
use vigil_schemas::Event;

const EVENTS: usize = 2_000;

/// The first 2,000 events of a fixed simulation, in event-time order: all three clouds, every archetype.
fn events() -> Vec<Event> {
    let simulation = Simulation::new(SimulationConfig {
        seed: 7,
        start: Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap(),
        days: 2,
        identities: 120,
        techniques: Vec::new(),
        rounds: 1,
    })
    .expect("a valid simulation");
    let mut ndjson = Vec::new();
    let mut records = 0;
    for hour in simulation {
        for record in hour {
            ndjson.extend_from_slice(record.body.as_bytes());
            ndjson.push(b'\n');
            records += 1;
        }
        if records >= EVENTS {
            break;
        }
    }
    let normalized = normalize_bytes("simulated", &ndjson, Utc::now(), &Limits::default());
    assert!(
        normalized.dead_letters.is_empty(),
        "simulated records were dead-lettered: {:?}",
        normalized.dead_letters.first()
    );
    let mut events = normalized.events;
    assert!(events.len() >= EVENTS, "only {} events", events.len());
    events.truncate(EVENTS);
    events
}

fn json_encode(e: &Event) -> Vec<u8> {
    serde_json::to_vec(e).unwrap()
}

fn msgpack_encode(e: &Event) -> Vec<u8> {
    rmp_serde::to_vec_named(e).unwrap()
}

fn bench(c: &mut Criterion) {
    let events = events();
    let json: Vec<Vec<u8>> = events.iter().map(json_encode).collect();
    let msgpack: Vec<Vec<u8>> = events.iter().map(msgpack_encode).collect();
    // Both encodings must give the events back unchanged, or the comparison is meaningless.
    for ((event, j), m) in events.iter().zip(&json).zip(&msgpack) {
        let from_json: Event = serde_json::from_slice(j).unwrap();
        let from_msgpack: Event = rmp_serde::from_slice(m).unwrap();
        assert_eq!(&from_json, event, "JSON does not round-trip");
        assert_eq!(&from_msgpack, event, "MessagePack does not round-trip");
    }
    let per_event = |v: &[Vec<u8>]| v.iter().map(Vec::len).sum::<usize>() as f64 / v.len() as f64;
    let mut providers = std::collections::BTreeMap::new();
    for e in &events {
        *providers.entry(e.provider.as_str()).or_insert(0) += 1;
    }
    println!(
        "event_encoding: {} events {providers:?}; bytes/event: json {:.0}, msgpack {:.0}",
        events.len(),
        per_event(&json),
        per_event(&msgpack)
    );

    let mut group = c.benchmark_group("event_encoding");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("json/encode", |b| {
        b.iter(|| {
            for e in &events {
                black_box(json_encode(black_box(e)));
            }
        })
    });
    group.bench_function("msgpack/encode", |b| {
        b.iter(|| {
            for e in &events {
                black_box(msgpack_encode(black_box(e)));
            }
        })
    });
    group.bench_function("json/decode", |b| {
        b.iter(|| {
            for bytes in &json {
                black_box(serde_json::from_slice::<Event>(black_box(bytes)).unwrap());
            }
        })
    });
    group.bench_function("msgpack/decode", |b| {
        b.iter(|| {
            for bytes in &msgpack {
                black_box(rmp_serde::from_slice::<Event>(black_box(bytes)).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

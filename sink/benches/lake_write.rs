//! Writing the lake on one core: MB/s of Arrow input (the in-memory size of the event batches) turned
//! into zstd Parquet files, fsynced and renamed into place.
//!
//! - `arrow_to_parquet`: prepared batches (sorted, in the file layout) through
//!   `LakeWriter::write_batch`: the lake's own cost, the figure the issue names (≥ 300 MB/s).
//! - `events_to_parquet`: the whole `vigil run` path from normalized events: partitioning, sorting,
//!   building the Arrow batches, then the same writing.
//!
//! Events are simulated AWS, Azure and GCP records normalized by `vigil-ingest`.
//! `bash bench/lake.sh` runs it pinned to one core and prints both figures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use arrow_array::RecordBatch;
use chrono::{TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use vigil_ingest::simulate::{Simulation, SimulationConfig};
use vigil_ingest::{Limits, normalize_bytes};
use vigil_schemas::Event;
use vigil_schemas::arrow::events_to_batch;
use vigil_sink::lake::{Partition, Table};
use vigil_sink::{LakeConfig, LakeWriter};

const EVENTS: usize = 250_000;

fn events() -> Vec<Event> {
    let simulation = Simulation::new(SimulationConfig {
        seed: 11,
        start: Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap(),
        days: 14,
        identities: 1_000,
        techniques: Vec::new(),
        rounds: 1,
    })
    .expect("a valid simulation");
    let mut ndjson = Vec::new();
    let mut records = 0;
    'hours: for hour in simulation {
        for record in hour {
            ndjson.extend_from_slice(record.body.as_bytes());
            ndjson.push(b'\n');
            records += 1;
            if records >= EVENTS {
                break 'hours;
            }
        }
    }
    let normalized = normalize_bytes("simulated", &ndjson, Utc::now(), &Limits::default());
    assert!(normalized.dead_letters.is_empty());
    normalized.events
}

/// The events as the lake lays them out: one batch per provider, sorted by identity and time,
/// without the `provider` column.
fn prepared_batches(events: &[Event]) -> Vec<(Partition, RecordBatch)> {
    let mut out = Vec::new();
    for provider in ["aws", "azure", "gcp"] {
        let mut mine: Vec<Event> = events
            .iter()
            .filter(|e| e.provider.as_str() == provider)
            .cloned()
            .collect();
        let Some(first) = mine.first() else { continue };
        let partition = Partition::new(Table::Events, provider, first.event_time);
        mine.sort_by(|a, b| {
            (a.identity.key.as_str(), a.event_time).cmp(&(b.identity.key.as_str(), b.event_time))
        });
        let batch = events_to_batch(&mine).unwrap();
        let keep: Vec<usize> = (0..batch.num_columns())
            .filter(|i| batch.schema().field(*i).name() != "provider")
            .collect();
        out.push((partition, batch.project(&keep).unwrap()));
    }
    out
}

/// The bytes the batches' values occupy (buffers as sliced, not their spare capacity).
fn arrow_bytes(batches: &[(Partition, RecordBatch)]) -> u64 {
    batches
        .iter()
        .flat_map(|(_, b)| b.columns().iter())
        .map(|c| c.to_data().get_slice_memory_size().unwrap_or(0) as u64)
        .sum()
}

fn bench(c: &mut Criterion) {
    let events = events();
    let batches = prepared_batches(&events);
    let bytes = arrow_bytes(&batches);
    println!(
        "lake input: {} events, {:.1} MB of Arrow ({:.0} bytes/event)",
        events.len(),
        bytes as f64 / 1e6,
        bytes as f64 / events.len() as f64
    );
    let dir = tempfile::tempdir().unwrap();
    let mut once = LakeWriter::new(dir.path(), "once", LakeConfig::default()).unwrap();
    for (partition, batch) in &batches {
        once.write_batch(partition, batch).unwrap();
    }
    let parquet: u64 = once.finish().unwrap().iter().map(|f| f.bytes).sum();
    println!(
        "lake output: {:.1} MB of zstd Parquet ({:.1}x smaller than the Arrow input)",
        parquet as f64 / 1e6,
        bytes as f64 / parquet as f64
    );
    let mut group = c.benchmark_group("lake");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes));
    let mut run = 0u64;
    group.bench_function("arrow_to_parquet", |b| {
        b.iter(|| {
            run += 1;
            let mut lake =
                LakeWriter::new(dir.path(), format!("a{run}"), LakeConfig::default()).unwrap();
            for (partition, batch) in &batches {
                lake.write_batch(partition, batch).unwrap();
            }
            black_box(lake.finish().unwrap());
        })
    });
    group.bench_function("events_to_parquet", |b| {
        b.iter_batched(
            || events.clone(),
            |events| {
                run += 1;
                let mut lake =
                    LakeWriter::new(dir.path(), format!("e{run}"), LakeConfig::default()).unwrap();
                lake.write(events).unwrap();
                black_box(lake.finish().unwrap());
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

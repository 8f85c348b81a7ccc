//! Detect-stage throughput of the engine on a simulated estate (every attack technique injected).
//!
//! `steady`: an engine warmed on the first `VIGIL_BENCH_WARM_DAYS` days (default 3, the engine's
//! learning period, so identities are past learning and every provider's model is fitted) is
//! snapshotted; each iteration restores a fresh engine from that snapshot (not timed) and times
//! `on_events` over the next day in batches of 2,000 plus `drain_alerts` — baselines, novelty,
//! rules, window scoring, the refits that fall in that day (one per provider) and alerts, on
//! learned identities.
//! `cold`: a fresh engine over the first day (everything is new, nothing is scored yet).
//!
//! The estate has `VIGIL_BENCH_IDENTITIES` identities (default 2,000). Events are normalized from the
//! simulator's native records and stably sorted by event time, as a time-ordered source delivers them.
//! Before criterion runs, the bench prints the warmed engine's state per identity and one pass over the
//! measured day split into the batches in which a refit fell and the rest.
//!
//! Run on one core: `RAYON_NUM_THREADS=1 taskset -c 0 cargo bench -p vigil-detect --bench engine`
//! (bench/detect.sh does that).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use vigil_detect::Detector;
use vigil_detect::engine::{Engine, EngineConfig};
use vigil_ingest::simulate::{Simulation, SimulationConfig, techniques};
use vigil_ingest::{Limits, normalize_bytes};
use vigil_schemas::Event;

const BATCH: usize = 2_000;

fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Batches of events, as the pipeline hands them to the detect stage.
type Batches = Vec<Vec<Event>>;

/// The estate's events for `days` days, stably sorted by event time, split by day into batches.
fn simulated_days(identities: usize, days: u32) -> Vec<Batches> {
    let start = DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let config = SimulationConfig {
        seed: 42,
        start,
        days,
        identities,
        techniques: techniques().iter().map(|t| t.0.to_string()).collect(),
        rounds: 1,
    };
    let mut events = Vec::new();
    // Normalize hour by hour: the whole run's NDJSON at once would be gigabytes.
    for hour in Simulation::new(config).unwrap() {
        let ndjson = hour
            .iter()
            .map(|r| r.body.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let out = normalize_bytes("sim", ndjson.as_bytes(), Utc::now(), &Limits::default());
        assert!(
            out.dead_letters.is_empty(),
            "{:?}",
            out.dead_letters.first()
        );
        events.extend(out.events);
    }
    events.sort_by_key(|e| e.event_time);
    let mut by_day: Vec<Batches> = (0..days).map(|_| Vec::new()).collect();
    for e in events {
        let day = (e.event_time - start)
            .num_days()
            .clamp(0, i64::from(days) - 1);
        let batches = &mut by_day[day as usize];
        match batches.last_mut() {
            Some(b) if b.len() < BATCH => b.push(e),
            _ => batches.push(vec![e]),
        }
    }
    by_day
}

fn count(batches: &Batches) -> usize {
    batches.iter().map(Vec::len).sum()
}

/// The timed part: each batch through the engine, then its alerts and incidents drained.
fn run(engine: &mut Engine, batches: Batches) -> (Batches, usize) {
    let mut out = Vec::with_capacity(batches.len());
    let mut alerts = 0;
    for batch in batches {
        out.push(engine.on_events(batch).unwrap());
        alerts += engine.drain_alerts().len();
        engine.drain_incidents();
    }
    (out, alerts)
}

fn bench(c: &mut Criterion) {
    let identities = env_or("VIGIL_BENCH_IDENTITIES", 2_000) as usize;
    let warm_days = env_or("VIGIL_BENCH_WARM_DAYS", 3).max(1);
    let t0 = Instant::now();
    let days = simulated_days(identities, warm_days + 1);
    let total: usize = days.iter().map(count).sum();
    println!(
        "simulated {identities} identities x {} days: {total} events in {:.1?}",
        warm_days + 1,
        t0.elapsed()
    );

    // Warm-up, outside the measurement.
    let mut warm = Engine::new(EngineConfig::default()).unwrap();
    let t0 = Instant::now();
    let mut warm_alerts = 0;
    for day in &days[..warm_days as usize] {
        warm_alerts += run(&mut warm, day.clone()).1;
    }
    let snapshot = warm.snapshot().unwrap();
    let n = warm.identities_in_memory();
    println!(
        "warm-up over {warm_days} days: {:.1?}, {warm_alerts} alerts; stats {:?}",
        t0.elapsed(),
        warm.stats()
    );
    println!(
        "state: identities_in_memory={n} bytes_per_identity={:.0} snapshot_bytes={} snapshot_bytes_per_identity={:.0}",
        warm.bytes_per_identity(),
        snapshot.len(),
        snapshot.len() as f64 / n.max(1) as f64
    );
    drop(warm);

    let measured = &days[warm_days as usize];
    // One pass outside criterion, batch by batch: the alert count, and how the time splits between
    // the batches in which a refit fell and the rest.
    let mut engine = Engine::new(EngineConfig::default()).unwrap();
    engine.restore(&snapshot).unwrap();
    let (mut alerts, mut refits) = (0, 0);
    let (mut refit_time, mut other_time, mut slowest) = (0.0, 0.0, 0.0f64);
    for batch in measured.clone() {
        let before = engine.stats().refits;
        let t0 = Instant::now();
        let (_, n) = run(&mut engine, vec![batch]);
        let seconds = t0.elapsed().as_secs_f64();
        alerts += n;
        if engine.stats().refits > before {
            refits += engine.stats().refits - before;
            refit_time += seconds;
        } else {
            other_time += seconds;
            slowest = slowest.max(seconds);
        }
    }
    let events = count(measured) as f64;
    println!(
        "one pass over day {}: {events} events in {:.3} s = {:.0} events/s, {alerts} alerts; \
         {refits} refits in {:.3} s, without them {:.0} events/s (slowest other batch {:.1} ms)",
        warm_days + 1,
        refit_time + other_time,
        events / (refit_time + other_time),
        refit_time,
        events / other_time,
        slowest * 1e3
    );
    drop(engine);

    let mut group = c.benchmark_group("engine");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(count(measured) as u64));
    group.bench_function(
        format!("steady/{identities}ids/day{}", warm_days + 1),
        |b| {
            b.iter_batched(
                || {
                    let mut engine = Engine::new(EngineConfig::default()).unwrap();
                    engine.restore(&snapshot).unwrap();
                    (engine, measured.clone())
                },
                // The events and the engine go back out, so dropping them is not timed.
                |(mut engine, events)| {
                    let out = run(&mut engine, events);
                    (engine, out)
                },
                BatchSize::LargeInput,
            )
        },
    );
    let first = &days[0];
    group.throughput(Throughput::Elements(count(first) as u64));
    group.bench_function(format!("cold/{identities}ids/day1"), |b| {
        b.iter_batched(
            || (Engine::new(EngineConfig::default()).unwrap(), first.clone()),
            |(mut engine, events)| {
                let out = run(&mut engine, events);
                (engine, out)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

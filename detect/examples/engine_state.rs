//! How much memory the detection engine keeps per identity: warms an engine on a simulated estate
//! (every attack technique injected) and prints, at the end of each simulated day, the engine's own
//! accounting (`Engine::bytes_per_identity`), the snapshot size and the process's resident memory.
//!
//! Usage: engine_state [identities=2000] [days=7] [engine|passthrough] [snapshot-file]
//!        engine_state restore snapshot-file
//!
//! `passthrough` runs the same simulation and normalization without the engine, so the difference of
//! the two runs' peak RSS is what the engine holds (its identities, the population models, and
//! allocator slack). Records are simulated, normalized and detected one hour at a time, so the input
//! in memory is one hour of events, never the run. bench/detect.sh runs both under `/usr/bin/time -v`.
//! Because the engine's small long-lived allocations sit between those of the hourly batches, glibc
//! cannot hand the batches' memory back, so that difference overstates the engine; `restore` measures
//! the engine alone: the resident memory a process gains by restoring the snapshot the engine run wrote.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use chrono::{DateTime, Utc};
use vigil_detect::Detector;
use vigil_detect::engine::{Engine, EngineConfig};
use vigil_ingest::simulate::{Simulation, SimulationConfig, techniques};
use vigil_ingest::{Limits, normalize_bytes};

const BATCH: usize = 2_000;

/// A field of /proc/self/status in KiB (VmRSS, VmHWM), 0 where unavailable.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Restores an engine from `path` and prints the resident memory it added.
fn restore(path: &str) {
    let before = status_kib("VmRSS");
    let bytes = std::fs::read(path).unwrap();
    let mut engine = Engine::new(EngineConfig::default()).unwrap();
    engine.restore(&bytes).unwrap();
    // The file's buffer is one large (mmap'd) allocation: freeing it returns it to the system, so
    // what stays resident is the engine.
    let file_bytes = bytes.len();
    drop(bytes);
    let after = status_kib("VmRSS");
    let n = engine.identities_in_memory();
    println!(
        "restored snapshot_bytes={file_bytes} identities_in_memory={n} bytes_per_identity={:.0} \
         rss_before_kib={before} rss_after_kib={after} rss_delta_bytes_per_identity={:.0}",
        engine.bytes_per_identity(),
        (after.saturating_sub(before) * 1024) as f64 / n.max(1) as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "restore") {
        restore(args.get(1).map_or("engine.snapshot", String::as_str));
        return;
    }
    let identities: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let days: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(7);
    let with_engine = args.get(2).is_none_or(|m| m != "passthrough");
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
    let sim = Simulation::new(config).unwrap();
    let mut engine = Engine::new(EngineConfig::default()).unwrap();
    println!(
        "mode={} identities={identities} days={days} rss_before_kib={}",
        if with_engine { "engine" } else { "passthrough" },
        status_kib("VmRSS")
    );
    let t0 = Instant::now();
    let (mut events, mut alerts, mut max_hour) = (0usize, 0usize, 0usize);
    for (hour, records) in sim.enumerate() {
        let ndjson = records
            .iter()
            .map(|r| r.body.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let mut out = normalize_bytes("sim", ndjson.as_bytes(), Utc::now(), &Limits::default());
        drop(ndjson);
        assert!(
            out.dead_letters.is_empty(),
            "{:?}",
            out.dead_letters.first()
        );
        out.events.sort_by_key(|e| e.event_time);
        events += out.events.len();
        max_hour = max_hour.max(out.events.len());
        if with_engine {
            let mut rest = out.events;
            while !rest.is_empty() {
                let tail = rest.split_off(rest.len().min(BATCH));
                engine.on_events(rest).unwrap();
                alerts += engine.drain_alerts().len();
                engine.drain_incidents();
                rest = tail;
            }
        }
        if (hour + 1) % 24 == 0 && with_engine {
            let n = engine.identities_in_memory();
            let snapshot = engine.snapshot().unwrap().len();
            println!(
                "day={} events={events} identities_in_memory={n} bytes_per_identity={:.0} \
                 snapshot_bytes={snapshot} snapshot_bytes_per_identity={:.0} rss_kib={} alerts={alerts}",
                (hour + 1) / 24,
                engine.bytes_per_identity(),
                snapshot as f64 / n.max(1) as f64,
                status_kib("VmRSS")
            );
        }
    }
    println!(
        "done events={events} max_events_per_hour={max_hour} seconds={:.1} rss_kib={} peak_rss_kib={}",
        t0.elapsed().as_secs_f64(),
        status_kib("VmRSS"),
        status_kib("VmHWM")
    );
    if with_engine {
        println!("stats {:?}", engine.stats());
        if let Some(path) = args.get(3) {
            std::fs::write(path, engine.snapshot().unwrap()).unwrap();
        }
    }
}

//! Writes the lake of the query benchmark (`bench/query.sh`): N events over D days spread over I
//! identities (45 % AWS, 30 % Azure, 25 % GCP), in the hive layout
//! `table=events/provider=…/date=…/hour=…/`, one file per provider and hour, sorted by identity
//! then time, row groups of 64Ki rows (as the lake writer does), plus one alert per 100 identities.
//!
//! Usage: cargo run --release --example query_bench_lake -- OUT EVENTS DAYS IDENTITIES
//! Prints the identity key whose timeline the benchmark times.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use chrono::{Duration, TimeZone, Utc};
use vigil_schemas::{ActionCategory, Alert, Provider};
use vigil_sink::query::fixture::{event, write_alerts, write_events_with};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn identity(i: u64) -> (Provider, String) {
    match i % 20 {
        0..=8 => (
            Provider::Aws,
            format!("arn:aws:iam::1111222233{:02}:user/user-{i}", i % 7),
        ),
        9..=14 => (
            Provider::Azure,
            format!("azure:00000000-0000-4000-8000-{i:012}"),
        ),
        _ => (Provider::Gcp, format!("gcp:user-{i}@acme.example.com")),
    }
}

const OPS: [(&str, &str, ActionCategory); 6] = [
    ("s3.amazonaws.com", "s3:GetObject", ActionCategory::Read),
    (
        "ec2.amazonaws.com",
        "ec2:DescribeInstances",
        ActionCategory::List,
    ),
    ("iam.amazonaws.com", "iam:GetRole", ActionCategory::Read),
    ("sts.amazonaws.com", "sts:AssumeRole", ActionCategory::Other),
    (
        "lambda.amazonaws.com",
        "lambda:UpdateFunctionCode",
        ActionCategory::Write,
    ),
    ("kms.amazonaws.com", "kms:Decrypt", ActionCategory::Read),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = PathBuf::from(&args[1]);
    let events: u64 = args[2].parse().unwrap();
    let days: i64 = args[3].parse().unwrap();
    let identities: u64 = args[4].parse().unwrap();
    let start = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
    let hours = days * 24;
    let per_hour = events / hours as u64;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut written = 0u64;
    for h in 0..hours {
        let hour_start = start + Duration::hours(h);
        let n = if h == hours - 1 {
            events - written
        } else {
            per_hour
        };
        let mut batch = Vec::with_capacity(n as usize);
        for k in 0..n {
            let i = rng.below(identities);
            let (provider, key) = identity(i);
            let (service, permission, category) = OPS[(rng.below(6)) as usize];
            let time = hour_start + Duration::milliseconds(rng.below(3_600_000) as i64);
            let ip = format!("198.51.{}.{}", i % 250, rng.below(250));
            let agent = format!("aws-cli/2.{}.0", i % 9);
            let resource = format!("arn:aws:s3:::bucket-{}", i % 1000);
            batch.push(event(
                &format!("ev-{h}-{k}"),
                time,
                provider,
                &key,
                service,
                permission,
                category,
                Some(&ip),
                Some(&agent),
                &[&resource],
                None,
            ));
        }
        written += n;
        write_events_with(&out, &format!("part-bench-{h:05}"), &batch, 64 * 1024).unwrap();
        if h % 24 == 23 {
            eprintln!("day {} of {days}: {written} events", (h + 1) / 24);
        }
    }
    let alerts: Vec<Alert> = (0..identities)
        .step_by(100)
        .map(|i| Alert {
            alert_id: format!("va-bench-{i}"),
            identity_key: identity(i).1,
            time: start + Duration::hours((i as i64 * 7) % hours),
            severity: "medium".into(),
            score: 50.0,
            tactic: Some("discovery".into()),
            technique: None,
            reasons: vec!["benchmark alert".into()],
            evidence_event_ids: vec![],
            reason_key: "bench".into(),
            baseline: [("events_seen".to_string(), 100.0)].into(),
        })
        .collect();
    write_alerts(&out, "part-bench-alerts", &alerts).unwrap();
    println!("{}", identity(0).1);
}

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};
use vigil_schemas::Event;

use super::*;
use crate::{Limits, normalize_bytes};

pub(super) fn config(identities: usize, days: u32) -> SimulationConfig {
    SimulationConfig {
        seed: 42,
        start: DateTime::parse_from_rfc3339("2026-03-02T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
        days,
        identities,
        techniques: techniques().iter().map(|t| t.0.to_string()).collect(),
        rounds: 1,
    }
}

fn run(config: SimulationConfig) -> (Vec<SimRecord>, Labels) {
    let mut sim = Simulation::new(config).unwrap();
    let records: Vec<SimRecord> = sim.by_ref().flatten().collect();
    (records, sim.labels())
}

fn digest(records: &[SimRecord]) -> String {
    let mut h = Sha256::new();
    for r in records {
        h.update(r.body.as_bytes());
        h.update(b"\n");
    }
    format!("{:x}", h.finalize())
}

/// Normalizes every record on its own, as the parsers would meet it, keyed by event id.
fn normalize_all(records: &[SimRecord]) -> (HashMap<String, Event>, usize) {
    let mut events = HashMap::new();
    let mut dead = 0;
    let ndjson: String = records.iter().map(|r| format!("{}\n", r.body)).collect();
    let out = normalize_bytes("sim", ndjson.as_bytes(), Utc::now(), &Limits::default());
    for letter in &out.dead_letters {
        eprintln!("dead letter: {} {}", letter.kind, letter.reason);
    }
    dead += out.dead_letters.len();
    for e in out.events {
        events.insert(e.event_id.clone(), e);
    }
    (events, dead)
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, la) = run(config(40, 2));
    let (b, lb) = run(config(40, 2));
    assert_eq!(digest(&a), digest(&b));
    assert_eq!(la, lb);
    let mut other = config(40, 2);
    other.seed = 43;
    let (c, _) = run(other);
    assert_ne!(digest(&a), digest(&c));
}

#[test]
fn every_record_reads_back_with_the_id_and_identity_the_simulator_declared() {
    let (records, _) = run(config(60, 3));
    assert!(records.len() > 2_000, "only {} records", records.len());
    let (events, dead) = normalize_all(&records);
    assert_eq!(dead, 0, "the parsers refused simulated records");
    assert_eq!(
        events.len(),
        records.len(),
        "event ids must be unique and all present"
    );
    for r in &records {
        let e = events
            .get(&r.event_id)
            .unwrap_or_else(|| panic!("no event {} for {}", r.event_id, r.body));
        assert_eq!(e.identity.key, r.identity_key, "identity of {}", r.body);
        assert_eq!(e.event_time, r.time, "time of {}", r.body);
        assert_eq!(e.provider, r.provider());
        assert!(!e.event_time_estimated);
    }
}

#[test]
fn every_wire_format_and_archetype_is_present() {
    let (records, _) = run(config(60, 3));
    let channels: BTreeSet<&str> = records
        .iter()
        .map(|r| match &r.channel {
            Channel::CloudTrail { .. } => "cloudtrail",
            Channel::AzureActivityExport { .. } => "azure_export",
            Channel::AzureActivityRest { .. } => "azure_rest",
            Channel::EntraSignIn { .. } => "entra_signin",
            Channel::EntraAudit { .. } => "entra_audit",
            Channel::KeyVault { .. } => "key_vault",
            Channel::GcpAudit { .. } => "gcp_sink",
            Channel::GcpPubSubPush { .. } => "gcp_push",
        })
        .collect();
    assert_eq!(channels.len(), 8, "{channels:?}");
    let sim = Simulation::new(config(60, 3)).unwrap();
    let mut seen = BTreeMap::new();
    for i in &sim.estate().identities {
        seen.entry(i.provider)
            .or_insert_with(BTreeSet::new)
            .insert(i.archetype);
    }
    assert_eq!(seen[&Provider::Aws].len(), 7, "{seen:?}");
    assert_eq!(seen[&Provider::Azure].len(), 7, "{seen:?}");
    assert_eq!(seen[&Provider::Gcp].len(), 6, "{seen:?}");
}

#[test]
fn labels_name_exactly_the_malicious_records() {
    let (records, labels) = run(config(80, 4));
    let wanted: usize = techniques().len();
    assert_eq!(labels.scenarios.len(), wanted);
    let by_id: HashMap<&str, &SimRecord> =
        records.iter().map(|r| (r.event_id.as_str(), r)).collect();
    let mut labelled = BTreeSet::new();
    let per_provider: BTreeMap<&str, usize> =
        labels.scenarios.iter().fold(BTreeMap::new(), |mut m, s| {
            *m.entry(s.provider.as_str()).or_default() += 1;
            m
        });
    assert!(
        per_provider["aws"] >= 8 && per_provider["azure"] >= 5 && per_provider["gcp"] >= 5,
        "{per_provider:?}"
    );
    for s in &labels.scenarios {
        assert!(!s.event_ids.is_empty(), "{} has no events", s.scenario_id);
        assert!(s.first_event_time <= s.last_event_time);
        assert!(s.first_event_time >= labels.start);
        assert!(s.last_event_time < labels.start + Duration::days(i64::from(labels.days)));
        for id in &s.event_ids {
            let r = by_id[id.as_str()];
            assert_eq!(r.identity_key, s.identity_key);
            assert!(r.time >= s.first_event_time && r.time <= s.last_event_time);
            assert!(labelled.insert(id.clone()), "event {id} labelled twice");
        }
    }
    let malicious = records.iter().filter(|r| r.scenario.is_some()).count();
    assert_eq!(
        malicious,
        labelled.len(),
        "every malicious record is labelled, and only those"
    );
    assert_eq!(labels.events, records.len() as u64);
    // Benign exposure: at most identities × days, and most identities are busy most days.
    let max = labels.identities * u64::from(labels.days);
    assert!(
        labels.benign_identity_days <= max && labels.benign_identity_days > max / 2,
        "{}",
        labels.benign_identity_days
    );
}

#[test]
fn hours_come_in_event_time_order() {
    let mut sim = Simulation::new(config(30, 2)).unwrap();
    let mut last = None;
    let mut hours = 0;
    for hour in sim.by_ref() {
        for r in hour {
            if let Some(prev) = last {
                assert!(r.time >= prev, "{} after {}", r.time, prev);
            }
            last = Some(r.time);
        }
        hours += 1;
    }
    assert_eq!(hours, 48);
}

#[test]
fn humans_keep_office_hours_and_workloads_run_around_the_clock() {
    let (records, _) = run(config(60, 7));
    let sim = Simulation::new(config(60, 7)).unwrap();
    let estate = sim.estate();
    let kind: HashMap<&str, &SimIdentity> = estate
        .identities
        .iter()
        .map(|i| (i.key.as_str(), i))
        .collect();
    let (mut human_office, mut human_all, mut fn_night, mut fn_all) = (0, 0, 0, 0);
    for r in records.iter().filter(|r| r.scenario.is_none()) {
        let who = kind[r.identity_key.as_str()];
        let local = (r.time + Duration::minutes(i64::from(who.tz_minutes))).hour();
        match who.archetype {
            Archetype::Engineer | Archetype::Admin => {
                human_all += 1;
                human_office += usize::from((8..19).contains(&local));
            }
            Archetype::Function => {
                fn_all += 1;
                fn_night += usize::from(local < 6);
            }
            _ => {}
        }
    }
    assert!(
        human_office * 100 / human_all >= 85,
        "{human_office}/{human_all}"
    );
    assert!(fn_night * 100 / fn_all >= 10, "{fn_night}/{fn_all}");
}

#[test]
fn refuses_unknown_techniques_and_tiny_estates() {
    let mut c = config(60, 1);
    c.techniques = vec!["aws.nope".into()];
    assert!(matches!(
        Simulation::new(c),
        Err(SimulationError::UnknownTechnique(_))
    ));
    assert!(matches!(
        Simulation::new(config(3, 1)),
        Err(SimulationError::TooFewIdentities(3))
    ));
    assert!(matches!(
        Simulation::new(config(60, 0)),
        Err(SimulationError::NoDays)
    ));
}

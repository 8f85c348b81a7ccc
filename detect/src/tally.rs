//! [`Tally`]: a small stateful detector that counts events per identity and remembers the first and
//! last event time. It raises no alerts; it exists so the detect service's checkpoints carry real state
//! that a restart must neither lose nor double-count (and so tests can check exactly that).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vigil_schemas::Event;

use crate::{DetectError, Detector};

/// What the tally knows about one identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityTally {
    pub count: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// Per identity key: event count, first and last event time. Snapshots are JSON
/// (`{"identities":{"<key>":{"count":..,"first":..,"last":..}}}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub identities: BTreeMap<String, IdentityTally>,
}

impl Tally {
    pub fn new() -> Tally {
        Tally::default()
    }
}

impl Detector for Tally {
    fn on_events(&mut self, events: Vec<Event>) -> Result<Vec<Event>, DetectError> {
        for event in &events {
            let time = event.event_time;
            self.identities
                .entry(event.identity.key.clone())
                .and_modify(|t| {
                    t.count += 1;
                    t.first = t.first.min(time);
                    t.last = t.last.max(time);
                })
                .or_insert(IdentityTally {
                    count: 1,
                    first: time,
                    last: time,
                });
        }
        Ok(events)
    }

    fn snapshot(&self) -> Result<Vec<u8>, DetectError> {
        serde_json::to_vec(self)
            .map_err(|e| DetectError::State(format!("cannot snapshot the tally: {e}")))
    }

    fn restore(&mut self, snapshot: &[u8]) -> Result<(), DetectError> {
        *self = serde_json::from_slice(snapshot)
            .map_err(|e| DetectError::State(format!("tally snapshot is unreadable: {e}")))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_schemas::*;

    fn event(key: &str, secs: i64) -> Event {
        let time = DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap_or_default();
        Event {
            event_id: format!("{key}-{secs}"),
            event_time: time,
            event_time_estimated: false,
            ingest_time: time,
            provider: Provider::Aws,
            class: EventClass::ApiActivity,
            account_id: None,
            tenant_id: None,
            region: None,
            identity: Identity::new(key, IdentityKind::HumanUser),
            action: Action {
                service: "s".into(),
                operation: "o".into(),
                permission: "s:o".into(),
                category: ActionCategory::Read,
            },
            resources: vec![],
            source: SourceEndpoint::default(),
            user_agent: None,
            outcome: Outcome::success(),
            raw_ref: RawRef {
                source: "t".into(),
                byte_offset: 0,
                record_index: 0,
                format: "cloudtrail".into(),
            },
        }
    }

    #[test]
    fn counts_first_last_and_survives_a_snapshot() -> Result<(), DetectError> {
        let mut t = Tally::new();
        let out = t.on_events(vec![event("a", 5), event("b", 1), event("a", 2)])?;
        assert_eq!(out.len(), 3, "events are handed on");
        let mut restored = Tally::new();
        restored.restore(&t.snapshot()?)?;
        restored.on_events(vec![event("a", 9)])?;
        let a = &restored.identities["a"];
        assert_eq!(
            (
                a.count,
                a.first.timestamp() - 1_700_000_000,
                a.last.timestamp() - 1_700_000_000
            ),
            (3, 2, 9)
        );
        assert_eq!(restored.identities["b"].count, 1);
        assert!(restored.drain_alerts().is_empty());
        assert!(Tally::new().restore(b"nope").is_err());
        Ok(())
    }
}

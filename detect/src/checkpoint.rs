//! Checkpoints of the `vigil detect` service: one file per consumed partition holding a detector's
//! state and the offset right after the last event that state reflects.
//!
//! This module holds the pure parts (layout, encoding, validation, the replay rule); the service
//! writes the bytes to disk atomically. Layout (JSON):
//!
//! ```json
//! {"version":1,"topic":"vigil.events","partition":3,"next_offset":1200,
//!  "written_at":"2026-01-01T00:00:00Z","state_encoding":"json","state":{...}}
//! ```
//!
//! `state` embeds the snapshot as JSON when the snapshot is JSON (readable by operators and tests),
//! and as a base64 string (`state_encoding: "base64"`) otherwise.

use std::path::{Path, PathBuf};

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::DetectError;

/// The layout version this build writes and reads.
pub const CHECKPOINT_VERSION: u32 = 1;

/// How [`Checkpoint::state`] holds the detector's snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateEncoding {
    /// The snapshot is JSON and is embedded as is.
    Json,
    /// The snapshot is opaque bytes, stored as a standard base64 string.
    Base64,
}

/// One partition's checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub version: u32,
    pub topic: String,
    pub partition: i32,
    /// The offset after the last event the state reflects: replay starts here.
    pub next_offset: i64,
    pub written_at: DateTime<Utc>,
    pub state_encoding: StateEncoding,
    pub state: serde_json::Value,
}

impl Checkpoint {
    /// A checkpoint of `snapshot` (the bytes of [`crate::Detector::snapshot`]).
    pub fn new(
        topic: &str,
        partition: i32,
        next_offset: i64,
        snapshot: &[u8],
        written_at: DateTime<Utc>,
    ) -> Checkpoint {
        // An empty snapshot (a stateless detector) is not JSON; it round-trips as base64 "".
        let (state_encoding, state) = match serde_json::from_slice::<serde_json::Value>(snapshot) {
            Ok(value) => (StateEncoding::Json, value),
            Err(_) => (
                StateEncoding::Base64,
                serde_json::Value::String(
                    base64::engine::general_purpose::STANDARD.encode(snapshot),
                ),
            ),
        };
        Checkpoint {
            version: CHECKPOINT_VERSION,
            topic: topic.to_string(),
            partition,
            next_offset,
            written_at,
            state_encoding,
            state,
        }
    }

    /// The file's bytes.
    pub fn encode(&self) -> Result<Vec<u8>, DetectError> {
        serde_json::to_vec_pretty(self)
            .map_err(|e| DetectError::State(format!("cannot encode a checkpoint: {e}")))
    }

    /// Reads a checkpoint file's bytes and checks it belongs to `topic`/`partition`: a file copied to
    /// the wrong place must not seed another partition's state.
    pub fn decode(bytes: &[u8], topic: &str, partition: i32) -> Result<Checkpoint, DetectError> {
        let checkpoint: Checkpoint = serde_json::from_slice(bytes).map_err(|e| {
            DetectError::State(format!(
                "checkpoint of {topic}/{partition} is unreadable: {e}"
            ))
        })?;
        if checkpoint.version != CHECKPOINT_VERSION {
            return Err(DetectError::State(format!(
                "checkpoint of {topic}/{partition} has layout version {}, this build reads {CHECKPOINT_VERSION}",
                checkpoint.version
            )));
        }
        if checkpoint.topic != topic || checkpoint.partition != partition {
            return Err(DetectError::State(format!(
                "checkpoint found for {topic}/{partition} belongs to {}/{}",
                checkpoint.topic, checkpoint.partition
            )));
        }
        if checkpoint.next_offset < 0 {
            return Err(DetectError::State(format!(
                "checkpoint of {topic}/{partition} has a negative next_offset {}",
                checkpoint.next_offset
            )));
        }
        match (checkpoint.state_encoding, &checkpoint.state) {
            (StateEncoding::Json, _) | (StateEncoding::Base64, serde_json::Value::String(_)) => {}
            (StateEncoding::Base64, _) => {
                return Err(DetectError::State(format!(
                    "checkpoint of {topic}/{partition}: base64 state is not a string"
                )));
            }
        }
        Ok(checkpoint)
    }

    /// The snapshot bytes to hand to [`crate::Detector::restore`].
    pub fn state_bytes(&self) -> Result<Vec<u8>, DetectError> {
        match (self.state_encoding, &self.state) {
            (StateEncoding::Json, value) => serde_json::to_vec(value)
                .map_err(|e| DetectError::State(format!("cannot re-encode checkpoint state: {e}"))),
            (StateEncoding::Base64, serde_json::Value::String(text)) => {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|e| DetectError::State(format!("checkpoint state is not base64: {e}")))
            }
            (StateEncoding::Base64, _) => {
                Err(DetectError::State("base64 state is not a string".into()))
            }
        }
    }
}

/// Where the checkpoint of `topic`/`partition` lives under `dir`.
pub fn checkpoint_path(dir: &Path, topic: &str, partition: i32) -> PathBuf {
    dir.join(topic).join(format!("{partition}.json"))
}

/// The replay rule. After a restore, the group's committed offset may lag the checkpoint (the process
/// died between writing the checkpoint and committing), so the consumer can be handed events the
/// restored state already counts. An event is applied only when its offset is at or past the offset
/// the state reflects; `next_offset` is `None` when there is no state position yet (nothing restored,
/// nothing applied), and then every event applies.
pub fn should_apply(offset: i64, next_offset: Option<i64>) -> bool {
    match next_offset {
        Some(next) => offset >= next,
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default()
    }

    #[test]
    fn json_state_is_embedded_and_round_trips() -> Result<(), DetectError> {
        let snapshot = br#"{"identities":{"alice":{"count":3}}}"#;
        let c = Checkpoint::new("events", 2, 41, snapshot, at());
        assert_eq!(c.state_encoding, StateEncoding::Json);
        assert_eq!(
            c.state["identities"]["alice"]["count"], 3,
            "state readable in the file"
        );
        let back = Checkpoint::decode(&c.encode()?, "events", 2)?;
        assert_eq!(back, c);
        let bytes = back.state_bytes()?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| DetectError::State(e.to_string()))?;
        assert_eq!(value["identities"]["alice"]["count"], 3);
        Ok(())
    }

    #[test]
    fn opaque_state_is_base64_and_round_trips() -> Result<(), DetectError> {
        for snapshot in [&b"\x00\xffnot json"[..], &b""[..]] {
            let c = Checkpoint::new("events", 0, 7, snapshot, at());
            assert_eq!(c.state_encoding, StateEncoding::Base64);
            let back = Checkpoint::decode(&c.encode()?, "events", 0)?;
            assert_eq!(back.state_bytes()?, snapshot);
            assert_eq!(back.next_offset, 7);
        }
        Ok(())
    }

    #[test]
    fn refuses_foreign_or_broken_files() -> Result<(), DetectError> {
        let good = Checkpoint::new("events", 1, 5, b"{}", at());
        let bytes = good.encode()?;
        assert!(
            Checkpoint::decode(&bytes, "events", 2).is_err(),
            "other partition"
        );
        assert!(
            Checkpoint::decode(&bytes, "other", 1).is_err(),
            "other topic"
        );
        assert!(
            Checkpoint::decode(&bytes[..bytes.len() / 2], "events", 1).is_err(),
            "truncated"
        );
        let mut v = good.clone();
        v.version = 99;
        assert!(
            Checkpoint::decode(&v.encode()?, "events", 1).is_err(),
            "unknown version"
        );
        let mut v = good.clone();
        v.next_offset = -1;
        assert!(
            Checkpoint::decode(&v.encode()?, "events", 1).is_err(),
            "negative offset"
        );
        let mut v = good;
        v.state_encoding = StateEncoding::Base64;
        assert!(
            Checkpoint::decode(&v.encode()?, "events", 1).is_err(),
            "base64 state not a string"
        );
        Ok(())
    }

    #[test]
    fn path_is_per_topic_and_partition() {
        assert_eq!(
            checkpoint_path(Path::new("/cp"), "vigil.events", 4),
            PathBuf::from("/cp/vigil.events/4.json")
        );
    }

    #[test]
    fn replay_skips_what_the_state_already_reflects() {
        // Checkpoint reflects offsets 0..=99; the group committed only up to 60.
        let next = Some(100);
        let applied: Vec<i64> = (60..105).filter(|o| should_apply(*o, next)).collect();
        assert_eq!(
            applied,
            (100..105).collect::<Vec<_>>(),
            "never double-count 60..=99"
        );
        assert!(should_apply(0, None), "no state: everything applies");
        assert!(
            should_apply(100, Some(100)),
            "the next offset itself applies"
        );
    }
}

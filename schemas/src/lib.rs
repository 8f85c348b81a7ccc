//! Vigil's normalized data: the event every parser produces, the dead letter every parser may produce
//! instead, and their Arrow schemas. Pure data: no I/O happens in this crate.
//!
//! The event is aligned with OCSF 1.x: API Activity (class 6003) for control-plane calls and Authentication
//! (class 3002) for sign-ins and role assumption, so [`Event::to_ocsf`] can emit it as OCSF JSON.
//!
//! How each provider's caller becomes the identity key is documented in [`identity`].

pub mod alert;
pub mod arrow;
pub mod arrow_records;
pub mod dead_letter;
pub mod event;
pub mod finding;
pub mod identity;
pub mod labels;
pub mod ocsf;
pub mod ocsf_finding;

pub use alert::{Alert, Incident};
pub use dead_letter::DeadLetter;
pub use event::{
    Action, ActionCategory, ChainLink, ChainRelation, Event, EventClass, Outcome, OutcomeStatus,
    Provider, RawRef, Resource, SourceEndpoint,
};
pub use finding::Finding;
pub use identity::{Identity, IdentityKind};
pub use labels::{LABELS_VERSION, Labels, ScenarioLabel};

/// Version of the normalized event layout, carried with every serialized event so consumers can tell
/// layouts apart.
pub const SCHEMA_VERSION: &str = "1";

/// Errors of this crate: the only fallible work here is converting between Rust values and Arrow batches.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("column `{column}` is missing or has an unexpected type")]
    Column { column: &'static str },
    #[error("column `{column}` row {row}: {reason}")]
    Value {
        column: &'static str,
        row: usize,
        reason: String,
    },
}

//! Permission analytics (the CIEM half of Vigil): what each identity is granted against what it used,
//! who is inactive or a super identity, which permissions are unused and risky, how an identity can
//! escalate to admin, and what least-privilege policy fits what it did.
//!
//! Each cloud module reads its inventory exports and its part of the permission catalog (from bytes:
//! no I/O here), expands grants into [`Entitlements`], lists [`EscalationEdge`]s, maps events to
//! permissions and writes right-sized policies. [`findings`] and [`paths`] work on the shared model
//! only.

pub mod analysis;
#[cfg(test)]
mod analysis_tests;
pub mod aws;
pub mod azure;
pub mod gcp;
pub mod model;

pub use model::{
    AccessLevel, Credential, Effect, Entitlements, EscalationEdge, Grant, ObservedAction,
    PermissionCatalog, PermissionInfo, PermissionSet, Principal, PrincipalKind, RightSized,
    RiskFlags, Usage, UsedPermission,
};

//! The normalized event.

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::identity::Identity;

/// The cloud an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Aws,
    Azure,
    Gcp,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Aws, Provider::Azure, Provider::Gcp];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Azure => "azure",
            Provider::Gcp => "gcp",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The OCSF class an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventClass {
    /// OCSF API Activity, class_uid 6003.
    ApiActivity,
    /// OCSF Authentication, class_uid 3002: console and directory sign-ins, role assumption, token issue.
    Authentication,
}

impl EventClass {
    pub fn class_uid(self) -> u32 {
        match self {
            EventClass::ApiActivity => 6003,
            EventClass::Authentication => 3002,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EventClass::ApiActivity => "api_activity",
            EventClass::Authentication => "authentication",
        }
    }

    pub fn parse(s: &str) -> Option<EventClass> {
        [EventClass::ApiActivity, EventClass::Authentication]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// What kind of thing an action does, coarse enough to compare across clouds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionCategory {
    Read,
    List,
    Write,
    Delete,
    /// Grants, revokes or changes who may do what: policies, role assignments, IAM bindings, credentials.
    PermissionChange,
    Login,
    Other,
}

impl ActionCategory {
    pub const ALL: [ActionCategory; 7] = [
        ActionCategory::Read,
        ActionCategory::List,
        ActionCategory::Write,
        ActionCategory::Delete,
        ActionCategory::PermissionChange,
        ActionCategory::Login,
        ActionCategory::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionCategory::Read => "read",
            ActionCategory::List => "list",
            ActionCategory::Write => "write",
            ActionCategory::Delete => "delete",
            ActionCategory::PermissionChange => "permission_change",
            ActionCategory::Login => "login",
            ActionCategory::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<ActionCategory> {
        ActionCategory::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The operation an identity performed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Provider service: `iam.amazonaws.com`, `Microsoft.Authorization`, `iam.googleapis.com`.
    pub service: String,
    /// The operation as the provider names it: `CreateAccessKey`,
    /// `Microsoft.Authorization/roleAssignments/write`, `google.iam.admin.v1.SetIamPolicy`.
    pub operation: String,
    /// Permission-style name, comparable with IAM policies: `iam:CreateAccessKey`,
    /// `Microsoft.Authorization/roleAssignments/write`, `iam.serviceAccounts.setIamPolicy`.
    pub permission: String,
    pub category: ActionCategory,
}

/// A resource the action touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// ARN, Azure resource id or GCP resource name.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Where the call came from. Providers put host names, "AWS Internal" or "gce-internal-ip" where an IP
/// would be; `ip` holds the address when there is one and `raw` always keeps what the provider wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEndpoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

impl SourceEndpoint {
    /// Parses a provider's source address: an IPv4/IPv6 address (optionally with a port, brackets or
    /// surrounding spaces) becomes `ip`; anything else is kept only in `raw`.
    pub fn from_raw(raw: &str) -> SourceEndpoint {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return SourceEndpoint::default();
        }
        SourceEndpoint {
            ip: parse_ip(trimmed),
            raw: Some(trimmed.to_string()),
        }
    }
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sock) = s.parse::<std::net::SocketAddr>() {
        return Some(sock.ip());
    }
    let unbracketed = s.strip_prefix('[').and_then(|r| r.strip_suffix(']'));
    if let Some(inner) = unbracketed {
        return inner.parse().ok();
    }
    // IPv4 with a port ("10.0.0.1:443") is covered by SocketAddr; IPv6 scoped addresses are not IPs we key on.
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeStatus {
    Success,
    Failure,
    Unknown,
}

impl OutcomeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Success => "success",
            OutcomeStatus::Failure => "failure",
            OutcomeStatus::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<OutcomeStatus> {
        [
            OutcomeStatus::Success,
            OutcomeStatus::Failure,
            OutcomeStatus::Unknown,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: OutcomeStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl Outcome {
    pub fn success() -> Outcome {
        Outcome {
            status: OutcomeStatus::Success,
            error_code: None,
            error_message: None,
        }
    }
}

/// Where the record came from, so an analyst can go back to the original bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawRef {
    /// File path, `stdin`, or `topic/partition` for Kafka.
    pub source: String,
    /// Byte offset of the enclosing JSON document in the (decompressed) source.
    pub byte_offset: u64,
    /// Index of the record within its document (the n-th element of `Records`, `records`, `value`...).
    pub record_index: u64,
    /// The wire format detected: `cloudtrail_s3_file`, `azure_diagnostic_export`, `gcp_pubsub_push`...
    pub format: String,
}

/// Relation of a delegation chain link to the identity that acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainRelation {
    /// The identity is a session of this role (AWS `sessionIssuer`).
    AssumedFrom,
    /// The caller impersonated / was delegated through this principal (GCP service account delegation,
    /// Azure on-behalf-of).
    DelegatedBy,
    /// An AWS service made the call on the identity's behalf (`invokedBy`).
    InvokedBy,
    /// The identity authenticated through this identity provider (SAML, OIDC, web identity).
    FederatedThrough,
}

impl ChainRelation {
    pub fn as_str(self) -> &'static str {
        match self {
            ChainRelation::AssumedFrom => "assumed_from",
            ChainRelation::DelegatedBy => "delegated_by",
            ChainRelation::InvokedBy => "invoked_by",
            ChainRelation::FederatedThrough => "federated_through",
        }
    }

    pub fn parse(s: &str) -> Option<ChainRelation> {
        [
            ChainRelation::AssumedFrom,
            ChainRelation::DelegatedBy,
            ChainRelation::InvokedBy,
            ChainRelation::FederatedThrough,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    pub relation: ChainRelation,
    pub principal: String,
}

/// One normalized audit event. Times are UTC with microsecond precision, the precision of the lake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The provider's event id (CloudTrail `eventID`, Azure `eventDataId`/`id`, GCP `insertId`), or
    /// `sha256:` and a content hash of the raw record when the provider gave none.
    pub event_id: String,
    pub event_time: DateTime<Utc>,
    /// True when the record carried no event time and `event_time` is the ingest time instead
    /// (trimmed or hand-made records; real provider logs always carry one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub event_time_estimated: bool,
    pub ingest_time: DateTime<Utc>,
    pub provider: Provider,
    pub class: EventClass,
    /// AWS account, Azure subscription, GCP project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// AWS organization, Azure tenant, GCP organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// AWS region, Azure location, GCP location or zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub identity: Identity,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Resource>,
    #[serde(default)]
    pub source: SourceEndpoint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    pub outcome: Outcome,
    pub raw_ref: RawRef,
}

impl Event {
    /// A stable id for a record that carries none: the same bytes always give the same id.
    pub fn content_hash_id(raw: &[u8]) -> String {
        let digest = Sha256::digest(raw);
        let mut id = String::with_capacity(7 + 32);
        id.push_str("sha256:");
        for byte in &digest[..16] {
            id.push_str(&format!("{byte:02x}"));
        }
        id
    }

    /// The calendar date of the event in UTC, the lake's partition key.
    pub fn date_partition(&self) -> String {
        self.event_time.format("%Y-%m-%d").to_string()
    }
}

/// Truncates a time to whole microseconds, the precision the Arrow schema stores.
pub fn truncate_to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_endpoint_keeps_non_ips_raw() {
        let ip = SourceEndpoint::from_raw(" 198.51.100.7 ");
        assert_eq!(
            ip.ip,
            Some("198.51.100.7".parse().unwrap_or_else(|_| unreachable!()))
        );
        let internal = SourceEndpoint::from_raw("AWS Internal");
        assert_eq!(internal.ip, None);
        assert_eq!(internal.raw.as_deref(), Some("AWS Internal"));
        let v6 = SourceEndpoint::from_raw("2001:db8::1");
        assert!(matches!(v6.ip, Some(IpAddr::V6(_))));
        let with_port = SourceEndpoint::from_raw("10.1.2.3:443");
        assert_eq!(
            with_port.ip.map(|i| i.to_string()).as_deref(),
            Some("10.1.2.3")
        );
        assert_eq!(SourceEndpoint::from_raw(""), SourceEndpoint::default());
        assert_eq!(SourceEndpoint::from_raw("gce-internal-ip").ip, None);
    }

    #[test]
    fn content_hash_is_stable_and_distinct() {
        let a = Event::content_hash_id(b"{\"a\":1}");
        assert_eq!(a, Event::content_hash_id(b"{\"a\":1}"));
        assert_ne!(a, Event::content_hash_id(b"{\"a\":2}"));
        assert!(a.starts_with("sha256:"));
        assert_eq!(a.len(), 7 + 32);
    }

    #[test]
    fn enums_round_trip_through_their_names() {
        for c in ActionCategory::ALL {
            assert_eq!(ActionCategory::parse(c.as_str()), Some(c));
        }
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.as_str()), Some(p));
        }
    }
}

//! What the simulator produces: native records, each tagged with where a real estate would have
//! delivered it.

use chrono::{DateTime, Utc};
use vigil_schemas::Provider;

/// Where a record travels in a real estate; file writers and emitters group records by channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// CloudTrail delivery to S3: `{"Records":[…]}` files per account and region, gzip.
    CloudTrail { account: String, region: String },
    /// Azure Activity Log exported by a diagnostic setting to a storage account (JSON lines per hour).
    AzureActivityExport { subscription: String },
    /// Azure Activity Log as the REST API (`az monitor activity-log list`) returns it (`{"value":[…]}`).
    AzureActivityRest { subscription: String },
    /// Entra ID sign-in logs (`SignInLogs`, `ServicePrincipalSignInLogs`, …) exported per tenant.
    EntraSignIn { tenant: String },
    /// Entra ID audit logs exported per tenant.
    EntraAudit { tenant: String },
    /// Key Vault `AuditEvent` resource logs exported per vault.
    KeyVault { subscription: String, vault: String },
    /// GCP Cloud Audit Logs exported by a log sink to Cloud Storage (NDJSON LogEntry), per log.
    GcpAudit { project: String, log: GcpLog },
    /// GCP Cloud Audit Logs pushed by a Pub/Sub push subscription (one envelope per message).
    GcpPubSubPush { project: String },
}

/// The audit log a GCP entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GcpLog {
    Activity,
    DataAccess,
}

impl GcpLog {
    /// The log id as it appears in `logName` and in sink folder names.
    pub fn log_id(self) -> &'static str {
        match self {
            GcpLog::Activity => "cloudaudit.googleapis.com/activity",
            GcpLog::DataAccess => "cloudaudit.googleapis.com/data_access",
        }
    }
}

impl Channel {
    pub fn provider(&self) -> Provider {
        match self {
            Channel::CloudTrail { .. } => Provider::Aws,
            Channel::AzureActivityExport { .. }
            | Channel::AzureActivityRest { .. }
            | Channel::EntraSignIn { .. }
            | Channel::EntraAudit { .. }
            | Channel::KeyVault { .. } => Provider::Azure,
            Channel::GcpAudit { .. } | Channel::GcpPubSubPush { .. } => Provider::Gcp,
        }
    }
}

/// One native record of the simulated estate.
#[derive(Debug, Clone, PartialEq)]
pub struct SimRecord {
    pub time: DateTime<Utc>,
    pub channel: Channel,
    /// The record in its provider's native JSON, compact, one line (for Pub/Sub push: the envelope).
    pub body: String,
    /// The event id the normalizers give this record.
    pub event_id: String,
    /// The identity key the normalizers give its caller.
    pub identity_key: String,
    /// Index into the run's scenarios when the record is malicious.
    pub scenario: Option<usize>,
}

impl SimRecord {
    pub fn provider(&self) -> Provider {
        self.channel.provider()
    }
}

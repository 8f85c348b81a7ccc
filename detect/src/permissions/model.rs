//! The shared model of permission analytics: principals from inventories, the permissions they
//! effectively hold, what they used, and the escalation steps between them. Every cloud module
//! produces these; findings, paths and the Permission Creep Index are computed on them alone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vigil_schemas::Provider;

/// What kind of principal an inventory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    Group,
    Role,
    Root,
    ServicePrincipal,
    ManagedIdentity,
    ServiceAccount,
}

/// A credential a principal holds: an access key, a client secret, a service account key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    pub id: String,
    /// `access_key`, `client_secret`, `certificate`, `service_account_key`, `login_profile`.
    pub kind: String,
    pub created: Option<DateTime<Utc>>,
    /// From the inventory when it says (AWS credential report style), else from the event lake.
    pub last_used: Option<DateTime<Utc>>,
    pub active: bool,
}

/// A user, group, role, service principal or service account found in an inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Principal {
    /// The identity key exactly as the normalizers compute it for this principal's events
    /// (see `vigil_schemas::identity`), so granted and used join on it. Groups get a key of the
    /// same style (`arn:aws:iam::…:group/…`, `azure:<object id>`, `gcp:group:<email>`).
    pub key: String,
    pub provider: Provider,
    pub kind: PrincipalKind,
    pub name: String,
    /// AWS account id, Azure subscription id (tenant id for directory-wide principals), GCP project id.
    pub account: String,
    pub created: Option<DateTime<Utc>>,
    /// Keys of the groups it belongs to.
    pub member_of: Vec<String>,
    pub credentials: Vec<Credential>,
}

/// Access level of a permission, as the providers' catalogs class them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    List,
    Read,
    Tagging,
    Write,
    /// Permission management (IAM policy, role assignment, setIamPolicy…).
    PermissionsManagement,
    Unknown,
}

impl AccessLevel {
    /// Write, delete and permission management: what the over-provisioning finding counts.
    pub fn is_high_risk(self) -> bool {
        matches!(
            self,
            AccessLevel::Write | AccessLevel::PermissionsManagement
        )
    }
}

/// Risk tags of a permission, from the catalogs' sensitive lists and Vigil's own rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskFlags {
    pub privilege_escalation: bool,
    pub credential_exposure: bool,
    pub data_access: bool,
    pub resource_exposure: bool,
    /// Reads secret values (Secrets Manager, SSM SecureString, Key Vault secrets, Secret Manager).
    pub reads_secrets: bool,
    /// Turns off or weakens security tooling (trails, flow logs, GuardDuty, diagnostic settings,
    /// log sinks, audit configs, Defender, Security Command Center).
    pub disables_security_tooling: bool,
}

/// What the catalog says of one permission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermissionInfo {
    /// `iam:CreateAccessKey`, `Microsoft.Authorization/roleAssignments/write`,
    /// `iam.serviceAccounts.setIamPolicy`: the name used events are mapped to.
    pub name: String,
    pub level: AccessLevel,
    pub risk: RiskFlags,
}

/// A cloud's permission catalog as the shared analytics see it: every permission has a dense index,
/// so an identity's permissions are a bitset (AdministratorAccess is 21,788 AWS actions; ten thousand
/// identities must fit in memory and be compared in milliseconds).
pub trait PermissionCatalog {
    fn permissions(&self) -> &[PermissionInfo];
    fn index_of(&self, name: &str) -> Option<u32>;
}

/// A set of catalog permissions, by index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionSet {
    words: Vec<u64>,
}

impl PermissionSet {
    pub fn new() -> PermissionSet {
        PermissionSet::default()
    }
    pub fn insert(&mut self, index: u32) {
        let (w, b) = (index as usize / 64, index % 64);
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << b;
    }
    pub fn remove(&mut self, index: u32) {
        if let Some(word) = self.words.get_mut(index as usize / 64) {
            *word &= !(1 << (index % 64));
        }
    }
    pub fn contains(&self, index: u32) -> bool {
        self.words
            .get(index as usize / 64)
            .is_some_and(|w| w & (1 << (index % 64)) != 0)
    }
    pub fn union_with(&mut self, other: &PermissionSet) {
        if self.words.len() < other.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a |= b;
        }
    }
    pub fn intersect_with(&mut self, other: &PermissionSet) {
        for (i, a) in self.words.iter_mut().enumerate() {
            *a &= other.words.get(i).copied().unwrap_or(0);
        }
    }
    pub fn subtract(&mut self, other: &PermissionSet) {
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a &= !b;
        }
    }
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|w| *w == 0)
    }
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(i, w)| {
            (0..64u32)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| i as u32 * 64 + b)
        })
    }
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Allow,
    Deny,
}

/// One grant as the inventory states it (an IAM policy statement, a role assignment, an IAM binding),
/// kept for evidence, conditions and reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    pub effect: Effect,
    /// Permission patterns as written (`s3:Get*`, `*`, `Microsoft.Compute/*/read`, `roles/editor`).
    pub patterns: Vec<String>,
    /// The patterns are exclusions (`NotAction`, `notActions`).
    pub not: bool,
    /// Resources or scopes it applies to; `*` for all.
    pub resources: Vec<String>,
    /// Conditions as JSON text; kept and reported, never dropped.
    pub condition: Option<String>,
    /// Where it comes from: `policy AdministratorAccess via group admins`, `role assignment Owner at
    /// /subscriptions/…`, `roles/editor on project acme-prod`.
    pub via: String,
}

/// Everything one principal can do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entitlements {
    pub principal: Principal,
    /// Effective permissions after wildcards, exclusions, denies and boundaries.
    pub allowed: PermissionSet,
    /// Allowed only under a condition (a subset of `allowed`).
    pub conditional: PermissionSet,
    pub grants: Vec<Grant>,
    /// How far its write and permission-management grants reach: 1.0 account-, subscription- or
    /// project-wide (or wider), 0.5 a resource group, folder or path wildcard, 0.25 named resources.
    pub reach: f64,
    /// Why the principal is admin-equivalent (`*:*` allowed on `*`; Owner at subscription; roles/owner
    /// on the project…), if it is.
    pub admin_equivalent: Option<String>,
}

/// One step an attacker holding `from` can take: become `to`, or (when `to` is `None`) become
/// admin-equivalent directly.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EscalationEdge {
    pub from: String,
    /// The principal key reached, or None for admin-equivalent directly.
    pub to: Option<String>,
    /// Short id of the primitive: `aws.iam-create-policy-version`, `aws.passrole-lambda`,
    /// `azure.role-assignment-write`, `gcp.sa-key-create`…
    pub primitive: String,
    /// The permissions that make the step possible.
    pub permissions: Vec<String>,
    /// The resource acted on.
    pub resource: String,
    /// One sentence, for the path printout.
    pub explanation: String,
}

/// How often and on what one principal used one permission in the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsedPermission {
    pub count: u64,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    /// Resources seen in the events (ARNs, resource ids, resource names), capped.
    pub resources: BTreeSet<String>,
}

/// What the event lake says each principal used, by identity key then permission name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub by_identity: BTreeMap<String, BTreeMap<String, UsedPermission>>,
    /// Last event of each identity (any permission), for inactivity.
    pub last_seen: BTreeMap<String, DateTime<Utc>>,
    /// Credential ids (access key ids) seen in events, with the last time.
    pub credentials_last_used: BTreeMap<String, DateTime<Utc>>,
    /// Events whose action could not be mapped to a catalog permission, by provider and action.
    pub unmapped: BTreeMap<String, u64>,
    pub events: u64,
}

/// A least-privilege replacement for what one principal is granted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RightSized {
    pub identity: String,
    /// `aws_iam_policy`, `azure_custom_role` or `gcp_custom_role`.
    pub format: String,
    /// The policy document / role definition, ready to apply.
    pub document: serde_json::Value,
    pub kept: Vec<String>,
    pub removed: Vec<String>,
}

/// The action of one event, as the lake stores it (`action_service`, `action_operation`,
/// `action_permission` columns): e.g. `ec2.amazonaws.com` / `DescribeInstances` /
/// `ec2:DescribeInstances`; `Microsoft.Compute` / `Microsoft.Compute/virtualMachines/write` / the same;
/// `bigquery.googleapis.com` / `google.cloud.bigquery.v2.JobService.InsertJob` / `bigquery.jobs.create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObservedAction<'a> {
    pub service: &'a str,
    pub operation: &'a str,
    pub permission: &'a str,
}

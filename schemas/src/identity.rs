//! Who acted, and the key behavioural baselines are kept under.
//!
//! # How each provider's caller becomes the identity key
//!
//! The key must name the same principal every time it acts, whatever session, credential or log family
//! the record came through, and never merge two principals. Keys are ARNs where AWS has one, otherwise
//! prefixed with the provider so keys of different clouds never collide.
//!
//! | provider | caller in the record | identity key | type | edge cases |
//! |---|---|---|---|---|
//! | AWS | `userIdentity.type = IAMUser` | the user ARN `arn:aws:iam::111122223333:user/Alice` | `human_user` | no `arn` (trimmed samples): built from `accountId` + `userName`; GovCloud/China partitions kept as written (`arn:aws-us-gov:`) |
//! | AWS | `Root` | `arn:aws:iam::111122223333:root` | `root` | failed root console logins carry no ARN: built from `accountId` |
//! | AWS | `AssumedRole` | the **role** ARN from `sessionContext.sessionIssuer.arn`, or derived from `arn:aws:sts::…:assumed-role/Role/session` | `role_session` | the session name (an instance id, a user's e-mail) goes to `session_name`, not the key, so every session of a role shares one baseline. Exception: IAM Identity Center roles (`AWSReservedSSO_*`) and SAML/web-identity sessions carry a human per session, so their key is `role-arn/session-name` and type `federated` |
//! | AWS | `FederatedUser` | `arn:aws:sts::…:federated-user/name` | `federated` | issuer user (from `sessionIssuer`) goes to the chain as `assumed_from` |
//! | AWS | `AWSService` | `aws-service:<invokedBy>` (`aws-service:ec2.amazonaws.com`) | `aws_service` | `invokedBy` missing: `aws-service:<eventSource>` |
//! | AWS | `AWSAccount` | `aws-account:<accountId>` or `aws-account:<accountId>:<principalId>` | `role` | `principalId = ANONYMOUS_PRINCIPAL` (public S3 access) is `anonymous:aws` |
//! | AWS | `SAMLUser` / `WebIdentityUser` (`AssumeRoleWithSAML` / `…WebIdentity`) | `aws-saml:<provider>/<userName>` / `aws-web-identity:<provider>/<userName>` | `federated` | the role they assume is a resource of the event, not the actor |
//! | AWS | `IdentityCenterUser` | `aws-identity-center:<identityStoreArn or onBehalfOf.userId>` | `human_user` | |
//! | AWS | no `userIdentity` (CloudTrail Lake projections, trimmed rule tests) | `unknown:aws:<accountId>` | `unknown` | the event still counts for the account |
//! | Azure | Activity Log with claims | `azure:<object id>` from the `…/objectidentifier` (`oid`) claim, lower-cased | user: `human_user`; `appid` with no user name claim: `service_principal`; `xms_mirid` or `idtyp=app` with a managed-identity resource id: `managed_identity` | object ids are global GUIDs, so the tenant is not part of the key; UPN renames do not split a baseline |
//! | Azure | Activity Log without claims, `caller` only | `azure:<caller lower-cased>` (a UPN, or the application id GUID of a service principal) | e-mail shaped: `human_user`; GUID: `service_principal` | `identity` given as a string, `{}` or absent is read the same way |
//! | Azure | Entra ID sign-in (`SignInLogs`, `NonInteractiveUserSignInLogs`) | `azure:<properties.userId>` | `human_user` | no `userId`: `azure:<userPrincipalName lower-cased>` |
//! | Azure | Entra ID service principal / managed identity sign-in | `azure:<properties.servicePrincipalId>` | `service_principal` / `managed_identity` | |
//! | Azure | Entra ID audit | `azure:<initiatedBy.user.id>` or `azure:<initiatedBy.app.servicePrincipalId>` | `human_user` / `service_principal` | nothing usable: `azure:<identity string lower-cased>` |
//! | Azure | role-assignment `evidence` naming the requester | `azure:<principalId>` when `principalType` is User or ServicePrincipal | as the principal type | a Group's id names the group, not the caller, so it is not used |
//! | Azure | storage requests signed with an account key or SAS token | `azure-storage:<account>/<sas or accountkey>` | `service_principal` | the key holder is unknown; the key is the identity |
//! | Azure | anonymous storage or AKS access | `anonymous:azure` | `anonymous` | |
//! | Azure | AKS audit (`kube-audit`) user that is not an Entra principal (local account, Kubernetes service account, node) | `azure-aks:<cluster resource id>:<username>` | `service_account` / `provider_service` | scoped by cluster so two clusters' `kube-system` accounts never share a baseline; e-mail or GUID usernames use the `azure:` key |
//! | Azure | nothing identifies the caller (platform events, resource health) | `azure-platform:<category>` | `provider_service`, or `unknown` when the record has a real client IP | |
//! | GCP | `authenticationInfo.principalEmail` | `gcp:<email lower-cased>` | `*.gserviceaccount.com`: `service_account`; `system:*` (GKE): `provider_service`; otherwise `human_user` | service accounts acting for another principal: `serviceAccountDelegationInfo` becomes the chain (`delegated_by`) |
//! | GCP | GKE `system:serviceaccount:<ns>:<name>` | `gcp:system:serviceaccount:<ns>:<name>` | `service_account` outside `kube-system` (customer workloads), `provider_service` inside it and for other `system:*` users | `system:anonymous` is `anonymous`; `system@google.com` is `provider_service` |
//! | GCP | `principalSubject` only (workforce / workload identity federation) | `gcp:<subject>` | `federated` | case kept: subjects are case-sensitive URIs |
//! | GCP | `authoritySelector` only (GKE) | `anonymous:gcp` | `anonymous` | the selector becomes the display name |
//! | GCP | `authenticationInfo` absent or `{}` | `anonymous:gcp` | `anonymous` | `allUsers` access, policy-denied probes |
//!
//! Keys never contain the session, credential or source network: those are features, not identities.

use serde::{Deserialize, Serialize};

use crate::event::ChainLink;

/// The kind of principal that acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    HumanUser,
    Role,
    RoleSession,
    ServicePrincipal,
    ManagedIdentity,
    ServiceAccount,
    Root,
    /// AWS service principals (`ec2.amazonaws.com`), GKE system users, Azure platform callers.
    ProviderService,
    Federated,
    Anonymous,
    Unknown,
}

impl IdentityKind {
    pub const ALL: [IdentityKind; 11] = [
        IdentityKind::HumanUser,
        IdentityKind::Role,
        IdentityKind::RoleSession,
        IdentityKind::ServicePrincipal,
        IdentityKind::ManagedIdentity,
        IdentityKind::ServiceAccount,
        IdentityKind::Root,
        IdentityKind::ProviderService,
        IdentityKind::Federated,
        IdentityKind::Anonymous,
        IdentityKind::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdentityKind::HumanUser => "human_user",
            IdentityKind::Role => "role",
            IdentityKind::RoleSession => "role_session",
            IdentityKind::ServicePrincipal => "service_principal",
            IdentityKind::ManagedIdentity => "managed_identity",
            IdentityKind::ServiceAccount => "service_account",
            IdentityKind::Root => "root",
            IdentityKind::ProviderService => "provider_service",
            IdentityKind::Federated => "federated",
            IdentityKind::Anonymous => "anonymous",
            IdentityKind::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<IdentityKind> {
        IdentityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The acting identity of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The stable key baselines are kept under; see the module documentation.
    pub key: String,
    pub kind: IdentityKind,
    /// A name a person recognises: user name, UPN, role name, service account e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The session or human behind an assumed role: AWS role session name, Azure UPN behind a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// Access key id, Azure application id, GCP service account key name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
    /// Whether multi-factor authentication backed this call, when the provider says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<bool>,
    /// How the identity came to act: assumed-from role, delegation, invoking service, federation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<ChainLink>,
}

impl Identity {
    pub fn new(key: impl Into<String>, kind: IdentityKind) -> Identity {
        Identity {
            key: key.into(),
            kind,
            display_name: None,
            session_name: None,
            credential_id: None,
            mfa: None,
            chain: Vec::new(),
        }
    }
}

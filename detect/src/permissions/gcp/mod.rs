//! GCP permission analytics: IAM allow policies of projects, folders, organizations and resources,
//! custom roles and service account keys, expanded against the predefined-role catalog.
//!
//! Principal keys equal the normalizer's identity keys: `gcp:<email>` for users and service accounts,
//! `gcp:group:<email>`, `gcp:domain:<domain>`, `anonymous:gcp` for `allUsers` and
//! `gcp:allAuthenticatedUsers`. IAM deny policies and principal access boundaries are out of scope.

mod catalog;
mod escalation;
mod grants;
mod inventory;
mod resolve;
mod rightsize;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::DetectError;
use crate::permissions::model::{
    Entitlements, EscalationEdge, ObservedAction, PermissionCatalog, RightSized, UsedPermission,
};

pub use catalog::Catalog;
pub use inventory::Inventory;

/// Reads GCP inventory exports: `(source name used in errors, bytes)` per file. Shapes, detected
/// from the content:
///
/// - an allow policy wrapped as `{"resource": "projects/acme-prod" | "folders/N" | "organizations/N",
///   "policy": <gcloud … get-iam-policy --format=json>}`;
/// - a bare allow policy (`{bindings, etag, version}`) from `gcloud projects|resource-manager folders|
///   organizations get-iam-policy --format=json`: the policy does not say which resource it is for, so
///   the file must be named `projects_<id>.json`, `folders_<n>.json` or `organizations_<n>.json`
///   (anything else is an error);
/// - `gcloud asset search-all-iam-policies --format=json` output (a list of `{resource, project,
///   folders, organization, policy}`), which names each resource and tells the hierarchy;
/// - custom roles: `gcloud iam roles describe` (one object) or a list of them (`name`,
///   `includedPermissions`, `title`, `stage`);
/// - service account keys: `gcloud iam service-accounts keys list --format=json` (SYSTEM_MANAGED keys
///   are ignored);
/// - service accounts: `gcloud iam service-accounts list --format=json`;
/// - projects: `gcloud projects describe|list --format=json` (parent folder/organization, number);
/// - folders: `gcloud resource-manager folders describe|list --format=json` (parent);
/// - group members: `{"group": "<email>", "memberships": <gcloud identity groups memberships list
///   --group-email=<email> --format=json>}`.
///
/// Any unreadable document or field is an error naming the source and the field; nothing is loaded
/// from a call that fails.
pub fn parse_inventory(docs: &[(String, Vec<u8>)]) -> Result<Inventory, DetectError> {
    let mut builder = inventory::Builder::default();
    for (source, bytes) in docs {
        builder.add(source, bytes)?;
    }
    Ok(builder.finish())
}

/// One [`Entitlements`] per principal of the inventory, groups included.
pub fn entitlements(inventory: &Inventory, catalog: &Catalog) -> Vec<Entitlements> {
    grants::entitlements(inventory, catalog)
}

/// Escalation steps each principal can take (see the `escalation` module for the primitives).
pub fn escalation_edges(
    inventory: &Inventory,
    entitlements: &[Entitlements],
    catalog: &Catalog,
) -> Vec<EscalationEdge> {
    escalation::escalation_edges(inventory, entitlements, catalog)
}

/// Catalog permissions one event exercised. Audit logs carry the IAM permission checked
/// (`authorizationInfo.permission`), which the normalizer stores as the action's permission; when that
/// is not a catalog permission (a derived guess, a method name), the method name is looked up as a REST
/// discovery method id (`v1.compute.instances.insert` → `compute.instances.insert`). `Some(vec![])`
/// for methods that need no permission; `None` (a gap) otherwise.
pub fn event_permissions(action: ObservedAction<'_>, catalog: &Catalog) -> Option<Vec<u32>> {
    if let Some(i) = catalog.index_of(action.permission.trim()) {
        return Some(vec![i]);
    }
    [action.operation, action.permission]
        .into_iter()
        .filter_map(discovery_method_id)
        .find_map(|id| catalog.method_permissions(&id).map(<[u32]>::to_vec))
}

/// `v1.compute.instances.insert` / `beta.compute.disks.get` → `compute.instances.insert`; gRPC names
/// (`google.cloud.bigquery.v2.JobService.InsertJob`) give nothing (discovery ids are REST).
fn discovery_method_id(method: &str) -> Option<String> {
    let segments: Vec<&str> = method.trim().split('.').collect();
    let start = segments.iter().position(|s| !is_version(s))?;
    let rest = &segments[start..];
    let rest_like = rest.len() >= 3
        && rest
            .iter()
            .all(|s| s.starts_with(|c: char| c.is_ascii_lowercase()));
    rest_like.then(|| rest.join("."))
}

fn is_version(segment: &str) -> bool {
    segment == "alpha"
        || segment == "beta"
        || segment
            .strip_prefix('v')
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
}

/// GCP identity keys name one principal each: usage belongs to a principal only under its own key.
pub fn usage_belongs_to(principal_key: &str, usage_key: &str) -> bool {
    principal_key == usage_key
}

/// A custom role holding exactly the permissions used (document: `title`, `description`, `stage`,
/// `includedPermissions`, plus `roleId`, `bindTo` — the projects the events show it was used in —,
/// `resourcesSeen`, `usedButNotGranted` and `unknownPermissions`).
pub fn rightsize(
    entitlements: &Entitlements,
    used: &BTreeMap<String, UsedPermission>,
    catalog: &Catalog,
) -> RightSized {
    rightsize::rightsize(entitlements, used, catalog)
}

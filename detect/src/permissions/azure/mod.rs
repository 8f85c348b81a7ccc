//! Azure RBAC permission analytics: what each principal may do (role assignments expanded against the
//! catalog), which operations an Activity Log event exercised, escalation steps, and right-sized custom
//! roles.
//!
//! Principal keys are `azure:<object id lower-cased>`, as the Activity Log normalizer computes them
//! from the `oid` claim. Limits, said once here:
//! * deny assignments are not read (they are rare and only Azure Blueprints / managed apps create
//!   them), so a denied operation can appear allowed;
//! * group membership is not part of the RBAC exports: without Vigil's `groupMembers` document a
//!   group's assignments apply to the group principal only, and its members' membership is unknown;
//! * management-group hierarchy is not exported: a management-group scope is taken to cover every
//!   subscription;
//! * events keyed by a UPN or an application id (Activity Log records without claims) do not join
//!   principals keyed by object id.

mod catalog;
mod escalation;
mod grants;
mod inventory;
mod rightsize;
mod scope;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use catalog::Catalog;
pub use inventory::Inventory;

use crate::DetectError;
use crate::permissions::model::{
    Entitlements, EscalationEdge, ObservedAction, PermissionCatalog, RightSized, UsedPermission,
};

/// Reads Azure inventory exports, given as (source name used in errors, bytes). Each document's shape
/// is detected:
///
/// * role assignments: `az role assignment list --all` output (a JSON array of `{id, name,
///   principalId, principalName, principalType, roleDefinitionId, roleDefinitionName, scope,
///   condition, conditionVersion, createdOn, …}`), or the ARM REST shape (the same fields under
///   `properties`, the array optionally wrapped in `{"value": […]}`; `scope` may then come from the
///   assignment `id`);
/// * custom role definitions: `az role definition list --custom-role-only true` output (`{id, name,
///   roleName, roleType, permissions: [{actions, notActions, dataActions, notDataActions}],
///   assignableScopes}`), or the REST shape (under `properties`);
/// * group membership, Vigil's own convenience format (no Azure command prints it):
///   `{"groupMembers": {"<group object id>": ["<member object id>" or an item of `az ad group member
///   list` ({id, @odata.type, displayName, userPrincipalName, servicePrincipalType}), …]}}`. Nested
///   groups are followed.
///
/// A document may mix assignments and definitions. Principals' kinds come from `principalType`;
/// service principals whose `principalName` is a managed-identity resource id or starts with `id-`
/// (`mi-`, `msi-`, `uami-`) are managed identities; group members of unknown type are users. A
/// principal's `created` is its earliest assignment's `createdOn` (it existed by then), its `account`
/// the first subscription of its assignment scopes (else the management group, else `tenant`).
///
/// Any unreadable document, or an assignment or definition missing a required field, is an error
/// naming the file and the field. Role references are checked against the catalog by
/// [`check_role_references`].
pub fn parse_inventory(docs: &[(String, Vec<u8>)]) -> Result<Inventory, DetectError> {
    inventory::parse(docs)
}

/// Errors when an assignment names a role definition that is neither built in nor among the custom
/// definitions given: without its permissions the principal's grants would be silently incomplete.
/// Call it after [`parse_inventory`] (which has no catalog to check against).
pub fn check_role_references(inventory: &Inventory, catalog: &Catalog) -> Result<(), DetectError> {
    for a in &inventory.assignments {
        if inventory.custom_role(&a.role_guid).is_none()
            && catalog.built_in_role(&a.role_guid).is_none()
        {
            return Err(inventory::inventory_error(
                &a.source,
                format!(
                    "role assignment {} (principal {}, scope {}): roleDefinitionId {} is neither a \
                     built-in role nor among the custom role definitions given",
                    a.id, a.principal_id, a.scope, a.role_definition_id
                ),
            ));
        }
    }
    Ok(())
}

/// One per principal (groups included): allowed operations are each assignment's role (actions minus
/// notActions, dataActions minus notDataActions, wildcards expanded) unioned over the principal's and
/// its groups' assignments. Permissions granted only by assignments with an ABAC condition are
/// `conditional`; the condition text stays on the grant. Reach is the widest scope of an assignment
/// allowing a write, delete or permission-management operation (1.0 subscription, management group,
/// root; 0.5 resource group; 0.25 resource; 0 without such grants). Admin-equivalent: an
/// unconditional assignment at a subscription or wider whose role allows
/// `Microsoft.Authorization/roleAssignments/write` (Owner, User Access Administrator, any `*` role not
/// excluding it).
pub fn entitlements(inventory: &Inventory, catalog: &Catalog) -> Vec<Entitlements> {
    grants::entitlements(inventory, catalog)
}

/// Escalation steps; see the `escalation` module for the primitives and the approximations.
pub fn escalation_edges(
    inventory: &Inventory,
    entitlements: &[Entitlements],
    catalog: &Catalog,
) -> Vec<EscalationEdge> {
    escalation::escalation_edges(inventory, entitlements, catalog)
}

/// Catalog operations one event exercised; `None` when the action cannot be mapped (a gap).
///
/// The event's permission is the ARM operation name, matched case-insensitively. Entra sign-ins
/// (`Microsoft.aadiam/signIn`) exercise no RBAC permission: `Some(vec![])`. An exact catalog match
/// wins (the Activity Log's `Microsoft.KeyVault/vaults/secrets/read` is the ARM operation, which
/// returns secret metadata, not values). Key Vault resource-log names (`Microsoft.KeyVault/SecretGet`)
/// map to the data action they need. Entra directory operations (`microsoft.directory/…`) are Entra
/// roles, not RBAC: gaps.
pub fn event_permissions(action: ObservedAction<'_>, catalog: &Catalog) -> Option<Vec<u32>> {
    let permission = action.permission.trim();
    let lower = permission.to_ascii_lowercase();
    if lower == "microsoft.aadiam/signin" {
        return Some(Vec::new());
    }
    if let Some(i) = catalog.index_of(permission) {
        return Some(vec![i]);
    }
    if let Some(data_action) = key_vault_data_action(&lower) {
        return catalog.index_of(data_action).map(|i| vec![i]);
    }
    // Some records carry the operation only (permission `unknown`).
    let operation = action.operation.trim();
    if operation.contains('/') {
        return catalog.index_of(operation).map(|i| vec![i]);
    }
    None
}

/// The data action a Key Vault request needs, from its resource-log operation name (the normalizer
/// writes `Microsoft.KeyVault/<operationName>`), or from a data-plane-style name the catalog lacks.
fn key_vault_data_action(lower: &str) -> Option<&'static str> {
    let operation = lower.strip_prefix("microsoft.keyvault/")?;
    Some(match operation {
        "secretget" | "vaults/secrets/read" | "vaults/secrets/getsecret" => {
            "Microsoft.KeyVault/vaults/secrets/getSecret/action"
        }
        "secretlist" | "secretlistversions" => {
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action"
        }
        "secretset" => "Microsoft.KeyVault/vaults/secrets/setSecret/action",
        "keyget" | "keylist" | "keylistversions" => "Microsoft.KeyVault/vaults/keys/read",
        "keyencrypt" => "Microsoft.KeyVault/vaults/keys/encrypt/action",
        "keydecrypt" => "Microsoft.KeyVault/vaults/keys/decrypt/action",
        "keysign" => "Microsoft.KeyVault/vaults/keys/sign/action",
        "keyverify" => "Microsoft.KeyVault/vaults/keys/verify/action",
        "keywrap" => "Microsoft.KeyVault/vaults/keys/wrap/action",
        "keyunwrap" => "Microsoft.KeyVault/vaults/keys/unwrap/action",
        "keybackup" => "Microsoft.KeyVault/vaults/keys/backup/action",
        "keyrelease" => "Microsoft.KeyVault/vaults/keys/release/action",
        "certificateget" | "certificatelist" | "certificatelistversions" => {
            "Microsoft.KeyVault/vaults/certificates/read"
        }
        _ => return None,
    })
}

/// Object ids are the keys on both sides: equality, ignoring case.
pub fn usage_belongs_to(principal_key: &str, usage_key: &str) -> bool {
    principal_key.eq_ignore_ascii_case(usage_key)
}

/// A custom role definition allowing the granted operations that were used; see the `rightsize`
/// module.
pub fn rightsize(
    entitlements: &Entitlements,
    used: &BTreeMap<String, UsedPermission>,
    catalog: &Catalog,
) -> RightSized {
    rightsize::rightsize(entitlements, used, catalog)
}

//! Least-privilege custom role definitions from what a principal used.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::catalog::Catalog;
use super::scope::Scope;
use crate::permissions::model::{Entitlements, PermissionCatalog, RightSized, UsedPermission};

/// An Azure custom role definition (the `az role definition create --role-definition` shape) allowing
/// exactly the granted operations that were used: control-plane ones in `Actions`, data actions in
/// `DataActions`. Used operations the principal is not granted are left out (a right-sized role never
/// grants more). `AssignableScopes` are the resource groups (or subscriptions, for subscription-level
/// resources) of the resources the events show; with none shown, the scopes of the principal's own
/// assignments. Custom roles cannot be assignable at a single resource, hence resource groups.
pub(crate) fn rightsize(
    entitlements: &Entitlements,
    used: &BTreeMap<String, UsedPermission>,
    catalog: &Catalog,
) -> RightSized {
    let mut kept_indexes = BTreeSet::new();
    let mut scopes = BTreeSet::new();
    let mut events = 0u64;
    for (name, stats) in used {
        let Some(index) = catalog.index_of(name) else {
            continue;
        };
        if !entitlements.allowed.contains(index) {
            continue;
        }
        kept_indexes.insert(index);
        events += stats.count;
        scopes.extend(stats.resources.iter().filter_map(|r| assignable_scope(r)));
    }
    if scopes.is_empty() {
        scopes.extend(
            entitlements
                .grants
                .iter()
                .flat_map(|g| g.resources.iter())
                .map(|s| Scope::normalise(s)),
        );
    }
    if scopes.is_empty() {
        scopes.insert(format!("/subscriptions/{}", entitlements.principal.account));
    }
    let scopes = drop_covered(scopes);

    let name_of = |i: &u32| catalog.name_of(*i).map(str::to_string);
    let actions: Vec<String> = kept_indexes
        .iter()
        .filter(|i| !catalog.is_data_only(**i))
        .filter_map(name_of)
        .collect();
    let data_actions: Vec<String> = kept_indexes
        .iter()
        .filter(|i| catalog.is_data_only(**i))
        .filter_map(name_of)
        .collect();
    let mut kept: Vec<String> = kept_indexes.iter().filter_map(name_of).collect();
    kept.sort_unstable();
    let mut removed: Vec<String> = entitlements
        .allowed
        .iter()
        .filter(|i| !kept_indexes.contains(i))
        .filter_map(|i| name_of(&i))
        .collect();
    removed.sort_unstable();

    let principal = &entitlements.principal;
    let document = json!({
        "Name": format!("{}-rightsized", principal.name),
        "IsCustom": true,
        "Description": format!(
            "Least-privilege role for {} ({}) written by Vigil from {} used operations ({} events); \
             replaces {} granted operations.",
            principal.name, principal.key, kept.len(), events, entitlements.allowed.len()
        ),
        "Actions": actions,
        "NotActions": [],
        "DataActions": data_actions,
        "NotDataActions": [],
        "AssignableScopes": scopes,
    });
    RightSized {
        identity: principal.key.clone(),
        format: "azure_custom_role".to_string(),
        document,
        kept,
        removed,
    }
}

/// The resource group (or subscription) a resource id lies in; `None` for what is not a resource id.
fn assignable_scope(resource: &str) -> Option<String> {
    let trimmed = Scope::normalise(resource);
    match Scope::parse(&trimmed) {
        Scope::Subscription(_) | Scope::ResourceGroup { .. } | Scope::ManagementGroup(_) => {
            Some(trimmed)
        }
        Scope::Resource {
            subscription: Some(sub),
            group,
            ..
        } => {
            let prefix_len = match group {
                Some(g) => format!("/subscriptions/{sub}/resourcegroups/{g}").len(),
                None => format!("/subscriptions/{sub}").len(),
            };
            // Keep the caller's spelling; the prefix has the same length in any case.
            trimmed.get(..prefix_len).map(str::to_string)
        }
        _ => None,
    }
}

/// Removes case-insensitive duplicates (first spelling kept) and scopes lying under another one.
fn drop_covered(scopes: BTreeSet<String>) -> Vec<String> {
    let mut unique: BTreeMap<String, String> = BTreeMap::new();
    for scope in scopes {
        unique.entry(scope.to_ascii_lowercase()).or_insert(scope);
    }
    unique
        .iter()
        .filter(|(lower, _)| {
            !unique
                .keys()
                .any(|outer| outer != *lower && Scope::covers(outer, lower))
        })
        .map(|(_, scope)| scope.clone())
        .collect()
}

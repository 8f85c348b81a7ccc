//! Least-privilege custom roles written from what a principal used.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::permissions::model::{
    Entitlements, PermissionCatalog, PrincipalKind, RightSized, UsedPermission,
};

use super::catalog::Catalog;

pub(super) fn rightsize(
    e: &Entitlements,
    used: &BTreeMap<String, UsedPermission>,
    catalog: &Catalog,
) -> RightSized {
    let names = catalog.permissions();
    let granted: BTreeSet<&str> = e
        .allowed
        .iter()
        .filter_map(|i| names.get(i as usize))
        .map(|p| p.name.as_str())
        .collect();
    let (mut included, mut unknown, mut not_granted) = (Vec::new(), Vec::new(), Vec::new());
    for name in used.keys() {
        if catalog.index_of(name).is_none() {
            // A custom role naming an unknown permission is rejected by IAM: leave it out, say so.
            unknown.push(name.clone());
            continue;
        }
        if !granted.contains(name.as_str()) {
            not_granted.push(name.clone());
        }
        included.push(name.clone());
    }
    let kept: Vec<String> = included
        .iter()
        .filter(|n| granted.contains(n.as_str()))
        .cloned()
        .collect();
    let removed: Vec<String> = granted
        .iter()
        .filter(|n| !used.contains_key(**n))
        .map(|n| n.to_string())
        .collect();

    // Bind where it was used: the projects the events' resources name, else the principal's project.
    let mut projects: BTreeSet<String> = used
        .values()
        .flat_map(|u| u.resources.iter())
        .filter_map(|r| project_of(r))
        .collect();
    if projects.is_empty() && !e.principal.account.is_empty() && !e.principal.account.contains('/')
    {
        projects.insert(e.principal.account.clone());
    }
    let role_id = role_id(&e.principal.name);
    let member = member_of(e.principal.kind, &e.principal.key, &e.principal.name);
    let bind_to: Vec<serde_json::Value> = if included.is_empty() {
        Vec::new()
    } else {
        projects
            .iter()
            .map(|p| {
                json!({
                    "resource": format!("projects/{p}"),
                    "role": format!("projects/{p}/roles/{role_id}"),
                    "member": member,
                    "gcloud": format!(
                        "gcloud iam roles create {role_id} --project={p} --file=ROLE.json && gcloud projects add-iam-policy-binding {p} --member={member} --role=projects/{p}/roles/{role_id}"
                    ),
                })
            })
            .collect()
    };
    let resources_seen: BTreeMap<&str, &BTreeSet<String>> = used
        .iter()
        .filter(|(_, u)| !u.resources.is_empty())
        .map(|(n, u)| (n.as_str(), &u.resources))
        .collect();
    let document = json!({
        "title": format!("Least privilege for {}", e.principal.name),
        "description": format!(
            "Written by Vigil from {} permission(s) {} used; replaces {} granted permission(s).",
            included.len(), e.principal.name, granted.len()
        ),
        "stage": "GA",
        "includedPermissions": included,
        "roleId": role_id,
        "bindTo": bind_to,
        "resourcesSeen": resources_seen,
        "usedButNotGranted": not_granted,
        "unknownPermissions": unknown,
    });
    RightSized {
        identity: e.principal.key.clone(),
        format: "gcp_custom_role".to_string(),
        document,
        kept,
        removed,
    }
}

/// The project id a resource name is in (`projects/acme-prod/jobs/x`, `//bigquery.googleapis.com/projects/…`);
/// `projects/_` (buckets) names none.
fn project_of(resource: &str) -> Option<String> {
    let parts: Vec<&str> = resource.split('/').collect();
    parts
        .windows(2)
        .find(|w| w[0] == "projects" && !w[1].is_empty() && w[1] != "_")
        .map(|w| w[1].to_string())
}

/// A custom role id (`[a-zA-Z0-9_.]{3,64}`) from a principal name.
fn role_id(name: &str) -> String {
    let local = name.split('@').next().unwrap_or(name);
    let cleaned: String = local
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut id = format!("vigil_{cleaned}");
    id.truncate(64);
    id
}

/// The IAM policy member string of a principal.
fn member_of(kind: PrincipalKind, key: &str, name: &str) -> String {
    match (kind, key) {
        (_, "anonymous:gcp") => "allUsers".to_string(),
        (_, "gcp:allAuthenticatedUsers") => "allAuthenticatedUsers".to_string(),
        (_, k) if k.starts_with("gcp:domain:") => format!("domain:{name}"),
        (PrincipalKind::Group, _) => format!("group:{name}"),
        (PrincipalKind::ServiceAccount, _) => format!("serviceAccount:{name}"),
        _ => format!("user:{name}"),
    }
}

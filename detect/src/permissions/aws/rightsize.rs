//! Least-privilege IAM policies written from what a principal used.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::catalog::Catalog;
use crate::permissions::{
    Entitlements, PermissionCatalog, PermissionSet, RightSized, UsedPermission,
};

/// One statement per service (and per distinct resource list within it). `Resource` is the ARNs the
/// events named when the action supports resource-level permissions and every resource seen is an
/// ARN; otherwise `*`. Used permissions the principal is not granted by its identity policies (a
/// resource policy let it in) are left out: this policy must not grant anything new.
pub(crate) fn rightsize(
    entitlements: &Entitlements,
    used: &BTreeMap<String, UsedPermission>,
    catalog: &Catalog,
) -> RightSized {
    let mut kept_set = PermissionSet::new();
    // service prefix → resource list (None = `*`) → actions
    let mut by_service: BTreeMap<String, BTreeMap<Option<Vec<String>>, BTreeSet<String>>> =
        BTreeMap::new();
    for (name, stats) in used {
        let Some(index) = catalog.index_of(name) else {
            continue;
        };
        if !entitlements.allowed.contains(index) {
            continue;
        }
        kept_set.insert(index);
        let canonical = catalog.name(index).to_string();
        let service = canonical
            .split_once(':')
            .map_or(canonical.as_str(), |(s, _)| s)
            .to_string();
        let scoped = catalog.is_resource_scoped(index)
            && !stats.resources.is_empty()
            && stats.resources.iter().all(|r| r.starts_with("arn:"));
        let resources = scoped.then(|| {
            let mut list: BTreeSet<String> = BTreeSet::new();
            for r in &stats.resources {
                list.extend(with_any_iam_path(r));
            }
            list.into_iter().collect::<Vec<_>>()
        });
        by_service
            .entry(service)
            .or_default()
            .entry(resources)
            .or_default()
            .insert(canonical);
    }
    let mut statements = Vec::new();
    for (service, groups) in &by_service {
        let base = sid_of(service);
        for (n, (resources, actions)) in groups.iter().enumerate() {
            let sid = if n == 0 {
                base.clone()
            } else {
                format!("{base}{}", n + 1)
            };
            let resource = match resources {
                None => Value::String("*".into()),
                Some(list) => json!(list),
            };
            statements.push(json!({
                "Sid": sid,
                "Effect": "Allow",
                "Action": actions.iter().collect::<Vec<_>>(),
                "Resource": resource,
            }));
        }
    }
    let kept: Vec<String> = kept_set
        .iter()
        .map(|i| catalog.name(i).to_string())
        .collect();
    let mut removed_set = entitlements.allowed.clone();
    removed_set.subtract(&kept_set);
    let removed = removed_set
        .iter()
        .map(|i| catalog.name(i).to_string())
        .collect();
    RightSized {
        identity: entitlements.principal.key.clone(),
        format: "aws_iam_policy".into(),
        document: json!({"Version": "2012-10-17", "Statement": statements}),
        kept,
        removed,
    }
}

/// CloudTrail names IAM users, roles and groups by name only, so an ARN built from an event lacks the
/// IAM path (`user/ci-backup` for `user/service/ci-backup`) and would not match the real one. Names
/// are unique in an account whatever the path, so `user/*/ci-backup` next to `user/ci-backup` matches
/// that one principal and no other.
pub(crate) fn with_any_iam_path(resource: &str) -> Vec<String> {
    let mut out = vec![resource.to_string()];
    let Some((head, rest)) = resource.split_once(":iam::") else {
        return out;
    };
    let Some((account, path)) = rest.split_once(':') else {
        return out;
    };
    if let Some((kind, name)) = path.split_once('/')
        && matches!(kind, "user" | "role" | "group")
        && !name.is_empty()
        && !name.contains(['/', '*', '?'])
    {
        out.push(format!("{head}:iam::{account}:{kind}/*/{name}"));
    }
    out
}

/// A statement id from a service prefix: IAM Sids are alphanumeric (`access-analyzer` → `AccessAnalyzer`).
fn sid_of(service: &str) -> String {
    service
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

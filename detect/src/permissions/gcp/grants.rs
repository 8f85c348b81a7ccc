//! Role expansion and effective permissions per principal.

use std::collections::BTreeMap;

use crate::permissions::model::{
    Effect, Entitlements, Grant, PermissionCatalog, PermissionSet, PrincipalKind,
};

use super::catalog::Catalog;
use super::inventory::{Binding, Inventory, ScopeKind};

/// Basic (primitive) roles that make their holder admin-equivalent on a project, folder or
/// organization: owner can set IAM policy; editor can act as every service account of the project
/// (and deploy as the Google APIs service agent), which reaches owner in one step.
const ADMIN_ROLES: &[&str] = &["roles/owner", "roles/editor", "roles/admin", "roles/writer"];

/// The permissions that let the holder rewrite an allow policy of the hierarchy.
pub(super) const SET_IAM_POLICY: &[&str] = &[
    "resourcemanager.projects.setIamPolicy",
    "resourcemanager.folders.setIamPolicy",
    "resourcemanager.organizations.setIamPolicy",
];

/// One role expanded against the catalog (and the inventory's custom roles).
#[derive(Debug, Clone, Default)]
pub(super) struct RoleExpansion {
    pub(super) set: PermissionSet,
    /// Permissions a custom role names that the catalog does not know, kept as written.
    pub(super) unknown: Vec<String>,
    /// Why the expansion is approximate or empty, if it is.
    pub(super) caveat: Option<String>,
    pub(super) has_high_risk: bool,
}

/// A binding a principal holds, directly or through a group.
#[derive(Debug, Clone, Copy)]
pub(super) struct Held<'a> {
    pub(super) binding: &'a Binding,
    pub(super) via_group: Option<&'a str>,
}

/// Every role expanded once, and the bindings each principal holds.
pub(super) struct Expanded<'a> {
    pub(super) roles: BTreeMap<&'a str, RoleExpansion>,
    direct: BTreeMap<&'a str, Vec<&'a Binding>>,
}

impl<'a> Expanded<'a> {
    pub(super) fn new(inventory: &'a Inventory, catalog: &Catalog) -> Expanded<'a> {
        let high_risk = high_risk_set(catalog);
        let mut roles = BTreeMap::new();
        let mut direct: BTreeMap<&str, Vec<&Binding>> = BTreeMap::new();
        for binding in &inventory.bindings {
            roles.entry(binding.role.as_str()).or_insert_with(|| {
                let mut expansion = expand_role(&binding.role, inventory, catalog);
                let mut risky = expansion.set.clone();
                risky.intersect_with(&high_risk);
                expansion.has_high_risk = !risky.is_empty();
                if let Some(caveat) = &expansion.caveat {
                    tracing::warn!(role = %binding.role, "{caveat}");
                }
                expansion
            });
            for member in &binding.members {
                direct.entry(member.as_str()).or_default().push(binding);
            }
        }
        Expanded { roles, direct }
    }

    /// The bindings `key` holds: its own, then its groups' (member_of is already transitive).
    pub(super) fn held(&self, key: &'a str, member_of: &'a [String]) -> Vec<Held<'a>> {
        let own = self.direct.get(key).into_iter().flatten().map(|b| Held {
            binding: b,
            via_group: None,
        });
        let inherited = member_of.iter().flat_map(|g| {
            self.direct
                .get(g.as_str())
                .into_iter()
                .flatten()
                .map(move |b| Held {
                    binding: b,
                    via_group: Some(g.as_str()),
                })
        });
        own.chain(inherited).collect()
    }

    pub(super) fn role(&self, role: &str) -> Option<&RoleExpansion> {
        self.roles.get(role)
    }
}

fn high_risk_set(catalog: &Catalog) -> PermissionSet {
    let mut set = PermissionSet::new();
    for (i, p) in catalog.permissions().iter().enumerate() {
        if p.level.is_high_risk() {
            set.insert(i as u32);
        }
    }
    set
}

/// A role's permissions: predefined from the catalog, custom from the inventory; basic roles the
/// catalog lists without permissions are approximated from access levels.
pub(super) fn expand_role(role: &str, inventory: &Inventory, catalog: &Catalog) -> RoleExpansion {
    if role.starts_with("projects/") || role.starts_with("organizations/") {
        let Some(custom) = inventory.custom_role(role) else {
            return RoleExpansion {
                caveat: Some(format!(
                    "custom role {role} is not in the inventory: its permissions are unknown"
                )),
                ..RoleExpansion::default()
            };
        };
        let mut expansion = RoleExpansion::default();
        for p in &custom.permissions {
            match catalog.index_of(p) {
                Some(i) => expansion.set.insert(i),
                None => expansion.unknown.push(p.clone()),
            }
        }
        if !expansion.unknown.is_empty() {
            expansion.caveat = Some(format!(
                "custom role {role} ({}) names {} permission(s) the catalog does not know, kept as written: {}",
                custom.title,
                expansion.unknown.len(),
                expansion.unknown.join(", ")
            ));
        }
        return expansion;
    }
    let approximate = |set: &PermissionSet, how: &str| RoleExpansion {
        set: set.clone(),
        caveat: Some(format!(
            "{role} has no permission list in the catalog: approximated as {how}"
        )),
        ..RoleExpansion::default()
    };
    match (catalog.predefined_role(role), role) {
        // Owners also hold what the catalog's list leaves out: bucket and dataset access through the
        // default `projectOwner` convenience bindings (storage.buckets.setIamPolicy, bigquery.tables.*).
        // Everything over-states a little (organization-only permissions) on an identity that is
        // admin-equivalent anyway, rather than under-stating what a super identity can do.
        (_, "roles/owner") => RoleExpansion {
            set: catalog.all().clone(),
            ..RoleExpansion::default()
        },
        (Some(Some(set)), _) => RoleExpansion {
            set: set.clone(),
            ..RoleExpansion::default()
        },
        (_, "roles/admin") => approximate(catalog.all(), "every catalog permission"),
        (_, "roles/editor" | "roles/writer") => approximate(
            catalog.all_but_permission_management(),
            "every permission but permission management",
        ),
        (_, "roles/viewer" | "roles/reader") => {
            approximate(catalog.read_only(), "every Read and List permission")
        }
        (Some(None), _) => RoleExpansion {
            caveat: Some(format!(
                "{role} has no permission list in the catalog: its permissions are unknown"
            )),
            ..RoleExpansion::default()
        },
        (None, _) => RoleExpansion {
            caveat: Some(format!(
                "{role} is not in the catalog: its permissions are unknown"
            )),
            ..RoleExpansion::default()
        },
    }
}

/// A condition's text for reports: its title and expression.
pub(super) fn condition_title(binding: &Binding) -> Option<String> {
    let c = binding.condition.as_ref()?;
    let title = c
        .get("title")
        .and_then(|t| t.as_str())
        .unwrap_or("untitled");
    let expression = c.get("expression").and_then(|t| t.as_str()).unwrap_or("");
    Some(format!("'{title}' ({expression})"))
}

/// An IAM Condition on the resource name or type narrows a project-wide grant to part of it.
fn condition_narrows_resources(binding: &Binding) -> bool {
    binding
        .condition
        .as_ref()
        .and_then(|c| c.get("expression"))
        .and_then(|e| e.as_str())
        .is_some_and(|e| {
            e.contains("resource.name")
                || e.contains("resource.type")
                || e.contains("resource.service")
        })
}

/// Entitlements of every principal of the inventory, groups included.
pub(super) fn entitlements(inventory: &Inventory, catalog: &Catalog) -> Vec<Entitlements> {
    let expanded = Expanded::new(inventory, catalog);
    let set_iam_policy = set_iam_policy_indexes(catalog);
    inventory
        .principals
        .iter()
        .map(|principal| {
            let held = expanded.held(&principal.key, &principal.member_of);
            let (mut allowed, mut unconditional, mut conditional) = (
                PermissionSet::new(),
                PermissionSet::new(),
                PermissionSet::new(),
            );
            let mut grants = Vec::with_capacity(held.len());
            let mut reach: f64 = 0.0;
            for h in &held {
                let b = h.binding;
                let Some(role) = expanded.role(&b.role) else {
                    continue;
                };
                allowed.union_with(&role.set);
                if b.condition.is_some() {
                    conditional.union_with(&role.set);
                } else {
                    unconditional.union_with(&role.set);
                }
                let hierarchy = b.scope.kind != ScopeKind::Resource;
                if role.has_high_risk {
                    let r = match (hierarchy, condition_narrows_resources(b)) {
                        (true, false) => 1.0,
                        (true, true) => 0.5,
                        (false, _) => 0.25,
                    };
                    reach = reach.max(r);
                }
                grants.push(grant_of(h, role, inventory));
            }
            conditional.subtract(&unconditional);
            if principal.kind == PrincipalKind::Group && held.is_empty() {
                tracing::debug!(group = %principal.key, "group holds no binding");
            }
            Entitlements {
                principal: principal.clone(),
                allowed,
                conditional,
                grants,
                reach,
                admin_equivalent: {
                    let (admin, admin_conditional) =
                        admin_reasons(&held, &expanded, &set_iam_policy);
                    admin.or(admin_conditional)
                },
            }
        })
        .collect()
}

/// The catalog indexes of [`SET_IAM_POLICY`].
pub(super) fn set_iam_policy_indexes(catalog: &Catalog) -> Vec<(u32, &'static str)> {
    SET_IAM_POLICY
        .iter()
        .filter_map(|p| catalog.index_of(p).map(|i| (i, *p)))
        .collect()
}

/// Why the holder of `held` is admin-equivalent: (through an unconditional binding, through a
/// conditional one). A basic owner/editor role, or a role that can set the IAM policy, on a project,
/// folder or organization.
pub(super) fn admin_reasons(
    held: &[Held<'_>],
    expanded: &Expanded<'_>,
    set_iam_policy: &[(u32, &str)],
) -> (Option<String>, Option<String>) {
    let (mut admin, mut admin_conditional) = (None, None);
    for h in held {
        let b = h.binding;
        let Some(role) = expanded.role(&b.role) else {
            continue;
        };
        if b.scope.kind == ScopeKind::Resource {
            continue;
        }
        let reason = if ADMIN_ROLES.contains(&b.role.as_str()) {
            Some(format!("{} on {}", b.role, b.scope.name))
        } else {
            set_iam_policy
                .iter()
                .find(|(i, _)| role.set.contains(*i))
                .map(|(_, p)| {
                    format!(
                        "{p} on {} through {}: can grant itself roles/owner",
                        b.scope.name, b.role
                    )
                })
        };
        let Some(reason) = reason else { continue };
        let via = h
            .via_group
            .map(|g| format!(" via group {g}"))
            .unwrap_or_default();
        match condition_title(b) {
            None => admin = admin.or(Some(format!("{reason}{via}"))),
            Some(c) => {
                admin_conditional =
                    admin_conditional.or(Some(format!("{reason}{via} (under condition {c})")))
            }
        }
    }
    (admin, admin_conditional)
}

fn grant_of(h: &Held<'_>, role: &RoleExpansion, inventory: &Inventory) -> Grant {
    let b = h.binding;
    let mut patterns = vec![b.role.clone()];
    patterns.extend(role.unknown.iter().cloned());
    let mut resources = vec![b.scope.name.clone()];
    let mut via = format!("{} on {}", b.role, b.scope.name);
    if matches!(b.scope.kind, ScopeKind::Folder | ScopeKind::Organization) {
        let below = inventory.projects_below(&b.scope.name);
        if below.is_empty() {
            via.push_str(" (no project below it is known: applied as stated)");
        } else {
            via.push_str(&format!(" (inherited by {} project(s))", below.len()));
            resources.extend(below.into_iter().map(|p| format!("projects/{p}")));
        }
    }
    if let Some(g) = h.via_group {
        via.push_str(&format!(" via group {g}"));
    }
    if let Some(caveat) = &role.caveat {
        via.push_str(&format!(" [{caveat}]"));
    }
    Grant {
        effect: Effect::Allow,
        patterns,
        not: false,
        resources,
        condition: b.condition.as_ref().map(|c| c.to_string()),
        via,
    }
}

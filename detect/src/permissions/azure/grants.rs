//! From role assignments to effective permissions: each role definition is expanded once, then each
//! principal ORs the expansions of its own and its groups' assignments.

use std::collections::HashMap;

use super::catalog::{Catalog, RoleExpansion};
use super::inventory::{Assignment, Inventory, RoleDefinition};
use super::scope::Scope;
use crate::permissions::model::{
    Effect, Entitlements, Grant, PermissionCatalog, PermissionSet, Principal, PrincipalKind,
};

pub(crate) const ROLE_ASSIGNMENTS_WRITE: &str = "Microsoft.Authorization/roleAssignments/write";

/// Role expansions, computed once per role definition GUID the inventory's assignments name.
#[derive(Debug)]
pub(crate) struct Expansions<'a> {
    inventory: &'a Inventory,
    catalog: &'a Catalog,
    by_guid: HashMap<String, RoleExpansion>,
}

impl<'a> Expansions<'a> {
    pub(crate) fn new(inventory: &'a Inventory, catalog: &'a Catalog) -> Expansions<'a> {
        let mut expansions = Expansions {
            inventory,
            catalog,
            by_guid: HashMap::new(),
        };
        for a in &inventory.assignments {
            if expansions.by_guid.contains_key(&a.role_guid) {
                continue;
            }
            if let Some(role) = expansions.role(&a.role_guid) {
                let expansion = catalog.expand_role(role);
                expansions.by_guid.insert(a.role_guid.clone(), expansion);
            }
        }
        expansions
    }

    /// A custom definition from the inventory wins over a built-in with the same GUID.
    pub(crate) fn role(&self, guid: &str) -> Option<&'a RoleDefinition> {
        self.inventory
            .custom_role(guid)
            .or_else(|| self.catalog.built_in_role(guid))
    }

    pub(crate) fn expansion(&self, guid: &str) -> Option<&RoleExpansion> {
        self.by_guid.get(guid)
    }
}

/// One assignment a principal benefits from, directly or through a group.
#[derive(Debug, Clone)]
pub(crate) struct Held<'a> {
    pub(crate) assignment: &'a Assignment,
    /// The group's display name when inherited.
    pub(crate) via_group: Option<&'a str>,
}

impl Held<'_> {
    pub(crate) fn via(&self, role_name: &str) -> String {
        let a = self.assignment;
        let mut via = format!("role assignment {role_name} at {}", a.scope);
        if let Some(group) = self.via_group {
            via.push_str(&format!(" via group {group}"));
        }
        via
    }
}

/// The principal's own assignments, then its groups' (in `member_of` order).
pub(crate) fn held_assignments<'a>(
    inventory: &'a Inventory,
    principal: &'a Principal,
    names: &HashMap<&str, &'a str>,
) -> Vec<Held<'a>> {
    let mut held: Vec<Held<'a>> = inventory
        .assignments_of(Inventory::object_id(&principal.key))
        .map(|assignment| Held {
            assignment,
            via_group: None,
        })
        .collect();
    for group in &principal.member_of {
        let group_name = names.get(group.as_str()).copied().unwrap_or(group.as_str());
        held.extend(
            inventory
                .assignments_of(Inventory::object_id(group))
                .map(|assignment| Held {
                    assignment,
                    via_group: Some(group_name),
                }),
        );
    }
    held
}

/// Principal key → display name, for `via` texts.
pub(crate) fn principal_names(inventory: &Inventory) -> HashMap<&str, &str> {
    inventory
        .principals
        .iter()
        .map(|p| (p.key.as_str(), p.name.as_str()))
        .collect()
}

pub(crate) fn entitlements(inventory: &Inventory, catalog: &Catalog) -> Vec<Entitlements> {
    let expansions = Expansions::new(inventory, catalog);
    let names = principal_names(inventory);
    let role_assignments_write = catalog.index_of(ROLE_ASSIGNMENTS_WRITE);
    inventory
        .principals
        .iter()
        .map(|principal| {
            let mut unconditional = PermissionSet::new();
            let mut conditional = PermissionSet::new();
            let mut grants = Vec::new();
            let mut reach: f64 = 0.0;
            let mut admin_equivalent = None;
            for held in held_assignments(inventory, principal, &names) {
                let a = held.assignment;
                let Some(role) = expansions.role(&a.role_guid) else {
                    // `check_role_references` reports this as an error; if the caller went on
                    // anyway, the grant stays visible in the evidence rather than vanishing.
                    grants.push(Grant {
                        effect: Effect::Allow,
                        patterns: Vec::new(),
                        not: false,
                        resources: vec![a.scope.clone()],
                        condition: a.condition.clone(),
                        via: format!(
                            "role assignment {} in {} names role definition {}, found neither among \
                             built-in nor custom roles: ignored",
                            a.id, a.source, a.role_definition_id
                        ),
                    });
                    continue;
                };
                let condition = condition_of(a, role);
                let via = held.via(&role.name);
                grants.extend(grants_of(role, a, &via, &condition));
                let Some(expansion) = expansions.expansion(&a.role_guid) else {
                    continue;
                };
                let scope = Scope::parse(&a.scope);
                if condition.is_some() {
                    conditional.union_with(&expansion.all);
                } else {
                    unconditional.union_with(&expansion.all);
                }
                if expansion.high_risk {
                    reach = reach.max(scope.reach());
                }
                let can_assign_roles =
                    role_assignments_write.is_some_and(|i| expansion.control.contains(i));
                if admin_equivalent.is_none()
                    && condition.is_none()
                    && can_assign_roles
                    && scope.is_subscription_or_wider()
                {
                    admin_equivalent = Some(match held.via_group {
                        Some(group) => format!("{} at {} via group {group}", role.name, a.scope),
                        None => format!("{} at {}", role.name, a.scope),
                    });
                }
            }
            let mut allowed = unconditional.clone();
            allowed.union_with(&conditional);
            // Conditional only when no unconditional assignment grants it as well.
            conditional.subtract(&unconditional);
            Entitlements {
                principal: principal.clone(),
                allowed,
                conditional,
                grants,
                reach,
                admin_equivalent,
            }
        })
        .collect()
}

/// The assignment's ABAC condition, else a condition on the definition's permissions.
pub(crate) fn condition_of(a: &Assignment, role: &RoleDefinition) -> Option<String> {
    a.condition.clone().or_else(|| role.condition.clone())
}

/// The grants one assignment states, one per non-empty list of each permission block.
fn grants_of(
    role: &RoleDefinition,
    a: &Assignment,
    via: &str,
    condition: &Option<String>,
) -> Vec<Grant> {
    let mut grants = Vec::new();
    for block in &role.blocks {
        for (patterns, not, plane) in [
            (&block.actions, false, ""),
            (&block.not_actions, true, ""),
            (&block.data_actions, false, " (data actions)"),
            (&block.not_data_actions, true, " (data actions)"),
        ] {
            if patterns.is_empty() {
                continue;
            }
            grants.push(Grant {
                effect: Effect::Allow,
                patterns: patterns.clone(),
                not,
                resources: vec![a.scope.clone()],
                condition: condition.clone(),
                via: format!("{via}{plane}"),
            });
        }
    }
    grants
}

/// Managed identities in the inventory (the targets of VM, Automation and federated-credential
/// take-overs).
pub(crate) fn managed_identities(inventory: &Inventory) -> impl Iterator<Item = &Principal> {
    inventory
        .principals
        .iter()
        .filter(|p| p.kind == PrincipalKind::ManagedIdentity)
}

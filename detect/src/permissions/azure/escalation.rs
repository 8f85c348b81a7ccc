//! Privilege-escalation steps in Azure RBAC. Every edge comes from a role assignment the principal
//! holds (directly or through a group) at a scope covering the resource acted on.
//!
//! Primitives:
//! * `azure.role-assignment-write`: `roleAssignments/write` at a subscription or wider → assign
//!   itself Owner (admin). At a resource group or resource, it can make itself Owner there, which
//!   reaches the managed identities the VM, Automation and federated-credential primitives reach there.
//! * `azure.role-definition-write`: `roleDefinitions/write` over all assignable scopes of a custom
//!   role assigned to itself → add `*` to it; admin when that assignment is at a subscription or wider,
//!   else the identities reachable at the assignment's scope.
//! * `azure.elevate-access`: `elevateAccess/action` named explicitly (not through a wildcard) in a
//!   role it holds → User Access Administrator at `/`. Only Entra Global Administrators can really call
//!   it, so wildcards such as `Microsoft.Authorization/*` (User Access Administrator's own) do not count.
//! * `azure.managed-identity-federated-credential`: `federatedIdentityCredentials/write` over a
//!   user-assigned identity → trust an issuer it controls and sign in as that identity.
//! * `azure.vm-run-command`: `virtualMachines/runCommand/action`, `runCommands/write` or
//!   `extensions/write` over a VM, resource group or subscription → run code as the VM's managed
//!   identity.
//! * `azure.automation-runbook`: `runbooks/write` and `jobs/write` over an Automation account → run a
//!   runbook as the account's managed identity.
//!
//! The exports do not say which VM or Automation account carries which identity, nor where a
//! user-assigned identity resource lives (unless its principal name is its resource id). The
//! approximation: a managed identity is reachable from a resource group (or a resource in it) when one
//! of its own role assignments lies in that resource group; from a subscription when one lies in that
//! subscription; from a management group or the root always. Identities that hold nothing near the
//! compute they run on are missed; identities near but not attached are over-reported: the explanation
//! says so.
//!
//! Principals already admin-equivalent and groups (which cannot act) get no edges.

use std::collections::{BTreeSet, HashSet};

use super::catalog::{Catalog, RoleExpansion};
use super::grants::{
    Expansions, Held, ROLE_ASSIGNMENTS_WRITE, condition_of, held_assignments, managed_identities,
    principal_names,
};
use super::inventory::Inventory;
use super::scope::Scope;
use crate::permissions::model::{
    Entitlements, EscalationEdge, PermissionCatalog, PermissionSet, Principal, PrincipalKind,
};

const ROLE_DEFINITIONS_WRITE: &str = "Microsoft.Authorization/roleDefinitions/write";
const ELEVATE_ACCESS: &str = "Microsoft.Authorization/elevateAccess/action";
const FEDERATED_CREDENTIAL_WRITE: &str =
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write";
const RUN_COMMAND: [&str; 3] = [
    "Microsoft.Compute/virtualMachines/runCommand/action",
    "Microsoft.Compute/virtualMachines/runCommands/write",
    "Microsoft.Compute/virtualMachines/extensions/write",
];
const RUNBOOK: [&str; 2] = [
    "Microsoft.Automation/automationAccounts/runbooks/write",
    "Microsoft.Automation/automationAccounts/jobs/write",
];
const APPROXIMATION: &str = "approximation: Vigil cannot see which compute carries which identity, \
                             so a managed identity with a role assignment in the same resource group \
                             (or subscription) counts";

/// The catalog, the role expansions and the managed identities that can be reached.
struct Context<'a> {
    catalog: &'a Catalog,
    expansions: &'a Expansions<'a>,
    identities: Vec<Identity<'a>>,
}

/// A managed identity with the scopes that place it (parsed once: every holder is tested against
/// every identity).
struct Identity<'a> {
    principal: &'a Principal,
    /// Its own resource id, when its principal name is one.
    resource: Option<Scope>,
    /// Its assignments' scopes, and its resource id.
    placed_at: Vec<Scope>,
    /// What it holds: (lower-cased scope, role GUID) of its own and its groups' assignments.
    holds: Vec<(&'a str, &'a str)>,
}

/// What a would-be attacker holds unconditionally: (lower-cased scope, permissions) per assignment.
type Holdings<'a> = [(&'a str, &'a PermissionSet)];

pub(crate) fn escalation_edges(
    inventory: &Inventory,
    entitlements: &[Entitlements],
    catalog: &Catalog,
) -> Vec<EscalationEdge> {
    let admins: HashSet<&str> = entitlements
        .iter()
        .filter(|e| e.admin_equivalent.is_some())
        .map(|e| e.principal.key.as_str())
        .collect();
    let names = principal_names(inventory);
    let expansions = Expansions::new(inventory, catalog);
    let context = Context {
        catalog,
        expansions: &expansions,
        identities: managed_identities(inventory)
            .map(|principal| {
                let resource = principal
                    .name
                    .to_ascii_lowercase()
                    .contains("/providers/microsoft.managedidentity/")
                    .then(|| Scope::parse(&principal.name));
                let held = held_assignments(inventory, principal, &names);
                let placed_at = held
                    .iter()
                    .map(|h| Scope::parse(&h.assignment.scope))
                    .chain(resource.clone())
                    .collect();
                let holds = held
                    .iter()
                    .map(|h| {
                        (
                            h.assignment.scope_lower.as_str(),
                            h.assignment.role_guid.as_str(),
                        )
                    })
                    .collect();
                Identity {
                    principal,
                    resource,
                    placed_at,
                    holds,
                }
            })
            .collect(),
    };
    let mut edges = BTreeSet::new();
    for principal in &inventory.principals {
        if principal.kind == PrincipalKind::Group || admins.contains(principal.key.as_str()) {
            continue;
        }
        let held = held_assignments(inventory, principal, &names);
        let holdings: Vec<(&str, &PermissionSet)> = held
            .iter()
            .filter_map(|h| {
                let role = expansions.role(&h.assignment.role_guid)?;
                let expansion = expansions.expansion(&h.assignment.role_guid)?;
                condition_of(h.assignment, role)
                    .is_none()
                    .then_some((h.assignment.scope_lower.as_str(), &expansion.all))
            })
            .collect();
        let mut definition_write_scopes: Vec<&str> = Vec::new();
        for h in &held {
            let Some(role) = expansions.role(&h.assignment.role_guid) else {
                continue;
            };
            let Some(expansion) = expansions.expansion(&h.assignment.role_guid) else {
                continue;
            };
            let step = Step {
                from: principal,
                held: h,
                role_name: &role.name,
                condition: condition_of(h.assignment, role),
            };
            let has = |names: &[&str]| context.held_names(expansion, names);
            let scope = Scope::parse(&h.assignment.scope);

            if let [write] = has(&[ROLE_ASSIGNMENTS_WRITE]).as_slice() {
                if scope.is_subscription_or_wider() {
                    edges.insert(step.edge(
                        None,
                        "azure.role-assignment-write",
                        vec![write.clone()],
                        &h.assignment.scope,
                        format!("can assign itself Owner at {}", h.assignment.scope),
                    ));
                } else {
                    for (target, how) in context.takeover_targets(principal, &holdings, &scope) {
                        edges.insert(step.edge(
                            Some(target),
                            "azure.role-assignment-write",
                            vec![write.clone()],
                            &h.assignment.scope,
                            format!(
                                "can assign itself Owner at {} (not admin there: a resource group or \
                                 resource), then {how} {}",
                                h.assignment.scope, target.name
                            ),
                        ));
                    }
                }
            }
            if !has(&[ROLE_DEFINITIONS_WRITE]).is_empty() {
                definition_write_scopes.push(&h.assignment.scope);
            }
            let names_elevate = role.blocks.iter().any(|b| {
                b.actions
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(ELEVATE_ACCESS))
            });
            if let [elevate] = has(&[ELEVATE_ACCESS]).as_slice()
                && names_elevate
            {
                edges.insert(step.edge(
                    None,
                    "azure.elevate-access",
                    vec![elevate.clone()],
                    "/providers/Microsoft.Authorization/elevateAccess",
                    "can elevate itself to User Access Administrator at the root scope `/`, then \
                     assign itself Owner anywhere"
                        .to_string(),
                ));
            }
            if let [write] = has(&[FEDERATED_CREDENTIAL_WRITE]).as_slice() {
                for target in context
                    .identities_matching(principal, &holdings, |m| federated_target(m, &scope))
                {
                    edges.insert(step.edge(
                        Some(target),
                        "azure.managed-identity-federated-credential",
                        vec![write.clone()],
                        &h.assignment.scope,
                        format!(
                            "can add a federated credential trusting an issuer it controls to \
                             user-assigned identity {} and sign in as it",
                            target.name
                        ),
                    ));
                }
            }
            let run = has(&RUN_COMMAND);
            if !run.is_empty() {
                for target in context.identities_matching(principal, &holdings, |m| {
                    compute_target(m, &scope, "microsoft.compute/virtualmachines")
                }) {
                    edges.insert(step.edge(
                        Some(target),
                        "azure.vm-run-command",
                        run.clone(),
                        &h.assignment.scope,
                        format!(
                            "can run a command on a VM under {} and take the token of managed \
                             identity {} ({APPROXIMATION})",
                            h.assignment.scope, target.name
                        ),
                    ));
                }
            }
            let runbook = has(&RUNBOOK);
            if runbook.len() == RUNBOOK.len() {
                for target in context.identities_matching(principal, &holdings, |m| {
                    compute_target(m, &scope, "microsoft.automation/automationaccounts")
                }) {
                    edges.insert(step.edge(
                        Some(target),
                        "azure.automation-runbook",
                        runbook.clone(),
                        &h.assignment.scope,
                        format!(
                            "can write and start a runbook in an Automation account under {} running \
                             as managed identity {} ({APPROXIMATION})",
                            h.assignment.scope, target.name
                        ),
                    ));
                }
            }
        }
        if !definition_write_scopes.is_empty() {
            edit_own_custom_roles(
                &context,
                principal,
                &holdings,
                &held,
                &definition_write_scopes,
                &mut edges,
            );
        }
    }
    edges.into_iter().collect()
}

/// `azure.role-definition-write`: custom roles assigned to the principal whose every assignable scope
/// lies under a scope where it may write role definitions.
fn edit_own_custom_roles(
    context: &Context<'_>,
    principal: &Principal,
    holdings: &Holdings<'_>,
    held: &[Held<'_>],
    write_scopes: &[&str],
    edges: &mut BTreeSet<EscalationEdge>,
) {
    let permission = context
        .catalog
        .index_of(ROLE_DEFINITIONS_WRITE)
        .and_then(|i| context.catalog.name_of(i))
        .unwrap_or(ROLE_DEFINITIONS_WRITE)
        .to_string();
    for h in held {
        let Some(role) = context.expansions.role(&h.assignment.role_guid) else {
            continue;
        };
        let editable = role.custom
            && !role.assignable_scopes.is_empty()
            && role
                .assignable_scopes
                .iter()
                .all(|s| write_scopes.iter().any(|w| Scope::covers(w, s)));
        if !editable {
            continue;
        }
        let step = Step {
            from: principal,
            held: h,
            role_name: &role.name,
            condition: condition_of(h.assignment, role),
        };
        let resource = if role.id.is_empty() {
            role.guid.as_str()
        } else {
            role.id.as_str()
        };
        let scope = Scope::parse(&h.assignment.scope);
        if scope.is_subscription_or_wider() {
            edges.insert(step.edge(
                None,
                "azure.role-definition-write",
                vec![permission.clone()],
                resource,
                format!(
                    "can add `*` to custom role {} it holds at {}",
                    role.name, h.assignment.scope
                ),
            ));
        } else {
            for (target, how) in context.takeover_targets(principal, holdings, &scope) {
                edges.insert(step.edge(
                    Some(target),
                    "azure.role-definition-write",
                    vec![permission.clone()],
                    resource,
                    format!(
                        "can add `*` to custom role {} it holds at {}, then {how} {}",
                        role.name, h.assignment.scope, target.name
                    ),
                ));
            }
        }
    }
}

/// The assignment an edge comes from, for its text.
struct Step<'a> {
    from: &'a Principal,
    held: &'a Held<'a>,
    role_name: &'a str,
    condition: Option<String>,
}

impl Step<'_> {
    fn edge(
        &self,
        to: Option<&Principal>,
        primitive: &str,
        permissions: Vec<String>,
        resource: &str,
        what: String,
    ) -> EscalationEdge {
        let mut explanation = format!(
            "{} {what}, through {}.",
            self.from.name,
            self.held.via(self.role_name)
        );
        if let Some(condition) = &self.condition {
            explanation.push_str(&format!(
                " Only as far as the assignment's condition allows: {condition}"
            ));
        }
        EscalationEdge {
            from: self.from.key.clone(),
            to: to.map(|p| p.key.clone()),
            primitive: primitive.to_string(),
            permissions,
            resource: resource.to_string(),
            explanation,
        }
    }
}

impl<'a> Context<'a> {
    /// The catalog spellings of those of `names` the expansion allows.
    fn held_names(&self, expansion: &RoleExpansion, names: &[&str]) -> Vec<String> {
        names
            .iter()
            .filter_map(|n| self.catalog.index_of(n))
            .filter(|i| expansion.all.contains(*i))
            .filter_map(|i| self.catalog.name_of(i).map(str::to_string))
            .collect()
    }

    /// Identities `matches` accepts, other than `from`, that hold something `from` does not.
    fn identities_matching(
        &self,
        from: &Principal,
        holdings: &Holdings<'_>,
        mut matches: impl FnMut(&Identity<'a>) -> bool,
    ) -> Vec<&'a Principal> {
        self.identities
            .iter()
            .filter(|m| m.principal.key != from.key && matches(m) && self.gains(holdings, m))
            .map(|m| m.principal)
            .collect()
    }

    /// Whether becoming `m` gives something the holder lacks: some assignment of `m` allows an
    /// operation no unconditional assignment of the holder at a covering scope allows. Steps to
    /// identities that add nothing cannot shorten a path to admin (the holder already has every step
    /// they have), and at ten thousand principals they would swamp the graph.
    fn gains(&self, holdings: &Holdings<'_>, m: &Identity<'_>) -> bool {
        m.holds.iter().any(|(scope, guid)| {
            let Some(theirs) = self.expansions.expansion(guid) else {
                return false;
            };
            let mut extra = theirs.all.clone();
            for (held_scope, mine) in holdings {
                if Scope::covers_lowered(held_scope, scope) {
                    extra.subtract(mine);
                }
            }
            !extra.is_empty()
        })
    }

    /// Identities an Owner at `scope` could reach, with how.
    fn takeover_targets(
        &self,
        from: &Principal,
        holdings: &Holdings<'_>,
        scope: &Scope,
    ) -> Vec<(&'a Principal, &'static str)> {
        self.identities
            .iter()
            .filter(|m| m.principal.key != from.key && self.gains(holdings, m))
            .filter_map(|m| {
                if compute_target(m, scope, "microsoft.compute/virtualmachines") {
                    Some((
                        m.principal,
                        "run a command on a VM there as managed identity",
                    ))
                } else if federated_target(m, scope) {
                    Some((
                        m.principal,
                        "add a federated credential to and sign in as managed identity",
                    ))
                } else {
                    None
                }
            })
            .collect()
    }
}

/// Whether the identity sits near `scope` by the approximation in the module doc.
fn near(m: &Identity<'_>, scope: &Scope) -> bool {
    let own = &m.placed_at;
    match scope {
        Scope::Root | Scope::ManagementGroup(_) => true,
        Scope::Subscription(s) => own.iter().any(|t| t.subscription() == Some(s.as_str())),
        _ => match scope.resource_group() {
            Some(group) => own.iter().any(|t| t.resource_group() == Some(group)),
            None => {
                let sub = scope.subscription();
                sub.is_some() && own.iter().any(|t| t.subscription() == sub)
            }
        },
    }
}

/// Write access to federated credentials at `scope` reaches `m`'s identity resource.
fn federated_target(m: &Identity<'_>, scope: &Scope) -> bool {
    match scope {
        Scope::Resource { path, .. } => {
            let is_identity =
                scope.resource_type() == Some("microsoft.managedidentity/userassignedidentities");
            is_identity
                && match &m.resource {
                    Some(Scope::Resource { path: own, .. }) => own == path,
                    _ => scope
                        .resource_name()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&m.principal.name)),
                }
        }
        _ => match &m.resource {
            Some(Scope::Resource { path, .. }) => Scope::covers(&scope_text(scope), path),
            _ => near(m, scope),
        },
    }
}

/// Code execution on compute of `resource_type` at `scope` reaches `m`: a resource scope must be
/// such a resource; wider scopes use the approximation.
fn compute_target(m: &Identity<'_>, scope: &Scope, resource_type: &str) -> bool {
    if let Scope::Resource { .. } = scope
        && !scope
            .resource_type()
            .is_some_and(|t| t.starts_with(resource_type))
    {
        return false;
    }
    near(m, scope)
}

/// A scope back to its (lower-cased) text, for coverage tests.
fn scope_text(scope: &Scope) -> String {
    match scope {
        Scope::Root => "/".to_string(),
        Scope::ManagementGroup(id) => {
            format!("/providers/microsoft.management/managementgroups/{id}")
        }
        Scope::Subscription(s) => format!("/subscriptions/{s}"),
        Scope::ResourceGroup {
            subscription,
            group,
        } => format!("/subscriptions/{subscription}/resourcegroups/{group}"),
        Scope::Resource { path, .. } => path.clone(),
    }
}

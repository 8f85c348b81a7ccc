//! Privilege-escalation steps (after Rhino Security Labs' GCP list). Every edge is backed by a binding
//! the identity holds on a scope that covers the target: project-level grants reach every service
//! account of the project (and of projects below a folder or organization, when the inventory tells the
//! hierarchy); a binding on one service account reaches that account only.

use std::collections::{BTreeMap, BTreeSet};

use crate::permissions::model::{
    Entitlements, EscalationEdge, PermissionCatalog, PermissionSet, PrincipalKind,
};

use super::catalog::Catalog;
use super::grants::{Expanded, Held, admin_reasons, condition_title, set_iam_policy_indexes};
use super::inventory::{Inventory, ScopeKind};

const TOKEN_CREATION: &[&str] = &[
    "iam.serviceAccounts.getAccessToken",
    "iam.serviceAccounts.signBlob",
    "iam.serviceAccounts.signJwt",
    "iam.serviceAccounts.implicitDelegation",
];
const ACT_AS: &str = "iam.serviceAccounts.actAs";
const COMPUTE_CREATE: &[&str] = &["compute.instances.create"];
const FUNCTIONS_DEPLOY: &[&str] = &[
    "cloudfunctions.functions.create",
    "cloudfunctions.functions.update",
];
const RUN_DEPLOY: &[&str] = &["run.services.create", "run.services.update"];

/// Permissions held on one target: all of them, and those held only under an IAM condition.
#[derive(Default, Clone)]
struct HeldOn {
    all: PermissionSet,
    unconditional: PermissionSet,
    conditions: BTreeSet<String>,
}

impl HeldOn {
    fn add(&mut self, h: &Held<'_>, set: &PermissionSet) {
        self.all.union_with(set);
        match condition_title(h.binding) {
            None => self.unconditional.union_with(set),
            Some(c) => {
                self.conditions.insert(c);
            }
        }
    }
    fn merged(&self, other: &HeldOn) -> HeldOn {
        let mut out = self.clone();
        out.all.union_with(&other.all);
        out.unconditional.union_with(&other.unconditional);
        out.conditions.extend(other.conditions.iter().cloned());
        out
    }
}

struct Ctx<'c> {
    catalog: &'c Catalog,
}

impl Ctx<'_> {
    /// The names among `names` held in `on`.
    fn held(&self, on: &HeldOn, names: &[&str]) -> Vec<String> {
        names
            .iter()
            .filter(|n| self.catalog.index_of(n).is_some_and(|i| on.all.contains(i)))
            .map(|n| n.to_string())
            .collect()
    }
    /// " (only under condition …)" when some of `names` are held only conditionally.
    fn condition_note(&self, on: &HeldOn, names: &[String]) -> String {
        let conditional = names.iter().any(|n| {
            self.catalog
                .index_of(n)
                .is_some_and(|i| !on.unconditional.contains(i))
        });
        if conditional && !on.conditions.is_empty() {
            let list: Vec<&str> = on.conditions.iter().map(String::as_str).collect();
            format!(" (only under IAM condition {})", list.join(", "))
        } else {
            String::new()
        }
    }
}

struct Target {
    key: String,
    email: String,
    project: String,
}

pub(super) fn escalation_edges(
    inventory: &Inventory,
    entitlements: &[Entitlements],
    catalog: &Catalog,
) -> Vec<EscalationEdge> {
    let expanded = Expanded::new(inventory, catalog);
    let ctx = Ctx { catalog };
    let targets: Vec<Target> = inventory
        .principals
        .iter()
        .filter(|p| p.kind == PrincipalKind::ServiceAccount)
        .filter_map(|p| {
            let email = p.name.to_lowercase();
            let project = inventory.service_account_projects.get(&email)?.clone();
            Some(Target {
                key: p.key.clone(),
                email,
                project,
            })
        })
        .collect();
    let projects: BTreeSet<&str> = targets.iter().map(|t| t.project.as_str()).collect();
    let mut relevant = PermissionSet::new();
    for name in TOKEN_CREATION
        .iter()
        .chain(COMPUTE_CREATE)
        .chain(FUNCTIONS_DEPLOY)
        .chain(RUN_DEPLOY)
        .chain(&[
            ACT_AS,
            "iam.serviceAccountKeys.create",
            "iam.serviceAccounts.setIamPolicy",
            "iam.roles.update",
        ])
        .chain(super::grants::SET_IAM_POLICY)
        .chain(&["deploymentmanager.deployments.create"])
    {
        if let Some(i) = catalog.index_of(name) {
            relevant.insert(i);
        }
    }

    let set_iam_policy = set_iam_policy_indexes(catalog);
    let mut edges: BTreeSet<EscalationEdge> = BTreeSet::new();
    for e in entitlements {
        let mut any = e.allowed.clone();
        any.intersect_with(&relevant);
        if any.is_empty() {
            continue;
        }
        let from = e.principal.key.as_str();
        let held = expanded.held(from, &e.principal.member_of);
        hierarchy_edges(&ctx, &expanded, inventory, from, &held, &mut edges);
        // An unconditional admin is a goal node already: steps to other accounts add nothing to a
        // path and would multiply (owners × service accounts × primitives).
        if admin_reasons(&held, &expanded, &set_iam_policy).0.is_some() {
            continue;
        }

        // What the principal holds on each project with service accounts, then on each account.
        let mut on_project: BTreeMap<&str, HeldOn> = BTreeMap::new();
        for project in &projects {
            let mut on = HeldOn::default();
            for h in &held {
                if inventory.scope_covers_project(&h.binding.scope, project)
                    && let Some(role) = expanded.role(&h.binding.role)
                {
                    on.add(h, &role.set);
                }
            }
            on_project.insert(project, on);
        }
        for t in &targets {
            if t.key == from {
                continue;
            }
            let mut on_account = HeldOn::default();
            let suffix = format!("/serviceaccounts/{}", t.email);
            for h in &held {
                if h.binding.scope.kind == ScopeKind::Resource
                    && h.binding.scope.name.starts_with("//iam.googleapis.com/")
                    && h.binding.scope.name.to_lowercase().ends_with(&suffix)
                    && let Some(role) = expanded.role(&h.binding.role)
                {
                    on_account.add(h, &role.set);
                }
            }
            let project_level = on_project
                .get(t.project.as_str())
                .cloned()
                .unwrap_or_default();
            let on_sa = project_level.merged(&on_account);
            service_account_edges(&ctx, from, t, &on_sa, &project_level, &mut edges);
        }
    }
    edges.into_iter().collect()
}

fn service_account_edges(
    ctx: &Ctx<'_>,
    from: &str,
    t: &Target,
    on_sa: &HeldOn,
    on_project: &HeldOn,
    edges: &mut BTreeSet<EscalationEdge>,
) {
    let resource = format!("projects/{}/serviceAccounts/{}", t.project, t.email);
    let mut edge = |primitive: &str, permissions: Vec<String>, on: &HeldOn, sentence: String| {
        let note = ctx.condition_note(on, &permissions);
        edges.insert(EscalationEdge {
            from: from.to_string(),
            to: Some(t.key.clone()),
            primitive: primitive.to_string(),
            permissions,
            resource: resource.clone(),
            explanation: format!("{sentence}{note}."),
        });
    };
    let set_policy = ctx.held(on_sa, &["iam.serviceAccounts.setIamPolicy"]);
    if !set_policy.is_empty() {
        edge(
            "gcp.sa-set-iam-policy",
            set_policy,
            on_sa,
            format!(
                "Grant itself roles/iam.serviceAccountTokenCreator on {} by rewriting its IAM policy, then act as it",
                t.email
            ),
        );
    }
    let key_create = ctx.held(on_sa, &["iam.serviceAccountKeys.create"]);
    if !key_create.is_empty() {
        edge(
            "gcp.sa-key-create",
            key_create,
            on_sa,
            format!(
                "Create a long-lived key for {} and authenticate as it",
                t.email
            ),
        );
    }
    let tokens = ctx.held(on_sa, TOKEN_CREATION);
    if !tokens.is_empty() {
        edge(
            "gcp.sa-token-create",
            tokens,
            on_sa,
            format!(
                "Mint access tokens or signed credentials for {} and call APIs as it",
                t.email
            ),
        );
    }
    let act_as = ctx.held(on_sa, &[ACT_AS]);
    if act_as.is_empty() {
        return;
    }
    // Deploying as another project's account is blocked by default (iam.disableCrossProjectServiceAccountUsage),
    // so the deploy permission must be held on the account's own project.
    let deploys: [(&str, &[&str], &str); 3] = [
        (
            "gcp.sa-actas-compute",
            COMPUTE_CREATE,
            "Create a VM that runs as",
        ),
        (
            "gcp.sa-actas-functions",
            FUNCTIONS_DEPLOY,
            "Deploy a Cloud Function that runs as",
        ),
        (
            "gcp.sa-actas-run",
            RUN_DEPLOY,
            "Deploy a Cloud Run service that runs as",
        ),
    ];
    for (primitive, names, how) in deploys {
        let deploy = ctx.held(on_project, names);
        if deploy.is_empty() {
            continue;
        }
        let mut permissions = act_as.clone();
        permissions.extend(deploy);
        let on = on_sa.merged(on_project);
        edge(
            primitive,
            permissions,
            &on,
            format!(
                "{how} {} in project {} and use its token from the workload",
                t.email, t.project
            ),
        );
    }
}

/// Steps that make the principal admin-equivalent directly: rewriting an allow policy of the hierarchy,
/// updating a custom role it holds, or deploying through Deployment Manager.
fn hierarchy_edges(
    ctx: &Ctx<'_>,
    expanded: &Expanded<'_>,
    inventory: &Inventory,
    from: &str,
    held: &[Held<'_>],
    edges: &mut BTreeSet<EscalationEdge>,
) {
    for h in held {
        let scope = &h.binding.scope;
        if scope.kind == ScopeKind::Resource {
            continue;
        }
        let Some(role) = expanded.role(&h.binding.role) else {
            continue;
        };
        let mut on = HeldOn::default();
        on.add(h, &role.set);
        let applicable: &[&str] = match scope.kind {
            ScopeKind::Project => &["resourcemanager.projects.setIamPolicy"],
            ScopeKind::Folder => &[
                "resourcemanager.projects.setIamPolicy",
                "resourcemanager.folders.setIamPolicy",
            ],
            _ => super::grants::SET_IAM_POLICY,
        };
        let mut push =
            |primitive: &str, permissions: Vec<String>, resource: &str, sentence: String| {
                let note = ctx.condition_note(&on, &permissions);
                edges.insert(EscalationEdge {
                    from: from.to_string(),
                    to: None,
                    primitive: primitive.to_string(),
                    permissions,
                    resource: resource.to_string(),
                    explanation: format!("{sentence}{note}."),
                });
            };
        let set_policy = ctx.held(&on, applicable);
        if !set_policy.is_empty() {
            push(
                "gcp.set-iam-policy",
                set_policy,
                &scope.name,
                format!(
                    "Rewrite the allow policy of {} (via {}) to grant itself roles/owner",
                    scope.name, h.binding.role
                ),
            );
        }
        let deploy = ctx.held(&on, &["deploymentmanager.deployments.create"]);
        if !deploy.is_empty() {
            push(
                "gcp.deploymentmanager",
                deploy,
                &scope.name,
                format!(
                    "Create a Deployment Manager deployment in {}: it runs as the project's Google APIs service agent \
                     (roles/editor by default), so the deployment can create anything an editor can, including \
                     resources running as any service account",
                    scope.name
                ),
            );
        }
        // iam.roles.update on the custom roles it is bound to at project/folder/organization level.
        if !ctx.held(&on, &["iam.roles.update"]).is_empty() {
            for bound in held {
                let name = bound.binding.role.as_str();
                if bound.binding.scope.kind == ScopeKind::Resource
                    || !covers_role(inventory, scope, name)
                {
                    continue;
                }
                push(
                    "gcp.roles-update",
                    vec!["iam.roles.update".to_string()],
                    name,
                    format!(
                        "Add resourcemanager.projects.setIamPolicy to custom role {name}, which it holds on {}, then \
                         grant itself roles/owner",
                        bound.binding.scope.name
                    ),
                );
            }
        }
    }
}

/// True when a grant on `scope` may update custom role `role` (`projects/P/roles/X` or
/// `organizations/O/roles/X`).
fn covers_role(inventory: &Inventory, scope: &super::inventory::Scope, role: &str) -> bool {
    if let Some(rest) = role.strip_prefix("projects/") {
        let Some((project, _)) = rest.split_once("/roles/") else {
            return false;
        };
        return inventory.scope_covers_project(scope, project);
    }
    if let Some(rest) = role.strip_prefix("organizations/") {
        let Some((org, _)) = rest.split_once("/roles/") else {
            return false;
        };
        return scope.kind == ScopeKind::Organization
            && scope.name == format!("organizations/{org}");
    }
    false
}

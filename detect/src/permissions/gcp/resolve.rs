//! Resolving what depends on several inventory documents: project numbers, the hierarchy, service
//! account homes, group membership, accounts, and the notes for the report.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use vigil_schemas::Provider;

use super::inventory::{Builder, Inventory, Scope, ScopeKind};
use crate::permissions::model::{Principal, PrincipalKind};

impl Builder {
    /// Resolves project numbers, the hierarchy, accounts and group membership.
    pub(super) fn finish(mut self) -> Inventory {
        let numbers = std::mem::take(&mut self.project_numbers);
        let resolve = |p: &mut Option<String>| {
            if let Some(id) = p.as_ref().and_then(|n| numbers.get(n)) {
                *p = Some(id.clone());
            }
        };
        for binding in &mut self.inventory.bindings {
            resolve(&mut binding.scope.project);
            if binding.scope.kind == ScopeKind::Project
                && let Some(id) = &binding.scope.project
            {
                binding.scope.name = format!("projects/{id}");
            }
        }
        self.dedupe_bindings();
        let mut ancestors = std::mem::take(&mut self.inventory.ancestors);
        let renamed: Vec<(String, String)> = ancestors
            .keys()
            .filter_map(|k| {
                let n = k.strip_prefix("projects/")?;
                numbers
                    .get(n)
                    .map(|id| (k.clone(), format!("projects/{id}")))
            })
            .collect();
        for (old, new) in renamed {
            if let Some(set) = ancestors.remove(&old) {
                ancestors.entry(new).or_default().extend(set);
            }
        }
        // Walk parent links up (bounded: a cycle in bad input must not loop forever).
        for child in self.parents.keys() {
            let mut at = child.clone();
            for _ in 0..32 {
                let Some(parent) = self.parents.get(&at) else {
                    break;
                };
                ancestors
                    .entry(child.clone())
                    .or_default()
                    .insert(parent.clone());
                at = parent.clone();
            }
        }
        // A folder's ancestors are also its projects' ancestors.
        let folder_ancestors: BTreeMap<String, BTreeSet<String>> = ancestors
            .iter()
            .filter(|(k, _)| k.starts_with("folders/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for set in ancestors.values_mut() {
            let extra: Vec<String> = set
                .iter()
                .filter_map(|a| folder_ancestors.get(a))
                .flatten()
                .cloned()
                .collect();
            set.extend(extra);
        }
        self.inventory.ancestors = ancestors;

        for project in self.inventory.service_account_projects.values_mut() {
            if let Some(id) = numbers.get(project.as_str()) {
                *project = id.clone();
            }
        }
        // Every service account met gets a home project when its e-mail tells it, so escalation
        // knows which project-level grants reach it.
        let homes: Vec<(String, String)> = self
            .principals
            .values()
            .filter(|(kind, _)| *kind == PrincipalKind::ServiceAccount)
            .filter_map(|(_, email)| {
                service_account_project(email, &self.inventory.service_account_projects, &numbers)
                    .map(|p| (email.to_lowercase(), p))
            })
            .collect();
        for (email, project) in homes {
            self.inventory
                .service_account_projects
                .entry(email)
                .or_insert(project);
        }
        self.notes();
        self.principals_out(&numbers);
        self.inventory
    }

    /// The same policy may come twice (a project's `get-iam-policy` and the asset search over it):
    /// identical bindings are kept once so grants are not doubled.
    fn dedupe_bindings(&mut self) {
        let mut seen: BTreeSet<(Scope, String, Vec<String>, Option<String>)> = BTreeSet::new();
        self.inventory.bindings.retain(|b| {
            let mut members = b.members.clone();
            members.sort();
            seen.insert((
                b.scope.clone(),
                b.role.clone(),
                members,
                b.condition.as_ref().map(Value::to_string),
            ))
        });
    }

    fn notes(&mut self) {
        let notes = &mut self.inventory.notes;
        for (kind, count) in &self.skipped_members {
            notes.push(format!(
                "{count} binding member(s) of type `{kind}` skipped: deleted principals and federated or convenience \
                 members have no identity key events carry"
            ));
        }
        if self.system_managed_keys > 0 {
            notes.push(format!(
                "{} SYSTEM_MANAGED service account key(s) ignored: Google holds them, they are no user credential",
                self.system_managed_keys
            ));
        }
        let mut unplaced: BTreeSet<&str> = BTreeSet::new();
        for b in &self.inventory.bindings {
            if matches!(b.scope.kind, ScopeKind::Folder | ScopeKind::Organization)
                && !self
                    .inventory
                    .ancestors
                    .values()
                    .any(|a| a.contains(&b.scope.name))
            {
                unplaced.insert(&b.scope.name);
            }
        }
        for scope in unplaced {
            notes.push(format!(
                "bindings on {scope} are applied as stated on {scope} (reach 1.0): the inventory does not say which \
                 projects are below it, so they are not inherited by any project's service accounts"
            ));
        }
        if self
            .inventory
            .bindings
            .iter()
            .any(|b| b.members.iter().any(|m| is_public(m)))
        {
            notes.push(
                "allUsers / allAuthenticatedUsers bindings found: those grants are public (see principals \
                 anonymous:gcp and gcp:allAuthenticatedUsers)"
                    .to_string(),
            );
        }
        notes.push("IAM deny policies and principal access boundary policies are not read: allow policies only".to_string());
    }

    fn principals_out(&mut self, numbers: &BTreeMap<String, String>) {
        // Projects each principal is bound on, for its `account`.
        let mut bound_on: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for b in &self.inventory.bindings {
            let place = b
                .scope
                .project
                .clone()
                .unwrap_or_else(|| b.scope.name.clone());
            for m in &b.members {
                bound_on
                    .entry(m.as_str())
                    .or_default()
                    .insert(place.clone());
            }
        }
        // Transitive group membership (nested groups), bounded by the number of groups.
        let mut member_of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (group, members) in &self.memberships {
            for m in members {
                member_of
                    .entry(m.clone())
                    .or_default()
                    .insert(group.clone());
            }
        }
        for _ in 0..self.memberships.len() {
            let snapshot = member_of.clone();
            for groups in member_of.values_mut() {
                let parents: Vec<String> = groups
                    .iter()
                    .filter_map(|g| snapshot.get(g))
                    .flatten()
                    .cloned()
                    .collect();
                groups.extend(parents);
            }
        }
        let domains: BTreeSet<String> = self
            .principals
            .keys()
            .filter_map(|k| k.strip_prefix("gcp:domain:").map(str::to_string))
            .collect();
        let mut principals = Vec::with_capacity(self.principals.len());
        for (key, (kind, name)) in &self.principals {
            let mut groups: Vec<String> = member_of
                .get(key)
                .map(|g| g.iter().cloned().collect())
                .unwrap_or_default();
            // Users of a Workspace / Cloud Identity domain hold its `domain:` bindings.
            if *kind == PrincipalKind::User
                && let Some((_, domain)) = name.rsplit_once('@')
                && domains.contains(&domain.to_lowercase())
            {
                groups.push(format!("gcp:domain:{}", domain.to_lowercase()));
            }
            let account = self
                .service_account_home(name, *kind, numbers)
                .or_else(|| {
                    bound_on
                        .get(key.as_str())
                        .and_then(|p| p.iter().next().cloned())
                })
                .or_else(|| {
                    groups.iter().find_map(|g| {
                        bound_on
                            .get(g.as_str())
                            .and_then(|p| p.iter().next().cloned())
                    })
                })
                .unwrap_or_default();
            let mut credentials = self.credentials.remove(key).unwrap_or_default();
            credentials.sort_by(|a, b| a.id.cmp(&b.id));
            principals.push(Principal {
                key: key.clone(),
                provider: Provider::Gcp,
                kind: *kind,
                name: name.clone(),
                account,
                created: None,
                member_of: groups,
                credentials,
            });
        }
        self.inventory.principals = principals;
    }

    fn service_account_home(
        &self,
        email: &str,
        kind: PrincipalKind,
        numbers: &BTreeMap<String, String>,
    ) -> Option<String> {
        if kind != PrincipalKind::ServiceAccount {
            return None;
        }
        service_account_project(email, &self.inventory.service_account_projects, numbers)
    }
}

/// The project a service account lives in: from a listing, else from its e-mail's domain.
pub(super) fn service_account_project(
    email: &str,
    listed: &BTreeMap<String, String>,
    numbers: &BTreeMap<String, String>,
) -> Option<String> {
    let email = email.to_lowercase();
    if let Some(p) = listed.get(&email) {
        return Some(p.clone());
    }
    let (local, domain) = email.rsplit_once('@')?;
    if let Some(project) = domain.strip_suffix(".iam.gserviceaccount.com") {
        return Some(project.to_string());
    }
    if domain == "appspot.gserviceaccount.com" {
        return Some(local.to_string());
    }
    if domain == "developer.gserviceaccount.com" {
        let number = local.strip_suffix("-compute")?;
        return numbers.get(number).cloned();
    }
    None
}

pub(super) fn is_public(key: &str) -> bool {
    key == "anonymous:gcp" || key == "gcp:allAuthenticatedUsers"
}

//! Reading GCP inventory exports (see [`parse_inventory`](super::parse_inventory) for the shapes).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::DetectError;
use crate::permissions::model::{Credential, Principal, PrincipalKind};

/// What an IAM binding is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum ScopeKind {
    Organization,
    Folder,
    Project,
    /// A single resource (bucket, dataset, service account…), from asset search.
    Resource,
}

/// The resource a policy is set on: `projects/acme-prod`, `folders/123`, `organizations/456`, or a
/// full resource name (`//storage.googleapis.com/projects/_/buckets/b`) for resource-level policies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Scope {
    pub(super) name: String,
    pub(super) kind: ScopeKind,
    /// The project id it is in (the project itself for projects), when known.
    pub(super) project: Option<String>,
}

/// One role binding of an allow policy.
#[derive(Debug, Clone)]
pub(super) struct Binding {
    pub(super) scope: Scope,
    pub(super) role: String,
    /// Principal keys of the members.
    pub(super) members: Vec<String>,
    /// The IAM Condition as written (`{title, description, expression}`).
    pub(super) condition: Option<Value>,
}

/// A custom role definition.
#[derive(Debug, Clone)]
pub(super) struct CustomRole {
    pub(super) title: String,
    pub(super) permissions: Vec<String>,
}

/// Principals and the IAM data they are granted through.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub principals: Vec<Principal>,
    /// What the analysis could not do exactly (skipped members, unknown roles, hierarchy unknown,
    /// approximations); for the report.
    pub notes: Vec<String>,
    pub(super) bindings: Vec<Binding>,
    /// `projects/P/roles/X` / `organizations/O/roles/X` → definition.
    pub(super) custom_roles: BTreeMap<String, CustomRole>,
    /// `projects/P` or `folders/F` → every known ancestor (folders, organization).
    pub(super) ancestors: BTreeMap<String, BTreeSet<String>>,
    /// Service account e-mail → the project id it lives in.
    pub(super) service_account_projects: BTreeMap<String, String>,
}

impl Inventory {
    /// True when a grant on `scope` applies to everything in project `project`.
    pub(super) fn scope_covers_project(&self, scope: &Scope, project: &str) -> bool {
        match scope.kind {
            ScopeKind::Project => scope.project.as_deref() == Some(project),
            ScopeKind::Folder | ScopeKind::Organization => self
                .ancestors
                .get(&format!("projects/{project}"))
                .is_some_and(|a| a.contains(&scope.name)),
            ScopeKind::Resource => false,
        }
    }

    /// Project ids below a folder or organization, as far as the inventory tells.
    pub(super) fn projects_below(&self, scope: &str) -> Vec<String> {
        self.ancestors
            .iter()
            .filter(|(child, ancestors)| {
                child.starts_with("projects/") && ancestors.contains(scope)
            })
            .filter_map(|(child, _)| child.strip_prefix("projects/").map(str::to_string))
            .collect()
    }

    pub(super) fn custom_role(&self, name: &str) -> Option<&CustomRole> {
        self.custom_roles.get(name)
    }
}

/// Accumulates documents; [`Builder::finish`] resolves what depends on several of them.
#[derive(Default)]
pub(super) struct Builder {
    pub(super) inventory: Inventory,
    /// Direct parent links (`projects/P` → `folders/F`), from describe outputs.
    pub(super) parents: BTreeMap<String, String>,
    /// Project number → project id.
    pub(super) project_numbers: BTreeMap<String, String>,
    /// Key → (kind, name) of every principal met.
    pub(super) principals: BTreeMap<String, (PrincipalKind, String)>,
    /// Group key → member keys.
    pub(super) memberships: BTreeMap<String, BTreeSet<String>>,
    /// Service account key → credentials.
    pub(super) credentials: BTreeMap<String, Vec<Credential>>,
    pub(super) skipped_members: BTreeMap<String, usize>,
    pub(super) system_managed_keys: usize,
}

fn inventory_error(source: &str, reason: impl Into<String>) -> DetectError {
    DetectError::Inventory {
        file: source.to_string(),
        reason: reason.into(),
    }
}

fn field_str<'a>(
    value: &'a Value,
    key: &str,
    source: &str,
    at: &str,
) -> Result<&'a str, DetectError> {
    value
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| inventory_error(source, format!("{at}{key}: missing or not a string")))
}

impl Builder {
    /// Reads one document, detecting its shape.
    pub(super) fn add(&mut self, source: &str, bytes: &[u8]) -> Result<(), DetectError> {
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| inventory_error(source, format!("not JSON: {e}")))?;
        match &doc {
            Value::Array(items) => self.add_array(source, items),
            Value::Object(map) => {
                if map.contains_key("policy") && map.contains_key("resource") {
                    let resource = field_str(&doc, "resource", source, "")?;
                    let scope = self.scope_of(resource, None, source, "resource")?;
                    self.add_policy(source, "policy.", scope, &doc["policy"])
                } else if map.contains_key("includedPermissions") {
                    self.add_custom_role(source, "", &doc)
                } else if map.contains_key("bindings")
                    || (map.contains_key("etag") && !map.contains_key("name"))
                {
                    // An empty policy is exported as just its etag.
                    let scope = scope_from_file_name(source)?;
                    self.add_policy(source, "", scope, &doc)
                } else if map.contains_key("group") && map.contains_key("memberships") {
                    self.add_memberships(source, &doc)
                } else if map.contains_key("projectId") {
                    self.add_project(source, "", &doc)
                } else if map
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.starts_with("folders/"))
                {
                    self.add_folder(source, "", &doc)
                } else {
                    Err(inventory_error(
                        source,
                        "unrecognised document: expected an IAM policy (`bindings`), {resource, policy}, a custom \
                         role (`includedPermissions`), {group, memberships}, a project (`projectId`) or a folder \
                         (`name: folders/…`)",
                    ))
                }
            }
            _ => Err(inventory_error(
                source,
                "top level is neither an object nor a list",
            )),
        }
    }

    fn add_array(&mut self, source: &str, items: &[Value]) -> Result<(), DetectError> {
        let Some(first) = items.first() else {
            tracing::warn!(source, "empty inventory list: nothing to read");
            return Ok(());
        };
        let has = |k: &str| first.get(k).is_some();
        let name = first.get("name").and_then(Value::as_str).unwrap_or("");
        for (i, item) in items.iter().enumerate() {
            let at = format!("[{i}].");
            if !item.is_object() {
                return Err(inventory_error(source, format!("[{i}]: not an object")));
            }
            if has("policy") && has("resource") {
                let resource = field_str(item, "resource", source, &at)?;
                self.asset_hierarchy(item, resource, source, &at)?;
                let project = item.get("project").and_then(Value::as_str);
                let scope = self.scope_of(resource, project, source, &format!("{at}resource"))?;
                let policy = item
                    .get("policy")
                    .ok_or_else(|| inventory_error(source, format!("{at}policy: missing")))?;
                self.add_policy(source, &format!("{at}policy."), scope, policy)?;
            } else if has("includedPermissions") || name.contains("/roles/") {
                self.add_custom_role(source, &at, item)?;
            } else if has("keyType") || name.contains("/keys/") {
                self.add_key(source, &at, item)?;
            } else if has("email") && name.contains("/serviceAccounts/") {
                self.add_service_account(source, &at, item)?;
            } else if has("projectId") {
                self.add_project(source, &at, item)?;
            } else if name.starts_with("folders/") {
                self.add_folder(source, &at, item)?;
            } else {
                return Err(inventory_error(
                    source,
                    "unrecognised list: expected asset search results ({resource, policy}), custom roles, service \
                     account keys, service accounts, projects or folders",
                ));
            }
        }
        Ok(())
    }

    /// A scope from a resource name as policies and asset search write it.
    fn scope_of(
        &self,
        resource: &str,
        project: Option<&str>,
        source: &str,
        field: &str,
    ) -> Result<Scope, DetectError> {
        let short = resource
            .strip_prefix("//cloudresourcemanager.googleapis.com/")
            .unwrap_or(resource);
        let (kind, rest) = short.split_once('/').unwrap_or((short, ""));
        let single = !rest.is_empty() && !rest.contains('/');
        let scope = match kind {
            "projects" if single => Scope {
                name: short.to_string(),
                kind: ScopeKind::Project,
                project: Some(rest.to_string()),
            },
            "folders" if single => Scope {
                name: short.to_string(),
                kind: ScopeKind::Folder,
                project: None,
            },
            "organizations" if single => Scope {
                name: short.to_string(),
                kind: ScopeKind::Organization,
                project: None,
            },
            _ if resource.starts_with("//") => {
                let named = resource
                    .split('/')
                    .collect::<Vec<_>>()
                    .windows(2)
                    .find(|w| w[0] == "projects" && w[1] != "_")
                    .map(|w| w[1].to_string());
                let project = named.or_else(|| {
                    project
                        .and_then(|p| p.strip_prefix("projects/"))
                        .map(str::to_string)
                });
                Scope {
                    name: resource.to_string(),
                    kind: ScopeKind::Resource,
                    project,
                }
            }
            _ => {
                return Err(inventory_error(
                    source,
                    format!(
                        "{field}: `{resource}` is not projects/<id>, folders/<n>, organizations/<n> or a full resource \
                         name (//service.googleapis.com/…)"
                    ),
                ));
            }
        };
        Ok(scope)
    }

    /// Asset search results name the folders and organization above the resource's project.
    fn asset_hierarchy(
        &mut self,
        item: &Value,
        resource: &str,
        source: &str,
        at: &str,
    ) -> Result<(), DetectError> {
        let mut above: BTreeSet<String> = BTreeSet::new();
        if let Some(folders) = item.get("folders") {
            let folders = folders
                .as_array()
                .ok_or_else(|| inventory_error(source, format!("{at}folders: not a list")))?;
            for (j, f) in folders.iter().enumerate() {
                let f = f.as_str().ok_or_else(|| {
                    inventory_error(source, format!("{at}folders[{j}]: not a string"))
                })?;
                above.insert(f.to_string());
            }
        }
        if let Some(org) = item
            .get("organization")
            .and_then(Value::as_str)
            .filter(|o| !o.is_empty())
        {
            above.insert(org.to_string());
        }
        if above.is_empty() {
            return Ok(());
        }
        let scope = self.scope_of(
            resource,
            item.get("project").and_then(Value::as_str),
            source,
            &format!("{at}resource"),
        )?;
        let child = match scope.kind {
            ScopeKind::Folder => Some(scope.name.clone()),
            ScopeKind::Organization => None,
            ScopeKind::Project | ScopeKind::Resource => {
                scope.project.map(|p| format!("projects/{p}"))
            }
        };
        if let Some(child) = child {
            above.remove(&child);
            self.inventory
                .ancestors
                .entry(child)
                .or_default()
                .extend(above);
        }
        Ok(())
    }

    fn add_policy(
        &mut self,
        source: &str,
        at: &str,
        scope: Scope,
        policy: &Value,
    ) -> Result<(), DetectError> {
        if !policy.is_object() {
            return Err(inventory_error(
                source,
                format!("{at}: the policy is not an object"),
            ));
        }
        let Some(bindings) = policy.get("bindings") else {
            // A policy with no bindings (only an etag) grants nothing.
            return Ok(());
        };
        let bindings = bindings
            .as_array()
            .ok_or_else(|| inventory_error(source, format!("{at}bindings: not a list")))?;
        for (i, binding) in bindings.iter().enumerate() {
            let at = format!("{at}bindings[{i}].");
            let role = field_str(binding, "role", source, &at)?.to_string();
            let members = binding
                .get("members")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    inventory_error(source, format!("{at}members: missing or not a list"))
                })?;
            let mut keys = Vec::with_capacity(members.len());
            for (j, member) in members.iter().enumerate() {
                let member = member.as_str().ok_or_else(|| {
                    inventory_error(source, format!("{at}members[{j}]: not a string"))
                })?;
                match parse_member(member) {
                    Ok(Some((key, kind, name))) => {
                        self.principals.entry(key.clone()).or_insert((kind, name));
                        keys.push(key);
                    }
                    Ok(None) => {
                        let kind = member.split(':').next().unwrap_or(member).to_string();
                        *self.skipped_members.entry(kind).or_default() += 1;
                    }
                    Err(reason) => {
                        return Err(inventory_error(
                            source,
                            format!("{at}members[{j}]: {reason}"),
                        ));
                    }
                }
            }
            let condition = match binding.get("condition") {
                None | Some(Value::Null) => None,
                Some(c) if c.get("expression").and_then(Value::as_str).is_some() => Some(c.clone()),
                Some(_) => {
                    return Err(inventory_error(
                        source,
                        format!("{at}condition.expression: missing or not a string"),
                    ));
                }
            };
            self.inventory.bindings.push(Binding {
                scope: scope.clone(),
                role,
                members: keys,
                condition,
            });
        }
        Ok(())
    }

    fn add_custom_role(&mut self, source: &str, at: &str, role: &Value) -> Result<(), DetectError> {
        let name = field_str(role, "name", source, at)?;
        if !name.contains("/roles/")
            || !(name.starts_with("projects/") || name.starts_with("organizations/"))
        {
            return Err(inventory_error(
                source,
                format!(
                    "{at}name: `{name}` is not projects/<id>/roles/<id> or organizations/<n>/roles/<id>"
                ),
            ));
        }
        if role.get("deleted").and_then(Value::as_bool) == Some(true) {
            // Deleted roles cannot be bound; a binding still naming one grants nothing.
            return Ok(());
        }
        let permissions = match role.get("includedPermissions") {
            // A role with no permissions is exported without the field.
            None => Vec::new(),
            Some(list) => list
                .as_array()
                .ok_or_else(|| {
                    inventory_error(source, format!("{at}includedPermissions: not a list"))
                })?
                .iter()
                .enumerate()
                .map(|(j, p)| {
                    p.as_str().map(str::to_string).ok_or_else(|| {
                        inventory_error(
                            source,
                            format!("{at}includedPermissions[{j}]: not a string"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let title = role
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or(name)
            .to_string();
        self.inventory
            .custom_roles
            .insert(name.to_string(), CustomRole { title, permissions });
        Ok(())
    }

    fn add_key(&mut self, source: &str, at: &str, key: &Value) -> Result<(), DetectError> {
        let name = field_str(key, "name", source, at)?;
        let key_type = field_str(key, "keyType", source, at)?;
        let Some((project, email)) = service_account_of_key(name) else {
            return Err(inventory_error(
                source,
                format!(
                    "{at}name: `{name}` is not projects/<id>/serviceAccounts/<email>/keys/<id>"
                ),
            ));
        };
        match key_type {
            "USER_MANAGED" => {}
            // Google holds and rotates these; they are no credential a user can leak.
            "SYSTEM_MANAGED" => {
                self.system_managed_keys += 1;
                return Ok(());
            }
            other => {
                return Err(inventory_error(
                    source,
                    format!("{at}keyType: unknown value `{other}`"),
                ));
            }
        }
        let created = match key.get("validAfterTime") {
            None | Some(Value::Null) => None,
            Some(t) => Some(parse_time(t).ok_or_else(|| {
                inventory_error(
                    source,
                    format!("{at}validAfterTime: not an RFC 3339 time: {t}"),
                )
            })?),
        };
        let sa_key = format!("gcp:{}", email.to_lowercase());
        if project != "-" {
            self.inventory
                .service_account_projects
                .entry(email.to_lowercase())
                .or_insert(project);
        }
        self.principals
            .entry(sa_key.clone())
            .or_insert((PrincipalKind::ServiceAccount, email.to_string()));
        self.credentials
            .entry(sa_key)
            .or_default()
            .push(Credential {
                // The audit log's `serviceAccountKeyName` is the full resource name: keep that form so
                // credentials seen in events join.
                id: format!("//iam.googleapis.com/{name}"),
                kind: "service_account_key".to_string(),
                created,
                last_used: None,
                active: key.get("disabled").and_then(Value::as_bool) != Some(true),
            });
        Ok(())
    }

    fn add_service_account(
        &mut self,
        source: &str,
        at: &str,
        account: &Value,
    ) -> Result<(), DetectError> {
        let email = field_str(account, "email", source, at)?.to_lowercase();
        let project = match account.get("projectId").and_then(Value::as_str) {
            Some(p) => p.to_string(),
            None => {
                let name = field_str(account, "name", source, at)?;
                name.strip_prefix("projects/")
                    .and_then(|r| r.split('/').next())
                    .map(str::to_string)
                    .ok_or_else(|| {
                        inventory_error(source, format!("{at}name: `{name}` names no project"))
                    })?
            }
        };
        self.inventory
            .service_account_projects
            .insert(email.clone(), project);
        self.principals
            .entry(format!("gcp:{email}"))
            .or_insert((PrincipalKind::ServiceAccount, email));
        Ok(())
    }

    fn add_project(&mut self, source: &str, at: &str, project: &Value) -> Result<(), DetectError> {
        let id = field_str(project, "projectId", source, at)?;
        if let Some(number) = project.get("projectNumber").and_then(Value::as_str) {
            self.project_numbers
                .insert(number.to_string(), id.to_string());
        }
        if let Some(parent) = project.get("parent") {
            let kind = field_str(parent, "type", source, &format!("{at}parent."))?;
            let parent_id = field_str(parent, "id", source, &format!("{at}parent."))?;
            let parent = match kind {
                "folder" => format!("folders/{parent_id}"),
                "organization" => format!("organizations/{parent_id}"),
                other => {
                    return Err(inventory_error(
                        source,
                        format!("{at}parent.type: unknown value `{other}`"),
                    ));
                }
            };
            self.parents.insert(format!("projects/{id}"), parent);
        }
        Ok(())
    }

    fn add_folder(&mut self, source: &str, at: &str, folder: &Value) -> Result<(), DetectError> {
        let name = field_str(folder, "name", source, at)?;
        let parent = field_str(folder, "parent", source, at)?;
        if !(parent.starts_with("folders/") || parent.starts_with("organizations/")) {
            return Err(inventory_error(
                source,
                format!("{at}parent: `{parent}` is not folders/<n> or organizations/<n>"),
            ));
        }
        self.parents.insert(name.to_string(), parent.to_string());
        Ok(())
    }

    fn add_memberships(&mut self, source: &str, doc: &Value) -> Result<(), DetectError> {
        let group = field_str(doc, "group", source, "")?.to_lowercase();
        let group_key = format!("gcp:group:{group}");
        self.principals
            .entry(group_key.clone())
            .or_insert((PrincipalKind::Group, group));
        let list = doc
            .get("memberships")
            .and_then(Value::as_array)
            .ok_or_else(|| inventory_error(source, "memberships: not a list"))?;
        for (i, m) in list.iter().enumerate() {
            let at = format!("memberships[{i}].");
            let id = m
                .get("preferredMemberKey")
                .and_then(|k| k.get("id"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    inventory_error(
                        source,
                        format!("{at}preferredMemberKey.id: missing or not a string"),
                    )
                })?
                .to_lowercase();
            let kind = match m.get("type").and_then(Value::as_str) {
                Some("GROUP") => PrincipalKind::Group,
                Some("SERVICE_ACCOUNT") => PrincipalKind::ServiceAccount,
                _ if id.ends_with(".gserviceaccount.com") => PrincipalKind::ServiceAccount,
                _ => PrincipalKind::User,
            };
            let key = if kind == PrincipalKind::Group {
                format!("gcp:group:{id}")
            } else {
                format!("gcp:{id}")
            };
            self.principals.entry(key.clone()).or_insert((kind, id));
            self.memberships
                .entry(group_key.clone())
                .or_default()
                .insert(key);
        }
        Ok(())
    }
}

/// A binding member → (principal key, kind, name); `Ok(None)` for members that are skipped.
fn parse_member(member: &str) -> Result<Option<(String, PrincipalKind, String)>, String> {
    match member {
        "allUsers" => {
            return Ok(Some((
                "anonymous:gcp".into(),
                PrincipalKind::User,
                "allUsers".into(),
            )));
        }
        "allAuthenticatedUsers" => {
            return Ok(Some((
                "gcp:allAuthenticatedUsers".into(),
                PrincipalKind::Group,
                "allAuthenticatedUsers".into(),
            )));
        }
        _ => {}
    }
    let Some((kind, value)) = member.split_once(':') else {
        return Err(format!(
            "`{member}` is not <type>:<id>, allUsers or allAuthenticatedUsers"
        ));
    };
    let lower = value.to_lowercase();
    Ok(match kind {
        "user" => Some((
            format!("gcp:{lower}"),
            PrincipalKind::User,
            value.to_string(),
        )),
        "serviceAccount" => Some((
            format!("gcp:{lower}"),
            PrincipalKind::ServiceAccount,
            value.to_string(),
        )),
        "group" => Some((
            format!("gcp:group:{lower}"),
            PrincipalKind::Group,
            value.to_string(),
        )),
        "domain" => Some((
            format!("gcp:domain:{lower}"),
            PrincipalKind::Group,
            value.to_string(),
        )),
        "deleted" | "principal" | "principalSet" | "projectOwner" | "projectEditor"
        | "projectViewer" => None,
        other => return Err(format!("unknown member type `{other}`")),
    })
}

/// `projects/P/serviceAccounts/EMAIL/keys/ID` → (P, EMAIL).
fn service_account_of_key(name: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = name.split('/').collect();
    match parts.as_slice() {
        ["projects", project, "serviceAccounts", email, "keys", _id] => {
            Some((project.to_string(), email.to_string()))
        }
        _ => None,
    }
}

fn parse_time(value: &Value) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The resource of a bare policy file, from its name: `projects_<id>.json`, `folders_<n>.json` or
/// `organizations_<n>.json` (any directory; the `.json` suffix optional).
fn scope_from_file_name(source: &str) -> Result<Scope, DetectError> {
    let base = source.rsplit(['/', '\\']).next().unwrap_or(source);
    let stem = base.strip_suffix(".json").unwrap_or(base);
    let parsed = stem.split_once('_').and_then(|(kind, id)| {
        let numeric = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        match kind {
            "projects" if !id.is_empty() => Some(Scope {
                name: format!("projects/{id}"),
                kind: ScopeKind::Project,
                project: Some(id.to_string()),
            }),
            "folders" if numeric => Some(Scope {
                name: format!("folders/{id}"),
                kind: ScopeKind::Folder,
                project: None,
            }),
            "organizations" if numeric => Some(Scope {
                name: format!("organizations/{id}"),
                kind: ScopeKind::Organization,
                project: None,
            }),
            _ => None,
        }
    });
    parsed.ok_or_else(|| {
        inventory_error(
            source,
            "resource: a bare IAM policy does not say which resource it is for; wrap it as {\"resource\": \
             \"projects/<id>\", \"policy\": {…}} or name the file projects_<id>.json, folders_<n>.json or \
             organizations_<n>.json",
        )
    })
}

//! Reading Azure inventory exports: role assignments, custom role definitions and (optionally) Vigil's
//! group-membership convenience document. See [`parse_inventory`](super::parse_inventory) for the
//! shapes accepted.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde_json::Value;
use vigil_schemas::Provider;

use super::catalog::string_list;
use super::scope::Scope;
use crate::DetectError;
use crate::permissions::model::{Principal, PrincipalKind};

/// One `permissions` block of a role definition.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PermissionBlock {
    pub(crate) actions: Vec<String>,
    pub(crate) not_actions: Vec<String>,
    pub(crate) data_actions: Vec<String>,
    pub(crate) not_data_actions: Vec<String>,
}

/// A role definition, built-in (from the catalog) or custom (from the inventory).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RoleDefinition {
    /// The definition's GUID, lower-cased: what assignments' `roleDefinitionId` ends with.
    pub(crate) guid: String,
    pub(crate) id: String,
    /// `roleName`: `Owner`, `Key Vault Secrets User`, a custom role's name.
    pub(crate) name: String,
    pub(crate) custom: bool,
    pub(crate) blocks: Vec<PermissionBlock>,
    pub(crate) assignable_scopes: Vec<String>,
    /// A condition on the definition's permissions (newer API versions), kept like an assignment's.
    pub(crate) condition: Option<String>,
    /// The file it came from.
    pub(crate) source: String,
}

/// One role assignment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Assignment {
    pub(crate) source: String,
    /// The assignment's `id` (or `name`, or its position when neither is given).
    pub(crate) id: String,
    /// Object id, lower-cased.
    pub(crate) principal_id: String,
    pub(crate) role_definition_id: String,
    /// Last path segment of `roleDefinitionId`, lower-cased.
    pub(crate) role_guid: String,
    pub(crate) scope: String,
    /// `scope` lower-cased, for coverage tests without allocating.
    pub(crate) scope_lower: String,
    pub(crate) condition: Option<String>,
    pub(crate) created: Option<DateTime<Utc>>,
}

/// Everything read from the Azure inventory exports.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// One per principal seen in an assignment or in the group-membership document, sorted by key.
    pub principals: Vec<Principal>,
    pub(crate) assignments: Vec<Assignment>,
    pub(crate) custom_roles: Vec<RoleDefinition>,
    pub(crate) custom_by_guid: HashMap<String, usize>,
    /// Assignment indexes by principal object id (lower-cased).
    pub(crate) assignments_by_principal: HashMap<String, Vec<usize>>,
    /// Whether a group-membership document was given (otherwise membership is unknown).
    pub(crate) group_members_known: bool,
}

impl Inventory {
    /// The object id behind a principal key (`azure:<object id>`).
    pub(crate) fn object_id(key: &str) -> &str {
        key.strip_prefix("azure:").unwrap_or(key)
    }

    pub(crate) fn assignments_of(&self, object_id: &str) -> impl Iterator<Item = &Assignment> {
        self.assignments_by_principal
            .get(object_id)
            .into_iter()
            .flatten()
            .filter_map(|i| self.assignments.get(*i))
    }

    pub(crate) fn custom_role(&self, guid: &str) -> Option<&RoleDefinition> {
        self.custom_by_guid
            .get(guid)
            .and_then(|i| self.custom_roles.get(*i))
    }
}

/// What is known of one principal while reading.
#[derive(Debug, Default)]
struct PrincipalDraft {
    kind: Option<PrincipalKind>,
    name: Option<String>,
    created: Option<DateTime<Utc>>,
    /// Groups it is a direct member of (object ids).
    groups: BTreeSet<String>,
}

pub(crate) fn parse(docs: &[(String, Vec<u8>)]) -> Result<Inventory, DetectError> {
    let mut inventory = Inventory::default();
    let mut drafts: BTreeMap<String, PrincipalDraft> = BTreeMap::new();
    for (source, bytes) in docs {
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| inventory_error(source, format!("not valid JSON: {e}")))?;
        read_document(source, &doc, &mut inventory, &mut drafts)?;
    }
    for (i, a) in inventory.assignments.iter().enumerate() {
        inventory
            .assignments_by_principal
            .entry(a.principal_id.clone())
            .or_default()
            .push(i);
    }
    inventory.principals = finish_principals(&inventory, drafts);
    Ok(inventory)
}

fn read_document(
    source: &str,
    doc: &Value,
    inventory: &mut Inventory,
    drafts: &mut BTreeMap<String, PrincipalDraft>,
) -> Result<(), DetectError> {
    if let Some(members) = doc.get("groupMembers") {
        inventory.group_members_known = true;
        return read_group_members(source, members, drafts);
    }
    let items: Vec<&Value> = match doc {
        Value::Array(items) => items.iter().collect(),
        // ARM REST list responses wrap the array in `value`.
        Value::Object(map) => match map.get("value") {
            Some(Value::Array(items)) => items.iter().collect(),
            _ => vec![doc],
        },
        _ => return Err(inventory_error(source, "expected a JSON array or object")),
    };
    for (i, item) in items.into_iter().enumerate() {
        if field(item, "roleDefinitionId").is_some() || field(item, "principalId").is_some() {
            let assignment = read_assignment(source, item, i)?;
            let draft = drafts.entry(assignment.principal_id.clone()).or_default();
            let principal_type = text(item, "principalType").unwrap_or_default();
            if draft.kind.is_none() {
                draft.kind = kind_of(&principal_type, text(item, "principalName").as_deref());
            }
            if draft.name.is_none() {
                draft.name = text(item, "principalName").filter(|n| !n.is_empty());
            }
            if let Some(created) = assignment.created {
                draft.created = Some(draft.created.map_or(created, |c| c.min(created)));
            }
            inventory.assignments.push(assignment);
        } else if field(item, "permissions").is_some() || field(item, "roleName").is_some() {
            let role = read_role_definition(source, item, i)?;
            if !inventory.custom_by_guid.contains_key(&role.guid) {
                inventory
                    .custom_by_guid
                    .insert(role.guid.clone(), inventory.custom_roles.len());
                inventory.custom_roles.push(role);
            }
        } else {
            return Err(inventory_error(
                source,
                format!(
                    "[{i}]: neither a role assignment (principalId, roleDefinitionId, scope) nor a \
                     role definition (roleName, permissions), nor a {{\"groupMembers\": …}} document"
                ),
            ));
        }
    }
    Ok(())
}

fn read_assignment(source: &str, item: &Value, i: usize) -> Result<Assignment, DetectError> {
    let id = text(item, "id")
        .or_else(|| text(item, "name"))
        .unwrap_or_else(|| format!("#{i}"));
    let missing = |f: &str| {
        inventory_error(
            source,
            format!("[{i}].{f}: missing or not a string (role assignment {id})"),
        )
    };
    let principal_id = text(item, "principalId")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| missing("principalId"))?
        .to_ascii_lowercase();
    let role_definition_id = text(item, "roleDefinitionId")
        .filter(|r| !r.is_empty())
        .ok_or_else(|| missing("roleDefinitionId"))?;
    let role_guid = role_definition_id
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    // The CLI gives `scope`; a REST document may only carry it inside the assignment id.
    let scope = text(item, "scope")
        .or_else(|| scope_from_assignment_id(&id))
        .ok_or_else(|| missing("scope"))?;
    let condition = match field(item, "condition") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(missing("condition")),
    };
    let created = match text(item, "createdOn") {
        None => None,
        Some(t) => Some(parse_time(&t).ok_or_else(|| {
            inventory_error(
                source,
                format!("[{i}].createdOn: {t:?} is not an RFC 3339 time (role assignment {id})"),
            )
        })?),
    };
    let scope = Scope::normalise(&scope);
    Ok(Assignment {
        source: source.to_string(),
        id,
        principal_id,
        role_definition_id,
        role_guid,
        scope_lower: scope.to_ascii_lowercase(),
        scope,
        condition,
        created,
    })
}

fn read_role_definition(
    source: &str,
    item: &Value,
    i: usize,
) -> Result<RoleDefinition, DetectError> {
    let id = text(item, "id").unwrap_or_default();
    let name = text(item, "roleName").ok_or_else(|| {
        inventory_error(
            source,
            format!("[{i}].roleName: missing (role definition {id})"),
        )
    })?;
    let guid = text(item, "name")
        .filter(|n| !n.is_empty())
        .or_else(|| id.rsplit('/').next().map(str::to_string))
        .filter(|g| !g.is_empty())
        .ok_or_else(|| {
            inventory_error(
                source,
                format!("[{i}].name: missing, and no id to take the GUID from (role {name:?})"),
            )
        })?
        .to_ascii_lowercase();
    let bad = |f: String| {
        inventory_error(
            source,
            format!("[{i}].{f}: missing or not an array of strings (role {name:?})"),
        )
    };
    let blocks_value = field(item, "permissions").ok_or_else(|| bad("permissions".into()))?;
    let blocks_json = blocks_value
        .as_array()
        .ok_or_else(|| bad("permissions".into()))?;
    let mut blocks = Vec::with_capacity(blocks_json.len());
    let mut condition = None;
    for (b, block) in blocks_json.iter().enumerate() {
        let list = |f: &str| {
            string_list(block.get(f).unwrap_or(&Value::Null))
                .ok_or_else(|| bad(format!("permissions[{b}].{f}")))
        };
        blocks.push(PermissionBlock {
            actions: list("actions")?,
            not_actions: list("notActions")?,
            data_actions: list("dataActions")?,
            not_data_actions: list("notDataActions")?,
        });
        if let Some(c) = block
            .get("condition")
            .and_then(Value::as_str)
            .filter(|c| !c.trim().is_empty())
        {
            condition = Some(c.to_string());
        }
    }
    let assignable_scopes = match field(item, "assignableScopes") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => string_list(v).ok_or_else(|| bad("assignableScopes".into()))?,
    };
    Ok(RoleDefinition {
        guid,
        id,
        name,
        custom: text(item, "roleType").is_none_or(|t| !t.eq_ignore_ascii_case("BuiltInRole")),
        blocks,
        assignable_scopes: assignable_scopes
            .iter()
            .map(|s| Scope::normalise(s))
            .collect(),
        condition,
        source: source.to_string(),
    })
}

/// `{"groupMembers": {"<group object id>": ["<member object id>" | {"id": …, "@odata.type": …,
/// "displayName": …, "userPrincipalName": …, "servicePrincipalType": …}, …]}}`.
fn read_group_members(
    source: &str,
    members: &Value,
    drafts: &mut BTreeMap<String, PrincipalDraft>,
) -> Result<(), DetectError> {
    let groups = members
        .as_object()
        .ok_or_else(|| inventory_error(source, "groupMembers: not an object"))?;
    for (group, list) in groups {
        let group_id = group.to_ascii_lowercase();
        drafts.entry(group_id.clone()).or_default().kind = Some(PrincipalKind::Group);
        let list = list.as_array().ok_or_else(|| {
            inventory_error(source, format!("groupMembers.{group}: not an array"))
        })?;
        for (m, member) in list.iter().enumerate() {
            let (id, kind, name) = match member {
                Value::String(id) => (id.clone(), None, None),
                Value::Object(_) => {
                    let id = text(member, "id").ok_or_else(|| {
                        inventory_error(source, format!("groupMembers.{group}[{m}].id: missing"))
                    })?;
                    let odata = text(member, "@odata.type")
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    let sp_type = text(member, "servicePrincipalType").unwrap_or_default();
                    let kind = if odata.ends_with(".group") {
                        Some(PrincipalKind::Group)
                    } else if sp_type.eq_ignore_ascii_case("ManagedIdentity") {
                        Some(PrincipalKind::ManagedIdentity)
                    } else if odata.ends_with(".serviceprincipal") {
                        Some(PrincipalKind::ServicePrincipal)
                    } else if odata.ends_with(".user") {
                        Some(PrincipalKind::User)
                    } else {
                        None
                    };
                    let name =
                        text(member, "userPrincipalName").or_else(|| text(member, "displayName"));
                    (id, kind, name)
                }
                _ => {
                    return Err(inventory_error(
                        source,
                        format!("groupMembers.{group}[{m}]: not an object id or a member object"),
                    ));
                }
            };
            let draft = drafts.entry(id.to_ascii_lowercase()).or_default();
            if kind.is_some() {
                draft.kind = kind;
            }
            if draft.name.is_none() {
                draft.name = name;
            }
            draft.groups.insert(group_id.clone());
        }
    }
    Ok(())
}

/// Turns drafts into principals: kind (members of unknown type are taken as users), name, account,
/// and the transitive closure of group membership.
fn finish_principals(
    inventory: &Inventory,
    drafts: BTreeMap<String, PrincipalDraft>,
) -> Vec<Principal> {
    let direct: HashMap<&str, &BTreeSet<String>> = drafts
        .iter()
        .map(|(id, d)| (id.as_str(), &d.groups))
        .collect();
    let mut principals = Vec::with_capacity(drafts.len());
    for (id, draft) in &drafts {
        // Walk up the parent groups; `seen` also stops membership cycles.
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut queue: Vec<&String> = draft.groups.iter().collect();
        while let Some(group) = queue.pop() {
            if group == id || !seen.insert(group.clone()) {
                continue;
            }
            if let Some(parents) = direct.get(group.as_str()) {
                queue.extend(parents.iter());
            }
        }
        let account = account_of(inventory.assignments_of(id).map(|a| a.scope.as_str()));
        principals.push(Principal {
            key: format!("azure:{id}"),
            provider: Provider::Azure,
            kind: draft.kind.unwrap_or(PrincipalKind::User),
            name: draft.name.clone().unwrap_or_else(|| id.clone()),
            account,
            created: draft.created,
            member_of: seen.into_iter().map(|g| format!("azure:{g}")).collect(),
            credentials: Vec::new(),
        });
    }
    principals
}

/// The principal's account: the first subscription among its assignment scopes (in scope order), else
/// the first management group, else `tenant`.
fn account_of<'a>(scopes: impl Iterator<Item = &'a str>) -> String {
    let mut scopes: Vec<&str> = scopes.collect();
    scopes.sort_unstable();
    let parsed: Vec<Scope> = scopes.iter().map(|s| Scope::parse(s)).collect();
    parsed
        .iter()
        .find_map(|s| s.subscription().map(str::to_string))
        .or_else(|| {
            parsed
                .iter()
                .find_map(|s| s.management_group().map(str::to_string))
        })
        .unwrap_or_else(|| "tenant".to_string())
}

/// Kind from `principalType`; service principals whose name is a managed identity resource id or
/// starts with the Cloud Adoption Framework's managed-identity prefix (`id-`, also `mi-`, `msi-`,
/// `uami-`) are taken as managed identities: the exports do not say otherwise.
fn kind_of(principal_type: &str, principal_name: Option<&str>) -> Option<PrincipalKind> {
    let name = principal_name.unwrap_or_default().to_ascii_lowercase();
    match principal_type.to_ascii_lowercase().as_str() {
        "user" => Some(PrincipalKind::User),
        "group" | "foreigngroup" => Some(PrincipalKind::Group),
        "managedidentity" | "msi" => Some(PrincipalKind::ManagedIdentity),
        "serviceprincipal" => {
            let looks_managed = name.contains("/providers/microsoft.managedidentity/")
                || ["id-", "mi-", "msi-", "uami-"]
                    .iter()
                    .any(|p| name.starts_with(p));
            Some(if looks_managed {
                PrincipalKind::ManagedIdentity
            } else {
                PrincipalKind::ServicePrincipal
            })
        }
        _ => None,
    }
}

/// `<scope>/providers/Microsoft.Authorization/roleAssignments/<guid>` → `<scope>`.
fn scope_from_assignment_id(id: &str) -> Option<String> {
    let marker = "/providers/microsoft.authorization/roleassignments/";
    let at = id.to_ascii_lowercase().find(marker)?;
    let scope = &id[..at];
    Some(if scope.is_empty() {
        "/".to_string()
    } else {
        scope.to_string()
    })
}

/// A field at the top level or under `properties` (the ARM REST shape).
fn field<'a>(item: &'a Value, name: &str) -> Option<&'a Value> {
    item.get(name)
        .or_else(|| item.get("properties").and_then(|p| p.get(name)))
}

fn text(item: &Value, name: &str) -> Option<String> {
    field(item, name)
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        // The CLI prints `2024-05-01T10:00:00.123456+00:00`, REST `…Z`; both are RFC 3339.
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

pub(crate) fn inventory_error(source: &str, reason: impl Into<String>) -> DetectError {
    DetectError::Inventory {
        file: source.to_string(),
        reason: reason.into(),
    }
}

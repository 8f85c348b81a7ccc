//! The Azure permission catalog: every concrete operation Vigil knows, densely indexed, with its
//! access level and Vigil's risk flags, plus the built-in role definitions.
//!
//! The operation list is the union of `operations_derived.json` (a substitute for `az provider
//! operation list`, see its `_meta.WARNING`: it is incomplete, so wildcards expand to what it knows) and
//! every wildcard-free operation named in a built-in role. Azure operation names are case-insensitive;
//! one spelling per operation is kept (see [`spelling_rank`]).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::inventory::{PermissionBlock, RoleDefinition};
use crate::DetectError;
use crate::permissions::model::{
    AccessLevel, PermissionCatalog, PermissionInfo, PermissionSet, RiskFlags,
};

const OPERATIONS_FILE: &str = "operations_derived.json";
const ROLES_FILE: &str = "built_in_roles.json";

/// The Azure catalog: operations by index, which plane each belongs to, and the built-in roles.
#[derive(Debug, Clone)]
pub struct Catalog {
    permissions: Vec<PermissionInfo>,
    /// Lower-cased names, same order as `permissions`, for wildcard matching.
    lower_names: Vec<String>,
    index: HashMap<String, u32>,
    /// Operations seen as control-plane actions (role `actions`, REST map).
    control: PermissionSet,
    /// Operations seen as data actions (role `dataActions`).
    data: PermissionSet,
    built_in: Vec<RoleDefinition>,
    built_in_by_guid: HashMap<String, usize>,
}

/// Which list of a role definition a pattern comes from: `actions` match control-plane operations,
/// `dataActions` data-plane ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plane {
    Control,
    Data,
}

/// What one role definition allows, expanded against the catalog.
#[derive(Debug, Clone, Default)]
pub(crate) struct RoleExpansion {
    pub(crate) control: PermissionSet,
    pub(crate) data: PermissionSet,
    pub(crate) all: PermissionSet,
    /// Allows at least one write, delete or permission-management operation.
    pub(crate) high_risk: bool,
}

#[derive(Debug, Default)]
struct Collected {
    /// (rank, spelling) candidates; the smallest wins.
    spellings: Vec<((bool, bool, bool), String)>,
    control: bool,
    data: bool,
}

impl Catalog {
    /// File names (relative to the catalog's `azure/` folder) this needs.
    pub const FILES: &'static [&'static str] = &[ROLES_FILE, OPERATIONS_FILE];

    /// Parses the catalog from `files` (name → bytes; the Azure files ship as plain JSON).
    pub fn parse(files: &BTreeMap<String, Vec<u8>>) -> Result<Catalog, DetectError> {
        let operations = read_json(files, OPERATIONS_FILE)?;
        let roles_doc = read_json(files, ROLES_FILE)?;

        let mut collected: BTreeMap<String, Collected> = BTreeMap::new();
        let providers = operations
            .get("providers")
            .and_then(Value::as_object)
            .ok_or_else(|| catalog_error(OPERATIONS_FILE, "providers: missing or not an object"))?;
        for (provider, ops) in providers {
            let ops = ops.as_object().ok_or_else(|| {
                catalog_error(
                    OPERATIONS_FILE,
                    format!("providers.{provider}: not an object"),
                )
            })?;
            for (name, tags) in ops {
                let tags = string_list(tags).ok_or_else(|| {
                    catalog_error(
                        OPERATIONS_FILE,
                        format!("providers.{provider}.{name}: not an array of strings"),
                    )
                })?;
                let rest = tags.iter().any(|t| t == "rest_map");
                let entry = collected.entry(name.to_ascii_lowercase()).or_default();
                entry
                    .spellings
                    .push((spelling_rank(name, rest), name.clone()));
                // `rest_map` operations are ARM REST calls: control plane.
                entry.control |= rest || tags.iter().any(|t| t == "role");
                entry.data |= tags.iter().any(|t| t == "role_data");
            }
        }

        let roles = roles_doc
            .get("roles")
            .and_then(Value::as_array)
            .ok_or_else(|| catalog_error(ROLES_FILE, "roles: missing or not an array"))?;
        let mut built_in = Vec::with_capacity(roles.len());
        for (i, role) in roles.iter().enumerate() {
            let definition = built_in_role(role, i)?;
            for block in &definition.blocks {
                for (patterns, data) in [
                    (&block.actions, false),
                    (&block.not_actions, false),
                    (&block.data_actions, true),
                    (&block.not_data_actions, true),
                ] {
                    for name in patterns.iter().filter(|p| !p.contains('*')) {
                        let entry = collected.entry(name.to_ascii_lowercase()).or_default();
                        entry
                            .spellings
                            .push((spelling_rank(name, false), name.clone()));
                        entry.control |= !data;
                        entry.data |= data;
                    }
                }
            }
            built_in.push(definition);
        }

        let mut catalog = Catalog {
            permissions: Vec::with_capacity(collected.len()),
            lower_names: Vec::with_capacity(collected.len()),
            index: HashMap::with_capacity(collected.len()),
            control: PermissionSet::new(),
            data: PermissionSet::new(),
            built_in_by_guid: HashMap::new(),
            built_in: Vec::new(),
        };
        for (lower, mut entry) in collected {
            entry.spellings.sort();
            let Some((_, name)) = entry.spellings.into_iter().next() else {
                continue;
            };
            let idx = catalog.permissions.len() as u32;
            let (level, risk) = classify(&lower, entry.data && !entry.control);
            catalog
                .permissions
                .push(PermissionInfo { name, level, risk });
            catalog.index.insert(lower.clone(), idx);
            catalog.lower_names.push(lower);
            if entry.control {
                catalog.control.insert(idx);
            }
            if entry.data {
                catalog.data.insert(idx);
            }
        }
        for (i, role) in built_in.iter().enumerate() {
            catalog.built_in_by_guid.insert(role.guid.clone(), i);
        }
        catalog.built_in = built_in;
        Ok(catalog)
    }

    /// The built-in role with this GUID (lower-case), if any.
    pub(crate) fn built_in_role(&self, guid: &str) -> Option<&RoleDefinition> {
        self.built_in_by_guid
            .get(guid)
            .and_then(|i| self.built_in.get(*i))
    }

    /// Whether the operation at `index` is a data action (and not also a control-plane one).
    pub(crate) fn is_data_only(&self, index: u32) -> bool {
        self.data.contains(index) && !self.control.contains(index)
    }

    /// The operations `patterns` name, wildcards expanded within `plane`. A wildcard-free name matches
    /// in either plane (the plane tags are derived and incomplete); a name the catalog lacks matches
    /// nothing.
    pub(crate) fn expand(&self, patterns: &[String], plane: Plane) -> PermissionSet {
        let universe = match plane {
            Plane::Control => &self.control,
            Plane::Data => &self.data,
        };
        let mut set = PermissionSet::new();
        for pattern in patterns {
            let lower = pattern.to_ascii_lowercase();
            if lower == "*" {
                set.union_with(universe);
            } else if !lower.contains('*') {
                if let Some(i) = self.index.get(&lower) {
                    set.insert(*i);
                }
            } else {
                let parts: Vec<&str> = lower.split('*').collect();
                for i in universe.iter() {
                    if self
                        .lower_names
                        .get(i as usize)
                        .is_some_and(|name| glob_match(&parts, name))
                    {
                        set.insert(i);
                    }
                }
            }
        }
        set
    }

    /// Expands a role definition: per permission block, actions minus notActions and dataActions
    /// minus notDataActions; blocks are unioned (Azure's semantics).
    pub(crate) fn expand_role(&self, role: &RoleDefinition) -> RoleExpansion {
        let mut expansion = RoleExpansion::default();
        for block in &role.blocks {
            let mut control = self.expand(&block.actions, Plane::Control);
            control.subtract(&self.expand(&block.not_actions, Plane::Control));
            let mut data = self.expand(&block.data_actions, Plane::Data);
            data.subtract(&self.expand(&block.not_data_actions, Plane::Data));
            expansion.control.union_with(&control);
            expansion.data.union_with(&data);
        }
        expansion.all = expansion.control.clone();
        expansion.all.union_with(&expansion.data);
        expansion.high_risk = expansion
            .all
            .iter()
            .any(|i| self.info(i).is_some_and(|p| p.level.is_high_risk()));
        expansion
    }

    pub(crate) fn info(&self, index: u32) -> Option<&PermissionInfo> {
        self.permissions.get(index as usize)
    }

    pub(crate) fn name_of(&self, index: u32) -> Option<&str> {
        self.info(index).map(|p| p.name.as_str())
    }
}

impl PermissionCatalog for Catalog {
    fn permissions(&self) -> &[PermissionInfo] {
        &self.permissions
    }
    /// Case-insensitive, as Azure compares operation names.
    fn index_of(&self, name: &str) -> Option<u32> {
        self.index.get(&name.to_ascii_lowercase()).copied()
    }
}

/// Which spelling of a case-variant operation name to keep (smaller wins): a capitalised provider
/// namespace (`Microsoft.Web`, not `microsoft.web`), then a lower-case verb (`/action`, not
/// `/Action`), then a spelling from the REST map (the API's own), then the first in byte order.
fn spelling_rank(name: &str, from_rest_map: bool) -> (bool, bool, bool) {
    let capitalised = name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    let verb = name.rsplit('/').next().unwrap_or_default();
    let verb_lower = !verb.chars().any(|c| c.is_ascii_uppercase());
    (!capitalised, !verb_lower, !from_rest_map)
}

/// `*` matches any run of characters (slashes included), as in Azure role definitions.
/// `parts` is the lower-cased pattern split on `*`.
pub(crate) fn glob_match(parts: &[&str], text: &str) -> bool {
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    if parts.len() == 1 {
        return text == *first;
    }
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Access level and risk flags of a (lower-cased) operation by Vigil's rules:
///
/// * level from the verb: `/read` Read; `/write` and `/delete` Write; `/action` Write, except
///   `list…`, `get…` and `read…` actions, which return data (Read); permission management for
///   `Microsoft.Authorization/…/write|delete`, `elevateAccess/action` and
///   `federatedIdentityCredentials/write`.
/// * `credential_exposure`: `list…` actions returning keys, secrets, credentials, connection strings,
///   SAS tokens or passwords, `regenerate…Key` actions (they return the new key), web app
///   `config/list` and `publishxml` (publishing credentials), disk `beginGetAccess` (a SAS URL).
/// * `reads_secrets`: all of the above, plus Key Vault `secrets/getSecret/action` and any
///   `readSecret` action.
/// * `disables_security_tooling`: writes and deletes of diagnostic settings (any provider), flow logs,
///   log profiles and activity-log alerts, network watcher deletion, any write or delete under
///   `Microsoft.Security` (Defender plans, security contacts, auto-provisioning), deletes under
///   `Microsoft.SecurityInsights` (Sentinel), Log Analytics workspace and data-source deletion, data
///   collection rule (association) deletion.
/// * `privilege_escalation`: role assignment and definition writes (PIM requests included),
///   `elevateAccess`, federated identity credential writes, assigning a user-assigned identity, VM and
///   scale-set run commands and extensions, Automation runbook and job writes.
/// * `data_access`: data actions.
/// * `resource_exposure` is not set: Azure has no catalog of sharing operations Vigil trusts yet.
pub(crate) fn classify(lower: &str, data_plane: bool) -> (AccessLevel, RiskFlags) {
    let segments: Vec<&str> = lower.split('/').collect();
    let verb = segments.last().copied().unwrap_or_default();
    let operation = if segments.len() >= 2 {
        segments[segments.len() - 2]
    } else {
        ""
    };
    let is_write_or_delete = verb == "write" || verb == "delete";

    let permissions_management = (lower.starts_with("microsoft.authorization/")
        && is_write_or_delete)
        || lower == "microsoft.authorization/elevateaccess/action"
        || lower.ends_with("/federatedidentitycredentials/write");
    let level = if permissions_management {
        AccessLevel::PermissionsManagement
    } else {
        match verb {
            "read" => AccessLevel::Read,
            "write" | "delete" => AccessLevel::Write,
            "action"
                if operation.starts_with("list")
                    || operation.starts_with("get")
                    || operation.starts_with("read") =>
            {
                AccessLevel::Read
            }
            "action" => AccessLevel::Write,
            _ => AccessLevel::Unknown,
        }
    };

    let credential_exposure = verb == "action" && exposes_credentials(lower, operation);
    let reads_secrets = credential_exposure
        || (verb == "action"
            && ((lower.contains("/secrets/") && operation == "getsecret")
                || operation == "readsecret"
                || operation == "readsecrets"));
    let risk = RiskFlags {
        privilege_escalation: escalates(lower),
        credential_exposure,
        data_access: data_plane,
        resource_exposure: false,
        reads_secrets,
        disables_security_tooling: disables_tooling(lower, verb),
    };
    (level, risk)
}

fn exposes_credentials(lower: &str, operation: &str) -> bool {
    const SECRET_WORDS: [&str; 7] = [
        "key",
        "secret",
        "credential",
        "connectionstring",
        "sas",
        "password",
        "token",
    ];
    let secret_word = SECRET_WORDS.iter().any(|w| operation.contains(w));
    (operation.starts_with("list") && secret_word)
        || (operation.starts_with("regenerate") && operation.contains("key"))
        || operation == "publishxml"
        || operation == "begingetaccess"
        || lower.ends_with("/config/list/action")
}

fn disables_tooling(lower: &str, verb: &str) -> bool {
    let write_or_delete = verb == "write" || verb == "delete";
    const DELETES: [&str; 6] = [
        "microsoft.network/networkwatchers/delete",
        "microsoft.operationalinsights/workspaces/delete",
        "microsoft.operationalinsights/workspaces/datasources/delete",
        "microsoft.insights/datacollectionrules/delete",
        "microsoft.insights/datacollectionruleassociations/delete",
        "microsoft.insights/scheduledqueryrules/delete",
    ];
    (write_or_delete
        && (lower.contains("/diagnosticsettings/")
            || lower.starts_with("microsoft.network/networkwatchers/flowlogs/")
            || lower.starts_with("microsoft.security/")
            || lower.starts_with("microsoft.insights/activitylogalerts/")
            || lower.starts_with("microsoft.insights/logprofiles/")))
        || (verb == "delete" && lower.starts_with("microsoft.securityinsights/"))
        || DELETES.contains(&lower)
}

fn escalates(lower: &str) -> bool {
    const EXACT: [&str; 12] = [
        "microsoft.authorization/roleassignments/write",
        "microsoft.authorization/roledefinitions/write",
        "microsoft.authorization/roleassignmentschedulerequests/write",
        "microsoft.authorization/elevateaccess/action",
        "microsoft.managedidentity/userassignedidentities/assign/action",
        "microsoft.compute/virtualmachines/runcommand/action",
        "microsoft.compute/virtualmachines/runcommands/write",
        "microsoft.compute/virtualmachines/extensions/write",
        "microsoft.compute/virtualmachinescalesets/virtualmachines/runcommand/action",
        "microsoft.compute/virtualmachinescalesets/extensions/write",
        "microsoft.automation/automationaccounts/runbooks/write",
        "microsoft.automation/automationaccounts/jobs/write",
    ];
    EXACT.contains(&lower) || lower.ends_with("/federatedidentitycredentials/write")
}

fn read_json(files: &BTreeMap<String, Vec<u8>>, name: &str) -> Result<Value, DetectError> {
    let bytes = files
        .get(name)
        .ok_or_else(|| catalog_error(name, "file not given"))?;
    serde_json::from_slice(bytes).map_err(|e| catalog_error(name, format!("not valid JSON: {e}")))
}

fn catalog_error(file: &str, reason: impl Into<String>) -> DetectError {
    DetectError::Catalog {
        file: file.to_string(),
        reason: reason.into(),
    }
}

/// `Some(list)` for an array of strings (or a missing/null value: empty), `None` for anything else.
pub(crate) fn string_list(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => None,
    }
}

fn built_in_role(role: &Value, i: usize) -> Result<RoleDefinition, DetectError> {
    let text = |field: &str| role.get(field).and_then(Value::as_str).map(str::to_string);
    let name = text("roleName")
        .ok_or_else(|| catalog_error(ROLES_FILE, format!("roles[{i}].roleName: missing")))?;
    let id = text("id").unwrap_or_default();
    let guid = text("name")
        .or_else(|| id.rsplit('/').next().map(str::to_string))
        .filter(|g| !g.is_empty())
        .ok_or_else(|| {
            catalog_error(
                ROLES_FILE,
                format!("roles[{i}].name: missing (role {name:?})"),
            )
        })?;
    let list = |field: &str| {
        string_list(role.get(field).unwrap_or(&Value::Null)).ok_or_else(|| {
            catalog_error(
                ROLES_FILE,
                format!("roles[{i}].{field}: not an array of strings (role {name:?})"),
            )
        })
    };
    let block = PermissionBlock {
        actions: list("actions")?,
        not_actions: list("notActions")?,
        data_actions: list("dataActions")?,
        not_data_actions: list("notDataActions")?,
    };
    let assignable_scopes = match role.get("assignableScopes") {
        None | Some(Value::Null) => vec!["/".to_string()],
        Some(_) => list("assignableScopes")?,
    };
    Ok(RoleDefinition {
        guid: guid.to_ascii_lowercase(),
        id,
        name,
        custom: false,
        blocks: vec![block],
        assignable_scopes,
        condition: None,
        source: ROLES_FILE.to_string(),
    })
}

//! The GCP part of the permission catalog: every permission named by the catalog gets a dense index,
//! an access level (from its verb) and risk flags (the catalog's sensitive lists plus Vigil's rules);
//! predefined roles are expanded once into permission sets.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

use serde_json::Value;

use crate::DetectError;
use crate::permissions::model::{
    AccessLevel, PermissionCatalog, PermissionInfo, PermissionSet, RiskFlags,
};

const ROLES_FILE: &str = "predefined_roles.json.gz";
const PERMISSIONS_FILE: &str = "permissions.json";
const SENSITIVE_FILE: &str = "sensitive_permissions.json";
const METHODS_FILE: &str = "method_permissions.json";

/// Permissions that let the holder act as, or mint credentials of, a service account: permission
/// management in effect, whatever their verb says.
const SERVICE_ACCOUNT_IMPERSONATION: &[&str] = &[
    "iam.serviceAccountKeys.create",
    "iam.serviceAccounts.actAs",
    "iam.serviceAccounts.getAccessToken",
    "iam.serviceAccounts.signBlob",
    "iam.serviceAccounts.signJwt",
    "iam.serviceAccounts.implicitDelegation",
    "iam.serviceAccounts.getOpenIdToken",
];

/// Permissions that return secret values. `cloudkms.cryptoKeyVersions.useToDecrypt` is deliberately
/// absent: it decrypts ciphertext the caller must already hold (it reads no stored secret by itself),
/// so it is data access at most, and only together with read access to where the ciphertext lives.
const READS_SECRETS: &[&str] = &[
    "secretmanager.versions.access",
    // Parameter Manager renders parameters with their Secret Manager references resolved.
    "parametermanager.parameterVersions.render",
    // Kubernetes Secrets: `get` and `list` both return the secret data.
    "container.secrets.get",
    "container.secrets.list",
];

/// Permissions that turn off or blind security tooling.
const DISABLES_SECURITY_TOOLING: &[&str] = &[
    "logging.sinks.delete",
    "logging.sinks.update",
    "logging.logs.delete",
    "logging.buckets.delete",
    "logging.buckets.update",
    // Exclusions drop matching entries before they are stored or exported.
    "logging.exclusions.create",
    "logging.exclusions.update",
    // VPC flow logs are a subnetwork setting.
    "compute.subnetworks.update",
    "cloudasset.feeds.delete",
    // Data Access audit logging is the `auditConfigs` part of the IAM policy and has no permission of
    // its own: whoever can set the policy can switch those logs off (Admin Activity logs stay on).
    "resourcemanager.projects.setIamPolicy",
    "resourcemanager.folders.setIamPolicy",
    "resourcemanager.organizations.setIamPolicy",
];

/// Permissions that are escalation steps by themselves though the sensitive list misses them.
const EXTRA_PRIVESC: &[&str] = &[
    "iam.serviceAccountKeys.create",
    "resourcemanager.folders.setIamPolicy",
    "resourcemanager.organizations.setIamPolicy",
    "deploymentmanager.deployments.create",
];

/// Extra credential-exposure permissions: each mints a usable credential for a service account.
const EXTRA_CREDENTIAL_EXPOSURE: &[&str] = &[
    "iam.serviceAccounts.getAccessToken",
    "iam.serviceAccounts.getOpenIdToken",
    "iam.serviceAccounts.signBlob",
    "iam.serviceAccounts.signJwt",
    "iam.serviceAccounts.implicitDelegation",
];

/// The GCP permission catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    permissions: Vec<PermissionInfo>,
    index: HashMap<String, u32>,
    /// Predefined role → its permissions; `None` when the catalog lists the role without permissions.
    roles: BTreeMap<String, Option<PermissionSet>>,
    /// Discovery method id (`compute.instances.insert`) → permissions (only those in the index).
    methods: HashMap<String, Vec<u32>>,
    /// Read and List permissions (what `roles/viewer` approximates to when the catalog has no list).
    read_only: PermissionSet,
    /// Everything but permission management (what `roles/editor` approximates to).
    all_but_permission_management: PermissionSet,
    all: PermissionSet,
}

impl Catalog {
    /// File names (relative to the catalog's `gcp/` folder) this needs.
    pub const FILES: &'static [&'static str] =
        &[ROLES_FILE, PERMISSIONS_FILE, SENSITIVE_FILE, METHODS_FILE];

    /// `files`: those names → bytes; `predefined_roles.json.gz` may be given gzip-compressed or plain.
    ///
    /// The index is every permission of `permissions.json` plus every permission any predefined role
    /// names. The method map's 175 `unverified_only_in_method_map` guesses are not indexed (the catalog
    /// says they are probably wrong); method-map entries naming them are dropped.
    pub fn parse(files: &BTreeMap<String, Vec<u8>>) -> Result<Catalog, DetectError> {
        let roles_doc = json_file(files, ROLES_FILE, true)?;
        let permissions_doc = json_file(files, PERMISSIONS_FILE, false)?;
        let sensitive_doc = json_file(files, SENSITIVE_FILE, false)?;
        let methods_doc = json_file(files, METHODS_FILE, false)?;

        let mut names: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        let services = permissions_doc
            .get("services")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                catalog_error(PERMISSIONS_FILE, "`services` is missing or not an object")
            })?;
        for (service, list) in services {
            names.extend(string_list(
                list,
                PERMISSIONS_FILE,
                &format!("services.{service}"),
            )?);
        }
        let role_entries = roles_doc
            .get("roles")
            .and_then(Value::as_object)
            .ok_or_else(|| catalog_error(ROLES_FILE, "`roles` is missing or not an object"))?;
        let mut role_lists: BTreeMap<String, Option<Vec<String>>> = BTreeMap::new();
        for (role, entry) in role_entries {
            let list = match entry.get("permissions") {
                None | Some(Value::Null) => None,
                Some(list) => Some(string_list(
                    list,
                    ROLES_FILE,
                    &format!("roles.{role}.permissions"),
                )?),
            };
            if let Some(list) = &list {
                names.extend(list.iter().cloned());
            }
            role_lists.insert(role.clone(), list);
        }
        if names.is_empty() {
            return Err(catalog_error(
                PERMISSIONS_FILE,
                "no permissions in `services`",
            ));
        }

        let sensitive = sensitive_doc
            .get("iam")
            .and_then(Value::as_object)
            .ok_or_else(|| catalog_error(SENSITIVE_FILE, "`iam` is missing or not an object"))?;
        let sensitive_list = |key: &str| -> Result<HashSet<String>, DetectError> {
            match sensitive.get(key) {
                None => Ok(HashSet::new()),
                Some(list) => Ok(string_list(list, SENSITIVE_FILE, &format!("iam.{key}"))?
                    .into_iter()
                    .collect()),
            }
        };
        let (privesc, credential, data) = (
            sensitive_list("PrivEsc")?,
            sensitive_list("CredentialExposure")?,
            sensitive_list("DataAccess")?,
        );

        let mut permissions = Vec::with_capacity(names.len());
        let mut index = HashMap::with_capacity(names.len());
        let (mut read_only, mut all_but_pm, mut all) = (
            PermissionSet::new(),
            PermissionSet::new(),
            PermissionSet::new(),
        );
        for (i, name) in names.into_iter().enumerate() {
            let i = i as u32;
            let level = access_level(&name);
            let risk = RiskFlags {
                privilege_escalation: privesc.contains(&name)
                    || EXTRA_PRIVESC.contains(&name.as_str()),
                credential_exposure: credential.contains(&name)
                    || EXTRA_CREDENTIAL_EXPOSURE.contains(&name.as_str()),
                data_access: data.contains(&name),
                // A resource's own setIamPolicy can open it to allUsers.
                resource_exposure: verb(&name) == "setIamPolicy",
                reads_secrets: READS_SECRETS.contains(&name.as_str()),
                disables_security_tooling: disables_security_tooling(&name),
            };
            all.insert(i);
            if matches!(level, AccessLevel::Read | AccessLevel::List) {
                read_only.insert(i);
            }
            if level != AccessLevel::PermissionsManagement {
                all_but_pm.insert(i);
            }
            index.insert(name.clone(), i);
            permissions.push(PermissionInfo { name, level, risk });
        }

        let roles: BTreeMap<String, Option<PermissionSet>> = role_lists
            .into_iter()
            .map(|(role, list)| {
                let set = list.map(|list| {
                    let mut set = PermissionSet::new();
                    for name in list {
                        if let Some(&i) = index.get(&name) {
                            set.insert(i);
                        }
                    }
                    set
                });
                (role, set)
            })
            .collect();

        let api = methods_doc
            .get("api")
            .and_then(Value::as_object)
            .ok_or_else(|| catalog_error(METHODS_FILE, "`api` is missing or not an object"))?;
        let mut methods = HashMap::new();
        for (service, entries) in api {
            let entries = entries.as_object().ok_or_else(|| {
                catalog_error(METHODS_FILE, &format!("`api.{service}` is not an object"))
            })?;
            for (method, list) in entries {
                let list = string_list(list, METHODS_FILE, &format!("api.{service}.{method}"))?;
                let mapped: Vec<u32> = list.iter().filter_map(|p| index.get(p).copied()).collect();
                // A method whose every permission is an unverified guess stays unmapped (a gap).
                if !mapped.is_empty() {
                    methods.insert(method.clone(), mapped);
                }
            }
        }
        if let Some(list) = methods_doc.get("no_permission_required") {
            for method in string_list(list, METHODS_FILE, "no_permission_required")? {
                methods.entry(method).or_insert_with(Vec::new);
            }
        }
        tracing::debug!(
            permissions = permissions.len(),
            roles = roles.len(),
            methods = methods.len(),
            "gcp catalog parsed"
        );
        Ok(Catalog {
            permissions,
            index,
            roles,
            methods,
            read_only,
            all_but_permission_management: all_but_pm,
            all,
        })
    }

    /// A predefined role's permissions: `Some(None)` when the catalog names the role without a list.
    pub(super) fn predefined_role(&self, role: &str) -> Option<Option<&PermissionSet>> {
        self.roles.get(role).map(Option::as_ref)
    }

    /// Permissions of a REST discovery method id (`compute.instances.insert`); an empty list for
    /// methods that need none.
    pub(super) fn method_permissions(&self, method: &str) -> Option<&[u32]> {
        self.methods.get(method).map(Vec::as_slice)
    }

    pub(super) fn read_only(&self) -> &PermissionSet {
        &self.read_only
    }

    pub(super) fn all_but_permission_management(&self) -> &PermissionSet {
        &self.all_but_permission_management
    }

    pub(super) fn all(&self) -> &PermissionSet {
        &self.all
    }
}

impl PermissionCatalog for Catalog {
    fn permissions(&self) -> &[PermissionInfo] {
        &self.permissions
    }
    fn index_of(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }
}

/// The last segment of a permission name: `storage.buckets.setIamPolicy` → `setIamPolicy`.
pub(super) fn verb(permission: &str) -> &str {
    permission.rsplit('.').next().unwrap_or(permission)
}

/// The access level of a permission, from its verb (GCP publishes no per-permission level).
pub(super) fn access_level(permission: &str) -> AccessLevel {
    let verb = verb(permission);
    let segments: Vec<&str> = permission.split('.').collect();
    let collection = segments
        .len()
        .checked_sub(2)
        .and_then(|i| segments.get(i))
        .copied()
        .unwrap_or("");
    let lower = verb.to_ascii_lowercase();
    let reads = lower.starts_with("get")
        || lower.starts_with("search")
        || lower.starts_with("read")
        || lower.starts_with("view")
        || lower.starts_with("fetch")
        || lower.starts_with("lookup")
        || lower.starts_with("batchget")
        || lower.starts_with("query")
        || lower.starts_with("analyze")
        || matches!(
            lower.as_str(),
            "access"
                | "download"
                | "export"
                | "check"
                | "aggregate"
                | "validate"
                | "calculate"
                | "simulate"
        );
    if SERVICE_ACCOUNT_IMPERSONATION.contains(&permission)
        || verb == "setIamPolicy"
        || (lower.ends_with("policybinding") && !lower.starts_with("search"))
        || is_role_write(collection, &lower, reads)
    {
        return AccessLevel::PermissionsManagement;
    }
    if lower.starts_with("list") {
        return AccessLevel::List;
    }
    if lower.contains("tagbinding") || lower == "updatetag" || lower == "setlabels" {
        return AccessLevel::Tagging;
    }
    if reads {
        return AccessLevel::Read;
    }
    AccessLevel::Write
}

/// Writes to role definitions (`iam.roles.update`) and Kubernetes RBAC objects (`container.roles.bind`,
/// `container.clusterRoleBindings.create`); tag bindings on roles are tagging, not role writes.
fn is_role_write(collection: &str, verb: &str, reads: bool) -> bool {
    let rbac = matches!(
        collection,
        "roles" | "clusterRoles" | "roleBindings" | "clusterRoleBindings"
    );
    rbac && !reads && !verb.starts_with("list") && !verb.contains("tagbinding")
}

fn disables_security_tooling(permission: &str) -> bool {
    if DISABLES_SECURITY_TOOLING.contains(&permission) {
        return true;
    }
    let Some(rest) = permission.strip_prefix("securitycenter.") else {
        return false;
    };
    let verb = verb(rest).to_ascii_lowercase();
    let collection = rest.split('.').next().unwrap_or("").to_ascii_lowercase();
    // Muting findings, deleting sources or notification configs and changing detector settings all
    // silence Security Command Center.
    verb.contains("mute")
        || (collection == "muteconfigs" && verb != "get" && verb != "list")
        || verb == "delete"
        || (collection.ends_with("settings") && verb == "update")
}

fn catalog_error(file: &str, reason: &str) -> DetectError {
    DetectError::Catalog {
        file: file.to_string(),
        reason: reason.to_string(),
    }
}

fn json_file(
    files: &BTreeMap<String, Vec<u8>>,
    name: &str,
    may_be_gzip: bool,
) -> Result<Value, DetectError> {
    let bytes = files
        .get(name)
        .ok_or_else(|| catalog_error(name, "file not given"))?;
    let plain;
    let bytes = if may_be_gzip && bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| catalog_error(name, &format!("gzip: {e}")))?;
        plain = out;
        plain.as_slice()
    } else {
        bytes.as_slice()
    };
    serde_json::from_slice(bytes).map_err(|e| catalog_error(name, &format!("not JSON: {e}")))
}

fn string_list(value: &Value, file: &str, field: &str) -> Result<Vec<String>, DetectError> {
    let list = value
        .as_array()
        .ok_or_else(|| catalog_error(file, &format!("`{field}` is not a list")))?;
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| catalog_error(file, &format!("`{field}[{i}]` is not a string")))
        })
        .collect()
}

//! The AWS part of the permission catalog: every IAM action with its access level and risk flags,
//! the AWS managed policies' documents, and the CloudTrail event → IAM action map.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

use super::policy::{Statement, glob_match, parse_policy};
use crate::DetectError;
use crate::permissions::{
    AccessLevel, ObservedAction, PermissionCatalog, PermissionInfo, PermissionSet, RiskFlags,
};

const ACTIONS_FILE: &str = "iam_actions.json";
const MANAGED_FILE: &str = "managed_policies.json";
const TRAIL_FILE: &str = "cloudtrail_map.json";
const SENSITIVE_FILE: &str = "sensitive_actions.json";

/// Actions that hand out secret values. `kms:Decrypt` is deliberately absent: it only decrypts
/// ciphertext the caller already holds (and SSM SecureString reads need `ssm:GetParameter*` anyway),
/// so on its own it reads no stored secret; whether a key may be used is also decided by its key
/// policy, a resource policy this analysis does not see.
const READS_SECRETS: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    // Returns every past value of a parameter, SecureStrings decrypted on request.
    "ssm:GetParameterHistory",
];

/// Actions that stop, blind or remove security tooling.
const DISABLES_SECURITY_TOOLING: &[&str] = &[
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
    "ec2:DeleteFlowLogs",
    "guardduty:DeleteDetector",
    "guardduty:UpdateDetector",
    "guardduty:DisassociateFromMasterAccount",
    "guardduty:DeleteMembers",
    "config:StopConfigurationRecorder",
    "config:DeleteConfigurationRecorder",
    "config:DeleteDeliveryChannel",
    "securityhub:DisableSecurityHub",
    "access-analyzer:DeleteAnalyzer",
    "organizations:LeaveOrganization",
    // CloudTrail, VPC flow logs and Route 53 resolver logs are commonly delivered to CloudWatch
    // Logs, and detections (metric filters, subscription filters) run there: deleting the log group
    // destroys the evidence and silently stops those detections.
    "logs:DeleteLogGroup",
    "inspector2:Disable",
    "macie2:DisableMacie",
];

/// Sign-in events authenticate rather than authorise: no IAM action governs them.
const SIGNIN_SOURCE: &str = "signin.amazonaws.com";

/// An AWS managed policy from the catalog.
#[derive(Debug, Clone)]
pub(crate) struct ManagedPolicy {
    pub(crate) name: String,
    pub(crate) statements: Vec<Statement>,
}

/// The AWS permission catalog. Actions are indexed service by service (sorted by prefix, then name),
/// so a service's actions are one contiguous range and `s3:Get*` only scans S3.
#[derive(Debug, Clone)]
pub struct Catalog {
    permissions: Vec<PermissionInfo>,
    lower_names: Vec<String>,
    index: HashMap<String, u32>,
    /// Lower-cased service prefix → range of indices.
    services: HashMap<String, (u32, u32)>,
    /// Whether the action supports resource-level permissions (lists resource types).
    resource_scoped: Vec<bool>,
    all: PermissionSet,
    high_risk: PermissionSet,
    managed: HashMap<String, ManagedPolicy>,
    trail: TrailMap,
}

#[derive(Debug, Clone, Default)]
struct TrailMap {
    /// eventSource → eventName → actions.
    events: HashMap<String, HashMap<String, Vec<u32>>>,
    /// IAM prefix → eventName → actions, for calls with no known eventSource.
    by_prefix: HashMap<String, HashMap<String, Vec<u32>>>,
    source_prefix: HashMap<String, String>,
    /// (lower-cased IAM prefix, operation) of calls that need no permission.
    permissionless: HashSet<(String, String)>,
}

impl Catalog {
    /// File names (relative to the catalog's `aws/` folder) this needs.
    pub const FILES: &'static [&'static str] =
        &[ACTIONS_FILE, MANAGED_FILE, TRAIL_FILE, SENSITIVE_FILE];

    /// Parses the catalog from `files` (name → bytes; none of the AWS files are gzipped).
    pub fn parse(files: &BTreeMap<String, Vec<u8>>) -> Result<Catalog, DetectError> {
        let actions = json_file(files, ACTIONS_FILE)?;
        let mut catalog = Catalog::from_actions(&actions)?;
        catalog.apply_sensitive(&json_file(files, SENSITIVE_FILE)?)?;
        catalog.managed = parse_managed(&json_file(files, MANAGED_FILE)?)?;
        catalog.trail = catalog.parse_trail(&json_file(files, TRAIL_FILE)?)?;
        Ok(catalog)
    }

    fn from_actions(doc: &Value) -> Result<Catalog, DetectError> {
        let err = |reason: String| DetectError::Catalog {
            file: ACTIONS_FILE.to_string(),
            reason,
        };
        let services = doc
            .get("services")
            .and_then(Value::as_object)
            .ok_or_else(|| err("services: missing or not an object".into()))?;
        let mut rows: Vec<(String, String, AccessLevel, bool)> = Vec::new();
        for (prefix, service) in services {
            let actions = service
                .get("actions")
                .and_then(Value::as_object)
                .ok_or_else(|| {
                    err(format!(
                        "services.{prefix}.actions: missing or not an object"
                    ))
                })?;
            for (name, action) in actions {
                let level_text = action
                    .get("access_level_override")
                    .or_else(|| action.get("access_level"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        err(format!(
                            "services.{prefix}.actions.{name}.access_level: missing"
                        ))
                    })?;
                let scoped = action
                    .get("resource_types")
                    .and_then(Value::as_array)
                    .is_some_and(|r| !r.is_empty());
                rows.push((
                    prefix.clone(),
                    name.clone(),
                    access_level(level_text),
                    scoped,
                ));
            }
        }
        rows.sort_by(|a, b| {
            (a.0.to_ascii_lowercase(), a.1.to_ascii_lowercase())
                .cmp(&(b.0.to_ascii_lowercase(), b.1.to_ascii_lowercase()))
        });
        Ok(Catalog::from_rows(rows))
    }

    /// Builds the index from (prefix, action, level, resource-scoped) rows sorted by prefix.
    fn from_rows(rows: Vec<(String, String, AccessLevel, bool)>) -> Catalog {
        let mut catalog = Catalog {
            permissions: Vec::with_capacity(rows.len()),
            lower_names: Vec::with_capacity(rows.len()),
            index: HashMap::with_capacity(rows.len()),
            services: HashMap::new(),
            resource_scoped: Vec::with_capacity(rows.len()),
            all: PermissionSet::new(),
            high_risk: PermissionSet::new(),
            managed: HashMap::new(),
            trail: TrailMap::default(),
        };
        for (i, (prefix, action, level, scoped)) in rows.into_iter().enumerate() {
            let i = i as u32;
            let name = format!("{prefix}:{action}");
            let lower = name.to_ascii_lowercase();
            let range = catalog
                .services
                .entry(prefix.to_ascii_lowercase())
                .or_insert((i, i));
            range.1 = i + 1;
            catalog.index.insert(lower.clone(), i);
            catalog.lower_names.push(lower);
            catalog.resource_scoped.push(scoped);
            catalog.all.insert(i);
            if level.is_high_risk() {
                catalog.high_risk.insert(i);
            }
            catalog.permissions.push(PermissionInfo {
                name,
                level,
                risk: RiskFlags::default(),
            });
        }
        for name in READS_SECRETS {
            if let Some(i) = catalog.index_of(name) {
                catalog.permissions[i as usize].risk.reads_secrets = true;
            }
        }
        for name in DISABLES_SECURITY_TOOLING {
            if let Some(i) = catalog.index_of(name) {
                catalog.permissions[i as usize]
                    .risk
                    .disables_security_tooling = true;
            }
        }
        catalog
    }

    fn apply_sensitive(&mut self, doc: &Value) -> Result<(), DetectError> {
        let lists =
            doc.get("iam")
                .and_then(Value::as_object)
                .ok_or_else(|| DetectError::Catalog {
                    file: SENSITIVE_FILE.to_string(),
                    reason: "iam: missing or not an object".into(),
                })?;
        for (flag, names) in lists {
            let names = names.as_array().ok_or_else(|| DetectError::Catalog {
                file: SENSITIVE_FILE.to_string(),
                reason: format!("iam.{flag}: not a list"),
            })?;
            // Names the actions file no longer lists (retired actions) have nothing to flag.
            let indices: Vec<u32> = names
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|n| self.index_of(n))
                .collect();
            for i in indices {
                let risk = &mut self.permissions[i as usize].risk;
                match flag.as_str() {
                    "CredentialExposure" => risk.credential_exposure = true,
                    "DataAccess" => risk.data_access = true,
                    "PrivEsc" => risk.privilege_escalation = true,
                    "ResourceExposure" => risk.resource_exposure = true,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn parse_trail(&self, doc: &Value) -> Result<TrailMap, DetectError> {
        let err = |reason: String| DetectError::Catalog {
            file: TRAIL_FILE.to_string(),
            reason,
        };
        let object = |field: &str| -> Result<&Map<String, Value>, DetectError> {
            doc.get(field)
                .and_then(Value::as_object)
                .ok_or_else(|| err(format!("{field}: missing or not an object")))
        };
        let mut trail = TrailMap::default();
        for (source, prefix) in object("eventsource_to_iam_prefix")? {
            let prefix = prefix
                .as_str()
                .ok_or_else(|| err(format!("eventsource_to_iam_prefix.{source}: not a string")))?;
            trail
                .source_prefix
                .insert(source.clone(), prefix.to_string());
        }
        let resolve = |field: &str, calls: &Map<String, Value>| {
            let mut out = HashMap::new();
            for (call, actions) in calls {
                let Some(actions) = actions.as_array() else {
                    return Err(err(format!("{field}.{call}: not a list")));
                };
                let indices: Vec<u32> = actions
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(|a| self.index_of(a))
                    .collect();
                // A mapping to actions the catalog no longer has falls through to the prefix rule.
                if !indices.is_empty() {
                    out.insert(call.clone(), indices);
                }
            }
            Ok(out)
        };
        for (key, target) in [("events", true), ("events_unknown_eventsource", false)] {
            for (outer, calls) in object(key)? {
                let calls = calls
                    .as_object()
                    .ok_or_else(|| err(format!("{key}.{outer}: not an object")))?;
                let resolved = resolve(&format!("{key}.{outer}"), calls)?;
                if target {
                    trail.events.insert(outer.clone(), resolved);
                } else {
                    trail.by_prefix.insert(outer.to_ascii_lowercase(), resolved);
                }
            }
        }
        let sdk = object("sdk_service_to_iam_prefix")?;
        let calls = doc
            .get("permissionless_calls")
            .and_then(Value::as_array)
            .ok_or_else(|| err("permissionless_calls: missing or not a list".into()))?;
        for call in calls.iter().filter_map(Value::as_str) {
            let Some((service, operation)) = call.split_once('.') else {
                return Err(err(format!(
                    "permissionless_calls: {call:?} is not Service.Operation"
                )));
            };
            let prefix = sdk
                .get(service)
                .and_then(Value::as_str)
                .map_or_else(|| service.to_ascii_lowercase(), str::to_ascii_lowercase);
            trail.permissionless.insert((prefix, operation.to_string()));
        }
        Ok(trail)
    }

    /// Every catalog action, as a set.
    pub(crate) fn all(&self) -> &PermissionSet {
        &self.all
    }

    /// Write and permission-management actions.
    pub(crate) fn high_risk(&self) -> &PermissionSet {
        &self.high_risk
    }

    pub(crate) fn len(&self) -> usize {
        self.permissions.len()
    }

    pub(crate) fn name(&self, index: u32) -> &str {
        self.permissions
            .get(index as usize)
            .map_or("", |p| p.name.as_str())
    }

    /// Whether the action can be limited to resources (else its `Resource` must be `*`).
    pub(crate) fn is_resource_scoped(&self, index: u32) -> bool {
        self.resource_scoped
            .get(index as usize)
            .copied()
            .unwrap_or(false)
    }

    pub(crate) fn managed_policy(&self, arn: &str) -> Option<&ManagedPolicy> {
        self.managed.get(arn).or_else(|| {
            // Other partitions (`arn:aws-us-gov:iam::aws:policy/…`) carry the same documents.
            let (_, rest) = arn.split_once(":iam::aws:policy/")?;
            self.managed.get(&format!("arn:aws:iam::aws:policy/{rest}"))
        })
    }

    /// The actions an IAM action pattern names (`*`, `s3:*`, `s3:Get*`, `ec2:Describe?pcs`).
    pub(crate) fn expand_pattern(&self, pattern: &str) -> PermissionSet {
        let lower = pattern.to_ascii_lowercase();
        let mut out = PermissionSet::new();
        if lower == "*" || lower == "*:*" {
            return self.all.clone();
        }
        if !lower.contains(['*', '?']) {
            if let Some(&i) = self.index.get(&lower) {
                out.insert(i);
            }
            return out;
        }
        let range = match lower.split_once(':') {
            Some((prefix, _)) if !prefix.contains(['*', '?']) => match self.services.get(prefix) {
                Some(&r) => r,
                None => return out,
            },
            _ => (0, self.permissions.len() as u32),
        };
        for i in range.0..range.1 {
            if glob_match(lower.as_bytes(), self.lower_names[i as usize].as_bytes()) {
                out.insert(i);
            }
        }
        out
    }

    /// See [`super::event_permissions`].
    pub(crate) fn event_permissions(&self, action: ObservedAction<'_>) -> Option<Vec<u32>> {
        let source = action.service;
        let operation = action.operation;
        let stripped = strip_api_version(operation);
        let prefix = self
            .trail
            .source_prefix
            .get(source)
            .cloned()
            .or_else(|| {
                source
                    .strip_suffix(".amazonaws.com")
                    .map(|host| host.split('.').next().unwrap_or(host).to_string())
            })
            .unwrap_or_default()
            .to_ascii_lowercase();
        if self
            .trail
            .permissionless
            .contains(&(prefix.clone(), stripped.to_string()))
        {
            return Some(Vec::new());
        }
        let calls = self.trail.events.get(source);
        for name in [operation, stripped] {
            if let Some(hit) = calls.and_then(|c| c.get(name)) {
                return Some(hit.clone());
            }
        }
        if let Some(hit) = self
            .trail
            .by_prefix
            .get(&prefix)
            .and_then(|c| c.get(stripped))
        {
            return Some(hit.clone());
        }
        if let Some(i) = self.index_of(&format!("{prefix}:{stripped}")) {
            return Some(vec![i]);
        }
        if let Some(i) = self.index_of(action.permission) {
            return Some(vec![i]);
        }
        if source == SIGNIN_SOURCE {
            return Some(Vec::new());
        }
        None
    }

    #[cfg(test)]
    pub(crate) fn for_tests(
        rows: &[(&str, &str, AccessLevel, bool)],
        managed: Vec<(&str, ManagedPolicy)>,
        trail: &Value,
    ) -> Result<Catalog, DetectError> {
        let mut rows: Vec<(String, String, AccessLevel, bool)> = rows
            .iter()
            .map(|(p, a, l, s)| (p.to_string(), a.to_string(), *l, *s))
            .collect();
        rows.sort_by(|a, b| {
            (a.0.to_ascii_lowercase(), a.1.to_ascii_lowercase())
                .cmp(&(b.0.to_ascii_lowercase(), b.1.to_ascii_lowercase()))
        });
        let mut catalog = Catalog::from_rows(rows);
        catalog.managed = managed
            .into_iter()
            .map(|(arn, m)| (arn.to_string(), m))
            .collect();
        catalog.trail = catalog.parse_trail(trail)?;
        Ok(catalog)
    }
}

impl PermissionCatalog for Catalog {
    fn permissions(&self) -> &[PermissionInfo] {
        &self.permissions
    }

    /// IAM compares action names case-insensitively, and so does this.
    fn index_of(&self, name: &str) -> Option<u32> {
        self.index.get(&name.to_ascii_lowercase()).copied()
    }
}

fn json_file(files: &BTreeMap<String, Vec<u8>>, name: &str) -> Result<Value, DetectError> {
    let bytes = files.get(name).ok_or_else(|| DetectError::Catalog {
        file: name.to_string(),
        reason: "not given".into(),
    })?;
    serde_json::from_slice(bytes).map_err(|e| DetectError::Catalog {
        file: name.to_string(),
        reason: format!("not valid JSON: {e}"),
    })
}

fn parse_managed(doc: &Value) -> Result<HashMap<String, ManagedPolicy>, DetectError> {
    let err = |reason: String| DetectError::Catalog {
        file: MANAGED_FILE.to_string(),
        reason,
    };
    let policies = doc
        .get("policies")
        .and_then(Value::as_object)
        .ok_or_else(|| err("policies: missing or not an object".into()))?;
    let mut out = HashMap::with_capacity(policies.len());
    for (name, policy) in policies {
        // Deprecated policies have no ARN any more; they can still be attached where they were.
        let arn = policy
            .get("arn")
            .and_then(Value::as_str)
            .map_or_else(|| format!("arn:aws:iam::aws:policy/{name}"), str::to_string);
        let document = policy
            .get("document")
            .ok_or_else(|| err(format!("policies.{name}.document: missing")))?;
        let parsed = parse_policy(document, &format!("policies.{name}.document")).map_err(err)?;
        out.insert(
            arn,
            ManagedPolicy {
                name: name.clone(),
                statements: parsed.statements,
            },
        );
    }
    Ok(out)
}

fn access_level(text: &str) -> AccessLevel {
    match text {
        "List" => AccessLevel::List,
        "Read" => AccessLevel::Read,
        "Write" => AccessLevel::Write,
        "Tagging" => AccessLevel::Tagging,
        "Permissions management" => AccessLevel::PermissionsManagement,
        _ => AccessLevel::Unknown,
    }
}

/// Removes a dated API-version suffix from an eventName: Lambda's `UpdateFunctionCode20150331v2`,
/// CloudFront's `CreateDistribution2020_05_31`.
pub(crate) fn strip_api_version(name: &str) -> &str {
    let bytes = name.as_bytes();
    let mut end = bytes.len();
    if end > 2 && bytes[end - 2] == b'v' && bytes[end - 1].is_ascii_digit() {
        end -= 2;
    }
    let tail = &name[..end];
    let dated = tail
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_digit() || *b == b'_')
        .count();
    if dated >= 8 && dated < tail.len() {
        &tail[..tail.len() - dated]
    } else {
        name
    }
}

//! Reading AWS IAM inventory exports into principals and their policies.
//!
//! Shapes accepted, detected from the content (file names do not matter):
//! - `aws iam get-account-authorization-details` output: a JSON object with any of `UserDetailList`,
//!   `GroupDetailList`, `RoleDetailList`, `Policies` (several pages may be given as several files);
//!   policy documents as JSON objects (CLI) or URL-encoded JSON strings (raw API).
//! - the credential report: the CSV (`aws iam get-credential-report` `Content`, base64-decoded), or
//!   the command's JSON output itself (`{"Content": "<base64>", "ReportFormat": "text/csv", …}`).
//! - `aws iam list-access-keys` output (`{"AccessKeyMetadata": [...]}`), which gives the access key
//!   ids the credential report leaves out, so keys seen in events can be matched.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::Value;
use vigil_schemas::Provider;

use super::policy::{PolicyDocument, TrustPolicy, kind_of, parse_policy, parse_trust};
use crate::DetectError;
use crate::permissions::{Credential, Principal, PrincipalKind};

/// The parsed inventory: principals (users, groups, roles, each account's root) and the policies
/// attached to them.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub principals: Vec<Principal>,
    pub(crate) users: BTreeMap<String, UserRecord>,
    pub(crate) groups: BTreeMap<String, GroupRecord>,
    pub(crate) roles: BTreeMap<String, RoleRecord>,
    /// Managed policies the export carries (customer managed, and AWS managed when included), by ARN.
    pub(crate) policies: BTreeMap<String, ManagedPolicyRecord>,
    /// Whether a credential report was given (else "no password" only means "not known").
    pub(crate) has_credential_report: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct InlinePolicy {
    pub(crate) name: String,
    pub(crate) document: PolicyDocument,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct UserRecord {
    pub(crate) arn: String,
    pub(crate) name: String,
    pub(crate) inline: Vec<InlinePolicy>,
    pub(crate) attached: Vec<String>,
    pub(crate) groups: Vec<String>,
    pub(crate) boundary: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct GroupRecord {
    pub(crate) arn: String,
    pub(crate) name: String,
    pub(crate) inline: Vec<InlinePolicy>,
    pub(crate) attached: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct RoleRecord {
    pub(crate) arn: String,
    pub(crate) name: String,
    pub(crate) trust: TrustPolicy,
    pub(crate) inline: Vec<InlinePolicy>,
    pub(crate) attached: Vec<String>,
    pub(crate) boundary: Option<String>,
    /// Whether an instance profile holds the role (EC2 can only be given a role through one).
    pub(crate) has_instance_profile: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct PolicyVersion {
    pub(crate) id: String,
    pub(crate) is_default: bool,
    pub(crate) document: PolicyDocument,
}

#[derive(Debug, Clone)]
pub(crate) struct ManagedPolicyRecord {
    pub(crate) arn: String,
    pub(crate) name: String,
    pub(crate) versions: Vec<PolicyVersion>,
}

impl ManagedPolicyRecord {
    pub(crate) fn default_document(&self) -> Option<&PolicyDocument> {
        self.versions
            .iter()
            .find(|v| v.is_default)
            .map(|v| &v.document)
    }
}

/// What the credential report says of one user (or `<root_account>`).
#[derive(Debug, Clone, Default)]
struct ReportRow {
    name: String,
    arn: String,
    created: Option<DateTime<Utc>>,
    password: Option<Credential>,
    keys: Vec<Credential>,
}

#[derive(Debug, Clone)]
struct ListedKey {
    user: String,
    id: String,
    active: bool,
    created: Option<DateTime<Utc>>,
}

#[derive(Debug)]
struct Entry {
    source: String,
    at: String,
    item: Value,
}

impl Entry {
    /// An error naming the file and the field: `UserDetailList[2].Arn: missing`.
    fn fail(&self, reason: String) -> DetectError {
        DetectError::Inventory {
            file: self.source.clone(),
            reason: format!("{}{reason}", self.at),
        }
    }
}

#[derive(Debug, Default)]
struct Collected {
    /// (file, entry such as `UserDetailList[2]`, the entry).
    users: Vec<Entry>,
    groups: Vec<Entry>,
    roles: Vec<Entry>,
    policies: Vec<Entry>,
    report: Vec<ReportRow>,
    keys: Vec<ListedKey>,
}

/// Reads every inventory document (see the module documentation for the shapes).
pub(crate) fn parse(docs: &[(String, Vec<u8>)]) -> Result<Inventory, DetectError> {
    let mut collected = Collected::default();
    for (source, bytes) in docs {
        read_document(source, bytes, &mut collected).map_err(|reason| DetectError::Inventory {
            file: source.clone(),
            reason,
        })?;
    }
    assemble(collected)
}

fn read_document(source: &str, bytes: &[u8], out: &mut Collected) -> Result<(), String> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err("gzip-compressed: decompress it first".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('{') {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        return read_json(source, &value, out);
    }
    if text.starts_with("user,arn,") {
        out.report.extend(parse_credential_report(text)?);
        return Ok(());
    }
    Err(
        "unrecognised document: expected get-account-authorization-details JSON, a credential \
         report (CSV or get-credential-report JSON) or list-access-keys JSON"
            .into(),
    )
}

fn read_json(source: &str, value: &Value, out: &mut Collected) -> Result<(), String> {
    let lists = [
        "UserDetailList",
        "GroupDetailList",
        "RoleDetailList",
        "Policies",
    ];
    if lists.iter().any(|k| value.get(k).is_some()) {
        for key in lists {
            let Some(list) = value.get(key) else { continue };
            let items = list
                .as_array()
                .ok_or_else(|| format!("{key}: expected a list, found {}", kind_of(list)))?;
            let target = match key {
                "UserDetailList" => &mut out.users,
                "GroupDetailList" => &mut out.groups,
                "RoleDetailList" => &mut out.roles,
                _ => &mut out.policies,
            };
            for (i, item) in items.iter().enumerate() {
                target.push(Entry {
                    source: source.to_string(),
                    at: format!("{key}[{i}]"),
                    item: item.clone(),
                });
            }
        }
        return Ok(());
    }
    if let Some(list) = value.get("AccessKeyMetadata") {
        let items = list.as_array().ok_or_else(|| {
            format!(
                "AccessKeyMetadata: expected a list, found {}",
                kind_of(list)
            )
        })?;
        for (i, item) in items.iter().enumerate() {
            let at = format!("AccessKeyMetadata[{i}]");
            out.keys.push(ListedKey {
                user: req_str(item, "UserName", &at)?.to_string(),
                id: req_str(item, "AccessKeyId", &at)?.to_string(),
                active: req_str(item, "Status", &at)? == "Active",
                created: opt_date(item, "CreateDate", &at)?,
            });
        }
        return Ok(());
    }
    if let Some(content) = value.get("Content") {
        let encoded = content.as_str().ok_or_else(|| {
            format!(
                "Content: expected a base64 string, found {}",
                kind_of(content)
            )
        })?;
        let decoded = base64_decode(encoded).map_err(|e| format!("Content: {e}"))?;
        let text = String::from_utf8(decoded)
            .map_err(|_| "Content: the decoded report is not UTF-8".to_string())?;
        out.report
            .extend(parse_credential_report(&text).map_err(|e| format!("Content: {e}"))?);
        return Ok(());
    }
    Err("unrecognised JSON document: expected UserDetailList/GroupDetailList/RoleDetailList/Policies \
         (get-account-authorization-details), AccessKeyMetadata (list-access-keys) or Content \
         (get-credential-report)"
        .into())
}

fn assemble(c: Collected) -> Result<Inventory, DetectError> {
    let mut inv = Inventory::default();
    for e in &c.policies {
        let (item, fail) = (&e.item, |r: String| e.fail(r));
        let record = parse_managed_record(item).map_err(fail)?;
        inv.policies.entry(record.arn.clone()).or_insert(record);
    }
    for e in &c.groups {
        let (item, fail) = (&e.item, |r: String| e.fail(r));
        let arn = req_str(item, "Arn", "").map_err(fail)?.to_string();
        let record = GroupRecord {
            name: req_str(item, "GroupName", "").map_err(fail)?.to_string(),
            inline: inline_policies(item, "GroupPolicyList").map_err(fail)?,
            attached: attached_arns(item).map_err(fail)?,
            arn: arn.clone(),
        };
        let created = opt_date(item, "CreateDate", "").map_err(fail)?;
        if inv.groups.insert(arn.clone(), record.clone()).is_none() {
            inv.principals
                .push(principal(&arn, PrincipalKind::Group, &record.name, created));
        }
    }
    let group_arn_by_name: BTreeMap<String, String> = inv
        .groups
        .values()
        .map(|g| (g.name.clone(), g.arn.clone()))
        .collect();
    for e in &c.users {
        let (item, fail) = (&e.item, |r: String| e.fail(r));
        let arn = req_str(item, "Arn", "").map_err(fail)?.to_string();
        let name = req_str(item, "UserName", "").map_err(fail)?.to_string();
        let account = account_of(&arn);
        let groups = match item.get("GroupList") {
            None => Vec::new(),
            Some(v) => super::policy::strings(v, ".GroupList")
                .map_err(fail)?
                .into_iter()
                // A group missing from GroupDetailList (a filtered export) still gets the key
                // AWS would give it at the root path.
                .map(|g| {
                    group_arn_by_name
                        .get(&g)
                        .cloned()
                        .unwrap_or_else(|| format!("arn:aws:iam::{account}:group/{g}"))
                })
                .collect(),
        };
        let record = UserRecord {
            inline: inline_policies(item, "UserPolicyList").map_err(fail)?,
            attached: attached_arns(item).map_err(fail)?,
            boundary: boundary_arn(item).map_err(fail)?,
            groups: groups.clone(),
            arn: arn.clone(),
            name: name.clone(),
        };
        let created = opt_date(item, "CreateDate", "").map_err(fail)?;
        if inv.users.insert(arn.clone(), record).is_none() {
            let mut p = principal(&arn, PrincipalKind::User, &name, created);
            p.member_of = groups;
            inv.principals.push(p);
        }
    }
    for e in &c.roles {
        let (item, fail) = (&e.item, |r: String| e.fail(r));
        let arn = req_str(item, "Arn", "").map_err(fail)?.to_string();
        let name = req_str(item, "RoleName", "").map_err(fail)?.to_string();
        let trust_doc = item
            .get("AssumeRolePolicyDocument")
            .ok_or_else(|| fail(".AssumeRolePolicyDocument: missing".into()))?;
        let record = RoleRecord {
            trust: parse_trust(trust_doc, ".AssumeRolePolicyDocument").map_err(fail)?,
            inline: inline_policies(item, "RolePolicyList").map_err(fail)?,
            attached: attached_arns(item).map_err(fail)?,
            boundary: boundary_arn(item).map_err(fail)?,
            has_instance_profile: item
                .get("InstanceProfileList")
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty()),
            arn: arn.clone(),
            name: name.clone(),
        };
        let created = opt_date(item, "CreateDate", "").map_err(fail)?;
        if inv.roles.insert(arn.clone(), record).is_none() {
            inv.principals
                .push(principal(&arn, PrincipalKind::Role, &name, created));
        }
    }
    inv.has_credential_report = !c.report.is_empty();
    add_credentials(&mut inv, c.report, c.keys);
    // Every account has a root user, whether or not the credential report was given.
    let accounts: BTreeSet<String> = inv
        .principals
        .iter()
        .map(|p| p.account.clone())
        .filter(|a| !a.is_empty())
        .collect();
    for account in accounts {
        let key = format!("arn:aws:iam::{account}:root");
        if !inv.principals.iter().any(|p| p.key == key) {
            inv.principals
                .push(principal(&key, PrincipalKind::Root, "<root_account>", None));
        }
    }
    Ok(inv)
}

fn add_credentials(inv: &mut Inventory, report: Vec<ReportRow>, keys: Vec<ListedKey>) {
    let mut listed: BTreeMap<String, Vec<ListedKey>> = BTreeMap::new();
    for key in keys {
        listed.entry(key.user.clone()).or_default().push(key);
    }
    for row in report {
        let kind = if row.name == "<root_account>" {
            PrincipalKind::Root
        } else {
            PrincipalKind::User
        };
        let index = match inv.principals.iter().position(|p| p.key == row.arn) {
            Some(i) => i,
            None => {
                // A user only the credential report knows: it has no policies, but it exists.
                if kind == PrincipalKind::User {
                    inv.users.insert(
                        row.arn.clone(),
                        UserRecord {
                            arn: row.arn.clone(),
                            name: row.name.clone(),
                            ..UserRecord::default()
                        },
                    );
                }
                inv.principals
                    .push(principal(&row.arn, kind, &row.name, row.created));
                inv.principals.len() - 1
            }
        };
        let p = &mut inv.principals[index];
        if p.created.is_none() {
            p.created = row.created;
        }
        let mut user_keys = listed.remove(&row.name).unwrap_or_default();
        for mut key in row.keys {
            // The report has no key ids; list-access-keys has, and the slot's last rotation is the
            // key's creation time.
            if let Some(pos) = user_keys.iter().position(|k| k.created == key.created) {
                key.id = user_keys.remove(pos).id;
            }
            p.credentials.push(key);
        }
        p.credentials
            .extend(user_keys.into_iter().map(listed_credential));
        p.credentials.extend(row.password);
    }
    // Keys of users the report did not cover.
    for (user, keys) in listed {
        if let Some(p) = inv
            .principals
            .iter_mut()
            .find(|p| p.kind == PrincipalKind::User && p.name == user)
        {
            p.credentials
                .extend(keys.into_iter().map(listed_credential));
        }
    }
}

fn listed_credential(k: ListedKey) -> Credential {
    Credential {
        id: k.id,
        kind: "access_key".into(),
        created: k.created,
        last_used: None,
        active: k.active,
    }
}

fn principal(
    key: &str,
    kind: PrincipalKind,
    name: &str,
    created: Option<DateTime<Utc>>,
) -> Principal {
    Principal {
        key: key.to_string(),
        provider: Provider::Aws,
        kind,
        name: name.to_string(),
        account: account_of(key),
        created,
        member_of: Vec::new(),
        credentials: Vec::new(),
    }
}

/// The account id of an ARN (`arn:aws:iam::111122223333:user/bob` → `111122223333`).
pub(crate) fn account_of(arn: &str) -> String {
    arn.split(':').nth(4).unwrap_or("").to_string()
}

fn parse_managed_record(item: &Value) -> Result<ManagedPolicyRecord, String> {
    let arn = req_str(item, "Arn", "")?.to_string();
    let name = req_str(item, "PolicyName", "")?.to_string();
    let default_id = req_str(item, "DefaultVersionId", "")?.to_string();
    let list = item
        .get("PolicyVersionList")
        .and_then(Value::as_array)
        .ok_or_else(|| ".PolicyVersionList: missing or not a list".to_string())?;
    let mut versions = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let at = format!(".PolicyVersionList[{i}]");
        let id = req_str(v, "VersionId", &at)?.to_string();
        let document = v
            .get("Document")
            .ok_or_else(|| format!("{at}.Document: missing"))?;
        versions.push(PolicyVersion {
            is_default: v
                .get("IsDefaultVersion")
                .and_then(Value::as_bool)
                .unwrap_or(id == default_id),
            document: parse_policy(document, &format!("{at}.Document"))?,
            id,
        });
    }
    if !versions.iter().any(|v| v.is_default) {
        return Err(format!(
            ".PolicyVersionList: no version is the default ({default_id})"
        ));
    }
    Ok(ManagedPolicyRecord {
        arn,
        name,
        versions,
    })
}

fn inline_policies(item: &Value, key: &str) -> Result<Vec<InlinePolicy>, String> {
    let Some(list) = item.get(key) else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or_else(|| format!(".{key}: expected a list, found {}", kind_of(list)))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, p) in list.iter().enumerate() {
        let at = format!(".{key}[{i}]");
        let document = p
            .get("PolicyDocument")
            .ok_or_else(|| format!("{at}.PolicyDocument: missing"))?;
        out.push(InlinePolicy {
            name: req_str(p, "PolicyName", &at)?.to_string(),
            document: parse_policy(document, &format!("{at}.PolicyDocument"))?,
        });
    }
    Ok(out)
}

fn attached_arns(item: &Value) -> Result<Vec<String>, String> {
    let Some(list) = item.get("AttachedManagedPolicies") else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or_else(|| {
        format!(
            ".AttachedManagedPolicies: expected a list, found {}",
            kind_of(list)
        )
    })?;
    list.iter()
        .enumerate()
        .map(|(i, p)| {
            req_str(p, "PolicyArn", &format!(".AttachedManagedPolicies[{i}]")).map(str::to_string)
        })
        .collect()
}

fn boundary_arn(item: &Value) -> Result<Option<String>, String> {
    match item.get("PermissionsBoundary") {
        None | Some(Value::Null) => Ok(None),
        Some(b) => Ok(Some(
            req_str(b, "PermissionsBoundaryArn", ".PermissionsBoundary")?.to_string(),
        )),
    }
}

fn req_str<'v>(item: &'v Value, key: &str, at: &str) -> Result<&'v str, String> {
    match item.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(other) => Err(format!(
            "{at}.{key}: expected a non-empty string, found {}",
            kind_of(other)
        )),
        None => Err(format!("{at}.{key}: missing")),
    }
}

fn opt_date(item: &Value, key: &str, at: &str) -> Result<Option<DateTime<Utc>>, String> {
    match item.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_date(s)
            .map(Some)
            .ok_or_else(|| format!("{at}.{key}: not an ISO 8601 time: {s:?}")),
        Some(other) => Err(format!(
            "{at}.{key}: expected a time, found {}",
            kind_of(other)
        )),
    }
}

fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.with_timezone(&Utc))
        .or_else(|| {
            // The CLI sometimes prints `2024-01-15T10:00:00+00:00` as `2024-01-15 10:00:00+00:00`.
            DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%:z")
                .ok()
                .map(|d| d.with_timezone(&Utc))
        })
}

/// Reads the credential report CSV (no quoted fields in it: names and ARNs contain no commas).
fn parse_credential_report(text: &str) -> Result<Vec<ReportRow>, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or("credential report: empty")?
        .split(',')
        .map(str::trim)
        .collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(user_col), Some(arn_col)) = (col("user"), col("arn")) else {
        return Err("credential report: the header has no user or arn column".into());
    };
    let mut rows = Vec::new();
    for (n, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let line_no = n + 2;
        if cells.len() != header.len() {
            return Err(format!(
                "credential report line {line_no}: {} fields, the header has {}",
                cells.len(),
                header.len()
            ));
        }
        let cell = |name: &str| col(name).map(|i| cells[i]);
        let date = |name: &str| -> Result<Option<DateTime<Utc>>, String> {
            match cell(name) {
                None | Some("N/A" | "no_information" | "not_supported" | "") => Ok(None),
                Some(v) => parse_date(v).map(Some).ok_or_else(|| {
                    format!("credential report line {line_no}, column {name}: not a time: {v:?}")
                }),
            }
        };
        let truthy = |name: &str| cell(name) == Some("true");
        let name = cells[user_col].to_string();
        let mut row = ReportRow {
            arn: cells[arn_col].to_string(),
            created: date("user_creation_time")?,
            ..ReportRow::default()
        };
        // The root row says `not_supported` for password_enabled, yet the root user has a password;
        // its last use shows it.
        let root_password = name == "<root_account>" && date("password_last_used")?.is_some();
        if truthy("password_enabled") || root_password {
            row.password = Some(Credential {
                id: format!("{name}/password"),
                kind: "login_profile".into(),
                created: date("password_last_changed")?,
                last_used: date("password_last_used")?,
                active: true,
            });
        }
        for slot in [1, 2] {
            let prefix = format!("access_key_{slot}");
            let rotated = date(&format!("{prefix}_last_rotated"))?;
            let active = truthy(&format!("{prefix}_active"));
            // An empty slot reads `false` with no rotation date.
            if active || rotated.is_some() {
                row.keys.push(Credential {
                    id: format!("{name}/{prefix}"),
                    kind: "access_key".into(),
                    created: rotated,
                    last_used: date(&format!("{prefix}_last_used_date"))?,
                    active,
                });
            }
        }
        row.name = name;
        rows.push(row);
    }
    Ok(rows)
}

/// Standard base64 (with or without padding, whitespace ignored).
fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for (i, c) in text.bytes().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b'\n' | b'\r' | b' ' | b'\t' => continue,
            _ => return Err(format!("not base64 (byte {i})")),
        };
        buffer = (buffer << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) fn base64_decode_for_tests(text: &str) -> Result<Vec<u8>, String> {
    base64_decode(text)
}

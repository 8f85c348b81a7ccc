//! Azure records: the Activity Log in the REST/portal schema (`eventTimestamp`, `operationName.value`) and in
//! the diagnostic-settings schema (`time`, `operationName` string, `identity.claims`), Entra ID sign-in and
//! audit records, AKS `kube-audit` records (a Kubernetes audit event as a JSON string in `properties.log`),
//! and storage / Key Vault resource logs.
//!
//! Producers disagree on key casing (`operationName`, `operationname`), on snake_case (`event_timestamp`,
//! Python SDK dumps) and on whether a field is `"x"` or `{"value": "x"}`; every lookup here tolerates all of
//! them (see [`get`]).
//!
//! Identity keys follow the Azure rows of the table in `vigil_schemas::identity`. Two additions, for callers
//! the table does not cover: storage requests made with an account key or SAS token are keyed
//! `azure-storage:<account>/<auth type>` (the key holder is the principal; there is no object id), anonymous
//! storage and AKS access is `anonymous:azure`; AKS users that are not Entra principals (local accounts,
//! Kubernetes service accounts, nodes) are keyed `azure-aks:<cluster resource id>:<username>` so that the
//! `kube-system` service accounts of two clusters never share a baseline.

mod activity;
mod aks;
mod entra;
#[cfg(test)]
mod entra_tests;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde_json::Value;
use vigil_schemas::{Identity, IdentityKind, Outcome, OutcomeStatus, Resource};

use crate::json::{embedded_object, get_ci, parse_time, parse_time_str, scalar_text};
use crate::record::{RecordContext, RecordError, RecordResult};

const REST: &str = "azure_activity_rest";
const ACTIVITY: &str = "azure_activity";
const SIGNIN: &str = "entra_signin";
const AUDIT: &str = "entra_audit";
const AKS: &str = "aks_audit";
const RESOURCE_LOG: &str = "azure_resource_log";

/// Activity Log categories (diagnostic-settings spelling); `Policy` is also used by some Entra exports.
const ACTIVITY_CATEGORIES: [&str; 8] = [
    "administrative",
    "security",
    "servicehealth",
    "alert",
    "recommendation",
    "policy",
    "autoscale",
    "resourcehealth",
];

/// The record format when `record` is an Azure Activity Log or Entra ID record, else None.
pub(crate) fn classify(record: &Value) -> Option<&'static str> {
    let obj = record.as_object()?;
    // Other clouds first: CloudTrail and GCP LogEntry have unmistakable keys.
    if obj.contains_key("eventVersion") && obj.contains_key("eventSource") {
        return None;
    }
    if ["protoPayload", "logName", "insertId", "userIdentity"]
        .iter()
        .any(|k| get_ci(record, k).is_some())
    {
        return None;
    }
    let category = txt(record, &["category"])
        .unwrap_or_default()
        .to_ascii_lowercase();
    let props = get(record, "properties");

    if category.starts_with("kube-audit")
        || props
            .and_then(|p| get(p, "log"))
            .and_then(embedded_object)
            .is_some_and(|l| is_k8s_audit(&l))
    {
        return Some(AKS);
    }
    if is_signin_category(&category) {
        return Some(SIGNIN);
    }
    if category == "auditlogs"
        || props.is_some_and(|p| {
            get(p, "initiatedBy").is_some() || get(p, "activityDisplayName").is_some()
        })
    {
        return Some(AUDIT);
    }
    if txt(record, &["operationName"]).is_some_and(|op| op.eq_ignore_ascii_case("Sign-in activity"))
    {
        return Some(SIGNIN);
    }
    if [
        "eventTimestamp",
        "eventDataId",
        "submissionTimestamp",
        "caller",
        "httpRequest",
    ]
    .iter()
    .any(|k| get(record, k).is_some())
    {
        return Some(REST);
    }
    if is_resource_log(record, &category) {
        return Some(RESOURCE_LOG);
    }
    // Activity Log categories are specific enough on their own (a record of one without a time is then
    // refused for that reason rather than left unrecognized); otherwise an ARM operation name, a time and
    // one more Azure field are needed.
    if ACTIVITY_CATEGORIES.contains(&category.as_str()) {
        return Some(ACTIVITY);
    }
    let operation_like = txt(record, &["operationName"]).is_some_and(|op| op.contains('/'));
    let azure_shaped = [
        "resourceId",
        "resultType",
        "callerIpAddress",
        "identity",
        "correlationId",
    ]
    .iter()
    .any(|k| get(record, k).is_some());
    if operation_like && azure_shaped && get(record, "time").is_some() {
        return Some(ACTIVITY);
    }
    None
}

/// Normalizes one Azure record that `classify` recognised as `format`.
pub(crate) fn normalize(
    record: &Value,
    format: &'static str,
    ctx: &RecordContext<'_>,
) -> RecordResult {
    match format {
        REST | ACTIVITY => activity::normalize(record, format, ctx),
        RESOURCE_LOG => activity::normalize_resource_log(record, format, ctx),
        SIGNIN => entra::normalize_signin(record, format, ctx),
        AUDIT => entra::normalize_audit(record, format, ctx),
        AKS => aks::normalize(record, format, ctx),
        other => Err(RecordError::not_an_event(format!(
            "`{other}` is not an Azure record format"
        ))),
    }
}

fn is_signin_category(category: &str) -> bool {
    category.ends_with("signinlogs")
}

fn is_k8s_audit(log: &Value) -> bool {
    txt(log, &["apiVersion"]).is_some_and(|v| v.starts_with("audit.k8s.io"))
        || (get(log, "verb").is_some() && get(log, "objectRef").is_some())
}

/// Storage (`StorageRead`/`StorageWrite`/`StorageDelete`) and Key Vault (`AuditEvent`) resource logs, also
/// trimmed ones whose category was dropped but whose properties are unmistakably a storage request.
fn is_resource_log(record: &Value, category: &str) -> bool {
    if category.starts_with("storage") || category == "auditevent" {
        return true;
    }
    let op_is_permission = txt(record, &["operationName"]).is_some_and(|op| op.contains('/'));
    let storage_props = get(record, "properties")
        .is_some_and(|p| get(p, "accountName").is_some() || get(p, "objectKey").is_some());
    !op_is_permission && storage_props
}

// ---------------------------------------------------------------------------------------------------------
// Lenient lookups shared by the submodules.

/// A key looked up exactly, then ignoring ASCII case (`json::get_ci`), then ignoring case and underscores
/// (`event_data_id` for `eventDataId`). Nulls count as absent.
fn get<'v>(obj: &'v Value, key: &str) -> Option<&'v Value> {
    let found = get_ci(obj, key).or_else(|| {
        let map = obj.as_object()?;
        map.iter().find(|(k, _)| same_key(k, key)).map(|(_, v)| v)
    })?;
    if found.is_null() { None } else { Some(found) }
}

/// Keys equal ignoring ASCII case and underscores (`event_data_id` is `eventDataId`), without allocating:
/// this runs for every missed lookup.
fn same_key(a: &str, b: &str) -> bool {
    let (mut x, mut y) = (
        a.bytes().filter(|c| *c != b'_'),
        b.bytes().filter(|c| *c != b'_'),
    );
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) if p.eq_ignore_ascii_case(&q) => {}
            _ => return false,
        }
    }
}

/// Follows a path of keys with [`get`].
fn at<'v>(obj: &'v Value, keys: &[&str]) -> Option<&'v Value> {
    keys.iter().try_fold(obj, |cur, key| get(cur, key))
}

/// Text of a scalar, or of the `value` of a `{"value": .., "localizedValue": ..}` object.
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Object(_) => get(v, "value").and_then(scalar_text),
        other => scalar_text(other),
    }
}

/// [`value_text`] at a path.
fn txt(obj: &Value, keys: &[&str]) -> Option<String> {
    at(obj, keys).and_then(value_text)
}

/// The first of several paths that has text.
fn first(obj: &Value, paths: &[&[&str]]) -> Option<String> {
    paths.iter().find_map(|p| txt(obj, p))
}

/// The event time from the first field that parses, truncated to microseconds, and whether it is
/// estimated. A record with none of the fields (trimmed samples, AKS rule-test events) gets the ingest time,
/// flagged estimated, as the record contract prescribes; a record whose time field is present but
/// unreadable is refused rather than silently re-timed.
fn event_time(
    fields: &[Option<&Value>],
    ctx: &RecordContext<'_>,
) -> Result<(DateTime<Utc>, bool), RecordError> {
    let present: Vec<&Value> = fields
        .iter()
        .flatten()
        .copied()
        .filter(|v| scalar_text(v).is_some())
        .collect();
    let parsed = present.iter().find_map(|v| parse_azure_time(v));
    match (parsed, present.first()) {
        (None, Some(unreadable)) => Err(RecordError::bad_value(format!(
            "azure record has an unreadable time {unreadable}"
        ))),
        (parsed, _) => Ok(ctx.time_or_ingest(parsed)),
    }
}

/// `json::parse_time`, plus the US-style time with an offset that Azure portal exports write
/// (`1/9/2007 10:41:00 AM +01:00`).
fn parse_azure_time(v: &Value) -> Option<DateTime<Utc>> {
    parse_time(v).or_else(|| {
        let s = v.as_str()?.trim();
        [
            "%m/%d/%Y %I:%M:%S %p %:z",
            "%m/%d/%Y %H:%M:%S %:z",
            "%m/%d/%Y %I:%M:%S %p %z",
        ]
        .iter()
        .find_map(|f| DateTime::parse_from_str(s, f).ok())
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| parse_time_str(s.trim_end_matches(" UTC")))
    })
}

/// The provider's id when it can be trusted to be unique per event: GUID-bearing ids are, hand-written
/// sample ids such as `Directory_ESQ` are not and would make distinct events collapse on de-duplication.
fn provider_id(record: &Value, paths: &[&[&str]], ctx: &RecordContext<'_>) -> String {
    paths
        .iter()
        .filter_map(|p| txt(record, p))
        .find(|id| id.chars().filter(char::is_ascii_hexdigit).count() >= 16)
        .unwrap_or_else(|| ctx.content_id(record))
}

// ---------------------------------------------------------------------------------------------------------
// Resource ids and namespaces.

/// A segment following `name` (matched ignoring case) in a resource id.
fn segment_after(resource_id: &str, name: &str) -> Option<String> {
    let mut segs = resource_id.split('/').filter(|s| !s.is_empty());
    while let Some(seg) = segs.next() {
        if seg.eq_ignore_ascii_case(name) {
            return segs
                .next()
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty());
        }
    }
    None
}

fn subscription_of(resource_id: &str) -> Option<String> {
    segment_after(resource_id, "subscriptions")
}

fn tenant_of(resource_id: &str) -> Option<String> {
    segment_after(resource_id, "tenants")
}

/// The resource a resource id names: id lower-cased (Azure resource ids are case-insensitive, and the same
/// resource is written in several casings), kind `<namespace>/<type>[/<child type>...]` from the last
/// `providers` segment, name the last segment as written.
fn resource_from_id(resource_id: &str) -> Option<Resource> {
    let trimmed = resource_id.trim();
    if trimmed.is_empty() {
        return None;
    }
    let segs: Vec<&str> = trimmed.split('/').filter(|s| !s.is_empty()).collect();
    let provider_at = segs
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"));
    let kind = match provider_at {
        Some(i) => segs.get(i + 1).map(|ns| {
            let types: Vec<String> = segs[i + 2..]
                .iter()
                .step_by(2)
                .map(|t| lower_if_upper(t))
                .collect();
            let ns = canonical_namespace(ns);
            if types.is_empty() {
                ns
            } else {
                format!("{ns}/{}", types.join("/"))
            }
        }),
        None if segs
            .iter()
            .any(|s| s.eq_ignore_ascii_case("resourceGroups")) =>
        {
            Some("Microsoft.Resources/resourceGroups".into())
        }
        None if segs
            .first()
            .is_some_and(|s| s.eq_ignore_ascii_case("subscriptions")) =>
        {
            Some("Microsoft.Resources/subscriptions".into())
        }
        None => None,
    };
    Some(Resource {
        id: trimmed.to_ascii_lowercase(),
        kind,
        name: segs.last().map(|s| s.to_string()),
    })
}

/// The provider namespace a resource id belongs to (`Microsoft.Compute`), canonically cased.
fn namespace_of_resource(resource_id: &str) -> Option<String> {
    let segs: Vec<&str> = resource_id.split('/').filter(|s| !s.is_empty()).collect();
    let i = segs
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"))?;
    segs.get(i + 1).map(|ns| canonical_namespace(ns))
}

fn lower_if_upper(s: &str) -> String {
    if is_all_upper(s) {
        s.to_ascii_lowercase()
    } else {
        s.to_string()
    }
}

fn is_all_upper(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_alphabetic()) && !s.chars().any(|c| c.is_ascii_lowercase())
}

/// Resource provider namespaces as Microsoft spells them, for inputs that upper- or lower-case everything.
const NAMESPACES: &[&str] = &[
    "Microsoft.AAD",
    "Microsoft.aadiam",
    "Microsoft.Advisor",
    "Microsoft.AlertsManagement",
    "Microsoft.ApiManagement",
    "Microsoft.AppConfiguration",
    "Microsoft.Authorization",
    "Microsoft.Automation",
    "Microsoft.Batch",
    "Microsoft.Billing",
    "Microsoft.Cache",
    "Microsoft.Cdn",
    "Microsoft.ClassicCompute",
    "Microsoft.ClassicNetwork",
    "Microsoft.ClassicStorage",
    "Microsoft.CognitiveServices",
    "Microsoft.Compute",
    "Microsoft.Consumption",
    "Microsoft.ContainerInstance",
    "Microsoft.ContainerRegistry",
    "Microsoft.ContainerService",
    "Microsoft.Databricks",
    "Microsoft.DataFactory",
    "Microsoft.DataProtection",
    "Microsoft.DBforMySQL",
    "Microsoft.DBforPostgreSQL",
    "Microsoft.DocumentDB",
    "Microsoft.DomainRegistration",
    "Microsoft.EventGrid",
    "Microsoft.EventHub",
    "Microsoft.Features",
    "Microsoft.GuestConfiguration",
    "Microsoft.HybridCompute",
    "Microsoft.Insights",
    "Microsoft.KeyVault",
    "Microsoft.Kubernetes",
    "Microsoft.KubernetesConfiguration",
    "Microsoft.Logic",
    "Microsoft.MachineLearningServices",
    "Microsoft.Maintenance",
    "Microsoft.ManagedIdentity",
    "Microsoft.Management",
    "Microsoft.Network",
    "Microsoft.OperationalInsights",
    "Microsoft.PolicyInsights",
    "Microsoft.RecoveryServices",
    "Microsoft.Relay",
    "Microsoft.ResourceHealth",
    "Microsoft.Resources",
    "Microsoft.Security",
    "Microsoft.SecurityInsights",
    "Microsoft.SerialConsole",
    "Microsoft.ServiceBus",
    "Microsoft.SignalRService",
    "Microsoft.Sql",
    "Microsoft.Storage",
    "Microsoft.StorageSync",
    "Microsoft.Subscription",
    "Microsoft.Support",
    "Microsoft.Synapse",
    "Microsoft.Web",
];

/// `MICROSOFT.EVENTHUB` / `microsoft.eventhub` → `Microsoft.EventHub`; unknown `microsoft.*` namespaces get
/// a capital `M`; other namespaces are kept as written.
fn canonical_namespace(ns: &str) -> String {
    let ns = ns.trim();
    if let Some(known) = NAMESPACES.iter().find(|k| k.eq_ignore_ascii_case(ns)) {
        return (*known).to_string();
    }
    match ns.split_once('.') {
        Some((vendor, rest)) if vendor.eq_ignore_ascii_case("microsoft") => {
            let rest = lower_if_upper(rest);
            let mut chars = rest.chars();
            let head: String = chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .collect();
            format!("Microsoft.{head}{}", chars.as_str())
        }
        _ => ns.to_string(),
    }
}

/// An operation in permission form. Azure compares permissions case-insensitively, so the casing here is
/// cosmetic but made stable: an ALL-UPPER-CASE operation (some exports) is lower-cased, and the namespace is
/// always spelled canonically: `MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE` →
/// `Microsoft.Authorization/roleassignments/write`.
fn permission_form(operation: &str) -> String {
    let op = lower_if_upper(operation.trim());
    match op.split_once('/') {
        Some((ns, rest)) => format!("{}/{rest}", canonical_namespace(ns)),
        None => op,
    }
}

// ---------------------------------------------------------------------------------------------------------
// Identities.

/// A GUID lower-cased, with dashes when it was written as 32 bare hex digits (role-assignment `evidence`
/// writes object ids that way), so both spellings give one key.
fn normalize_guid(s: &str) -> String {
    let t = s.trim().to_ascii_lowercase();
    if t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit()) {
        format!(
            "{}-{}-{}-{}-{}",
            &t[0..8],
            &t[8..12],
            &t[12..16],
            &t[16..20],
            &t[20..32]
        )
    } else {
        t
    }
}

fn is_guid(s: &str) -> bool {
    let t = normalize_guid(s);
    t.len() == 36
        && t.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

fn is_email(s: &str) -> bool {
    s.contains('@') && !s.contains(' ')
}

/// An identity from a bare caller string (REST `caller`, a string `identity`, a name claim): e-mail shaped is
/// a user, a GUID a service principal, `Microsoft.*` a platform service.
fn caller_identity(caller: &str) -> Identity {
    let kind = if is_email(caller) {
        IdentityKind::HumanUser
    } else if is_guid(caller) {
        IdentityKind::ServicePrincipal
    } else if caller.to_ascii_lowercase().starts_with("microsoft.") {
        IdentityKind::ProviderService
    } else {
        IdentityKind::Unknown
    };
    let key = if kind == IdentityKind::ServicePrincipal {
        normalize_guid(caller)
    } else {
        caller.trim().to_ascii_lowercase()
    };
    let mut identity = Identity::new(format!("azure:{key}"), kind);
    identity.display_name = Some(caller.trim().to_string());
    if kind == IdentityKind::ServicePrincipal {
        identity.credential_id = Some(normalize_guid(caller));
    }
    identity
}

/// `azure-platform:<category>`: nothing in the record names a caller. The kind is `provider_service` as the
/// table says, except when the record carries a real client address: then someone outside Azure made the
/// call and the record was trimmed of who, so the kind is `unknown` rather than a platform service that
/// detections may whitelist.
fn platform_identity(
    category: Option<&str>,
    client: Option<&vigil_schemas::SourceEndpoint>,
) -> Identity {
    let category = category
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let external = client
        .and_then(|s| s.ip)
        .is_some_and(|ip| !ip.is_unspecified() && !ip.is_loopback());
    let kind = if external {
        IdentityKind::Unknown
    } else {
        IdentityKind::ProviderService
    };
    Identity::new(format!("azure-platform:{category}"), kind)
}

/// Whether a status word means the operation went through. `Started`/`Start`/`Accepted` are the first
/// half of a long-running operation: the caller was authorized and the request accepted, which is what an
/// audit trail cares about, so they count as success.
fn status_word(word: &str) -> Option<OutcomeStatus> {
    match word
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase()
        .as_str()
    {
        "success" | "succeeded" | "started" | "start" | "accepted" | "ok" | "created" | "true" => {
            Some(OutcomeStatus::Success)
        }
        "failure"
        | "failed"
        | "fail"
        | "error"
        | "canceled"
        | "cancelled"
        | "false"
        | "timeout"
        | "badrequest"
        | "forbidden"
        | "unauthorized"
        | "conflict"
        | "notfound"
        | "authenticationfailed"
        | "authorizationfailed" => Some(OutcomeStatus::Failure),
        _ => None,
    }
}

/// An HTTP status read from `200`, `"200"`, `"Succeeded.Created"`-style signatures are not numbers.
fn http_status(s: &str) -> Option<u16> {
    s.trim()
        .parse::<u16>()
        .ok()
        .filter(|c| (100..600).contains(c))
}

fn outcome(
    status: OutcomeStatus,
    error_code: Option<String>,
    error_message: Option<String>,
) -> Outcome {
    let failed = status == OutcomeStatus::Failure;
    Outcome {
        status,
        error_code: error_code
            .filter(|_| failed)
            .filter(|c| !c.eq_ignore_ascii_case("none")),
        error_message: error_message.filter(|_| failed).map(|m| truncate(&m, 1024)),
    }
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

//! GCP Cloud Audit Logs: a LogEntry carrying an AuditLog `protoPayload` (admin activity, data access, system
//! event and policy-denied logs, including GKE's Kubernetes audit entries), as exported to Pub/Sub, sinks,
//! Eventarc or copied by hand into rule tests.
//!
//! Producers disagree on key casing (`insertid`, `callerIP`), rename `@type` (`at_sign_type`, `at_type`),
//! trim entries down to `protoPayload` and `resource`, and sometimes nest `timestamp`/`resource` inside the
//! payload; every lookup here is lenient about all of that. The caller has already unwrapped Pub/Sub push
//! and CloudEvents envelopes.

use serde_json::Value;
use vigil_schemas::{
    Action, ActionCategory, ChainLink, ChainRelation, Event, EventClass, Identity, IdentityKind,
    Outcome, OutcomeStatus, Provider, Resource, SourceEndpoint,
};

use crate::json::{
    embedded_object, first_text, get_ci, lenient_bool, parse_time, path, scalar_text, text,
};
use crate::record::{RecordContext, RecordError, RecordResult};

const FORMAT: &str = "gcp_audit";
const AUDIT_LOG_TYPE: &str = "type.googleapis.com/google.cloud.audit.AuditLog";

/// The record format when `record` is a GCP LogEntry carrying an AuditLog, else None.
///
/// A LogEntry is recognised by its `protoPayload` (any casing) typed as an AuditLog, or, for rule-test
/// samples without the type, a payload naming a `methodName` or `serviceName`. A LogEntry of a
/// `cloudaudit.googleapis.com` log stripped of its payload is claimed too, so `normalize` can refuse it
/// with a precise reason instead of it being dropped as unrecognised.
pub(crate) fn classify(record: &Value) -> Option<&'static str> {
    let obj = record.as_object()?;
    if obj.keys().any(|k| k.eq_ignore_ascii_case("eventVersion")) {
        return None; // CloudTrail
    }
    if let Some(payload) = proto_payload(record) {
        let typed = ["@type", "at_sign_type", "at_type"]
            .iter()
            .any(|k| text(&payload, &[k]).as_deref() == Some(AUDIT_LOG_TYPE));
        let audit_like = [
            "methodName",
            "serviceName",
            "authenticationInfo",
            "authorizationInfo",
        ]
        .iter()
        .any(|k| get_ci(&payload, k).is_some());
        return (typed || audit_like).then_some(FORMAT);
    }
    let log_name = text(record, &["logName"])?;
    (log_name.contains("cloudaudit.googleapis.com") && get_ci(record, "resource").is_some())
        .then_some(FORMAT)
}

/// Normalizes one GCP LogEntry that `classify` recognised as `format`.
pub(crate) fn normalize(
    record: &Value,
    format: &'static str,
    ctx: &RecordContext<'_>,
) -> RecordResult {
    let Some(payload) = proto_payload(record) else {
        return Err(RecordError::not_an_event(
            "GCP audit LogEntry without a protoPayload (nothing says who did what)",
        ));
    };
    // Hand-made samples sometimes put LogEntry fields inside the payload: read the entry, then the payload.
    let entry = |keys: &[&str]| path(record, keys).or_else(|| path(&payload, keys));
    let authz: Vec<&Value> = path(&payload, &["authorizationInfo"])
        .and_then(Value::as_array)
        .map(|a| a.iter().filter(|v| v.is_object()).collect())
        .unwrap_or_default();
    let checked = authz.iter().find_map(|a| text(a, &["permission"]));
    // Trimmed samples may lack `methodName`; the permission checked still says what was attempted.
    let method = first_text(&payload, &[&["methodName"], &["metadata", "methodName"]])
        .or_else(|| text(record, &["resource", "labels", "method"]))
        .or_else(|| checked.clone());
    let Some(method) = method else {
        return Err(RecordError::missing(
            Provider::Gcp,
            "protoPayload.methodName",
        ));
    };
    let service = first_text(&payload, &[&["serviceName"], &["metadata", "serviceName"]])
        .or_else(|| text(record, &["resource", "labels", "service"]))
        .unwrap_or_else(|| service_from_method(&method));

    let time_fields: Vec<&Value> = [&["timestamp"][..], &["receiveTimestamp"]]
        .iter()
        .filter_map(|k| entry(k))
        .chain(path(
            &payload,
            &["requestMetadata", "requestAttributes", "time"],
        ))
        .collect();
    let parsed = time_fields.iter().find_map(|v| parse_time(v));
    if parsed.is_none()
        && let Some(unreadable) = time_fields.first()
    {
        return Err(RecordError::bad_value(format!(
            "gcp record has an unreadable timestamp {unreadable}"
        )));
    }
    let (event_time, event_time_estimated) = ctx.time_or_ingest(parsed);

    let event_id = text(record, &["insertId"]).unwrap_or_else(|| ctx.content_id(record));
    let log_name = text(record, &["logName"]).unwrap_or_default();
    let log_kind = log_kind(&log_name);
    let resource_name = first_text(
        &payload,
        &[&["resourceName"], &["metadata", "resourceName"]],
    );
    let resource_type = entry(&["resource", "type"]).and_then(scalar_text);

    // GKE records the Kubernetes method as the "permission"; its IAM name is derived instead.
    let permission = checked
        .filter(|p| !p.starts_with("io.k8s."))
        .unwrap_or_else(|| derive_permission(&service, &method, resource_name.as_deref()));
    let category = category(&method, &permission);
    let class = if is_login(&method) {
        EventClass::Authentication
    } else {
        EventClass::ApiActivity
    };

    let request_metadata = path(&payload, &["requestMetadata"])
        .or_else(|| path(&payload, &["metadata", "requestMetadata"]));
    let source = request_metadata
        .and_then(|m| text(m, &["callerIp"]))
        .map(|ip| SourceEndpoint::from_raw(&ip))
        .unwrap_or_default();
    let user_agent = request_metadata.and_then(|m| text(m, &["callerSuppliedUserAgent"]));

    let labels = |k: &str| entry(&["resource", "labels", k]).and_then(scalar_text);
    let account_id = labels("project_id")
        .or_else(|| parent_id(&log_name, "projects"))
        .or_else(|| {
            resource_name
                .as_deref()
                .and_then(|r| parent_id(r, "projects"))
        })
        .filter(|p| p != "-" && p != "_");
    let tenant_id = parent_id(&log_name, "organizations").or_else(|| {
        resource_name
            .as_deref()
            .and_then(|r| parent_id(r, "organizations"))
    });
    let region = labels("location")
        .or_else(|| labels("zone"))
        .or_else(|| labels("region"))
        .or_else(|| {
            path(&payload, &["resourceLocation", "currentLocations"])
                .and_then(|l| l.get(0))
                .and_then(scalar_text)
        });

    Ok(Event {
        event_id,
        event_time,
        event_time_estimated,
        ingest_time: ctx.ingest_time,
        provider: Provider::Gcp,
        class,
        account_id,
        tenant_id,
        region,
        identity: identity(&payload),
        action: Action {
            service,
            operation: method,
            permission,
            category,
        },
        resources: resources(
            &payload,
            resource_name.as_deref(),
            resource_type.as_deref(),
            &authz,
        ),
        source,
        user_agent,
        outcome: outcome(&payload, log_kind, &authz),
        raw_ref: ctx.raw_ref(format),
    })
}

/// The `protoPayload`, whatever its casing, also when a producer serialized it as a JSON string.
fn proto_payload(record: &Value) -> Option<Value> {
    get_ci(record, "protoPayload").and_then(embedded_object)
}

/// `activity`, `data_access`, `system_event`, `policy`... from `.../logs/cloudaudit.googleapis.com%2F<kind>`.
fn log_kind(log_name: &str) -> &str {
    let tail = log_name.rsplit('/').next().unwrap_or_default();
    let tail = match tail.rfind("%2F").or_else(|| tail.rfind("%2f")) {
        Some(i) => &tail[i + 3..],
        None => tail,
    };
    if log_name.contains("cloudaudit.googleapis.com") {
        tail
    } else {
        ""
    }
}

/// The id after `<collection>/` when `name` starts with it (`projects/p1/logs/...` → `p1`).
fn parent_id(name: &str, collection: &str) -> Option<String> {
    // Full resource names (`//iam.googleapis.com/projects/...`) start with the service host.
    let name = match name.strip_prefix("//") {
        Some(full) => full.split_once('/').map_or("", |(_, rest)| rest),
        None => name.trim_start_matches('/'),
    };
    let rest = name.strip_prefix(collection)?.strip_prefix('/')?;
    let id = rest.split('/').next().unwrap_or_default().trim();
    (!id.is_empty()).then(|| id.to_string())
}

/// The identity-key rules of `vigil_schemas::identity` for GCP.
fn identity(payload: &Value) -> Identity {
    let auth = path(payload, &["authenticationInfo"]).filter(|a| a.is_object());
    let get = |k: &str| auth.and_then(|a| text(a, &[k]));
    let email = get("principalEmail");
    let subject = get("principalSubject");
    let mut id = match (&email, &subject) {
        (Some(email), _) => {
            let lower = email.to_ascii_lowercase();
            let mut id = Identity::new(format!("gcp:{lower}"), email_kind(&lower));
            id.display_name = Some(email.clone());
            id
        }
        (None, Some(subject)) => {
            let mut id = Identity::new(format!("gcp:{subject}"), IdentityKind::Federated);
            id.display_name = Some(subject.clone());
            id
        }
        (None, None) => {
            let mut id = Identity::new("anonymous:gcp", IdentityKind::Anonymous);
            // GKE names unauthenticated callers only in `authoritySelector` ("system:anonymous").
            id.display_name = get("authoritySelector");
            id
        }
    };
    id.credential_id = get("serviceAccountKeyName");
    if let Some(client) = auth.and_then(|a| text(a, &["oauthInfo", "oauthClientId"])) {
        id.credential_id.get_or_insert(client);
    }
    // Ordered as GCP records it: the original authority first, then each service account delegated through.
    let delegations = auth
        .and_then(|a| path(a, &["serviceAccountDelegationInfo"]))
        .and_then(Value::as_array);
    for link in delegations.into_iter().flatten() {
        let principal = text(link, &["firstPartyPrincipal", "principalEmail"])
            .map(|e| format!("gcp:{}", e.to_ascii_lowercase()))
            .or_else(|| {
                let third = path(link, &["thirdPartyPrincipal"])?;
                first_text(
                    third,
                    &[
                        &["principalEmail"],
                        &["thirdPartyClaims", "email"],
                        &["thirdPartyClaims", "sub"],
                    ],
                )
                .map(|p| format!("gcp:{p}"))
            });
        if let Some(principal) = principal {
            id.chain.push(ChainLink {
                relation: ChainRelation::DelegatedBy,
                principal,
            });
        }
    }
    id
}

/// Kind of a lower-cased `principalEmail`. Beyond the schema table (`*.gserviceaccount.com` service account,
/// `system:*` provider service, else human): GKE's `system:anonymous` is an unauthenticated caller, and
/// `system:serviceaccount:<ns>:<name>` outside `kube-system` is a customer workload's Kubernetes service
/// account, not a GKE component; `system@google.com` is Google itself (system events).
fn email_kind(email: &str) -> IdentityKind {
    if email.ends_with("gserviceaccount.com") {
        IdentityKind::ServiceAccount
    } else if email == "system:anonymous" {
        IdentityKind::Anonymous
    } else if let Some(sa) = email.strip_prefix("system:serviceaccount:") {
        if sa.starts_with("kube-system:") {
            IdentityKind::ProviderService
        } else {
            IdentityKind::ServiceAccount
        }
    } else if email.starts_with("system:") || email == "system@google.com" {
        IdentityKind::ProviderService
    } else {
        IdentityKind::HumanUser
    }
}

/// gRPC status names, indexed by code.
const GRPC_CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// Failure when `status.code` is non-zero, the log is the policy-denied log, an authorization check was
/// not granted, or a GKE response is a Kubernetes `Status` failure (HTTP code ≥ 400).
fn outcome(payload: &Value, log_kind: &str, authz: &[&Value]) -> Outcome {
    let message = text(payload, &["status", "message"]);
    let code = path(payload, &["status", "code"])
        .and_then(scalar_text)
        .filter(|c| c != "0" && c != "OK");
    if let Some(code) = code {
        let name = code
            .parse::<usize>()
            .ok()
            .and_then(|n| GRPC_CODES.get(n))
            .map(|s| s.to_string());
        return failure(name.unwrap_or(code), message);
    }
    if log_kind.eq_ignore_ascii_case("policy") {
        return failure("PERMISSION_DENIED".into(), message);
    }
    if authz
        .iter()
        .any(|a| path(a, &["granted"]).and_then(lenient_bool) == Some(false))
    {
        let denied = authz
            .iter()
            .find(|a| path(a, &["granted"]).and_then(lenient_bool) == Some(false));
        let what = denied
            .and_then(|a| text(a, &["permission"]))
            .map(|p| format!("permission {p} not granted"));
        return failure("PERMISSION_DENIED".into(), message.or(what));
    }
    let response = path(payload, &["response"]);
    let http = response
        .and_then(|r| first_text(r, &[&["code"], &["error", "code"]]))
        .and_then(|c| c.parse::<u16>().ok());
    let k8s_failed = response
        .and_then(|r| text(r, &["status"]))
        .is_some_and(|s| s.eq_ignore_ascii_case("failure"));
    if http.is_some_and(|c| c >= 400) || k8s_failed {
        let reason = response.and_then(|r| first_text(r, &[&["reason"], &["error", "status"]]));
        let code = reason
            .or(http.map(|c| c.to_string()))
            .unwrap_or_else(|| "Failure".into());
        let msg = response.and_then(|r| first_text(r, &[&["message"], &["error", "message"]]));
        return failure(code, message.or(msg));
    }
    Outcome::success()
}

fn failure(code: String, message: Option<String>) -> Outcome {
    Outcome {
        status: OutcomeStatus::Failure,
        error_code: Some(code),
        error_message: message,
    }
}

/// `resourceName` (kind from `resource.type`), then authorization and delegation targets not already listed.
fn resources(
    payload: &Value,
    name: Option<&str>,
    kind: Option<&str>,
    authz: &[&Value],
) -> Vec<Resource> {
    let mut out: Vec<Resource> = Vec::new();
    let mut push = |id: String, kind: Option<String>| {
        if !out.iter().any(|r| r.id == id) {
            let name = id
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .filter(|n| !n.is_empty())
                .map(str::to_string);
            out.push(Resource { id, kind, name });
        }
    };
    if let Some(name) = name {
        push(name.to_string(), kind.map(str::to_string));
    }
    for a in authz {
        if let Some(r) = text(a, &["resource"]) {
            let kind = text(a, &["resourceAttributes", "type"]);
            push(r, kind);
        }
    }
    // Service accounts a token was minted for (iamcredentials `GenerateAccessToken`, `SignJwt`...).
    let chain = path(payload, &["metadata", "identityDelegationChain"]).and_then(Value::as_array);
    for sa in chain.into_iter().flatten().filter_map(scalar_text) {
        push(sa, Some("service_account".into()));
    }
    out
}

fn is_login(method: &str) -> bool {
    method.starts_with("google.login.") || method.contains("LoginService")
}

/// The service's short name as IAM permissions spell it (`iam.googleapis.com` → `iam`).
fn short_service(service: &str) -> String {
    let short = service
        .trim()
        .trim_end_matches(".googleapis.com")
        .trim_end_matches(".com");
    match short {
        "k8s.io" => "container",
        "cloudresourcemanager" => "resourcemanager",
        "iamcredentials" => "iam",
        "sqladmin" => "cloudsql",
        other => other,
    }
    .to_string()
}

/// `google.pubsub.v1.Publisher.CreateTopic` → `pubsub.googleapis.com` when the payload names no service.
fn service_from_method(method: &str) -> String {
    let mut parts = method
        .split('.')
        .filter(|p| !is_version(p) && *p != "google" && *p != "cloud");
    match parts.next() {
        Some("io") => "k8s.io".to_string(),
        Some(svc) if method.contains('.') && svc.starts_with(|c: char| c.is_ascii_lowercase()) => {
            format!("{svc}.googleapis.com")
        }
        _ => "unknown".to_string(),
    }
}

fn is_version(seg: &str) -> bool {
    let Some(rest) = seg.strip_prefix('v') else {
        return seg == "beta" || seg == "alpha";
    };
    rest.starts_with(|c: char| c.is_ascii_digit())
        && rest.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Best-effort IAM-style permission when no `authorizationInfo[].permission` says which was checked:
/// - GKE `io.k8s.<group>.<version>.<resource>[.<subresource>].<verb>` → `container.<resource>.<verb>`
///   (`container.pods.exec` for a subresource create, as GKE's IAM names it);
/// - token minting (`GenerateAccessToken`, `SignBlob`, `SignJwt`...) → the `iam.serviceAccounts.*` permission;
/// - REST-style `[v1|beta.]<svc>.<collection>.<verb>` → `<svc>.<collection>.<verb>` (`insert` → `create`,
///   `patch` → `update`, `aggregatedList` → `list`);
/// - gRPC-style `…Service.VerbNoun` → `<svc>.<nouns>.<verb>` (`CreateServiceAccountKey` →
///   `iam.serviceAccountKeys.create`); `*IamPolicy`/nounless verbs take the collection of `resourceName`.
fn derive_permission(service: &str, method: &str, resource_name: Option<&str>) -> String {
    let svc = short_service(service);
    if let Some(rest) = method.strip_prefix("io.k8s.") {
        let segs: Vec<&str> = rest.split('.').collect();
        let after_version = segs
            .iter()
            .position(|s| is_version(s))
            .map_or(&segs[..], |i| &segs[i + 1..]);
        return match after_version {
            [res, sub, verb] if *verb == "create" => format!("container.{res}.{sub}"),
            segs => format!("container.{}", segs.join(".")),
        };
    }
    let last = method.rsplit('.').next().unwrap_or(method);
    let token_permission = match last.to_ascii_lowercase().as_str() {
        "generateaccesstoken" => Some("getAccessToken"),
        "generateidtoken" => Some("getOpenIdToken"),
        "signblob" => Some("signBlob"),
        "signjwt" => Some("signJwt"),
        _ => None,
    };
    if let Some(p) = token_permission {
        return format!("iam.serviceAccounts.{p}");
    }
    let collection = resource_name.and_then(collection_of);
    let segs: Vec<&str> = method
        .split('.')
        .filter(|s| !is_version(s))
        .skip_while(|s| *s == "google")
        .collect();
    if let [.., coll, verb] = segs[..] {
        let lower = |s: &str| s.starts_with(|c: char| c.is_ascii_lowercase());
        if segs.len() >= 3 && lower(coll) && lower(verb) {
            return format!("{svc}.{coll}.{}", rest_verb(verb));
        }
    }
    let (mut verb, mut noun) = split_verb(last);
    // Workspace admin events are past-tense: `inboundSsoProfileDeleted` → (`delete`, `InboundSsoProfile`).
    for (past, present) in [
        ("Created", "create"),
        ("Updated", "update"),
        ("Deleted", "delete"),
        ("Added", "add"),
        ("Removed", "remove"),
    ] {
        if let Some(stem) = last.strip_suffix(past).filter(|s| !s.is_empty()) {
            (verb, noun) = (present.to_string(), stem.to_string());
        }
    }
    if noun.is_empty()
        || noun.eq_ignore_ascii_case("IamPolicy")
        || noun.eq_ignore_ascii_case("IamPermissions")
    {
        let verb = if noun.is_empty() {
            rest_verb(&verb)
        } else {
            format!("{verb}{noun}")
        };
        return match collection {
            Some(c) => format!("{svc}.{c}.{verb}"),
            None => format!("{svc}.{verb}"),
        };
    }
    format!("{svc}.{}.{}", plural(&lower_first(&noun)), rest_verb(&verb))
}

fn rest_verb(verb: &str) -> String {
    match verb {
        "insert" => "create".into(),
        "patch" => "update".into(),
        "aggregatedList" => "list".into(),
        v => v.to_string(),
    }
}

/// `CreateServiceAccountKey` / `addGroupMember` → (`create`, `ServiceAccountKey`) / (`add`, `GroupMember`).
fn split_verb(method: &str) -> (String, String) {
    let cut = method
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_ascii_uppercase())
        .map_or(method.len(), |(i, _)| i);
    (
        method[..cut].to_ascii_lowercase(),
        method[cut..].to_string(),
    )
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn plural(noun: &str) -> String {
    if noun.ends_with("ss") || noun.ends_with('x') || noun.ends_with("ch") || noun.ends_with("sh") {
        format!("{noun}es")
    } else if noun.ends_with('s') {
        noun.to_string() // already plural: `ListServiceAccounts`
    } else if noun.ends_with('y')
        && !noun.ends_with("ey")
        && !noun.ends_with("ay")
        && !noun.ends_with("oy")
    {
        format!("{}ies", &noun[..noun.len() - 1])
    } else {
        format!("{noun}s")
    }
}

/// The collection the named resource sits in: `projects/p/serviceAccounts/sa` → `serviceAccounts`.
fn collection_of(resource_name: &str) -> Option<String> {
    let segs: Vec<&str> = resource_name
        .trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    // Names alternate `collection/id`: the collection of the last id, or the trailing collection itself.
    let i = (segs.len().checked_sub(1)? / 2) * 2;
    segs.get(i)
        .filter(|s| s.starts_with(|c: char| c.is_ascii_lowercase()))
        .map(|s| s.to_string())
}

/// Nouns whose change grants, revokes or mints access: IAM policies, roles and bindings (IAM and Kubernetes
/// RBAC), credentials (service account keys, API keys, HMAC keys, short-lived tokens and signatures),
/// privileged group membership, and federation trust (workload/workforce pools, SSO profiles).
const ACCESS_NOUNS: [&str; 17] = [
    "iampolicy",
    "iampermissions",
    "role",
    "rolebinding",
    "ownershipinvite",
    "ssoprofile",
    "serviceaccountkey",
    "accesstoken",
    "idtoken",
    "openidtoken",
    "signblob",
    "signjwt",
    "apikey",
    "hmackey",
    "groupmember",
    "workloadidentitypool",
    "workforcepool",
];

/// The category of the method's verb; a method that names no known verb (`InsertJob` deleting a table
/// aside, `Encrypt`, `jobcompleted`) takes the verb of the permission checked.
fn category(method: &str, permission: &str) -> ActionCategory {
    match method_category(method, permission) {
        ActionCategory::Other => method_category(permission, permission),
        category => category,
    }
}

fn method_category(method: &str, permission: &str) -> ActionCategory {
    if is_login(method) {
        return ActionCategory::Login;
    }
    // The verb is the method's last word (k8s and REST style) or the first word of a gRPC `VerbNoun`.
    let last = method.rsplit('.').next().unwrap_or(method);
    let perm_verb = permission.rsplit('.').next().unwrap_or(permission);
    let (grpc_verb, _) = split_verb(last);
    let verb = if last.starts_with(|c: char| c.is_ascii_uppercase()) {
        grpc_verb
    } else {
        last.to_ascii_lowercase()
    };
    let verb = verb.to_ascii_lowercase();
    let reads = [
        "get",
        "list",
        "search",
        "aggregatedlist",
        "watch",
        "describe",
        "check",
        "test",
        "lookup",
    ];
    let is_read = reads
        .iter()
        .any(|r| verb.starts_with(r) && !verb.starts_with("getaccesstoken"));
    let haystack = format!(
        "{} {}",
        method.to_ascii_lowercase(),
        permission.to_ascii_lowercase()
    );
    let access = ACCESS_NOUNS.iter().any(|n| haystack.contains(n))
        || (haystack.contains("apikeys.") && !is_read);
    let minting = [
        "generateaccesstoken",
        "generateidtoken",
        "signblob",
        "signjwt",
        "getaccesstoken",
        "getopenidtoken",
    ];
    if minting.iter().any(|m| haystack.contains(m))
        || (access && !is_read && !perm_verb.starts_with("use"))
    {
        return ActionCategory::PermissionChange;
    }
    match verb.as_str() {
        v if v.starts_with("list") || v.starts_with("search") || v == "aggregatedlist" => {
            ActionCategory::List
        }
        v if is_read && !v.is_empty() => ActionCategory::Read,
        "delete" | "deletecollection" | "remove" | "destroy" | "erase" | "purge" => {
            ActionCategory::Delete
        }
        "create" | "insert" | "update" | "patch" | "set" | "add" | "enable" | "disable"
        | "start" | "stop" | "reset" | "resize" | "move" | "undelete" | "restore" | "rewrite"
        | "copy" | "compose" | "assign" | "upload" | "import" | "deploy" | "rotate" | "attach"
        | "detach" | "apply" | "replace" => ActionCategory::Write,
        v if v.starts_with("set") || v.starts_with("update") || v.starts_with("create") => {
            ActionCategory::Write
        }
        v if v.starts_with("delete") || v.starts_with("remove") => ActionCategory::Delete,
        _ => ActionCategory::Other,
    }
}

#[cfg(test)]
mod tests;

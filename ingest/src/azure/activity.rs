//! Activity Log records (REST/portal and diagnostic-settings schemas) and storage / Key Vault resource logs.

use serde_json::Value;
use vigil_schemas::{
    Action, ActionCategory, ChainLink, ChainRelation, Event, EventClass, Identity, IdentityKind,
    Outcome, OutcomeStatus, Provider, Resource, SourceEndpoint,
};

use super::{
    at, caller_identity, canonical_namespace, event_time, first, get, http_status, is_email,
    namespace_of_resource, normalize_guid, outcome, permission_form, platform_identity,
    provider_id, resource_from_id, status_word, subscription_of, tenant_of, txt,
};
use crate::json::embedded_object;
use crate::record::{RecordContext, RecordError, RecordResult};

const OID: &[&str] = &[
    "http://schemas.microsoft.com/identity/claims/objectidentifier",
    "oid",
];
/// Claims that hold a user principal name; only e-mail shaped values count as one.
const USER_NAME: &[&str] = &[
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    "upn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    "unique_name",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "email",
    "preferred_username",
    "name",
];
/// Claims naming a non-user caller (`Microsoft.Insights/alertRules`, `Microsoft.Advisor`).
const SERVICE_NAME: &[&str] = &[
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/spn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
];
const APPID: &[&str] = &["appid", "azp"];
const TENANT: &[&str] = &[
    "http://schemas.microsoft.com/identity/claims/tenantid",
    "tid",
];
const AMR: &[&str] = &[
    "http://schemas.microsoft.com/claims/authnmethodsreferences",
    "amr",
];

/// Normalizes an Activity Log record in either schema; `format` only names it in `raw_ref`.
pub(super) fn normalize(
    record: &Value,
    format: &'static str,
    ctx: &RecordContext<'_>,
) -> RecordResult {
    let (event_time, event_time_estimated) = event_time(
        &[
            at(record, &["time"]),
            at(record, &["eventTimestamp"]),
            at(record, &["properties", "eventTimestamp"]),
        ],
        ctx,
    )?;
    let operation = txt(record, &["operationName"]);
    let category = txt(record, &["category"]);
    let resource_id = first(
        record,
        &[
            &["resourceId"],
            &["properties", "entity"],
            &["authorization", "scope"],
        ],
    );
    let scope = first(
        record,
        &[
            &["authorization", "scope"],
            &["identity", "authorization", "scope"],
        ],
    );

    let source = first(
        record,
        &[&["callerIpAddress"], &["httpRequest", "clientIpAddress"]],
    )
    .or_else(|| claims_of(record).and_then(|c| claim(c, &["ipaddr"])))
    .map(|ip| SourceEndpoint::from_raw(&ip))
    .unwrap_or_default();
    let identity = activity_identity(record, category.as_deref(), &source);

    let action = match operation.as_deref() {
        Some(op) => arm_action(op, resource_id.as_deref()),
        // Trimmed records (time-format tests, hand-written rule samples) may carry a time and a category and
        // nothing else; they are still an audit fact, so they are kept with an explicit unknown operation.
        None => Action {
            service: resource_id
                .as_deref()
                .and_then(namespace_of_resource)
                .unwrap_or_else(|| "Azure".into()),
            operation: "unknown".into(),
            permission: "unknown".into(),
            category: ActionCategory::Other,
        },
    };

    let account_id = txt(record, &["subscriptionId"])
        .map(|s| s.to_ascii_lowercase())
        .or_else(|| resource_id.as_deref().and_then(subscription_of))
        .or_else(|| scope.as_deref().and_then(subscription_of));
    let tenant_id = txt(record, &["tenantId"])
        .or_else(|| claims_of(record).and_then(|c| claim(c, TENANT)))
        .or_else(|| resource_id.as_deref().and_then(tenant_of))
        .map(|t| t.to_ascii_lowercase());

    let mut resources: Vec<Resource> = resource_id
        .as_deref()
        .and_then(resource_from_id)
        .into_iter()
        .collect();
    resources.extend(role_assignment_targets(record));

    Ok(Event {
        event_id: provider_id(record, &[&["eventDataId"], &["id"]], ctx),
        event_time,
        event_time_estimated,
        ingest_time: ctx.ingest_time,
        provider: Provider::Azure,
        class: EventClass::ApiActivity,
        account_id,
        tenant_id,
        region: first(
            record,
            &[&["location"], &["properties", "resourceLocation"]],
        ),
        identity,
        action,
        resources,
        source,
        user_agent: None,
        outcome: activity_outcome(record),
        raw_ref: ctx.raw_ref(format),
    })
}

/// Normalizes a storage (`StorageRead`...) or Key Vault (`AuditEvent`) resource log record.
pub(super) fn normalize_resource_log(
    record: &Value,
    format: &'static str,
    ctx: &RecordContext<'_>,
) -> RecordResult {
    let (event_time, event_time_estimated) = event_time(&[at(record, &["time"])], ctx)?;
    let operation = txt(record, &["operationName"])
        .ok_or_else(|| RecordError::missing(Provider::Azure, "operationName"))?;
    let category = txt(record, &["category"]);
    let resource_id = txt(record, &["resourceId"]);
    let source = txt(record, &["callerIpAddress"])
        .map(|ip| SourceEndpoint::from_raw(&ip))
        .unwrap_or_default();
    let account_name = txt(record, &["properties", "accountName"]);

    let is_storage = category
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("storage"))
        || account_name.is_some();
    let namespace = resource_id
        .as_deref()
        .and_then(namespace_of_resource)
        .unwrap_or_else(|| {
            if is_storage {
                "Microsoft.Storage".into()
            } else {
                "Microsoft.KeyVault".into()
            }
        });
    let action = if operation.contains('/') {
        arm_action(&operation, resource_id.as_deref())
    } else {
        Action {
            permission: blob_data_action(&operation)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{namespace}/{operation}")),
            category: data_category(&operation, category.as_deref()),
            service: namespace.clone(),
            operation,
        }
    };

    let identity = resource_log_identity(
        record,
        category.as_deref(),
        account_name.as_deref(),
        &source,
    );
    let mut resources: Vec<Resource> = resource_id
        .as_deref()
        .and_then(resource_from_id)
        .into_iter()
        .collect();
    if let Some(key) = txt(record, &["properties", "objectKey"]) {
        resources.push(Resource {
            id: key.clone(),
            kind: Some("Microsoft.Storage/object".into()),
            name: key.rsplit('/').next().map(str::to_string),
        });
    } else if let Some(uri) =
        txt(record, &["uri"]).or_else(|| txt(record, &["properties", "requestUri"]))
    {
        // The URI may carry a SAS signature; keep only scheme, host and path.
        let bare = uri.split('?').next().unwrap_or_default().to_string();
        resources.push(Resource {
            id: bare,
            kind: Some(format!("{namespace}/object")),
            name: None,
        });
    }

    Ok(Event {
        // Resource logs carry no per-event id (`correlationId` is shared, Key Vault `properties.id` is the
        // object's URL): the content hash is the only stable id.
        event_id: ctx.content_id(record),
        event_time,
        event_time_estimated,
        ingest_time: ctx.ingest_time,
        provider: Provider::Azure,
        class: EventClass::ApiActivity,
        account_id: resource_id.as_deref().and_then(subscription_of),
        tenant_id: txt(record, &["tenantId"]).map(|t| t.to_ascii_lowercase()),
        region: txt(record, &["location"]),
        identity,
        action,
        resources,
        source,
        user_agent: first(
            record,
            &[
                &["properties", "userAgentHeader"],
                &["properties", "clientInfo"],
            ],
        ),
        outcome: resource_log_outcome(record),
        raw_ref: ctx.raw_ref(format),
    })
}

/// The action of an ARM operation such as `Microsoft.Authorization/roleAssignments/write`.
pub(super) fn arm_action(operation: &str, resource_id: Option<&str>) -> Action {
    let permission = permission_form(operation);
    let service = match permission.split_once('/') {
        Some((ns, _)) => ns.to_string(),
        None => resource_id
            .and_then(namespace_of_resource)
            .unwrap_or_else(|| "Azure".into()),
    };
    Action {
        category: arm_category(&permission),
        service,
        operation: operation.to_string(),
        permission,
    }
}

/// The category of an ARM operation from its verb: `/read` read (list when the name says so), `/write` write,
/// `/delete` delete; changes to `Microsoft.Authorization` (role assignments and definitions, locks, policy),
/// `elevateAccess`, Kubernetes RBAC objects and federated credentials are permission changes; `/action` is
/// other unless it reads something: `listKeys`, `listAccountSas`, `getSecret`, `keys/read/action` and
/// disk `beginGetAccess` return secrets or SAS URLs, so they are reads.
pub(super) fn arm_category(permission: &str) -> ActionCategory {
    let lower = permission.to_ascii_lowercase();
    let segs: Vec<&str> = lower.split('/').collect();
    let verb = segs.last().copied().unwrap_or_default();
    let before = if segs.len() >= 2 {
        segs[segs.len() - 2]
    } else {
        ""
    };
    let mutates = verb == "write" || verb == "delete";
    if lower.contains("elevateaccess")
        || (mutates && segs.first() == Some(&"microsoft.authorization"))
        || (mutates && lower.contains("rbac.authorization.k8s.io"))
        || (mutates && lower.contains("federatedidentitycredentials"))
    {
        return ActionCategory::PermissionChange;
    }
    match verb {
        "read" if before.starts_with("list") => ActionCategory::List,
        "read" => ActionCategory::Read,
        "write" => ActionCategory::Write,
        "delete" => ActionCategory::Delete,
        "action"
            if before.starts_with("list")
                || before.starts_with("get")
                || before == "read"
                || before == "begingetaccess" =>
        {
            ActionCategory::Read
        }
        _ => ActionCategory::Other,
    }
}

/// The Azure RBAC data action a blob operation needs (`GetBlob` → `.../blobs/read`), so storage reads compare
/// with role definitions and differently-cased exports of one operation share a permission.
fn blob_data_action(operation: &str) -> Option<&'static str> {
    Some(match operation.to_ascii_lowercase().as_str() {
        "getblob" | "getblobproperties" | "getblobmetadata" | "getblocklist" | "getblobtags"
        | "listblobs" | "getpageranges" => {
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
        }
        "putblob" | "putblock" | "putblocklist" | "putpage" | "appendblock" | "copyblob"
        | "setblobmetadata" | "setblobproperties" | "setblobtags" | "setblobtier"
        | "snapshotblob" | "undeleteblob" => {
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
        }
        "deleteblob" => "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
        "getblobserviceproperties" => "Microsoft.Storage/storageAccounts/blobServices/read",
        "setblobserviceproperties" => "Microsoft.Storage/storageAccounts/blobServices/write",
        _ => return None,
    })
}

/// Data-plane operation names (`GetBlob`, `PutBlob`, `SecretGet`) and their resource log category.
fn data_category(operation: &str, category: Option<&str>) -> ActionCategory {
    let op = operation.to_ascii_lowercase();
    let has = |w: &str| op.starts_with(w) || op.ends_with(w);
    if has("list") {
        ActionCategory::List
    } else if has("delete") || has("purge") {
        ActionCategory::Delete
    } else if has("get") || has("read") || has("query") {
        ActionCategory::Read
    } else if [
        "put", "set", "create", "copy", "append", "update", "write", "import", "restore", "recover",
    ]
    .iter()
    .any(|w| has(w))
    {
        ActionCategory::Write
    } else {
        match category.map(str::to_ascii_lowercase).as_deref() {
            Some("storageread") => ActionCategory::Read,
            Some("storagewrite") => ActionCategory::Write,
            Some("storagedelete") => ActionCategory::Delete,
            _ => ActionCategory::Other,
        }
    }
}

/// `resultType` (diagnostic settings) or `status.value` (REST); `resultSignature`, `subStatus` or
/// `properties.statusCode` as the error code of a failure.
fn activity_outcome(record: &Value) -> Outcome {
    let word = first(
        record,
        &[&["resultType"], &["status"], &["properties", "status"]],
    );
    let code = first(
        record,
        &[
            &["resultSignature"],
            &["subStatus"],
            &["properties", "statusCode"],
        ],
    );
    let status = word
        .as_deref()
        .and_then(status_word)
        .or_else(|| code.as_deref().and_then(http_status).map(http_outcome))
        .or_else(|| {
            code.as_deref()
                .and_then(|c| status_word(c.split('.').next().unwrap_or(c)))
        })
        .unwrap_or(OutcomeStatus::Unknown);
    let message = first(
        record,
        &[
            &["resultDescription"],
            &["properties", "statusMessage"],
            &["description"],
        ],
    );
    outcome(status, code.or(word), message)
}

fn http_outcome(code: u16) -> OutcomeStatus {
    if code < 400 {
        OutcomeStatus::Success
    } else {
        OutcomeStatus::Failure
    }
}

fn resource_log_outcome(record: &Value) -> Outcome {
    let code =
        txt(record, &["statusCode"]).or_else(|| txt(record, &["properties", "httpStatusCode"]));
    let text = first(
        record,
        &[
            &["statusText"],
            &["resultSignature"],
            &["properties", "metricResponseType"],
        ],
    );
    let status = code
        .as_deref()
        .and_then(http_status)
        .map(http_outcome)
        .or_else(|| {
            txt(record, &["resultType"])
                .as_deref()
                .and_then(status_word)
        })
        .or_else(|| {
            txt(record, &["properties", "metricResponseType"])
                .as_deref()
                .and_then(status_word)
        })
        .unwrap_or(OutcomeStatus::Unknown);
    outcome(status, text.clone().or(code), text)
}

/// The claims of a record: REST `claims`, diagnostic-settings `identity.claims`, Key Vault `identity.claim`.
pub(super) fn claims_of(record: &Value) -> Option<&Value> {
    let direct = get(record, "claims").filter(|c| c.is_object());
    direct.or_else(|| {
        let identity = get(record, "identity")?;
        get(identity, "claims")
            .or_else(|| get(identity, "claim"))
            .filter(|c| c.is_object())
    })
}

pub(super) fn claim(claims: &Value, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| txt(claims, &[n]))
}

/// Who made an Activity Log call, per the Azure rows of the identity table: the object id claim, else the
/// caller (REST `caller`, a string `identity`, a user name claim), else role-assignment evidence, else
/// `azure-platform:<category>`.
fn activity_identity(record: &Value, category: Option<&str>, source: &SourceEndpoint) -> Identity {
    let claims = claims_of(record);
    if let Some(identity) = claims.and_then(claims_identity) {
        return identity;
    }
    let identity_value = get(record, "identity");
    let caller = txt(record, &["caller"])
        .or_else(|| identity_value.and_then(crate::json::scalar_text))
        .or_else(|| {
            claims
                .and_then(|c| claim(c, USER_NAME))
                .filter(|n| is_email(n))
        })
        .or_else(|| claims.and_then(|c| claim(c, SERVICE_NAME)));
    if let Some(caller) = caller {
        let mut identity = caller_identity(&caller);
        if let Some(c) = claims {
            identity.mfa = mfa_from_claims(c);
        }
        return identity;
    }
    if let Some(identity) = evidence_identity(record) {
        return identity;
    }
    if let Some(appid) = claims.and_then(|c| claim(c, APPID)) {
        let mut identity = Identity::new(
            format!("azure:{}", normalize_guid(&appid)),
            IdentityKind::ServicePrincipal,
        );
        identity.credential_id = Some(normalize_guid(&appid));
        return identity;
    }
    platform_identity(category, Some(source))
}

/// An identity from token claims that carry an object id.
pub(super) fn claims_identity(claims: &Value) -> Option<Identity> {
    let oid = claim(claims, OID)?;
    let user_name = claim(claims, USER_NAME).filter(|n| is_email(n));
    let display = user_name.clone().or_else(|| claim(claims, &["name"]));
    let appid = claim(claims, APPID).map(|a| normalize_guid(&a));
    let idtyp = claim(claims, &["idtyp"]).map(|t| t.to_ascii_lowercase());
    let mirid = claim(claims, &["xms_mirid", "xms_az_rid"])
        .filter(|r| r.to_ascii_lowercase().contains("/providers/"));
    let human_hint =
        display.is_some() || claim(claims, &["puid", "altsecid", "given_name"]).is_some();

    let kind = if mirid.is_some() && idtyp.as_deref() != Some("user") {
        IdentityKind::ManagedIdentity
    } else if idtyp.as_deref() == Some("user") || (human_hint && idtyp.as_deref() != Some("app")) {
        IdentityKind::HumanUser
    } else if appid.is_some() || idtyp.as_deref() == Some("app") {
        IdentityKind::ServicePrincipal
    } else {
        IdentityKind::Unknown
    };
    let mut identity = Identity::new(format!("azure:{}", normalize_guid(&oid)), kind);
    match kind {
        IdentityKind::HumanUser => {
            identity.display_name = display;
            identity.mfa = mfa_from_claims(claims);
            // A user token issued to an application: the user acted through that app.
            if let Some(app) = appid {
                identity.chain.push(ChainLink {
                    relation: ChainRelation::DelegatedBy,
                    principal: format!("azure-app:{app}"),
                });
            }
        }
        IdentityKind::ManagedIdentity => {
            identity.display_name = mirid
                .as_deref()
                .and_then(|r| r.rsplit('/').find(|s| !s.is_empty()))
                .map(str::to_string);
            identity.credential_id = appid;
        }
        _ => {
            identity.display_name = claim(claims, SERVICE_NAME).or(display);
            identity.credential_id = appid;
        }
    }
    Some(identity)
}

/// `amr` contains `mfa`: true; `amr` present without it: false; no `amr`: unknown.
fn mfa_from_claims(claims: &Value) -> Option<bool> {
    let amr = AMR.iter().find_map(|n| get(claims, n))?;
    let methods: Vec<String> = match amr {
        Value::Array(items) => items.iter().filter_map(crate::json::scalar_text).collect(),
        other => crate::json::scalar_text(other)
            .map(|s| s.split(',').map(|m| m.trim().to_string()).collect())
            .unwrap_or_default(),
    };
    if methods.is_empty() {
        None
    } else {
        Some(methods.iter().any(|m| m.eq_ignore_ascii_case("mfa")))
    }
}

/// The principal a role assignment granted the access through, when it was granted to the caller itself
/// (`principalType` User or ServicePrincipal; a Group's id would name the group, not the caller).
fn evidence_identity(record: &Value) -> Option<Identity> {
    let evidence = at(record, &["identity", "authorization", "evidence"])
        .or_else(|| at(record, &["authorization", "evidence"]))?;
    let principal = txt(evidence, &["principalId"])?;
    let kind = match txt(evidence, &["principalType"])?
        .to_ascii_lowercase()
        .as_str()
    {
        "user" => IdentityKind::HumanUser,
        "serviceprincipal" => IdentityKind::ServicePrincipal,
        "managedidentity" => IdentityKind::ManagedIdentity,
        _ => return None,
    };
    Some(Identity::new(
        format!("azure:{}", normalize_guid(&principal)),
        kind,
    ))
}

/// Who received a role assignment (from the request body), so permission changes name their grantee.
fn role_assignment_targets(record: &Value) -> Vec<Resource> {
    let Some(body) = first_object(
        record,
        &[
            &["properties", "requestbody"],
            &["properties", "requestBody"],
        ],
    ) else {
        return Vec::new();
    };
    let props = get(&body, "properties").unwrap_or(&body);
    let mut out = Vec::new();
    if let Some(principal) = txt(props, &["principalId"]) {
        let kind = txt(props, &["principalType"])
            .map(|t| format!("principal/{t}"))
            .unwrap_or_else(|| "principal".into());
        out.push(Resource {
            id: normalize_guid(&principal),
            kind: Some(kind),
            name: None,
        });
    }
    if let Some(role) = txt(props, &["roleDefinitionId"]) {
        let name = role.rsplit('/').find(|s| !s.is_empty()).map(str::to_string);
        out.push(Resource {
            id: role.to_ascii_lowercase(),
            kind: Some("Microsoft.Authorization/roleDefinitions".into()),
            name,
        });
    }
    out
}

fn first_object(record: &Value, paths: &[&[&str]]) -> Option<Value> {
    paths
        .iter()
        .filter_map(|p| at(record, p))
        .find_map(embedded_object)
}

/// Storage and Key Vault callers: an Entra principal (`identity.requester`, `identity.claim`), else the
/// account key / SAS holder, else anonymous.
fn resource_log_identity(
    record: &Value,
    category: Option<&str>,
    account: Option<&str>,
    source: &SourceEndpoint,
) -> Identity {
    if let Some(identity) = claims_of(record).and_then(claims_identity) {
        return identity;
    }
    let identity_value = get(record, "identity");
    if let Some(requester) = identity_value.and_then(|i| get(i, "requester"))
        && let Some(oid) = txt(requester, &["objectId"])
    {
        let upn = txt(requester, &["upn"]);
        let appid = txt(requester, &["appId"]).map(|a| normalize_guid(&a));
        let kind = if upn.is_some() {
            IdentityKind::HumanUser
        } else {
            IdentityKind::ServicePrincipal
        };
        let mut identity = Identity::new(format!("azure:{}", normalize_guid(&oid)), kind);
        identity.display_name = upn;
        if kind == IdentityKind::ServicePrincipal {
            identity.credential_id = appid;
        } else if let Some(app) = appid {
            identity.chain.push(ChainLink {
                relation: ChainRelation::DelegatedBy,
                principal: format!("azure-app:{app}"),
            });
        }
        return identity;
    }
    let auth_type = identity_value
        .and_then(|i| txt(i, &["type"]))
        .or_else(|| txt(record, &["properties", "authenticationType"]));
    match auth_type.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("anonymous") => Identity::new("anonymous:azure", IdentityKind::Anonymous),
        Some(t) => {
            let account = account
                .map(str::to_ascii_lowercase)
                .unwrap_or_else(|| "unknown".into());
            let mut identity = Identity::new(
                format!("azure-storage:{account}/{t}"),
                IdentityKind::Unknown,
            );
            identity.display_name = Some(format!("{account} ({t})"));
            identity.credential_id = identity_value.and_then(|i| txt(i, &["tokenHash"]));
            identity
        }
        None => platform_identity(category, Some(source)),
    }
}

/// `Microsoft.aadiam`-style canonical namespace of a category-derived service (used by Entra records).
pub(super) fn directory_service(resource_id: Option<&str>) -> String {
    resource_id
        .and_then(namespace_of_resource)
        .unwrap_or_else(|| canonical_namespace("Microsoft.aadiam"))
}

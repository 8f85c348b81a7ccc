//! Entra ID (Azure AD) sign-in and directory audit records, as exported by diagnostic settings.

use serde_json::Value;
use vigil_schemas::{
    Action, ActionCategory, ChainLink, ChainRelation, Event, EventClass, Identity, IdentityKind,
    Outcome, OutcomeStatus, Provider, Resource, SourceEndpoint,
};

use super::activity::{arm_category, directory_service};
use super::{
    at, caller_identity, event_time, first, get, normalize_guid, outcome, permission_form,
    platform_identity, provider_id, status_word, subscription_of, tenant_of, txt,
};
use crate::json::{embedded_object, lenient_bool};
use crate::record::{RecordContext, RecordError, RecordResult};

/// Normalizes a sign-in (`SignInLogs`, `NonInteractiveUserSignInLogs`, `ServicePrincipalSignInLogs`,
/// `ManagedIdentitySignInLogs`...).
pub(super) fn normalize_signin(
    record: &Value,
    format: &'static str,
    ctx: &RecordContext<'_>,
) -> RecordResult {
    let (event_time, event_time_estimated) = event_time(
        &[
            at(record, &["time"]),
            at(record, &["properties", "createdDateTime"]),
        ],
        ctx,
    )?;
    let props = properties(record);
    let category = txt(record, &["category"]);
    let source = first(
        record,
        &[&["properties", "ipAddress"], &["callerIpAddress"]],
    )
    .map(|ip| SourceEndpoint::from_raw(&ip))
    .unwrap_or_default();
    let identity = signin_identity(record, &props, category.as_deref(), &source);
    let resource_id = txt(record, &["resourceId"]);

    let resources = match txt(&props, &["resourceId"])
        .or_else(|| txt(&props, &["resourceServicePrincipalId"]))
    {
        Some(id) => vec![Resource {
            id: normalize_guid(&id),
            kind: Some("Microsoft.aadiam/applications".into()),
            name: txt(&props, &["resourceDisplayName"]),
        }],
        None => Vec::new(),
    };
    Ok(Event {
        event_id: provider_id(&props, &[&["id"]], ctx),
        event_time,
        event_time_estimated,
        ingest_time: ctx.ingest_time,
        provider: Provider::Azure,
        class: EventClass::Authentication,
        account_id: None,
        tenant_id: tenant(record, &props, resource_id.as_deref()),
        // The record's `location` is the client's country, not an Azure region.
        region: None,
        identity,
        action: Action {
            service: directory_service(resource_id.as_deref()),
            operation: txt(record, &["operationName"]).unwrap_or_else(|| "Sign-in activity".into()),
            permission: "Microsoft.aadiam/signIn".into(),
            category: ActionCategory::Login,
        },
        resources,
        source,
        user_agent: txt(&props, &["userAgent"]),
        outcome: signin_outcome(record, &props),
        raw_ref: ctx.raw_ref(format),
    })
}

/// Normalizes a directory audit record (`AuditLogs`, and exports that file them under other categories).
pub(super) fn normalize_audit(
    record: &Value,
    format: &'static str,
    ctx: &RecordContext<'_>,
) -> RecordResult {
    let (event_time, event_time_estimated) = event_time(
        &[
            at(record, &["time"]),
            at(record, &["properties", "activityDateTime"]),
        ],
        ctx,
    )?;
    let props = properties(record);
    let operation = first(
        record,
        &[
            &["operationName"],
            &["properties", "operationName"],
            &["properties", "activityDisplayName"],
        ],
    )
    .ok_or_else(|| RecordError::missing(Provider::Azure, "operationName"))?;
    let activity = txt(&props, &["activityDisplayName"]).unwrap_or_else(|| operation.clone());
    let resource_id = txt(record, &["resourceId"]);
    let category = txt(record, &["category"]);

    let source = first(
        record,
        &[
            &["callerIpAddress"],
            &["properties", "initiatedBy", "user", "ipAddress"],
        ],
    )
    .map(|ip| SourceEndpoint::from_raw(&ip))
    .unwrap_or_default();
    let identity = audit_identity(record, &props, category.as_deref(), &source);

    let action = match detail(&props, "Action").filter(|a| a.contains('/')) {
        // Entries the directory audit borrows from ARM (`Microsoft.Authorization/elevateAccess/action`).
        Some(arm) => {
            let permission = permission_form(&arm);
            Action {
                category: arm_category(&permission),
                service: directory_service(resource_id.as_deref()),
                operation,
                permission,
            }
        }
        None => Action {
            service: directory_service(resource_id.as_deref()),
            permission: directory_permission(&props, category.as_deref(), &activity),
            category: directory_category(&props, &activity, &operation),
            operation,
        },
    };

    let resources = get(&props, "targetResources")
        .and_then(Value::as_array)
        .map(|targets| targets.iter().filter_map(target_resource).collect())
        .unwrap_or_default();
    Ok(Event {
        event_id: provider_id(&props, &[&["id"]], ctx),
        event_time,
        event_time_estimated,
        ingest_time: ctx.ingest_time,
        provider: Provider::Azure,
        class: EventClass::ApiActivity,
        account_id: resource_id.as_deref().and_then(subscription_of),
        tenant_id: tenant(record, &props, resource_id.as_deref()),
        region: None,
        identity,
        action,
        resources,
        source,
        user_agent: detail(&props, "User-Agent").or_else(|| txt(&props, &["userAgent"])),
        outcome: audit_outcome(record, &props),
        raw_ref: ctx.raw_ref(format),
    })
}

/// `properties` as an object (it is sometimes a JSON string); `{}` when absent.
fn properties(record: &Value) -> Value {
    get(record, "properties")
        .and_then(embedded_object)
        .unwrap_or_else(|| Value::Object(Default::default()))
}

fn tenant(record: &Value, props: &Value, resource_id: Option<&str>) -> Option<String> {
    txt(record, &["tenantId"])
        .or_else(|| txt(props, &["tenantId"]))
        .or_else(|| resource_id.and_then(tenant_of))
        .or_else(|| txt(props, &["homeTenantId"]))
        .map(|t| t.to_ascii_lowercase())
}

/// The value of `additionalDetails[{key, value}]` for `key`.
fn detail(props: &Value, key: &str) -> Option<String> {
    get(props, "additionalDetails")?
        .as_array()?
        .iter()
        .find(|d| txt(d, &["key"]).is_some_and(|k| k.eq_ignore_ascii_case(key)))
        .and_then(|d| txt(d, &["value"]))
}

fn signin_identity(
    record: &Value,
    props: &Value,
    category: Option<&str>,
    source: &SourceEndpoint,
) -> Identity {
    let category_l = category.unwrap_or_default().to_ascii_lowercase();
    let app_id = txt(props, &["appId"]).map(|a| normalize_guid(&a));
    if category_l.contains("serviceprincipal") || category_l.contains("managedidentity") {
        let kind = if category_l.contains("managedidentity") {
            IdentityKind::ManagedIdentity
        } else {
            IdentityKind::ServicePrincipal
        };
        if let Some(sp) = txt(props, &["servicePrincipalId"]).or_else(|| app_id.clone()) {
            let mut identity = Identity::new(format!("azure:{}", normalize_guid(&sp)), kind);
            identity.display_name =
                txt(props, &["servicePrincipalName"]).or_else(|| txt(props, &["appDisplayName"]));
            // The key id names the secret or certificate used; the application id when it is not logged.
            identity.credential_id = txt(props, &["servicePrincipalCredentialKeyId"]).or(app_id);
            return identity;
        }
    }
    let upn = txt(props, &["userPrincipalName"]);
    let fallback = txt(record, &["identity"]).or_else(|| txt(props, &["userDisplayName"]));
    let key = match (txt(props, &["userId"]), &upn, &fallback) {
        (Some(id), _, _) => normalize_guid(&id),
        (None, Some(upn), _) => upn.to_ascii_lowercase(),
        (None, None, Some(name)) => name.to_ascii_lowercase(),
        (None, None, None) => return platform_identity(category, Some(source)),
    };
    let mut identity = Identity::new(format!("azure:{key}"), IdentityKind::HumanUser);
    identity.display_name = upn
        .or_else(|| txt(props, &["userDisplayName"]))
        .or(fallback);
    identity.mfa = signin_mfa(props);
    if let Some(app) = app_id {
        identity.chain.push(ChainLink {
            relation: ChainRelation::DelegatedBy,
            principal: format!("azure-app:{app}"),
        });
    }
    identity
}

/// MFA performed (an `mfaDetail.authMethod`, a succeeded multi-factor step) or required
/// (`authenticationRequirement`); `singleFactorAuthentication` is false; nothing said is unknown.
fn signin_mfa(props: &Value) -> Option<bool> {
    if txt(props, &["mfaDetail", "authMethod"]).is_some() {
        return Some(true);
    }
    let mfa_step = get(props, "authenticationDetails")
        .and_then(Value::as_array)
        .is_some_and(|steps| {
            steps.iter().any(|s| {
                txt(s, &["authenticationStepRequirement"])
                    .is_some_and(|r| r.to_ascii_lowercase().contains("multi"))
                    && get(s, "succeeded").and_then(lenient_bool) == Some(true)
            })
        });
    if mfa_step {
        return Some(true);
    }
    match txt(props, &["authenticationRequirement"])?
        .to_ascii_lowercase()
        .as_str()
    {
        "multifactorauthentication" => Some(true),
        "singlefactorauthentication" => Some(false),
        _ => None,
    }
}

/// `status.errorCode` 0 is success, anything else a failure with that code and `failureReason`; without a
/// status, `resultType` (the same code as text, or `Success`/`Failure`) decides.
fn signin_outcome(record: &Value, props: &Value) -> Outcome {
    let reason = first(
        props,
        &[
            &["status", "failureReason"],
            &["status", "additionalDetails"],
        ],
    )
    .or_else(|| txt(record, &["resultDescription"]));
    if let Some(code) = txt(props, &["status", "errorCode"]) {
        let status = if code == "0" {
            OutcomeStatus::Success
        } else {
            OutcomeStatus::Failure
        };
        return outcome(status, Some(code), reason);
    }
    let result = txt(record, &["resultType"]);
    let status = match result.as_deref() {
        Some("0") => OutcomeStatus::Success,
        Some(code) if code.chars().all(|c| c.is_ascii_digit()) => OutcomeStatus::Failure,
        Some(word) => status_word(word).unwrap_or(OutcomeStatus::Unknown),
        None => txt(record, &["resultSignature"])
            .as_deref()
            .and_then(status_word)
            .unwrap_or(OutcomeStatus::Unknown),
    };
    outcome(status, result, reason)
}

fn audit_identity(
    record: &Value,
    props: &Value,
    category: Option<&str>,
    source: &SourceEndpoint,
) -> Identity {
    if let Some(user) = at(props, &["initiatedBy", "user"]) {
        let upn = txt(user, &["userPrincipalName"]);
        if let Some(key) = txt(user, &["id"])
            .map(|id| normalize_guid(&id))
            .or_else(|| upn.as_ref().map(|u| u.to_ascii_lowercase()))
        {
            let mut identity = Identity::new(format!("azure:{key}"), IdentityKind::HumanUser);
            identity.display_name = upn.or_else(|| txt(user, &["displayName"]));
            return identity;
        }
    }
    if let Some(app) = at(props, &["initiatedBy", "app"]) {
        let app_id = txt(app, &["appId"]).map(|a| normalize_guid(&a));
        if let Some(sp) = txt(app, &["servicePrincipalId"]).or_else(|| app_id.clone()) {
            let mut identity = Identity::new(
                format!("azure:{}", normalize_guid(&sp)),
                IdentityKind::ServicePrincipal,
            );
            identity.display_name =
                txt(app, &["displayName"]).or_else(|| txt(app, &["servicePrincipalName"]));
            identity.credential_id = app_id;
            return identity;
        }
    }
    match txt(record, &["identity"]).or_else(|| txt(props, &["identity"])) {
        Some(name) => caller_identity(&name),
        None => platform_identity(category, Some(source)),
    }
}

/// Directory permissions are named `microsoft.directory/<audit category>/<operation type>` in lower case
/// (`microsoft.directory/rolemanagement/update`), after Entra's own role permission names. The category and
/// operation type come from a fixed Microsoft vocabulary, so the name is stable across display-name edits;
/// the exact activity stays in `operation`. Without a type, the activity name takes its place.
fn directory_permission(props: &Value, category: Option<&str>, activity: &str) -> String {
    let audit_category = txt(props, &["category"]).or_else(|| {
        category
            .filter(|c| !c.eq_ignore_ascii_case("AuditLogs"))
            .map(str::to_string)
    });
    let verb = txt(props, &["operationType"]).unwrap_or_else(|| activity.to_string());
    match audit_category {
        Some(c) => format!("microsoft.directory/{c}/{verb}").to_ascii_lowercase(),
        None => format!("microsoft.directory/{verb}").to_ascii_lowercase(),
    }
}

/// Role, PIM, credential, consent, ownership, group-membership and federation/authentication-policy changes
/// grant or change who may do what: permission changes. Otherwise the operation type decides.
fn directory_category(props: &Value, activity: &str, operation: &str) -> ActionCategory {
    const GRANTS: [&str; 14] = [
        "role",
        "credential",
        "secret",
        "certificate",
        "consent",
        "permission grant",
        "owner",
        "elevat",
        "member to group",
        "federation",
        "domain authentication",
        "conditional access",
        "authentication method",
        "pim",
    ];
    let text = format!("{activity} {operation}").to_ascii_lowercase();
    let audit_category = txt(props, &["category"])
        .unwrap_or_default()
        .to_ascii_lowercase();
    if audit_category == "rolemanagement" || GRANTS.iter().any(|g| text.contains(g)) {
        return ActionCategory::PermissionChange;
    }
    match txt(props, &["operationType"])
        .unwrap_or_default()
        .to_ascii_lowercase()
        .as_str()
    {
        "add" | "create" | "update" | "assign" | "set" => ActionCategory::Write,
        "delete" | "remove" | "unassign" => ActionCategory::Delete,
        _ => ActionCategory::Other,
    }
}

fn audit_outcome(record: &Value, props: &Value) -> Outcome {
    let result = first(props, &[&["result"], &["resultType"]])
        .or_else(|| first(record, &[&["result"], &["resultType"]]));
    let status = result
        .as_deref()
        .and_then(status_word)
        .unwrap_or(OutcomeStatus::Unknown);
    let reason = first(props, &[&["resultReason"], &["resultDescription"]]);
    outcome(status, result, reason)
}

fn target_resource(target: &Value) -> Option<Resource> {
    let id = txt(target, &["id"])?;
    Some(Resource {
        id: normalize_guid(&id),
        kind: txt(target, &["type"]),
        name: first(target, &[&["userPrincipalName"], &["displayName"]]),
    })
}

//! Azure records: Activity Log in the diagnostic-settings export and REST schemas, Key Vault audit
//! events, Entra ID sign-ins and audit records.

use serde_json::{Value, json};
use vigil_schemas::Event;

use super::activity::Act;
use super::estate::{Caller, Estate, SimIdentity};
use super::output::{Channel, SimRecord};
use super::render::{fill_template, resource_name, rfc3339_azure};
use super::rng::{self, Stream};
use super::vocab::{Hint, Res};

const PORTAL_APP: &str = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c";
const CLI_APP: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const CONTRIBUTOR_ROLE: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";

pub(crate) fn render(act: &Act, who: &SimIdentity, estate: &Estate, rng: &mut Stream) -> SimRecord {
    if act.login {
        return sign_in(act, who, estate, rng);
    }
    match act.op.hint {
        Hint::AzureKeyVault => key_vault(act, who, estate, rng),
        Hint::EntraAudit => entra_audit(act, who, estate, rng),
        _ => activity(act, who, estate, rng),
    }
}

fn claims(who: &SimIdentity, estate: &Estate, act: &Act) -> Value {
    let tenant = &estate.azure_tenant;
    let mut c = json!({
        "aud": "https://management.core.windows.net/",
        "iss": format!("https://sts.windows.net/{tenant}/"),
        "http://schemas.microsoft.com/identity/claims/tenantid": tenant,
        "ver": "1.0",
    });
    let Some(map) = c.as_object_mut() else {
        return c;
    };
    match &who.principal {
        Caller::AzureUser {
            object_id,
            upn,
            display,
        } => {
            map.insert(
                "http://schemas.microsoft.com/identity/claims/objectidentifier".into(),
                json!(object_id),
            );
            map.insert(
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn".into(),
                json!(upn),
            );
            map.insert("name".into(), json!(display));
            let app = if act.agent.contains("AZURECLI") {
                CLI_APP
            } else {
                PORTAL_APP
            };
            map.insert("appid".into(), json!(app));
            map.insert("idtyp".into(), json!("user"));
            map.insert("ipaddr".into(), json!(act.ip));
            map.insert(
                "http://schemas.microsoft.com/claims/authnmethodsreferences".into(),
                json!(if act.mfa { "pwd,mfa" } else { "pwd" }),
            );
        }
        Caller::AzureServicePrincipal {
            object_id, app_id, ..
        } => {
            map.insert(
                "http://schemas.microsoft.com/identity/claims/objectidentifier".into(),
                json!(object_id),
            );
            map.insert("appid".into(), json!(app_id));
            map.insert("appidacr".into(), json!("2"));
            map.insert("idtyp".into(), json!("app"));
        }
        Caller::AzureManagedIdentity {
            object_id,
            app_id,
            resource_id,
            ..
        } => {
            map.insert(
                "http://schemas.microsoft.com/identity/claims/objectidentifier".into(),
                json!(object_id),
            );
            map.insert("appid".into(), json!(app_id));
            map.insert("appidacr".into(), json!("2"));
            map.insert("idtyp".into(), json!("app"));
            map.insert("xms_mirid".into(), json!(resource_id));
        }
        _ => {}
    }
    c
}

fn object_id(who: &SimIdentity) -> &str {
    match &who.principal {
        Caller::AzureUser { object_id, .. }
        | Caller::AzureServicePrincipal { object_id, .. }
        | Caller::AzureManagedIdentity { object_id, .. } => object_id,
        _ => "",
    }
}

fn principal_type(who: &SimIdentity) -> &'static str {
    match &who.principal {
        Caller::AzureUser { .. } => "User",
        _ => "ServicePrincipal",
    }
}

/// The resource id an ARM operation acts on: `Microsoft.Compute/virtualMachines/start/action` on
/// `vm-1` is `/subscriptions/…/resourceGroups/rg-team/providers/Microsoft.Compute/virtualMachines/vm-1`.
fn arm_resource_id(operation: &str, res: Res, name: &str, sub: &str, team: &str) -> String {
    let parts: Vec<&str> = operation.split('/').collect();
    let namespace = parts.first().copied().unwrap_or("Microsoft.Resources");
    let types_end = match parts.last() {
        Some(&"action") => parts.len().saturating_sub(2),
        _ => parts.len().saturating_sub(1),
    };
    let types = parts.get(1..types_end).unwrap_or(&[]);
    if operation.eq_ignore_ascii_case("Microsoft.Resources/subscriptions/resourceGroups/write") {
        return format!("/subscriptions/{sub}/resourceGroups/rg-{team}");
    }
    let scope = if matches!(res, Res::Subscription) {
        format!("/subscriptions/{sub}")
    } else {
        format!("/subscriptions/{sub}/resourceGroups/rg-{team}")
    };
    let mut id = format!("{scope}/providers/{namespace}");
    for (i, t) in types.iter().enumerate() {
        let segment_name = if i == 0 && !name.is_empty() {
            name.to_string()
        } else if i == 0 {
            format!("{team}-{}", t.to_ascii_lowercase())
        } else {
            format!("{}-1", t.trim_end_matches('s').to_ascii_lowercase())
        };
        id.push_str(&format!("/{t}/{segment_name}"));
    }
    id
}

fn activity(act: &Act, who: &SimIdentity, estate: &Estate, rng: &mut Stream) -> SimRecord {
    let sub = &estate.azure_subscriptions[who.scope];
    let operation = act.op.name;
    let name = resource_name(who, act).replace('/', "-");
    let resource_id = arm_resource_id(operation, act.op.res, &name, sub, who.team);
    let correlation = rng::uuid(rng);
    let role = ("Contributor", CONTRIBUTOR_ROLE);
    let mut authorization = json!({
        "action": operation,
        "scope": resource_id,
        "evidence": {
            "role": role.0,
            "roleAssignmentScope": format!("/subscriptions/{sub}"),
            "roleAssignmentId": rng::hex(&rng::uuid(rng).as_bytes()[..16]),
            "roleDefinitionId": role.1.replace('-', ""),
            "principalId": object_id(who).replace('-', ""),
            "principalType": principal_type(who),
        },
    });
    if act.denied
        && let Some(a) = authorization.as_object_mut()
    {
        a.remove("evidence");
    }
    let mut properties = json!({
        "statusCode": if act.denied { "Forbidden" } else { "OK" },
        "serviceRequestId": rng::uuid(rng),
        "eventCategory": "Administrative",
        "entity": resource_id,
        "message": operation,
        "hierarchy": format!("{}/{sub}", estate.azure_tenant),
    });
    if !act.op.params.is_empty()
        && let Ok(Value::Object(extra)) =
            serde_json::from_str::<Value>(&fill_template(act.op.params, &act.fill))
        && let Some(p) = properties.as_object_mut()
    {
        for (k, v) in extra {
            p.insert(k, v);
        }
    }
    let export = who.scope.is_multiple_of(2);
    if export {
        let record = json!({
            "time": rfc3339_azure(act.time),
            "resourceId": resource_id.to_ascii_uppercase(),
            "operationName": operation.to_ascii_uppercase(),
            "category": "Administrative",
            "resultType": if act.denied { "Failure" } else { "Success" },
            "resultSignature": if act.denied { "Failed.Forbidden" } else { "Succeeded.OK" },
            "durationMs": "412",
            "callerIpAddress": act.ip,
            "correlationId": correlation,
            "identity": {"authorization": authorization, "claims": claims(who, estate, act)},
            "level": if act.denied { "Error" } else { "Information" },
            "location": "global",
            "properties": properties,
        });
        let body = record.to_string();
        return SimRecord {
            time: act.time,
            channel: Channel::AzureActivityExport {
                subscription: sub.clone(),
            },
            event_id: Event::content_hash_id(body.as_bytes()),
            body,
            identity_key: who.key.clone(),
            scenario: act.scenario,
        };
    }
    let event_data_id = rng::uuid(rng);
    let caller = match &who.principal {
        Caller::AzureUser { upn, .. } => upn.clone(),
        Caller::AzureServicePrincipal { app_id, .. }
        | Caller::AzureManagedIdentity { app_id, .. } => app_id.clone(),
        _ => String::new(),
    };
    let (namespace, resource_type) = operation
        .split_once('/')
        .map(|(ns, rest)| (ns, format!("{ns}/{}", rest.split('/').next().unwrap_or(""))))
        .unwrap_or((
            "Microsoft.Resources",
            "Microsoft.Resources/unknown".to_string(),
        ));
    let ticks = act.time.timestamp_micros() * 10 + 621_355_968_000_000_000;
    let status = if act.denied { "Failed" } else { "Succeeded" };
    let record = json!({
        "authorization": authorization,
        "caller": caller,
        "channels": "Operation",
        "claims": claims(who, estate, act),
        "correlationId": correlation,
        "description": "",
        "eventDataId": event_data_id,
        "eventName": {"value": "EndRequest", "localizedValue": "End request"},
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "eventTimestamp": rfc3339_azure(act.time),
        "id": format!("{resource_id}/events/{event_data_id}/ticks/{ticks}"),
        "level": if act.denied { "Error" } else { "Informational" },
        "operationId": rng::uuid(rng),
        "operationName": {"value": operation, "localizedValue": operation},
        "resourceGroupName": format!("rg-{}", who.team),
        "resourceProviderName": {"value": namespace, "localizedValue": namespace},
        "resourceType": {"value": resource_type, "localizedValue": resource_type},
        "resourceId": resource_id,
        "status": {"value": status, "localizedValue": status},
        "subStatus": {"value": if act.denied { "Forbidden" } else { "OK" }, "localizedValue": ""},
        "submissionTimestamp": rfc3339_azure(act.time + chrono::Duration::seconds(9)),
        "subscriptionId": sub,
        "tenantId": estate.azure_tenant,
        "properties": properties,
        "relatedEvents": [],
        "httpRequest": {"clientRequestId": rng::uuid(rng), "clientIpAddress": act.ip, "method": if operation.ends_with("/delete") { "DELETE" } else if operation.ends_with("/write") { "PUT" } else { "POST" }},
    });
    SimRecord {
        time: act.time,
        channel: Channel::AzureActivityRest {
            subscription: sub.clone(),
        },
        body: record.to_string(),
        event_id: event_data_id,
        identity_key: who.key.clone(),
        scenario: act.scenario,
    }
}

fn key_vault(act: &Act, who: &SimIdentity, estate: &Estate, rng: &mut Stream) -> SimRecord {
    let sub = &estate.azure_subscriptions[who.scope];
    let vault = act
        .fill
        .iter()
        .find(|(k, _)| *k == "vault")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| format!("kv-{}-1", who.team));
    let secret = act
        .fill
        .iter()
        .find(|(k, _)| *k == "secret")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| format!("{}-service-{}", who.team, act.target + 1));
    let resource_id = format!(
        "/SUBSCRIPTIONS/{}/RESOURCEGROUPS/RG-{}/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/{}",
        sub.to_ascii_uppercase(),
        who.team.to_ascii_uppercase(),
        vault.to_ascii_uppercase()
    );
    let object = if act.op.name.starts_with("Key") {
        "keys"
    } else {
        "secrets"
    };
    let path = if act.op.name.ends_with("List") {
        format!("https://{vault}.vault.azure.net/{object}")
    } else {
        format!(
            "https://{vault}.vault.azure.net/{object}/{secret}/{}",
            rng::hex(&rng::uuid(rng).as_bytes()[..16])
        )
    };
    let mut claim = claims(who, estate, act);
    if let Some(map) = claim.as_object_mut() {
        map.remove("aud");
        map.remove("iss");
    }
    let record = json!({
        "time": rfc3339_azure(act.time),
        "category": "AuditEvent",
        "operationName": act.op.name,
        "operationVersion": "7.4",
        "resultType": if act.denied { "Failure" } else { "Success" },
        "resultSignature": if act.denied { "Forbidden" } else { "OK" },
        "resultDescription": "",
        "durationMs": "11",
        "callerIpAddress": act.ip,
        "correlationId": rng::uuid(rng),
        "identity": {"claim": claim},
        "properties": {
            "id": path,
            "clientInfo": act.agent,
            "requestUri": format!("{path}?api-version=7.4"),
            "httpStatusCode": if act.denied { 403 } else { 200 },
            "isAccessPolicyMatch": !act.denied,
            "tlsVersion": "TLS1.3",
        },
        "resourceId": resource_id,
        "tenantId": estate.azure_tenant,
        "location": who.region,
    });
    let body = record.to_string();
    SimRecord {
        time: act.time,
        channel: Channel::KeyVault {
            subscription: sub.clone(),
            vault,
        },
        event_id: Event::content_hash_id(body.as_bytes()),
        body,
        identity_key: who.key.clone(),
        scenario: act.scenario,
    }
}

fn sign_in(act: &Act, who: &SimIdentity, estate: &Estate, rng: &mut Stream) -> SimRecord {
    let tenant = &estate.azure_tenant;
    let id = rng::uuid(rng);
    let correlation = rng::uuid(rng);
    let time = rfc3339_azure(act.time);
    let status = if act.denied {
        json!({"errorCode": 50126, "failureReason": "Error validating credentials due to invalid username or password."})
    } else {
        json!({"errorCode": 0})
    };
    let (category, properties) = match &who.principal {
        Caller::AzureUser {
            object_id,
            upn,
            display,
        } => {
            let cli = act.agent.contains("AZURECLI");
            (
                "SignInLogs",
                json!({
                    "id": id,
                    "createdDateTime": time,
                    "userDisplayName": display,
                    "userPrincipalName": upn,
                    "userId": object_id,
                    "appId": if cli { CLI_APP } else { PORTAL_APP },
                    "appDisplayName": if cli { "Microsoft Azure CLI" } else { "Azure Portal" },
                    "ipAddress": act.ip,
                    "status": status,
                    "clientAppUsed": if cli { "Mobile Apps and Desktop clients" } else { "Browser" },
                    "userAgent": act.agent,
                    "correlationId": correlation,
                    "conditionalAccessStatus": "success",
                    "isInteractive": true,
                    "authenticationRequirement": if act.mfa { "multiFactorAuthentication" } else { "singleFactorAuthentication" },
                    "resourceDisplayName": "Windows Azure Service Management API",
                    "resourceId": "797f4846-ba00-4fd7-ba43-dac1f8f63013",
                    "riskLevelDuringSignIn": "none",
                    "riskState": "none",
                    "userType": "Member",
                }),
            )
        }
        Caller::AzureServicePrincipal {
            object_id,
            app_id,
            display,
        } => (
            "ServicePrincipalSignInLogs",
            json!({
                "id": id,
                "createdDateTime": time,
                "appId": app_id,
                "appDisplayName": display,
                "servicePrincipalId": object_id,
                "servicePrincipalName": display,
                "ipAddress": act.ip,
                "status": status,
                "correlationId": correlation,
                "resourceDisplayName": "Windows Azure Service Management API",
                "resourceId": "797f4846-ba00-4fd7-ba43-dac1f8f63013",
                "clientCredentialType": "federatedIdentityCredential",
            }),
        ),
        Caller::AzureManagedIdentity {
            object_id,
            app_id,
            display,
            resource_id,
        } => (
            "ManagedIdentitySignInLogs",
            json!({
                "id": id,
                "createdDateTime": time,
                "appId": app_id,
                "appDisplayName": display,
                "servicePrincipalId": object_id,
                "servicePrincipalName": display,
                "ipAddress": act.ip,
                "status": status,
                "correlationId": correlation,
                "resourceDisplayName": "Azure Key Vault",
                "managedIdentityType": "SystemAssigned",
                "azureResourceId": resource_id,
            }),
        ),
        _ => ("SignInLogs", json!({})),
    };
    let record = json!({
        "time": time,
        "resourceId": format!("/tenants/{tenant}/providers/Microsoft.aadiam"),
        "operationName": "Sign-in activity",
        "operationVersion": "1.0",
        "category": category,
        "tenantId": tenant,
        "resultType": if act.denied { "50126" } else { "0" },
        "resultSignature": "None",
        "durationMs": 0,
        "callerIpAddress": act.ip,
        "correlationId": correlation,
        "Level": 4,
        "properties": properties,
    });
    SimRecord {
        time: act.time,
        channel: Channel::EntraSignIn {
            tenant: tenant.clone(),
        },
        body: record.to_string(),
        event_id: id,
        identity_key: who.key.clone(),
        scenario: act.scenario,
    }
}

fn entra_audit(act: &Act, who: &SimIdentity, estate: &Estate, rng: &mut Stream) -> SimRecord {
    let tenant = &estate.azure_tenant;
    let id = format!(
        "Directory_{}_{}",
        rng::uuid(rng),
        rng::token(rng, rng::UPPER_ALNUM, 5)
    );
    let correlation = rng::uuid(rng);
    let time = rfc3339_azure(act.time);
    let initiated_by = match &who.principal {
        Caller::AzureUser { object_id, upn, .. } => {
            json!({"user": {"id": object_id, "displayName": null, "userPrincipalName": upn, "ipAddress": act.ip, "roles": []}})
        }
        Caller::AzureServicePrincipal {
            object_id,
            app_id,
            display,
        }
        | Caller::AzureManagedIdentity {
            object_id,
            app_id,
            display,
            ..
        } => {
            json!({"app": {"appId": app_id, "displayName": display, "servicePrincipalId": object_id, "servicePrincipalName": null}})
        }
        _ => json!({}),
    };
    let target_name = resource_name(who, act);
    let targets = if act.op.params.is_empty() {
        json!([{"id": rng::uuid(rng), "displayName": target_name, "type": "ServicePrincipal", "modifiedProperties": []}])
    } else {
        serde_json::from_str(&fill_template(act.op.params, &act.fill)).unwrap_or_else(|_| json!([]))
    };
    let record = json!({
        "time": time,
        "resourceId": format!("/tenants/{tenant}/providers/Microsoft.aadiam"),
        "operationName": act.op.name,
        "operationVersion": "1.0",
        "category": "AuditLogs",
        "tenantId": tenant,
        "resultSignature": "None",
        "durationMs": 0,
        "callerIpAddress": act.ip,
        "correlationId": correlation,
        "Level": 4,
        "properties": {
            "id": id,
            "category": act.op.service,
            "correlationId": correlation,
            "result": if act.denied { "failure" } else { "success" },
            "resultReason": "",
            "activityDisplayName": act.op.name,
            "activityDateTime": time,
            "loggedByService": "Core Directory",
            "operationType": if act.op.name.starts_with("Add") { "Add" } else { "Update" },
            "initiatedBy": initiated_by,
            "targetResources": targets,
            "additionalDetails": [{"key": "User-Agent", "value": act.agent}],
        },
    });
    SimRecord {
        time: act.time,
        channel: Channel::EntraAudit {
            tenant: tenant.clone(),
        },
        body: record.to_string(),
        event_id: id,
        identity_key: who.key.clone(),
        scenario: act.scenario,
    }
}

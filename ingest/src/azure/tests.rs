use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use vigil_schemas::{
    ActionCategory, ChainRelation, Event, EventClass, IdentityKind, OutcomeStatus,
};

use super::{classify, normalize};
use crate::record::{RecordContext, RecordError};

fn ctx() -> RecordContext<'static> {
    RecordContext {
        source: "test",
        byte_offset: 0,
        record_index: 0,
        envelope: None,
        ingest_time: Utc
            .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default(),
        raw: None,
    }
}

fn run(record: &Value) -> Result<Event, RecordError> {
    let format =
        classify(record).ok_or_else(|| RecordError::not_an_event("not classified as Azure"))?;
    normalize(record, format, &ctx())
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------------------
// Classification.

#[test]
fn classifies_each_shape_and_refuses_other_clouds() {
    let cases = [
        (
            json!({"eventTimestamp": "2018-01-29T20:42:31Z", "operationName": {"value": "Microsoft.Compute/disks/write"}}),
            Some("azure_activity_rest"),
        ),
        (
            json!({"time": "2024-01-01T00:00:00Z", "operationName": "Microsoft.Compute/disks/write", "category": "Administrative"}),
            Some("azure_activity"),
        ),
        (
            json!({"time": "2024-01-01T00:00:00Z", "category": "SignInLogs", "properties": {}}),
            Some("entra_signin"),
        ),
        (
            json!({"time": "2024-01-01T00:00:00Z", "category": "ManagedIdentitySignInLogs"}),
            Some("entra_signin"),
        ),
        (
            json!({"time": "2024-01-01T00:00:00Z", "category": "AuditLogs", "operationName": "Add user"}),
            Some("entra_audit"),
        ),
        (
            json!({"category": "kube-audit-admin", "properties": {"log": "{}"}}),
            Some("aks_audit"),
        ),
        (
            json!({"time": "2024-01-01T00:00:00Z", "category": "StorageRead", "operationName": "GetBlob"}),
            Some("azure_resource_log"),
        ),
        (
            json!({"time": "2024-01-01T00:00:00Z", "category": "AuditEvent", "operationName": "SecretGet"}),
            Some("azure_resource_log"),
        ),
        (
            json!({"eventVersion": "1.08", "eventSource": "iam.amazonaws.com", "eventTime": "2024-01-01T00:00:00Z"}),
            None,
        ),
        (
            json!({"protoPayload": {"methodName": "x"}, "timestamp": "2024-01-01T00:00:00Z", "resource": {}}),
            None,
        ),
        (json!({"hello": "world"}), None),
        (json!(["not", "an", "object"]), None),
    ];
    for (record, want) in cases {
        assert_eq!(classify(&record), want, "{record}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Activity Log, REST schema.

#[test]
fn rest_record_with_user_claims_through_an_app() -> Result<(), RecordError> {
    let record = json!({
        "authorization": {"action": "Microsoft.Authorization/roleAssignments/write", "scope": "/subscriptions/AAAA1111-0000-0000-0000-000000000000"},
        "caller": "rob@contoso.com",
        "claims": {
            "http://schemas.microsoft.com/identity/claims/objectidentifier": "F409EDEB-4D29-44B5-9763-EE9348AD91BB",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "rob@contoso.com",
            "http://schemas.microsoft.com/claims/authnmethodsreferences": "rsa,mfa",
            "http://schemas.microsoft.com/identity/claims/tenantid": "TTTT0000-0000-0000-0000-000000000000",
            "appid": "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
            "name": "Rob Robertson"
        },
        "eventDataId": "44ade6b4-3813-45e6-ae27-7420a95fa2f8",
        "eventTimestamp": "2018-01-29T20:42:31.3810679Z",
        "httpRequest": {"clientIpAddress": "192.0.2.7", "method": "PUT"},
        "operationName": {"value": "Microsoft.Authorization/roleAssignments/write", "localizedValue": "Create role assignment"},
        "resourceId": "/subscriptions/AAAA1111-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleAssignments/ra1",
        "status": {"value": "Succeeded"},
        "subscriptionId": "AAAA1111-0000-0000-0000-000000000000",
        "category": {"value": "Administrative"}
    });
    assert_eq!(classify(&record), Some("azure_activity_rest"));
    let e = run(&record)?;
    assert_eq!(e.event_id, "44ade6b4-3813-45e6-ae27-7420a95fa2f8");
    assert_eq!(e.event_time, utc("2018-01-29T20:42:31.381067Z"));
    assert_eq!(e.class, EventClass::ApiActivity);
    assert_eq!(e.identity.key, "azure:f409edeb-4d29-44b5-9763-ee9348ad91bb");
    assert_eq!(e.identity.kind, IdentityKind::HumanUser);
    assert_eq!(e.identity.display_name.as_deref(), Some("rob@contoso.com"));
    assert_eq!(e.identity.mfa, Some(true));
    assert_eq!(e.identity.chain.len(), 1);
    assert_eq!(e.identity.chain[0].relation, ChainRelation::DelegatedBy);
    assert_eq!(
        e.identity.chain[0].principal,
        "azure-app:c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
    );
    assert_eq!(e.action.service, "Microsoft.Authorization");
    assert_eq!(
        e.action.operation,
        "Microsoft.Authorization/roleAssignments/write"
    );
    assert_eq!(
        e.action.permission,
        "Microsoft.Authorization/roleAssignments/write"
    );
    assert_eq!(e.action.category, ActionCategory::PermissionChange);
    assert_eq!(
        e.account_id.as_deref(),
        Some("aaaa1111-0000-0000-0000-000000000000")
    );
    assert_eq!(
        e.tenant_id.as_deref(),
        Some("tttt0000-0000-0000-0000-000000000000")
    );
    assert_eq!(
        e.source.ip.map(|i| i.to_string()).as_deref(),
        Some("192.0.2.7")
    );
    assert_eq!(e.outcome.status, OutcomeStatus::Success);
    assert_eq!(
        e.resources[0].kind.as_deref(),
        Some("Microsoft.Authorization/roleAssignments")
    );
    assert_eq!(e.resources[0].name.as_deref(), Some("ra1"));
    assert_eq!(e.raw_ref.format, "azure_activity_rest");
    Ok(())
}

#[test]
fn rest_record_with_caller_only_and_snake_case_keys() -> Result<(), RecordError> {
    // Python SDK dumps (plaso) write every key in snake_case.
    let spn = json!({
        "caller": "33A68B9D-63CE-484C-A97E-94AEF4C89648",
        "event_data_id": "587eda65-125e-48c2-9b04-ab5e8d3a1d8e",
        "event_timestamp": "2022-02-09T03:04:54.297853Z",
        "operation_name": {"value": "Microsoft.Compute/disks/delete", "localized_value": "Delete disk"},
        "http_request": {"client_ip_address": "1.2.3.4"},
        "resource_id": "/subscriptions/s1/resourceGroups/RG/providers/Microsoft.Compute/disks/d1",
        "status": {"value": "Failed"},
        "sub_status": {"value": "Conflict"}
    });
    let e = run(&spn)?;
    assert_eq!(e.identity.key, "azure:33a68b9d-63ce-484c-a97e-94aef4c89648");
    assert_eq!(e.identity.kind, IdentityKind::ServicePrincipal);
    assert_eq!(e.event_id, "587eda65-125e-48c2-9b04-ab5e8d3a1d8e");
    assert_eq!(e.action.category, ActionCategory::Delete);
    assert_eq!(e.source.raw.as_deref(), Some("1.2.3.4"));
    assert_eq!(e.outcome.status, OutcomeStatus::Failure);
    assert_eq!(e.outcome.error_code.as_deref(), Some("Conflict"));
    assert_eq!(e.account_id.as_deref(), Some("s1"));

    // An alert fired by the platform: the caller is a resource provider.
    let alert = json!({
        "caller": "Microsoft.Insights/alertRules",
        "claims": {"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/spn": "Microsoft.Insights/alertRules"},
        "eventTimestamp": "2017-07-21T09:24:13.522192Z",
        "operationName": {"value": "Microsoft.Insights/AlertRules/Resolved/Action"},
        "status": {"value": "Resolved"}
    });
    let e = run(&alert)?;
    assert_eq!(e.identity.key, "azure:microsoft.insights/alertrules");
    assert_eq!(e.identity.kind, IdentityKind::ProviderService);
    assert_eq!(e.action.category, ActionCategory::Other);
    assert_eq!(e.outcome.status, OutcomeStatus::Unknown);
    assert!(e.event_id.starts_with("sha256:"));
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Activity Log, diagnostic-settings schema.

fn diag(identity: Option<Value>) -> Value {
    let mut record = json!({
        "time": "2019-10-24T00:13:46.3554259Z",
        "resourceId": "/SUBSCRIPTIONS/8A4DE8B5-095C-47D0-A96F-A75130C61D53/RESOURCEGROUPS/SA-HEMA/PROVIDERS/MICROSOFT.EVENTHUB/NAMESPACES/NS1/AUTHORIZATIONRULES/ROOTMANAGESHAREDACCESSKEY",
        "operationName": "MICROSOFT.EVENTHUB/NAMESPACES/AUTHORIZATIONRULES/LISTKEYS/ACTION",
        "category": "Action",
        "resultType": "Start",
        "resultSignature": "Started.",
        "callerIpAddress": "81.2.69.144",
        "level": "Information",
        "location": "global"
    });
    if let (Some(obj), Some(identity)) = (record.as_object_mut(), identity) {
        obj.insert("identity".into(), identity);
    }
    record
}

#[test]
fn upper_case_export_gets_a_stable_permission() -> Result<(), RecordError> {
    let e = run(&diag(None))?;
    assert_eq!(e.raw_ref.format, "azure_activity");
    assert_eq!(
        e.action.operation,
        "MICROSOFT.EVENTHUB/NAMESPACES/AUTHORIZATIONRULES/LISTKEYS/ACTION"
    );
    assert_eq!(
        e.action.permission,
        "Microsoft.EventHub/namespaces/authorizationrules/listkeys/action"
    );
    assert_eq!(e.action.service, "Microsoft.EventHub");
    // listKeys returns secrets: a read.
    assert_eq!(e.action.category, ActionCategory::Read);
    assert_eq!(
        e.outcome.status,
        OutcomeStatus::Success,
        "Start is the accepted half of a long-running operation"
    );
    assert_eq!(
        e.account_id.as_deref(),
        Some("8a4de8b5-095c-47d0-a96f-a75130c61d53")
    );
    assert_eq!(e.region.as_deref(), Some("global"));
    let resource = &e.resources[0];
    assert_eq!(
        resource.kind.as_deref(),
        Some("Microsoft.EventHub/namespaces/authorizationrules")
    );
    assert_eq!(resource.name.as_deref(), Some("ROOTMANAGESHAREDACCESSKEY"));
    assert!(resource.id.starts_with("/subscriptions/8a4de8b5"));
    Ok(())
}

#[test]
fn diagnostic_identity_as_object_string_empty_or_absent() -> Result<(), RecordError> {
    // Claims of a service principal: object id is the key, application id the credential.
    let spn = diag(Some(json!({"claims": {
        "appid": "11112222-bbbb-3333-cccc-4444dddd5555",
        "http://schemas.microsoft.com/identity/claims/objectidentifier": "8a4de8b5-095c-47d0-a96f-a75130c61d53",
        "http://schemas.microsoft.com/identity/claims/tenantid": "ffffffff-eeee-dddd-cccc-bbbbbbbbbbb0"
    }})));
    let e = run(&spn)?;
    assert_eq!(e.identity.key, "azure:8a4de8b5-095c-47d0-a96f-a75130c61d53");
    assert_eq!(e.identity.kind, IdentityKind::ServicePrincipal);
    assert_eq!(
        e.identity.credential_id.as_deref(),
        Some("11112222-bbbb-3333-cccc-4444dddd5555")
    );
    assert!(e.identity.chain.is_empty());
    assert_eq!(e.identity.mfa, None);
    assert_eq!(
        e.tenant_id.as_deref(),
        Some("ffffffff-eeee-dddd-cccc-bbbbbbbbbbb0")
    );

    // A managed identity token.
    let mi = diag(Some(json!({"claims": {
        "appid": "22223333-bbbb-3333-cccc-4444dddd5555",
        "idtyp": "app",
        "oid": "99990000-0000-0000-0000-000000000001",
        "xms_mirid": "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/deployer"
    }})));
    let e = run(&mi)?;
    assert_eq!(e.identity.key, "azure:99990000-0000-0000-0000-000000000001");
    assert_eq!(e.identity.kind, IdentityKind::ManagedIdentity);
    assert_eq!(e.identity.display_name.as_deref(), Some("deployer"));

    // A user without MFA.
    let user = diag(Some(json!({"claims": {
        "http://schemas.microsoft.com/identity/claims/objectidentifier": "123abc45-8211-44e3-95aa-85137af64708",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "admin@contoso.com",
        "http://schemas.microsoft.com/claims/authnmethodsreferences": "pwd"
    }})));
    let e = run(&user)?;
    assert_eq!(e.identity.kind, IdentityKind::HumanUser);
    assert_eq!(e.identity.mfa, Some(false));
    assert!(e.identity.chain.is_empty());

    // Claims without an object id: the user name is the caller.
    let upn_only = diag(Some(
        json!({"claims": {"name": "attacker@example.com", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "Attacker@Example.com"}}),
    ));
    let e = run(&upn_only)?;
    assert_eq!(e.identity.key, "azure:attacker@example.com");
    assert_eq!(e.identity.kind, IdentityKind::HumanUser);

    // `identity` as a string.
    let e = run(&diag(Some(json!("Alice@Contoso.com"))))?;
    assert_eq!(e.identity.key, "azure:alice@contoso.com");
    assert_eq!(e.identity.kind, IdentityKind::HumanUser);

    // Role-assignment evidence only (object id written without dashes).
    let evidence = diag(Some(
        json!({"authorization": {"evidence": {"principalId": "6B6D44F0B13A46A0BFDE161324D4C34D", "principalType": "User"}}}),
    ));
    let e = run(&evidence)?;
    assert_eq!(e.identity.key, "azure:6b6d44f0-b13a-46a0-bfde-161324d4c34d");
    assert_eq!(e.identity.kind, IdentityKind::HumanUser);

    // `{}` and absent: nothing identifies the caller; the client address says it was not the platform.
    for identity in [Some(json!({})), None] {
        let e = run(&diag(identity))?;
        assert_eq!(e.identity.key, "azure-platform:action");
        assert_eq!(e.identity.kind, IdentityKind::Unknown);
    }
    Ok(())
}

#[test]
fn platform_events_and_trimmed_records() -> Result<(), RecordError> {
    let health = json!({
        "category": "ResourceHealth", "level": "Information",
        "operationName": "Microsoft.Resourcehealth/healthevent/Updated/action",
        "resourceId": "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.domainRegistration",
        "resultType": "Updated", "time": "2021-05-25T22:04:07.22Z"
    });
    let e = run(&health)?;
    assert_eq!(e.identity.key, "azure-platform:resourcehealth");
    assert_eq!(e.identity.kind, IdentityKind::ProviderService);
    assert_eq!(e.action.service, "Microsoft.ResourceHealth");
    assert_eq!(e.outcome.status, OutcomeStatus::Unknown);
    assert_eq!(
        e.resources[0].kind.as_deref(),
        Some("Microsoft.DomainRegistration")
    );

    // Time and category only: kept, with an explicit unknown operation.
    let bare = json!({"time": "1/9/2007 10:41:00 AM +01:00", "category": "Administrative"});
    let e = run(&bare)?;
    assert_eq!(e.event_time, utc("2007-01-09T09:41:00Z"));
    assert_eq!(e.action.operation, "unknown");
    assert_eq!(e.action.category, ActionCategory::Other);

    assert!(!e.event_time_estimated);

    // No time at all: the ingest time, flagged estimated.
    let no_time = json!({"category": "Administrative", "operationName": "Microsoft.Compute/virtualMachines/write", "resourceId": "/subscriptions/s"});
    let e = run(&no_time)?;
    assert!(e.event_time_estimated);
    assert_eq!(e.event_time, ctx().ingest_time);
    assert_eq!(e.action.category, ActionCategory::Write);
    Ok(())
}

#[test]
fn time_formats() -> Result<(), RecordError> {
    let cases = [
        ("01/09/2007 09:41:00", "2007-01-09T09:41:00Z"),
        ("1/9/2007 9:41:00 AM", "2007-01-09T09:41:00Z"),
        ("1/9/2007 9:41:00 PM", "2007-01-09T21:41:00Z"),
        ("2007-01-09T09:41:00", "2007-01-09T09:41:00Z"),
        (
            "2007-01-09T09:41:00.535404056Z",
            "2007-01-09T09:41:00.535404Z",
        ),
        ("2007-01-09T11:41:00+02:00", "2007-01-09T09:41:00Z"),
        (
            "2023-07-26 22:58:30.983201900",
            "2023-07-26T22:58:30.983201Z",
        ),
    ];
    for (raw, want) in cases {
        let e = run(
            &json!({"time": raw, "category": "Administrative", "operationName": "Microsoft.Web/sites/read"}),
        )?;
        assert_eq!(e.event_time, utc(want), "{raw}");
    }
    let bad = json!({"time": "yesterday", "category": "Administrative", "operationName": "Microsoft.Web/sites/read"});
    assert_eq!(
        run(&bad).err().map(|e| e.kind),
        Some("bad_value"),
        "an unreadable time is refused, not re-timed"
    );
    Ok(())
}

#[test]
fn operation_categories() {
    use super::activity::arm_category;
    let cases = [
        (
            "Microsoft.Compute/virtualMachines/read",
            ActionCategory::Read,
        ),
        (
            "Microsoft.Compute/virtualMachines/write",
            ActionCategory::Write,
        ),
        ("microsoft.compute/snapshots/delete", ActionCategory::Delete),
        (
            "Microsoft.Authorization/roleAssignments/delete",
            ActionCategory::PermissionChange,
        ),
        (
            "Microsoft.Authorization/locks/write",
            ActionCategory::PermissionChange,
        ),
        (
            "Microsoft.Authorization/elevateAccess/action",
            ActionCategory::PermissionChange,
        ),
        (
            "Microsoft.Authorization/policies/audit/action",
            ActionCategory::Other,
        ),
        (
            "Microsoft.ContainerService/managedClusters/rbac.authorization.k8s.io/clusterrolebindings/write",
            ActionCategory::PermissionChange,
        ),
        (
            "Microsoft.Storage/storageAccounts/listkeys/action",
            ActionCategory::Read,
        ),
        (
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            ActionCategory::Read,
        ),
        (
            "Microsoft.Compute/disks/beginGetAccess/action",
            ActionCategory::Read,
        ),
        (
            "Microsoft.Compute/virtualMachines/runCommand/action",
            ActionCategory::Other,
        ),
    ];
    for (op, want) in cases {
        assert_eq!(arm_category(op), want, "{op}");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Entra ID.

#[test]
fn user_signin_success_with_mfa_and_lower_cased_keys() -> Result<(), RecordError> {
    let record = json!({
        "calleripaddress": "81.2.69.143", "category": "NonInteractiveUserSignInLogs", "identity": "Michell Lan",
        "operationname": "Sign-in activity", "resulttype": 0, "tenantid": "C7F1E3CE-BA66-40A7-91BD-9594B36223FC",
        "time": "2022-03-22T10:48:48.8558814Z", "location": "GB",
        "properties": {
            "appId": "d3590ed6-52b3-4102-aeff-aad2292ab01c", "appDisplayName": "Microsoft Office",
            "authenticationRequirement": "multiFactorAuthentication", "id": "29dcc432-5e8a-4659-9f03-6ede18400300",
            "ipAddress": "2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6", "resourceDisplayName": "Microsoft Graph",
            "resourceId": "00000003-0000-0000-c000-000000000000", "status": {"errorCode": 0},
            "userAgent": "Mozilla/5.0", "userId": "BC9C1BEE-4C9B-499F-BBBB-11EC68546D75", "userPrincipalName": "michell@zzzz.com"
        }
    });
    let e = run(&record)?;
    assert_eq!(e.raw_ref.format, "entra_signin");
    assert_eq!(e.class, EventClass::Authentication);
    assert_eq!(e.event_id, "29dcc432-5e8a-4659-9f03-6ede18400300");
    assert_eq!(e.identity.key, "azure:bc9c1bee-4c9b-499f-bbbb-11ec68546d75");
    assert_eq!(e.identity.kind, IdentityKind::HumanUser);
    assert_eq!(e.identity.display_name.as_deref(), Some("michell@zzzz.com"));
    assert_eq!(e.identity.mfa, Some(true));
    assert_eq!(
        e.identity.chain[0].principal,
        "azure-app:d3590ed6-52b3-4102-aeff-aad2292ab01c"
    );
    assert_eq!(e.action.category, ActionCategory::Login);
    assert_eq!(e.action.service, "Microsoft.aadiam");
    assert_eq!(e.action.operation, "Sign-in activity");
    assert_eq!(
        e.source.ip.map(|i| i.to_string()).as_deref(),
        Some("2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6")
    );
    assert_eq!(
        e.tenant_id.as_deref(),
        Some("c7f1e3ce-ba66-40a7-91bd-9594b36223fc")
    );
    assert_eq!(e.region, None);
    assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0"));
    assert_eq!(e.outcome.status, OutcomeStatus::Success);
    assert_eq!(e.resources[0].name.as_deref(), Some("Microsoft Graph"));
    Ok(())
}

#[test]
fn failed_signins() -> Result<(), RecordError> {
    let locked = json!({
        "time": "2025-01-15 08:15:23.456", "category": "SignInLogs", "resultType": "Failure", "operationName": "Sign-in activity",
        "properties": {"userPrincipalName": "Boromir@lotr.com", "authenticationRequirement": "singleFactorAuthentication",
            "status": {"errorCode": 50053, "failureReason": "The account is locked"}}
    });
    let e = run(&locked)?;
    assert_eq!(
        e.identity.key, "azure:boromir@lotr.com",
        "no userId: the UPN, lower-cased"
    );
    assert_eq!(e.identity.mfa, Some(false));
    assert_eq!(e.outcome.status, OutcomeStatus::Failure);
    assert_eq!(e.outcome.error_code.as_deref(), Some("50053"));
    assert_eq!(
        e.outcome.error_message.as_deref(),
        Some("The account is locked")
    );

    // No status object: resultType carries the code.
    let by_result_type = json!({"time": "2025-01-15T15:05:50Z", "category": "SignInLogs", "resultType": "50126",
        "properties": {"userId": "u-1"}});
    let e = run(&by_result_type)?;
    assert_eq!(e.outcome.status, OutcomeStatus::Failure);
    assert_eq!(e.outcome.error_code.as_deref(), Some("50126"));
    Ok(())
}

#[test]
fn service_principal_and_managed_identity_signins() -> Result<(), RecordError> {
    let spn = json!({
        "time": "2022-02-08T06:22:28.3518405Z", "category": "ServicePrincipalSignInLogs", "operationName": "Sign-in activity",
        "resultType": "0", "callerIpAddress": "1.128.3.4",
        "properties": {"appId": "6131d760-7fda-4db5-8bb1-b771898e9f15", "servicePrincipalId": "b029d485-a308-4311-8720-fb3192e5284e",
            "servicePrincipalName": "Terraform", "servicePrincipalCredentialKeyId": "dbcd79c0-c3ea-46b9-9604-ff40d43b8618",
            "userId": null, "status": {"errorCode": 7000215}}
    });
    let e = run(&spn)?;
    assert_eq!(e.identity.key, "azure:b029d485-a308-4311-8720-fb3192e5284e");
    assert_eq!(e.identity.kind, IdentityKind::ServicePrincipal);
    assert_eq!(e.identity.display_name.as_deref(), Some("Terraform"));
    assert_eq!(
        e.identity.credential_id.as_deref(),
        Some("dbcd79c0-c3ea-46b9-9604-ff40d43b8618")
    );
    assert!(e.identity.chain.is_empty());
    assert_eq!(e.source.raw.as_deref(), Some("1.128.3.4"));
    assert_eq!(e.outcome.status, OutcomeStatus::Failure);
    assert_eq!(e.outcome.error_code.as_deref(), Some("7000215"));

    let mi = json!({
        "time": "2022-01-24T04:59:49.2279838Z", "category": "ManagedIdentitySignInLogs", "resultType": "0",
        "properties": {"appId": "b3b975ac-995b-426e-8b5d-363a165df41c", "servicePrincipalId": "9d370547-cb61-4753-be23-68534909af90",
            "ipAddress": "", "status": {"errorCode": 0}}
    });
    let e = run(&mi)?;
    assert_eq!(e.identity.kind, IdentityKind::ManagedIdentity);
    assert_eq!(
        e.identity.credential_id.as_deref(),
        Some("b3b975ac-995b-426e-8b5d-363a165df41c")
    );
    assert_eq!(e.source.raw, None);
    assert_eq!(e.outcome.status, OutcomeStatus::Success);
    Ok(())
}

#[test]
fn directory_audit_records() -> Result<(), RecordError> {
    let pim = json!({
        "category": "AuditLogs", "identity": "Ju Cho", "operationName": "Add member to role in PIM completed (permanent)",
        "time": "2024-12-16 16:32:16.087554000", "tenantId": "T1", "resourceId": "/tenants/t1/providers/Microsoft.aadiam",
        "properties": {
            "activityDisplayName": "Add member to role in PIM completed (permanent)", "category": "RoleManagement",
            "id": "PIM_123415", "operationType": "Update", "result": "success",
            "initiatedBy": {"user": {"id": "0F3C1E2A-0000-4000-8000-000000000001", "userPrincipalName": "radahn@starscourge.onmicrosoft.com", "ipAddress": "1.2.3.4"}},
            "targetResources": [{"displayName": "Application Administrator", "id": "role-1", "type": "Role"},
                                {"displayName": "Malenia", "id": "user-2", "type": "User"}]
        }
    });
    let e = run(&pim)?;
    assert_eq!(e.raw_ref.format, "entra_audit");
    assert_eq!(e.identity.key, "azure:0f3c1e2a-0000-4000-8000-000000000001");
    assert_eq!(e.identity.kind, IdentityKind::HumanUser);
    assert_eq!(
        e.identity.display_name.as_deref(),
        Some("radahn@starscourge.onmicrosoft.com")
    );
    assert_eq!(e.action.service, "Microsoft.aadiam");
    assert_eq!(
        e.action.permission,
        "microsoft.directory/rolemanagement/update"
    );
    assert_eq!(e.action.category, ActionCategory::PermissionChange);
    assert_eq!(e.source.raw.as_deref(), Some("1.2.3.4"));
    assert_eq!(e.outcome.status, OutcomeStatus::Success);
    assert_eq!(e.resources.len(), 2);
    assert_eq!(e.resources[1].kind.as_deref(), Some("User"));
    assert!(
        e.event_id.starts_with("sha256:"),
        "a hand-written id is not trusted as unique"
    );
    assert_eq!(e.tenant_id.as_deref(), Some("t1"));

    let by_app = json!({
        "category": "AuditLogs", "identity": "Device Registration Service", "operationName": "Update device",
        "time": "2019-10-18T15:30:51.0273716Z",
        "properties": {"activityDisplayName": "Update device", "category": "Device", "operationType": "Update", "result": "failure",
            "resultReason": "quota", "initiatedBy": {"app": {"appId": "app-1", "displayName": "Device Registration Service",
            "servicePrincipalId": "8a4de8b5-095c-47d0-a96f-a75130c61d53"}}}
    });
    let e = run(&by_app)?;
    assert_eq!(e.identity.key, "azure:8a4de8b5-095c-47d0-a96f-a75130c61d53");
    assert_eq!(e.identity.kind, IdentityKind::ServicePrincipal);
    assert_eq!(e.identity.credential_id.as_deref(), Some("app-1"));
    assert_eq!(e.action.permission, "microsoft.directory/device/update");
    assert_eq!(e.action.category, ActionCategory::Write);
    assert_eq!(e.outcome.status, OutcomeStatus::Failure);
    assert_eq!(e.outcome.error_message.as_deref(), Some("quota"));

    let elevate = json!({
        "time": "2025-01-15 08:45:30.123", "category": "AuditLogs", "resourceId": "/subscriptions/sub-123/providers/Microsoft.Authorization",
        "operationName": "User has elevated their access to User Access Administrator for their Azure Resources", "result": "SUCCESS",
        "properties": {"operationType": "Assign", "initiatedBy": {"user": {"id": "user-admin-789", "userPrincipalName": "denethor@lotr.com"}},
            "additionalDetails": [{"key": "Action", "value": "Microsoft.Authorization/elevateAccess/action"}]}
    });
    let e = run(&elevate)?;
    assert_eq!(e.action.service, "Microsoft.Authorization");
    assert_eq!(
        e.action.permission,
        "Microsoft.Authorization/elevateAccess/action"
    );
    assert_eq!(e.action.category, ActionCategory::PermissionChange);
    assert_eq!(e.account_id.as_deref(), Some("sub-123"));
    assert_eq!(e.outcome.status, OutcomeStatus::Success);

    let credentials = json!({"time": "2025-01-15T09:30:20Z", "category": "ApplicationManagement",
        "operationName": "Add service principal credentials",
        "properties": {"activityDisplayName": "Add service principal credentials", "operationType": "Update", "result": "success",
            "initiatedBy": {"user": {"id": "admin-123"}}}});
    assert_eq!(
        run(&credentials)?.action.category,
        ActionCategory::PermissionChange
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// AKS and resource logs.

fn kube(log: Value) -> Value {
    json!({"category": "kube-audit", "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
        "resourceId": "/subscriptions/S1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/prod",
        "time": "2025-01-01T00:00:09Z", "properties": {"log": log.to_string()}})
}

#[test]
fn aks_audit_events() -> Result<(), RecordError> {
    let exec = kube(
        json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "5c8a1d9e-0f7b-4a3c-9d2e-1b6f7a8c9d0e",
        "verb": "create", "user": {"username": "Alice@Contoso.com"}, "sourceIPs": ["20.43.245.209", "172.31.52.37"],
        "objectRef": {"resource": "pods", "subresource": "exec", "namespace": "default", "name": "nginx"},
        "responseStatus": {"code": 101}, "requestReceivedTimestamp": "2025-01-01T00:00:01.123456Z", "userAgent": "kubectl/v1.35.0"}),
    );
    let e = run(&exec)?;
    assert_eq!(e.raw_ref.format, "aks_audit");
    assert_eq!(e.event_id, "5c8a1d9e-0f7b-4a3c-9d2e-1b6f7a8c9d0e");
    assert_eq!(e.event_time, utc("2025-01-01T00:00:01.123456Z"));
    assert_eq!(e.identity.key, "azure:alice@contoso.com");
    assert_eq!(e.identity.kind, IdentityKind::HumanUser);
    assert_eq!(e.action.service, "Kubernetes");
    assert_eq!(e.action.operation, "create pods/exec");
    assert_eq!(
        e.action.permission,
        "Microsoft.ContainerService/managedClusters/pods/exec/action"
    );
    assert_eq!(e.action.category, ActionCategory::Other);
    assert_eq!(
        e.source.ip.map(|i| i.to_string()).as_deref(),
        Some("20.43.245.209")
    );
    assert_eq!(e.outcome.status, OutcomeStatus::Success);
    assert_eq!(e.account_id.as_deref(), Some("s1"));
    assert_eq!(e.resources[0].id, "namespaces/default/pods/nginx/exec");
    assert_eq!(e.user_agent.as_deref(), Some("kubectl/v1.35.0"));

    let binding = kube(
        json!({"verb": "create", "user": {"username": "system:serviceaccount:kube-system:ci"},
        "objectRef": {"resource": "clusterrolebindings", "apiGroup": "rbac.authorization.k8s.io"}, "responseStatus": {"code": 403}}),
    );
    let e = run(&binding)?;
    assert_eq!(
        e.event_time,
        utc("2025-01-01T00:00:09Z"),
        "the envelope time when the event has none"
    );
    assert_eq!(e.identity.kind, IdentityKind::ServiceAccount);
    assert_eq!(
        e.identity.key,
        "azure-aks:/subscriptions/s1/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/prod:system:serviceaccount:kube-system:ci"
    );
    assert_eq!(
        e.action.permission,
        "Microsoft.ContainerService/managedClusters/rbac.authorization.k8s.io/clusterrolebindings/write"
    );
    assert_eq!(e.action.category, ActionCategory::PermissionChange);
    assert_eq!(e.outcome.status, OutcomeStatus::Failure);
    assert_eq!(e.outcome.error_code.as_deref(), Some("403"));

    let anonymous = kube(
        json!({"verb": "list", "user": {"username": "system:anonymous"}, "objectRef": {"resource": "secrets"}}),
    );
    let e = run(&anonymous)?;
    assert_eq!(e.identity.key, "anonymous:azure");
    assert_eq!(e.action.category, ActionCategory::List);

    // Rule-test samples carry no time anywhere: the ingest time, flagged estimated; no cluster id, so the
    // local user is scoped to an unknown cluster.
    let untimed = json!({"category": "kube-audit", "properties": {"log": "{\"verb\":\"get\",\"user\":{\"username\":\"masterclient\"},\"objectRef\":{\"resource\":\"pods\"}}"}});
    let e = run(&untimed)?;
    assert!(e.event_time_estimated);
    assert_eq!(e.identity.key, "azure-aks:unknown-cluster:masterclient");
    assert_eq!(e.action.category, ActionCategory::Read);
    Ok(())
}

#[test]
fn storage_resource_logs() -> Result<(), RecordError> {
    let sas = json!({"time": "2024-12-19T19:15:07.295Z", "category": "StorageRead", "operationName": "GetBlob",
        "resourceId": "/subscriptions/S1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct/blobServices/default",
        "statusCode": 403, "statusText": "AuthenticationFailed", "callerIpAddress": "8.8.8.8:45123",
        "identity": {"type": "SAS", "tokenHash": "key1(ABC)"},
        "properties": {"accountName": "Acct", "objectKey": "/acct/backups/data.zip", "userAgentHeader": "python-requests/2.31.0"}});
    let e = run(&sas)?;
    assert_eq!(e.raw_ref.format, "azure_resource_log");
    assert_eq!(e.identity.key, "azure-storage:acct/sas");
    assert_eq!(e.identity.credential_id.as_deref(), Some("key1(ABC)"));
    assert_eq!(e.action.service, "Microsoft.Storage");
    assert_eq!(
        e.action.permission,
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
    );
    assert!(e.event_id.starts_with("sha256:"));
    assert_eq!(e.action.category, ActionCategory::Read);
    assert_eq!(
        e.source.ip.map(|i| i.to_string()).as_deref(),
        Some("8.8.8.8")
    );
    assert_eq!(e.outcome.status, OutcomeStatus::Failure);
    assert_eq!(
        e.outcome.error_code.as_deref(),
        Some("AuthenticationFailed")
    );
    assert_eq!(e.user_agent.as_deref(), Some("python-requests/2.31.0"));
    assert_eq!(e.resources[1].name.as_deref(), Some("data.zip"));

    let oauth = json!({"time": "2024-12-19T19:15:07Z", "category": "StorageDelete", "operationName": "DeleteBlob", "statusCode": 202,
        "identity": {"type": "OAuth", "requester": {"objectId": "A1B2C3D4-0000-0000-0000-000000000000", "upn": "bob@contoso.com"}},
        "properties": {"accountName": "acct"}});
    let e = run(&oauth)?;
    assert_eq!(e.identity.key, "azure:a1b2c3d4-0000-0000-0000-000000000000");
    assert_eq!(e.action.category, ActionCategory::Delete);
    assert_eq!(e.outcome.status, OutcomeStatus::Success);

    // Trimmed: no category; the storage properties identify it.
    let trimmed = json!({"time": "2024-12-19T19:14:58.986Z", "operationName": "putblob", "callerIpAddress": "5.5.5.5:29713",
        "properties": {"accountName": "acct", "objectKey": "/acct/c/x"}});
    let e = run(&trimmed)?;
    assert_eq!(e.action.category, ActionCategory::Write);
    assert_eq!(
        e.action.permission,
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
        "casing does not matter"
    );
    assert_eq!(e.identity.key, "azure-platform:unknown");
    assert_eq!(e.outcome.status, OutcomeStatus::Unknown);
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// The real-world corpus, when it is present: every record is recognised and at least 99% become events.

fn corpus_records(bytes: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    for doc in serde_json::Deserializer::from_slice(bytes).into_iter::<Value>() {
        let Ok(doc) = doc else { break };
        let listed = ["records", "value"]
            .iter()
            .find_map(|k| doc.get(*k).and_then(Value::as_array).cloned())
            .or_else(|| {
                doc.pointer("/responses/200/body/value")
                    .and_then(Value::as_array)
                    .cloned()
            });
        match listed {
            Some(items) => out.extend(items),
            None => out.push(doc),
        }
    }
    out
}

#[test]
fn real_world_corpus() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/azure");
    let Ok(dirs) = std::fs::read_dir(&root) else {
        eprintln!("corpus not present at {}; skipped", root.display());
        return;
    };
    let mut files: Vec<_> = dirs
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|f| f.path())
        .collect();
    files.sort();
    let (mut total, mut ok, mut estimated, mut failures) = (0usize, 0usize, 0usize, Vec::new());
    for file in files
        .iter()
        .filter(|f| !f.to_string_lossy().ends_with("-expected.json"))
    {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        for record in corpus_records(&bytes) {
            total += 1;
            let Some(format) = classify(&record) else {
                failures.push(format!("{}: not classified", file.display()));
                continue;
            };
            match normalize(&record, format, &ctx()) {
                Ok(e) => {
                    ok += 1;
                    estimated += usize::from(e.event_time_estimated);
                    assert!(
                        !e.identity.key.is_empty()
                            && !e.action.operation.is_empty()
                            && !e.action.permission.is_empty()
                    );
                }
                Err(e) => failures.push(format!("{}: {format}: {e}", file.display())),
            }
        }
    }
    eprintln!(
        "azure corpus: {total} records, {ok} normalized ({estimated} with an estimated time); failures: {failures:#?}"
    );
    assert!(total > 300, "corpus unexpectedly small: {total}");
    assert!(
        ok * 100 >= total * 99,
        "{ok}/{total} normalized: {failures:#?}"
    );
    assert!(
        failures.iter().all(|f| !f.contains("not classified")),
        "{failures:#?}"
    );
}

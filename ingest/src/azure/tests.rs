use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use vigil_schemas::{
    ActionCategory, ChainRelation, Event, EventClass, IdentityKind, OutcomeStatus,
};

use super::{classify, normalize};
use crate::record::{RecordContext, RecordError};

pub(super) fn ctx() -> RecordContext<'static> {
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

pub(super) fn run(record: &Value) -> Result<Event, RecordError> {
    let format =
        classify(record).ok_or_else(|| RecordError::not_an_event("not classified as Azure"))?;
    normalize(record, format, &ctx())
}

pub(super) fn utc(s: &str) -> DateTime<Utc> {
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

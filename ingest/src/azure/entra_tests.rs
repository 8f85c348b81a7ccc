//! Unit tests of Entra ID sign-in/audit, AKS audit and resource-log records.

use serde_json::{Value, json};
use vigil_schemas::*;

use super::tests::{run, utc};
use crate::record::RecordError;

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

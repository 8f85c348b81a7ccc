//! Unit tests of the gcp module.

use super::*;
use chrono::{TimeZone, Utc};
use serde_json::json;

fn ctx() -> RecordContext<'static> {
    RecordContext {
        source: "test",
        byte_offset: 0,
        record_index: 0,
        envelope: None,
        ingest_time: Utc
            .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default(),
        raw: None,
    }
}

fn run(record: &Value) -> RecordResult {
    let format = classify(record).ok_or_else(|| RecordError::not_an_event("not classified"))?;
    normalize(record, format, &ctx())
}

fn event(record: &Value) -> Event {
    match run(record) {
        Ok(e) => e,
        Err(e) => panic!("refused: {e}"),
    }
}

#[test]
fn admin_activity_success() {
    let e = event(&json!({
        "insertId": "abc123",
        "logName": "projects/prod-1/logs/cloudaudit.googleapis.com%2Factivity",
        "timestamp": "2024-03-01T10:00:00.123456789Z",
        "receiveTimestamp": "2024-03-01T10:00:01Z",
        "resource": {"type": "service_account", "labels": {"project_id": "prod-1"}},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": "iam.googleapis.com",
            "methodName": "google.iam.admin.v1.CreateServiceAccountKey",
            "authenticationInfo": {"principalEmail": "Alice@Example.com"},
            "authorizationInfo": [{"permission": "iam.serviceAccountKeys.create", "granted": true,
                "resource": "projects/-/serviceAccounts/123"}],
            "requestMetadata": {"callerIp": "203.0.113.9", "callerSuppliedUserAgent": " gcloud/1.0 "},
            "resourceName": "projects/-/serviceAccounts/123/keys/k1",
            "status": {}
        }
    }));
    assert_eq!(e.event_id, "abc123");
    assert_eq!(
        e.event_time.to_rfc3339(),
        "2024-03-01T10:00:00.123456+00:00"
    );
    assert_eq!(e.provider, Provider::Gcp);
    assert_eq!(e.class, EventClass::ApiActivity);
    assert_eq!(e.account_id.as_deref(), Some("prod-1"));
    assert_eq!(e.identity.key, "gcp:alice@example.com");
    assert_eq!(e.identity.kind, IdentityKind::HumanUser);
    assert_eq!(
        e.identity.display_name.as_deref(),
        Some("Alice@Example.com")
    );
    assert_eq!(e.action.service, "iam.googleapis.com");
    assert_eq!(
        e.action.operation,
        "google.iam.admin.v1.CreateServiceAccountKey"
    );
    assert_eq!(e.action.permission, "iam.serviceAccountKeys.create");
    assert_eq!(e.action.category, ActionCategory::PermissionChange);
    assert_eq!(
        e.source.ip.map(|i| i.to_string()).as_deref(),
        Some("203.0.113.9")
    );
    assert_eq!(e.user_agent.as_deref(), Some("gcloud/1.0"));
    assert_eq!(e.outcome, Outcome::success());
    assert_eq!(e.resources.len(), 2);
    assert_eq!(e.resources[0].kind.as_deref(), Some("service_account"));
    assert_eq!(e.resources[0].name.as_deref(), Some("k1"));
    assert_eq!(e.resources[1].id, "projects/-/serviceAccounts/123");
    assert_eq!(e.raw_ref.format, "gcp_audit");
}

#[test]
fn data_access_with_lower_cased_keys() {
    let e = event(&json!({
        "insertid": "low-1",
        "logname": "projects/p2/logs/cloudaudit.googleapis.com/data_access",
        "receivetimestamp": "2023-05-23 19:27:44.037",
        "resource": {"type": "gcs_bucket", "labels": {"location": "us-east1"}},
        "protopayload": {
            "at_sign_type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "servicename": "storage.googleapis.com",
            "methodname": "storage.objects.list",
            "authenticationinfo": {"principalemail": "bot@p2.iam.gserviceaccount.com"},
            "requestmetadata": {"callerIP": "10.1.2.3"},
            "resourcename": "projects/_/buckets/b1"
        }
    }));
    assert_eq!(e.event_id, "low-1");
    assert_eq!(e.event_time.to_rfc3339(), "2023-05-23T19:27:44.037+00:00");
    assert_eq!(e.account_id.as_deref(), Some("p2"));
    assert_eq!(e.region.as_deref(), Some("us-east1"));
    assert_eq!(e.identity.key, "gcp:bot@p2.iam.gserviceaccount.com");
    assert_eq!(e.identity.kind, IdentityKind::ServiceAccount);
    assert_eq!(e.action.permission, "storage.objects.list");
    assert_eq!(e.action.category, ActionCategory::List);
    assert_eq!(e.source.raw.as_deref(), Some("10.1.2.3"));
}

#[test]
fn policy_denied_is_a_failure() {
    let e = event(&json!({
        "insertId": "pd",
        "logName": "organizations/4455/logs/cloudaudit.googleapis.com%2Fpolicy",
        "timestamp": "2023-03-09T16:28:40.890430163Z",
        "protoPayload": {
            "serviceName": "storage.googleapis.com",
            "methodName": "google.storage.objects.get",
            "authenticationInfo": {"principalEmail": "eve@corp.io"},
            "resourceName": "projects/_/buckets/secret/objects/a.txt",
            "status": {"message": "Request is prohibited by organization's policy."}
        }
    }));
    assert_eq!(e.tenant_id.as_deref(), Some("4455"));
    assert_eq!(e.account_id, None);
    assert_eq!(e.outcome.status, OutcomeStatus::Failure);
    assert_eq!(e.outcome.error_code.as_deref(), Some("PERMISSION_DENIED"));
    assert_eq!(
        e.outcome.error_message.as_deref(),
        Some("Request is prohibited by organization's policy.")
    );
    assert_eq!(e.action.permission, "storage.objects.get");
    assert_eq!(e.action.category, ActionCategory::Read);

    let coded = event(&json!({
        "timestamp": "2023-03-09T16:28:40Z",
        "protoPayload": {"serviceName": "compute.googleapis.com", "methodName": "v1.compute.instances.delete",
            "authenticationInfo": {"principalEmail": "a@b.c"}, "status": {"code": 5, "message": "gone"}}
    }));
    assert_eq!(coded.outcome.error_code.as_deref(), Some("NOT_FOUND"));
    assert_eq!(coded.outcome.error_message.as_deref(), Some("gone"));
    assert_eq!(coded.action.category, ActionCategory::Delete);
    assert!(coded.event_id.starts_with("sha256:"));

    let ungranted = event(&json!({
        "timestamp": "2024-01-19T13:47:18Z",
        "protoPayload": {"serviceName": "iam.googleapis.com", "methodName": "google.iam.admin.v1.CreateRole",
            "authenticationInfo": {"principalEmail": "a@b.c"},
            "authorizationInfo": [{"permission": "iam.roles.create", "granted": "false"}]}
    }));
    assert_eq!(ungranted.outcome.status, OutcomeStatus::Failure);
    assert_eq!(
        ungranted.outcome.error_message.as_deref(),
        Some("permission iam.roles.create not granted")
    );
    assert_eq!(ungranted.action.category, ActionCategory::PermissionChange);

    let k8s = event(&json!({
        "timestamp": "2024-01-19T13:47:18Z",
        "protoPayload": {"serviceName": "k8s.io", "methodName": "io.k8s.core.v1.pods.create",
            "authenticationInfo": {"principalEmail": "dev@corp.io"},
            "response": {"kind": "Status", "code": 403, "reason": "Forbidden", "message": "pods is forbidden"}}
    }));
    assert_eq!(k8s.outcome.error_code.as_deref(), Some("Forbidden"));
    assert_eq!(
        k8s.outcome.error_message.as_deref(),
        Some("pods is forbidden")
    );
}

#[test]
fn service_account_delegation_becomes_the_chain() {
    let e = event(&json!({
        "insertId": "d1",
        "timestamp": "2024-04-26T20:10:09Z",
        "resource": {"type": "gce_instance", "labels": {"zone": "us-central1-b", "project_id": "fake"}},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": "compute.googleapis.com",
            "methodName": "beta.compute.instances.insert",
            "authenticationInfo": {
                "principalEmail": "deployer@fake.iam.gserviceaccount.com",
                "serviceAccountKeyName": "//iam.googleapis.com/projects/fake/serviceAccounts/deployer/keys/42",
                "serviceAccountDelegationInfo": [
                    {"firstPartyPrincipal": {"principalEmail": "Alice@Corp.io"}},
                    {"firstPartyPrincipal": {"principalEmail": "middle@fake.iam.gserviceaccount.com"}},
                    {}
                ]
            },
            "requestMetadata": {"callerIp": "gce-internal-ip"}
        }
    }));
    assert_eq!(e.identity.key, "gcp:deployer@fake.iam.gserviceaccount.com");
    assert_eq!(e.identity.kind, IdentityKind::ServiceAccount);
    assert_eq!(
        e.identity.credential_id.as_deref(),
        Some("//iam.googleapis.com/projects/fake/serviceAccounts/deployer/keys/42")
    );
    let chain: Vec<(ChainRelation, &str)> = e
        .identity
        .chain
        .iter()
        .map(|l| (l.relation, l.principal.as_str()))
        .collect();
    assert_eq!(
        chain,
        vec![
            (ChainRelation::DelegatedBy, "gcp:alice@corp.io"),
            (
                ChainRelation::DelegatedBy,
                "gcp:middle@fake.iam.gserviceaccount.com"
            ),
        ]
    );
    assert_eq!(e.region.as_deref(), Some("us-central1-b"));
    assert_eq!(e.action.permission, "compute.instances.create");
    assert_eq!(e.action.category, ActionCategory::Write);
}

#[test]
fn anonymous_without_authentication_info() {
    for auth in [None, Some(json!({}))] {
        let mut payload = json!({"serviceName": "storage.googleapis.com", "methodName": "storage.objects.get",
            "requestMetadata": {"callerIp": "198.51.100.4"}});
        if let (Some(a), Some(obj)) = (auth, payload.as_object_mut()) {
            obj.insert("authenticationInfo".into(), a);
        }
        let e = event(&json!({"timestamp": "2024-01-01T00:00:00Z", "protoPayload": payload}));
        assert_eq!(e.identity.key, "anonymous:gcp");
        assert_eq!(e.identity.kind, IdentityKind::Anonymous);
    }
    let gke = event(
        &json!({"timestamp": "2024-01-01T00:00:00Z", "protoPayload": {
        "serviceName": "k8s.io", "methodName": "io.k8s.core.v1.pods.get",
        "authenticationInfo": {"authoritySelector": "system:anonymous"}}}),
    );
    assert_eq!(gke.identity.key, "anonymous:gcp");
    assert_eq!(
        gke.identity.display_name.as_deref(),
        Some("system:anonymous")
    );
    assert_eq!(gke.action.permission, "container.pods.get");
    assert_eq!(gke.action.category, ActionCategory::Read);
}

#[test]
fn gke_system_principals() {
    let kind = |email: &str| {
        event(&json!({"timestamp": "2024-01-01T00:00:00Z", "protoPayload": {"serviceName": "k8s.io",
            "methodName": "io.k8s.core.v1.pods.list", "authenticationInfo": {"principalEmail": email}}}))
        .identity
    };
    let node = kind("system:node:gke-pool-1");
    assert_eq!(
        (node.key.as_str(), node.kind),
        ("gcp:system:node:gke-pool-1", IdentityKind::ProviderService)
    );
    assert_eq!(
        kind("system:serviceaccount:kube-system:generic-garbage-collector").kind,
        IdentityKind::ProviderService
    );
    assert_eq!(
        kind("system:serviceaccount:default:app").kind,
        IdentityKind::ServiceAccount
    );
    assert_eq!(kind("system:anonymous").kind, IdentityKind::Anonymous);
    assert_eq!(
        kind("system@google.com").kind,
        IdentityKind::ProviderService
    );
}

#[test]
fn principal_subject_only_is_federated() {
    let subject = "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/subject/Repo";
    let e = event(&json!({
        "insertId": "f1",
        "logName": "projects/project-id/logs/cloudaudit.googleapis.com%2Fdata_access",
        "timestamp": "2024-11-19T00:49:55.293368631Z",
        "protoPayload": {
            "serviceName": "iamcredentials.googleapis.com",
            "methodName": "GenerateAccessToken",
            "authenticationInfo": {"principalSubject": subject, "serviceAccountDelegationInfo": [{}]},
            "metadata": {"identityDelegationChain": ["projects/-/serviceAccounts/ci@project-id.iam.gserviceaccount.com"]},
            "resourceName": "projects/-/serviceAccounts/1234"
        }
    }));
    assert_eq!(e.identity.key, format!("gcp:{subject}"));
    assert_eq!(e.identity.kind, IdentityKind::Federated);
    assert!(e.identity.chain.is_empty());
    assert_eq!(e.account_id.as_deref(), Some("project-id"));
    assert_eq!(e.action.permission, "iam.serviceAccounts.getAccessToken");
    assert_eq!(e.action.category, ActionCategory::PermissionChange);
    let ids: Vec<&str> = e.resources.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "projects/-/serviceAccounts/1234",
            "projects/-/serviceAccounts/ci@project-id.iam.gserviceaccount.com"
        ]
    );
}

#[test]
fn time_fallbacks_and_estimated_time() {
    let attrs = event(
        &json!({"protoPayload": {"serviceName": "compute.googleapis.com",
        "methodName": "v1.compute.firewalls.delete",
        "requestMetadata": {"requestAttributes": {"time": "2023-05-23T19:28:44.663413Z"}}}}),
    );
    assert_eq!(
        attrs.event_time.to_rfc3339(),
        "2023-05-23T19:28:44.663413+00:00"
    );
    let nested = event(
        &json!({"protopayload": {"serviceName": "bigquery.googleapis.com",
        "metadata": {"methodName": "google.cloud.bigquery.v2.JobService.InsertJob"},
        "timestamp": "2023-03-28 18:37:06.079"}}),
    );
    assert_eq!(
        nested.event_time.to_rfc3339(),
        "2023-03-28T18:37:06.079+00:00"
    );
    assert_eq!(nested.action.permission, "bigquery.jobs.create");

    let trimmed = json!({"protoPayload": {"serviceName": "k8s.io", "methodName": "io.k8s.core.v1.pods.create",
        "authenticationInfo": {"principalEmail": "u@c.com"}}, "resource": {"type": "k8s_cluster"}});
    assert_eq!(classify(&trimmed), Some("gcp_audit"));
    let estimated = event(&trimmed);
    assert!(
        estimated.event_time_estimated,
        "no time anywhere: the ingest time stands in, flagged"
    );
    assert_eq!(estimated.event_time, estimated.ingest_time);
    let unreadable =
        json!({"timestamp": "...", "protoPayload": {"methodName": "io.k8s.core.v1.pods.create"}});
    assert_eq!(run(&unreadable).err().map(|e| e.kind), Some("bad_value"));

    let stripped = json!({"insertId": "x", "timestamp": "2022-09-06T18:07:42Z", "resource": {"type": "k8s_cluster"},
        "logName": "projects/p/logs/cloudaudit.googleapis.com%2Fdata_access"});
    assert_eq!(run(&stripped).err().map(|e| e.kind), Some("not_an_event"));
}

#[test]
fn non_ip_callers_are_kept_raw() {
    for raw in ["gce-internal-ip", "private"] {
        let e = event(
            &json!({"timestamp": "2024-01-01T00:00:00Z", "protoPayload": {
            "serviceName": "iam.googleapis.com", "methodName": "google.iam.admin.v1.ListServiceAccounts",
            "authenticationInfo": {"principalEmail": "x@y.z"}, "requestMetadata": {"callerIp": raw}}}),
        );
        assert_eq!(e.source.ip, None);
        assert_eq!(e.source.raw.as_deref(), Some(raw));
        assert_eq!(e.action.permission, "iam.serviceAccounts.list");
        assert_eq!(e.action.category, ActionCategory::List);
    }
    let v6 = event(
        &json!({"timestamp": "2024-01-01T00:00:00Z", "protoPayload": {"methodName": "io.k8s.get",
        "requestMetadata": {"callerIp": "::1"}}}),
    );
    assert_eq!(v6.source.ip.map(|i| i.to_string()).as_deref(), Some("::1"));
    assert_eq!(v6.action.service, "k8s.io");
}

#[test]
fn permissions_derived_from_method_names() {
    let p = |svc: &str, m: &str, r: Option<&str>| derive_permission(svc, m, r);
    assert_eq!(
        p("storage.googleapis.com", "storage.buckets.create", None),
        "storage.buckets.create"
    );
    assert_eq!(
        p(
            "iam.googleapis.com",
            "google.iam.admin.v1.CreateServiceAccountKey",
            None
        ),
        "iam.serviceAccountKeys.create"
    );
    assert_eq!(
        p("k8s.io", "io.k8s.core.v1.pods.create", None),
        "container.pods.create"
    );
    assert_eq!(
        p("k8s.io", "io.k8s.core.v1.pods.exec.create", None),
        "container.pods.exec"
    );
    assert_eq!(
        p("compute.googleapis.com", "v1.compute.routes.insert", None),
        "compute.routes.create"
    );
    assert_eq!(
        p(
            "compute.googleapis.com",
            "beta.compute.machineTypes.aggregatedList",
            None
        ),
        "compute.machineTypes.list"
    );
    assert_eq!(
        p(
            "pubsub.googleapis.com",
            "google.pubsub.v1.Publisher.CreateTopic",
            None
        ),
        "pubsub.topics.create"
    );
    assert_eq!(
        p(
            "logging.googleapis.com",
            "google.logging.v2.ConfigServiceV2.DeleteSink",
            None
        ),
        "logging.sinks.delete"
    );
    assert_eq!(
        p(
            "cloudresourcemanager.googleapis.com",
            "SetIamPolicy",
            Some("projects/p1")
        ),
        "resourcemanager.projects.setIamPolicy"
    );
    assert_eq!(
        p(
            "run.googleapis.com",
            "google.cloud.run.v1.Services.SetIamPolicy",
            Some("namespaces/p/services/s")
        ),
        "run.services.setIamPolicy"
    );
    assert_eq!(
        p("iam.googleapis.com", "google.iam.admin.v1.SignJwt", None),
        "iam.serviceAccounts.signJwt"
    );
    assert_eq!(
        p(
            "bigquery.googleapis.com",
            "datasetservice.insert",
            Some("projects/p/datasets/d")
        ),
        "bigquery.datasets.create"
    );
    assert_eq!(
        p("cloudkms.googleapis.com", "DestroyCryptoKeyVersion", None),
        "cloudkms.cryptoKeyVersions.destroy"
    );
    assert_eq!(
        p(
            "admin.googleapis.com",
            "google.admin.AdminService.addGroupMember",
            None
        ),
        "admin.groupMembers.add"
    );
    assert_eq!(
        p(
            "admin.googleapis.com",
            "google.admin.AdminService.inboundSsoProfileDeleted",
            None
        ),
        "admin.inboundSsoProfiles.delete"
    );
    assert_eq!(
        category(
            "google.admin.AdminService.addGroupMember",
            "admin.groupMembers.add"
        ),
        ActionCategory::PermissionChange
    );
    assert_eq!(
        category(
            "io.k8s.rbac.v1.clusterrolebindings.create",
            "container.clusterrolebindings.create"
        ),
        ActionCategory::PermissionChange
    );
    assert_eq!(
        category("GetIamPolicy", "resourcemanager.projects.getIamPolicy"),
        ActionCategory::Read
    );
    assert_eq!(
        category("compute.instances.preempted", "compute.instances.preempted"),
        ActionCategory::Other
    );
    assert_eq!(
        category(
            "google.login.LoginService.loginSuccess",
            "login.loginSuccess"
        ),
        ActionCategory::Login
    );
    assert!(is_login("google.login.LoginService.loginSuccess"));
}

#[test]
fn classify_rejects_other_clouds() {
    assert_eq!(
        classify(&json!({"eventVersion": "1.08", "eventName": "CreateUser"})),
        None
    );
    assert_eq!(
        classify(
            &json!({"operationName": "Microsoft.Authorization/roleAssignments/write",
        "properties": {}})
        ),
        None
    );
    assert_eq!(
        classify(
            &json!({"insertId": "x", "textPayload": "hello", "logName": "projects/p/logs/syslog"})
        ),
        None
    );
    assert_eq!(
        classify(
            &json!({"protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog"}})
        ),
        Some("gcp_audit")
    );
}

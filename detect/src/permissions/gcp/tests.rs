#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::catalog::access_level;
use super::*;
use crate::permissions::model::{
    AccessLevel, EscalationEdge, PermissionCatalog, PrincipalKind, UsedPermission,
};

// ---------------------------------------------------------------------------------------------
// A hand-written mini catalog: every logic test knows its right answer from these few lines.

fn mini_files() -> BTreeMap<String, Vec<u8>> {
    let permissions = json!({"_meta": {}, "services": {
        "resourcemanager": ["resourcemanager.projects.get", "resourcemanager.projects.getIamPolicy",
            "resourcemanager.projects.setIamPolicy", "resourcemanager.folders.setIamPolicy",
            "resourcemanager.organizations.setIamPolicy"],
        "iam": ["iam.serviceAccounts.actAs", "iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.signBlob",
            "iam.serviceAccounts.setIamPolicy", "iam.serviceAccountKeys.create", "iam.serviceAccounts.list",
            "iam.roles.update", "iam.roles.get"],
        "compute": ["compute.instances.create", "compute.instances.list", "compute.subnetworks.update"],
        "cloudfunctions": ["cloudfunctions.functions.create"],
        "run": ["run.services.create"],
        "deploymentmanager": ["deploymentmanager.deployments.create"],
        "bigquery": ["bigquery.jobs.create", "bigquery.tables.getData", "bigquery.datasets.get"],
        "secretmanager": ["secretmanager.versions.access", "secretmanager.secrets.list"],
        "logging": ["logging.sinks.delete", "logging.sinks.list"],
        "storage": ["storage.buckets.setIamPolicy", "storage.objects.get"],
        "cloudkms": ["cloudkms.cryptoKeyVersions.useToDecrypt"]
    }});
    let role = |perms: &[&str]| json!({"title": "t", "stage": "GA", "permissions": perms});
    let roles = json!({"_meta": {}, "roles": {
        "roles/owner": {"title": "Owner", "stage": "GA", "permissions": null},
        "roles/editor": {"title": "Editor", "stage": "GA", "permissions": null},
        "roles/viewer": {"title": "Viewer", "stage": "GA", "permissions": null},
        "roles/bigquery.admin": role(&["bigquery.jobs.create", "bigquery.tables.getData", "bigquery.datasets.get"]),
        "roles/bigquery.jobUser": role(&["bigquery.jobs.create"]),
        "roles/iam.serviceAccountTokenCreator": role(&["iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.signBlob"]),
        "roles/iam.serviceAccountUser": role(&["iam.serviceAccounts.actAs", "iam.serviceAccounts.list"]),
        "roles/iam.serviceAccountKeyAdmin": role(&["iam.serviceAccountKeys.create"]),
        "roles/iam.securityAdmin": role(&["resourcemanager.projects.setIamPolicy", "resourcemanager.projects.getIamPolicy", "iam.serviceAccounts.setIamPolicy"]),
        "roles/iam.serviceAccountAdmin": role(&["iam.serviceAccounts.setIamPolicy", "iam.serviceAccounts.list"]),
        "roles/compute.instanceAdmin": role(&["compute.instances.create", "compute.instances.list"]),
        "roles/cloudfunctions.developer": role(&["cloudfunctions.functions.create"]),
        "roles/run.developer": role(&["run.services.create"]),
        "roles/deploymentmanager.editor": role(&["deploymentmanager.deployments.create"]),
        "roles/iam.roleAdmin": role(&["iam.roles.update", "iam.roles.get"]),
        "roles/secretmanager.secretAccessor": role(&["secretmanager.versions.access"]),
        "roles/logging.configWriter": role(&["logging.sinks.delete", "logging.sinks.list"]),
        "roles/storage.objectViewer": role(&["storage.objects.get"]),
        "roles/storage.admin": role(&["storage.buckets.setIamPolicy", "storage.objects.get"]),
        "roles/resourcemanager.folderAdmin": role(&["resourcemanager.folders.setIamPolicy", "resourcemanager.projects.setIamPolicy"])
    }});
    let sensitive = json!({"_meta": {}, "iam": {
        "CredentialExposure": ["iam.serviceAccountKeys.create"],
        "DataAccess": ["bigquery.tables.getData", "storage.objects.get"],
        "PrivEsc": ["iam.serviceAccounts.actAs", "resourcemanager.projects.setIamPolicy"]
    }});
    let methods = json!({"_meta": {}, "api": {"compute": {
        "compute.instances.insert": ["compute.instances.create"],
        "compute.instances.guess": ["compute.notARealPermission"]
    }}, "no_permission_required": ["compute.zones.noop"]});
    BTreeMap::from([
        (
            "permissions.json".to_string(),
            permissions.to_string().into_bytes(),
        ),
        (
            "predefined_roles.json.gz".to_string(),
            roles.to_string().into_bytes(),
        ),
        (
            "sensitive_permissions.json".to_string(),
            sensitive.to_string().into_bytes(),
        ),
        (
            "method_permissions.json".to_string(),
            methods.to_string().into_bytes(),
        ),
    ])
}

fn mini() -> &'static Catalog {
    static MINI: OnceLock<Catalog> = OnceLock::new();
    MINI.get_or_init(|| Catalog::parse(&mini_files()).unwrap())
}

fn real() -> &'static Catalog {
    static REAL: OnceLock<Catalog> = OnceLock::new();
    REAL.get_or_init(|| {
        let dir = std::path::Path::new("/work/shared/iam-catalog/gcp");
        let files = Catalog::FILES
            .iter()
            .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
            .collect();
        Catalog::parse(&files).unwrap()
    })
}

fn doc(name: &str, value: serde_json::Value) -> (String, Vec<u8>) {
    (name.to_string(), value.to_string().into_bytes())
}

fn policy(resource: &str, bindings: serde_json::Value) -> (String, Vec<u8>) {
    doc(
        &format!("{resource}.json"),
        json!({"resource": resource, "policy": {"bindings": bindings, "etag": "x"}}),
    )
}

fn names(catalog: &Catalog, set: &crate::permissions::PermissionSet) -> BTreeSet<String> {
    set.iter()
        .map(|i| catalog.permissions()[i as usize].name.clone())
        .collect()
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn ent<'a>(all: &'a [Entitlements], key: &str) -> &'a Entitlements {
    all.iter()
        .find(|e| e.principal.key == key)
        .unwrap_or_else(|| panic!("no principal {key}"))
}

/// (from, to, primitive) of every edge.
fn edge_triples(edges: &[EscalationEdge]) -> BTreeSet<(String, Option<String>, String)> {
    edges
        .iter()
        .map(|e| (e.from.clone(), e.to.clone(), e.primitive.clone()))
        .collect()
}

fn edges_for(docs: &[(String, Vec<u8>)]) -> Vec<EscalationEdge> {
    let inv = parse_inventory(docs).unwrap();
    let ents = entitlements(&inv, mini());
    escalation_edges(&inv, &ents, mini())
}

fn triple(from: &str, to: Option<&str>, primitive: &str) -> (String, Option<String>, String) {
    (
        from.to_string(),
        to.map(str::to_string),
        primitive.to_string(),
    )
}

// ---------------------------------------------------------------------------------------------
// Catalog

#[test]
fn access_levels_come_from_the_verb() {
    let cases = [
        ("storage.buckets.get", AccessLevel::Read),
        ("storage.buckets.list", AccessLevel::List),
        ("compute.instances.listTagBindings", AccessLevel::List),
        ("storage.buckets.getIamPolicy", AccessLevel::Read),
        ("secretmanager.versions.access", AccessLevel::Read),
        (
            "storage.buckets.setIamPolicy",
            AccessLevel::PermissionsManagement,
        ),
        ("iam.roles.update", AccessLevel::PermissionsManagement),
        ("iam.roles.get", AccessLevel::Read),
        (
            "iam.serviceAccountKeys.create",
            AccessLevel::PermissionsManagement,
        ),
        (
            "iam.serviceAccounts.actAs",
            AccessLevel::PermissionsManagement,
        ),
        (
            "iam.serviceAccounts.getAccessToken",
            AccessLevel::PermissionsManagement,
        ),
        (
            "iam.serviceAccounts.getOpenIdToken",
            AccessLevel::PermissionsManagement,
        ),
        (
            "iam.serviceAccounts.signJwt",
            AccessLevel::PermissionsManagement,
        ),
        (
            "container.clusterRoleBindings.create",
            AccessLevel::PermissionsManagement,
        ),
        ("compute.instances.createTagBinding", AccessLevel::Tagging),
        ("compute.instances.create", AccessLevel::Write),
        ("logging.sinks.delete", AccessLevel::Write),
        ("compute.instances.start", AccessLevel::Write),
    ];
    for (name, level) in cases {
        assert_eq!(access_level(name), level, "{name}");
    }
}

#[test]
fn risk_flags_follow_the_sensitive_list_and_vigil_rules() {
    let c = mini();
    let risk = |n: &str| c.permissions()[c.index_of(n).unwrap() as usize].risk;
    assert!(risk("secretmanager.versions.access").reads_secrets);
    // Decrypting needs ciphertext from elsewhere: not a secret read by itself.
    assert!(!risk("cloudkms.cryptoKeyVersions.useToDecrypt").reads_secrets);
    assert!(!risk("secretmanager.secrets.list").reads_secrets);
    for n in [
        "logging.sinks.delete",
        "compute.subnetworks.update",
        "resourcemanager.projects.setIamPolicy",
    ] {
        assert!(risk(n).disables_security_tooling, "{n}");
    }
    assert!(!risk("logging.sinks.list").disables_security_tooling);
    assert!(risk("iam.serviceAccountKeys.create").credential_exposure);
    assert!(risk("iam.serviceAccountKeys.create").privilege_escalation);
    assert!(risk("iam.serviceAccounts.getAccessToken").credential_exposure);
    assert!(risk("bigquery.tables.getData").data_access);
    assert!(risk("storage.buckets.setIamPolicy").resource_exposure);
    assert!(!risk("bigquery.jobs.create").privilege_escalation);
    assert_eq!(c.permissions().len(), 29);
}

#[test]
fn catalog_errors_name_the_file_and_the_field() {
    let mut files = mini_files();
    files.remove("sensitive_permissions.json");
    let err = Catalog::parse(&files).unwrap_err().to_string();
    assert!(
        err.contains("sensitive_permissions.json") && err.contains("not given"),
        "{err}"
    );

    let mut files = mini_files();
    files.insert(
        "predefined_roles.json.gz".into(),
        json!({"roles": {"roles/x": {"permissions": "storage.objects.get"}}})
            .to_string()
            .into_bytes(),
    );
    let err = Catalog::parse(&files).unwrap_err().to_string();
    assert!(
        err.contains("predefined_roles.json.gz") && err.contains("roles.roles/x.permissions"),
        "{err}"
    );

    let mut files = mini_files();
    files.insert("permissions.json".into(), b"{\"services\": [1]}".to_vec());
    let err = Catalog::parse(&files).unwrap_err().to_string();
    assert!(
        err.contains("permissions.json") && err.contains("services"),
        "{err}"
    );

    let mut files = mini_files();
    files.insert("method_permissions.json".into(), b"not json".to_vec());
    let err = Catalog::parse(&files).unwrap_err().to_string();
    assert!(
        err.contains("method_permissions.json") && err.contains("not JSON"),
        "{err}"
    );
}

#[test]
fn gzip_compressed_roles_are_read() {
    let mut files = mini_files();
    let plain = files.remove("predefined_roles.json.gz").unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&plain).unwrap();
    files.insert("predefined_roles.json.gz".into(), enc.finish().unwrap());
    let c = Catalog::parse(&files).unwrap();
    assert_eq!(c.permissions().len(), mini().permissions().len());
}

#[test]
fn real_catalog_indexes_every_permission_and_basic_roles() {
    let c = real();
    assert_eq!(c.permissions().len(), 13_790);
    let ix = |n: &str| c.index_of(n).unwrap_or_else(|| panic!("{n} missing"));
    let level = |n: &str| c.permissions()[ix(n) as usize].level;
    assert_eq!(
        level("resourcemanager.projects.setIamPolicy"),
        AccessLevel::PermissionsManagement
    );
    assert_eq!(level("bigquery.jobs.create"), AccessLevel::Write);
    assert_eq!(level("storage.objects.list"), AccessLevel::List);
    // Unverified method-map guesses are not indexed.
    assert!(
        c.index_of("accesscontextmanager.accessPolicies.create")
            .is_none()
    );

    let inv = parse_inventory(&[policy(
        "projects/p",
        json!([{"role": "roles/editor", "members": ["user:ed@example.com"]},
               {"role": "roles/owner", "members": ["user:own@example.com"]},
               {"role": "roles/viewer", "members": ["user:vi@example.com"]}]),
    )])
    .unwrap();
    let ents = entitlements(&inv, c);
    let editor = ent(&ents, "gcp:ed@example.com");
    assert!(
        !editor
            .allowed
            .contains(ix("resourcemanager.projects.setIamPolicy"))
    );
    assert!(editor.allowed.contains(ix("iam.serviceAccounts.actAs")));
    assert_eq!(editor.allowed.len(), 11_979);
    // Owner is everything: the catalog list (13,568) misses what convenience bindings give owners.
    assert_eq!(ent(&ents, "gcp:own@example.com").allowed.len(), 13_790);
    let viewer = ent(&ents, "gcp:vi@example.com");
    assert!(viewer.admin_equivalent.is_none());
    assert!(editor.admin_equivalent.as_deref() == Some("roles/editor on projects/p"));
}

// ---------------------------------------------------------------------------------------------
// Inventory shapes and errors

#[test]
fn every_inventory_shape_is_read() {
    let docs = vec![
        // Bare policy: resource from the file name.
        doc(
            "exports/projects_acme-prod.json",
            json!({"bindings": [
            {"role": "roles/viewer", "members": ["user:Alice@Example.com", "group:Ops@example.com",
              "domain:example.com", "allUsers", "allAuthenticatedUsers", "deleted:user:old@example.com?uid=1"]}
        ], "etag": "e", "version": 1}),
        ),
        doc(
            "folders_12.json",
            json!({"bindings": [{"role": "roles/viewer", "members": ["user:f@example.com"]}]}),
        ),
        doc("organizations_34.json", json!({"etag": "only"})),
        doc(
            "asset.json",
            json!([{"resource": "//storage.googleapis.com/projects/_/buckets/b", "project": "projects/999",
            "folders": ["folders/12"], "organization": "organizations/34",
            "policy": {"bindings": [{"role": "roles/storage.objectViewer", "members": ["user:b@example.com"]}]}}]),
        ),
        doc(
            "role.json",
            json!({"name": "projects/acme-prod/roles/r1", "title": "R1", "includedPermissions": ["storage.objects.get"]}),
        ),
        doc(
            "roles.json",
            json!([{"name": "organizations/34/roles/r2", "title": "R2", "includedPermissions": ["iam.roles.get"]}]),
        ),
        doc(
            "keys.json",
            json!([{"name": "projects/acme-prod/serviceAccounts/sa@acme-prod.iam.gserviceaccount.com/keys/k1",
            "keyType": "USER_MANAGED", "validAfterTime": "2025-01-02T03:04:05Z"},
            {"name": "projects/acme-prod/serviceAccounts/sa@acme-prod.iam.gserviceaccount.com/keys/k2", "keyType": "SYSTEM_MANAGED"}]),
        ),
        doc(
            "sas.json",
            json!([{"email": "other@acme-prod.iam.gserviceaccount.com", "projectId": "acme-prod",
            "name": "projects/acme-prod/serviceAccounts/other@acme-prod.iam.gserviceaccount.com"}]),
        ),
        doc(
            "project.json",
            json!({"projectId": "acme-prod", "projectNumber": "999", "parent": {"type": "folder", "id": "12"}}),
        ),
        doc(
            "folders.json",
            json!([{"name": "folders/12", "parent": "organizations/34"}]),
        ),
        doc(
            "group.json",
            json!({"group": "ops@example.com", "memberships": [
            {"preferredMemberKey": {"id": "Bob@example.com"}, "type": "USER"},
            {"preferredMemberKey": {"id": "inner@example.com"}, "type": "GROUP"}]}),
        ),
        doc(
            "inner.json",
            json!({"group": "inner@example.com", "memberships": [{"preferredMemberKey": {"id": "carl@example.com"}}]}),
        ),
        doc("empty.json", json!([])),
    ];
    let inv = parse_inventory(&docs).unwrap();
    let keys: BTreeSet<&str> = inv.principals.iter().map(|p| p.key.as_str()).collect();
    let expected: BTreeSet<&str> = [
        "gcp:alice@example.com",
        "gcp:group:ops@example.com",
        "gcp:group:inner@example.com",
        "gcp:domain:example.com",
        "anonymous:gcp",
        "gcp:allAuthenticatedUsers",
        "gcp:f@example.com",
        "gcp:b@example.com",
        "gcp:bob@example.com",
        "gcp:carl@example.com",
        "gcp:sa@acme-prod.iam.gserviceaccount.com",
        "gcp:other@acme-prod.iam.gserviceaccount.com",
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected);
    let by = |k: &str| inv.principals.iter().find(|p| p.key == k).unwrap();
    let alice = by("gcp:alice@example.com");
    assert_eq!(alice.kind, PrincipalKind::User);
    assert_eq!(alice.account, "acme-prod");
    assert_eq!(alice.member_of, vec!["gcp:domain:example.com".to_string()]);
    // Nested groups: carl is in inner, which is in ops.
    let carl = by("gcp:carl@example.com");
    assert_eq!(
        carl.member_of,
        vec![
            "gcp:group:inner@example.com".to_string(),
            "gcp:group:ops@example.com".to_string(),
            "gcp:domain:example.com".to_string()
        ]
    );
    assert_eq!(by("gcp:f@example.com").account, "folders/12");
    // The bucket's project number resolves to the project id through the describe output.
    assert_eq!(by("gcp:b@example.com").account, "acme-prod");
    let sa = by("gcp:sa@acme-prod.iam.gserviceaccount.com");
    assert_eq!(sa.kind, PrincipalKind::ServiceAccount);
    assert_eq!(
        sa.credentials.len(),
        1,
        "system-managed keys are no user credential"
    );
    let key = &sa.credentials[0];
    assert_eq!(
        key.id,
        "//iam.googleapis.com/projects/acme-prod/serviceAccounts/sa@acme-prod.iam.gserviceaccount.com/keys/k1"
    );
    assert_eq!(
        key.created,
        Some(Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap())
    );
    assert!(key.active);
    assert_eq!(by("anonymous:gcp").name, "allUsers");
    assert!(inv.ancestors["projects/acme-prod"].contains("organizations/34"));
    assert!(
        inv.notes.iter().any(|n| n.contains("`deleted`")),
        "{:?}",
        inv.notes
    );
    assert!(inv.notes.iter().any(|n| n.contains("SYSTEM_MANAGED")));
    assert!(inv.notes.iter().any(|n| n.contains("allUsers")));
}

#[test]
fn inventory_errors_name_the_file_and_the_field() {
    let err = |docs: Vec<(String, Vec<u8>)>| parse_inventory(&docs).unwrap_err().to_string();
    let e = err(vec![doc(
        "policy.json",
        json!({"bindings": [], "etag": "x"}),
    )]);
    assert!(
        e.contains("policy.json") && e.contains("projects_<id>.json"),
        "{e}"
    );
    let e = err(vec![doc(
        "projects_p.json",
        json!({"bindings": [{"members": ["user:a@b"]}]}),
    )]);
    assert!(
        e.contains("projects_p.json") && e.contains("bindings[0].role"),
        "{e}"
    );
    let e = err(vec![policy(
        "projects/p",
        json!([{"role": "roles/viewer", "members": ["user:a@b", "robot:x"]}]),
    )]);
    assert!(
        e.contains("projects/p.json")
            && e.contains("policy.bindings[0].members[1]")
            && e.contains("robot"),
        "{e}"
    );
    let e = err(vec![policy(
        "projects/p",
        json!([{"role": "roles/viewer", "members": ["user:a@b"], "condition": {"title": "t"}}]),
    )]);
    assert!(e.contains("bindings[0].condition.expression"), "{e}");
    let e = err(vec![doc(
        "keys.json",
        json!([{"name": "projects/p/serviceAccounts/s@p.iam.gserviceaccount.com/keys/1", "keyType": "ODD"}]),
    )]);
    assert!(e.contains("keys.json") && e.contains("[0].keyType"), "{e}");
    let e = err(vec![doc(
        "keys.json",
        json!([{"name": "projects/p/serviceAccounts/s@x/keys/1", "keyType": "USER_MANAGED", "validAfterTime": "yesterday"}]),
    )]);
    assert!(e.contains("[0].validAfterTime"), "{e}");
    let e = err(vec![doc(
        "asset.json",
        json!([{"resource": "buckets/b", "policy": {"bindings": []}}]),
    )]);
    assert!(
        e.contains("asset.json") && e.contains("[0].resource"),
        "{e}"
    );
    let e = err(vec![doc(
        "w.json",
        json!({"resource": "projects/p", "policy": {"bindings": "x"}}),
    )]);
    assert!(e.contains("w.json") && e.contains("policy.bindings"), "{e}");
    let e = err(vec![doc("odd.json", json!({"hello": 1}))]);
    assert!(e.contains("odd.json") && e.contains("unrecognised"), "{e}");
    let e = err(vec![("bad.json".to_string(), b"{".to_vec())]);
    assert!(e.contains("bad.json") && e.contains("not JSON"), "{e}");
    let e = err(vec![doc(
        "role.json",
        json!({"name": "roles/x", "includedPermissions": []}),
    )]);
    assert!(e.contains("role.json") && e.contains("name"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Entitlements

#[test]
fn basic_roles_without_a_catalog_list_are_approximated() {
    let inv = parse_inventory(&[policy(
        "projects/p",
        json!([{"role": "roles/owner", "members": ["user:o@x.com"]},
               {"role": "roles/editor", "members": ["user:e@x.com"]},
               {"role": "roles/viewer", "members": ["user:v@x.com"]}]),
    )])
    .unwrap();
    let c = mini();
    let ents = entitlements(&inv, c);
    assert_eq!(ent(&ents, "gcp:o@x.com").allowed.len(), 29);
    let editor = names(c, &ent(&ents, "gcp:e@x.com").allowed);
    // Editor: everything but permission management (10 PM permissions in the mini catalog).
    assert_eq!(editor.len(), 29 - 10);
    assert!(!editor.contains("resourcemanager.projects.setIamPolicy"));
    assert!(editor.contains("compute.instances.create"));
    let viewer = names(c, &ent(&ents, "gcp:v@x.com").allowed);
    assert_eq!(
        viewer,
        set_of(&[
            "resourcemanager.projects.get",
            "resourcemanager.projects.getIamPolicy",
            "iam.serviceAccounts.list",
            "iam.roles.get",
            "compute.instances.list",
            "bigquery.datasets.get",
            "bigquery.tables.getData",
            "secretmanager.versions.access",
            "secretmanager.secrets.list",
            "logging.sinks.list",
            "storage.objects.get"
        ])
    );
    assert_eq!(
        ent(&ents, "gcp:o@x.com").admin_equivalent.as_deref(),
        Some("roles/owner on projects/p")
    );
    assert_eq!(
        ent(&ents, "gcp:e@x.com").admin_equivalent.as_deref(),
        Some("roles/editor on projects/p")
    );
    assert_eq!(ent(&ents, "gcp:v@x.com").admin_equivalent, None);
    assert!(
        ent(&ents, "gcp:e@x.com").grants[0]
            .via
            .contains("approximated")
    );
    assert!(
        !ent(&ents, "gcp:o@x.com").grants[0]
            .via
            .contains("approximated")
    );
}

#[test]
fn conditions_groups_custom_roles_and_reach() {
    let docs = vec![
        policy(
            "projects/p",
            json!([
                {"role": "roles/bigquery.jobUser", "members": ["user:a@x.com"]},
                {"role": "roles/bigquery.admin", "members": ["user:a@x.com"],
                 "condition": {"title": "tmp", "expression": "request.time < timestamp(\"2027-01-01T00:00:00Z\")"}},
                {"role": "roles/logging.configWriter", "members": ["group:g@x.com"]},
                {"role": "projects/p/roles/custom", "members": ["user:c@y.com"],
                 "condition": {"title": "etl", "expression": "resource.name.startsWith(\"projects/p/secrets/etl\")"}},
                {"role": "projects/p/roles/missing", "members": ["user:m@y.com"]},
                {"role": "roles/iam.securityAdmin", "members": ["domain:x.com"]}
            ]),
        ),
        doc(
            "asset.json",
            json!([{"resource": "//storage.googleapis.com/projects/_/buckets/b",
            "policy": {"bindings": [{"role": "roles/storage.admin", "members": ["user:s@y.com"]}]}}]),
        ),
        doc(
            "role.json",
            json!({"name": "projects/p/roles/custom", "title": "Custom",
            "includedPermissions": ["secretmanager.versions.access", "compute.instances.create", "made.up.permission"]}),
        ),
        doc(
            "group.json",
            json!({"group": "g@x.com", "memberships": [{"preferredMemberKey": {"id": "a@x.com"}}]}),
        ),
    ];
    let inv = parse_inventory(&docs).unwrap();
    let c = mini();
    let ents = entitlements(&inv, c);

    let a = ent(&ents, "gcp:a@x.com");
    assert_eq!(
        names(c, &a.allowed),
        set_of(&[
            "bigquery.jobs.create",
            "bigquery.tables.getData",
            "bigquery.datasets.get",
            "logging.sinks.delete",
            "logging.sinks.list",
            "resourcemanager.projects.setIamPolicy",
            "resourcemanager.projects.getIamPolicy",
            "iam.serviceAccounts.setIamPolicy"
        ])
    );
    // jobs.create is also granted unconditionally, so only the other two are conditional.
    assert_eq!(
        names(c, &a.conditional),
        set_of(&["bigquery.tables.getData", "bigquery.datasets.get"])
    );
    let conditional_grant = a
        .grants
        .iter()
        .find(|g| g.patterns == ["roles/bigquery.admin"])
        .unwrap();
    assert!(
        conditional_grant
            .condition
            .as_deref()
            .unwrap()
            .contains("\"title\":\"tmp\"")
    );
    assert!(
        a.grants.iter().any(
            |g| g.via == "roles/logging.configWriter on projects/p via group gcp:group:g@x.com"
        )
    );
    assert!(
        a.grants
            .iter()
            .any(|g| g.via.contains("via group gcp:domain:x.com"))
    );
    // The domain grant carries projects.setIamPolicy: a can grant itself owner.
    assert_eq!(
        a.admin_equivalent.as_deref(),
        Some(
            "resourcemanager.projects.setIamPolicy on projects/p through roles/iam.securityAdmin: can grant itself roles/owner via group gcp:domain:x.com"
        )
    );
    assert_eq!(a.reach, 1.0);

    let custom = ent(&ents, "gcp:c@y.com");
    assert_eq!(
        names(c, &custom.allowed),
        set_of(&["secretmanager.versions.access", "compute.instances.create"])
    );
    assert_eq!(custom.conditional, custom.allowed);
    assert_eq!(
        custom.grants[0].patterns,
        vec![
            "projects/p/roles/custom".to_string(),
            "made.up.permission".to_string()
        ]
    );
    // A condition on resource names narrows the project-wide grant.
    assert_eq!(custom.reach, 0.5);

    let missing = ent(&ents, "gcp:m@y.com");
    assert!(missing.allowed.is_empty());
    assert!(missing.grants[0].via.contains("not in the inventory"));
    assert_eq!(missing.reach, 0.0);

    let bucket = ent(&ents, "gcp:s@y.com");
    assert_eq!(bucket.reach, 0.25);
    assert_eq!(
        bucket.grants[0].resources,
        vec!["//storage.googleapis.com/projects/_/buckets/b".to_string()]
    );
    // A bucket's setIamPolicy is not admin.
    assert_eq!(bucket.admin_equivalent, None);

    let group = ent(&ents, "gcp:group:g@x.com");
    assert_eq!(group.principal.kind, PrincipalKind::Group);
    assert_eq!(
        names(c, &group.allowed),
        set_of(&["logging.sinks.delete", "logging.sinks.list"])
    );
}

#[test]
fn org_bindings_are_inherited_only_when_the_hierarchy_is_known() {
    let org = policy(
        "organizations/1",
        json!([{"role": "roles/iam.serviceAccountKeyAdmin", "members": ["user:k@x.com"]}]),
    );
    let sa = doc(
        "sas.json",
        json!([{"email": "t@p.iam.gserviceaccount.com", "projectId": "p",
        "name": "projects/p/serviceAccounts/t@p.iam.gserviceaccount.com"}]),
    );

    let without = parse_inventory(&[org.clone(), sa.clone()]).unwrap();
    assert!(
        without
            .notes
            .iter()
            .any(|n| n.contains("organizations/1") && n.contains("applied as stated"))
    );
    let ents = entitlements(&without, mini());
    let k = ent(&ents, "gcp:k@x.com");
    assert_eq!(k.grants[0].resources, vec!["organizations/1".to_string()]);
    assert_eq!(k.reach, 1.0);
    assert!(escalation_edges(&without, &ents, mini()).is_empty());

    let project = doc(
        "p.json",
        json!({"projectId": "p", "parent": {"type": "folder", "id": "7"}}),
    );
    let folder = doc(
        "f.json",
        json!({"name": "folders/7", "parent": "organizations/1"}),
    );
    let with = parse_inventory(&[org, sa, project, folder]).unwrap();
    let ents = entitlements(&with, mini());
    assert_eq!(
        ent(&ents, "gcp:k@x.com").grants[0].resources,
        vec!["organizations/1".to_string(), "projects/p".to_string()]
    );
    let edges = escalation_edges(&with, &ents, mini());
    assert_eq!(
        edge_triples(&edges),
        BTreeSet::from([triple(
            "gcp:k@x.com",
            Some("gcp:t@p.iam.gserviceaccount.com"),
            "gcp.sa-key-create"
        )])
    );
}

// ---------------------------------------------------------------------------------------------
// Escalation primitives

fn sa_list(emails: &[&str]) -> (String, Vec<u8>) {
    let items: Vec<_> = emails
        .iter()
        .map(|e| {
            let project = e.split('@').nth(1).unwrap().split('.').next().unwrap();
            json!({"email": e, "projectId": project, "name": format!("projects/{project}/serviceAccounts/{e}")})
        })
        .collect();
    doc("sas.json", json!(items))
}

const T: &str = "t@p.iam.gserviceaccount.com";
const T_KEY: &str = "gcp:t@p.iam.gserviceaccount.com";

#[test]
fn set_iam_policy_on_the_project_is_direct_admin() {
    let edges = edges_for(&[policy(
        "projects/p",
        json!([
            {"role": "roles/iam.securityAdmin", "members": ["user:a@x.com"]},
            {"role": "roles/resourcemanager.folderAdmin", "members": ["user:f@x.com"]}
        ]),
    )]);
    assert_eq!(
        edge_triples(&edges),
        BTreeSet::from([
            triple("gcp:a@x.com", None, "gcp.set-iam-policy"),
            triple("gcp:f@x.com", None, "gcp.set-iam-policy")
        ])
    );
    // On a project, folders.setIamPolicy does not apply: only the project permission is the step.
    let f = edges.iter().find(|e| e.from == "gcp:f@x.com").unwrap();
    assert_eq!(
        f.permissions,
        vec!["resourcemanager.projects.setIamPolicy".to_string()]
    );
    assert_eq!(f.resource, "projects/p");
}

#[test]
fn service_account_set_iam_policy_key_and_token_primitives() {
    let edges = edges_for(&[
        sa_list(&[T, "u@p.iam.gserviceaccount.com"]),
        policy(
            "projects/p",
            json!([{"role": "roles/iam.serviceAccountAdmin", "members": ["user:pol@x.com"]}]),
        ),
        doc(
            "asset.json",
            json!([{"resource": format!("//iam.googleapis.com/projects/p/serviceAccounts/{T}"),
            "policy": {"bindings": [
                {"role": "roles/iam.serviceAccountKeyAdmin", "members": ["user:key@x.com"]},
                {"role": "roles/iam.serviceAccountTokenCreator", "members": ["user:tok@x.com"]}]}}]),
        ),
    ]);
    assert_eq!(
        edge_triples(&edges),
        BTreeSet::from([
            // Project-level: every account of the project.
            triple("gcp:pol@x.com", Some(T_KEY), "gcp.sa-set-iam-policy"),
            triple(
                "gcp:pol@x.com",
                Some("gcp:u@p.iam.gserviceaccount.com"),
                "gcp.sa-set-iam-policy"
            ),
            // Account-level: that account only.
            triple("gcp:key@x.com", Some(T_KEY), "gcp.sa-key-create"),
            triple("gcp:tok@x.com", Some(T_KEY), "gcp.sa-token-create"),
        ])
    );
    let tok = edges
        .iter()
        .find(|e| e.primitive == "gcp.sa-token-create")
        .unwrap();
    assert_eq!(
        tok.permissions,
        vec![
            "iam.serviceAccounts.getAccessToken".to_string(),
            "iam.serviceAccounts.signBlob".to_string()
        ]
    );
    assert_eq!(tok.resource, format!("projects/p/serviceAccounts/{T}"));
}

#[test]
fn act_as_needs_a_deploy_permission_on_the_accounts_project() {
    let edges = edges_for(&[
        sa_list(&[T]),
        policy(
            "projects/p",
            json!([
                {"role": "roles/iam.serviceAccountUser", "members": ["user:vm@x.com", "user:fn@x.com", "user:run@x.com", "user:none@x.com"]},
                {"role": "roles/compute.instanceAdmin", "members": ["user:vm@x.com"]},
                {"role": "roles/cloudfunctions.developer", "members": ["user:fn@x.com"]},
                {"role": "roles/run.developer", "members": ["user:run@x.com", "user:other@x.com"]}
            ]),
        ),
        // Deploying in another project does not count.
        policy(
            "projects/q",
            json!([{"role": "roles/compute.instanceAdmin", "members": ["user:none@x.com"]}]),
        ),
    ]);
    assert_eq!(
        edge_triples(&edges),
        BTreeSet::from([
            triple("gcp:vm@x.com", Some(T_KEY), "gcp.sa-actas-compute"),
            triple("gcp:fn@x.com", Some(T_KEY), "gcp.sa-actas-functions"),
            triple("gcp:run@x.com", Some(T_KEY), "gcp.sa-actas-run"),
        ])
    );
    let vm = edges
        .iter()
        .find(|e| e.primitive == "gcp.sa-actas-compute")
        .unwrap();
    assert_eq!(
        vm.permissions,
        vec![
            "iam.serviceAccounts.actAs".to_string(),
            "compute.instances.create".to_string()
        ]
    );
}

#[test]
fn roles_update_and_deployment_manager() {
    let edges = edges_for(&[
        doc(
            "role.json",
            json!({"name": "projects/p/roles/mine", "title": "Mine", "includedPermissions": ["iam.roles.get"]}),
        ),
        policy(
            "projects/p",
            json!([
                {"role": "roles/iam.roleAdmin", "members": ["user:r@x.com", "user:nocustom@x.com"]},
                {"role": "projects/p/roles/mine", "members": ["user:r@x.com"]},
                {"role": "roles/deploymentmanager.editor", "members": ["user:d@x.com"]}
            ]),
        ),
        // A custom role held only on a bucket cannot make anyone project admin.
        doc(
            "asset.json",
            json!([{"resource": "//storage.googleapis.com/projects/_/buckets/b",
            "policy": {"bindings": [{"role": "projects/p/roles/mine", "members": ["user:nocustom@x.com"]}]}}]),
        ),
    ]);
    assert_eq!(
        edge_triples(&edges),
        BTreeSet::from([
            triple("gcp:r@x.com", None, "gcp.roles-update"),
            triple("gcp:d@x.com", None, "gcp.deploymentmanager")
        ])
    );
    let r = edges
        .iter()
        .find(|e| e.primitive == "gcp.roles-update")
        .unwrap();
    assert_eq!(r.resource, "projects/p/roles/mine");
}

#[test]
fn resource_scoped_grants_do_not_reach_other_targets() {
    let other = "o@p.iam.gserviceaccount.com";
    let edges = edges_for(&[
        sa_list(&[T, other]),
        // Key admin on T only; a bucket's setIamPolicy is not a project's.
        doc(
            "asset.json",
            json!([
            {"resource": format!("//iam.googleapis.com/projects/p/serviceAccounts/{T}"),
             "policy": {"bindings": [{"role": "roles/iam.serviceAccountKeyAdmin", "members": [format!("serviceAccount:{other}")]},
                                      {"role": "roles/iam.serviceAccountKeyAdmin", "members": [format!("serviceAccount:{T}")]}]}},
            {"resource": "//storage.googleapis.com/projects/_/buckets/b",
             "policy": {"bindings": [{"role": "roles/storage.admin", "members": ["user:s@y.com"]}]}}]),
        ),
    ]);
    // o → t only (no edge to itself, none from the bucket admin).
    assert_eq!(
        edge_triples(&edges),
        BTreeSet::from([triple(
            &format!("gcp:{other}"),
            Some(T_KEY),
            "gcp.sa-key-create"
        )])
    );
}

#[test]
fn conditional_grants_give_edges_that_say_so() {
    let edges = edges_for(&[policy(
        "projects/p",
        json!([{"role": "roles/iam.securityAdmin", "members": ["user:a@x.com"],
        "condition": {"title": "break-glass", "expression": "request.time < timestamp(\"2027-01-01T00:00:00Z\")"}}]),
    )]);
    assert_eq!(edges.len(), 1);
    assert!(
        edges[0]
            .explanation
            .contains("only under IAM condition 'break-glass'"),
        "{}",
        edges[0].explanation
    );
    let inv = parse_inventory(&[policy(
        "projects/p",
        json!([{"role": "roles/iam.securityAdmin", "members": ["user:a@x.com"],
        "condition": {"title": "break-glass", "expression": "true"}}]),
    )])
    .unwrap();
    let ents = entitlements(&inv, mini());
    assert!(
        ents[0]
            .admin_equivalent
            .as_deref()
            .unwrap()
            .contains("under condition 'break-glass'")
    );
}

// ---------------------------------------------------------------------------------------------
// Usage mapping

fn action<'a>(service: &'a str, operation: &'a str, permission: &'a str) -> ObservedAction<'a> {
    ObservedAction {
        service,
        operation,
        permission,
    }
}

#[test]
fn events_map_to_permissions_with_gaps() {
    let c = mini();
    let ix = |n: &str| c.index_of(n).unwrap();
    assert_eq!(
        event_permissions(
            action(
                "bigquery.googleapis.com",
                "google.cloud.bigquery.v2.JobService.InsertJob",
                "bigquery.jobs.create"
            ),
            c
        ),
        Some(vec![ix("bigquery.jobs.create")])
    );
    // The stored permission is a derived guess: the REST method id maps it.
    assert_eq!(
        event_permissions(
            action(
                "compute.googleapis.com",
                "v1.compute.instances.insert",
                "compute.instances.insert"
            ),
            c
        ),
        Some(vec![ix("compute.instances.create")])
    );
    assert_eq!(
        event_permissions(
            action(
                "compute.googleapis.com",
                "beta.compute.zones.noop",
                "compute.zones.noop"
            ),
            c
        ),
        Some(vec![])
    );
    // A method mapped only to an unknown permission, and a gRPC name with an unknown permission: gaps.
    assert_eq!(
        event_permissions(
            action("compute.googleapis.com", "v1.compute.instances.guess", "x"),
            c
        ),
        None
    );
    assert_eq!(
        event_permissions(
            action(
                "foo.googleapis.com",
                "google.foo.v1.Foo.Bar",
                "foo.bars.get"
            ),
            c
        ),
        None
    );
    assert!(usage_belongs_to("gcp:a@x.com", "gcp:a@x.com"));
    assert!(!usage_belongs_to("gcp:a@x.com", "gcp:b@x.com"));
}

#[test]
fn sample_events_map_against_the_real_catalog() {
    let c = real();
    for p in [
        "bigquery.jobs.create",
        "iam.serviceAccountKeys.create",
        "resourcemanager.projects.setIamPolicy",
        "logging.sinks.delete",
        "storage.buckets.setIamPolicy",
    ] {
        assert_eq!(
            event_permissions(action("x", "y", p), c),
            Some(vec![c.index_of(p).unwrap()]),
            "{p}"
        );
    }
    // The REST method checks several permissions (disks, networks…), compute.instances.create among them.
    let insert = event_permissions(
        action(
            "compute.googleapis.com",
            "v1.compute.instances.insert",
            "compute.instances.insert",
        ),
        c,
    )
    .unwrap();
    assert!(insert.contains(&c.index_of("compute.instances.create").unwrap()));
    assert!(
        event_permissions(
            action(
                "bigquery.googleapis.com",
                "google.cloud.bigquery.v2.JobService.InsertJob",
                "bigquery.jobs.frobnicate"
            ),
            c
        )
        .is_none()
    );
}

// ---------------------------------------------------------------------------------------------
// Right-sizing

fn used(entries: &[(&str, u64, &[&str])]) -> BTreeMap<String, UsedPermission> {
    entries
        .iter()
        .map(|(n, count, resources)| {
            (
                n.to_string(),
                UsedPermission {
                    count: *count,
                    resources: resources.iter().map(|r| r.to_string()).collect(),
                    ..Default::default()
                },
            )
        })
        .collect()
}

#[test]
fn rightsize_writes_a_custom_role_bound_where_it_was_used() {
    let inv = parse_inventory(&[
        sa_list(&["etl@p.iam.gserviceaccount.com"]),
        policy("projects/p", json!([{"role": "roles/bigquery.admin", "members": ["serviceAccount:etl@p.iam.gserviceaccount.com"]}])),
    ])
    .unwrap();
    let c = mini();
    let ents = entitlements(&inv, c);
    let e = ent(&ents, "gcp:etl@p.iam.gserviceaccount.com");
    let r = rightsize(
        e,
        &used(&[
            (
                "bigquery.jobs.create",
                6,
                &["projects/p/jobs/etl-0", "projects/q/jobs/x"],
            ),
            (
                "storage.objects.get",
                1,
                &["projects/_/buckets/b/objects/o"],
            ),
            ("not.a.permission", 1, &[]),
        ]),
        c,
    );
    assert_eq!(r.format, "gcp_custom_role");
    assert_eq!(r.identity, "gcp:etl@p.iam.gserviceaccount.com");
    assert_eq!(r.kept, vec!["bigquery.jobs.create".to_string()]);
    assert_eq!(
        r.removed,
        vec![
            "bigquery.datasets.get".to_string(),
            "bigquery.tables.getData".to_string()
        ]
    );
    let d = &r.document;
    assert_eq!(d["stage"], "GA");
    assert_eq!(
        d["includedPermissions"],
        json!(["bigquery.jobs.create", "storage.objects.get"])
    );
    assert_eq!(d["usedButNotGranted"], json!(["storage.objects.get"]));
    assert_eq!(d["unknownPermissions"], json!(["not.a.permission"]));
    assert_eq!(d["roleId"], "vigil_etl");
    let bind: Vec<&str> = d["bindTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["resource"].as_str().unwrap())
        .collect();
    assert_eq!(bind, vec!["projects/p", "projects/q"]);
    assert_eq!(
        d["bindTo"][0]["member"],
        "serviceAccount:etl@p.iam.gserviceaccount.com"
    );
    assert_eq!(d["bindTo"][0]["role"], "projects/p/roles/vigil_etl");
    assert!(
        d["title"]
            .as_str()
            .unwrap()
            .contains("etl@p.iam.gserviceaccount.com")
    );

    // Nothing used: an empty role, no binding, everything removed.
    let r = rightsize(e, &BTreeMap::new(), c);
    assert_eq!(r.document["includedPermissions"], json!([]));
    assert_eq!(r.document["bindTo"], json!([]));
    assert_eq!(r.removed.len(), 3);
}

// ---------------------------------------------------------------------------------------------
// The shipped example inventory, against the real catalog.

fn sample_docs() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/inventory/gcp");
    let mut docs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    docs.sort();
    docs
}

#[test]
fn sample_inventory_has_every_finding_the_demo_needs() {
    let c = real();
    let inv = parse_inventory(&sample_docs()).unwrap();
    let ents = entitlements(&inv, c);
    let keys: BTreeSet<&str> = ents.iter().map(|e| e.principal.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "anonymous:gcp",
            "gcp:carol@example.com",
            "gcp:ci-builder@acme-prod.iam.gserviceaccount.com",
            "gcp:dave@example.com",
            "gcp:deployer@acme-prod.iam.gserviceaccount.com",
            "gcp:etl-runner@acme-prod.iam.gserviceaccount.com",
            "gcp:frank@example.com",
            "gcp:group:data-analysts@example.com",
        ]
        .into_iter()
        .collect()
    );
    let ix = |n: &str| c.index_of(n).unwrap();
    let dave = ent(&ents, "gcp:dave@example.com");
    assert_eq!(
        dave.admin_equivalent.as_deref(),
        Some("roles/owner on projects/acme-prod")
    );
    for p in [
        "iam.serviceAccountKeys.create",
        "logging.sinks.delete",
        "resourcemanager.projects.setIamPolicy",
        "storage.buckets.setIamPolicy",
        "secretmanager.versions.access",
    ] {
        assert!(dave.allowed.contains(ix(p)), "{p}");
    }
    let etl = ent(&ents, "gcp:etl-runner@acme-prod.iam.gserviceaccount.com");
    assert!(etl.admin_equivalent.is_none());
    assert!(etl.allowed.contains(ix("bigquery.jobs.create")));
    assert!(
        etl.conditional
            .contains(ix("secretmanager.versions.access"))
    );
    assert_eq!(etl.principal.credentials.len(), 1);
    assert_eq!(
        etl.principal.credentials[0].created,
        Some(Utc.with_ymd_and_hms(2025, 2, 3, 9, 12, 44).unwrap())
    );
    assert_eq!(etl.principal.account, "acme-prod");
    assert!(
        ent(&ents, "gcp:carol@example.com")
            .admin_equivalent
            .is_some()
    );
    assert!(
        ent(&ents, "gcp:deployer@acme-prod.iam.gserviceaccount.com")
            .admin_equivalent
            .is_some()
    );
    let frank = ent(&ents, "gcp:frank@example.com");
    assert!(
        frank.allowed.contains(ix("logging.sinks.delete"))
            && frank.conditional.contains(ix("logging.sinks.delete"))
    );

    let edges = escalation_edges(&inv, &ents, c);
    let triples = edge_triples(&edges);
    let etl_key = "gcp:etl-runner@acme-prod.iam.gserviceaccount.com";
    let ci = "gcp:ci-builder@acme-prod.iam.gserviceaccount.com";
    let deployer = "gcp:deployer@acme-prod.iam.gserviceaccount.com";
    // Two steps: etl-runner mints ci-builder tokens; ci-builder deploys Cloud Run as the deployer (editor).
    assert!(
        triples.contains(&triple(etl_key, Some(ci), "gcp.sa-token-create")),
        "{triples:?}"
    );
    assert!(
        triples.contains(&triple(ci, Some(deployer), "gcp.sa-actas-run")),
        "{triples:?}"
    );
    assert!(
        !triples
            .iter()
            .any(|(f, t, _)| f == etl_key && t.as_deref() == Some(deployer))
    );
    assert!(triples.contains(&triple("gcp:dave@example.com", None, "gcp.set-iam-policy")));
}

#[test]
fn admins_only_get_their_direct_steps() {
    // An owner is a goal node: no edges to service accounts, only its direct admin steps.
    let edges = edges_for(&[
        sa_list(&[T]),
        policy(
            "projects/p",
            json!([{"role": "roles/owner", "members": ["user:o@x.com"]}]),
        ),
    ]);
    assert_eq!(
        edge_triples(&edges),
        BTreeSet::from([
            triple("gcp:o@x.com", None, "gcp.deploymentmanager"),
            triple("gcp:o@x.com", None, "gcp.set-iam-policy"),
        ])
    );
}

#[test]
fn many_identities_and_accounts_stay_exact() {
    let sas: Vec<String> = (0..100)
        .map(|i| format!("sa{i}@p.iam.gserviceaccount.com"))
        .collect();
    let sa_refs: Vec<&str> = sas.iter().map(String::as_str).collect();
    let viewers: Vec<String> = (0..1000).map(|i| format!("user:v{i}@x.com")).collect();
    let deployers: Vec<String> = (0..50).map(|i| format!("user:d{i}@x.com")).collect();
    let edges = edges_for(&[
        sa_list(&sa_refs),
        policy(
            "projects/p",
            json!([{"role": "roles/viewer", "members": viewers},
                   {"role": "roles/iam.serviceAccountUser", "members": deployers},
                   {"role": "roles/run.developer", "members": deployers}]),
        ),
    ]);
    // Each deployer reaches each account through Cloud Run; viewers reach nothing.
    assert_eq!(edges.len(), 50 * 100);
    assert!(
        edges
            .iter()
            .all(|e| e.primitive == "gcp.sa-actas-run" && e.from.starts_with("gcp:d"))
    );
}

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::*;
use crate::permissions::model::{AccessLevel, PermissionSet, PrincipalKind};

// ---------------------------------------------------------------------------------------------
// A hand-written mini catalog: 17 control-plane operations, 2 data actions, 8 built-in roles.
// ---------------------------------------------------------------------------------------------

const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const UAA: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
const KV_SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";
const VM_CONTRIBUTOR: &str = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c";
const MI_CONTRIBUTOR: &str = "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59";
const BLOB_READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";

const SUB: &str = "/subscriptions/11111111-0000-4000-8000-000000000001";
const OTHER_SUB: &str = "/subscriptions/22222222-0000-4000-8000-000000000002";

fn mini_operations() -> Value {
    json!({"_meta": {"WARNING": "test"}, "providers": {
        "Microsoft.Compute": {
            "Microsoft.Compute/virtualMachines/read": ["rest_map"],
            "Microsoft.Compute/virtualMachines/write": ["rest_map"],
            "Microsoft.Compute/virtualMachines/delete": ["rest_map"],
            "Microsoft.Compute/virtualMachines/runCommand/action": ["rest_map"],
            "Microsoft.Compute/virtualMachines/extensions/write": ["rest_map"]},
        "Microsoft.Authorization": {
            "Microsoft.Authorization/roleAssignments/read": ["rest_map", "role"],
            "Microsoft.Authorization/roleAssignments/write": ["rest_map", "role"],
            "Microsoft.Authorization/roleDefinitions/write": ["rest_map"],
            "Microsoft.Authorization/elevateAccess/Action": ["role"],
            "Microsoft.Authorization/elevateAccess/action": ["rest_map"]},
        "Microsoft.Storage": {
            "Microsoft.Storage/storageAccounts/read": ["rest_map"],
            "Microsoft.Storage/storageAccounts/listKeys/action": ["role"],
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read": ["role_data"]},
        "Microsoft.KeyVault": {
            "Microsoft.KeyVault/vaults/secrets/read": ["rest_map"],
            "Microsoft.KeyVault/vaults/secrets/getSecret/action": ["role_data"]},
        "Microsoft.Insights": {
            "Microsoft.Insights/DiagnosticSettings/Delete": ["role"]},
        "microsoft.insights": {
            "microsoft.insights/diagnosticSettings/delete": ["rest_map"]},
        "Microsoft.ManagedIdentity": {
            "Microsoft.ManagedIdentity/userAssignedIdentities/read": ["rest_map"],
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write": ["rest_map"]},
        "Microsoft.Automation": {
            "Microsoft.Automation/automationAccounts/runbooks/write": ["rest_map"],
            "Microsoft.Automation/automationAccounts/jobs/write": ["rest_map"]}
    }})
}

fn role(name: &str, guid: &str, actions: &[&str], not_actions: &[&str], data: &[&str]) -> Value {
    json!({"roleName": name, "name": guid,
           "id": format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
           "description": "", "actions": actions, "notActions": not_actions,
           "dataActions": data, "notDataActions": []})
}

fn mini_roles() -> Value {
    json!({"_meta": {}, "roles": [
        role("Owner", OWNER, &["*"], &[], &[]),
        role("Contributor", CONTRIBUTOR, &["*"], &["Microsoft.Authorization/*/Delete",
             "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"], &[]),
        role("Reader", READER, &["*/read"], &[], &[]),
        role("User Access Administrator", UAA, &["*/read", "Microsoft.Authorization/*"], &[], &[]),
        role("Key Vault Secrets User", KV_SECRETS_USER, &[], &[],
             &["Microsoft.KeyVault/vaults/secrets/getSecret/action"]),
        role("Virtual Machine Contributor", VM_CONTRIBUTOR,
             &["Microsoft.Compute/virtualMachines/*", "Microsoft.Authorization/*/read"], &[], &[]),
        role("Managed Identity Contributor", MI_CONTRIBUTOR,
             &["Microsoft.ManagedIdentity/userAssignedIdentities/read",
               "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"], &[], &[]),
        role("Storage Blob Data Reader", BLOB_READER, &["Microsoft.Storage/storageAccounts/read"], &[],
             &["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*"]),
    ]})
}

fn catalog_files(operations: &Value, roles: &Value) -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([
        (
            "operations_derived.json".to_string(),
            serde_json::to_vec(operations).unwrap(),
        ),
        (
            "built_in_roles.json".to_string(),
            serde_json::to_vec(roles).unwrap(),
        ),
    ])
}

fn mini() -> &'static Catalog {
    static MINI: OnceLock<Catalog> = OnceLock::new();
    MINI.get_or_init(|| Catalog::parse(&catalog_files(&mini_operations(), &mini_roles())).unwrap())
}

fn names(catalog: &Catalog, set: &PermissionSet) -> BTreeSet<String> {
    set.iter()
        .map(|i| catalog.permissions()[i as usize].name.clone())
        .collect()
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// Expected expansions, written out by hand.
const READS: [&str; 5] = [
    "Microsoft.Authorization/roleAssignments/read",
    "Microsoft.Compute/virtualMachines/read",
    "Microsoft.KeyVault/vaults/secrets/read",
    "Microsoft.ManagedIdentity/userAssignedIdentities/read",
    "Microsoft.Storage/storageAccounts/read",
];
const ALL_CONTROL: [&str; 17] = [
    "Microsoft.Authorization/elevateAccess/action",
    "Microsoft.Authorization/roleAssignments/read",
    "Microsoft.Authorization/roleAssignments/write",
    "Microsoft.Authorization/roleDefinitions/write",
    "Microsoft.Automation/automationAccounts/jobs/write",
    "Microsoft.Automation/automationAccounts/runbooks/write",
    "Microsoft.Compute/virtualMachines/delete",
    "Microsoft.Compute/virtualMachines/extensions/write",
    "Microsoft.Compute/virtualMachines/read",
    "Microsoft.Compute/virtualMachines/runCommand/action",
    "Microsoft.Compute/virtualMachines/write",
    "Microsoft.Insights/DiagnosticSettings/Delete",
    "Microsoft.KeyVault/vaults/secrets/read",
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
    "Microsoft.ManagedIdentity/userAssignedIdentities/read",
    "Microsoft.Storage/storageAccounts/listKeys/action",
    "Microsoft.Storage/storageAccounts/read",
];

// ---------------------------------------------------------------------------------------------
// Inventory helpers
// ---------------------------------------------------------------------------------------------

fn assignment(id: &str, principal_type: &str, name: &str, role_guid: &str, scope: &str) -> Value {
    json!({"id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/ra-{id}-{role_guid}"),
           "principalId": id, "principalName": name, "principalType": principal_type,
           "roleDefinitionId": format!("{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"),
           "scope": scope, "condition": null, "createdOn": "2025-01-01T00:00:00.000000+00:00"})
}

fn inventory_of(docs: &[Value]) -> Inventory {
    let docs: Vec<(String, Vec<u8>)> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (format!("doc{i}.json"), serde_json::to_vec(d).unwrap()))
        .collect();
    let inventory = parse_inventory(&docs).unwrap();
    check_role_references(&inventory, mini()).unwrap();
    inventory
}

fn by_key<'a>(all: &'a [Entitlements], id: &str) -> &'a Entitlements {
    all.iter()
        .find(|e| e.principal.key == format!("azure:{id}"))
        .unwrap_or_else(|| panic!("no entitlements for {id}"))
}

fn edges_of(docs: &[Value]) -> BTreeSet<(String, Option<String>, String, String)> {
    let inventory = inventory_of(docs);
    let ents = entitlements(&inventory, mini());
    escalation_edges(&inventory, &ents, mini())
        .into_iter()
        .map(|e| {
            assert!(!e.explanation.is_empty() && !e.permissions.is_empty());
            (e.from, e.to, e.primitive, e.resource)
        })
        .collect()
}

fn edge(
    from: &str,
    to: Option<&str>,
    primitive: &str,
    resource: &str,
) -> (String, Option<String>, String, String) {
    (
        format!("azure:{from}"),
        to.map(|t| format!("azure:{t}")),
        primitive.to_string(),
        resource.to_string(),
    )
}

// ---------------------------------------------------------------------------------------------
// Catalog
// ---------------------------------------------------------------------------------------------

#[test]
fn catalog_indexes_case_insensitively_and_keeps_one_spelling() {
    let c = mini();
    assert_eq!(c.permissions().len(), 19);
    let elevate = c
        .index_of("MICROSOFT.AUTHORIZATION/ELEVATEACCESS/ACTION")
        .unwrap();
    assert_eq!(
        c.permissions()[elevate as usize].name,
        "Microsoft.Authorization/elevateAccess/action"
    );
    let diag = c
        .index_of("microsoft.insights/diagnosticsettings/delete")
        .unwrap();
    // Capitalised namespace beats a lower-case verb.
    assert_eq!(
        c.permissions()[diag as usize].name,
        "Microsoft.Insights/DiagnosticSettings/Delete"
    );
    assert_eq!(
        c.index_of("Microsoft.Compute/virtualMachines/start/action"),
        None
    );
}

#[test]
fn catalog_takes_concrete_operations_from_built_in_roles_too() {
    let mut roles = mini_roles();
    roles["roles"][0]["actions"] = json!(["*", "Microsoft.Web/sites/config/list/Action"]);
    let c = Catalog::parse(&catalog_files(&mini_operations(), &roles)).unwrap();
    assert_eq!(c.permissions().len(), 20);
    let i = c
        .index_of("microsoft.web/sites/config/list/action")
        .unwrap();
    let info = &c.permissions()[i as usize];
    assert_eq!(info.level, AccessLevel::Read);
    assert!(info.risk.reads_secrets && info.risk.credential_exposure);
}

#[test]
fn catalog_levels_and_risk_flags_follow_vigils_rules() {
    let c = mini();
    let info = |name: &str| c.permissions()[c.index_of(name).unwrap() as usize].clone();
    let ra = info("Microsoft.Authorization/roleAssignments/write");
    assert_eq!(ra.level, AccessLevel::PermissionsManagement);
    assert!(ra.risk.privilege_escalation && !ra.risk.reads_secrets);
    let elevate = info("Microsoft.Authorization/elevateAccess/action");
    assert_eq!(elevate.level, AccessLevel::PermissionsManagement);
    assert!(elevate.risk.privilege_escalation);
    let fic =
        info("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write");
    assert_eq!(fic.level, AccessLevel::PermissionsManagement);
    assert!(fic.risk.privilege_escalation);
    let keys = info("Microsoft.Storage/storageAccounts/listKeys/action");
    assert_eq!(keys.level, AccessLevel::Read);
    assert!(keys.risk.credential_exposure && keys.risk.reads_secrets && !keys.risk.data_access);
    let secret = info("Microsoft.KeyVault/vaults/secrets/getSecret/action");
    assert_eq!(secret.level, AccessLevel::Read);
    assert!(
        secret.risk.reads_secrets && secret.risk.data_access && !secret.risk.credential_exposure
    );
    // The ARM operation returns metadata only.
    assert!(
        !info("Microsoft.KeyVault/vaults/secrets/read")
            .risk
            .reads_secrets
    );
    let diag = info("Microsoft.Insights/diagnosticSettings/delete");
    assert_eq!(diag.level, AccessLevel::Write);
    assert!(diag.risk.disables_security_tooling);
    let run = info("Microsoft.Compute/virtualMachines/runCommand/action");
    assert_eq!(run.level, AccessLevel::Write);
    assert!(run.risk.privilege_escalation);
    let write = info("Microsoft.Compute/virtualMachines/write");
    assert_eq!(write.level, AccessLevel::Write);
    assert_eq!(write.risk, Default::default());
    assert_eq!(
        info("Microsoft.Compute/virtualMachines/delete").level,
        AccessLevel::Write
    );
    assert_eq!(
        info("Microsoft.Compute/virtualMachines/read").level,
        AccessLevel::Read
    );
}

#[test]
fn catalog_classify_covers_the_tooling_and_secret_lists() {
    use super::catalog::classify;
    for tooling in [
        "microsoft.network/networkwatchers/flowlogs/delete",
        "microsoft.security/pricings/write",
        "microsoft.security/securitycontacts/delete",
        "microsoft.operationalinsights/workspaces/delete",
        "microsoft.insights/activitylogalerts/delete",
        "microsoft.aadiam/diagnosticsettings/write",
        "microsoft.keyvault/vaults/providers/microsoft.insights/diagnosticsettings/write",
    ] {
        assert!(
            classify(tooling, false).1.disables_security_tooling,
            "{tooling}"
        );
    }
    assert!(
        !classify("microsoft.security/pricings/read", false)
            .1
            .disables_security_tooling
    );
    assert!(
        !classify("microsoft.insights/diagnosticsettings/read", false)
            .1
            .disables_security_tooling
    );
    for secret in [
        "microsoft.web/sites/config/list/action",
        "microsoft.containerregistry/registries/listcredentials/action",
        "microsoft.documentdb/databaseaccounts/listconnectionstrings/action",
    ] {
        let (level, risk) = classify(secret, false);
        assert_eq!(level, AccessLevel::Read, "{secret}");
        assert!(risk.reads_secrets && risk.credential_exposure, "{secret}");
    }
    let (level, risk) = classify(
        "microsoft.storage/storageaccounts/blobservices/containers/read",
        false,
    );
    assert_eq!((level, risk.reads_secrets), (AccessLevel::Read, false));
    assert_eq!(
        classify("microsoft.compute/virtualmachines/start/action", false).0,
        AccessLevel::Write
    );
    assert_eq!(
        classify("microsoft.authorization/policyassignments/delete", false).0,
        AccessLevel::PermissionsManagement
    );
}

#[test]
fn catalog_parse_errors_name_the_file_and_the_field() {
    let missing = Catalog::parse(&BTreeMap::new()).unwrap_err().to_string();
    assert!(missing.contains("operations_derived.json"), "{missing}");

    let mut roles = mini_roles();
    roles["roles"][2]["notActions"] = json!("Microsoft.Compute/*");
    let err = Catalog::parse(&catalog_files(&mini_operations(), &roles))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("built_in_roles.json") && err.contains("roles[2].notActions"),
        "{err}"
    );

    let err = Catalog::parse(&catalog_files(&json!({"_meta": {}}), &mini_roles()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("operations_derived.json") && err.contains("providers"),
        "{err}"
    );

    let mut files = catalog_files(&mini_operations(), &mini_roles());
    files.insert("built_in_roles.json".into(), b"{not json".to_vec());
    let err = Catalog::parse(&files).unwrap_err().to_string();
    assert!(
        err.contains("built_in_roles.json") && err.contains("JSON"),
        "{err}"
    );
}

#[test]
fn glob_matches_anywhere_and_across_slashes() {
    use super::catalog::glob_match;
    let m = |p: &str, t: &str| glob_match(&p.split('*').collect::<Vec<_>>(), t);
    assert!(m(
        "microsoft.compute/*",
        "microsoft.compute/virtualmachines/read"
    ));
    assert!(m("*/read", "microsoft.compute/virtualmachines/read"));
    assert!(!m("*/read", "microsoft.compute/virtualmachines/readx"));
    assert!(m(
        "microsoft.storage/storageaccounts/*/read",
        "microsoft.storage/storageaccounts/blobservices/read"
    ));
    assert!(!m(
        "microsoft.storage/storageaccounts/*/read",
        "microsoft.storage/storageaccounts/read"
    ));
    assert!(m("a*b*c", "a-b-c") && !m("a*b*c", "a-c-b"));
    assert!(m("exact", "exact") && !m("exact", "exactly"));
}

#[test]
fn roles_expand_wildcards_minus_not_actions_per_plane() {
    let c = mini();
    let expansion = |guid: &str| c.expand_role(c.built_in_role(guid).unwrap());
    let owner = expansion(OWNER);
    assert_eq!(names(c, &owner.all), set_of(&ALL_CONTROL));
    // `*` in actions never reaches data actions.
    assert!(owner.data.is_empty());

    let mut contributor = set_of(&ALL_CONTROL);
    for excluded in [
        "Microsoft.Authorization/elevateAccess/action",
        "Microsoft.Authorization/roleAssignments/write",
        "Microsoft.Authorization/roleDefinitions/write",
    ] {
        contributor.remove(excluded);
    }
    assert_eq!(names(c, &expansion(CONTRIBUTOR).all), contributor);

    // `*/read` is control-plane only: the data action `…/blobs/read` stays out.
    assert_eq!(names(c, &expansion(READER).all), set_of(&READS));

    let mut uaa = set_of(&READS);
    uaa.extend(set_of(&[
        "Microsoft.Authorization/elevateAccess/action",
        "Microsoft.Authorization/roleAssignments/write",
        "Microsoft.Authorization/roleDefinitions/write",
    ]));
    assert_eq!(names(c, &expansion(UAA).all), uaa);

    let blob = expansion(BLOB_READER);
    assert_eq!(
        names(c, &blob.data),
        set_of(&["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"])
    );
    assert_eq!(
        names(c, &blob.control),
        set_of(&["Microsoft.Storage/storageAccounts/read"])
    );
    assert!(!blob.high_risk && expansion(CONTRIBUTOR).high_risk);
}

// ---------------------------------------------------------------------------------------------
// Inventory parsing
// ---------------------------------------------------------------------------------------------

#[test]
fn inventory_accepts_cli_rest_and_wrapped_shapes_alike() {
    let cli = json!([assignment(
        "AAAA0000-0000-4000-8000-000000000001",
        "User",
        "ann@example.com",
        READER,
        SUB
    )]);
    let rest = json!([{
        "id": format!("{SUB}/providers/Microsoft.Authorization/roleAssignments/r1"),
        "name": "r1", "type": "Microsoft.Authorization/roleAssignments",
        "properties": {"principalId": "aaaa0000-0000-4000-8000-000000000001", "principalType": "User",
            "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{READER}"),
            "createdOn": "2025-01-01T00:00:00Z"}}]);
    let wrapped = json!({"value": rest.clone()});
    for doc in [cli, rest, wrapped] {
        let inventory = inventory_of(&[doc]);
        assert_eq!(inventory.principals.len(), 1);
        let p = &inventory.principals[0];
        assert_eq!(p.key, "azure:aaaa0000-0000-4000-8000-000000000001");
        assert_eq!(p.kind, PrincipalKind::User);
        assert_eq!(p.account, "11111111-0000-4000-8000-000000000001");
        assert_eq!(p.created.unwrap().to_rfc3339(), "2025-01-01T00:00:00+00:00");
        let ents = entitlements(&inventory, mini());
        assert_eq!(names(mini(), &ents[0].allowed), set_of(&READS));
        assert_eq!(ents[0].grants[0].resources, vec![SUB.to_string()]);
    }
}

#[test]
fn inventory_reads_custom_roles_in_cli_and_rest_shapes() {
    let custom = "cccc0000-0000-4000-8000-00000000c001";
    let cli = json!([{"name": custom, "roleName": "VM Reboot", "roleType": "CustomRole",
        "id": format!("{SUB}/providers/Microsoft.Authorization/roleDefinitions/{custom}"),
        "assignableScopes": [SUB],
        "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/*"],
                          "notActions": ["Microsoft.Compute/virtualMachines/delete"],
                          "dataActions": [], "notDataActions": []}]}]);
    let rest = json!({"value": [{"name": custom, "properties": {"roleName": "VM Reboot", "type": "CustomRole",
        "assignableScopes": [SUB],
        "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/*"],
                          "notActions": ["Microsoft.Compute/virtualMachines/delete"]}]}}]});
    for defs in [cli, rest] {
        let inventory = inventory_of(&[
            defs,
            json!([assignment(
                "b0000000-0000-4000-8000-000000000001",
                "User",
                "bob",
                custom,
                SUB
            )]),
        ]);
        let ents = entitlements(&inventory, mini());
        assert_eq!(
            names(mini(), &ents[0].allowed),
            set_of(&[
                "Microsoft.Compute/virtualMachines/extensions/write",
                "Microsoft.Compute/virtualMachines/read",
                "Microsoft.Compute/virtualMachines/runCommand/action",
                "Microsoft.Compute/virtualMachines/write",
            ])
        );
        assert!(
            ents[0].grants.iter().any(|g| g.not
                && g.patterns == vec!["Microsoft.Compute/virtualMachines/delete".to_string()])
        );
        assert_eq!(ents[0].admin_equivalent, None);
    }
}

#[test]
fn inventory_errors_name_the_file_and_the_field() {
    let parse = |doc: Value| {
        parse_inventory(&[(
            "exports/ra.json".to_string(),
            serde_json::to_vec(&doc).unwrap(),
        )])
        .unwrap_err()
        .to_string()
    };
    let mut missing = assignment("a1", "User", "ann", READER, SUB);
    missing.as_object_mut().unwrap().remove("principalId");
    let err = parse(json!([assignment("a0", "User", "x", READER, SUB), missing]));
    assert!(
        err.contains("exports/ra.json") && err.contains("[1].principalId"),
        "{err}"
    );

    let mut bad_time = assignment("a1", "User", "ann", READER, SUB);
    bad_time["createdOn"] = json!("yesterday");
    let err = parse(json!([bad_time]));
    assert!(err.contains("[0].createdOn"), "{err}");

    let err = parse(json!([{"hello": 1}]));
    assert!(
        err.contains("exports/ra.json") && err.contains("[0]"),
        "{err}"
    );

    let err = parse(json!([{"roleName": "X", "name": "x", "permissions": [{"actions": "*"}]}]));
    assert!(err.contains("[0].permissions[0].actions"), "{err}");

    let err = parse(json!({"groupMembers": {"g1": "not a list"}}));
    assert!(err.contains("groupMembers.g1"), "{err}");

    let err = parse_inventory(&[("broken.json".to_string(), b"[{".to_vec())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("broken.json") && err.contains("JSON"), "{err}");
}

#[test]
fn unknown_role_reference_is_an_error_naming_file_and_assignment() {
    let unknown = "dddd0000-0000-4000-8000-00000000dead";
    let doc = json!([assignment("a1", "User", "ann", unknown, SUB)]);
    let inventory =
        parse_inventory(&[("ra.json".to_string(), serde_json::to_vec(&doc).unwrap())]).unwrap();
    let err = check_role_references(&inventory, mini())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ra.json")
            && err.contains(&format!("ra-a1-{unknown}"))
            && err.contains("roleDefinitionId"),
        "{err}"
    );
    // If the caller goes on anyway, the grant stays visible and grants nothing.
    let ents = entitlements(&inventory, mini());
    assert!(ents[0].allowed.is_empty());
    assert!(ents[0].grants[0].via.contains("found neither"));
}

#[test]
fn principal_kinds_and_managed_identity_hints() {
    let inventory = inventory_of(&[json!([
        assignment("u1", "User", "ann@example.com", READER, SUB),
        assignment("g1", "Group", "Ops", READER, SUB),
        assignment("s1", "ServicePrincipal", "http://ci", READER, SUB),
        assignment("m1", "ServicePrincipal", "id-web", READER, SUB),
        assignment(
            "m2",
            "ServicePrincipal",
            &format!(
                "{SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app"
            ),
            READER,
            SUB
        ),
    ])]);
    let kinds: BTreeMap<String, PrincipalKind> = inventory
        .principals
        .iter()
        .map(|p| (p.key.clone(), p.kind))
        .collect();
    assert_eq!(
        kinds,
        BTreeMap::from([
            ("azure:g1".to_string(), PrincipalKind::Group),
            ("azure:m1".to_string(), PrincipalKind::ManagedIdentity),
            ("azure:m2".to_string(), PrincipalKind::ManagedIdentity),
            ("azure:s1".to_string(), PrincipalKind::ServicePrincipal),
            ("azure:u1".to_string(), PrincipalKind::User),
        ])
    );
}

#[test]
fn accounts_come_from_scopes() {
    let mg = "/providers/Microsoft.Management/managementGroups/corp";
    let inventory = inventory_of(&[json!([
        assignment(
            "u1",
            "User",
            "a",
            READER,
            &format!("{OTHER_SUB}/resourceGroups/rg")
        ),
        assignment("u2", "User", "b", READER, mg),
        assignment("u3", "User", "c", READER, "/"),
    ])]);
    let account = |k: &str| {
        inventory
            .principals
            .iter()
            .find(|p| p.key == k)
            .unwrap()
            .account
            .clone()
    };
    assert_eq!(account("azure:u1"), "22222222-0000-4000-8000-000000000002");
    assert_eq!(account("azure:u2"), "corp");
    assert_eq!(account("azure:u3"), "tenant");
}

// ---------------------------------------------------------------------------------------------
// Entitlements
// ---------------------------------------------------------------------------------------------

#[test]
fn admin_equivalence_needs_role_assignment_write_at_subscription_or_wider() {
    let rg = format!("{SUB}/resourceGroups/rg");
    let inventory = inventory_of(&[json!([
        assignment("owner-sub", "User", "o1", OWNER, SUB),
        assignment("owner-rg", "User", "o2", OWNER, &rg),
        assignment("uaa-root", "User", "u1", UAA, "/"),
        assignment("contrib-sub", "User", "c1", CONTRIBUTOR, SUB),
        assignment(
            "uaa-mg",
            "User",
            "u2",
            UAA,
            "/providers/Microsoft.Management/managementGroups/corp"
        ),
    ])]);
    let ents = entitlements(&inventory, mini());
    let admin = |id: &str| by_key(&ents, id).admin_equivalent.clone();
    assert_eq!(admin("owner-sub"), Some(format!("Owner at {SUB}")));
    assert_eq!(admin("owner-rg"), None);
    assert_eq!(
        admin("uaa-root"),
        Some("User Access Administrator at /".to_string())
    );
    assert_eq!(admin("contrib-sub"), None);
    assert!(admin("uaa-mg").is_some());
}

#[test]
fn reach_follows_the_widest_high_risk_scope() {
    let rg = format!("{SUB}/resourceGroups/rg");
    let vm = format!("{rg}/providers/Microsoft.Compute/virtualMachines/vm1");
    let inventory = inventory_of(&[json!([
        assignment("r1", "User", "a", CONTRIBUTOR, &vm),
        assignment("r2", "User", "b", CONTRIBUTOR, &vm),
        assignment("r2", "User", "b", VM_CONTRIBUTOR, &rg),
        assignment("r3", "User", "c", CONTRIBUTOR, SUB),
        // Reader writes nothing: its scope does not count.
        assignment("r4", "User", "d", READER, SUB),
        assignment("r4", "User", "d", VM_CONTRIBUTOR, &vm),
    ])]);
    let ents = entitlements(&inventory, mini());
    let reach = |id: &str| by_key(&ents, id).reach;
    assert_eq!(reach("r1"), 0.25);
    assert_eq!(reach("r2"), 0.5);
    assert_eq!(reach("r3"), 1.0);
    assert_eq!(reach("r4"), 0.25);
}

#[test]
fn abac_conditions_make_permissions_conditional_and_are_kept() {
    let condition = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'logs'";
    let account =
        format!("{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1");
    let mut conditional = assignment("u1", "User", "ann", BLOB_READER, &account);
    conditional["condition"] = json!(condition);
    conditional["conditionVersion"] = json!("2.0");
    let inventory = inventory_of(&[json!([
        conditional,
        // An unconditional Reader grants storageAccounts/read outright.
        assignment("u1", "User", "ann", READER, SUB),
    ])]);
    let ents = entitlements(&inventory, mini());
    let e = by_key(&ents, "u1");
    assert_eq!(
        names(mini(), &e.conditional),
        set_of(&["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"])
    );
    let mut allowed = set_of(&READS);
    allowed.insert("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read".into());
    assert_eq!(names(mini(), &e.allowed), allowed);
    let kept: Vec<_> = e.grants.iter().filter(|g| g.condition.is_some()).collect();
    assert_eq!(
        kept.len(),
        2,
        "actions and dataActions grants of the conditional assignment"
    );
    assert!(
        kept.iter()
            .all(|g| g.condition.as_deref() == Some(condition))
    );
    assert!(kept.iter().all(|g| g.resources == vec![account.clone()]));
}

#[test]
fn groups_pass_their_assignments_to_members_transitively() {
    let members = json!({"groupMembers": {
        "G-OUTER": ["g-inner"],
        "g-inner": [{"id": "u1", "@odata.type": "#microsoft.graph.user", "userPrincipalName": "ann@example.com"},
                    {"id": "m1", "@odata.type": "#microsoft.graph.servicePrincipal", "servicePrincipalType": "ManagedIdentity", "displayName": "app-mi"},
                    "g-outer"]
    }});
    let inventory = inventory_of(&[
        json!([
            assignment("g-outer", "Group", "Outer", OWNER, SUB),
            assignment("u2", "User", "bob", READER, SUB)
        ]),
        members,
    ]);
    let ents = entitlements(&inventory, mini());
    let ann = by_key(&ents, "u1");
    assert_eq!(ann.principal.name, "ann@example.com");
    assert_eq!(
        ann.principal.member_of,
        vec!["azure:g-inner".to_string(), "azure:g-outer".to_string()]
    );
    assert_eq!(
        ann.admin_equivalent,
        Some(format!("Owner at {SUB} via group Outer"))
    );
    assert_eq!(names(mini(), &ann.allowed), set_of(&ALL_CONTROL));
    let mi = by_key(&ents, "m1");
    assert_eq!(mi.principal.kind, PrincipalKind::ManagedIdentity);
    // The cycle outer → inner → outer ends.
    assert_eq!(
        by_key(&ents, "g-outer").principal.member_of,
        vec!["azure:g-inner".to_string()]
    );
    assert_eq!(
        by_key(&ents, "g-inner").principal.kind,
        PrincipalKind::Group
    );
    assert!(by_key(&ents, "u2").principal.member_of.is_empty());
}

#[test]
fn without_membership_a_groups_roles_stay_on_the_group() {
    let inventory = inventory_of(&[json!([
        assignment("g1", "Group", "Ops", OWNER, SUB),
        assignment("u1", "User", "ann", READER, SUB)
    ])]);
    assert!(!inventory.group_members_known);
    let ents = entitlements(&inventory, mini());
    assert!(by_key(&ents, "g1").admin_equivalent.is_some());
    assert_eq!(by_key(&ents, "u1").admin_equivalent, None);
}

// ---------------------------------------------------------------------------------------------
// Escalation primitives
// ---------------------------------------------------------------------------------------------

const RG: &str = "/subscriptions/11111111-0000-4000-8000-000000000001/resourceGroups/app-rg";
const OTHER_RG: &str =
    "/subscriptions/11111111-0000-4000-8000-000000000001/resourceGroups/other-rg";

fn kv_in(rg: &str) -> String {
    format!("{rg}/providers/Microsoft.KeyVault/vaults/kv1")
}

#[test]
fn role_assignment_write_at_subscription_is_admin_and_at_a_group_reaches_its_identities() {
    let mut conditional = assignment("cond", "User", "c", UAA, SUB);
    conditional["condition"] =
        json!("@Request[roleDefinitionId] ForAnyOfAnyValues:GuidEquals {acdd72a7}");
    let edges = edges_of(&[json!([
        conditional,
        assignment("rg-admin", "ServicePrincipal", "http://ci", UAA, RG),
        assignment("lonely", "User", "l", UAA, OTHER_RG),
        assignment(
            "mi-near",
            "ServicePrincipal",
            "id-near",
            KV_SECRETS_USER,
            &kv_in(RG)
        ),
        assignment(
            "mi-far",
            "ServicePrincipal",
            "id-far",
            KV_SECRETS_USER,
            &kv_in(OTHER_SUB)
        ),
    ])]);
    assert_eq!(
        edges,
        BTreeSet::from([
            // A conditional UAA at the subscription is not admin-equivalent, so the step is listed
            // (its explanation carries the condition).
            edge("cond", None, "azure.role-assignment-write", SUB),
            edge(
                "rg-admin",
                Some("mi-near"),
                "azure.role-assignment-write",
                RG
            ),
        ])
    );
}

#[test]
fn role_definition_write_on_a_custom_role_held_by_oneself() {
    let custom = "cccc0000-0000-4000-8000-00000000c0de";
    let other = "cccc0000-0000-4000-8000-00000000c0ff";
    let definer = "eeee0000-0000-4000-8000-00000000def0";
    let defs = json!([
        {"name": custom, "roleName": "Own Role", "assignableScopes": [SUB],
         "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/read"]}]},
        {"name": other, "roleName": "Foreign Role", "assignableScopes": [OTHER_SUB],
         "permissions": [{"actions": ["Microsoft.Compute/virtualMachines/read"]}]},
        {"name": definer, "roleName": "Role Definer", "assignableScopes": [SUB, OTHER_SUB],
         "permissions": [{"actions": ["Microsoft.Authorization/roleDefinitions/write"]}]}
    ]);
    let edges = edges_of(&[
        defs,
        json!([
            assignment("p1", "User", "a", definer, SUB),
            assignment("p1", "User", "a", custom, SUB),
            // Assignable only in another subscription, where p1 cannot write definitions.
            assignment("p1", "User", "a", other, OTHER_SUB),
            // Holds the custom role but cannot edit it.
            assignment("p2", "User", "b", custom, SUB),
        ]),
    ]);
    assert_eq!(
        edges,
        BTreeSet::from([edge("p1", None, "azure.role-definition-write", custom)])
    );
}

#[test]
fn elevate_access_only_when_named_explicitly() {
    let elevator = "eeee0000-0000-4000-8000-0000000e1e7a";
    let defs = json!([{"name": elevator, "roleName": "Break Glass", "assignableScopes": [SUB],
        "permissions": [{"actions": ["Microsoft.Authorization/elevateAccess/Action"]}]}]);
    let edges = edges_of(&[
        defs,
        json!([
            assignment("bg", "User", "a", elevator, RG),
            // User Access Administrator holds it only through `Microsoft.Authorization/*`.
            assignment("uaa-rg", "User", "b", UAA, OTHER_RG),
        ]),
    ]);
    assert_eq!(
        edges,
        BTreeSet::from([edge(
            "bg",
            None,
            "azure.elevate-access",
            "/providers/Microsoft.Authorization/elevateAccess"
        )])
    );
}

#[test]
fn federated_credential_write_reaches_the_identity_it_covers() {
    let identity =
        format!("{OTHER_RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-deploy");
    let rid_identity =
        format!("{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app");
    let edges = edges_of(&[json!([
        assignment("w1", "User", "a", MI_CONTRIBUTOR, &identity),
        assignment("w2", "User", "b", MI_CONTRIBUTOR, RG),
        assignment("target", "ServicePrincipal", "id-deploy", READER, OTHER_SUB),
        assignment(
            "bystander",
            "ServicePrincipal",
            "id-other",
            READER,
            OTHER_SUB
        ),
        // Named by its resource id: exact coverage.
        assignment("rid", "ServicePrincipal", &rid_identity, READER, OTHER_SUB),
    ])]);
    assert_eq!(
        edges,
        BTreeSet::from([
            edge(
                "w1",
                Some("target"),
                "azure.managed-identity-federated-credential",
                &identity
            ),
            edge(
                "w2",
                Some("rid"),
                "azure.managed-identity-federated-credential",
                RG
            ),
        ])
    );
}

#[test]
fn vm_run_command_reaches_identities_sharing_the_resource_group() {
    let vm = format!("{RG}/providers/Microsoft.Compute/virtualMachines/vm1");
    let storage = format!("{RG}/providers/Microsoft.Storage/storageAccounts/st1");
    let edges = edges_of(&[json!([
        assignment("op-rg", "User", "a", VM_CONTRIBUTOR, RG),
        assignment("op-vm", "User", "b", VM_CONTRIBUTOR, &vm),
        // Run command on a storage account scope covers no VM.
        assignment("op-st", "User", "c", VM_CONTRIBUTOR, &storage),
        assignment("op-sub", "User", "d", VM_CONTRIBUTOR, OTHER_SUB),
        assignment(
            "mi-app",
            "ServicePrincipal",
            "id-app",
            KV_SECRETS_USER,
            &kv_in(RG)
        ),
        assignment(
            "mi-other",
            "ServicePrincipal",
            "id-other",
            KV_SECRETS_USER,
            &kv_in(OTHER_RG)
        ),
        // A plain service principal in the group is no managed identity.
        assignment(
            "sp",
            "ServicePrincipal",
            "http://app",
            KV_SECRETS_USER,
            &kv_in(RG)
        ),
    ])]);
    assert_eq!(
        edges,
        BTreeSet::from([
            edge("op-rg", Some("mi-app"), "azure.vm-run-command", RG),
            edge("op-vm", Some("mi-app"), "azure.vm-run-command", &vm),
        ])
    );
}

#[test]
fn steps_to_identities_that_add_nothing_are_left_out() {
    let edges = edges_of(&[json!([
        // Holds, over the whole resource group, everything the identity holds on its vault.
        assignment("op", "User", "a", VM_CONTRIBUTOR, RG),
        assignment("op", "User", "a", KV_SECRETS_USER, RG),
        // Holds the same role on one vault only: the identity's grant on another vault is new.
        assignment("op2", "User", "b", VM_CONTRIBUTOR, RG),
        assignment(
            "op2",
            "User",
            "b",
            KV_SECRETS_USER,
            &format!("{RG}/providers/Microsoft.KeyVault/vaults/kv2")
        ),
        assignment(
            "mi",
            "ServicePrincipal",
            "id-app",
            KV_SECRETS_USER,
            &kv_in(RG)
        ),
    ])]);
    assert_eq!(
        edges,
        BTreeSet::from([edge("op2", Some("mi"), "azure.vm-run-command", RG)])
    );
}

#[test]
fn automation_runbook_needs_runbook_and_job_writes() {
    let both = "aaaa0000-0000-4000-8000-00000000a070";
    let half = "aaaa0000-0000-4000-8000-00000000a071";
    let defs = json!([
        {"name": both, "roleName": "Runbook Operator", "assignableScopes": [SUB],
         "permissions": [{"actions": ["Microsoft.Automation/automationAccounts/runbooks/write",
                                       "Microsoft.Automation/automationAccounts/jobs/write"]}]},
        {"name": half, "roleName": "Runbook Author", "assignableScopes": [SUB],
         "permissions": [{"actions": ["Microsoft.Automation/automationAccounts/runbooks/write"]}]}
    ]);
    let edges = edges_of(&[
        defs,
        json!([
            assignment("ops", "User", "a", both, RG),
            assignment("author", "User", "b", half, RG),
            assignment("mi", "ServicePrincipal", "id-automation", READER, RG),
        ]),
    ]);
    assert_eq!(
        edges,
        BTreeSet::from([edge("ops", Some("mi"), "azure.automation-runbook", RG)])
    );
}

#[test]
fn admins_and_groups_get_no_edges() {
    let edges = edges_of(&[json!([
        assignment("owner", "User", "a", OWNER, SUB),
        assignment("grp", "Group", "Ops", VM_CONTRIBUTOR, RG),
        assignment(
            "mi",
            "ServicePrincipal",
            "id-app",
            KV_SECRETS_USER,
            &kv_in(RG)
        ),
    ])]);
    assert!(edges.is_empty(), "{edges:?}");
}

#[test]
fn group_members_inherit_escalation_steps() {
    let edges = edges_of(&[
        json!([
            assignment("grp", "Group", "Ops", VM_CONTRIBUTOR, RG),
            assignment(
                "mi",
                "ServicePrincipal",
                "id-app",
                KV_SECRETS_USER,
                &kv_in(RG)
            ),
        ]),
        json!({"groupMembers": {"grp": ["u1"]}}),
    ]);
    assert_eq!(
        edges,
        BTreeSet::from([edge("u1", Some("mi"), "azure.vm-run-command", RG)])
    );
}

// ---------------------------------------------------------------------------------------------
// Usage mapping
// ---------------------------------------------------------------------------------------------

fn observed<'a>(service: &'a str, operation: &'a str, permission: &'a str) -> ObservedAction<'a> {
    ObservedAction {
        service,
        operation,
        permission,
    }
}

#[test]
fn events_map_case_insensitively_with_gaps_and_sign_ins() {
    let c = mini();
    let name_of = |v: Option<Vec<u32>>| {
        v.map(|v| {
            v.iter()
                .map(|i| c.permissions()[*i as usize].name.clone())
                .collect::<Vec<_>>()
        })
    };
    let map = |p: &str| name_of(event_permissions(observed("x", p, p), c));
    assert_eq!(
        map("Microsoft.Compute/Virtualmachines/Write"),
        Some(vec!["Microsoft.Compute/virtualMachines/write".to_string()])
    );
    assert_eq!(
        map("Microsoft.KeyVault/vaults/secrets/read"),
        Some(vec!["Microsoft.KeyVault/vaults/secrets/read".to_string()])
    );
    assert_eq!(
        map("Microsoft.KeyVault/SecretGet"),
        Some(vec![
            "Microsoft.KeyVault/vaults/secrets/getSecret/action".to_string()
        ])
    );
    assert_eq!(
        name_of(event_permissions(
            observed(
                "Microsoft.aadiam",
                "Sign-in activity",
                "Microsoft.aadiam/signIn"
            ),
            c
        )),
        Some(vec![])
    );
    assert_eq!(map("Microsoft.Compute/virtualMachines/start/action"), None);
    assert_eq!(
        map("microsoft.directory/usermanagement/add member to group"),
        None
    );
    assert_eq!(map("Microsoft.KeyVault/VaultGet"), None);
    // `unknown` permission, operation still present.
    assert_eq!(
        name_of(event_permissions(
            observed(
                "Microsoft.Compute",
                "Microsoft.Compute/virtualMachines/delete",
                "unknown"
            ),
            c
        )),
        Some(vec!["Microsoft.Compute/virtualMachines/delete".to_string()])
    );
}

#[test]
fn usage_belongs_to_is_key_equality_ignoring_case() {
    assert!(usage_belongs_to(
        "azure:6b1e0000-aaaa",
        "azure:6B1E0000-AAAA"
    ));
    assert!(!usage_belongs_to(
        "azure:6b1e0000-aaaa",
        "azure:6b1e0000-bbbb"
    ));
}

// ---------------------------------------------------------------------------------------------
// Right-sizing
// ---------------------------------------------------------------------------------------------

fn used(entries: &[(&str, u64, &[&str])]) -> BTreeMap<String, UsedPermission> {
    entries
        .iter()
        .map(|(name, count, resources)| {
            (
                name.to_string(),
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
fn rightsize_writes_a_custom_role_of_used_granted_operations() {
    let inventory = inventory_of(&[json!([
        assignment("u1", "User", "ann@example.com", CONTRIBUTOR, SUB),
        assignment("u1", "User", "ann@example.com", BLOB_READER, RG),
    ])]);
    let ents = entitlements(&inventory, mini());
    let e = by_key(&ents, "u1");
    let vm = format!("{RG}/providers/Microsoft.Compute/virtualMachines/vm1");
    let blob = format!(
        "{RG}/providers/Microsoft.Storage/storageAccounts/st1/blobServices/default/containers/c1/blobs/x"
    );
    let usage = used(&[
        ("Microsoft.Compute/virtualMachines/write", 6, &[vm.as_str()]),
        (
            "microsoft.storage/storageaccounts/blobservices/containers/blobs/read",
            2,
            &[blob.as_str()],
        ),
        // Used but not granted (Contributor cannot assign roles): left out.
        ("Microsoft.Authorization/roleAssignments/write", 1, &[SUB]),
        ("Not/A/Catalog/Operation", 1, &[]),
    ]);
    let r = rightsize(e, &usage, mini());
    assert_eq!(r.identity, "azure:u1");
    assert_eq!(r.format, "azure_custom_role");
    assert_eq!(
        r.kept,
        vec![
            "Microsoft.Compute/virtualMachines/write".to_string(),
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read".to_string(),
        ]
    );
    // Contributor's 14 control operations + the blob data action, minus the 2 kept.
    assert_eq!(e.allowed.len(), 15);
    assert_eq!(r.removed.len(), 13);
    assert!(
        r.removed
            .contains(&"Microsoft.Compute/virtualMachines/delete".to_string())
    );
    assert!(!r.removed.iter().any(|n| r.kept.contains(n)));
    let doc = &r.document;
    assert_eq!(doc["Name"], "ann@example.com-rightsized");
    assert_eq!(doc["IsCustom"], true);
    assert_eq!(
        doc["Actions"],
        json!(["Microsoft.Compute/virtualMachines/write"])
    );
    assert_eq!(
        doc["DataActions"],
        json!(["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"])
    );
    assert_eq!(doc["NotActions"], json!([]));
    assert_eq!(doc["NotDataActions"], json!([]));
    assert_eq!(doc["AssignableScopes"], json!([RG]));
    assert!(doc["Description"].as_str().unwrap().contains("azure:u1"));
}

#[test]
fn rightsize_scopes_widen_to_subscription_and_fall_back_to_assignments() {
    let inventory = inventory_of(&[json!([assignment("u1", "User", "ann", OWNER, RG)])]);
    let ents = entitlements(&inventory, mini());
    let e = by_key(&ents, "u1");
    let vm = format!("{RG}/providers/Microsoft.Compute/virtualMachines/vm1");
    let sub_level = format!("{SUB}/providers/microsoft.insights/diagnosticSettings/to-siem");
    let r = rightsize(
        e,
        &used(&[
            ("Microsoft.Compute/virtualMachines/write", 1, &[vm.as_str()]),
            (
                "Microsoft.Insights/diagnosticSettings/delete",
                1,
                &[sub_level.as_str()],
            ),
        ]),
        mini(),
    );
    assert_eq!(r.document["AssignableScopes"], json!([SUB]));

    let r = rightsize(e, &BTreeMap::new(), mini());
    assert!(r.kept.is_empty());
    assert_eq!(r.removed.len(), 17);
    assert_eq!(r.document["Actions"], json!([]));
    assert_eq!(r.document["AssignableScopes"], json!([RG]));
}

// ---------------------------------------------------------------------------------------------
// The real catalog and the sample inventory
// ---------------------------------------------------------------------------------------------

fn real() -> &'static Catalog {
    static REAL: OnceLock<Catalog> = OnceLock::new();
    REAL.get_or_init(|| {
        let dir = std::path::Path::new("/work/shared/iam-catalog/azure");
        let files = Catalog::FILES
            .iter()
            .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
            .collect();
        Catalog::parse(&files).unwrap()
    })
}

fn sample_inventory() -> Inventory {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/inventory/azure");
    let docs: Vec<(String, Vec<u8>)> = [
        "role-assignments.json",
        "role-definitions.json",
        "group-members.json",
    ]
    .iter()
    .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
    .collect();
    let inventory = parse_inventory(&docs).unwrap();
    check_role_references(&inventory, real()).unwrap();
    inventory
}

#[test]
fn real_catalog_parses_and_classes_the_known_operations() {
    let c = real();
    assert!(c.permissions().len() > 11_000, "{}", c.permissions().len());
    let owner = c.expand_role(c.built_in_role(OWNER).unwrap());
    let contributor = c.expand_role(c.built_in_role(CONTRIBUTOR).unwrap());
    let ra = c
        .index_of("microsoft.authorization/roleassignments/write")
        .unwrap();
    assert!(owner.all.contains(ra) && !contributor.all.contains(ra));
    assert!(owner.data.is_empty());
    let secret = c
        .index_of("Microsoft.KeyVault/vaults/secrets/getSecret/action")
        .unwrap();
    let kv = c.expand_role(c.built_in_role(KV_SECRETS_USER).unwrap());
    assert!(kv.data.contains(secret) && !owner.all.contains(secret));
    for (name, check) in [
        ("Microsoft.Insights/diagnosticSettings/delete", 0),
        ("Microsoft.Security/pricings/write", 0),
        ("Microsoft.Network/networkWatchers/flowLogs/delete", 0),
        ("Microsoft.Storage/storageAccounts/listKeys/action", 1),
        ("Microsoft.Web/sites/config/list/action", 1),
        ("Microsoft.Compute/virtualMachines/runCommand/action", 2),
    ] {
        let info = &c.permissions()[c.index_of(name).unwrap() as usize];
        let flagged = match check {
            0 => info.risk.disables_security_tooling,
            1 => info.risk.reads_secrets,
            _ => info.risk.privilege_escalation,
        };
        assert!(flagged, "{name}");
    }
}

#[test]
fn sample_events_map_to_catalog_operations() {
    let c = real();
    for permission in [
        "Microsoft.Compute/virtualMachines/write",
        "Microsoft.Authorization/roleAssignments/write",
        "Microsoft.Insights/diagnosticSettings/delete",
        "Microsoft.KeyVault/vaults/secrets/read",
    ] {
        let mapped = event_permissions(observed("", permission, permission), c).unwrap();
        assert_eq!(mapped.len(), 1, "{permission}");
    }
    assert_eq!(
        event_permissions(
            observed(
                "Microsoft.aadiam",
                "Sign-in activity",
                "Microsoft.aadiam/signIn"
            ),
            c
        ),
        Some(vec![])
    );
}

#[test]
fn sample_inventory_shows_every_finding_and_a_two_step_path() {
    let c = real();
    let inventory = sample_inventory();
    let ents = entitlements(&inventory, c);
    assert_eq!(ents.len(), 7);
    let carol = by_key(&ents, "6b1e0000-0000-4000-8000-0000000ca401");
    assert_eq!(
        carol.admin_equivalent.as_deref(),
        Some("Owner at /subscriptions/3f2a1b0c-0000-4000-8000-00000000a2e0")
    );
    let flagged = |e: &Entitlements, f: fn(&crate::permissions::model::RiskFlags) -> bool| {
        e.allowed
            .iter()
            .any(|i| f(&c.permissions()[i as usize].risk))
    };
    assert!(flagged(carol, |r| r.reads_secrets) && flagged(carol, |r| r.disables_security_tooling));
    let web = by_key(&ents, "8d3a0000-0000-4000-8000-0000000a1b01");
    assert_eq!(web.principal.kind, PrincipalKind::ManagedIdentity);
    assert!(flagged(web, |r| r.reads_secrets));
    let secops = by_key(&ents, "4a5b0000-0000-4000-8000-00000000a5a1");
    assert!(flagged(secops, |r| r.disables_security_tooling));
    let erin = by_key(&ents, "2f3e0000-0000-4000-8000-0000000e5a11");
    assert!(!erin.conditional.is_empty());
    assert_eq!(
        erin.principal.member_of,
        vec!["azure:4a5b0000-0000-4000-8000-00000000a5a1".to_string()]
    );
    let dave = by_key(&ents, "7c2f0000-0000-4000-8000-0000000da4e1");
    assert_eq!((dave.admin_equivalent.as_deref(), dave.reach), (None, 1.0));

    let edges: BTreeSet<(String, Option<String>, String)> = escalation_edges(&inventory, &ents, c)
        .into_iter()
        .map(|e| (e.from, e.to, e.primitive))
        .collect();
    let key = |id: &str| format!("azure:{id}");
    let ci = key("5e0d0000-0000-4000-8000-0000000de901");
    let web_key = key("8d3a0000-0000-4000-8000-0000000a1b01");
    let deploy = key("9e4b0000-0000-4000-8000-0000000ad301");
    assert!(
        edges.contains(&(
            ci.clone(),
            Some(web_key.clone()),
            "azure.role-assignment-write".into()
        )),
        "{edges:?}"
    );
    assert!(
        edges.contains(&(
            web_key.clone(),
            Some(deploy.clone()),
            "azure.managed-identity-federated-credential".into()
        )),
        "{edges:?}"
    );
    assert!(
        !edges
            .iter()
            .any(|(from, to, _)| from == &ci && to.as_ref() == Some(&deploy))
    );
    assert!(
        by_key(&ents, "9e4b0000-0000-4000-8000-0000000ad301")
            .admin_equivalent
            .is_some()
    );
}

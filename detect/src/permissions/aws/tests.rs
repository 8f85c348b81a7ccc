#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Tests over a hand-written mini catalog (logic) and, once per binary, the real catalog and the
//! shipped sample inventory.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::catalog::{Catalog, ManagedPolicy};
use super::policy::parse_policy;
use super::*;
use crate::permissions::{
    AccessLevel, Effect, Entitlements, ObservedAction, PermissionCatalog, PrincipalKind,
    UsedPermission,
};

pub(super) const ACCT: &str = "111122223333";

/// The mini catalog: (service, action, level, supports resource-level permissions).
pub(super) fn mini() -> Catalog {
    use AccessLevel::*;
    let rows: &[(&str, &str, AccessLevel, bool)] = &[
        ("s3", "GetObject", Read, true),
        ("s3", "GetBucketPolicy", Read, true),
        ("s3", "ListBucket", List, true),
        ("s3", "ListAllMyBuckets", List, false),
        ("s3", "PutObject", Write, true),
        ("s3", "DeleteBucket", Write, true),
        ("iam", "GetUser", Read, true),
        ("iam", "CreateAccessKey", PermissionsManagement, true),
        ("iam", "DeleteAccessKey", PermissionsManagement, true),
        ("iam", "PassRole", PermissionsManagement, true),
        ("iam", "AttachUserPolicy", PermissionsManagement, true),
        ("iam", "AttachGroupPolicy", PermissionsManagement, true),
        ("iam", "AttachRolePolicy", PermissionsManagement, true),
        ("iam", "PutUserPolicy", PermissionsManagement, true),
        ("iam", "PutGroupPolicy", PermissionsManagement, true),
        ("iam", "PutRolePolicy", PermissionsManagement, true),
        ("iam", "CreatePolicyVersion", PermissionsManagement, true),
        (
            "iam",
            "SetDefaultPolicyVersion",
            PermissionsManagement,
            true,
        ),
        ("iam", "AddUserToGroup", PermissionsManagement, true),
        ("iam", "CreateLoginProfile", PermissionsManagement, true),
        ("iam", "UpdateLoginProfile", PermissionsManagement, true),
        ("iam", "UpdateAssumeRolePolicy", PermissionsManagement, true),
        (
            "iam",
            "DeleteUserPermissionsBoundary",
            PermissionsManagement,
            true,
        ),
        (
            "iam",
            "DeleteRolePermissionsBoundary",
            PermissionsManagement,
            true,
        ),
        (
            "iam",
            "PutUserPermissionsBoundary",
            PermissionsManagement,
            true,
        ),
        (
            "iam",
            "PutRolePermissionsBoundary",
            PermissionsManagement,
            true,
        ),
        ("iam", "CreateInstanceProfile", Write, true),
        ("iam", "AddRoleToInstanceProfile", Write, true),
        ("sts", "AssumeRole", Write, true),
        ("sts", "GetCallerIdentity", Read, false),
        ("lambda", "CreateFunction", Write, true),
        ("lambda", "InvokeFunction", Write, true),
        ("lambda", "UpdateFunctionCode", Write, true),
        ("lambda", "CreateEventSourceMapping", Write, false),
        ("lambda", "GetFunction", Read, true),
        ("ec2", "RunInstances", Write, true),
        ("ec2", "DescribeInstances", List, false),
        ("cloudformation", "CreateStack", Write, true),
        ("glue", "CreateDevEndpoint", Write, false),
        ("secretsmanager", "GetSecretValue", Read, true),
        ("cloudtrail", "StopLogging", Write, true),
        ("kms", "Decrypt", Write, true),
    ];
    let admin = parse_policy(
        &json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        "AdministratorAccess",
    )
    .unwrap();
    let trail = json!({
        "eventsource_to_iam_prefix": {
            "s3.amazonaws.com": "s3", "lambda.amazonaws.com": "lambda", "sts.amazonaws.com": "sts",
            "iam.amazonaws.com": "iam", "ec2.amazonaws.com": "ec2"
        },
        "sdk_service_to_iam_prefix": {"STS": "sts"},
        "permissionless_calls": ["STS.GetCallerIdentity"],
        "events": {
            "s3.amazonaws.com": {"ListBuckets": ["s3:ListAllMyBuckets"], "Retired": ["s3:NoSuchAction"]},
            "lambda.amazonaws.com": {"CreateFunction20150331": ["lambda:CreateFunction", "iam:PassRole"]}
        },
        "events_unknown_eventsource": {"glue": {"CreateDevEndpoint": ["glue:CreateDevEndpoint"]}}
    });
    Catalog::for_tests(
        rows,
        vec![(
            "arn:aws:iam::aws:policy/AdministratorAccess",
            ManagedPolicy {
                name: "AdministratorAccess".into(),
                statements: admin.statements,
            },
        )],
        &trail,
    )
    .unwrap()
}

pub(super) fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCT}:user/{name}")
}
pub(super) fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCT}:role/{name}")
}
pub(super) fn group_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCT}:group/{name}")
}

pub(super) fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

pub(super) fn user(name: &str, statements: Value) -> Value {
    json!({"UserName": name, "Arn": user_arn(name),
           "UserPolicyList": [{"PolicyName": format!("{name}-inline"), "PolicyDocument": doc(statements)}]})
}

pub(super) fn role(name: &str, trust: Value, statements: Value) -> Value {
    json!({"RoleName": name, "Arn": role_arn(name), "AssumeRolePolicyDocument": doc(trust),
           "RolePolicyList": [{"PolicyName": format!("{name}-inline"), "PolicyDocument": doc(statements)}]})
}

pub(super) fn details(
    users: Value,
    groups: Value,
    roles: Value,
    policies: Value,
) -> (String, Vec<u8>) {
    let body = json!({"UserDetailList": users, "GroupDetailList": groups,
                      "RoleDetailList": roles, "Policies": policies});
    (
        "details.json".to_string(),
        serde_json::to_vec(&body).unwrap(),
    )
}

pub(super) fn load(docs: &[(String, Vec<u8>)]) -> (Inventory, Vec<Entitlements>) {
    let inventory = parse_inventory(docs).unwrap();
    let ents = entitlements(&inventory, mini_catalog());
    (inventory, ents)
}

pub(super) fn mini_catalog() -> &'static Catalog {
    static MINI: OnceLock<Catalog> = OnceLock::new();
    MINI.get_or_init(mini)
}

pub(super) fn ent<'a>(ents: &'a [Entitlements], key: &str) -> &'a Entitlements {
    ents.iter().find(|e| e.principal.key == key).unwrap()
}

pub(super) fn names(
    set: &crate::permissions::PermissionSet,
    catalog: &Catalog,
) -> BTreeSet<String> {
    set.iter().map(|i| catalog.name(i).to_string()).collect()
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn allow(action: Value, resource: Value) -> Value {
    json!({"Effect": "Allow", "Action": action, "Resource": resource})
}

// ---------------------------------------------------------------- expansion

#[test]
fn wildcards_expand_against_the_catalog_case_insensitively() {
    let c = mini_catalog();
    assert_eq!(
        names(&c.expand_pattern("s3:Get*"), c),
        set_of(&["s3:GetBucketPolicy", "s3:GetObject"])
    );
    assert_eq!(c.expand_pattern("*").len(), c.len());
    assert_eq!(c.expand_pattern("*:*").len(), c.len());
    assert_eq!(c.expand_pattern("s3:*").len(), 6);
    assert_eq!(
        names(&c.expand_pattern("S3:getobjec?"), c),
        set_of(&["s3:GetObject"])
    );
    assert_eq!(
        names(&c.expand_pattern("*:Create*Key"), c),
        set_of(&["iam:CreateAccessKey"])
    );
    assert!(c.expand_pattern("nosuchservice:*").is_empty());
    assert_eq!(
        c.index_of("IAM:createaccesskey"),
        c.index_of("iam:CreateAccessKey")
    );
}

#[test]
fn not_action_allows_everything_but_the_listed_actions() {
    let (_, ents) = load(&[details(
        json!([user(
            "nora",
            json!([{"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}])
        )]),
        json!([]),
        json!([]),
        json!([]),
    )]);
    let c = mini_catalog();
    let nora = ent(&ents, &user_arn("nora"));
    let got = names(&nora.allowed, c);
    assert_eq!(
        got.len(),
        c.len() - 22 - 2,
        "22 iam and 2 sts actions left out"
    );
    assert!(
        got.iter()
            .all(|n| !n.starts_with("iam:") && !n.starts_with("sts:"))
    );
    assert!(got.contains("s3:DeleteBucket"));
    assert!(nora.grants[0].not);
    assert_eq!(nora.admin_equivalent, None);
}

#[test]
fn blanket_deny_removes_and_limited_denies_are_kept_as_evidence() {
    let (_, ents) = load(&[details(
        json!([user(
            "dina",
            json!([
                allow(json!("s3:*"), json!("*")),
                {"Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::prod/*"},
                {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
                 "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}
            ])
        )]),
        json!([]),
        json!([]),
        json!([]),
    )]);
    let c = mini_catalog();
    let dina = ent(&ents, &user_arn("dina"));
    assert_eq!(
        names(&dina.allowed, c),
        set_of(&[
            "s3:GetBucketPolicy",
            "s3:GetObject",
            "s3:ListAllMyBuckets",
            "s3:ListBucket",
            "s3:PutObject"
        ])
    );
    assert_eq!(dina.grants.len(), 4);
    assert!(!dina.grants[1].via.contains("not subtracted"));
    assert!(dina.grants[2].via.contains("not subtracted"));
    assert!(dina.grants[3].via.contains("not subtracted"));
    assert!(
        dina.grants[3]
            .condition
            .as_deref()
            .unwrap()
            .contains("MultiFactorAuthPresent")
    );
}

#[test]
fn conditions_mark_permissions_conditional_and_keep_the_json() {
    let (_, ents) = load(&[details(
        json!([user(
            "cora",
            json!([
                allow(json!(["s3:GetObject", "s3:PutObject"]), json!("*")),
                {"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteBucket"], "Resource": "*",
                 "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}
            ])
        )]),
        json!([]),
        json!([]),
        json!([]),
    )]);
    let c = mini_catalog();
    let cora = ent(&ents, &user_arn("cora"));
    assert_eq!(
        names(&cora.allowed, c),
        set_of(&["s3:DeleteBucket", "s3:GetObject", "s3:PutObject"])
    );
    // PutObject is also allowed unconditionally, so only DeleteBucket hangs on the condition.
    assert_eq!(names(&cora.conditional, c), set_of(&["s3:DeleteBucket"]));
    let cond: Value = serde_json::from_str(cora.grants[1].condition.as_deref().unwrap()).unwrap();
    assert_eq!(cond, json!({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}));
}

#[test]
fn boundary_intersects_and_group_policies_say_where_they_come_from() {
    let boundary = json!({
        "PolicyName": "cap", "Arn": format!("arn:aws:iam::{ACCT}:policy/cap"), "DefaultVersionId": "v1",
        "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": doc(json!([
            allow(json!(["s3:Get*", "s3:List*"]), json!("*")),
            {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}
        ]))}]
    });
    let mut bea = user("bea", json!([allow(json!("iam:GetUser"), json!("*"))]));
    bea["GroupList"] = json!(["admins"]);
    bea["PermissionsBoundary"] = json!({"PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": format!("arn:aws:iam::{ACCT}:policy/cap")});
    let admins = json!({"GroupName": "admins", "Arn": group_arn("admins"),
        "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]});
    let (inventory, ents) = load(&[details(
        json!([bea]),
        json!([admins]),
        json!([]),
        json!([boundary]),
    )]);
    let c = mini_catalog();
    let bea = ent(&ents, &user_arn("bea"));
    assert_eq!(
        names(&bea.allowed, c),
        set_of(&[
            "iam:GetUser",
            "s3:GetBucketPolicy",
            "s3:GetObject",
            "s3:ListAllMyBuckets",
            "s3:ListBucket"
        ])
    );
    // The boundary only lets GetUser through under its condition.
    assert_eq!(names(&bea.conditional, c), set_of(&["iam:GetUser"]));
    assert_eq!(
        bea.admin_equivalent, None,
        "the boundary cuts AdministratorAccess"
    );
    assert!(
        bea.grants
            .iter()
            .any(|g| g.via.starts_with("policy AdministratorAccess")
                && g.via.ends_with("via group admins"))
    );
    assert!(
        bea.grants
            .iter()
            .any(|g| g.via.contains("as permissions boundary (a cap"))
    );
    assert_eq!(bea.principal.member_of, vec![group_arn("admins")]);
    let group = ent(&ents, &group_arn("admins"));
    assert_eq!(group.principal.kind, PrincipalKind::Group);
    assert_eq!(
        group.admin_equivalent.as_deref(),
        Some(
            "allows *:* on * (policy AdministratorAccess (arn:aws:iam::aws:policy/AdministratorAccess) attached to group admins)"
        )
    );
    assert_eq!(
        inventory.principals.len(),
        3,
        "bea, admins and the account root"
    );
}

#[test]
fn reach_follows_the_widest_high_risk_grant() {
    let users = json!([
        user("wide", json!([allow(json!("s3:PutObject"), json!("*"))])),
        user(
            "path",
            json!([
                allow(json!("s3:PutObject"), json!("arn:aws:s3:::logs-*")),
                allow(json!("s3:GetObject"), json!("*"))
            ])
        ),
        user(
            "named",
            json!([allow(
                json!(["s3:PutObject", "s3:DeleteBucket"]),
                json!(["arn:aws:s3:::a", "arn:aws:s3:::b/key"])
            )])
        ),
        user("reader", json!([allow(json!("s3:Get*"), json!("*"))])),
        user(
            "denied",
            json!([allow(json!("s3:PutObject"), json!("*")), {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}])
        )
    ]);
    let (_, ents) = load(&[details(users, json!([]), json!([]), json!([]))]);
    let reach = |n: &str| ent(&ents, &user_arn(n)).reach;
    assert_eq!(reach("wide"), 1.0);
    assert_eq!(reach("path"), 0.5);
    assert_eq!(reach("named"), 0.25);
    assert_eq!(reach("reader"), 0.0, "reads do not count");
    assert_eq!(reach("denied"), 0.0, "a denied write reaches nothing");
}

#[test]
fn admin_equivalence_needs_everything_on_star_unconditionally() {
    let users = json!([
        user("star", json!([allow(json!("*"), json!("*"))])),
        user(
            "split",
            json!([allow(json!("iam:*"), json!("*")), {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}])
        ),
        user(
            "scoped",
            json!([allow(json!("*"), json!("arn:aws:s3:::bucket"))])
        ),
        user(
            "conditional",
            json!([{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}])
        ),
        user(
            "denied",
            json!([allow(json!("*"), json!("*")), {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}])
        )
    ]);
    let (inventory, ents) = load(&[details(users, json!([]), json!([]), json!([]))]);
    let admin = |n: &str| ent(&ents, &user_arn(n)).admin_equivalent.clone();
    assert_eq!(
        admin("star").as_deref(),
        Some("allows *:* on * (inline policy star-inline of user star)")
    );
    assert_eq!(
        admin("split").as_deref(),
        Some("allows every action on * (inline policy split-inline of user split)")
    );
    assert_eq!(admin("scoped"), None);
    assert_eq!(admin("conditional"), None);
    assert_eq!(admin("denied"), None);
    let root = ent(&ents, &format!("arn:aws:iam::{ACCT}:root"));
    assert_eq!(root.principal.kind, PrincipalKind::Root);
    assert!(
        root.admin_equivalent
            .as_deref()
            .unwrap()
            .contains("root user")
    );
    assert_eq!(root.allowed.len(), mini_catalog().len());
    assert_eq!(
        inventory.principals.last().unwrap().key,
        format!("arn:aws:iam::{ACCT}:root")
    );
}

#[test]
fn unknown_managed_policy_is_reported_not_guessed() {
    let mut u = user("gus", json!([allow(json!("s3:GetObject"), json!("*"))]));
    u["AttachedManagedPolicies"] =
        json!([{"PolicyName": "gone", "PolicyArn": format!("arn:aws:iam::{ACCT}:policy/gone")}]);
    let (_, ents) = load(&[details(json!([u]), json!([]), json!([]), json!([]))]);
    let gus = ent(&ents, &user_arn("gus"));
    assert_eq!(gus.allowed.len(), 1);
    assert!(
        gus.grants
            .iter()
            .any(|g| g.via.contains("policy/gone") && g.via.contains("not expanded"))
    );
}

// ---------------------------------------------------------------- inventory shapes and errors

#[test]
fn url_encoded_documents_and_paths_are_read() {
    let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
    let users = json!([{"UserName": "pat", "Arn": format!("arn:aws:iam::{ACCT}:user/division/pat"),
        "GroupList": [], "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": encoded}]}]);
    let roles = json!([{"RoleName": "r", "Arn": role_arn("svc/r"),
        "AssumeRolePolicyDocument": "%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%7D"}]);
    let (inventory, ents) = load(&[details(users, json!([]), roles, json!([]))]);
    let pat = ent(&ents, &format!("arn:aws:iam::{ACCT}:user/division/pat"));
    assert_eq!(
        names(&pat.allowed, mini_catalog()),
        set_of(&["s3:GetObject"])
    );
    assert_eq!(pat.principal.account, ACCT);
    assert_eq!(pat.principal.name, "pat");
    let r = &inventory.roles[&role_arn("svc/r")];
    assert!(holder::trusts_service(r, "ec2.amazonaws.com"));
}

fn inventory_error(docs: &[(String, Vec<u8>)]) -> (String, String) {
    match parse_inventory(docs) {
        Err(crate::DetectError::Inventory { file, reason }) => (file, reason),
        other => panic!("expected an inventory error, got {other:?}"),
    }
}

#[test]
fn inventory_errors_name_the_file_and_the_field() {
    let (file, reason) = inventory_error(&[details(
        json!([{"UserName": "x"}]),
        json!([]),
        json!([]),
        json!([]),
    )]);
    assert_eq!(file, "details.json");
    assert_eq!(reason, "UserDetailList[0].Arn: missing");

    let bad_effect = json!([user(
        "y",
        json!([{"Effect": "Permit", "Action": "s3:*", "Resource": "*"}])
    )]);
    let (_, reason) = inventory_error(&[details(bad_effect, json!([]), json!([]), json!([]))]);
    assert_eq!(
        reason,
        "UserDetailList[0].UserPolicyList[0].PolicyDocument.Statement[0].Effect: expected Allow or Deny, found \"Permit\""
    );

    let no_resource = json!([user("z", json!([{"Effect": "Allow", "Action": "s3:*"}]))]);
    let (_, reason) = inventory_error(&[details(no_resource, json!([]), json!([]), json!([]))]);
    assert!(
        reason.ends_with("Statement[0]: neither Resource nor NotResource"),
        "{reason}"
    );

    let no_trust = json!([{"RoleName": "r", "Arn": role_arn("r")}]);
    let (_, reason) = inventory_error(&[details(json!([]), json!([]), no_trust, json!([]))]);
    assert_eq!(
        reason,
        "RoleDetailList[0].AssumeRolePolicyDocument: missing"
    );

    let policy = json!([{"PolicyName": "p", "Arn": "arn:aws:iam::1:policy/p", "DefaultVersionId": "v2",
        "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": false, "Document": doc(json!([]))}]}]);
    let (_, reason) = inventory_error(&[details(json!([]), json!([]), json!([]), policy)]);
    assert_eq!(
        reason,
        "Policies[0].PolicyVersionList: no version is the default (v2)"
    );

    let (file, reason) = inventory_error(&[("notes.txt".into(), b"hello".to_vec())]);
    assert_eq!(file, "notes.txt");
    assert!(reason.starts_with("unrecognised document"), "{reason}");

    let (_, reason) = inventory_error(&[("x.json".into(), br#"{"Something": []}"#.to_vec())]);
    assert!(reason.starts_with("unrecognised JSON document"), "{reason}");

    let (_, reason) = inventory_error(&[("x.json.gz".into(), vec![0x1f, 0x8b, 8, 0])]);
    assert_eq!(reason, "gzip-compressed: decompress it first");

    let keys = br#"{"AccessKeyMetadata": [{"UserName": "u", "Status": "Active"}]}"#;
    let (_, reason) = inventory_error(&[("keys.json".into(), keys.to_vec())]);
    assert_eq!(reason, "AccessKeyMetadata[0].AccessKeyId: missing");

    let report = "user,arn,user_creation_time\nu,arn:aws:iam::1:user/u,yesterday\n";
    let (_, reason) = inventory_error(&[("report.csv".into(), report.as_bytes().to_vec())]);
    assert_eq!(
        reason,
        "credential report line 2, column user_creation_time: not a time: \"yesterday\""
    );

    let short = "user,arn,user_creation_time\nu,arn:aws:iam::1:user/u\n";
    let (_, reason) = inventory_error(&[("report.csv".into(), short.as_bytes().to_vec())]);
    assert_eq!(
        reason,
        "credential report line 2: 2 fields, the header has 3"
    );
}

const REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::111122223333:root,2019-03-01T09:00:00+00:00,not_supported,2026-11-20T07:58:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
kim,arn:aws:iam::111122223333:user/kim,2023-02-14T16:15:00+00:00,false,N/A,N/A,N/A,false,true,2023-02-14T16:20:00+00:00,N/A,N/A,N/A,false,2024-01-01T00:00:00+00:00,2024-02-01T00:00:00+00:00,eu-west-1,s3,false,N/A,false,N/A
lee,arn:aws:iam::111122223333:user/lee,2021-04-12T08:30:00+00:00,true,2026-11-18T17:02:00+00:00,2026-08-01T09:00:00+00:00,N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
";

#[test]
fn credential_report_and_access_key_listing_merge() {
    let keys = br#"{"AccessKeyMetadata": [
        {"UserName": "kim", "AccessKeyId": "AKIAKIMFIRST", "Status": "Active", "CreateDate": "2023-02-14T16:20:00+00:00"},
        {"UserName": "kim", "AccessKeyId": "AKIAKIMSECOND", "Status": "Inactive", "CreateDate": "2024-01-01T00:00:00Z"}]}"#;
    let users = json!([user(
        "kim",
        json!([allow(json!("s3:GetObject"), json!("*"))])
    )]);
    let inventory = parse_inventory(&[
        ("report.csv".into(), REPORT.as_bytes().to_vec()),
        ("keys-kim.json".into(), keys.to_vec()),
        details(users, json!([]), json!([]), json!([])),
    ])
    .unwrap();
    let kim = inventory
        .principals
        .iter()
        .find(|p| p.key == user_arn("kim"))
        .unwrap();
    assert_eq!(
        kim.created.unwrap().to_rfc3339(),
        "2023-02-14T16:15:00+00:00"
    );
    let ids: Vec<(&str, &str, bool, Option<String>)> = kim
        .credentials
        .iter()
        .map(|c| {
            (
                c.id.as_str(),
                c.kind.as_str(),
                c.active,
                c.last_used.map(|d| d.to_rfc3339()),
            )
        })
        .collect();
    assert_eq!(
        ids,
        vec![
            ("AKIAKIMFIRST", "access_key", true, None),
            (
                "AKIAKIMSECOND",
                "access_key",
                false,
                Some("2024-02-01T00:00:00+00:00".into())
            ),
        ]
    );
    // lee exists only in the report: a user with no policies, a password and no keys.
    let lee = inventory
        .principals
        .iter()
        .find(|p| p.key == user_arn("lee"))
        .unwrap();
    assert_eq!(lee.kind, PrincipalKind::User);
    assert_eq!(lee.credentials.len(), 1);
    assert_eq!(lee.credentials[0].kind, "login_profile");
    let root = inventory
        .principals
        .iter()
        .find(|p| p.kind == PrincipalKind::Root)
        .unwrap();
    assert_eq!(root.key, "arn:aws:iam::111122223333:root");
    assert_eq!(root.credentials.len(), 1, "the root password, seen used");
    assert_eq!(
        inventory
            .principals
            .iter()
            .filter(|p| p.kind == PrincipalKind::Root)
            .count(),
        1
    );
}

#[test]
fn credential_report_json_with_base64_content_is_read() {
    let encoded = base64_encode(REPORT.as_bytes());
    let body = json!({"Content": encoded, "ReportFormat": "text/csv", "GeneratedTime": "2026-11-21T00:00:00Z"});
    let inventory =
        parse_inventory(&[("report.json".into(), serde_json::to_vec(&body).unwrap())]).unwrap();
    let keys: Vec<&str> = inventory
        .principals
        .iter()
        .map(|p| p.key.as_str())
        .collect();
    assert_eq!(
        keys,
        vec![
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:user/kim",
            "arn:aws:iam::111122223333:user/lee"
        ]
    );
    assert_eq!(
        super::inventory::base64_decode_for_tests("aGk=").unwrap(),
        b"hi"
    );
    assert!(super::inventory::base64_decode_for_tests("a*b").is_err());
}

fn base64_encode(bytes: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------- usage

fn observed<'a>(service: &'a str, operation: &'a str, permission: &'a str) -> ObservedAction<'a> {
    ObservedAction {
        service,
        operation,
        permission,
    }
}

fn mapped(action: ObservedAction<'_>, c: &Catalog) -> Option<Vec<String>> {
    event_permissions(action, c).map(|v| v.into_iter().map(|i| c.name(i).to_string()).collect())
}

#[test]
fn events_map_through_the_trail_map_with_fallbacks_and_gaps() {
    let c = mini_catalog();
    assert_eq!(
        mapped(
            observed("s3.amazonaws.com", "ListBuckets", "s3:ListBuckets"),
            c
        ),
        Some(vec!["s3:ListAllMyBuckets".into()])
    );
    // Dated API versions are stripped before the lookup.
    assert_eq!(
        mapped(
            observed(
                "lambda.amazonaws.com",
                "CreateFunction20150331",
                "lambda:CreateFunction"
            ),
            c
        ),
        Some(vec!["lambda:CreateFunction".into(), "iam:PassRole".into()])
    );
    assert_eq!(
        mapped(
            observed("lambda.amazonaws.com", "UpdateFunctionCode20150331v2", ""),
            c
        ),
        Some(vec!["lambda:UpdateFunctionCode".into()])
    );
    // A mapping to retired actions falls through to prefix:eventName, absent here: a gap.
    assert_eq!(
        mapped(observed("s3.amazonaws.com", "Retired", "s3:Retired"), c),
        None
    );
    assert_eq!(
        mapped(observed("glue.amazonaws.com", "CreateDevEndpoint", ""), c),
        Some(vec!["glue:CreateDevEndpoint".into()])
    );
    // Lake permission column as the last resort.
    assert_eq!(
        mapped(
            observed(
                "secretsmanager.amazonaws.com",
                "GetSecretValue",
                "secretsmanager:GetSecretValue"
            ),
            c
        ),
        Some(vec!["secretsmanager:GetSecretValue".into()])
    );
    // No permission needed: an empty list, not a gap.
    assert_eq!(
        mapped(
            observed(
                "sts.amazonaws.com",
                "GetCallerIdentity",
                "sts:GetCallerIdentity"
            ),
            c
        ),
        Some(vec![])
    );
    assert_eq!(
        mapped(
            observed(
                "signin.amazonaws.com",
                "ConsoleLogin",
                "signin:ConsoleLogin"
            ),
            c
        ),
        Some(vec![])
    );
    assert_eq!(
        mapped(
            observed("example.amazonaws.com", "DoThing", "example:DoThing"),
            c
        ),
        None
    );
}

#[test]
fn identity_center_sessions_belong_to_their_role() {
    let sso = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef";
    assert!(usage_belongs_to(sso, sso));
    assert!(usage_belongs_to(sso, &format!("{sso}/alice@example.com")));
    assert!(!usage_belongs_to(sso, &format!("{sso}/a/b")));
    assert!(!usage_belongs_to(sso, &format!("{sso}/")));
    assert!(!usage_belongs_to(sso, &format!("{sso}x/alice@example.com")));
    let plain = "arn:aws:iam::111122223333:role/ci";
    assert!(usage_belongs_to(plain, plain));
    assert!(
        !usage_belongs_to(plain, "arn:aws:iam::111122223333:role/ci/deployer"),
        "a role under path /ci/, not a session"
    );
    assert!(!usage_belongs_to(
        "arn:aws:iam::111122223333:user/bob",
        "arn:aws:iam::111122223333:user/bobby"
    ));
}

// ---------------------------------------------------------------- rightsize

fn used(entries: &[(&str, u64, &[&str])]) -> BTreeMap<String, UsedPermission> {
    entries
        .iter()
        .map(|(name, count, resources)| {
            (
                name.to_string(),
                UsedPermission {
                    count: *count,
                    resources: resources.iter().map(|r| r.to_string()).collect(),
                    ..UsedPermission::default()
                },
            )
        })
        .collect()
}

#[test]
fn rightsized_policy_scopes_resources_seen_and_diffs_the_grant() {
    let (_, ents) = load(&[details(
        json!([user(
            "ria",
            json!([allow(
                json!([
                    "s3:*",
                    "secretsmanager:GetSecretValue",
                    "lambda:UpdateFunctionCode"
                ]),
                json!("*")
            )])
        )]),
        json!([]),
        json!([]),
        json!([]),
    )]);
    let c = mini_catalog();
    let ria = ent(&ents, &user_arn("ria"));
    let usage = used(&[
        (
            "s3:GetObject",
            4,
            &["arn:aws:s3:::reports/a.csv", "arn:aws:s3:::reports/b.csv"],
        ),
        ("S3:LISTALLMYBUCKETS", 1, &["arn:aws:s3:::reports"]),
        ("secretsmanager:GetSecretValue", 2, &["prod/db/password"]),
        ("lambda:UpdateFunctionCode", 3, &[]),
        ("iam:CreateAccessKey", 1, &[]),
        ("nosuch:Thing", 1, &[]),
    ]);
    let r = rightsize(ria, &usage, c);
    assert_eq!(r.identity, user_arn("ria"));
    assert_eq!(r.format, "aws_iam_policy");
    assert_eq!(
        r.document,
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Lambda", "Effect": "Allow", "Action": ["lambda:UpdateFunctionCode"], "Resource": "*"},
            // ListAllMyBuckets takes no resource: `*` whatever the events named.
            {"Sid": "S3", "Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "*"},
            {"Sid": "S32", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": ["arn:aws:s3:::reports/a.csv", "arn:aws:s3:::reports/b.csv"]},
            // A secret name is not an ARN: `*` rather than a wrong resource.
            {"Sid": "Secretsmanager", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": "*"}
        ]})
    );
    assert_eq!(
        r.kept,
        vec![
            "lambda:UpdateFunctionCode",
            "s3:GetObject",
            "s3:ListAllMyBuckets",
            "secretsmanager:GetSecretValue"
        ]
    );
    // Granted: 6 s3 + GetSecretValue + UpdateFunctionCode = 8; kept 4; iam:CreateAccessKey was never granted.
    assert_eq!(
        r.removed,
        vec![
            "s3:DeleteBucket",
            "s3:GetBucketPolicy",
            "s3:ListBucket",
            "s3:PutObject"
        ]
    );
}

#[test]
fn rightsize_with_nothing_used_removes_everything() {
    let (_, ents) = load(&[details(
        json!([user("idle", json!([allow(json!("s3:Get*"), json!("*"))]))]),
        json!([]),
        json!([]),
        json!([]),
    )]);
    let r = rightsize(
        ent(&ents, &user_arn("idle")),
        &BTreeMap::new(),
        mini_catalog(),
    );
    assert_eq!(
        r.document,
        json!({"Version": "2012-10-17", "Statement": []})
    );
    assert!(r.kept.is_empty());
    assert_eq!(r.removed, vec!["s3:GetBucketPolicy", "s3:GetObject"]);
}

// ---------------------------------------------------------------- catalog errors

fn catalog_files(actions: &str) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert("iam_actions.json".to_string(), actions.as_bytes().to_vec());
    files.insert(
        "managed_policies.json".to_string(),
        br#"{"policies": {"P": {"arn": "arn:aws:iam::aws:policy/P", "document": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}}}"#.to_vec(),
    );
    files.insert(
        "cloudtrail_map.json".to_string(),
        br#"{"eventsource_to_iam_prefix": {}, "sdk_service_to_iam_prefix": {}, "permissionless_calls": [], "events": {}, "events_unknown_eventsource": {}}"#.to_vec(),
    );
    files.insert(
        "sensitive_actions.json".to_string(),
        br#"{"iam": {"DataAccess": ["S3:GETOBJECT", "s3:Gone"]}}"#.to_vec(),
    );
    files
}

#[test]
fn catalog_parses_small_files_and_reports_bad_fields() {
    let good = r#"{"services": {"s3": {"actions": {"GetObject": {"access_level": "Read", "resource_types": ["object*"]},
        "PutBucketPolicy": {"access_level": "Write", "access_level_override": "Permissions management"}}}}}"#;
    let c = Catalog::parse(&catalog_files(good)).unwrap();
    let get = &c.permissions()[c.index_of("s3:GetObject").unwrap() as usize];
    assert!(get.risk.data_access);
    assert_eq!(get.level, AccessLevel::Read);
    let put = &c.permissions()[c.index_of("s3:PutBucketPolicy").unwrap() as usize];
    assert_eq!(put.level, AccessLevel::PermissionsManagement);
    assert!(
        c.managed_policy("arn:aws-us-gov:iam::aws:policy/P")
            .is_some()
    );

    let missing_level = r#"{"services": {"s3": {"actions": {"GetObject": {}}}}}"#;
    match Catalog::parse(&catalog_files(missing_level)) {
        Err(crate::DetectError::Catalog { file, reason }) => {
            assert_eq!(file, "iam_actions.json");
            assert_eq!(
                reason,
                "services.s3.actions.GetObject.access_level: missing"
            );
        }
        other => panic!("{other:?}"),
    }
    let mut files = catalog_files(good);
    files.remove("cloudtrail_map.json");
    match Catalog::parse(&files) {
        Err(crate::DetectError::Catalog { file, reason }) => {
            assert_eq!(
                (file.as_str(), reason.as_str()),
                ("cloudtrail_map.json", "not given")
            );
        }
        other => panic!("{other:?}"),
    }
    let mut files = catalog_files(good);
    files.insert(
        "managed_policies.json".into(),
        br#"{"policies": {"P": {"document": {"Statement": [{"Effect": "Allow", "Resource": "*"}]}}}}"#.to_vec(),
    );
    match Catalog::parse(&files) {
        Err(crate::DetectError::Catalog { file, reason }) => {
            assert_eq!(file, "managed_policies.json");
            assert_eq!(
                reason,
                "policies.P.document.Statement[0]: neither Action nor NotAction"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn api_version_suffixes_are_stripped() {
    use super::catalog::strip_api_version;
    assert_eq!(
        strip_api_version("UpdateFunctionCode20150331v2"),
        "UpdateFunctionCode"
    );
    assert_eq!(strip_api_version("GetFunction20150331"), "GetFunction");
    assert_eq!(
        strip_api_version("CreateDistribution2020_05_31"),
        "CreateDistribution"
    );
    assert_eq!(strip_api_version("GetObject"), "GetObject");
    assert_eq!(
        strip_api_version("DescribeDBInstances"),
        "DescribeDBInstances"
    );
}

// ---------------------------------------------------------------- the real catalog and the sample

fn real_catalog() -> &'static Catalog {
    static REAL: OnceLock<Catalog> = OnceLock::new();
    REAL.get_or_init(|| {
        let dir = std::path::Path::new("/work/shared/iam-catalog/aws");
        let files = Catalog::FILES
            .iter()
            .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
            .collect();
        Catalog::parse(&files).unwrap()
    })
}

fn sample() -> (Inventory, Vec<Entitlements>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/inventory/aws");
    let docs: Vec<(String, Vec<u8>)> = [
        "account-authorization-details.json",
        "credential-report.csv",
        "access-keys-bob.json",
        "access-keys-carol.json",
    ]
    .iter()
    .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
    .collect();
    let inventory = parse_inventory(&docs).unwrap();
    let ents = entitlements(&inventory, real_catalog());
    (inventory, ents)
}

#[test]
fn real_catalog_levels_flags_and_event_mapping() {
    let c = real_catalog();
    assert_eq!(c.len(), 21_788);
    let info = |n: &str| &c.permissions()[c.index_of(n).unwrap() as usize];
    assert_eq!(
        info("iam:PassRole").level,
        AccessLevel::PermissionsManagement
    );
    assert!(info("iam:CreateAccessKey").risk.privilege_escalation);
    assert!(info("secretsmanager:GetSecretValue").risk.reads_secrets);
    assert!(info("ssm:GetParametersByPath").risk.reads_secrets);
    assert!(!info("kms:Decrypt").risk.reads_secrets);
    assert!(
        info("cloudtrail:StopLogging")
            .risk
            .disables_security_tooling
    );
    assert!(info("logs:DeleteLogGroup").risk.disables_security_tooling);
    assert!(
        !info("cloudtrail:LookupEvents")
            .risk
            .disables_security_tooling
    );
    assert_eq!(
        mapped(
            observed(
                "lambda.amazonaws.com",
                "UpdateFunctionCode20150331v2",
                "lambda:UpdateFunctionCode"
            ),
            c
        ),
        Some(vec!["lambda:UpdateFunctionCode".into()])
    );
    assert_eq!(
        mapped(
            observed("s3.amazonaws.com", "ListBuckets", "s3:ListBuckets"),
            c
        ),
        Some(vec!["s3:ListAllMyBuckets".into()])
    );
    assert_eq!(
        mapped(
            observed(
                "sts.amazonaws.com",
                "GetCallerIdentity",
                "sts:GetCallerIdentity"
            ),
            c
        ),
        Some(vec![])
    );
    assert_eq!(
        mapped(
            observed(
                "signin.amazonaws.com",
                "ConsoleLogin",
                "signin:ConsoleLogin"
            ),
            c
        ),
        Some(vec![])
    );
    assert_eq!(
        mapped(
            observed("nosuch.amazonaws.com", "DoThing", "nosuch:DoThing"),
            c
        ),
        None
    );
}

#[test]
fn sample_inventory_findings_hold_with_the_real_catalog() {
    let c = real_catalog();
    let (inventory, ents) = sample();
    let key = |k: &str| format!("arn:aws:iam::{ACCT}:{k}");
    let sso =
        key("role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef");
    let admins: BTreeSet<String> = ents
        .iter()
        .filter(|e| e.admin_equivalent.is_some())
        .map(|e| e.principal.key.clone())
        .collect();
    let expected: BTreeSet<String> = [
        key("user/bob"),
        key("group/admins"),
        sso.clone(),
        key("role/service-role/lambda-admin"),
        key("root"),
    ]
    .into_iter()
    .collect();
    assert_eq!(admins, expected);
    assert_eq!(
        ent(&ents, &key("user/bob")).admin_equivalent.as_deref(),
        Some(
            "allows *:* on * (policy AdministratorAccess (arn:aws:iam::aws:policy/AdministratorAccess) via group admins)"
        )
    );
    // dave: ReadOnlyAccess and sts:AssumeRole capped by a boundary.
    let dave = ent(&ents, &key("user/engineering/dave"));
    let dave_names = names(&dave.allowed, c);
    assert!(dave_names.contains("sts:AssumeRole"));
    assert!(dave_names.contains("ec2:DescribeInstances"));
    assert!(
        !dave_names.contains("s3:GetObject"),
        "the boundary has no s3:Get*"
    );
    assert!(dave_names.iter().all(|n| {
        ["sts:", "ec2:", "lambda:", "logs:", "s3:", "cloudwatch:"]
            .iter()
            .any(|p| n.starts_with(p))
    }));
    // carol reads secrets, behind a conditional deny kept as evidence.
    let carol = ent(&ents, &key("user/carol"));
    assert!(
        carol
            .allowed
            .iter()
            .any(|i| c.permissions()[i as usize].risk.reads_secrets)
    );
    assert!(
        carol
            .grants
            .iter()
            .any(|g| g.effect == Effect::Deny && g.via.contains("not subtracted"))
    );
    assert_eq!(carol.reach, 0.0, "carol only reads");
    let carol_p = inventory
        .principals
        .iter()
        .find(|p| p.key == key("user/carol"))
        .unwrap();
    assert_eq!(carol_p.credentials.len(), 1);
    assert_eq!(carol_p.credentials[0].id, "AKIASAMPLECAROL01");
    assert_eq!(carol_p.credentials[0].last_used, None);
    let ci = ent(&ents, &key("role/ci-deployer"));
    assert_eq!(ci.reach, 1.0, "iam:PassRole on *");
    assert_eq!(
        ent(&ents, &key("group/auditors")).principal.kind,
        PrincipalKind::Group
    );
    assert_eq!(
        external_trusts(&inventory),
        BTreeMap::from([(
            key("role/vendor-audit"),
            vec!["arn:aws:iam::444455556666:root".to_string()]
        )])
    );
    // The usage keys of the sample events join the inventory keys.
    for usage_key in [
        format!("{sso}/alice@example.com"),
        key("role/ci-deployer"),
        key("user/bob"),
        key("root"),
    ] {
        assert!(
            ents.iter()
                .any(|e| usage_belongs_to(&e.principal.key, &usage_key)),
            "{usage_key}"
        );
    }
    // bob's right-sized policy from what the sample events show.
    let bob = ent(&ents, &key("user/bob"));
    let r = rightsize(
        bob,
        &used(&[
            ("s3:ListAllMyBuckets", 1, &[]),
            ("secretsmanager:GetSecretValue", 1, &[]),
            (
                "iam:CreateAccessKey",
                1,
                &["arn:aws:iam::111122223333:user/ci-backup"],
            ),
            (
                "cloudtrail:StopLogging",
                1,
                &["arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail"],
            ),
        ]),
        c,
    );
    assert_eq!(r.kept.len(), 4);
    assert_eq!(r.removed.len(), c.len() - 4);
    // The event names ci-backup without its IAM path (/service/): both forms are allowed.
    assert_eq!(
        r.document["Statement"][1]["Resource"],
        json!([
            "arn:aws:iam::111122223333:user/*/ci-backup",
            "arn:aws:iam::111122223333:user/ci-backup"
        ])
    );
    assert_eq!(
        r.document["Statement"][0],
        json!({"Sid": "Cloudtrail", "Effect": "Allow", "Action": ["cloudtrail:StopLogging"],
               "Resource": ["arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail"]})
    );
}

#[test]
fn sample_inventory_has_a_two_step_path_to_admin() {
    let c = real_catalog();
    let (inventory, ents) = sample();
    let edges = escalation_edges(&inventory, &ents, c);
    let key = |k: &str| format!("arn:aws:iam::{ACCT}:{k}");
    let summary: BTreeSet<(String, String, Option<String>)> = edges
        .iter()
        .map(|e| (e.from.clone(), e.primitive.clone(), e.to.clone()))
        .collect();
    let expected: BTreeSet<(String, String, Option<String>)> = [
        (
            key("user/engineering/dave"),
            "aws.assume-role",
            Some(key("role/ci-deployer")),
        ),
        (
            key("role/ci-deployer"),
            "aws.passrole-lambda",
            Some(key("role/service-role/lambda-admin")),
        ),
        (
            key("role/ci-deployer"),
            "aws.passrole-lambda",
            Some(key("role/service-role/orders-api-role")),
        ),
        (
            key("role/ci-deployer"),
            "aws.lambda-update-function-code",
            Some(key("role/service-role/lambda-admin")),
        ),
        (
            key("role/ci-deployer"),
            "aws.lambda-update-function-code",
            Some(key("role/service-role/orders-api-role")),
        ),
    ]
    .into_iter()
    .map(|(a, b, c)| (a, b.to_string(), c))
    .collect();
    assert_eq!(summary, expected);
    let pass = edges
        .iter()
        .find(|e| {
            e.primitive == "aws.passrole-lambda"
                && e.to.as_deref() == Some(&key("role/service-role/lambda-admin"))
        })
        .unwrap();
    assert_eq!(
        pass.permissions,
        vec![
            "iam:PassRole",
            "lambda:CreateFunction",
            "lambda:InvokeFunction"
        ]
    );
}

#[test]
fn iam_resources_seen_without_a_path_also_match_any_path() {
    use super::rightsize::with_any_iam_path;
    assert_eq!(
        with_any_iam_path("arn:aws:iam::111122223333:role/deployer"),
        vec![
            "arn:aws:iam::111122223333:role/deployer",
            "arn:aws:iam::111122223333:role/*/deployer"
        ]
    );
    // Already carrying a path, or not an IAM principal: kept as it is.
    assert_eq!(
        with_any_iam_path("arn:aws:iam::111122223333:role/service-role/deployer"),
        vec!["arn:aws:iam::111122223333:role/service-role/deployer"]
    );
    assert_eq!(
        with_any_iam_path("arn:aws:iam::111122223333:policy/p"),
        vec!["arn:aws:iam::111122223333:policy/p"]
    );
    assert_eq!(
        with_any_iam_path("arn:aws:s3:::bucket/key"),
        vec!["arn:aws:s3:::bucket/key"]
    );
}

#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One test per escalation primitive, with inventories small enough to know the answer by hand.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::tests::{
    ACCT, details, doc, group_arn, load, mini_catalog, role, role_arn, user, user_arn,
};
use super::*;
use crate::permissions::EscalationEdge;

/// Edges as (from, primitive, to), keys shortened to what follows the account id.
fn edges(docs: &[(String, Vec<u8>)]) -> (BTreeSet<(String, String, String)>, Vec<EscalationEdge>) {
    let (inventory, ents) = load(docs);
    let all = escalation_edges(&inventory, &ents, mini_catalog());
    let short = |k: &str| {
        k.trim_start_matches(&format!("arn:aws:iam::{ACCT}:"))
            .to_string()
    };
    let set = all
        .iter()
        .map(|e| {
            (
                short(&e.from),
                e.primitive.clone(),
                e.to.as_deref().map_or("ADMIN".to_string(), short),
            )
        })
        .collect();
    (set, all)
}

fn set(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    items
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

fn allow(action: Value, resource: impl Into<Value>) -> Value {
    json!({"Effect": "Allow", "Action": action, "Resource": resource.into()})
}

fn trust_account() -> Value {
    json!([{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCT}:root")}, "Action": "sts:AssumeRole"}])
}

fn trust_service(service: &str) -> Value {
    json!([{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}])
}

fn admin_role(name: &str, trust: Value) -> Value {
    role(name, trust, json!([allow(json!("*"), "*")]))
}

fn nothing() -> Value {
    json!([])
}

#[test]
fn assume_role_needs_trust_and_permission_on_the_role() {
    let roles = json!([
        admin_role("target", trust_account()),
        role(
            "named",
            json!([{"Effect": "Allow", "Principal": {"AWS": user_arn("ned")}, "Action": "sts:AssumeRole"}]),
            json!([allow(json!("s3:GetObject"), "*")])
        ),
        role(
            "external",
            json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"}]),
            json!([allow(json!("s3:GetObject"), "*")])
        ),
        role(
            "mfa",
            json!([{"Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": "sts:AssumeRole",
                            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]),
            json!([allow(json!("s3:GetObject"), "*")])
        )
    ]);
    let users = json!([
        user("ann", json!([allow(json!("sts:AssumeRole"), "*")])),
        user(
            "otto",
            json!([allow(json!("sts:AssumeRole"), role_arn("other-*"))])
        ),
        user("ned", json!([allow(json!("s3:GetObject"), "*")])),
        user("nia", json!([allow(json!("s3:GetObject"), "*")])),
        user(
            "dex",
            json!([allow(json!("sts:AssumeRole"), "*"), {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": role_arn("target")}])
        )
    ]);
    let (got, all) = edges(&[details(users, nothing(), roles, nothing())]);
    assert_eq!(
        got,
        set(&[
            ("user/ann", "aws.assume-role", "role/target"),
            ("user/ann", "aws.assume-role", "role/mfa"),
            // The trust policy names ned: enough within one account.
            ("user/ned", "aws.assume-role", "role/named"),
            ("user/dex", "aws.assume-role", "role/mfa"),
        ])
    );
    let mfa = all
        .iter()
        .find(|e| e.to.as_deref() == Some(&role_arn("mfa")) && e.from == user_arn("ann"))
        .unwrap();
    assert!(
        mfa.explanation.contains("only under a condition"),
        "{}",
        mfa.explanation
    );
    assert_eq!(mfa.permissions, vec!["sts:AssumeRole"]);
}

#[test]
fn attach_and_put_policy_on_itself_its_group_or_an_assumable_role() {
    let mut gil = user(
        "gil",
        json!([allow(
            json!(["iam:AttachGroupPolicy", "iam:PutGroupPolicy"]),
            group_arn("devs")
        )]),
    );
    gil["GroupList"] = json!(["devs"]);
    let groups = json!([{"GroupName": "devs", "Arn": group_arn("devs")}, {"GroupName": "ops", "Arn": group_arn("ops")}]);
    let users = json!([
        user(
            "ula",
            json!([allow(json!("iam:AttachUserPolicy"), user_arn("ula"))])
        ),
        user(
            "pia",
            json!([allow(json!("iam:PutUserPolicy"), user_arn("pia"))])
        ),
        user(
            "oli",
            json!([allow(
                json!(["iam:AttachUserPolicy", "iam:PutUserPolicy"]),
                user_arn("ula")
            )])
        ),
        user(
            "ora",
            json!([allow(json!("iam:AttachGroupPolicy"), group_arn("ops"))])
        ),
        gil,
        user(
            "rex",
            json!([
                allow(json!("sts:AssumeRole"), role_arn("worker")),
                allow(json!("iam:AttachRolePolicy"), role_arn("worker"))
            ])
        )
    ]);
    let roles = json!([
        role(
            "selfish",
            trust_service("ec2.amazonaws.com"),
            json!([allow(
                json!(["iam:PutRolePolicy", "iam:AttachRolePolicy"]),
                role_arn("selfish")
            )])
        ),
        role(
            "worker",
            trust_account(),
            json!([allow(json!("s3:GetObject"), "*")])
        )
    ]);
    let (got, all) = edges(&[details(users, groups, roles, nothing())]);
    assert_eq!(
        got,
        set(&[
            ("user/ula", "aws.iam-attach-user-policy", "ADMIN"),
            ("user/pia", "aws.iam-put-user-policy", "ADMIN"),
            ("user/gil", "aws.iam-attach-group-policy", "ADMIN"),
            ("user/gil", "aws.iam-put-group-policy", "ADMIN"),
            ("role/selfish", "aws.iam-attach-role-policy", "ADMIN"),
            ("role/selfish", "aws.iam-put-role-policy", "ADMIN"),
            ("user/rex", "aws.assume-role", "role/worker"),
            ("user/rex", "aws.iam-attach-role-policy", "ADMIN"),
        ])
    );
    let rex = all
        .iter()
        .find(|e| e.primitive == "aws.iam-attach-role-policy" && e.from == user_arn("rex"))
        .unwrap();
    assert_eq!(rex.resource, role_arn("worker"));
    assert!(rex.explanation.contains("which it can then assume"));
}

#[test]
fn a_permissions_boundary_blocks_self_attachment_unless_it_can_be_removed() {
    let boundary = json!({"PolicyName": "cap", "Arn": format!("arn:aws:iam::{ACCT}:policy/cap"), "DefaultVersionId": "v1",
        "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": doc(json!([allow(json!("iam:*"), "*")]))}]});
    let bounded = |name: &str, actions: Value| {
        let mut u = user(name, json!([allow(actions, user_arn(name))]));
        u["PermissionsBoundary"] = json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": format!("arn:aws:iam::{ACCT}:policy/cap")});
        u
    };
    let users = json!([
        bounded("bo", json!("iam:AttachUserPolicy")),
        bounded(
            "bea",
            json!(["iam:AttachUserPolicy", "iam:DeleteUserPermissionsBoundary"])
        )
    ]);
    let (got, all) = edges(&[details(users, nothing(), nothing(), json!([boundary]))]);
    assert_eq!(
        got,
        set(&[("user/bea", "aws.iam-attach-user-policy", "ADMIN")])
    );
    assert_eq!(
        all[0].permissions,
        vec!["iam:AttachUserPolicy", "iam:DeleteUserPermissionsBoundary"]
    );
}

fn managed(name: &str, default: &str, versions: &[(&str, Value)]) -> Value {
    json!({"PolicyName": name, "Arn": format!("arn:aws:iam::{ACCT}:policy/{name}"), "DefaultVersionId": default,
        "PolicyVersionList": versions.iter().map(|(id, statements)| json!({
            "VersionId": id, "IsDefaultVersion": *id == default, "Document": doc(statements.clone())})).collect::<Vec<_>>()})
}

fn attached(mut u: Value, policies: &[&str]) -> Value {
    u["AttachedManagedPolicies"] = policies
        .iter()
        .map(|p| json!({"PolicyName": p, "PolicyArn": if p.starts_with("arn:") { p.to_string() } else { format!("arn:aws:iam::{ACCT}:policy/{p}") }}))
        .collect();
    u
}

#[test]
fn create_policy_version_on_its_own_customer_policy() {
    let policy_arn = |n: &str| format!("arn:aws:iam::{ACCT}:policy/{n}");
    let policies = json!([
        managed(
            "mine",
            "v1",
            &[(
                "v1",
                json!([allow(json!("iam:CreatePolicyVersion"), policy_arn("mine"))])
            )]
        ),
        managed(
            "theirs",
            "v1",
            &[("v1", json!([allow(json!("s3:GetObject"), "*")]))]
        ),
        managed(
            "wrong-target",
            "v1",
            &[(
                "v1",
                json!([allow(
                    json!("iam:CreatePolicyVersion"),
                    policy_arn("theirs")
                )])
            )]
        )
    ]);
    let users = json!([
        attached(user("cam", json!([])), &["mine"]),
        attached(user("wes", json!([])), &["wrong-target"]),
        attached(
            user("amy", json!([allow(json!("iam:CreatePolicyVersion"), "*")])),
            &["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        )
    ]);
    let (got, all) = edges(&[details(users, nothing(), nothing(), policies)]);
    // wes can rewrite `theirs`, which is not attached to it; amy's only policy is AWS managed.
    assert_eq!(
        got,
        set(&[("user/cam", "aws.iam-create-policy-version", "ADMIN")])
    );
    assert_eq!(all[0].resource, policy_arn("mine"));
}

#[test]
fn set_default_policy_version_rolls_back_to_an_admin_version() {
    let policy_arn = |n: &str| format!("arn:aws:iam::{ACCT}:policy/{n}");
    let policies = json!([
        managed(
            "rolled",
            "v2",
            &[
                (
                    "v2",
                    json!([allow(
                        json!("iam:SetDefaultPolicyVersion"),
                        policy_arn("rolled")
                    )])
                ),
                ("v1", json!([allow(json!("*"), "*")]))
            ]
        ),
        managed(
            "harmless",
            "v2",
            &[
                (
                    "v2",
                    json!([allow(
                        json!("iam:SetDefaultPolicyVersion"),
                        policy_arn("harmless")
                    )])
                ),
                ("v1", json!([allow(json!("s3:*"), "*")]))
            ]
        )
    ]);
    let users = json!([
        attached(user("sid", json!([])), &["rolled"]),
        attached(user("hal", json!([])), &["harmless"])
    ]);
    let (got, all) = edges(&[details(users, nothing(), nothing(), policies)]);
    assert_eq!(
        got,
        set(&[("user/sid", "aws.iam-set-default-policy-version", "ADMIN")])
    );
    assert!(all[0].explanation.contains("version v1"));
}

#[test]
fn add_user_to_an_admin_group() {
    let groups = json!([
        attached(json!({"GroupName": "admins", "Arn": group_arn("admins")}), &["arn:aws:iam::aws:policy/AdministratorAccess"]),
        {"GroupName": "readers", "Arn": group_arn("readers"), "GroupPolicyList": [{"PolicyName": "r", "PolicyDocument": doc(json!([allow(json!("s3:GetObject"), "*")]))}]}
    ]);
    let users = json!([
        user("jo", json!([allow(json!("iam:AddUserToGroup"), "*")])),
        user(
            "kit",
            json!([allow(json!("iam:AddUserToGroup"), group_arn("readers"))])
        )
    ]);
    let (got, _) = edges(&[details(users, groups, nothing(), nothing())]);
    assert_eq!(
        got,
        set(&[("user/jo", "aws.iam-add-user-to-group", "group/admins")])
    );
}

#[test]
fn create_access_key_for_another_user_minding_the_two_key_limit() {
    let report = "user,arn,user_creation_time,password_enabled,access_key_1_active,access_key_1_last_rotated,access_key_2_active,access_key_2_last_rotated\n\
        full,arn:aws:iam::111122223333:user/full,2020-01-01T00:00:00Z,false,true,2020-01-01T00:00:00Z,true,2021-01-01T00:00:00Z\n\
        one,arn:aws:iam::111122223333:user/one,2020-01-01T00:00:00Z,false,true,2020-01-01T00:00:00Z,false,N/A\n";
    let users = json!([
        user(
            "kay",
            json!([allow(
                json!("iam:CreateAccessKey"),
                format!("arn:aws:iam::{ACCT}:user/*")
            )])
        ),
        user(
            "del",
            json!([allow(
                json!(["iam:CreateAccessKey", "iam:DeleteAccessKey"]),
                user_arn("full")
            )])
        ),
        user(
            "me",
            json!([allow(
                json!("iam:CreateAccessKey"),
                format!("arn:aws:iam::{ACCT}:user/${{aws:username}}")
            )])
        ),
        user("full", json!([])),
        user("one", json!([]))
    ]);
    let (got, all) = edges(&[
        details(users, nothing(), nothing(), nothing()),
        ("report.csv".into(), report.as_bytes().to_vec()),
    ]);
    assert_eq!(
        got,
        set(&[
            ("user/kay", "aws.iam-create-access-key", "user/one"),
            ("user/kay", "aws.iam-create-access-key", "user/del"),
            ("user/kay", "aws.iam-create-access-key", "user/me"),
            ("user/del", "aws.iam-create-access-key", "user/full"),
            // kay cannot make room on `full` (two keys), and `me` may only make keys for itself.
        ])
    );
    let del = all.iter().find(|e| e.from == user_arn("del")).unwrap();
    assert_eq!(
        del.permissions,
        vec!["iam:CreateAccessKey", "iam:DeleteAccessKey"]
    );
}

#[test]
fn login_profiles_are_created_or_reset_as_the_report_says() {
    let report = "user,arn,user_creation_time,password_enabled\n\
        has,arn:aws:iam::111122223333:user/has,2020-01-01T00:00:00Z,true\n\
        none,arn:aws:iam::111122223333:user/none,2020-01-01T00:00:00Z,false\n\
        lp,arn:aws:iam::111122223333:user/lp,2020-01-01T00:00:00Z,false\n";
    let users = json!([
        user(
            "lp",
            json!([allow(
                json!(["iam:CreateLoginProfile", "iam:UpdateLoginProfile"]),
                "*"
            )])
        ),
        user("has", json!([])),
        user("none", json!([]))
    ]);
    let with_report = [
        details(users.clone(), nothing(), nothing(), nothing()),
        ("report.csv".into(), report.as_bytes().to_vec()),
    ];
    let (got, _) = edges(&with_report);
    assert_eq!(
        got,
        set(&[
            ("user/lp", "aws.iam-create-login-profile", "user/none"),
            ("user/lp", "aws.iam-update-login-profile", "user/has"),
        ])
    );
    // Without a report, whether a password exists is unknown: both are possible.
    let (got, _) = edges(&[details(users, nothing(), nothing(), nothing())]);
    assert_eq!(got.len(), 4);
}

#[test]
fn update_assume_role_policy_then_assume() {
    let roles = json!([
        admin_role("locked", trust_service("ec2.amazonaws.com")),
        admin_role("other", trust_service("ec2.amazonaws.com"))
    ]);
    let users = json!([
        user(
            "tia",
            json!([allow(
                json!(["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"]),
                role_arn("locked")
            )])
        ),
        user(
            "tom",
            json!([allow(
                json!("iam:UpdateAssumeRolePolicy"),
                role_arn("locked")
            )])
        ),
        user(
            "ted",
            json!([allow(json!("iam:GetUser"), role_arn("locked"))])
        )
    ]);
    let (got, all) = edges(&[details(users, nothing(), roles, nothing())]);
    assert_eq!(
        got,
        set(&[
            (
                "user/tia",
                "aws.iam-update-assume-role-policy",
                "role/locked"
            ),
            // Same account: a trust policy naming tom lets it in without sts:AssumeRole.
            (
                "user/tom",
                "aws.iam-update-assume-role-policy",
                "role/locked"
            ),
        ])
    );
    let tia = all.iter().find(|e| e.from == user_arn("tia")).unwrap();
    assert_eq!(
        tia.permissions,
        vec!["iam:UpdateAssumeRolePolicy", "sts:AssumeRole"]
    );
}

#[test]
fn passrole_to_lambda_needs_create_and_a_trigger_and_a_matching_role() {
    let roles = json!([
        admin_role("fn-admin", trust_service("lambda.amazonaws.com")),
        admin_role("ec2-admin", trust_service("ec2.amazonaws.com"))
    ]);
    let users = json!([
        user(
            "lou",
            json!([
                allow(json!("iam:PassRole"), "*"),
                allow(
                    json!(["lambda:CreateFunction", "lambda:InvokeFunction"]),
                    "*"
                )
            ])
        ),
        user(
            "esm",
            json!([
                allow(json!("iam:PassRole"), role_arn("fn-*")),
                allow(
                    json!(["lambda:CreateFunction", "lambda:CreateEventSourceMapping"]),
                    "*"
                )
            ])
        ),
        user(
            "nat",
            json!([
                allow(json!("iam:PassRole"), "*"),
                allow(json!("lambda:CreateFunction"), "*")
            ])
        ),
        user(
            "pam",
            json!([
                allow(json!("iam:PassRole"), role_arn("ec2-admin")),
                allow(
                    json!(["lambda:CreateFunction", "lambda:InvokeFunction"]),
                    "*"
                )
            ])
        )
    ]);
    let (got, all) = edges(&[details(users, nothing(), roles, nothing())]);
    assert_eq!(
        got,
        set(&[
            ("user/lou", "aws.passrole-lambda", "role/fn-admin"),
            ("user/esm", "aws.passrole-lambda", "role/fn-admin"),
            // nat cannot trigger the function; pam may only pass a role Lambda cannot assume.
        ])
    );
    let esm = all.iter().find(|e| e.from == user_arn("esm")).unwrap();
    assert_eq!(
        esm.permissions,
        vec![
            "iam:PassRole",
            "lambda:CreateFunction",
            "lambda:CreateEventSourceMapping"
        ]
    );
}

#[test]
fn passrole_to_ec2_needs_an_instance_profile_or_the_means_to_make_one() {
    let mut profiled = admin_role("profiled", trust_service("ec2.amazonaws.com"));
    profiled["InstanceProfileList"] = json!([{"InstanceProfileName": "profiled"}]);
    let roles = json!([
        profiled,
        admin_role("bare", trust_service("ec2.amazonaws.com"))
    ]);
    let users = json!([
        user(
            "eve",
            json!([allow(json!(["iam:PassRole", "ec2:RunInstances"]), "*")])
        ),
        user(
            "ian",
            json!([allow(
                json!([
                    "iam:PassRole",
                    "ec2:RunInstances",
                    "iam:CreateInstanceProfile",
                    "iam:AddRoleToInstanceProfile"
                ]),
                "*"
            )])
        )
    ]);
    let (got, _) = edges(&[details(users, nothing(), roles, nothing())]);
    assert_eq!(
        got,
        set(&[
            ("user/eve", "aws.passrole-ec2", "role/profiled"),
            ("user/ian", "aws.passrole-ec2", "role/profiled"),
            ("user/ian", "aws.passrole-ec2", "role/bare"),
        ])
    );
}

#[test]
fn passrole_to_cloudformation_and_glue() {
    let roles = json!([
        admin_role("cfn", trust_service("cloudformation.amazonaws.com")),
        admin_role("glue", trust_service("glue.amazonaws.com"))
    ]);
    let users = json!([
        user(
            "cy",
            json!([allow(
                json!(["iam:PassRole", "cloudformation:CreateStack"]),
                "*"
            )])
        ),
        user(
            "gia",
            json!([allow(
                json!(["iam:PassRole", "glue:CreateDevEndpoint"]),
                "*"
            )])
        ),
        user(
            "no",
            json!([allow(
                json!(["cloudformation:CreateStack", "glue:CreateDevEndpoint"]),
                "*"
            )])
        )
    ]);
    let (got, _) = edges(&[details(users, nothing(), roles, nothing())]);
    assert_eq!(
        got,
        set(&[
            ("user/cy", "aws.passrole-cloudformation", "role/cfn"),
            ("user/gia", "aws.passrole-glue", "role/glue"),
        ])
    );
}

#[test]
fn update_function_code_reaches_every_role_lambda_can_assume() {
    let roles = json!([
        admin_role("fn-a", trust_service("lambda.amazonaws.com")),
        role(
            "fn-b",
            trust_service("lambda.amazonaws.com"),
            json!([allow(json!("s3:GetObject"), "*")])
        ),
        admin_role("box", trust_service("ec2.amazonaws.com"))
    ]);
    let users = json!([user(
        "uma",
        json!([allow(
            json!("lambda:UpdateFunctionCode"),
            "arn:aws:lambda:eu-west-1:111122223333:function:*"
        )])
    )]);
    let (got, all) = edges(&[details(users, nothing(), roles, nothing())]);
    assert_eq!(
        got,
        set(&[
            ("user/uma", "aws.lambda-update-function-code", "role/fn-a"),
            ("user/uma", "aws.lambda-update-function-code", "role/fn-b"),
        ])
    );
    assert!(all[0].explanation.contains("candidate"));
}

#[test]
fn admin_equivalent_principals_have_no_outgoing_edges() {
    let roles = json!([admin_role("fn", trust_service("lambda.amazonaws.com"))]);
    let users = json!([
        user("boss", json!([allow(json!("*"), "*")])),
        user("mate", json!([]))
    ]);
    let (got, _) = edges(&[details(users, nothing(), roles, nothing())]);
    assert!(got.is_empty(), "{got:?}");
}

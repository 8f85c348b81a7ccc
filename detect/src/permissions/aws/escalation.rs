//! Privilege-escalation steps (Rhino Security Labs' AWS list) and role assumption, as edges of the
//! path graph. An edge is only emitted when the actor holds every permission it needs on the target's
//! ARN (resource-scoped grants that miss the target give nothing); a permission allowed only under a
//! condition still gives the edge, and its explanation says so.

use std::collections::HashMap;

use super::catalog::Catalog;
use super::grants::Expander;
use super::holder::{ESCALATION_ACTIONS, Grip, Holder, Trust, trusts, trusts_service};
use super::inventory::{Inventory, RoleRecord, account_of};
use crate::permissions::{
    Effect, Entitlements, EscalationEdge, PermissionCatalog, Principal, PrincipalKind,
};

/// Collects edges, tracking whether any permission used is conditional.
struct Step {
    permissions: Vec<String>,
    conditional: bool,
}

impl Step {
    fn new() -> Step {
        Step {
            permissions: Vec::new(),
            conditional: false,
        }
    }
    /// This step plus what `other` needs (lifting a permission boundary, say).
    fn and(mut self, other: Step) -> Step {
        self.permissions.extend(other.permissions);
        self.conditional |= other.conditional;
        self
    }
    fn need(mut self, permission: &str, held: Option<bool>) -> Option<Step> {
        self.conditional |= held?;
        self.permissions.push(permission.to_string());
        Some(self)
    }
    fn edge(
        self,
        from: &str,
        to: Option<&str>,
        primitive: &str,
        resource: &str,
        explanation: String,
    ) -> EscalationEdge {
        let explanation = if self.conditional {
            format!(
                "{explanation} (some of these permissions are allowed only under a condition; see the grants)"
            )
        } else {
            explanation
        };
        EscalationEdge {
            from: from.to_string(),
            to: to.map(str::to_string),
            primitive: primitive.to_string(),
            permissions: self.permissions,
            resource: resource.to_string(),
            explanation,
        }
    }
}

/// A principal whose policies escalation would change: a user, a group or a role, with its boundary.
struct Target<'i> {
    arn: &'i str,
    kind: PrincipalKind,
    boundary: Option<&'i str>,
}

/// The permissions `actor` needs so a policy added to `target` is not capped by its permissions
/// boundary: none without one, else deleting (or replacing) the boundary.
fn lift_boundary(
    holder: &mut Holder<'_, '_>,
    inventory: &Inventory,
    actor: &Principal,
    target: &Target<'_>,
) -> Option<Step> {
    let Some(boundary) = target.boundary else {
        return Some(Step::new());
    };
    // A boundary that itself allows everything caps nothing.
    if let Some(record) = inventory.policies.get(boundary)
        && let Some(doc) = record.default_document()
        && doc.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && s.condition.is_none()
                && s.on_every_resource()
                && holder.expander.statement_actions(s).len() >= holder.catalog.len()
        })
    {
        return Some(Step::new());
    }
    let (delete, put) = match target.kind {
        PrincipalKind::Role => (
            "iam:DeleteRolePermissionsBoundary",
            "iam:PutRolePermissionsBoundary",
        ),
        _ => (
            "iam:DeleteUserPermissionsBoundary",
            "iam:PutUserPermissionsBoundary",
        ),
    };
    for action in [delete, put] {
        if let Some(step) = Step::new().need(action, holder.on(actor, action, target.arn)) {
            return Some(step);
        }
    }
    None
}

/// Lists every escalation edge (see the module documentation of [`super`]).
pub(crate) fn edges(
    inventory: &Inventory,
    entitlements: &[Entitlements],
    catalog: &Catalog,
) -> Vec<EscalationEdge> {
    let mut holder = Holder {
        expander: Expander::new(inventory, catalog),
        catalog,
        indices: ESCALATION_ACTIONS
            .iter()
            .filter_map(|a| catalog.index_of(a).map(|i| (*a, i)))
            .collect(),
        entitlements: entitlements
            .iter()
            .map(|e| (e.principal.key.as_str(), e))
            .collect(),
        policies: HashMap::new(),
    };
    let actors: Vec<&Principal> = inventory
        .principals
        .iter()
        .filter(|p| matches!(p.kind, PrincipalKind::User | PrincipalKind::Role))
        .filter(|p| !holder.is_admin(&p.key))
        .collect();
    let mut out = Vec::new();
    for actor in actors {
        let assumable = assume_edges(&mut holder, inventory, actor, &mut out);
        self_policy_edges(&mut holder, inventory, actor, &assumable, &mut out);
        other_user_edges(&mut holder, inventory, actor, &mut out);
        role_edges(&mut holder, inventory, actor, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// `aws.assume-role` edges; returns the roles reached.
fn assume_edges<'i>(
    holder: &mut Holder<'_, '_>,
    inventory: &'i Inventory,
    actor: &Principal,
    out: &mut Vec<EscalationEdge>,
) -> Vec<&'i RoleRecord> {
    let mut reached = Vec::new();
    let assume_grip = holder.grip(actor, "sts:AssumeRole");
    for role in inventory.roles.values().filter(|r| r.arn != actor.key) {
        let Some((how, trust_conditional)) = trusts(role, actor) else {
            continue;
        };
        let identity = assume_grip.as_ref().and_then(|g| g.on(&role.arn));
        let same_account = account_of(&role.arn) == actor.account;
        let (step, why) = match (identity, how) {
            (Some(c), _) => {
                let step = Step::new().need("sts:AssumeRole", Some(c));
                let why = match how {
                    Trust::Direct => format!("{}'s trust policy names it", role.name),
                    Trust::AccountRoot => {
                        format!("{}'s trust policy trusts its account", role.name)
                    }
                    Trust::Anyone => {
                        format!("{}'s trust policy trusts any AWS principal", role.name)
                    }
                };
                (step, why)
            }
            // Within one account a trust policy naming the principal is enough on its own (it is a
            // resource-based policy), unless the principal's own policies deny the call.
            (None, Trust::Direct)
                if same_account && !holder.denied(actor, "sts:AssumeRole", &role.arn) =>
            {
                (
                    Some(Step::new()),
                    format!(
                        "{}'s trust policy names it, which within one account needs no identity permission",
                        role.name
                    ),
                )
            }
            _ => continue,
        };
        let Some(mut step) = step else { continue };
        step.conditional |= trust_conditional;
        if step.permissions.is_empty() {
            step.permissions.push("sts:AssumeRole".into());
        }
        out.push(step.edge(
            &actor.key,
            Some(&role.arn),
            "aws.assume-role",
            &role.arn,
            format!("{} can assume role {}: {why}", actor.name, role.name),
        ));
        reached.push(role);
    }
    reached
}

/// Attach/put a policy on itself, its groups or a role it can assume; rewrite or roll back a managed
/// policy attached to any of them: each makes the actor admin-equivalent directly.
fn self_policy_edges(
    holder: &mut Holder<'_, '_>,
    inventory: &Inventory,
    actor: &Principal,
    assumable: &[&RoleRecord],
    out: &mut Vec<EscalationEdge>,
) {
    // (target, policies attached to it, how the actor benefits)
    let mut targets: Vec<(Target<'_>, Vec<&str>, String)> = Vec::new();
    match actor.kind {
        PrincipalKind::User => {
            let Some(user) = inventory.users.get(&actor.key) else {
                return;
            };
            targets.push((
                Target {
                    arn: &user.arn,
                    kind: PrincipalKind::User,
                    boundary: user.boundary.as_deref(),
                },
                user.attached.iter().map(String::as_str).collect(),
                "itself".into(),
            ));
            for group in user.groups.iter().filter_map(|g| inventory.groups.get(g)) {
                // A policy on the group reaches the user through its membership, under the user's boundary.
                targets.push((
                    Target {
                        arn: &group.arn,
                        kind: PrincipalKind::Group,
                        boundary: user.boundary.as_deref(),
                    },
                    group.attached.iter().map(String::as_str).collect(),
                    format!("its group {}", group.name),
                ));
            }
        }
        PrincipalKind::Role => {
            if let Some(role) = inventory.roles.get(&actor.key) {
                targets.push((
                    Target {
                        arn: &role.arn,
                        kind: PrincipalKind::Role,
                        boundary: role.boundary.as_deref(),
                    },
                    role.attached.iter().map(String::as_str).collect(),
                    "itself".into(),
                ));
            }
        }
        _ => return,
    }
    for role in assumable {
        targets.push((
            Target {
                arn: &role.arn,
                kind: PrincipalKind::Role,
                boundary: role.boundary.as_deref(),
            },
            role.attached.iter().map(String::as_str).collect(),
            format!("role {}, which it can then assume", role.name),
        ));
    }
    for (target, attached, whom) in &targets {
        let (attach, put, attach_id, put_id) = match target.kind {
            PrincipalKind::User => (
                "iam:AttachUserPolicy",
                "iam:PutUserPolicy",
                "aws.iam-attach-user-policy",
                "aws.iam-put-user-policy",
            ),
            PrincipalKind::Group => (
                "iam:AttachGroupPolicy",
                "iam:PutGroupPolicy",
                "aws.iam-attach-group-policy",
                "aws.iam-put-group-policy",
            ),
            _ => (
                "iam:AttachRolePolicy",
                "iam:PutRolePolicy",
                "aws.iam-attach-role-policy",
                "aws.iam-put-role-policy",
            ),
        };
        for (action, id, what) in [
            (attach, attach_id, "attach AdministratorAccess to"),
            (put, put_id, "write an inline *:* policy on"),
        ] {
            let held = holder.on(actor, action, target.arn);
            let Some(step) = Step::new().need(action, held) else {
                continue;
            };
            let Some(lift) = lift_boundary(holder, inventory, actor, target) else {
                continue;
            };
            let step = step.and(lift);
            out.push(step.edge(
                &actor.key,
                None,
                id,
                target.arn,
                format!("{} can {what} {whom}", actor.name),
            ));
        }
        for policy in attached.iter().filter(|p| !p.contains(":iam::aws:policy/")) {
            let held = holder.on(actor, "iam:CreatePolicyVersion", policy);
            if let Some(step) = Step::new().need("iam:CreatePolicyVersion", held)
                && let Some(extra) = lift_boundary(holder, inventory, actor, target)
            {
                let step = step.and(extra);
                out.push(step.edge(
                    &actor.key,
                    None,
                    "aws.iam-create-policy-version",
                    policy,
                    format!("{} can write a new default version (*:*) of policy {policy}, attached to {whom}", actor.name),
                ));
            }
            let admin_version = inventory.policies.get(*policy).and_then(|record| {
                record
                    .versions
                    .iter()
                    .filter(|v| !v.is_default)
                    .find(|v| {
                        v.document.statements.iter().any(|s| {
                            s.effect == Effect::Allow
                                && s.condition.is_none()
                                && s.on_every_resource()
                                && holder.expander.statement_actions(s).len()
                                    >= holder.catalog.len()
                        })
                    })
                    .map(|v| v.id.clone())
            });
            if let Some(version) = admin_version {
                let held = holder.on(actor, "iam:SetDefaultPolicyVersion", policy);
                if let Some(step) = Step::new().need("iam:SetDefaultPolicyVersion", held)
                    && let Some(extra) = lift_boundary(holder, inventory, actor, target)
                {
                    let step = step.and(extra);
                    out.push(step.edge(
                        &actor.key,
                        None,
                        "aws.iam-set-default-policy-version",
                        policy,
                        format!(
                            "{} can make version {version} (which allows *:*) the default of policy {policy}, attached to {whom}",
                            actor.name
                        ),
                    ));
                }
            }
        }
    }
    // Joining an admin group.
    if actor.kind == PrincipalKind::User
        && let Some(user) = inventory.users.get(&actor.key)
    {
        let admin_groups: Vec<_> = inventory
            .groups
            .values()
            .filter(|g| !user.groups.contains(&g.arn) && holder.is_admin(&g.arn))
            .collect();
        for group in admin_groups {
            let held = holder.on(actor, "iam:AddUserToGroup", &group.arn);
            let Some(step) = Step::new().need("iam:AddUserToGroup", held) else {
                continue;
            };
            let target = Target {
                arn: &user.arn,
                kind: PrincipalKind::User,
                boundary: user.boundary.as_deref(),
            };
            let Some(extra) = lift_boundary(holder, inventory, actor, &target) else {
                continue;
            };
            let step = step.and(extra);
            out.push(step.edge(
                &actor.key,
                Some(&group.arn),
                "aws.iam-add-user-to-group",
                &group.arn,
                format!(
                    "{} can add itself to the admin-equivalent group {}",
                    actor.name, group.name
                ),
            ));
        }
    }
}

/// New access keys or console passwords for other users: the actor becomes them.
fn other_user_edges(
    holder: &mut Holder<'_, '_>,
    inventory: &Inventory,
    actor: &Principal,
    out: &mut Vec<EscalationEdge>,
) {
    let create_key = holder.grip(actor, "iam:CreateAccessKey");
    let delete_key = holder.grip(actor, "iam:DeleteAccessKey");
    let create_login = holder.grip(actor, "iam:CreateLoginProfile");
    let update_login = holder.grip(actor, "iam:UpdateLoginProfile");
    // Most actors hold none of these anywhere: skip the walk over every user.
    if create_key.is_none() && create_login.is_none() && update_login.is_none() {
        return;
    }
    let on = |grip: &Option<Grip>, resource: &str| grip.as_ref().and_then(|g| g.on(resource));
    let others: Vec<&Principal> = inventory
        .principals
        .iter()
        .filter(|p| p.kind == PrincipalKind::User && p.key != actor.key)
        .collect();
    for user in others {
        let keys = user
            .credentials
            .iter()
            .filter(|c| c.kind == "access_key")
            .count();
        if let Some(mut step) = Step::new().need("iam:CreateAccessKey", on(&create_key, &user.key))
        {
            // A user holds at most two access keys: with two, one must go first.
            let room = if keys >= 2 {
                match on(&delete_key, &user.key) {
                    Some(c) => {
                        step.permissions.push("iam:DeleteAccessKey".into());
                        step.conditional |= c;
                        true
                    }
                    None => false,
                }
            } else {
                true
            };
            if room {
                out.push(step.edge(
                    &actor.key,
                    Some(&user.key),
                    "aws.iam-create-access-key",
                    &user.key,
                    format!(
                        "{} can create an access key for user {} and act as it",
                        actor.name, user.name
                    ),
                ));
            }
        }
        let has_password = user.credentials.iter().any(|c| c.kind == "login_profile");
        let known = inventory.has_credential_report;
        for (action, grip, id, applies, what) in [
            (
                "iam:CreateLoginProfile",
                &create_login,
                "aws.iam-create-login-profile",
                !has_password,
                "give user {} a console password",
            ),
            (
                "iam:UpdateLoginProfile",
                &update_login,
                "aws.iam-update-login-profile",
                has_password || !known,
                "reset user {}'s console password",
            ),
        ] {
            if !applies {
                continue;
            }
            if let Some(step) = Step::new().need(action, on(grip, &user.key)) {
                out.push(step.edge(
                    &actor.key,
                    Some(&user.key),
                    id,
                    &user.key,
                    format!(
                        "{} can {} and sign in as it",
                        actor.name,
                        what.replace("{}", &user.name)
                    ),
                ));
            }
        }
    }
}

/// Rewriting a role's trust, passing a role to a service it then runs code as, or changing the code
/// of a function that runs as a role.
fn role_edges(
    holder: &mut Holder<'_, '_>,
    inventory: &Inventory,
    actor: &Principal,
    out: &mut Vec<EscalationEdge>,
) {
    let update_trust = holder.grip(actor, "iam:UpdateAssumeRolePolicy");
    let assume_grip = holder.grip(actor, "sts:AssumeRole");
    let pass_grip = holder.grip(actor, "iam:PassRole");
    let on = |grip: &Option<Grip>, resource: &str| grip.as_ref().and_then(|g| g.on(resource));
    for role in inventory.roles.values().filter(|r| r.arn != actor.key) {
        if let Some(mut step) =
            Step::new().need("iam:UpdateAssumeRolePolicy", on(&update_trust, &role.arn))
        {
            let assume = on(&assume_grip, &role.arn);
            let same_account = account_of(&role.arn) == actor.account;
            // A trust policy naming the actor is enough within one account; across accounts the
            // actor's own policy must allow sts:AssumeRole too.
            if let Some(c) = assume {
                step.permissions.push("sts:AssumeRole".into());
                step.conditional |= c;
            }
            if assume.is_some() || same_account {
                out.push(step.edge(
                    &actor.key,
                    Some(&role.arn),
                    "aws.iam-update-assume-role-policy",
                    &role.arn,
                    format!(
                        "{} can rewrite role {}'s trust policy to trust itself, then assume it",
                        actor.name, role.name
                    ),
                ));
            }
        }
        let pass = on(&pass_grip, &role.arn);
        if pass.is_some() {
            pass_role_edges(holder, actor, role, pass, out);
        }
        if trusts_service(role, "lambda.amazonaws.com")
            && let Some(step) = Step::new().need(
                "lambda:UpdateFunctionCode",
                holder.anywhere(actor, "lambda:UpdateFunctionCode"),
            )
        {
            out.push(step.edge(
                &actor.key,
                Some(&role.arn),
                "aws.lambda-update-function-code",
                &role.arn,
                format!(
                    "{} can replace the code of a Lambda function and run as its role; the inventory does not say which \
                     role each function has, so every role trusting lambda.amazonaws.com, {} among them, is a candidate",
                    actor.name, role.name
                ),
            ));
        }
    }
}

fn pass_role_edges(
    holder: &mut Holder<'_, '_>,
    actor: &Principal,
    role: &RoleRecord,
    pass: Option<bool>,
    out: &mut Vec<EscalationEdge>,
) {
    let start = || Step::new().need("iam:PassRole", pass);
    if trusts_service(role, "lambda.amazonaws.com") {
        let run = holder
            .anywhere(actor, "lambda:InvokeFunction")
            .map(|c| ("lambda:InvokeFunction", c))
            .or_else(|| {
                holder
                    .anywhere(actor, "lambda:CreateEventSourceMapping")
                    .map(|c| ("lambda:CreateEventSourceMapping", c))
            });
        if let Some(step) = start().and_then(|s| {
            s.need(
                "lambda:CreateFunction",
                holder.anywhere(actor, "lambda:CreateFunction"),
            )
        }) && let Some((trigger, c)) = run
            && let Some(step) = step.need(trigger, Some(c))
        {
            out.push(step.edge(
                &actor.key,
                Some(&role.arn),
                "aws.passrole-lambda",
                &role.arn,
                format!(
                    "{} can create a Lambda function running as role {} and trigger it",
                    actor.name, role.name
                ),
            ));
        }
    }
    if trusts_service(role, "ec2.amazonaws.com")
        && let Some(mut step) = start().and_then(|s| {
            s.need(
                "ec2:RunInstances",
                holder.anywhere(actor, "ec2:RunInstances"),
            )
        })
    {
        // EC2 receives a role only through an instance profile; without one the actor must make it.
        let profile_ok = if role.has_instance_profile {
            true
        } else {
            let create = holder.anywhere(actor, "iam:CreateInstanceProfile");
            let add = holder.anywhere(actor, "iam:AddRoleToInstanceProfile");
            match (create, add) {
                (Some(a), Some(b)) => {
                    step.permissions.push("iam:CreateInstanceProfile".into());
                    step.permissions.push("iam:AddRoleToInstanceProfile".into());
                    step.conditional |= a || b;
                    true
                }
                _ => false,
            }
        };
        if profile_ok {
            out.push(step.edge(
                &actor.key,
                Some(&role.arn),
                "aws.passrole-ec2",
                &role.arn,
                format!("{} can launch an EC2 instance with role {} and read its credentials from the instance", actor.name, role.name),
            ));
        }
    }
    for (service, action, id, what) in [
        (
            "cloudformation.amazonaws.com",
            "cloudformation:CreateStack",
            "aws.passrole-cloudformation",
            "create a CloudFormation stack that acts as",
        ),
        (
            "glue.amazonaws.com",
            "glue:CreateDevEndpoint",
            "aws.passrole-glue",
            "create a Glue development endpoint running as",
        ),
    ] {
        if trusts_service(role, service)
            && let Some(step) = start().and_then(|s| s.need(action, holder.anywhere(actor, action)))
        {
            out.push(step.edge(
                &actor.key,
                Some(&role.arn),
                id,
                &role.arn,
                format!("{} can {what} role {}", actor.name, role.name),
            ));
        }
    }
}

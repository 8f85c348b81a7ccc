//! Who may do what to whom: role trust policies, and an actor's statements about one action
//! gathered so that checking them against many target ARNs stays cheap.

use std::collections::HashMap;

use super::catalog::Catalog;
use super::grants::{Expander, PrincipalPolicies, Sourced};
use super::inventory::{RoleRecord, account_of};
use super::policy::{TrustStatement, glob_match};
use crate::permissions::{Effect, Entitlements, PermissionCatalog, Principal, PrincipalKind};

/// How a role's trust policy admits a principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Trust {
    /// Any principal of any account (`"AWS": "*"`); the identity policy must allow the assumption.
    Anyone,
    /// The principal's account root: any principal of the account its identity policy lets in.
    AccountRoot,
    /// The principal's own ARN.
    Direct,
}

/// Whether `role` trusts `actor` (an AWS principal) to call sts:AssumeRole, and whether a condition
/// (MFA, external id, source identity…) applies.
pub(super) fn trusts(role: &RoleRecord, actor: &Principal) -> Option<(Trust, bool)> {
    let applies = |s: &TrustStatement| -> Option<Trust> {
        if !assume_action(s) {
            return None;
        }
        let mut best = s.anyone.then_some(Trust::Anyone);
        for p in &s.aws {
            let how = if p == &actor.key {
                Some(Trust::Direct)
            } else if is_account_root(p, &actor.account) {
                Some(Trust::AccountRoot)
            } else {
                None
            };
            best = best.max(how);
        }
        best
    };
    let denied = role
        .trust
        .statements
        .iter()
        .any(|s| !s.allow && s.condition.is_none() && applies(s).is_some());
    if denied {
        return None;
    }
    role.trust
        .statements
        .iter()
        .filter(|s| s.allow)
        .filter_map(|s| applies(s).map(|how| (how, s.condition.is_some())))
        .max_by_key(|(how, conditional)| (*how, !conditional))
}

fn assume_action(s: &TrustStatement) -> bool {
    s.actions
        .iter()
        .any(|a| glob_match(a.to_ascii_lowercase().as_bytes(), b"sts:assumerole"))
}

fn is_account_root(principal: &str, account: &str) -> bool {
    !account.is_empty()
        && (principal == account
            || (principal.starts_with("arn:")
                && principal.ends_with(&format!(":iam::{account}:root"))))
}

/// Whether the role's trust policy lets `service` (`lambda.amazonaws.com`) assume it.
pub(crate) fn trusts_service(role: &RoleRecord, service: &str) -> bool {
    role.trust.statements.iter().any(|s| {
        s.allow && assume_action(s) && (s.anyone || s.service.iter().any(|x| x == service))
    })
}

/// Trust statements naming principals of other accounts than the role's own (external access).
pub(crate) fn external_principals(role: &RoleRecord) -> Vec<String> {
    let own = account_of(&role.arn);
    let mut out = Vec::new();
    for s in role.trust.statements.iter().filter(|s| s.allow) {
        if s.anyone {
            out.push("*".to_string());
        }
        for p in &s.aws {
            let account = if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
                p.clone()
            } else {
                account_of(p)
            };
            if !account.is_empty() && account != own {
                out.push(p.clone());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every action the primitives check, resolved once: the checks run for every actor and target pair.
pub(super) const ESCALATION_ACTIONS: &[&str] = &[
    "sts:AssumeRole",
    "iam:AttachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AddUserToGroup",
    "iam:CreateAccessKey",
    "iam:DeleteAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteUserPermissionsBoundary",
    "iam:PutUserPermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
    "iam:PassRole",
    "iam:CreateInstanceProfile",
    "iam:AddRoleToInstanceProfile",
    "lambda:CreateFunction",
    "lambda:InvokeFunction",
    "lambda:CreateEventSourceMapping",
    "lambda:UpdateFunctionCode",
    "ec2:RunInstances",
    "cloudformation:CreateStack",
    "glue:CreateDevEndpoint",
];

/// Answers "does this principal hold this permission on that resource", from its statements.
pub(super) struct Holder<'e, 'a> {
    pub(super) expander: Expander<'a>,
    pub(super) catalog: &'a Catalog,
    pub(super) indices: HashMap<&'static str, u32>,
    pub(super) entitlements: HashMap<&'e str, &'e Entitlements>,
    pub(super) policies: HashMap<String, PrincipalPolicies>,
}

impl<'e, 'a> Holder<'e, 'a> {
    pub(super) fn index(&self, action: &str) -> Option<u32> {
        self.indices
            .get(action)
            .copied()
            .or_else(|| self.catalog.index_of(action))
    }

    pub(super) fn policies(&mut self, principal: &Principal) -> &PrincipalPolicies {
        if !self.policies.contains_key(&principal.key) {
            let p = self.expander.policies_of(principal);
            self.policies.insert(principal.key.clone(), p);
        }
        &self.policies[&principal.key]
    }

    /// The actor's statements about `action`, or `None` when it may not call it anywhere.
    pub(super) fn grip(&mut self, actor: &Principal, action: &str) -> Option<Grip> {
        let index = self.index(action)?;
        let entitlements: &'e Entitlements = self.entitlements.get(actor.key.as_str()).copied()?;
        if !entitlements.allowed.contains(index) {
            return None;
        }
        let user_name = (actor.kind == PrincipalKind::User).then(|| actor.name.clone());
        let name = user_name.as_deref();
        let policies = self.policies(actor);
        let rules =
            |statements: &[Sourced], effect: Effect, unconditional_only: bool| -> Vec<Rule> {
                statements
                    .iter()
                    .filter(|s| s.statement.effect == effect && s.actions.contains(index))
                    .filter(|s| !unconditional_only || s.statement.condition.is_none())
                    .map(|s| Rule::of(s, name))
                    .collect()
            };
        Some(Grip {
            allows: rules(&policies.statements, Effect::Allow, false),
            denies: rules(&policies.statements, Effect::Deny, true),
            cap: policies
                .boundary
                .as_ref()
                .filter(|(_, cap)| !cap.is_empty())
                .map(|(_, cap)| rules(cap, Effect::Allow, false)),
            conditional: entitlements.conditional.contains(index),
        })
    }

    /// `Some(conditional)` when `actor` may call `action` on `resource`.
    pub(super) fn on(&mut self, actor: &Principal, action: &str, resource: &str) -> Option<bool> {
        self.grip(actor, action)?.on(resource)
    }

    /// `Some(conditional)` when `actor` may call `action` on some resource.
    pub(super) fn anywhere(&self, actor: &Principal, action: &str) -> Option<bool> {
        let index = self.index(action)?;
        let e = self.entitlements.get(actor.key.as_str())?;
        e.allowed
            .contains(index)
            .then(|| e.conditional.contains(index))
    }

    /// Whether the actor's blanket denies forbid `action` on `resource` (checked where a trust
    /// policy alone would let the actor in).
    pub(super) fn denied(&mut self, actor: &Principal, action: &str, resource: &str) -> bool {
        let Some(index) = self.index(action) else {
            return false;
        };
        let policies = self.policies(actor);
        policies.statements.iter().any(|s| {
            s.statement.effect == Effect::Deny
                && s.statement.condition.is_none()
                && s.actions.contains(index)
                && s.statement.covers_resource(resource, None)
        })
    }

    pub(super) fn is_admin(&self, key: &str) -> bool {
        self.entitlements
            .get(key)
            .is_some_and(|e| e.admin_equivalent.is_some())
    }
}

/// One statement's resources, `${aws:username}` already replaced, ready to match many ARNs.
pub(super) struct Rule {
    /// (pattern, whether it has a wildcard)
    patterns: Vec<(String, bool)>,
    not_resource: bool,
    conditional: bool,
}

impl Rule {
    fn of(s: &Sourced, user_name: Option<&str>) -> Rule {
        let patterns = s
            .statement
            .resources
            .iter()
            .map(|p| {
                let p = match user_name {
                    Some(name) => p.replace("${aws:username}", name),
                    None => p.clone(),
                };
                let wild = p.contains(['*', '?']);
                (p, wild)
            })
            .collect();
        Rule {
            patterns,
            not_resource: s.statement.not_resource,
            conditional: s.statement.condition.is_some(),
        }
    }

    fn covers(&self, resource: &str) -> bool {
        let hit = self.patterns.iter().any(|(p, wild)| {
            if *wild {
                glob_match(p.as_bytes(), resource.as_bytes())
            } else {
                p == resource
            }
        });
        hit != self.not_resource
    }
}

/// One actor's statements about one action, gathered once so that checking it against many
/// resources (every user, every role) stays cheap.
pub(super) struct Grip {
    allows: Vec<Rule>,
    /// Unconditional denies.
    denies: Vec<Rule>,
    /// The boundary's allows, when a boundary is known.
    cap: Option<Vec<Rule>>,
    /// The action is conditional in the entitlements.
    conditional: bool,
}

impl Grip {
    /// `Some(conditional)` when the action is allowed on `resource`.
    pub(super) fn on(&self, resource: &str) -> Option<bool> {
        let mut allows = self.allows.iter().filter(|r| r.covers(resource)).peekable();
        allows.peek()?;
        let all_conditional = allows.all(|r| r.conditional);
        if self.denies.iter().any(|r| r.covers(resource)) {
            return None;
        }
        if let Some(cap) = &self.cap
            && !cap.iter().any(|r| r.covers(resource))
        {
            return None;
        }
        Some(all_conditional || self.conditional)
    }
}

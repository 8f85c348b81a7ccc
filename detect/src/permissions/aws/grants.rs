//! Effective permissions: every policy statement reaching a principal expanded against the catalog,
//! denies subtracted, the permissions boundary intersected.
//!
//! Each managed policy is expanded once and shared (an `Rc` of its statements' sets), so ten thousand
//! principals holding AdministratorAccess cost one expansion and one bitset OR each. Resource-based
//! policies (bucket, key, queue policies) and organization SCPs are out of scope: they are not in
//! the IAM inventory exports.

use std::collections::HashMap;
use std::rc::Rc;

use super::catalog::Catalog;
use super::inventory::{InlinePolicy, Inventory};
use super::policy::Statement;
use crate::permissions::{Effect, Entitlements, Grant, PermissionSet, Principal, PrincipalKind};

/// A statement as it reaches one principal, with its expanded actions.
#[derive(Debug, Clone)]
pub(crate) struct Sourced {
    pub(crate) statement: Rc<Statement>,
    /// The catalog actions the statement's `Action` / `NotAction` names.
    pub(crate) actions: Rc<PermissionSet>,
    pub(crate) via: String,
}

impl Sourced {
    /// An unconditional Deny on every resource: the only kind subtracted from what is allowed
    /// (a conditional or resource-limited Deny still leaves the permission usable elsewhere).
    pub(crate) fn is_blanket_deny(&self) -> bool {
        self.statement.effect == Effect::Deny
            && self.statement.condition.is_none()
            && self.statement.on_every_resource()
    }
}

/// All statements reaching one principal, split into its grants and its boundary.
#[derive(Debug, Clone, Default)]
pub(crate) struct PrincipalPolicies {
    pub(crate) statements: Vec<Sourced>,
    /// `Some` when a boundary is set: its statements (empty when its document is unknown).
    pub(crate) boundary: Option<(String, Vec<Sourced>)>,
    /// Policies attached but found neither in the inventory nor in the catalog.
    pub(crate) missing: Vec<String>,
}

/// A policy's statements with their expanded actions, shared by every principal it is attached to.
type ExpandedStatements = Rc<Vec<(Rc<Statement>, Rc<PermissionSet>)>>;

/// Expands statements against the catalog, caching patterns and managed policies.
#[derive(Debug)]
pub(crate) struct Expander<'a> {
    catalog: &'a Catalog,
    inventory: &'a Inventory,
    patterns: HashMap<String, Rc<PermissionSet>>,
    /// Managed policy ARN → (name, statements); `None` when neither inventory nor catalog has it.
    managed: HashMap<String, Option<(String, ExpandedStatements)>>,
}

impl<'a> Expander<'a> {
    pub(crate) fn new(inventory: &'a Inventory, catalog: &'a Catalog) -> Expander<'a> {
        Expander {
            catalog,
            inventory,
            patterns: HashMap::new(),
            managed: HashMap::new(),
        }
    }

    pub(crate) fn catalog(&self) -> &'a Catalog {
        self.catalog
    }

    fn pattern(&mut self, pattern: &str) -> Rc<PermissionSet> {
        let key = pattern.to_ascii_lowercase();
        if let Some(hit) = self.patterns.get(&key) {
            return Rc::clone(hit);
        }
        let set = Rc::new(self.catalog.expand_pattern(pattern));
        self.patterns.insert(key, Rc::clone(&set));
        set
    }

    /// The actions a statement names (NotAction: every catalog action but those).
    pub(crate) fn statement_actions(&mut self, statement: &Statement) -> PermissionSet {
        let mut set = PermissionSet::new();
        for pattern in &statement.actions {
            set.union_with(&self.pattern(pattern));
        }
        if statement.not_action {
            let mut all = self.catalog.all().clone();
            all.subtract(&set);
            all
        } else {
            set
        }
    }

    fn expand(&mut self, statements: &[Statement]) -> Vec<(Rc<Statement>, Rc<PermissionSet>)> {
        statements
            .iter()
            .map(|s| (Rc::new(s.clone()), Rc::new(self.statement_actions(s))))
            .collect()
    }

    /// A managed policy's name and expanded statements: the inventory's default version first (it is
    /// what the account really has), else the catalog's AWS managed policy.
    fn managed(&mut self, arn: &str) -> Option<(String, ExpandedStatements)> {
        if let Some(hit) = self.managed.get(arn) {
            return hit.clone();
        }
        let inventory = self.inventory;
        let catalog = self.catalog;
        let found = if let Some(record) = inventory.policies.get(arn) {
            record
                .default_document()
                .map(|doc| (record.name.clone(), self.expand(&doc.statements)))
        } else {
            catalog
                .managed_policy(arn)
                .map(|m| (m.name.clone(), self.expand(&m.statements)))
        };
        let found = found.map(|(name, statements)| (name, Rc::new(statements)));
        if found.is_none() {
            // Once per policy (the result is cached): every principal it is attached to says so in
            // its grants.
            tracing::warn!(
                policy = arn,
                "managed policy in neither the inventory nor the catalog: not expanded"
            );
        }
        self.managed.insert(arn.to_string(), found.clone());
        found
    }

    fn add_managed(&mut self, out: &mut PrincipalPolicies, arn: &str, via_suffix: &str) {
        match self.managed(arn) {
            Some((name, statements)) => {
                for (statement, actions) in statements.iter() {
                    out.statements.push(Sourced {
                        statement: Rc::clone(statement),
                        actions: Rc::clone(actions),
                        via: format!("policy {name} ({arn}){via_suffix}"),
                    });
                }
            }
            None => out.missing.push(format!("{arn}{via_suffix}")),
        }
    }

    fn add_inline(
        &mut self,
        out: &mut PrincipalPolicies,
        inline: &[InlinePolicy],
        via_suffix: &str,
    ) {
        for policy in inline {
            for statement in &policy.document.statements {
                let actions = Rc::new(self.statement_actions(statement));
                out.statements.push(Sourced {
                    statement: Rc::new(statement.clone()),
                    actions,
                    via: format!("inline policy {}{via_suffix}", policy.name),
                });
            }
        }
    }

    fn boundary(&mut self, arn: &str) -> (String, Vec<Sourced>) {
        let mut holder = PrincipalPolicies::default();
        self.add_managed(&mut holder, arn, " as permissions boundary");
        (arn.to_string(), holder.statements)
    }

    /// Every statement reaching the principal: its own inline and attached policies, and for users
    /// those of their groups.
    pub(crate) fn policies_of(&mut self, principal: &Principal) -> PrincipalPolicies {
        let mut out = PrincipalPolicies::default();
        let inventory = self.inventory;
        match principal.kind {
            PrincipalKind::User => {
                if let Some(user) = inventory.users.get(&principal.key) {
                    let own = format!(" of user {}", user.name);
                    self.add_inline(&mut out, &user.inline, &own);
                    for arn in &user.attached {
                        self.add_managed(
                            &mut out,
                            arn,
                            &format!(" attached to user {}", user.name),
                        );
                    }
                    for group_arn in &user.groups {
                        let Some(group) = inventory.groups.get(group_arn) else {
                            continue;
                        };
                        let via = format!(" via group {}", group.name);
                        self.add_inline(&mut out, &group.inline, &via);
                        for arn in &group.attached {
                            self.add_managed(&mut out, arn, &via);
                        }
                    }
                    if let Some(b) = &user.boundary {
                        out.boundary = Some(self.boundary(b));
                    }
                }
            }
            PrincipalKind::Group => {
                if let Some(group) = inventory.groups.get(&principal.key) {
                    let own = format!(" of group {}", group.name);
                    self.add_inline(&mut out, &group.inline, &own);
                    for arn in &group.attached {
                        self.add_managed(
                            &mut out,
                            arn,
                            &format!(" attached to group {}", group.name),
                        );
                    }
                }
            }
            PrincipalKind::Role => {
                if let Some(role) = inventory.roles.get(&principal.key) {
                    let own = format!(" of role {}", role.name);
                    self.add_inline(&mut out, &role.inline, &own);
                    for arn in &role.attached {
                        self.add_managed(
                            &mut out,
                            arn,
                            &format!(" attached to role {}", role.name),
                        );
                    }
                    if let Some(b) = &role.boundary {
                        out.boundary = Some(self.boundary(b));
                    }
                }
            }
            _ => {}
        }
        out
    }
}

/// Allowed actions of a set of statements: (all allowed, allowed only under a condition), after
/// blanket denies.
fn allowed_by(statements: &[Sourced]) -> (PermissionSet, PermissionSet) {
    let mut unconditional = PermissionSet::new();
    let mut conditional = PermissionSet::new();
    for s in statements
        .iter()
        .filter(|s| s.statement.effect == Effect::Allow)
    {
        if s.statement.condition.is_some() {
            conditional.union_with(&s.actions);
        } else {
            unconditional.union_with(&s.actions);
        }
    }
    let mut allowed = unconditional.clone();
    allowed.union_with(&conditional);
    for s in statements.iter().filter(|s| s.is_blanket_deny()) {
        allowed.subtract(&s.actions);
    }
    conditional.subtract(&unconditional);
    conditional.intersect_with(&allowed);
    (allowed, conditional)
}

/// Computes one principal's entitlements.
pub(crate) fn entitlements_of(expander: &mut Expander<'_>, principal: &Principal) -> Entitlements {
    let catalog = expander.catalog();
    if principal.kind == PrincipalKind::Root {
        return Entitlements {
            principal: principal.clone(),
            allowed: catalog.all().clone(),
            conditional: PermissionSet::new(),
            grants: Vec::new(),
            reach: 1.0,
            admin_equivalent: Some(
                "the account root user: IAM policies do not limit it (only organization SCPs do)"
                    .into(),
            ),
        };
    }
    let policies = expander.policies_of(principal);
    let (mut allowed, mut conditional) = allowed_by(&policies.statements);
    let mut grants: Vec<Grant> = policies.statements.iter().map(grant_of).collect();
    for missing in &policies.missing {
        grants.push(Grant {
            effect: Effect::Allow,
            patterns: Vec::new(),
            not: false,
            resources: Vec::new(),
            condition: None,
            via: format!(
                "policy {missing}: document in neither the inventory nor the catalog, not expanded"
            ),
        });
    }
    if let Some((arn, statements)) = &policies.boundary {
        if statements.is_empty() {
            // An unknown boundary cannot be applied; saying so beats guessing either way.
            grants.push(Grant {
                effect: Effect::Deny,
                patterns: Vec::new(),
                not: false,
                resources: Vec::new(),
                condition: None,
                via: format!(
                    "permissions boundary {arn}: document in neither the inventory nor the catalog, not applied"
                ),
            });
        } else {
            let (cap, cap_conditional) = allowed_by(statements);
            allowed.intersect_with(&cap);
            conditional.intersect_with(&allowed);
            let mut capped_conditional = cap_conditional;
            capped_conditional.intersect_with(&allowed);
            conditional.union_with(&capped_conditional);
            grants.extend(statements.iter().map(|s| {
                let mut g = grant_of(s);
                g.via = format!("{} (a cap: grants nothing by itself)", g.via);
                g
            }));
        }
    }
    let reach = reach_of(&policies.statements, &allowed, catalog);
    let admin_equivalent = admin_reason(&policies.statements, &allowed, catalog);
    Entitlements {
        principal: principal.clone(),
        allowed,
        conditional,
        grants,
        reach,
        admin_equivalent,
    }
}

fn grant_of(s: &Sourced) -> Grant {
    let st = &s.statement;
    let mut via = s.via.clone();
    if st.effect == Effect::Deny && !s.is_blanket_deny() {
        via.push_str(" (conditional or resource-limited Deny: kept as evidence, not subtracted)");
    }
    if let Some(sid) = &st.sid {
        via.push_str(&format!(", statement {sid}"));
    }
    Grant {
        effect: st.effect,
        patterns: st.actions.clone(),
        not: st.not_action,
        // NotResource has no field of its own in the shared model: each entry is marked instead.
        resources: if st.not_resource {
            st.resources
                .iter()
                .map(|r| format!("NotResource:{r}"))
                .collect()
        } else {
            st.resources.clone()
        },
        condition: st.condition.as_ref().map(|c| c.to_string()),
        via,
    }
}

/// 1.0 when a write or permission-management action is allowed on `*` (or on everything but a
/// `NotResource` list), 0.5 on wildcard ARNs, 0.25 on named ARNs only, 0 when none is allowed.
fn reach_of(statements: &[Sourced], allowed: &PermissionSet, catalog: &Catalog) -> f64 {
    let mut reach: f64 = 0.0;
    for s in statements
        .iter()
        .filter(|s| s.statement.effect == Effect::Allow)
    {
        let mut risky = (*s.actions).clone();
        risky.intersect_with(allowed);
        risky.intersect_with(catalog.high_risk());
        if risky.is_empty() {
            continue;
        }
        let st = &s.statement;
        let level = if st.not_resource || st.resources.iter().any(|r| r == "*") {
            1.0
        } else if st.resources.iter().any(|r| r.contains(['*', '?'])) {
            0.5
        } else {
            0.25
        };
        reach = reach.max(level);
    }
    reach
}

/// Why the principal is admin-equivalent: every catalog action allowed on `*` without a condition,
/// and nothing (deny, boundary) cutting it.
fn admin_reason(
    statements: &[Sourced],
    allowed: &PermissionSet,
    catalog: &Catalog,
) -> Option<String> {
    if allowed.len() < catalog.len() {
        return None;
    }
    let everywhere: Vec<&Sourced> = statements
        .iter()
        .filter(|s| {
            s.statement.effect == Effect::Allow
                && s.statement.condition.is_none()
                && s.statement.on_every_resource()
        })
        .collect();
    if let Some(s) = everywhere.iter().find(|s| s.actions.len() >= catalog.len()) {
        return Some(format!("allows *:* on * ({})", s.via));
    }
    let mut union = PermissionSet::new();
    for s in &everywhere {
        union.union_with(&s.actions);
    }
    if union.len() < catalog.len() {
        return None;
    }
    let mut vias: Vec<&str> = everywhere.iter().map(|s| s.via.as_str()).collect();
    vias.dedup();
    Some(format!("allows every action on * ({})", vias.join("; ")))
}

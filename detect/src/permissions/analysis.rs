//! Findings, the Permission Creep Index and escalation paths, computed on the shared model for any
//! cloud.
//!
//! # Permission Creep Index
//!
//! For an identity, `U` is the weighted count of high-risk permissions it is allowed but did not use in
//! the window (permission management counts 3, write and delete 1), and `R` its reach (1.0 when those
//! grants cover an account, subscription, project or more; 0.5 a resource group, folder or wildcard
//! path; 0.25 named resources):
//!
//! `PCI = round(100 × (1 − e^(−U·R / 150)))`
//!
//! so ten unused writes on named resources score 2, a hundred unused writes account-wide score 49, and
//! an unused `AdministratorAccess` scores 100. Bands: low 0–33, medium 34–66, high 67–100. An
//! account's PCI is the mean of its identities' (groups excluded), reported with how many are high.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use vigil_schemas::{Finding, Provider};

use super::model::{
    AccessLevel, Entitlements, EscalationEdge, PermissionCatalog, PermissionSet, PrincipalKind,
    Usage, UsedPermission,
};

/// One cloud's inputs to the analysis.
pub struct CloudView<'a> {
    pub provider: Provider,
    pub catalog: &'a dyn PermissionCatalog,
    pub entitlements: &'a [Entitlements],
    pub edges: &'a [EscalationEdge],
    /// Whether events keyed by the second key are the first principal's doing.
    pub belongs: fn(&str, &str) -> bool,
}

impl std::fmt::Debug for CloudView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudView")
            .field("provider", &self.provider)
            .field("entitlements", &self.entitlements.len())
            .field("edges", &self.edges.len())
            .finish()
    }
}

/// When the analysis runs and how far back "used" looks.
#[derive(Debug, Clone, Copy)]
pub struct AnalysisOptions {
    pub now: DateTime<Utc>,
    pub window_days: u32,
}

/// Per identity figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityReport {
    pub provider: String,
    pub account: String,
    pub identity_key: String,
    pub name: String,
    pub kind: PrincipalKind,
    pub granted: usize,
    pub used: usize,
    pub unused_high_risk: usize,
    pub reach: f64,
    pub pci: f64,
    pub band: &'static str,
    pub last_seen: Option<DateTime<Utc>>,
    pub admin_equivalent: Option<String>,
}

/// Per account figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountReport {
    pub provider: String,
    pub account: String,
    pub identities: usize,
    pub pci: f64,
    pub band: &'static str,
    pub high: usize,
}

/// A way from an identity to admin-equivalent, step by step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EscalationPath {
    pub identity_key: String,
    pub steps: Vec<EscalationEdge>,
}

/// What the analysis found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub identities: Vec<IdentityReport>,
    pub accounts: Vec<AccountReport>,
    pub paths: Vec<EscalationPath>,
}

/// The PCI for `unused` weighted high-risk permissions at `reach`.
pub fn permission_creep_index(unused_weighted: f64, reach: f64) -> f64 {
    (100.0 * (1.0 - (-unused_weighted * reach / 150.0).exp())).round()
}

/// low / medium / high.
pub fn band(pci: f64) -> &'static str {
    if pci >= 67.0 {
        "high"
    } else if pci >= 34.0 {
        "medium"
    } else {
        "low"
    }
}

fn finding_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    d.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// Which usage keys belong to which principal (by index into the view's entitlements).
fn usage_owners(view: &CloudView<'_>, usage: &Usage) -> HashMap<usize, Vec<String>> {
    let by_key: HashMap<&str, usize> = view
        .entitlements
        .iter()
        .enumerate()
        .map(|(i, e)| (e.principal.key.as_str(), i))
        .collect();
    let mut owners: HashMap<usize, Vec<String>> = HashMap::new();
    let keys = usage
        .by_identity
        .keys()
        .chain(usage.last_seen.keys())
        .collect::<BTreeSet<_>>();
    for key in keys {
        let owner = by_key.get(key.as_str()).copied().or_else(|| {
            // Per-session keys (`role-arn/session`) belong to the role when the cloud says so.
            let (prefix, _) = key.rsplit_once('/')?;
            by_key
                .get(prefix)
                .copied()
                .filter(|i| (view.belongs)(&view.entitlements[*i].principal.key, key))
        });
        if let Some(i) = owner {
            owners.entry(i).or_default().push(key.clone());
        }
    }
    owners
}

/// Runs every finding over every cloud.
pub fn analyze(views: &[CloudView<'_>], usage: &Usage, options: AnalysisOptions) -> Analysis {
    let window_start = options.now - Duration::days(i64::from(options.window_days));
    let mut analysis = Analysis::default();
    let mut account_pci: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for view in views {
        let provider = view.provider.as_str().to_string();
        let infos = view.catalog.permissions();
        let owners = usage_owners(view, usage);
        let admins: BTreeSet<&str> = view
            .entitlements
            .iter()
            .filter(|e| e.admin_equivalent.is_some())
            .map(|e| e.principal.key.as_str())
            .collect();
        let mut active: BTreeSet<&str> = BTreeSet::new();
        for (i, ent) in view.entitlements.iter().enumerate() {
            let p = &ent.principal;
            let keys = owners.get(&i).cloned().unwrap_or_default();
            let last_seen = keys
                .iter()
                .filter_map(|k| usage.last_seen.get(k))
                .max()
                .copied();
            let mut used = PermissionSet::new();
            let mut used_stats: BTreeMap<String, UsedPermission> = BTreeMap::new();
            for k in &keys {
                for (name, stat) in usage.by_identity.get(k).into_iter().flatten() {
                    if let Some(index) = view.catalog.index_of(name) {
                        used.insert(index);
                    }
                    let entry = used_stats.entry(name.clone()).or_default();
                    entry.count += stat.count;
                }
            }
            let mut unused = ent.allowed.clone();
            unused.subtract(&used);
            let (mut weighted, mut unused_high) = (0.0, 0usize);
            let mut unused_examples = Vec::new();
            for index in unused.iter() {
                let Some(info) = infos.get(index as usize) else {
                    continue;
                };
                match info.level {
                    AccessLevel::PermissionsManagement => weighted += 3.0,
                    AccessLevel::Write => weighted += 1.0,
                    _ => continue,
                }
                unused_high += 1;
                if unused_examples.len() < 10 {
                    unused_examples.push(info.name.clone());
                }
            }
            let is_group = p.kind == PrincipalKind::Group;
            let pci = if is_group {
                0.0
            } else {
                permission_creep_index(weighted, ent.reach)
            };
            let recent = last_seen.is_some_and(|t| t >= window_start);
            if recent {
                active.insert(p.key.as_str());
            }
            analysis.identities.push(IdentityReport {
                provider: provider.clone(),
                account: p.account.clone(),
                identity_key: p.key.clone(),
                name: p.name.clone(),
                kind: p.kind,
                granted: ent.allowed.len(),
                used: used.len(),
                unused_high_risk: unused_high,
                reach: ent.reach,
                pci,
                band: band(pci),
                last_seen,
                admin_equivalent: ent.admin_equivalent.clone(),
            });
            if !is_group {
                account_pci
                    .entry((provider.clone(), p.account.clone()))
                    .or_default()
                    .push(pci);
            }
            let mut push = |kind: &str,
                            severity: &str,
                            title: String,
                            evidence: serde_json::Value,
                            fix: &str| {
                analysis.findings.push(Finding {
                    finding_id: finding_id(&[kind, &p.key, &title]),
                    kind: kind.to_string(),
                    provider: provider.clone(),
                    account: p.account.clone(),
                    identity_key: p.key.clone(),
                    identity_name: p.name.clone(),
                    severity: severity.to_string(),
                    title,
                    evidence,
                    suggested_fix: fix.to_string(),
                    pci: (!is_group).then_some(pci),
                    analyzed_at: options.now,
                });
            };
            let vias: Vec<&str> = ent
                .grants
                .iter()
                .map(|g| g.via.as_str())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .take(5)
                .collect();
            // Public pseudo-principals (allUsers, allAuthenticatedUsers, a whole domain) never "act".
            let pseudo = p.key.starts_with("anonymous:")
                || p.key.starts_with("gcp:domain:")
                || p.key.ends_with("allAuthenticatedUsers");
            if !is_group && !pseudo && p.kind != PrincipalKind::Root && !recent {
                let created_recently = p.created.is_some_and(|c| c >= window_start);
                push(
                    "inactive_identity",
                    if ent.admin_equivalent.is_some() {
                        "high"
                    } else {
                        "medium"
                    },
                    format!("{} has not acted in {} days", p.name, options.window_days),
                    serde_json::json!({"last_seen": last_seen, "created": p.created, "created_in_window": created_recently, "granted": ent.allowed.len(), "via": vias}),
                    "disable or delete the identity, or remove its permissions, after confirming with its owner",
                );
            }
            if let Some(why) = &ent.admin_equivalent {
                push(
                    "super_identity",
                    if p.kind == PrincipalKind::Root {
                        "medium"
                    } else {
                        "high"
                    },
                    format!("{} is admin-equivalent", p.name),
                    serde_json::json!({"why": why, "via": vias, "used": used.len(), "granted": ent.allowed.len()}),
                    "replace the admin grant with a right-sized one (vigil permissions rightsize), keep admin for break-glass only",
                );
            }
            // The root user holds everything by definition; its use is the finding, not its breadth.
            if !is_group && p.kind != PrincipalKind::Root && unused_high > 0 && recent {
                push(
                    "over_provisioned",
                    match band(pci) {
                        "high" => "high",
                        "medium" => "medium",
                        _ => "low",
                    },
                    format!(
                        "{} holds {unused_high} high-risk permissions it did not use in {} days",
                        p.name, options.window_days
                    ),
                    serde_json::json!({"unused_high_risk": unused_high, "examples": unused_examples, "reach": ent.reach, "pci": pci, "used": used_stats.keys().take(20).collect::<Vec<_>>()}),
                    "apply the right-sized policy from `vigil permissions rightsize`",
                );
            }
            let flagged = |pick: fn(&super::model::RiskFlags) -> bool| -> Vec<String> {
                ent.allowed
                    .iter()
                    .filter_map(|i| infos.get(i as usize))
                    .filter(|info| pick(&info.risk))
                    .map(|info| info.name.clone())
                    .take(10)
                    .collect()
            };
            let secrets = flagged(|r| r.reads_secrets);
            if !secrets.is_empty() {
                push(
                    "can_read_secrets",
                    "medium",
                    format!("{} can read secret values", p.name),
                    serde_json::json!({"permissions": secrets, "via": vias}),
                    "limit secret reads to the secrets the identity needs, by resource",
                );
            }
            let tooling = flagged(|r| r.disables_security_tooling);
            if !tooling.is_empty() {
                push(
                    "can_disable_security_tooling",
                    "high",
                    format!("{} can turn off or weaken security tooling", p.name),
                    serde_json::json!({"permissions": tooling, "via": vias}),
                    "remove these permissions outside the security team; protect the trail, sinks and settings with an organization policy",
                );
            }
            for c in p.credentials.iter().filter(|c| c.active) {
                let last = c
                    .last_used
                    .or_else(|| usage.credentials_last_used.get(&c.id).copied());
                if last.is_some_and(|t| t >= window_start) {
                    continue;
                }
                let age_days = c.created.map(|t| (options.now - t).num_days());
                push(
                    "unused_credential",
                    if age_days.unwrap_or(0) > 365 {
                        "high"
                    } else {
                        "medium"
                    },
                    format!(
                        "{} {} of {} unused in {} days",
                        c.kind.replace('_', " "),
                        c.id,
                        p.name,
                        options.window_days
                    ),
                    serde_json::json!({"credential": c.id, "kind": c.kind, "created": c.created, "age_days": age_days, "last_used": last}),
                    "deactivate the credential, then delete it if nothing breaks",
                );
            }
        }
        // Groups: none of their members acted in the window (or they have no members).
        for ent in view
            .entitlements
            .iter()
            .filter(|e| e.principal.kind == PrincipalKind::Group)
        {
            let members: Vec<&str> = view
                .entitlements
                .iter()
                .filter(|e| e.principal.member_of.contains(&ent.principal.key))
                .map(|e| e.principal.key.as_str())
                .collect();
            if members.iter().any(|m| active.contains(m)) {
                continue;
            }
            let p = &ent.principal;
            let title = if members.is_empty() {
                format!("group {} has no members", p.name)
            } else {
                format!(
                    "no member of group {} acted in {} days",
                    p.name, options.window_days
                )
            };
            analysis.findings.push(Finding {
                finding_id: finding_id(&["inactive_group", &p.key, &title]),
                kind: "inactive_group".into(),
                provider: provider.clone(),
                account: p.account.clone(),
                identity_key: p.key.clone(),
                identity_name: p.name.clone(),
                severity: "low".into(),
                title,
                evidence: serde_json::json!({"members": members, "granted": ent.allowed.len()}),
                suggested_fix: "remove the group's grants or the group".into(),
                pci: None,
                analyzed_at: options.now,
            });
        }
        for path in escalation_paths(view.entitlements, view.edges, &admins) {
            let p = &path.identity_key;
            let name = view
                .entitlements
                .iter()
                .find(|e| &e.principal.key == p)
                .map(|e| (e.principal.name.clone(), e.principal.account.clone()))
                .unwrap_or_default();
            let title = format!(
                "{} can become admin-equivalent in {} step{}",
                name.0,
                path.steps.len(),
                if path.steps.len() == 1 { "" } else { "s" }
            );
            analysis.findings.push(Finding {
                finding_id: finding_id(&["escalation_path", p, &title]),
                kind: "escalation_path".into(),
                provider: provider.clone(),
                account: name.1,
                identity_key: p.clone(),
                identity_name: name.0,
                severity: if path.steps.len() == 1 {
                    "critical".into()
                } else {
                    "high".into()
                },
                title,
                evidence: serde_json::to_value(&path.steps).unwrap_or_default(),
                suggested_fix:
                    "remove the permission of the first step, or scope it away from the target"
                        .into(),
                pci: None,
                analyzed_at: options.now,
            });
            analysis.paths.push(path);
        }
    }
    for ((provider, account), values) in account_pci {
        let mean = (values.iter().sum::<f64>() / values.len().max(1) as f64).round();
        analysis.accounts.push(AccountReport {
            provider,
            account,
            identities: values.len(),
            pci: mean,
            band: band(mean),
            high: values.iter().filter(|v| **v >= 67.0).count(),
        });
    }
    analysis.findings.sort_by(|a, b| {
        (
            a.provider.as_str(),
            &a.account,
            &a.identity_key,
            &a.kind,
            &a.title,
        )
            .cmp(&(
                b.provider.as_str(),
                &b.account,
                &b.identity_key,
                &b.kind,
                &b.title,
            ))
    });
    analysis
}

/// The shortest escalation path from every identity that is not admin-equivalent to one that is (or
/// to an edge that makes it admin directly). Breadth-first, so paths are shortest; ties go to the
/// edge listed first.
pub fn escalation_paths(
    entitlements: &[Entitlements],
    edges: &[EscalationEdge],
    admins: &BTreeSet<&str>,
) -> Vec<EscalationPath> {
    let mut out: BTreeMap<&str, Vec<&EscalationEdge>> = BTreeMap::new();
    for e in edges {
        out.entry(e.from.as_str()).or_default().push(e);
    }
    let mut paths = Vec::new();
    for ent in entitlements {
        let start = ent.principal.key.as_str();
        if admins.contains(start) || ent.principal.kind == PrincipalKind::Group {
            continue;
        }
        let mut came_from: HashMap<&str, &EscalationEdge> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        let mut seen = BTreeSet::from([start]);
        let mut goal: Option<(&str, Option<&EscalationEdge>)> = None;
        'search: while let Some(node) = queue.pop_front() {
            for edge in out.get(node).into_iter().flatten() {
                match &edge.to {
                    None => {
                        goal = Some((node, Some(edge)));
                        break 'search;
                    }
                    Some(to) if admins.contains(to.as_str()) => {
                        came_from.insert(to.as_str(), edge);
                        goal = Some((to.as_str(), None));
                        break 'search;
                    }
                    Some(to) => {
                        if seen.insert(to.as_str()) {
                            came_from.insert(to.as_str(), edge);
                            queue.push_back(to.as_str());
                        }
                    }
                }
            }
        }
        let Some((mut node, last)) = goal else {
            continue;
        };
        let mut steps: Vec<EscalationEdge> = last.into_iter().cloned().collect();
        while node != start {
            let Some(edge) = came_from.get(node) else {
                break;
            };
            steps.push((*edge).clone());
            node = edge.from.as_str();
        }
        steps.reverse();
        paths.push(EscalationPath {
            identity_key: start.to_string(),
            steps,
        });
    }
    paths
}

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use vigil_schemas::Provider;

use super::analysis::*;
use super::model::*;

/// A hand-made catalog: index = position.
struct Mini(Vec<PermissionInfo>);

impl PermissionCatalog for Mini {
    fn permissions(&self) -> &[PermissionInfo] {
        &self.0
    }
    fn index_of(&self, name: &str) -> Option<u32> {
        self.0.iter().position(|p| p.name == name).map(|i| i as u32)
    }
}

fn info(name: &str, level: AccessLevel, risk: RiskFlags) -> PermissionInfo {
    PermissionInfo {
        name: name.into(),
        level,
        risk,
    }
}

fn catalog() -> Mini {
    Mini(vec![
        info("s3:GetObject", AccessLevel::Read, RiskFlags::default()),
        info("s3:PutObject", AccessLevel::Write, RiskFlags::default()),
        info(
            "iam:AttachUserPolicy",
            AccessLevel::PermissionsManagement,
            RiskFlags {
                privilege_escalation: true,
                ..RiskFlags::default()
            },
        ),
        info(
            "secretsmanager:GetSecretValue",
            AccessLevel::Read,
            RiskFlags {
                reads_secrets: true,
                ..RiskFlags::default()
            },
        ),
        info(
            "cloudtrail:StopLogging",
            AccessLevel::Write,
            RiskFlags {
                disables_security_tooling: true,
                ..RiskFlags::default()
            },
        ),
    ])
}

fn now() -> DateTime<Utc> {
    "2026-06-01T00:00:00Z".parse().unwrap()
}

fn principal(key: &str, kind: PrincipalKind) -> Principal {
    Principal {
        key: key.into(),
        provider: Provider::Aws,
        kind,
        name: key.rsplit('/').next().unwrap().into(),
        account: "111122223333".into(),
        created: Some(now() - Duration::days(400)),
        member_of: vec![],
        credentials: vec![],
    }
}

fn ent(p: Principal, allowed: &[u32], reach: f64, admin: bool) -> Entitlements {
    let mut set = PermissionSet::new();
    for i in allowed {
        set.insert(*i);
    }
    Entitlements {
        principal: p,
        allowed: set,
        conditional: PermissionSet::new(),
        grants: vec![Grant {
            effect: Effect::Allow,
            patterns: vec!["*".into()],
            not: false,
            resources: vec!["*".into()],
            condition: None,
            via: "policy test".into(),
        }],
        reach,
        admin_equivalent: admin.then(|| "allows *:* on *".to_string()),
    }
}

fn used(usage: &mut Usage, key: &str, permission: &str, days_ago: i64) {
    let t = now() - Duration::days(days_ago);
    let stat = usage
        .by_identity
        .entry(key.into())
        .or_default()
        .entry(permission.into())
        .or_default();
    stat.count += 1;
    stat.last = Some(t);
    let last = usage.last_seen.entry(key.into()).or_insert(t);
    *last = (*last).max(t);
}

fn same(a: &str, b: &str) -> bool {
    a == b || b.strip_prefix(a).is_some_and(|rest| rest.starts_with('/'))
}

#[test]
fn pci_formula_and_bands() {
    assert_eq!(permission_creep_index(0.0, 1.0), 0.0);
    assert_eq!(permission_creep_index(10.0, 0.25), 2.0);
    assert_eq!(permission_creep_index(100.0, 1.0), 49.0);
    assert_eq!(permission_creep_index(12_000.0, 1.0), 100.0);
    assert_eq!(
        (band(33.0), band(34.0), band(66.0), band(67.0)),
        ("low", "medium", "medium", "high")
    );
}

#[test]
fn every_finding_kind_with_known_answers() {
    let cat = catalog();
    let mut carol = principal("arn:aws:iam::111122223333:user/carol", PrincipalKind::User);
    carol.credentials.push(Credential {
        id: "AKIAOLD".into(),
        kind: "access_key".into(),
        created: Some(now() - Duration::days(500)),
        last_used: None,
        active: true,
    });
    let mut bob = principal("arn:aws:iam::111122223333:user/bob", PrincipalKind::User);
    bob.member_of
        .push("arn:aws:iam::111122223333:group/admins".into());
    let role = principal("arn:aws:iam::111122223333:role/app", PrincipalKind::Role);
    let group = principal(
        "arn:aws:iam::111122223333:group/auditors",
        PrincipalKind::Group,
    );
    let ents = vec![
        ent(bob, &[0, 1, 2, 3, 4], 1.0, true),
        ent(carol, &[0, 1], 0.25, false),
        ent(role, &[0, 1, 3], 0.5, false),
        ent(group, &[0], 1.0, false),
    ];
    let mut usage = Usage::default();
    used(
        &mut usage,
        "arn:aws:iam::111122223333:user/bob",
        "s3:GetObject",
        3,
    );
    used(
        &mut usage,
        "arn:aws:iam::111122223333:role/app/session-1",
        "s3:GetObject",
        1,
    );
    used(
        &mut usage,
        "arn:aws:iam::111122223333:role/app/session-2",
        "s3:PutObject",
        2,
    );
    let edges: Vec<EscalationEdge> = vec![];
    let views = [CloudView {
        provider: Provider::Aws,
        catalog: &cat,
        entitlements: &ents,
        edges: &edges,
        belongs: same,
    }];
    let a = analyze(
        &views,
        &usage,
        AnalysisOptions {
            now: now(),
            window_days: 90,
        },
    );
    let kinds: BTreeSet<(String, String)> = a
        .findings
        .iter()
        .map(|f| (f.identity_name.clone(), f.kind.clone()))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("bob", "super_identity"),
        ("bob", "over_provisioned"),
        ("bob", "can_read_secrets"),
        ("bob", "can_disable_security_tooling"),
        ("carol", "inactive_identity"),
        ("carol", "unused_credential"),
        ("app", "can_read_secrets"),
        ("auditors", "inactive_group"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(kinds, expected);
    let bob = a.identities.iter().find(|i| i.name == "bob").unwrap();
    // Unused high-risk: PutObject (1) + AttachUserPolicy (3) + StopLogging (1) = 5 at reach 1.
    assert_eq!(bob.unused_high_risk, 3);
    assert_eq!(bob.pci, permission_creep_index(5.0, 1.0));
    // The role's sessions count as the role: both of its writes were used.
    let app = a.identities.iter().find(|i| i.name == "app").unwrap();
    assert_eq!((app.used, app.unused_high_risk, app.pci), (2, 0, 0.0));
    let key = a
        .findings
        .iter()
        .find(|f| f.kind == "unused_credential")
        .unwrap();
    assert_eq!(key.evidence["age_days"], 500);
    assert_eq!(key.severity, "high");
    // Finding ids are stable across runs.
    let again = analyze(
        &views,
        &usage,
        AnalysisOptions {
            now: now(),
            window_days: 90,
        },
    );
    assert_eq!(
        a.findings.iter().map(|f| &f.finding_id).collect::<Vec<_>>(),
        again
            .findings
            .iter()
            .map(|f| &f.finding_id)
            .collect::<Vec<_>>()
    );
    assert_eq!(a.accounts.len(), 1);
    assert_eq!(a.accounts[0].identities, 3);
}

fn edge(from: &str, to: Option<&str>, primitive: &str) -> EscalationEdge {
    EscalationEdge {
        from: from.into(),
        to: to.map(str::to_string),
        primitive: primitive.into(),
        permissions: vec![],
        resource: "*".into(),
        explanation: String::new(),
    }
}

#[test]
fn shortest_paths_to_admin() {
    let ents = vec![
        ent(principal("a", PrincipalKind::User), &[], 1.0, false),
        ent(principal("b", PrincipalKind::Role), &[], 1.0, false),
        ent(principal("c", PrincipalKind::Role), &[], 1.0, false),
        ent(principal("admin", PrincipalKind::Role), &[], 1.0, true),
        ent(principal("d", PrincipalKind::User), &[], 1.0, false),
        ent(principal("loner", PrincipalKind::User), &[], 1.0, false),
    ];
    let edges = vec![
        edge("a", Some("b"), "assume"),
        edge("b", Some("c"), "assume"),
        edge("c", Some("admin"), "passrole"),
        edge("a", Some("c"), "create-key"),
        edge("d", None, "attach-admin-policy"),
        edge("loner", Some("d"), "cycle-free"),
        edge("b", Some("a"), "back"),
    ];
    let admins = BTreeSet::from(["admin"]);
    let paths: BTreeMap<String, Vec<String>> = escalation_paths(&ents, &edges, &admins)
        .into_iter()
        .map(|p| {
            (
                p.identity_key,
                p.steps.iter().map(|s| s.primitive.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(paths["a"], vec!["create-key", "passrole"]);
    assert_eq!(paths["b"], vec!["assume", "passrole"]);
    assert_eq!(paths["c"], vec!["passrole"]);
    assert_eq!(paths["d"], vec!["attach-admin-policy"]);
    assert_eq!(paths["loner"], vec!["cycle-free", "attach-admin-policy"]);
    assert!(!paths.contains_key("admin"));
}

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::{DateTime, Utc};
use vigil_ingest::simulate::{Simulation, SimulationConfig, techniques};
use vigil_ingest::{Limits, normalize_bytes};
use vigil_schemas::{
    Action, ActionCategory, Event, EventClass, Identity, IdentityKind, Outcome, OutcomeStatus,
    Provider, RawRef, Resource, SourceEndpoint,
};

use super::rules::{Gate, RuleBook, Severity};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/corpus");

const TACTICS: &[&str] = &[
    "defense-evasion",
    "persistence",
    "privilege-escalation",
    "credential-access",
    "exfiltration",
    "impact",
    "discovery",
    "execution",
    "initial-access",
    "collection",
    "lateral-movement",
];

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn normalize(bytes: &[u8]) -> (Vec<Event>, usize) {
    let out = normalize_bytes(
        "test",
        bytes,
        at("2026-04-01T00:00:00Z"),
        &Limits::default(),
    );
    (out.events, out.dead_letters.len())
}

/// An event with just what rules look at: a person calling `permission`.
fn ev(provider: Provider, permission: &str) -> Event {
    Event {
        event_id: "e1".into(),
        event_time: at("2026-03-02T10:00:00Z"),
        event_time_estimated: false,
        ingest_time: at("2026-03-02T10:00:01Z"),
        provider,
        class: EventClass::ApiActivity,
        account_id: None,
        tenant_id: None,
        region: None,
        identity: Identity::new("caller", IdentityKind::HumanUser),
        action: Action {
            service: String::new(),
            operation: permission.rsplit(':').next().unwrap_or(permission).into(),
            permission: permission.into(),
            category: ActionCategory::Write,
        },
        resources: Vec::new(),
        source: SourceEndpoint::default(),
        user_agent: None,
        outcome: Outcome::success(),
        raw_ref: RawRef {
            source: "test".into(),
            byte_offset: 0,
            record_index: 0,
            format: "test".into(),
        },
    }
}

fn aws(permission: &str) -> Event {
    ev(Provider::Aws, permission)
}
fn azure(permission: &str) -> Event {
    ev(Provider::Azure, permission)
}
fn gcp(permission: &str) -> Event {
    ev(Provider::Gcp, permission)
}

/// Entra ID audit: a coarse directory permission and the activity name.
fn entra(activity: &str) -> Event {
    azure("microsoft.directory/applicationmanagement/update").op(activity)
}

trait Build {
    fn by(self, kind: IdentityKind, key: &str) -> Self;
    fn on(self, id: &str, kind: &str, name: Option<&str>) -> Self;
    fn op(self, operation: &str) -> Self;
    fn refused(self) -> Self;
    fn category(self, category: ActionCategory) -> Self;
}

impl Build for Event {
    fn by(mut self, kind: IdentityKind, key: &str) -> Event {
        self.identity = Identity::new(key, kind);
        self
    }
    fn on(mut self, id: &str, kind: &str, name: Option<&str>) -> Event {
        self.resources.push(Resource {
            id: id.into(),
            kind: Some(kind.into()),
            name: name.map(str::to_string),
        });
        self
    }
    fn op(mut self, operation: &str) -> Event {
        self.action.operation = operation.into();
        self
    }
    fn refused(mut self) -> Event {
        self.outcome.status = OutcomeStatus::Failure;
        self
    }
    fn category(mut self, category: ActionCategory) -> Event {
        self.action.category = category;
        self
    }
}

/// Asserts the rule each event matches.
fn expect_rules(book: &RuleBook, cases: Vec<(Event, Option<&str>)>) {
    for (e, want) in cases {
        let got = book.matching(&e).map(|r| r.id);
        assert_eq!(
            got, want,
            "{} {:?} by {:?}",
            e.action.permission, e.action.operation, e.identity.kind
        );
    }
}

#[test]
fn simulated_benign_activity_never_meets_an_always_rule_and_attacks_do() {
    let config = SimulationConfig {
        seed: 7,
        start: at("2026-03-02T00:00:00Z"),
        days: 6,
        identities: 60,
        techniques: techniques().iter().map(|t| t.0.to_string()).collect(),
        rounds: 1,
    };
    let mut sim = Simulation::new(config).unwrap();
    let records: Vec<_> = sim.by_ref().flatten().collect();
    let labels = sim.labels();
    let ndjson = records
        .iter()
        .map(|r| r.body.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let (events, dead) = normalize(ndjson.as_bytes());
    assert_eq!(dead, 0, "the parsers refused simulated records");
    assert_eq!(events.len(), records.len());
    let technique_of: HashMap<&str, &str> = labels
        .scenarios
        .iter()
        .flat_map(|s| {
            s.event_ids
                .iter()
                .map(move |id| (id.as_str(), s.technique.as_str()))
        })
        .collect();
    let injected: BTreeSet<&str> = technique_of.values().copied().collect();
    assert_eq!(
        injected.len(),
        techniques().len(),
        "every technique is injected"
    );

    let book = RuleBook::builtin();
    let mut false_always = Vec::new();
    let mut benign_first_use: BTreeMap<&str, usize> = BTreeMap::new();
    let mut benign_root = 0;
    let mut caught: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut caught_always: BTreeSet<&str> = BTreeSet::new();
    for e in &events {
        let assessed = book.assess(e);
        assert_eq!(
            (
                assessed.rule.map(|r| r.id),
                assessed.sensitive,
                assessed.high_risk
            ),
            (
                book.matching(e).map(|r| r.id),
                book.is_sensitive(e),
                book.is_high_risk(e)
            ),
            "assess disagrees on {}",
            e.action.permission
        );
        let Some(rule) = book.matching(e) else {
            continue;
        };
        match technique_of.get(e.event_id.as_str()) {
            Some(&t) => {
                caught.entry(t).or_default().insert(rule.id);
                if rule.gate == Gate::Always {
                    caught_always.insert(t);
                }
            }
            None if rule.gate == Gate::Always && e.identity.kind == IdentityKind::Root => {
                benign_root += 1;
            }
            None if rule.gate == Gate::Always => false_always.push(format!(
                "{} by {} ({:?}) matched {}",
                e.action.permission, e.identity.key, e.identity.kind, rule.id
            )),
            None => *benign_first_use.entry(rule.id).or_default() += 1,
        }
    }
    assert!(
        false_always.is_empty(),
        "benign events meet always-alert rules:\n{}",
        false_always.join("\n")
    );
    println!("benign root (break-glass) events matched: {benign_root}");
    println!("benign events meeting first-use rules (the baseline decides): {benign_first_use:?}");
    for (t, rules) in &caught {
        let gate = if caught_always.contains(t) {
            "always"
        } else {
            "first use"
        };
        println!("caught {t} ({gate}): {rules:?}");
    }
    let missed: Vec<&&str> = injected
        .iter()
        .filter(|t| !caught.contains_key(**t))
        .collect();
    println!("left to the behavioural model: {missed:?}");

    let expected_always = [
        "aws.defense-evasion.cloudtrail-delete",
        "aws.defense-evasion.cloudtrail-stop",
        "aws.defense-evasion.vpc-remove-flow-logs",
        "aws.exfiltration.ec2-share-ami",
        "aws.exfiltration.ec2-share-ebs-snapshot",
        "aws.persistence.iam-backdoor-user",
        "aws.persistence.iam-create-admin-user",
        "azure.execution.vm-run-command",
        "azure.exfiltration.disk-export",
        "azure.persistence.backdoor-managed-identity-fic",
        "azure.persistence.create-bastion-shareable-link",
        "azure.privilege-escalation.root-user-access-administrator",
        "entra-id.persistence.backdoor-application-sp",
        "entra-id.persistence.guest-user",
        "gcp.defense-evasion.delete-logging-sink",
        "gcp.exfiltration.share-compute-disk",
        "vigil.azure.defense-evasion.delete-diagnostic-settings",
    ];
    let expected_first_use_only = [
        "aws.exfiltration.s3-backdoor-bucket-policy",
        "aws.persistence.iam-backdoor-role",
        "azure.exfiltration.storage-public-access",
        "gcp.defense-evasion.remove-vpc-flow-logs",
        "gcp.exfiltration.backdoor-gcs-bucket",
        "gcp.persistence.create-service-account-key",
        "gcp.persistence.invite-external-user",
        "vigil.azure.impact.mass-delete",
        "vigil.gcp.privilege-escalation.set-iam-policy-owner",
    ];
    assert_eq!(
        caught_always.iter().copied().collect::<Vec<_>>(),
        expected_always
    );
    let first_use_only: Vec<&str> = caught
        .keys()
        .copied()
        .filter(|t| !caught_always.contains(t))
        .collect();
    assert_eq!(first_use_only, expected_first_use_only);
    assert_eq!(caught.len(), 26, "techniques with a rule match");
}

fn corpus(relative: &str) -> Vec<Event> {
    let path = Path::new(CORPUS).join(relative);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read corpus file {} ({e}): the real-log corpus is expected at ../shared/corpus \
             next to the repository (CI provides it)",
            path.display()
        )
    });
    let (events, _) = normalize(&bytes);
    assert!(!events.is_empty(), "{relative} gave no events");
    events
}

/// The rule each record of a corpus file meets, in file order.
fn rules_met(book: &RuleBook, relative: &str) -> Vec<Option<&'static str>> {
    corpus(relative)
        .iter()
        .map(|e| book.matching(e).map(|r| r.id))
        .collect()
}

/// Corpus files and a rule at least one of their records must meet.
#[rustfmt::skip]
const CORPUS_RULES: &[(&str, &str)] = &[
    ("aws/panther-analysis-cloudtrail/aws_cloudtrail_stopped.tests.ndjson", "aws.cloudtrail.stop-logging"),
    ("aws/panther-analysis-cloudtrail/aws_security_configuration_change.tests.ndjson", "aws.cloudtrail.delete-trail"),
    ("aws/panther-analysis-cloudtrail/aws_vpc_flow_logs_deleted.tests.ndjson", "aws.ec2.delete-flow-logs"),
    ("aws/panther-analysis-cloudtrail/aws_snapshot_made_public.tests.ndjson", "aws.ec2.snapshot-shared"),
    ("aws/panther-analysis-cloudtrail/aws_cloudtrail_attempt_to_leave_org.tests.ndjson", "aws.organizations.leave"),
    ("aws/panther-analysis-cloudtrail/aws_kms_cmk_loss.tests.ndjson", "aws.kms.key-deletion"),
    ("aws/panther-analysis-cloudtrail/aws_s3_delete_public_access_block.tests.ndjson", "aws.s3.public-access-block-removed"),
    ("aws/panther-analysis-cloudtrail/aws_console_root_login.tests.ndjson", "aws.root.use"),
    ("aws/panther-analysis-cloudtrail/aws_console_root_login_failed.tests.ndjson", "aws.root.use"),
    ("aws/panther-analysis-cloudtrail/aws_user_login_profile_modified.tests.ndjson", "aws.iam.login-profile-for-other-user"),
    ("azure/panther-analysis-azure-entra/azure_elevate_user_access_admin.tests.ndjson", "azure.authorization.elevate-access"),
    ("azure/panther-analysis-azure-entra/azure_service_principal_credentials_added.tests.ndjson", "entra.sp-credentials-added"),
    ("azure/panther-analysis-azure-entra/azure_policy_changed.tests.ndjson", "entra.conditional-access-deleted"),
    ("azure/panther-analysis-azure-entra/azure_domain_trust_settings_modified.tests.ndjson", "entra.domain-federation-changed"),
    ("azure/panther-analysis-azure-entra/azure_invite_external_users.tests.ndjson", "entra.external-user-invited"),
    ("azure/panther-analysis-azure-entra/azure_mfa_disabled.tests.ndjson", "entra.conditional-access-changed"),
    ("azure/panther-analysis-azure-monitoractivity/azure_diagnostic_settings_deleted.tests.ndjson", "azure.monitor.diagnostic-settings-deleted"),
    ("azure/panther-analysis-azure-monitoractivity/azure_vm_disk_sas_uri_generated.tests.ndjson", "azure.compute.disk-export"),
    ("gcp/panther-analysis-gcp-audit/gcp_log_bucket_or_sink_deleted.tests.ndjson", "gcp.logging.sink-deleted"),
    ("gcp/panther-analysis-gcp-audit/admin_assigned.tests.ndjson", "gcp.iam.resource-policy-changed"),
];

#[test]
fn real_records_meet_their_rules() {
    let book = RuleBook::builtin();
    for (file, rule) in CORPUS_RULES {
        let found = rules_met(&book, file);
        assert!(
            found.contains(&Some(*rule)),
            "{file}: expected {rule}, got {found:?}"
        );
    }
}

#[test]
fn real_records_tell_apart_what_the_predicates_decide() {
    let book = RuleBook::builtin();
    let aws = "aws/panther-analysis-cloudtrail";
    // user1 → user1 rotates one's own key; user1 → user2, jackson → jack and jack → jackson make keys for
    // someone else; the last record names no user (own key, refused).
    let other = Some("aws.iam.access-key-for-other-user");
    let keys = rules_met(
        &book,
        &format!("{aws}/aws_iam_user_key_created.tests.ndjson"),
    );
    assert_eq!(keys, [None, other, other, other, None]);
    let attach = rules_met(
        &book,
        &format!("{aws}/aws_iam_attach_admin_user_policy.tests.ndjson"),
    );
    assert_eq!(
        attach,
        [
            Some("aws.iam.admin-policy-to-user"),
            Some("aws.iam.user-policy-changed")
        ]
    );
    // Root making a key for itself is root use; for a user, the more specific rule of equal severity.
    let root = rules_met(
        &book,
        &format!("{aws}/aws_root_access_key_created.tests.ndjson"),
    );
    assert_eq!(root, [Some("aws.root.use"), other]);
    // Owner, Reader, an unlisted role, then elevateAccess.
    let roles = rules_met(
        &book,
        "azure/panther-analysis-azure-monitoractivity/azure_role_assignment_privileged_or_elevated.tests.ndjson",
    );
    let assigned = Some("azure.authorization.role-assigned");
    assert_eq!(
        roles,
        [
            Some("azure.authorization.privileged-role-assigned"),
            assigned,
            assigned,
            Some("azure.authorization.elevate-access"),
        ]
    );
    let gcp = "gcp/panther-analysis-gcp-audit";
    let shares = rules_met(
        &book,
        &format!("{gcp}/gcp_compute_set_iam_policy.tests.ndjson"),
    );
    assert_eq!(
        shares,
        [
            Some("gcp.compute.disk-shared"),
            Some("gcp.compute.image-shared"),
            None
        ]
    );
    // A person creating a key, the account named by number: first use, not the always rule.
    let keys = rules_met(
        &book,
        &format!("{gcp}/gcp_service_account_or_keys_created.tests.ndjson"),
    );
    assert!(
        keys.contains(&Some("gcp.iam.service-account-key-created")),
        "{keys:?}"
    );
    assert!(
        !keys.contains(&Some("gcp.iam.key-for-other-service-account")),
        "{keys:?}"
    );
}

#[test]
fn permissions_match_whatever_their_case() {
    let book = RuleBook::builtin();
    let diag = Some("azure.monitor.diagnostic-settings-deleted");
    // Longer than the stack buffer: the allocating path gives the same answer.
    let long = format!(
        "Microsoft.Compute/virtualMachines/{}/providers/MICROSOFT.INSIGHTS/diagnosticSettings/delete",
        "x".repeat(150)
    );
    let update = "Update application – Certificates and secrets management ";
    expect_rules(
        &book,
        vec![
            (azure("MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE"), diag),
            (azure("microsoft.insights/diagnosticsettings/delete"), diag),
            (
                azure(" Microsoft.Insights/diagnosticSettings/delete "),
                diag,
            ),
            // An extension resource's operation is the inner one.
            (
                azure(
                    "Microsoft.Network/nsgs/x/providers/Microsoft.Insights/diagnosticSettings/delete",
                ),
                diag,
            ),
            (azure(&long), diag),
            (
                aws("CLOUDTRAIL:stoplogging"),
                Some("aws.cloudtrail.stop-logging"),
            ),
            (
                gcp("LOGGING.SINKS.DELETE"),
                Some("gcp.logging.sink-deleted"),
            ),
            // The provider is part of the key.
            (gcp("cloudtrail:StopLogging"), None),
            (aws("logging.sinks.delete"), None),
            // Entra ID audit: the activity name decides, trailing space and en dash included.
            (entra(update), Some("entra.app-credentials-changed")),
            (
                entra("ADD SERVICE PRINCIPAL CREDENTIALS"),
                Some("entra.sp-credentials-added"),
            ),
            (entra("Update application"), None),
        ],
    );
}

#[test]
fn keys_and_passwords_for_another_identity() {
    let book = RuleBook::builtin();
    let (human, role) = (IdentityKind::HumanUser, IdentityKind::RoleSession);
    let alice = "arn:aws:iam::111122223333:user/alice";
    let key_for = |kind, caller: &str, target: &str| {
        let user = format!("arn:aws:iam::111122223333:user/{target}");
        aws("iam:CreateAccessKey")
            .by(kind, caller)
            .on(&user, "AWS::IAM::User", Some(target))
    };
    let other = Some("aws.iam.access-key-for-other-user");
    // GCP: a service account making a key for another named account is always alerted; for itself, by a
    // person, or for an account named only by number, it is a first-use rule.
    let sa = "ci@p.iam.gserviceaccount.com";
    let gcp_key = |kind, caller: &str, target: &str| {
        let id = format!("projects/-/serviceAccounts/{target}");
        gcp("iam.serviceAccountKeys.create")
            .by(kind, &format!("gcp:{caller}"))
            .on(&id, "service_account", Some(target))
    };
    let sa_kind = IdentityKind::ServiceAccount;
    let always = Some("gcp.iam.key-for-other-service-account");
    let first_use = Some("gcp.iam.service-account-key-created");
    expect_rules(
        &book,
        vec![
            (key_for(human, alice, "bob"), other),
            (key_for(human, alice, "ALICE"), None),
            (aws("iam:CreateAccessKey").by(human, alice), None),
            // A role has no user of its own: any user it targets is someone else.
            (
                key_for(role, "arn:aws:iam::111122223333:role/deployer", "alice"),
                other,
            ),
            // A path in the caller's ARN does not hide that the user is the caller.
            (
                key_for(
                    human,
                    "arn:aws:iam::111122223333:user/division/alice",
                    "alice",
                ),
                None,
            ),
            (
                {
                    let mut e = key_for(human, alice, "bob");
                    e.action.permission = "iam:UpdateLoginProfile".into();
                    e
                },
                Some("aws.iam.login-profile-for-other-user"),
            ),
            (
                gcp_key(sa_kind, sa, "admin@p.iam.gserviceaccount.com"),
                always,
            ),
            (gcp_key(sa_kind, sa, sa), first_use),
            (gcp_key(sa_kind, sa, "104857600123"), first_use),
            (gcp_key(human, "a@example.com", sa), first_use),
        ],
    );
}

#[test]
fn predicates_outcomes_and_callers() {
    let book = RuleBook::builtin();
    let attach = |policy: &str| {
        let arn = format!("arn:aws:iam::aws:policy/{policy}");
        aws("iam:AttachUserPolicy").on(&arn, "AWS::IAM::Policy", Some(policy))
    };
    let assign = |role: &str| {
        let id = format!("/providers/microsoft.authorization/roledefinitions/{role}");
        azure("Microsoft.Authorization/roleAssignments/write").on(
            &id,
            "Microsoft.Authorization/roleDefinitions",
            None,
        )
    };
    let root = "arn:aws:iam::111122223333:root";
    expect_rules(
        &book,
        vec![
            (
                attach("AdministratorAccess"),
                Some("aws.iam.admin-policy-to-user"),
            ),
            (
                attach("ReadOnlyAccess"),
                Some("aws.iam.user-policy-changed"),
            ),
            // A refused first use is not a use; a refused attempt to stop logging still is the signal.
            (attach("ReadOnlyAccess").refused(), None),
            (
                aws("cloudtrail:StopLogging").refused(),
                Some("aws.cloudtrail.stop-logging"),
            ),
            // Root: anything it does, on AWS only; the provider acting on its own never matches.
            (
                aws("iam:ListUsers").by(IdentityKind::Root, root),
                Some("aws.root.use"),
            ),
            (
                gcp("storage.objects.get").by(IdentityKind::Root, root),
                None,
            ),
            (
                aws("cloudtrail:StopLogging").by(IdentityKind::ProviderService, "aws-service:x"),
                None,
            ),
            // Owner (role definition named by id, any case) is always; other roles are first use.
            (
                assign("8E3AF657-A8FF-443C-A75C-2FE8C4BCB635"),
                Some("azure.authorization.privileged-role-assigned"),
            ),
            (
                assign("acdd72a7-3385-48ef-bd42-f606fba81ae7"),
                Some("azure.authorization.role-assigned"),
            ),
        ],
    );
}

#[test]
fn severities_order_and_raise() {
    assert!(Severity::Low < Severity::Medium);
    assert!(Severity::Medium < Severity::High);
    assert!(Severity::High < Severity::Critical);
    assert_eq!(Severity::Low.raised(), Severity::Medium);
    assert_eq!(Severity::Medium.raised(), Severity::High);
    assert_eq!(Severity::High.raised(), Severity::Critical);
    assert_eq!(Severity::Critical.raised(), Severity::Critical);
    assert_eq!(Severity::High.as_str(), "high");
    assert_eq!(
        serde_json::to_string(&Severity::Critical).unwrap(),
        "\"critical\""
    );
    assert_eq!(
        serde_json::from_str::<Severity>("\"medium\"").unwrap(),
        Severity::Medium
    );
}

fn is_technique(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => b[0] == b'T' && digits(&b[1..5]),
        9 => b[0] == b'T' && digits(&b[1..5]) && b[5] == b'.' && digits(&b[6..9]),
        _ => false,
    }
}

#[test]
fn catalog_is_well_formed() {
    assert!(is_technique("T1562") && is_technique("T1562.008"));
    assert!(!is_technique("T1562.08") && !is_technique("t1562") && !is_technique("T15620"));
    let book = RuleBook::builtin();
    let mut ids = BTreeSet::new();
    let mut per_cloud: BTreeMap<&str, usize> = BTreeMap::new();
    // Per key: the most severe always rule and the most severe first-use rule.
    let mut by_key: HashMap<(Provider, String), (Option<Severity>, Option<Severity>)> =
        HashMap::new();
    for rule in book.rules() {
        assert!(ids.insert(rule.id), "duplicate id {}", rule.id);
        assert!(
            TACTICS.contains(&rule.tactic),
            "{}: tactic {}",
            rule.id,
            rule.tactic
        );
        assert!(
            is_technique(rule.technique),
            "{}: technique {}",
            rule.id,
            rule.technique
        );
        assert!(!rule.title.is_empty());
        let prefix = rule.id.split('.').next().unwrap();
        let cloud = if prefix == "entra" { "azure" } else { prefix };
        assert_eq!(
            cloud,
            rule.provider.as_str(),
            "{} is filed under the wrong cloud",
            rule.id
        );
        *per_cloud.entry(cloud).or_default() += 1;
        assert_eq!(book.rule(rule.id).map(|r| r.id), Some(rule.id));
        for name in rule.matches {
            let slot = by_key
                .entry((rule.provider, name.to_ascii_lowercase()))
                .or_default();
            let best = if rule.gate == Gate::Always {
                &mut slot.0
            } else {
                &mut slot.1
            };
            *best = (*best).max(Some(rule.severity));
        }
    }
    // Otherwise `matching` would hand the engine a first-use rule where an always rule also holds.
    for ((provider, name), (always, first_use)) in &by_key {
        if let (Some(a), Some(f)) = (always, first_use) {
            assert!(
                a >= f,
                "{provider} {name}: a first-use rule outranks an always rule"
            );
        }
    }
    println!("rules per cloud: {per_cloud:?}");
    assert_eq!(per_cloud.get("aws"), Some(&29));
    assert_eq!(per_cloud.get("azure"), Some(&32));
    assert_eq!(per_cloud.get("gcp"), Some(&17));
}

#[test]
fn sensitive_and_high_risk_actions() {
    let book = RuleBook::builtin();
    let grant = ActionCategory::PermissionChange;
    let root = "arn:aws:iam::111122223333:root";
    let user = "arn:aws:iam::111122223333:user/a";
    // (event, sensitive, high-risk, a rule matches)
    let cases = vec![
        // Secret and key reads: sensitive and high-risk, yet no rule.
        (aws("secretsmanager:GetSecretValue"), true, true, false),
        (azure("Microsoft.KeyVault/SecretGet"), true, true, false),
        (gcp("secretmanager.versions.access"), true, true, false),
        (
            azure("Microsoft.Storage/storageAccounts/listKeys/action"),
            true,
            true,
            false,
        ),
        // Data deletion: sensitive, not a privilege.
        (aws("s3:DeleteObjects"), true, false, false),
        (gcp("storage.objects.delete"), true, false, false),
        // Routine work: neither.
        (aws("ec2:DescribeInstances"), false, false, false),
        (
            azure("Microsoft.Compute/virtualMachines/start/action"),
            false,
            false,
            false,
        ),
        // Permission changes are sensitive by category; grants are high-risk.
        (
            aws("iam:AttachRolePolicy").category(grant),
            true,
            true,
            false,
        ),
        (aws("ec2:CreateTags").category(grant), true, false, false),
        // Rule permissions are both, whether or not the predicate holds (own key).
        (aws("cloudtrail:StopLogging"), true, true, true),
        (
            aws("iam:CreateAccessKey").by(IdentityKind::HumanUser, user),
            true,
            true,
            false,
        ),
        // Root activity is sensitive (a rule matches); the permission itself is not high-risk.
        (
            aws("iam:ListUsers").by(IdentityKind::Root, root),
            true,
            false,
            true,
        ),
        // Entra ID: by activity name.
        (entra("Reset user password"), false, true, false),
    ];
    for (e, sensitive, high_risk, rule) in cases {
        assert_eq!(
            (
                book.is_sensitive(&e),
                book.is_high_risk(&e),
                book.matching(&e).is_some()
            ),
            (sensitive, high_risk, rule),
            "{} {:?}",
            e.action.permission,
            e.action.operation
        );
    }
}

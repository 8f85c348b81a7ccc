//! The rule layer: high-risk cloud operations that must raise an alert even where no baseline exists yet,
//! each mapped to a MITRE ATT&CK tactic and technique (the catalog is in `rules_catalog.rs`).
//!
//! A rule matches on provider and permission (`Event.action.permission`, ASCII case-insensitive because
//! Azure exports write `MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE`), plus an optional predicate on the
//! caller or the targets. Entra ID audit permissions (`microsoft.directory/<category>/<type>`) are too
//! coarse to tell "Add service principal credentials" from any other application update, so for those the
//! activity name in `action.operation` is looked up instead. An ARM operation on an extension resource
//! (`…/providers/Microsoft.Insights/diagnosticSettings/delete`) is looked up by its inner operation.
//!
//! A [`Gate::Always`] rule alerts on every match. A [`Gate::FirstUseIn90Days`] rule only says the operation is
//! risky enough to alert on when the identity has not used it in 90 days; the engine decides that from its
//! baseline. First use means a use that went through, so those rules ignore refused calls; refused
//! attempts at an always-alert operation still match, since trying to stop audit logging is the signal.
//!
//! Calls the provider makes on its own ([`IdentityKind::ProviderService`]) never match: nobody chose them.

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;
use serde::{Deserialize, Serialize};
use vigil_schemas::{ActionCategory, Event, IdentityKind, OutcomeStatus, Provider, Resource};

use super::rules_catalog::{ADMIN_POLICIES, HIGH_RISK, PRIVILEGED_AZURE_ROLES, RULES, SENSITIVE};

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// One step more urgent; `Critical` stays `Critical`.
    pub fn raised(self) -> Severity {
        match self {
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            Severity::High | Severity::Critical => Severity::Critical,
        }
    }
}

/// When a matching rule raises an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Alert on every match: rarely legitimate (stopping audit logging, deleting trails/sinks, public or
    /// external sharing, root use, elevate access).
    Always,
    /// Alert only when this identity has not used this permission in the last 90 days (first use or dormant
    /// privilege). The engine decides from its baseline; the rule only declares it.
    FirstUseIn90Days,
}

/// What a rule needs beyond provider and permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cond {
    None,
    /// Any event of a caller of this kind (AWS root); such a rule lists no permissions.
    Caller(IdentityKind),
    /// An AWS IAM user other than the caller is a target (keys or passwords made for someone else).
    OtherIamUser,
    /// An AWS managed policy granting administrator access is a target.
    AdminPolicy,
    /// An Azure role definition with the power to grant access (Owner, User Access Administrator) is a target.
    PrivilegedAzureRole,
    /// A service account creates a key for a different, named service account.
    KeyForOtherServiceAccount,
}

/// Which outcomes a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcomes {
    Any,
    /// Anything but a refusal (`unknown` counts: Entra ID and Activity Log records may not say).
    NotRefused,
}

/// One high-risk operation and what it means.
#[derive(Debug)]
pub struct Rule {
    /// Stable id, e.g. `aws.cloudtrail.stop-logging`.
    pub id: &'static str,
    /// Words for the alert reason: "CloudTrail logging stopped".
    pub title: &'static str,
    pub provider: Provider,
    /// ATT&CK tactic in kebab case: `defense-evasion`.
    pub tactic: &'static str,
    /// ATT&CK technique: `T1562.008`.
    pub technique: &'static str,
    pub severity: Severity,
    pub gate: Gate,
    /// Permissions (or, for Entra ID audit records, activity names) as the normalizers write them.
    pub(super) matches: &'static [&'static str],
    pub(super) cond: Cond,
    pub(super) outcomes: Outcomes,
}

impl Rule {
    /// A rule that alerts on every match, refused attempts included.
    pub(super) const fn always(
        id: &'static str,
        title: &'static str,
        provider: Provider,
        tactic: &'static str,
        technique: &'static str,
        severity: Severity,
        matches: &'static [&'static str],
    ) -> Rule {
        Rule {
            id,
            title,
            provider,
            tactic,
            technique,
            severity,
            gate: Gate::Always,
            matches,
            cond: Cond::None,
            outcomes: Outcomes::Any,
        }
    }

    /// A rule that alerts on the first use in 90 days; refused calls are not a use.
    pub(super) const fn first_use(
        id: &'static str,
        title: &'static str,
        provider: Provider,
        tactic: &'static str,
        technique: &'static str,
        severity: Severity,
        matches: &'static [&'static str],
    ) -> Rule {
        Rule {
            gate: Gate::FirstUseIn90Days,
            outcomes: Outcomes::NotRefused,
            ..Rule::always(id, title, provider, tactic, technique, severity, matches)
        }
    }

    pub(super) const fn when(self, cond: Cond) -> Rule {
        Rule { cond, ..self }
    }

    /// Whether the event meets the rule's outcome and predicate (provider and permission already match).
    fn holds(&self, event: &Event) -> bool {
        if self.outcomes == Outcomes::NotRefused && event.outcome.status == OutcomeStatus::Failure {
            return false;
        }
        match self.cond {
            Cond::None => true,
            Cond::Caller(kind) => event.identity.kind == kind,
            Cond::OtherIamUser => targets_other_iam_user(event),
            Cond::AdminPolicy => event
                .resources
                .iter()
                .any(|r| kind_is(r, "AWS::IAM::Policy") && one_of(name_of(r), ADMIN_POLICIES)),
            Cond::PrivilegedAzureRole => event.resources.iter().any(|r| {
                kind_is(r, "Microsoft.Authorization/roleDefinitions")
                    && one_of(name_of(r), PRIVILEGED_AZURE_ROLES)
            }),
            Cond::KeyForOtherServiceAccount => key_for_other_service_account(event),
        }
    }
}

/// What is known about one permission.
#[derive(Debug, Default)]
struct Entry {
    /// Indexes into the catalog of the rules keyed on this permission.
    rules: Vec<u16>,
    sensitive: bool,
    high_risk: bool,
}

/// Fx hashing: the table is fixed at start and never grows from input, so a keyed hash would buy nothing and
/// cost a third of the lookup.
type Lookup = HashMap<Box<[u8]>, Entry, FxBuildHasher>;

/// What the rule layer says about one event, from a single lookup.
#[derive(Debug, Clone, Copy)]
pub struct Assessment<'a> {
    /// As [`RuleBook::matching`].
    pub rule: Option<&'a Rule>,
    /// As [`RuleBook::is_sensitive`].
    pub sensitive: bool,
    /// As [`RuleBook::is_high_risk`].
    pub high_risk: bool,
}

/// The rule catalog, indexed for one hash lookup per event.
#[derive(Debug)]
pub struct RuleBook {
    rules: &'static [Rule],
    /// Per provider (see [`slot`]), by lower-cased permission or Entra ID activity name.
    by_permission: [Lookup; 3],
    /// Rules keyed on the caller's kind rather than a permission.
    by_caller: Vec<u16>,
}

impl RuleBook {
    pub fn builtin() -> RuleBook {
        let mut book = RuleBook {
            rules: RULES,
            by_permission: Default::default(),
            by_caller: Vec::new(),
        };
        for (index, rule) in (0u16..).zip(RULES) {
            if rule.matches.is_empty() {
                book.by_caller.push(index);
            }
            for name in rule.matches {
                let entry = book.entry_mut(rule.provider, name);
                entry.rules.push(index);
                entry.high_risk = true;
            }
        }
        for (provider, names) in SENSITIVE {
            for name in *names {
                book.entry_mut(*provider, name).sensitive = true;
            }
        }
        for (provider, names) in HIGH_RISK {
            for name in *names {
                book.entry_mut(*provider, name).high_risk = true;
            }
        }
        book
    }

    fn entry_mut(&mut self, provider: Provider, name: &str) -> &mut Entry {
        self.by_permission[slot(provider)]
            .entry(
                name.trim()
                    .to_ascii_lowercase()
                    .into_bytes()
                    .into_boxed_slice(),
            )
            .or_default()
    }

    pub fn rules(&self) -> &[Rule] {
        self.rules
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The rule an event matches, if any: the most severe when several do, and of equally severe ones an
    /// always-alert rule before a first-use one, so the engine never drops an alert it had to raise.
    pub fn matching(&self, event: &Event) -> Option<&Rule> {
        self.best_rule(event, self.entry(event))
    }

    /// Whether the event is a sensitive action for the "sensitive-action mass" feature: secret, key and
    /// credential reads, data deletion, permission changes, and anything a rule is keyed on.
    pub fn is_sensitive(&self, event: &Event) -> bool {
        let entry = self.entry(event);
        event.action.category == ActionCategory::PermissionChange
            || entry.is_some_and(|e| e.sensitive || !e.rules.is_empty())
            || self.caller_rule(event).is_some()
    }

    /// Whether the permission is high-risk for "dormant privilege" (first use in 90 days scores higher):
    /// every rule's permission, plus grants and credential reads that are not alert-worthy alone.
    pub fn is_high_risk(&self, event: &Event) -> bool {
        self.entry(event).is_some_and(|e| e.high_risk)
    }

    /// [`RuleBook::matching`], [`RuleBook::is_sensitive`] and [`RuleBook::is_high_risk`] at the cost of one.
    pub fn assess(&self, event: &Event) -> Assessment<'_> {
        let entry = self.entry(event);
        let rule = self.best_rule(event, entry);
        Assessment {
            rule,
            sensitive: event.action.category == ActionCategory::PermissionChange
                || entry.is_some_and(|e| e.sensitive || !e.rules.is_empty())
                || rule.is_some(),
            high_risk: entry.is_some_and(|e| e.high_risk),
        }
    }

    fn best_rule(&self, event: &Event, entry: Option<&Entry>) -> Option<&Rule> {
        if event.identity.kind == IdentityKind::ProviderService {
            return None;
        }
        entry
            .map_or(&[][..], |e| &e.rules[..])
            .iter()
            .chain(&self.by_caller)
            .filter_map(|&i| self.rules.get(usize::from(i)))
            .filter(|r| r.provider == event.provider && r.holds(event))
            .fold(None, |best: Option<&Rule>, r| match best {
                Some(b) if rank(b) >= rank(r) => Some(b),
                _ => Some(r),
            })
    }

    fn caller_rule(&self, event: &Event) -> Option<&Rule> {
        self.by_caller
            .iter()
            .filter_map(|&i| self.rules.get(usize::from(i)))
            .find(|r| r.provider == event.provider && r.holds(event))
    }

    fn entry(&self, event: &Event) -> Option<&Entry> {
        let map = &self.by_permission[slot(event.provider)];
        with_lower(event.action.permission.trim().as_bytes(), |perm| {
            if let Some(entry) = map.get(perm) {
                return Some(entry);
            }
            if event.provider != Provider::Azure {
                return None;
            }
            if perm.starts_with(b"microsoft.directory/") {
                let op = event.action.operation.trim().as_bytes();
                return with_lower(op, |op| map.get(op));
            }
            inner_operation(perm).and_then(|inner| map.get(inner))
        })
    }
}

/// The operation on an extension resource: `…/providers/microsoft.insights/diagnosticsettings/delete` is
/// `microsoft.insights/diagnosticsettings/delete`.
fn inner_operation(perm: &[u8]) -> Option<&[u8]> {
    const NESTED: &[u8] = b"/providers/";
    // Only the few slashes are candidates, which keeps the common miss to one byte scan.
    (0..perm.len())
        .rev()
        .filter(|&at| perm.get(at) == Some(&b'/'))
        .find_map(|at| perm.get(at..)?.strip_prefix(NESTED))
}

fn rank(rule: &Rule) -> (Severity, bool) {
    (rule.severity, rule.gate == Gate::Always)
}

fn slot(provider: Provider) -> usize {
    match provider {
        Provider::Aws => 0,
        Provider::Azure => 1,
        Provider::Gcp => 2,
    }
}

/// Calls `f` with `s` in ASCII lower case, in a stack buffer unless `s` is long. Keys are bytes so the
/// lowered copy needs no UTF-8 check.
fn with_lower<R>(s: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    const CAP: usize = 128;
    let mut buf = [0u8; CAP];
    match buf.get_mut(..s.len()) {
        Some(lowered) => {
            lowered.copy_from_slice(s);
            lowered.make_ascii_lowercase();
            f(lowered)
        }
        None => f(&s.to_ascii_lowercase()),
    }
}

fn kind_is(resource: &Resource, kind: &str) -> bool {
    resource
        .kind
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case(kind))
}

/// The resource's name, or the last segment of its id when the normalizer gave none.
fn name_of(resource: &Resource) -> &str {
    resource
        .name
        .as_deref()
        .unwrap_or_else(|| last_segment(&resource.id))
}

fn last_segment(id: &str) -> &str {
    id.trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()
        .unwrap_or(id)
}

fn one_of(name: &str, names: &[&str]) -> bool {
    names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The normalizer names the IAM user a request targets (`requestParameters.userName`) as an
/// `AWS::IAM::User` resource; a request about oneself carries no user name or one's own. IAM user names are
/// unique regardless of case. Roles, federated sessions and root have no user of their own, so any user they
/// target is someone else.
fn targets_other_iam_user(event: &Event) -> bool {
    let identity = &event.identity;
    let own_user = identity.kind == IdentityKind::HumanUser && identity.key.contains(":user/");
    let own = [
        own_user.then(|| last_segment(&identity.key)),
        own_user
            .then_some(identity.display_name.as_deref())
            .flatten(),
    ];
    event
        .resources
        .iter()
        .filter(|r| kind_is(r, "AWS::IAM::User"))
        .any(|r| {
            let target = name_of(r);
            !own.iter().flatten().any(|o| o.eq_ignore_ascii_case(target))
        })
}

/// GCP names the key's service account by e-mail in `resourceName` (`projects/-/serviceAccounts/<email>`),
/// or by numeric unique id in some records. Only an e-mail can be compared with the caller's; a numeric id
/// is not distinguishable and does not count. A human always creates keys for an account other than
/// themselves, so this only concerns service accounts as callers.
fn key_for_other_service_account(event: &Event) -> bool {
    let identity = &event.identity;
    let Some(caller) = identity.key.strip_prefix("gcp:") else {
        return false;
    };
    identity.kind == IdentityKind::ServiceAccount
        && event.resources.iter().any(|r| {
            let target = name_of(r);
            r.id.contains("/serviceAccounts/")
                && target.contains('@')
                && !target.eq_ignore_ascii_case(caller)
        })
}

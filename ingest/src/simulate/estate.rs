//! The simulated organisation: accounts, subscriptions and projects, and the identities acting in them.

use rand::Rng;
use vigil_schemas::Provider;

use super::rng::{self, Stream, purpose};
use super::vocab::{self, Weighted};

/// What kind of principal an identity is, which decides its vocabulary and rhythm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Archetype {
    /// A person signing in through SSO into an engineering role.
    Engineer,
    /// A person with administrative rights.
    Admin,
    /// An engineer on the on-call rota: nights and weekends now and then.
    OnCall,
    /// A CI/CD pipeline role, service principal or service account.
    CiCd,
    /// A serverless function's role, managed identity or service account.
    Function,
    /// A scheduled data job's role or service account.
    DataJob,
    /// The break-glass root user or global administrator, almost never used.
    BreakGlass,
}

impl Archetype {
    pub fn as_str(self) -> &'static str {
        match self {
            Archetype::Engineer => "engineer",
            Archetype::Admin => "admin",
            Archetype::OnCall => "on_call",
            Archetype::CiCd => "ci_cd",
            Archetype::Function => "function",
            Archetype::DataJob => "data_job",
            Archetype::BreakGlass => "break_glass",
        }
    }

    pub fn is_human(self) -> bool {
        matches!(
            self,
            Archetype::Engineer | Archetype::Admin | Archetype::OnCall | Archetype::BreakGlass
        )
    }
}

/// When an identity acts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Rhythm {
    /// Office hours on weekdays, little at night and at weekends.
    Office,
    /// Office hours plus the rota's nights and weekends.
    OnCall,
    /// Bursts when people merge: office hours, a trickle at night.
    Pipeline,
    /// Around the clock with a daily swell.
    Continuous,
    /// A nightly run starting at this local hour.
    Nightly(u32),
    /// Only on the days chosen for it.
    Dormant,
}

/// Who the identity is at its provider, as its records name it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Caller {
    /// An IAM Identity Center user in an `AWSReservedSSO_*` role; the session name is the e-mail.
    AwsSso {
        role: String,
        email: String,
    },
    /// An IAM role assumed by a workload; `session` is the role session name it uses.
    AwsRole {
        role: String,
        session: String,
    },
    AwsRoot,
    AzureUser {
        object_id: String,
        upn: String,
        display: String,
    },
    AzureServicePrincipal {
        object_id: String,
        app_id: String,
        display: String,
    },
    AzureManagedIdentity {
        object_id: String,
        app_id: String,
        resource_id: String,
        display: String,
    },
    GcpUser {
        email: String,
    },
    GcpServiceAccount {
        email: String,
    },
}

/// A benign change of habit on a given day.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Novelty {
    /// From `day` on the identity also uses `op`.
    NewService { day: u32, op: usize },
    /// From `day` for `days` days the identity acts from another network (and time zone).
    Travel {
        day: u32,
        days: u32,
        network: [u8; 3],
        shift_minutes: i32,
    },
    /// On `day` a pipeline runs many times more deployments.
    DeploymentStorm { day: u32 },
    /// In the night of `day` the on-call engineer is paged and works an incident.
    NightIncident { day: u32 },
}

/// One simulated identity.
#[derive(Debug, Clone)]
pub struct SimIdentity {
    pub index: usize,
    pub provider: Provider,
    pub archetype: Archetype,
    /// The identity key the normalizers compute for this caller.
    pub key: String,
    /// Index of its account (AWS), subscription (Azure) or project (GCP) in the estate.
    pub scope: usize,
    pub(crate) principal: Caller,
    pub(crate) team: &'static str,
    /// Offset of its local time from UTC.
    pub tz_minutes: i32,
    pub(crate) rhythm: Rhythm,
    /// Mean events on a busy day.
    pub(crate) daily_mean: f64,
    pub(crate) error_rate: f64,
    pub(crate) vocabulary: &'static [Weighted],
    pub(crate) extra_vocabulary: &'static [Weighted],
    pub(crate) networks: Vec<[u8; 3]>,
    pub(crate) agents: Vec<String>,
    pub(crate) region: &'static str,
    /// Active on days `active_from..active_until` (a new team member, a role handed over).
    pub active_from: u32,
    pub active_until: u32,
    pub(crate) novelties: Vec<Novelty>,
}

impl SimIdentity {
    pub fn is_active(&self, day: u32) -> bool {
        day >= self.active_from && day < self.active_until
    }
}

/// The organisation being simulated.
#[derive(Debug, Clone)]
pub struct Estate {
    pub aws_accounts: Vec<String>,
    pub azure_tenant: String,
    pub azure_subscriptions: Vec<String>,
    pub gcp_projects: Vec<String>,
    pub identities: Vec<SimIdentity>,
}

pub(crate) const AWS_REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "us-west-2"];
pub(crate) const AZURE_REGIONS: [&str; 3] = ["eastus", "westeurope", "westus2"];
pub(crate) const GCP_REGIONS: [&str; 3] = ["us-central1", "europe-west1", "us-west1"];
const TEAMS: [&str; 10] = [
    "payments", "search", "platform", "data", "identity", "mobile", "web", "infra", "ml", "billing",
];
const FIRST: [&str; 24] = [
    "alice", "bob", "carmen", "deepak", "elena", "farid", "grace", "hiro", "ines", "jonas", "kemi",
    "liam", "maya", "nikolai", "olga", "pedro", "quinn", "rosa", "sanjay", "tomas", "uma",
    "victor", "wen", "yusuf",
];
const LAST: [&str; 16] = [
    "nguyen", "smith", "garcia", "kowalski", "okafor", "tanaka", "muller", "silva", "khan",
    "rossi", "larsen", "novak", "dubois", "chen", "patel", "haddad",
];
/// Time zones people work in, in minutes from UTC, with how common each is.
const ZONES: [(i32, f64); 8] = [
    (-480, 3.0),
    (-300, 3.0),
    (0, 2.0),
    (60, 3.0),
    (120, 1.0),
    (330, 2.0),
    (540, 1.0),
    (600, 1.0),
];
/// First octets of benign networks (offices, homes, clouds) and of attackers' (VPS hosts, exits);
/// disjoint so an attacker's address is never a benign one by chance.
const BENIGN_OCTETS: [u8; 10] = [24, 50, 67, 73, 76, 98, 108, 174, 203, 212];
pub(crate) const HOSTILE_OCTETS: [u8; 4] = [45, 89, 185, 193];

const ORDER: [Archetype; 6] = [
    Archetype::Engineer,
    Archetype::CiCd,
    Archetype::Function,
    Archetype::Admin,
    Archetype::DataJob,
    Archetype::OnCall,
];
const MIX: [(Archetype, f64); 6] = [
    (Archetype::Engineer, 0.38),
    (Archetype::Admin, 0.06),
    (Archetype::OnCall, 0.08),
    (Archetype::CiCd, 0.10),
    (Archetype::Function, 0.22),
    (Archetype::DataJob, 0.16),
];

/// Builds the estate for `identities` identities over `days` days.
pub(crate) fn build(seed: u64, identities: usize, days: u32) -> Estate {
    let mut rng = rng::stream(seed, purpose::ESTATE, 0, 0);
    let aws_n = (identities * 45).div_ceil(100);
    let azure_n = (identities * 30).div_ceil(100);
    let gcp_n = identities.saturating_sub(aws_n + azure_n);
    let accounts = 1 + identities / 400;
    let aws_accounts: Vec<String> = (0..accounts)
        .map(|_| {
            format!(
                "{:012}",
                rng.random_range(100_000_000_000u64..999_999_999_999)
            )
        })
        .collect();
    let azure_tenant = rng::uuid(&mut rng);
    let azure_subscriptions: Vec<String> = (0..2 + identities / 500)
        .map(|_| rng::uuid(&mut rng))
        .collect();
    let gcp_projects: Vec<String> = (0..2 + identities / 400)
        .map(|i| {
            format!(
                "acme-{}-{}",
                TEAMS[i % TEAMS.len()],
                rng::token(&mut rng, rng::LOWER_ALNUM, 4)
            )
        })
        .collect();
    let mut estate = Estate {
        aws_accounts,
        azure_tenant,
        azure_subscriptions,
        gcp_projects,
        identities: Vec::with_capacity(identities),
    };
    for (provider, count) in [
        (Provider::Aws, aws_n),
        (Provider::Azure, azure_n),
        (Provider::Gcp, gcp_n),
    ] {
        let scopes = match provider {
            Provider::Aws => estate.aws_accounts.len(),
            Provider::Azure => estate.azure_subscriptions.len(),
            Provider::Gcp => estate.gcp_projects.len(),
        };
        // One break-glass identity per AWS account and per Azure tenant, when the budget allows.
        let break_glass = match provider {
            Provider::Aws if count >= 6 => scopes.min(count / 6),
            Provider::Azure if count >= 6 => 1,
            _ => 0,
        };
        for j in 0..count {
            let archetype = if j < break_glass {
                Archetype::BreakGlass
            } else if j - break_glass < ORDER.len() {
                ORDER[j - break_glass]
            } else {
                let weights: Vec<f64> = MIX.iter().map(|(_, w)| *w).collect();
                MIX[rng::weighted(&mut rng, &weights)].0
            };
            let scope = if archetype == Archetype::BreakGlass {
                j % scopes
            } else {
                rng.random_range(0..scopes)
            };
            let index = estate.identities.len();
            let identity = make_identity(seed, index, provider, archetype, scope, &estate, days);
            estate.identities.push(identity);
        }
    }
    plan_joiners_and_handovers(&mut estate, &mut rng, days);
    estate
}

/// Some people join during the window (no history at all), and some roles are handed over: the old
/// identity stops and a new one takes over its work from that day.
fn plan_joiners_and_handovers(estate: &mut Estate, rng: &mut Stream, days: u32) {
    if days < 2 {
        return;
    }
    let n = estate.identities.len();
    let candidates: Vec<usize> = (0..n)
        .filter(|&i| estate.identities[i].archetype != Archetype::BreakGlass)
        .collect();
    let joiners = (n / 50).max(usize::from(n >= 20));
    let handovers = (n / 100).max(usize::from(n >= 30));
    for _ in 0..joiners {
        let i = *rng::pick(rng, &candidates);
        estate.identities[i].active_from = rng.random_range(1..days);
    }
    for _ in 0..handovers {
        let old = *rng::pick(rng, &candidates);
        let new = *rng::pick(rng, &candidates);
        let (a, b) = (&estate.identities[old], &estate.identities[new]);
        if old == new || a.provider != b.provider || a.archetype != b.archetype {
            continue;
        }
        let day = rng.random_range(1..days);
        let (vocabulary, extra, team, scope) = (a.vocabulary, a.extra_vocabulary, a.team, a.scope);
        estate.identities[old].active_until = day;
        let successor = &mut estate.identities[new];
        successor.active_from = day;
        successor.vocabulary = vocabulary;
        successor.extra_vocabulary = extra;
        successor.team = team;
        successor.scope = scope;
    }
}

fn make_identity(
    seed: u64,
    index: usize,
    provider: Provider,
    archetype: Archetype,
    scope: usize,
    estate: &Estate,
    days: u32,
) -> SimIdentity {
    let mut rng = rng::stream(seed, purpose::IDENTITY, index as u64, 0);
    let team = *rng::pick(&mut rng, &TEAMS);
    let person = format!(
        "{}.{}{}",
        rng::pick(&mut rng, &FIRST),
        rng::pick(&mut rng, &LAST),
        index
    );
    let suffix = rng::token(&mut rng, rng::LOWER_ALNUM, 4);
    let zone_weights: Vec<f64> = ZONES.iter().map(|(_, w)| *w).collect();
    let tz_minutes = if archetype.is_human() {
        ZONES[rng::weighted(&mut rng, &zone_weights)].0
    } else {
        0
    };
    let region_index = if rng.random_bool(0.8) {
        0
    } else {
        rng.random_range(0..3)
    };
    let (principal, key) = principal_of(
        &mut rng, provider, archetype, scope, estate, team, &person, &suffix,
    );
    let (vocabulary, extra_vocabulary): (&'static [Weighted], &'static [Weighted]) =
        match (provider, archetype) {
            (Provider::Aws, Archetype::Engineer) => (vocab::AWS_ENGINEER, &[]),
            (Provider::Aws, Archetype::Admin) => (vocab::AWS_ADMIN, &[]),
            (Provider::Aws, Archetype::OnCall) => (vocab::AWS_ENGINEER, vocab::AWS_ONCALL_EXTRA),
            (Provider::Aws, Archetype::CiCd) => (vocab::AWS_CICD, &[]),
            (Provider::Aws, Archetype::Function) => (vocab::AWS_FUNCTION, &[]),
            (Provider::Aws, Archetype::DataJob) => (vocab::AWS_DATA_JOB, &[]),
            (Provider::Aws, Archetype::BreakGlass) => (vocab::AWS_ROOT, &[]),
            (Provider::Azure, Archetype::Engineer) => (vocab::AZURE_ENGINEER, &[]),
            (Provider::Azure, Archetype::Admin | Archetype::BreakGlass) => {
                (vocab::AZURE_ADMIN, &[])
            }
            (Provider::Azure, Archetype::OnCall) => {
                (vocab::AZURE_ENGINEER, vocab::AZURE_ONCALL_EXTRA)
            }
            (Provider::Azure, Archetype::CiCd) => (vocab::AZURE_CICD, &[]),
            (Provider::Azure, Archetype::Function | Archetype::DataJob) => {
                (vocab::AZURE_FUNCTION, &[])
            }
            (Provider::Gcp, Archetype::Engineer) => (vocab::GCP_ENGINEER, &[]),
            (Provider::Gcp, Archetype::Admin | Archetype::BreakGlass) => (vocab::GCP_ADMIN, &[]),
            (Provider::Gcp, Archetype::OnCall) => (vocab::GCP_ENGINEER, vocab::GCP_ONCALL_EXTRA),
            (Provider::Gcp, Archetype::CiCd) => (vocab::GCP_CICD, &[]),
            (Provider::Gcp, Archetype::Function) => (vocab::GCP_FUNCTION, &[]),
            (Provider::Gcp, Archetype::DataJob) => (vocab::GCP_DATA_JOB, &[]),
        };
    let (rhythm, daily_mean, error_rate) = match archetype {
        Archetype::Engineer => (Rhythm::Office, rng.random_range(25.0..90.0), 0.02),
        Archetype::Admin => (Rhythm::Office, rng.random_range(20.0..60.0), 0.02),
        Archetype::OnCall => (Rhythm::OnCall, rng.random_range(25.0..80.0), 0.02),
        Archetype::CiCd => (Rhythm::Pipeline, rng.random_range(60.0..200.0), 0.005),
        Archetype::Function => (Rhythm::Continuous, rng.random_range(50.0..250.0), 0.002),
        Archetype::DataJob => (
            Rhythm::Nightly(rng.random_range(0..5)),
            rng.random_range(40.0..150.0),
            0.005,
        ),
        Archetype::BreakGlass => (Rhythm::Dormant, 6.0, 0.0),
    };
    let (networks, agents) = networks_and_agents(&mut rng, provider, archetype);
    let mut novelties = Vec::new();
    if days >= 3 && archetype != Archetype::BreakGlass {
        let novel: &[Weighted] = match provider {
            Provider::Aws => vocab::AWS_NOVEL,
            Provider::Azure => vocab::AZURE_NOVEL,
            Provider::Gcp => vocab::GCP_NOVEL,
        };
        if archetype.is_human() && rng.random_bool(0.15) {
            novelties.push(Novelty::NewService {
                day: rng.random_range(1..days),
                op: rng.random_range(0..novel.len()),
            });
        }
        if archetype.is_human() && rng.random_bool(0.06) {
            let octet = *rng::pick(&mut rng, &BENIGN_OCTETS);
            novelties.push(Novelty::Travel {
                day: rng.random_range(1..days),
                days: rng.random_range(2..5),
                network: [octet, rng.random(), rng.random()],
                shift_minutes: *rng::pick(&mut rng, &[-360, -60, 60, 420, 540]),
            });
        }
        if archetype == Archetype::OnCall {
            for day in 1..days {
                if rng.random_bool(0.12) {
                    novelties.push(Novelty::NightIncident { day });
                }
            }
        }
        if archetype == Archetype::CiCd && rng.random_bool(0.1) {
            novelties.push(Novelty::DeploymentStorm {
                day: rng.random_range(1..days),
            });
        }
    }
    SimIdentity {
        index,
        provider,
        archetype,
        key,
        scope,
        principal,
        team,
        tz_minutes,
        rhythm,
        daily_mean,
        error_rate,
        vocabulary,
        extra_vocabulary,
        networks,
        agents,
        region: match provider {
            Provider::Aws => AWS_REGIONS[region_index],
            Provider::Azure => AZURE_REGIONS[region_index],
            Provider::Gcp => GCP_REGIONS[region_index],
        },
        active_from: 0,
        active_until: days,
        novelties,
    }
}

#[allow(clippy::too_many_arguments)]
fn principal_of(
    rng: &mut Stream,
    provider: Provider,
    archetype: Archetype,
    scope: usize,
    estate: &Estate,
    team: &str,
    person: &str,
    suffix: &str,
) -> (Caller, String) {
    match provider {
        Provider::Aws => {
            let account = &estate.aws_accounts[scope];
            let role_of = |role: &str| format!("arn:aws:iam::{account}:role/{role}");
            match archetype {
                Archetype::BreakGlass => (Caller::AwsRoot, format!("arn:aws:iam::{account}:root")),
                a if a.is_human() => {
                    let set = match a {
                        Archetype::Admin => "AdministratorAccess",
                        Archetype::OnCall => "OnCall",
                        _ => "Developer",
                    };
                    // One reserved role per permission set and account, as IAM Identity Center makes them.
                    let role = format!(
                        "AWSReservedSSO_{set}_{}",
                        &rng::hex(account.as_bytes())[..16]
                    );
                    let email = format!("{person}@example.com");
                    let key = format!(
                        "arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/{role}/{email}"
                    );
                    (Caller::AwsSso { role, email }, key)
                }
                a => {
                    let (role, session) = match a {
                        Archetype::CiCd => (
                            format!("{team}-deploy-{suffix}"),
                            "GitHubActions".to_string(),
                        ),
                        Archetype::Function => (
                            format!("{team}-fn-{suffix}-role"),
                            format!("{team}-fn-{suffix}"),
                        ),
                        _ => (
                            format!("{team}-etl-{suffix}-role"),
                            "GlueJobRunnerSession".to_string(),
                        ),
                    };
                    let key = role_of(&role);
                    (Caller::AwsRole { role, session }, key)
                }
            }
        }
        Provider::Azure => {
            let object_id = rng::uuid(rng);
            let key = format!("azure:{object_id}");
            let principal = match archetype {
                a if a.is_human() => {
                    let local = if a == Archetype::BreakGlass {
                        format!("breakglass-{suffix}")
                    } else {
                        person.to_string()
                    };
                    Caller::AzureUser {
                        object_id,
                        upn: format!("{local}@example.com"),
                        display: local.replace('.', " "),
                    }
                }
                Archetype::CiCd => Caller::AzureServicePrincipal {
                    object_id,
                    app_id: rng::uuid(rng),
                    display: format!("github-{team}-deploy"),
                },
                _ => {
                    let sub = &estate.azure_subscriptions[scope];
                    let name = format!("{team}-func-{suffix}");
                    Caller::AzureManagedIdentity {
                        object_id,
                        app_id: rng::uuid(rng),
                        resource_id: format!(
                            "/subscriptions/{sub}/resourceGroups/rg-{team}/providers/Microsoft.Web/sites/{name}"
                        ),
                        display: name,
                    }
                }
            };
            (principal, key)
        }
        Provider::Gcp => {
            let project = &estate.gcp_projects[scope];
            if archetype.is_human() {
                let email = format!("{person}@example.com");
                let key = format!("gcp:{email}");
                (Caller::GcpUser { email }, key)
            } else {
                let name = match archetype {
                    Archetype::CiCd => format!("{team}-deployer-{suffix}"),
                    Archetype::Function => format!("{team}-fn-{suffix}"),
                    _ => format!("{team}-dataflow-{suffix}"),
                };
                let email = format!("{name}@{project}.iam.gserviceaccount.com");
                let key = format!("gcp:{email}");
                (Caller::GcpServiceAccount { email }, key)
            }
        }
    }
}

/// The networks an identity works from (as /24 prefixes) and the clients it uses.
fn networks_and_agents(
    rng: &mut Stream,
    provider: Provider,
    archetype: Archetype,
) -> (Vec<[u8; 3]>, Vec<String>) {
    let net = |rng: &mut Stream, first: u8| [first, rng.random::<u8>(), rng.random::<u8>()];
    let networks = if archetype.is_human() {
        // An office and a home network, sometimes a second home or a phone.
        let mut n = vec![net(rng, BENIGN_OCTETS[0]), net(rng, BENIGN_OCTETS[3])];
        if rng.random_bool(0.4) {
            n.push(net(rng, BENIGN_OCTETS[5]));
        }
        n
    } else {
        // Workloads run in the provider's own address space.
        let first = match provider {
            Provider::Aws => 52,
            Provider::Azure => 20,
            Provider::Gcp => 34,
        };
        vec![net(rng, first), net(rng, first)]
    };
    let agents: Vec<String> = match (provider, archetype.is_human(), archetype) {
        (Provider::Aws, true, _) => vec![
            "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off".into(),
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36".into(),
            "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1".into(),
        ],
        (Provider::Aws, false, Archetype::CiCd) => vec![
            "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0-1017-azure md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython exec-env/GitHubActions".into(),
        ],
        (Provider::Aws, false, Archetype::Function) => vec![
            "Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#5.10.209-219.812.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 exec-env/AWS_Lambda_python3.12".into(),
        ],
        (Provider::Aws, false, _) => vec!["aws-sdk-java/2.20.162 Linux/5.10.210-201.852.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_Glue".into()],
        (Provider::Azure, true, _) => vec![
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0".into(),
            "python/3.11.8 (Windows-10-10.0.22631-SP0) AZURECLI/2.59.0 (MSI)".into(),
        ],
        (Provider::Azure, false, _) => vec!["azsdk-net-Identity/1.10.4 (.NET 8.0.3; Linux 5.15.0-1057-azure #65-Ubuntu)".into()],
        (Provider::Gcp, true, _) => vec![
            "google-cloud-sdk gcloud/467.0.0 command/gcloud.compute.instances.list invocation-id/1f3e environment/None environment-version/None client-os/MACOSX client-os-ver/14.4.1 client-pltf-arch/ARM interactive/True from-script/False python/3.11.8 term/xterm-256color (Macintosh; Intel Mac OS X 14.4.1),gzip(gfe)".into(),
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36,gzip(gfe)".into(),
        ],
        (Provider::Gcp, false, Archetype::CiCd) => vec!["google-cloud-sdk gcloud/467.0.0 command/gcloud.run.deploy environment/github_actions_runner interactive/False from-script/True python/3.11.8,gzip(gfe)".into()],
        (Provider::Gcp, false, _) => vec!["grpc-python/1.62.1 grpc-c/39.0.0 (linux; chttp2),gzip(gfe)".into()],
    };
    (networks, agents)
}

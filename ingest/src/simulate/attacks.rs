//! Attack scenarios from the Stratus Red Team catalog (<https://stratus-red-team.cloud>), written as
//! the API calls each technique makes; a few the catalog lacks are modelled on ATT&CK and carry a
//! `vigil.` id.

use vigil_schemas::Provider;

use super::estate::Archetype;
use super::vocab::{
    Op, Res, arm, aws_data, aws_read, aws_write, entra_audit, gcp_admin, gcp_read, keyvault,
};

/// One step of a technique: an operation repeated `repeat` times, `gap_seconds` apart, of which the
/// share `denied` is refused.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    pub op: Op,
    pub repeat: u32,
    pub gap_seconds: u32,
    pub denied: f64,
}

const fn once(op: Op) -> Step {
    Step {
        op,
        repeat: 1,
        gap_seconds: 20,
        denied: 0.0,
    }
}
const fn many(op: Op, repeat: u32, gap_seconds: u32) -> Step {
    Step {
        op,
        repeat,
        gap_seconds,
        denied: 0.0,
    }
}
const fn probing(op: Op, denied: f64) -> Step {
    Step {
        op,
        repeat: 1,
        gap_seconds: 2,
        denied,
    }
}

/// An attack technique and who can plausibly carry it out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Technique {
    pub id: &'static str,
    pub mitre: &'static str,
    pub tactic: &'static str,
    pub provider: Provider,
    pub actors: &'static [Archetype],
    /// Carried out at night in the identity's time zone.
    pub odd_hour: bool,
    /// From an attacker's network and client rather than the identity's own.
    pub foreign: bool,
    /// Whether an interactive sign-in starts it (AWS console, Entra ID).
    pub sign_in: bool,
    pub steps: &'static [Step],
}

const HUMANS: &[Archetype] = &[Archetype::Engineer, Archetype::Admin, Archetype::OnCall];
const ADMINS: &[Archetype] = &[Archetype::Admin, Archetype::OnCall, Archetype::Engineer];
const WORKLOADS: &[Archetype] = &[Archetype::Function, Archetype::CiCd, Archetype::DataJob];
const ANYONE: &[Archetype] = &[
    Archetype::Engineer,
    Archetype::Admin,
    Archetype::OnCall,
    Archetype::CiCd,
    Archetype::Function,
    Archetype::DataJob,
];

const TRUST_EXTERNAL: &str = r#"{"roleName":"{resource}","policyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::{external_account}:root\"},\"Action\":\"sts:AssumeRole\"}]}"}"#;

pub(crate) const CATALOG: &[Technique] = &[
    // ---------------------------------------------------------------- AWS
    Technique {
        id: "aws.credential-access.secretsmanager-retrieve-secrets",
        mitre: "T1555.006",
        tactic: "credential-access",
        provider: Provider::Aws,
        actors: ANYONE,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[
            once(aws_read("secretsmanager", "ListSecrets", Res::None)),
            many(aws_read("secretsmanager", "GetSecretValue", Res::Secret), 20, 1),
        ],
    },
    Technique {
        id: "aws.defense-evasion.cloudtrail-stop",
        mitre: "T1562.008",
        tactic: "defense-evasion",
        provider: Provider::Aws,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[
            once(aws_read("cloudtrail", "DescribeTrails", Res::None)),
            once(aws_write("cloudtrail", "StopLogging", Res::Trail)),
        ],
    },
    Technique {
        id: "aws.defense-evasion.cloudtrail-delete",
        mitre: "T1562.008",
        tactic: "defense-evasion",
        provider: Provider::Aws,
        actors: ADMINS,
        odd_hour: true,
        foreign: false,
        sign_in: false,
        steps: &[once(aws_write("cloudtrail", "DeleteTrail", Res::Trail))],
    },
    Technique {
        id: "aws.defense-evasion.vpc-remove-flow-logs",
        mitre: "T1562.008",
        tactic: "defense-evasion",
        provider: Provider::Aws,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[
            once(aws_read("ec2", "DescribeFlowLogs", Res::None)),
            once(aws_write("ec2", "DeleteFlowLogs", Res::FlowLog).with_params(
                r#"{"DeleteFlowLogsRequest":{"FlowLogId":{"content":"{resource}","tag":1}}}"#,
            )),
        ],
    },
    Technique {
        id: "aws.discovery.ec2-enumerate-from-instance",
        mitre: "T1580",
        tactic: "discovery",
        provider: Provider::Aws,
        actors: WORKLOADS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[
            probing(aws_read("sts", "GetCallerIdentity", Res::None), 0.0),
            probing(aws_read("ec2", "DescribeInstances", Res::None), 0.5),
            probing(aws_read("ec2", "DescribeVolumes", Res::None), 0.8),
            probing(aws_read("ec2", "DescribeSnapshots", Res::None), 0.8),
            probing(aws_read("ec2", "DescribeVpcs", Res::None), 0.8),
            probing(aws_read("ec2", "DescribeSecurityGroups", Res::None), 0.8),
            probing(aws_read("s3", "ListBuckets", Res::None), 0.5),
            probing(aws_read("iam", "ListUsers", Res::None), 1.0),
            probing(aws_read("iam", "ListRoles", Res::None), 1.0),
            probing(aws_read("iam", "ListGroups", Res::None), 1.0),
            probing(aws_read("iam", "ListPolicies", Res::None), 1.0),
            probing(aws_read("iam", "GetAccountAuthorizationDetails", Res::None), 1.0),
            probing(aws_read("iam", "GetAccountSummary", Res::None), 1.0),
            probing(aws_read("secretsmanager", "ListSecrets", Res::None), 1.0),
            probing(aws_read("ssm", "DescribeParameters", Res::None), 1.0),
            probing(aws_read("rds", "DescribeDBInstances", Res::None), 1.0),
            probing(aws_read("lambda", "ListFunctions20150331", Res::None), 0.8),
            probing(aws_read("dynamodb", "ListTables", Res::None), 0.8),
            probing(aws_read("cloudtrail", "DescribeTrails", Res::None), 1.0),
            probing(aws_read("guardduty", "ListDetectors", Res::None), 1.0),
            probing(aws_read("organizations", "DescribeOrganization", Res::None), 1.0),
            probing(aws_read("kms", "ListKeys", Res::None), 1.0),
            probing(aws_read("sns", "ListTopics", Res::None), 1.0),
            probing(aws_read("sqs", "ListQueues", Res::None), 1.0),
        ],
    },
    Technique {
        id: "aws.persistence.iam-backdoor-user",
        mitre: "T1098.001",
        tactic: "persistence",
        provider: Provider::Aws,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[
            once(aws_read("iam", "ListAccessKeys", Res::User)),
            once(aws_write("iam", "CreateAccessKey", Res::User)),
        ],
    },
    Technique {
        id: "aws.persistence.iam-backdoor-role",
        mitre: "T1098",
        tactic: "persistence",
        provider: Provider::Aws,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[once(aws_write("iam", "UpdateAssumeRolePolicy", Res::Role).with_params(TRUST_EXTERNAL))],
    },
    Technique {
        id: "aws.persistence.iam-create-admin-user",
        mitre: "T1136.003",
        tactic: "privilege-escalation",
        provider: Provider::Aws,
        actors: ADMINS,
        odd_hour: true,
        foreign: false,
        sign_in: false,
        steps: &[
            once(aws_write("iam", "CreateUser", Res::User).with_params(r#"{"userName":"{backdoor_user}"}"#)),
            once(aws_write("iam", "AttachUserPolicy", Res::User).with_params(
                r#"{"userName":"{backdoor_user}","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}"#,
            )),
            once(aws_write("iam", "CreateAccessKey", Res::User).with_params(r#"{"userName":"{backdoor_user}"}"#)),
        ],
    },
    Technique {
        id: "aws.exfiltration.ec2-share-ebs-snapshot",
        mitre: "T1537",
        tactic: "exfiltration",
        provider: Provider::Aws,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[
            once(aws_write("ec2", "CreateSnapshot", Res::None)),
            once(aws_write("ec2", "ModifySnapshotAttribute", Res::Snapshot).with_params(
                r#"{"snapshotId":"{resource}","attributeType":"CREATE_VOLUME_PERMISSION","createVolumePermission":{"add":{"items":[{"userId":"{external_account}"}]}}}"#,
            )),
        ],
    },
    Technique {
        id: "aws.exfiltration.ec2-share-ami",
        mitre: "T1537",
        tactic: "exfiltration",
        provider: Provider::Aws,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[once(aws_write("ec2", "ModifyImageAttribute", Res::Image).with_params(
            r#"{"imageId":"{resource}","attributeType":"launchPermission","launchPermission":{"add":{"items":[{"userId":"{external_account}"}]}}}"#,
        ))],
    },
    Technique {
        id: "aws.exfiltration.s3-backdoor-bucket-policy",
        mitre: "T1537",
        tactic: "exfiltration",
        provider: Provider::Aws,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[once(aws_write("s3", "PutBucketPolicy", Res::Bucket).with_params(
            r#"{"bucketName":"{resource}","bucketPolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::{external_account}:root"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::{resource}","arn:aws:s3:::{resource}/*"]}]},"policy":""}"#,
        ))],
    },
    Technique {
        id: "aws.impact.s3-ransomware-batch-deletion",
        mitre: "T1485",
        tactic: "impact",
        provider: Provider::Aws,
        actors: ANYONE,
        odd_hour: true,
        foreign: false,
        sign_in: false,
        steps: &[
            once(aws_data("s3", "ListObjects", Res::Bucket, true)),
            many(aws_data("s3", "DeleteObjects", Res::Object, false), 30, 2),
        ],
    },
    Technique {
        id: "aws.credential-access.ec2-steal-instance-credentials",
        mitre: "T1552.005",
        tactic: "credential-access",
        provider: Provider::Aws,
        actors: WORKLOADS,
        odd_hour: true,
        foreign: true,
        sign_in: false,
        steps: &[
            once(aws_read("sts", "GetCallerIdentity", Res::None)),
            once(aws_read("ec2", "DescribeInstances", Res::None)),
            once(aws_read("s3", "ListBuckets", Res::None)),
            many(aws_data("s3", "GetObject", Res::Object, true), 12, 3),
        ],
    },
    Technique {
        id: "vigil.aws.initial-access.stolen-sso-session",
        mitre: "T1078.004",
        tactic: "initial-access",
        provider: Provider::Aws,
        actors: HUMANS,
        odd_hour: true,
        foreign: true,
        sign_in: true,
        steps: &[
            once(aws_read("sts", "GetCallerIdentity", Res::None)),
            once(aws_read("s3", "ListBuckets", Res::None)),
            once(aws_read("secretsmanager", "ListSecrets", Res::None)),
            many(aws_data("s3", "GetObject", Res::Object, true), 10, 4),
        ],
    },
    // ---------------------------------------------------------------- Azure
    Technique {
        id: "azure.exfiltration.disk-export",
        mitre: "T1537",
        tactic: "exfiltration",
        provider: Provider::Azure,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[once(arm("Microsoft.Compute/disks/beginGetAccess/action", Res::Disk))],
    },
    Technique {
        id: "azure.execution.vm-run-command",
        mitre: "T1651",
        tactic: "execution",
        provider: Provider::Azure,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[once(arm("Microsoft.Compute/virtualMachines/runCommand/action", Res::Instance))],
    },
    Technique {
        id: "azure.persistence.create-bastion-shareable-link",
        mitre: "T1098",
        tactic: "persistence",
        provider: Provider::Azure,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[once(arm("Microsoft.Network/bastionHosts/createshareablelinks/action", Res::Bastion))],
    },
    Technique {
        id: "azure.persistence.backdoor-managed-identity-fic",
        mitre: "T1098.001",
        tactic: "persistence",
        provider: Provider::Azure,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[once(arm(
            "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write",
            Res::Identity,
        ))],
    },
    Technique {
        id: "azure.privilege-escalation.root-user-access-administrator",
        mitre: "T1098.003",
        tactic: "privilege-escalation",
        provider: Provider::Azure,
        actors: ADMINS,
        odd_hour: true,
        foreign: false,
        sign_in: true,
        steps: &[
            once(arm("Microsoft.Authorization/elevateAccess/action", Res::Subscription)),
            once(arm("Microsoft.Authorization/roleAssignments/write", Res::Subscription).with_params(
                r#"{"requestbody":"{\"Id\":\"{assignment}\",\"Properties\":{\"PrincipalId\":\"{principal}\",\"PrincipalType\":\"User\",\"RoleDefinitionId\":\"/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635\",\"Scope\":\"/subscriptions/{subscription}\"}}"}"#,
            )),
        ],
    },
    Technique {
        id: "azure.exfiltration.storage-public-access",
        mitre: "T1530",
        tactic: "exfiltration",
        provider: Provider::Azure,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[
            once(arm("Microsoft.Storage/storageAccounts/write", Res::StorageAccount)
                .with_params(r#"{"requestbody":"{\"properties\":{\"allowBlobPublicAccess\":true}}"}"#)),
            once(arm("Microsoft.Storage/storageAccounts/blobServices/containers/write", Res::StorageAccount)
                .with_params(r#"{"requestbody":"{\"properties\":{\"publicAccess\":\"Container\"}}"}"#)),
        ],
    },
    Technique {
        id: "entra-id.persistence.backdoor-application-sp",
        mitre: "T1098.001",
        tactic: "persistence",
        provider: Provider::Azure,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: true,
        steps: &[
            once(entra_audit("ApplicationManagement", "Add service principal credentials", Res::Application)),
            once(entra_audit(
                "ApplicationManagement",
                "Update application – Certificates and secrets management ",
                Res::Application,
            )),
        ],
    },
    Technique {
        id: "entra-id.persistence.guest-user",
        mitre: "T1136.003",
        tactic: "persistence",
        provider: Provider::Azure,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: true,
        steps: &[
            once(entra_audit("UserManagement", "Invite external user", Res::User).with_params(
                r#"[{"id":"{guest_id}","displayName":null,"type":"User","userPrincipalName":"{external_email}","modifiedProperties":[]}]"#,
            )),
            once(entra_audit("UserManagement", "Add user", Res::User).with_params(
                r#"[{"id":"{guest_id}","displayName":null,"type":"User","userPrincipalName":"{external_email}","modifiedProperties":[]}]"#,
            )),
        ],
    },
    Technique {
        id: "vigil.azure.credential-access.key-vault-secrets",
        mitre: "T1555.006",
        tactic: "credential-access",
        provider: Provider::Azure,
        actors: ANYONE,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[once(keyvault("SecretList", true)), many(keyvault("SecretGet", true), 20, 1)],
    },
    Technique {
        id: "vigil.azure.defense-evasion.delete-diagnostic-settings",
        mitre: "T1562.008",
        tactic: "defense-evasion",
        provider: Provider::Azure,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[
            once(arm("Microsoft.Insights/diagnosticSettings/delete", Res::Subscription)),
            once(arm("Microsoft.Network/networkWatchers/flowLogs/delete", Res::None)),
        ],
    },
    Technique {
        id: "vigil.azure.impact.mass-delete",
        mitre: "T1485",
        tactic: "impact",
        provider: Provider::Azure,
        actors: ADMINS,
        odd_hour: true,
        foreign: false,
        sign_in: false,
        steps: &[
            many(arm("Microsoft.Compute/virtualMachines/delete", Res::Instance), 10, 5),
            many(arm("Microsoft.Storage/storageAccounts/delete", Res::StorageAccount), 3, 5),
        ],
    },
    Technique {
        id: "vigil.azure.initial-access.stolen-credentials",
        mitre: "T1078.004",
        tactic: "initial-access",
        provider: Provider::Azure,
        actors: HUMANS,
        odd_hour: true,
        foreign: true,
        sign_in: true,
        steps: &[many(arm("Microsoft.Storage/storageAccounts/listKeys/action", Res::StorageAccount), 5, 10)],
    },
    // ---------------------------------------------------------------- GCP
    Technique {
        id: "gcp.credential-access.secretmanager-retrieve-secrets",
        mitre: "T1555.006",
        tactic: "credential-access",
        provider: Provider::Gcp,
        actors: ANYONE,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[
            once(gcp_read("secretmanager.googleapis.com", "google.cloud.secretmanager.v1.SecretManagerService.ListSecrets", "secretmanager.secrets.list", Res::Project)),
            many(gcp_read("secretmanager.googleapis.com", "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion", "secretmanager.versions.access", Res::Secret), 20, 1),
        ],
    },
    Technique {
        id: "gcp.defense-evasion.delete-logging-sink",
        mitre: "T1562.008",
        tactic: "defense-evasion",
        provider: Provider::Gcp,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[once(gcp_admin("logging.googleapis.com", "google.logging.v2.ConfigServiceV2.DeleteSink", "logging.sinks.delete", Res::Sink))],
    },
    Technique {
        id: "gcp.defense-evasion.remove-vpc-flow-logs",
        mitre: "T1562.008",
        tactic: "defense-evasion",
        provider: Provider::Gcp,
        actors: ADMINS,
        odd_hour: true,
        foreign: false,
        sign_in: false,
        steps: &[once(gcp_admin("compute.googleapis.com", "v1.compute.subnetworks.patch", "compute.subnetworks.update", Res::FlowLog)
            .with_params(r#"{"@type":"type.googleapis.com/compute.subnetworks.patch","logConfig":{"enable":false}}"#))],
    },
    Technique {
        id: "gcp.discovery.enumerate-permissions",
        mitre: "T1580",
        tactic: "discovery",
        provider: Provider::Gcp,
        actors: WORKLOADS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[
            probing(gcp_read("cloudresourcemanager.googleapis.com", "GetIamPolicy", "resourcemanager.projects.getIamPolicy", Res::Project), 1.0),
            probing(gcp_read("iam.googleapis.com", "google.iam.admin.v1.ListServiceAccounts", "iam.serviceAccounts.list", Res::Project), 1.0),
            probing(gcp_read("iam.googleapis.com", "google.iam.admin.v1.ListRoles", "iam.roles.list", Res::Project), 1.0),
            probing(gcp_read("compute.googleapis.com", "v1.compute.instances.aggregatedList", "compute.instances.list", Res::Project), 0.7),
            probing(gcp_read("compute.googleapis.com", "v1.compute.disks.aggregatedList", "compute.disks.list", Res::Project), 1.0),
            probing(gcp_read("compute.googleapis.com", "v1.compute.firewalls.list", "compute.firewalls.list", Res::Project), 1.0),
            probing(gcp_read("storage.googleapis.com", "storage.buckets.list", "storage.buckets.list", Res::Project), 0.7),
            probing(gcp_read("secretmanager.googleapis.com", "google.cloud.secretmanager.v1.SecretManagerService.ListSecrets", "secretmanager.secrets.list", Res::Project), 1.0),
            probing(gcp_read("container.googleapis.com", "google.container.v1.ClusterManager.ListClusters", "container.clusters.list", Res::Project), 1.0),
            probing(gcp_read("cloudsql.googleapis.com", "cloudsql.instances.list", "cloudsql.instances.list", Res::Project), 1.0),
            probing(gcp_read("logging.googleapis.com", "google.logging.v2.ConfigServiceV2.ListSinks", "logging.sinks.list", Res::Project), 1.0),
            probing(gcp_read("bigquery.googleapis.com", "google.cloud.bigquery.v2.DatasetService.ListDatasets", "bigquery.datasets.list", Res::Project), 0.7),
            probing(gcp_read("cloudkms.googleapis.com", "ListKeyRings", "cloudkms.keyRings.list", Res::Project), 1.0),
            probing(gcp_read("pubsub.googleapis.com", "google.pubsub.v1.Publisher.ListTopics", "pubsub.topics.list", Res::Project), 1.0),
            probing(gcp_read("cloudfunctions.googleapis.com", "google.cloud.functions.v1.CloudFunctionsService.ListFunctions", "cloudfunctions.functions.list", Res::Project), 1.0),
            probing(gcp_read("run.googleapis.com", "google.cloud.run.v1.Services.ListServices", "run.services.list", Res::Project), 1.0),
        ],
    },
    Technique {
        id: "gcp.persistence.create-service-account-key",
        mitre: "T1098.001",
        tactic: "persistence",
        provider: Provider::Gcp,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[once(gcp_admin("iam.googleapis.com", "google.iam.admin.v1.CreateServiceAccountKey", "iam.serviceAccountKeys.create", Res::ServiceAccount))],
    },
    Technique {
        id: "gcp.persistence.invite-external-user",
        mitre: "T1098.003",
        tactic: "persistence",
        provider: Provider::Gcp,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[once(gcp_admin("cloudresourcemanager.googleapis.com", "SetIamPolicy", "resourcemanager.projects.setIamPolicy", Res::Project)
            .with_params(r#"{"@type":"type.googleapis.com/google.iam.v1.SetIamPolicyRequest","policy":{"bindings":[{"role":"roles/viewer","members":["user:{external_email}"]}]}}"#))],
    },
    Technique {
        id: "vigil.gcp.privilege-escalation.set-iam-policy-owner",
        mitre: "T1098.003",
        tactic: "privilege-escalation",
        provider: Provider::Gcp,
        actors: ANYONE,
        odd_hour: true,
        foreign: false,
        sign_in: false,
        steps: &[
            once(gcp_read("cloudresourcemanager.googleapis.com", "GetIamPolicy", "resourcemanager.projects.getIamPolicy", Res::Project)),
            once(gcp_admin("cloudresourcemanager.googleapis.com", "SetIamPolicy", "resourcemanager.projects.setIamPolicy", Res::Project)
                .with_params(r#"{"@type":"type.googleapis.com/google.iam.v1.SetIamPolicyRequest","policy":{"bindings":[{"role":"roles/owner","members":["{member}"]}]}}"#)),
        ],
    },
    Technique {
        id: "gcp.privilege-escalation.impersonate-service-accounts",
        mitre: "T1078.004",
        tactic: "privilege-escalation",
        provider: Provider::Gcp,
        actors: ANYONE,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[Step {
            op: gcp_read("iamcredentials.googleapis.com", "GenerateAccessToken", "iam.serviceAccounts.getAccessToken", Res::ServiceAccount),
            repeat: 8,
            gap_seconds: 3,
            denied: 0.75,
        }],
    },
    Technique {
        id: "gcp.exfiltration.share-compute-disk",
        mitre: "T1537",
        tactic: "exfiltration",
        provider: Provider::Gcp,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[once(gcp_admin("compute.googleapis.com", "v1.compute.disks.setIamPolicy", "compute.disks.setIamPolicy", Res::Disk)
            .with_params(r#"{"@type":"type.googleapis.com/compute.disks.setIamPolicy","policy":{"bindings":[{"role":"roles/compute.storageAdmin","members":["user:{external_email}"]}]}}"#))],
    },
    Technique {
        id: "gcp.exfiltration.backdoor-gcs-bucket",
        mitre: "T1530",
        tactic: "exfiltration",
        provider: Provider::Gcp,
        actors: ADMINS,
        odd_hour: false,
        foreign: false,
        sign_in: false,
        steps: &[once(gcp_admin("storage.googleapis.com", "storage.setIamPermissions", "storage.buckets.setIamPolicy", Res::Bucket)
            .with_params(r#"{"@type":"type.googleapis.com/google.iam.v1.SetIamPolicyRequest","policy":{"bindings":[{"role":"roles/storage.objectViewer","members":["allUsers"]}]}}"#))],
    },
    Technique {
        id: "vigil.gcp.impact.mass-delete",
        mitre: "T1485",
        tactic: "impact",
        provider: Provider::Gcp,
        actors: ANYONE,
        odd_hour: true,
        foreign: false,
        sign_in: false,
        steps: &[many(gcp_read("storage.googleapis.com", "storage.objects.delete", "storage.objects.delete", Res::Object), 30, 2)],
    },
    Technique {
        id: "gcp.initial-access.use-compute-sa-outside-gcp",
        mitre: "T1078.004",
        tactic: "initial-access",
        provider: Provider::Gcp,
        actors: WORKLOADS,
        odd_hour: true,
        foreign: true,
        sign_in: false,
        steps: &[
            once(gcp_read("compute.googleapis.com", "v1.compute.instances.aggregatedList", "compute.instances.list", Res::Project)),
            once(gcp_read("storage.googleapis.com", "storage.buckets.list", "storage.buckets.list", Res::Project)),
            many(gcp_read("storage.googleapis.com", "storage.objects.get", "storage.objects.get", Res::Object), 10, 4),
        ],
    },
];

/// A technique by id.
pub(crate) fn technique(id: &str) -> Option<&'static Technique> {
    CATALOG.iter().find(|t| t.id == id)
}

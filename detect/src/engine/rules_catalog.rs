//! The built-in rule catalog and the permission lists behind "sensitive action" and "high-risk permission".
//!
//! Names are the ones the normalizers write: AWS `<iam prefix>:<eventName>`, Azure ARM operations and Key
//! Vault `Microsoft.KeyVault/<operationName>`, Entra ID audit activity names, GCP IAM permissions (the
//! `authorizationInfo[].permission` checked). Matching ignores ASCII case.
//!
//! Gate choice: `always` only for operations no routine identity performs (the simulator's benign
//! vocabularies included; a test keeps it so); anything an engineer, admin or pipeline may do in a normal
//! week is `first_use`, and the behavioural model covers the rest.

use vigil_schemas::{IdentityKind, Provider};

use super::rules::Severity::{Critical, High, Medium};
use super::rules::{Cond, Rule};

const AWS: Provider = Provider::Aws;
const AZ: Provider = Provider::Azure;
const GCP: Provider = Provider::Gcp;

#[rustfmt::skip]
pub(super) static RULES: &[Rule] = &[
    // ------------------------------------------------------------------------------------------- AWS
    Rule::always("aws.root.use", "AWS root user activity", AWS, "initial-access", "T1078.004", High, &[])
        .when(Cond::Caller(IdentityKind::Root)),
    Rule::always("aws.cloudtrail.stop-logging", "CloudTrail logging stopped", AWS, "defense-evasion", "T1562.008", High,
        &["cloudtrail:StopLogging"]),
    Rule::always("aws.cloudtrail.delete-trail", "CloudTrail trail or event data store deleted", AWS, "defense-evasion", "T1562.008", High,
        &["cloudtrail:DeleteTrail", "cloudtrail:DeleteEventDataStore"]),
    Rule::first_use("aws.cloudtrail.trail-changed", "CloudTrail trail or event selectors changed", AWS, "defense-evasion", "T1562.008", Medium,
        &["cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors"]),
    Rule::always("aws.ec2.delete-flow-logs", "VPC flow logs deleted", AWS, "defense-evasion", "T1562.008", High,
        &["ec2:DeleteFlowLogs"]),
    Rule::always("aws.guardduty.disabled", "GuardDuty detector deleted or detached", AWS, "defense-evasion", "T1562.001", High,
        &["guardduty:DeleteDetector", "guardduty:DisassociateFromMasterAccount",
          "guardduty:DisassociateFromAdministratorAccount", "guardduty:StopMonitoringMembers"]),
    Rule::first_use("aws.guardduty.changed", "GuardDuty detector, filter or trusted IP list changed", AWS, "defense-evasion", "T1562.001", Medium,
        &["guardduty:UpdateDetector", "guardduty:CreateFilter", "guardduty:UpdateFilter",
          "guardduty:CreateIPSet", "guardduty:UpdateIPSet"]),
    Rule::always("aws.config.disabled", "AWS Config recording stopped or deleted", AWS, "defense-evasion", "T1562.001", High,
        &["config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel"]),
    Rule::always("aws.securityhub.disabled", "Security Hub disabled or detached", AWS, "defense-evasion", "T1562.001", High,
        &["securityhub:DisableSecurityHub", "securityhub:DisassociateFromMasterAccount",
          "securityhub:DisassociateFromAdministratorAccount"]),
    Rule::first_use("aws.logs.deleted", "CloudWatch log group or stream deleted", AWS, "defense-evasion", "T1070", Medium,
        &["logs:DeleteLogGroup", "logs:DeleteLogStream"]),
    Rule::always("aws.ec2.snapshot-shared", "EBS snapshot shared", AWS, "exfiltration", "T1537", High,
        &["ec2:ModifySnapshotAttribute"]),
    Rule::always("aws.ec2.image-shared", "AMI shared", AWS, "exfiltration", "T1537", High,
        &["ec2:ModifyImageAttribute"]),
    Rule::always("aws.rds.snapshot-shared", "RDS snapshot shared", AWS, "exfiltration", "T1537", High,
        &["rds:ModifyDBSnapshotAttribute", "rds:ModifyDBClusterSnapshotAttribute"]),
    Rule::always("aws.s3.public-access-block-removed", "S3 public access block removed", AWS, "collection", "T1530", High,
        &["s3:DeleteBucketPublicAccessBlock", "s3:DeletePublicAccessBlock", "s3:DeleteAccountPublicAccessBlock"]),
    // Policies and ACLs are not in the event, so public and cross-account grants cannot be told apart.
    Rule::first_use("aws.s3.bucket-access-changed", "S3 bucket policy, ACL or public access block changed", AWS, "exfiltration", "T1537", Medium,
        &["s3:PutBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketPublicAccessBlock", "s3:PutAccountPublicAccessBlock"]),
    Rule::always("aws.iam.access-key-for-other-user", "Access key created for another IAM user", AWS, "persistence", "T1098.001", High,
        &["iam:CreateAccessKey"]).when(Cond::OtherIamUser),
    Rule::always("aws.iam.login-profile-for-other-user", "Console password set for another IAM user", AWS, "persistence", "T1098", High,
        &["iam:CreateLoginProfile", "iam:UpdateLoginProfile"]).when(Cond::OtherIamUser),
    Rule::always("aws.iam.admin-policy-to-user", "Administrator policy attached to a user or group", AWS, "privilege-escalation", "T1098.003", High,
        &["iam:AttachUserPolicy", "iam:AttachGroupPolicy"]).when(Cond::AdminPolicy),
    // Deployment pipelines attach admin policies to the roles they create; first use only.
    Rule::first_use("aws.iam.admin-policy-to-role", "Administrator policy attached to a role", AWS, "privilege-escalation", "T1098.003", High,
        &["iam:AttachRolePolicy"]).when(Cond::AdminPolicy),
    Rule::first_use("aws.iam.user-policy-changed", "Policy attached to or written into a user or group", AWS, "privilege-escalation", "T1098.003", Medium,
        &["iam:AttachUserPolicy", "iam:AttachGroupPolicy", "iam:PutUserPolicy", "iam:PutGroupPolicy"]),
    Rule::first_use("aws.iam.policy-version-changed", "Managed policy version created or made default", AWS, "privilege-escalation", "T1098.003", Medium,
        &["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"]),
    Rule::first_use("aws.iam.trust-policy-changed", "Role trust policy changed", AWS, "persistence", "T1098", High,
        &["iam:UpdateAssumeRolePolicy"]),
    Rule::first_use("aws.iam.user-created", "IAM user created", AWS, "persistence", "T1136.003", Medium,
        &["iam:CreateUser"]),
    Rule::first_use("aws.iam.mfa-removed", "MFA device deactivated or deleted", AWS, "defense-evasion", "T1556.006", High,
        &["iam:DeactivateMFADevice", "iam:DeleteVirtualMFADevice"]),
    Rule::first_use("aws.iam.identity-provider-changed", "SAML or OIDC identity provider created or changed", AWS, "defense-evasion", "T1484.002", High,
        &["iam:CreateSAMLProvider", "iam:UpdateSAMLProvider", "iam:CreateOpenIDConnectProvider"]),
    Rule::always("aws.organizations.leave", "Account left its AWS Organization", AWS, "defense-evasion", "T1666", Critical,
        &["organizations:LeaveOrganization"]),
    Rule::always("aws.kms.key-deletion", "KMS key scheduled for deletion", AWS, "impact", "T1485", High,
        &["kms:ScheduleKeyDeletion"]),
    Rule::first_use("aws.kms.key-disabled", "KMS key disabled", AWS, "impact", "T1485", Medium,
        &["kms:DisableKey"]),
    Rule::first_use("aws.ssm.remote-command", "Command or session on instances through Systems Manager", AWS, "execution", "T1651", Medium,
        &["ssm:SendCommand", "ssm:StartSession"]),
    // ----------------------------------------------------------------------------------------- Azure
    Rule::always("azure.monitor.diagnostic-settings-deleted", "Diagnostic settings or log profile deleted", AZ, "defense-evasion", "T1562.008", High,
        &["Microsoft.Insights/diagnosticSettings/delete", "Microsoft.Insights/logProfiles/delete",
          "microsoft.aadiam/diagnosticSettings/delete"]),
    Rule::always("azure.network.flow-logs-deleted", "Network flow logs deleted", AZ, "defense-evasion", "T1562.008", High,
        &["Microsoft.Network/networkWatchers/flowLogs/delete"]),
    Rule::first_use("azure.monitor.workspace-deleted", "Log Analytics workspace deleted", AZ, "defense-evasion", "T1562.008", High,
        &["Microsoft.OperationalInsights/workspaces/delete"]),
    Rule::first_use("azure.monitor.alerting-removed", "Alert rule or action group deleted", AZ, "defense-evasion", "T1562.001", Medium,
        &["Microsoft.Insights/actionGroups/delete", "Microsoft.Insights/metricAlerts/delete",
          "Microsoft.Insights/activityLogAlerts/delete", "Microsoft.Insights/alertRules/delete",
          "Microsoft.Insights/scheduledQueryRules/delete"]),
    Rule::first_use("azure.security.defender-changed", "Defender for Cloud plan, policy or alert suppression changed", AZ, "defense-evasion", "T1562.001", Medium,
        &["Microsoft.Security/pricings/write", "Microsoft.Security/policies/write",
          "Microsoft.Security/alertsSuppressionRules/write", "Microsoft.Security/securityContacts/delete",
          "Microsoft.Security/autoProvisioningSettings/write"]),
    Rule::first_use("azure.policy.assignment-removed", "Azure Policy assignment deleted or exempted", AZ, "defense-evasion", "T1562.001", Medium,
        &["Microsoft.Authorization/policyAssignments/delete", "Microsoft.Authorization/policyExemptions/write"]),
    Rule::always("azure.authorization.elevate-access", "Global administrator elevated to User Access Administrator", AZ, "privilege-escalation", "T1098.003", Critical,
        &["Microsoft.Authorization/elevateAccess/action"]),
    Rule::always("azure.authorization.privileged-role-assigned", "Owner or User Access Administrator role assigned", AZ, "privilege-escalation", "T1098.003", High,
        &["Microsoft.Authorization/roleAssignments/write"]).when(Cond::PrivilegedAzureRole),
    Rule::first_use("azure.authorization.role-assigned", "Role assignment created", AZ, "privilege-escalation", "T1098.003", Medium,
        &["Microsoft.Authorization/roleAssignments/write"]),
    Rule::first_use("azure.authorization.role-definition-changed", "Custom role definition created or changed", AZ, "privilege-escalation", "T1098.003", Medium,
        &["Microsoft.Authorization/roleDefinitions/write"]),
    Rule::always("azure.compute.disk-export", "Managed disk or snapshot exported through a SAS URL", AZ, "exfiltration", "T1537", High,
        &["Microsoft.Compute/disks/beginGetAccess/action", "Microsoft.Compute/snapshots/beginGetAccess/action"]),
    Rule::always("azure.compute.run-command", "Command run on a virtual machine", AZ, "execution", "T1651", Medium,
        &["Microsoft.Compute/virtualMachines/runCommand/action", "Microsoft.Compute/virtualMachines/runCommands/write",
          "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommand/action"]),
    Rule::first_use("azure.compute.vm-extension", "Virtual machine extension installed", AZ, "execution", "T1651", Medium,
        &["Microsoft.Compute/virtualMachines/extensions/write", "Microsoft.Compute/virtualMachineScaleSets/extensions/write"]),
    Rule::always("azure.network.bastion-shareable-link", "Bastion shareable link created", AZ, "persistence", "T1098", High,
        &["Microsoft.Network/bastionHosts/createshareablelinks/action"]),
    Rule::always("azure.identity.federated-credential", "Federated credential added to a managed identity", AZ, "persistence", "T1098.001", High,
        &["Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"]),
    // Whether public access was turned on is in the request body, which the event does not keep.
    Rule::first_use("azure.storage.access-changed", "Storage account or container settings changed", AZ, "collection", "T1530", Medium,
        &["Microsoft.Storage/storageAccounts/write", "Microsoft.Storage/storageAccounts/blobServices/containers/write"]),
    Rule::first_use("azure.storage.account-deleted", "Storage account deleted", AZ, "impact", "T1485", Medium,
        &["Microsoft.Storage/storageAccounts/delete"]),
    Rule::first_use("azure.storage.immutability-removed", "Blob immutability policy deleted", AZ, "impact", "T1485", High,
        &["Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies/delete"]),
    Rule::first_use("azure.keyvault.deleted", "Key Vault deleted or purged", AZ, "impact", "T1485", High,
        &["Microsoft.KeyVault/vaults/delete", "Microsoft.KeyVault/locations/deletedVaults/purge/action"]),
    Rule::first_use("azure.keyvault.object-purged", "Key Vault key, secret or certificate purged", AZ, "impact", "T1485", High,
        &["Microsoft.KeyVault/SecretPurge", "Microsoft.KeyVault/KeyPurge", "Microsoft.KeyVault/CertificatePurge",
          "Microsoft.KeyVault/vaults/keys/purge/action"]),
    Rule::first_use("azure.backup.protection-removed", "Backup protection removed", AZ, "impact", "T1490", High,
        &["Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/delete",
          "Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/delete"]),
    // Entra ID audit: activity names, as `action.operation` carries them.
    Rule::always("entra.sp-credentials-added", "Credentials added to a service principal", AZ, "persistence", "T1098.001", High,
        &["Add service principal credentials"]),
    Rule::first_use("entra.app-credentials-changed", "Application certificates or secrets changed", AZ, "persistence", "T1098.001", Medium,
        &["Update application – Certificates and secrets management"]),
    Rule::always("entra.external-user-invited", "External user invited to the directory", AZ, "persistence", "T1136.003", Medium,
        &["Invite external user"]),
    // The role's name is in modifiedProperties, which the event does not keep: Global Administrator cannot
    // be told from any other directory role.
    Rule::first_use("entra.role-member-added", "Member added to a directory role", AZ, "privilege-escalation", "T1098.003", High,
        &["Add member to role", "Add eligible member to role",
          "Add member to role in PIM completed (permanent)", "Add member to role in PIM completed (timebound)",
          "Add eligible member to role in PIM completed (permanent)",
          "Add eligible member to role in PIM completed (timebound)"]),
    Rule::always("entra.mfa-disabled", "Per-user MFA disabled", AZ, "defense-evasion", "T1556.006", High,
        &["Disable Strong Authentication"]),
    Rule::always("entra.conditional-access-deleted", "Conditional access policy deleted", AZ, "defense-evasion", "T1556.009", High,
        &["Delete conditional access policy"]),
    Rule::first_use("entra.conditional-access-changed", "Conditional access policy changed", AZ, "defense-evasion", "T1556.009", Medium,
        &["Update conditional access policy"]),
    Rule::always("entra.domain-federation-changed", "Domain federation or authentication changed", AZ, "defense-evasion", "T1484.002", High,
        &["Set federation settings on domain", "Set domain authentication"]),
    Rule::first_use("entra.app-permission-granted", "Application permission granted to a service principal", AZ, "privilege-escalation", "T1098.003", Medium,
        &["Add app role assignment to service principal", "Add delegated permission grant"]),
    Rule::first_use("entra.app-consent", "Consent given to an application", AZ, "credential-access", "T1528", Medium,
        &["Consent to application"]),
    Rule::first_use("entra.owner-added", "Owner added to an application or service principal", AZ, "persistence", "T1098", Medium,
        &["Add owner to application", "Add owner to service principal"]),
    // ------------------------------------------------------------------------------------------- GCP
    Rule::always("gcp.logging.sink-deleted", "Log sink or log bucket deleted", GCP, "defense-evasion", "T1562.008", High,
        &["logging.sinks.delete", "logging.buckets.delete"]),
    Rule::always("gcp.logging.logs-deleted", "Log entries deleted", GCP, "defense-evasion", "T1070", High,
        &["logging.logs.delete"]),
    Rule::first_use("gcp.logging.sink-changed", "Log sink changed", GCP, "defense-evasion", "T1562.008", Medium,
        &["logging.sinks.update"]),
    Rule::first_use("gcp.logging.exclusion", "Log exclusion created or changed", GCP, "defense-evasion", "T1562.008", Medium,
        &["logging.exclusions.create", "logging.exclusions.update"]),
    // The request (logConfig.enable=false) is not in the event: any subnetwork change is a candidate.
    Rule::first_use("gcp.compute.subnetwork-changed", "Subnetwork changed (flow logs may be off)", GCP, "defense-evasion", "T1562.008", Medium,
        &["compute.subnetworks.update"]),
    Rule::first_use("gcp.scc.findings-muted", "Security Command Center findings muted or notifications removed", GCP, "defense-evasion", "T1562.001", Medium,
        &["securitycenter.muteconfigs.create", "securitycenter.muteconfigs.update",
          "securitycenter.findings.setMute", "securitycenter.notificationconfig.delete"]),
    Rule::always("gcp.iam.key-for-other-service-account", "Service account key created by another service account", GCP, "persistence", "T1098.001", High,
        &["iam.serviceAccountKeys.create"]).when(Cond::KeyForOtherServiceAccount),
    Rule::first_use("gcp.iam.service-account-key-created", "Service account or HMAC key created", GCP, "persistence", "T1098.001", High,
        &["iam.serviceAccountKeys.create", "storage.hmacKeys.create"]),
    // `resourcemanager.setIamPolicy` is what the normalizer derives for a SetIamPolicy record that names
    // neither the permission checked nor the resource.
    Rule::first_use("gcp.iam.resource-policy-changed", "Project, folder or organization IAM policy changed", GCP, "privilege-escalation", "T1098.003", High,
        &["resourcemanager.projects.setIamPolicy", "resourcemanager.folders.setIamPolicy",
          "resourcemanager.organizations.setIamPolicy", "resourcemanager.setIamPolicy"]),
    Rule::first_use("gcp.iam.service-account-policy-changed", "Service account IAM policy changed", GCP, "privilege-escalation", "T1098.003", Medium,
        &["iam.serviceAccounts.setIamPolicy"]),
    Rule::first_use("gcp.storage.bucket-policy-changed", "Bucket IAM policy changed", GCP, "collection", "T1530", Medium,
        &["storage.buckets.setIamPolicy"]),
    Rule::always("gcp.compute.disk-shared", "Disk or snapshot shared through IAM", GCP, "exfiltration", "T1537", High,
        &["compute.disks.setIamPolicy", "compute.snapshots.setIamPolicy"]),
    // Golden images are shared across projects routinely.
    Rule::first_use("gcp.compute.image-shared", "Image shared through IAM", GCP, "exfiltration", "T1537", Medium,
        &["compute.images.setIamPolicy", "compute.machineImages.setIamPolicy"]),
    Rule::first_use("gcp.compute.ssh-metadata", "Instance or project metadata changed (SSH keys)", GCP, "persistence", "T1098.004", Medium,
        &["compute.instances.setMetadata", "compute.projects.setCommonInstanceMetadata"]),
    Rule::first_use("gcp.kms.key-destroyed", "KMS key version destroyed", GCP, "impact", "T1485", High,
        &["cloudkms.cryptoKeyVersions.destroy"]),
    Rule::first_use("gcp.resourcemanager.project-deleted", "Project deleted", GCP, "impact", "T1485", High,
        &["resourcemanager.projects.delete"]),
    Rule::first_use("gcp.iam.identity-federation-changed", "Workload or workforce identity provider created or changed", GCP, "defense-evasion", "T1484.002", Medium,
        &["iam.workloadIdentityPoolProviders.create", "iam.workloadIdentityPoolProviders.update",
          "iam.workforcePoolProviders.create", "iam.workforcePoolProviders.update"]),
];

/// AWS managed policies that hand over the account.
pub(super) const ADMIN_POLICIES: &[&str] = &["AdministratorAccess", "IAMFullAccess"];

/// Azure built-in roles that can grant any role: Owner, User Access Administrator, Role Based Access Control
/// Administrator (role definition ids are the same in every tenant).
pub(super) const PRIVILEGED_AZURE_ROLES: &[&str] = &[
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
];

/// Sensitive actions beyond rules and permission changes: secret, key and credential reads and data deletion.
#[rustfmt::skip]
pub(super) const SENSITIVE: &[(Provider, &[&str])] = &[
    (AWS, &[
        "secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue", "ec2:GetPasswordData",
        "s3:DeleteObject", "s3:DeleteObjects", "s3:DeleteBucket", "dynamodb:DeleteTable",
        "rds:DeleteDBInstance", "rds:DeleteDBCluster", "rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot",
        "ec2:DeleteSnapshot", "ec2:DeleteVolume", "backup:DeleteRecoveryPoint", "backup:DeleteBackupVault",
        "glacier:DeleteArchive",
    ]),
    (AZ, &[
        "Microsoft.KeyVault/SecretGet", "Microsoft.KeyVault/SecretBackup", "Microsoft.KeyVault/KeyBackup",
        "Microsoft.KeyVault/CertificateBackup", "Microsoft.KeyVault/vaults/secrets/getSecret/action",
        "Microsoft.Storage/storageAccounts/listKeys/action", "Microsoft.Storage/storageAccounts/listAccountSas/action",
        "Microsoft.Storage/storageAccounts/listServiceSas/action", "Microsoft.Storage/storageAccounts/regenerateKey/action",
        "Microsoft.Web/sites/config/list/action", "Microsoft.Web/sites/publishxml/action",
        "Microsoft.Web/sites/host/listkeys/action",
        "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action",
        "Microsoft.ContainerRegistry/registries/listCredentials/action",
        "Microsoft.EventHub/namespaces/authorizationRules/listKeys/action",
        "Microsoft.ServiceBus/namespaces/authorizationRules/listKeys/action",
        "Microsoft.DocumentDB/databaseAccounts/listKeys/action",
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
        "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
        "Microsoft.Compute/virtualMachines/delete", "Microsoft.Compute/disks/delete", "Microsoft.Compute/snapshots/delete",
        "Microsoft.Sql/servers/delete", "Microsoft.Sql/servers/databases/delete",
        "Microsoft.Resources/subscriptions/resourceGroups/delete",
        "Microsoft.KeyVault/SecretDelete", "Microsoft.KeyVault/KeyDelete", "Microsoft.KeyVault/vaults/keys/delete",
    ]),
    (GCP, &[
        "secretmanager.versions.access", "iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.signBlob",
        "iam.serviceAccounts.signJwt", "iam.serviceAccounts.getOpenIdToken", "container.secrets.get",
        "container.secrets.list", "storage.objects.delete", "storage.buckets.delete", "bigquery.tables.delete",
        "bigquery.datasets.delete", "compute.disks.delete", "compute.snapshots.delete", "compute.instances.delete",
        "cloudsql.instances.delete",
    ]),
];

/// High-risk permissions that are not alert-worthy alone; their first use in 90 days is "dormant privilege".
#[rustfmt::skip]
pub(super) const HIGH_RISK: &[(Provider, &[&str])] = &[
    (AWS, &[
        "iam:CreateAccessKey", "iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:AddUserToGroup",
        "iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:UploadSSHPublicKey",
        "secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue", "secretsmanager:PutResourcePolicy",
        "ec2:GetPasswordData", "kms:PutKeyPolicy", "kms:CreateGrant", "lambda:AddPermission",
        "ecr:SetRepositoryPolicy", "sts:GetFederationToken", "ec2-instance-connect:SendSSHPublicKey",
    ]),
    (AZ, &[
        "Microsoft.Storage/storageAccounts/listKeys/action", "Microsoft.Storage/storageAccounts/listAccountSas/action",
        "Microsoft.Storage/storageAccounts/regenerateKey/action", "Microsoft.KeyVault/SecretGet",
        "Microsoft.KeyVault/vaults/secrets/getSecret/action", "Microsoft.KeyVault/vaults/accessPolicies/write",
        "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action",
        "Microsoft.Web/sites/publishxml/action", "Microsoft.Web/sites/config/list/action",
        "Reset user password", "Reset password (by admin)",
    ]),
    (GCP, &[
        "iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.signBlob", "iam.serviceAccounts.signJwt",
        "iam.serviceAccounts.getOpenIdToken", "iam.serviceAccounts.actAs", "secretmanager.versions.access",
        "iam.roles.create", "iam.roles.update", "apikeys.keys.create", "serviceusage.apiKeys.create",
        "cloudkms.cryptoKeys.setIamPolicy", "run.services.setIamPolicy", "cloudfunctions.functions.setIamPolicy",
        "iap.webServices.setIamPolicy", "container.clusters.getCredentials",
    ]),
];

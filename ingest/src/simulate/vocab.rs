//! What identities do: real API operations per provider and archetype, with weights.
//!
//! Names are the providers' own: CloudTrail `eventSource`/`eventName`, Azure Resource Manager operation
//! names and Key Vault / Entra ID operation names, GCP `serviceName`/`methodName` with the IAM
//! permission checked.

/// Where an operation is logged, which decides its record shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// CloudTrail management event.
    AwsManagement,
    /// CloudTrail data event (S3 objects, DynamoDB items, Lambda invocations…).
    AwsData,
    /// Azure Activity Log (Resource Manager writes, deletes and actions; reads are not logged).
    AzureArm,
    /// Key Vault data plane (`AuditEvent` resource log).
    AzureKeyVault,
    /// Entra ID audit log; `service` is the audit category.
    EntraAudit,
    /// GCP Admin Activity audit log.
    GcpActivity,
    /// GCP Data Access audit log.
    GcpDataAccess,
}

/// The kind of resource an operation touches; renderers name one in the identity's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Res {
    None,
    Instance,
    Bucket,
    Object,
    Function,
    Table,
    Secret,
    Role,
    User,
    LogGroup,
    Stack,
    Repo,
    Cluster,
    Queue,
    Key,
    Param,
    Disk,
    Snapshot,
    Image,
    Trail,
    FlowLog,
    Vault,
    StorageAccount,
    WebApp,
    ResourceGroup,
    Subscription,
    Dataset,
    ServiceAccount,
    Project,
    Sink,
    Application,
    Identity,
    Bastion,
}

/// One operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Op {
    /// AWS: the `eventSource` prefix (`ec2`); Azure: unused for ARM (the name says it), the audit
    /// category for Entra; GCP: the `serviceName`.
    pub service: &'static str,
    /// AWS `eventName`; Azure operation name; GCP `methodName`.
    pub name: &'static str,
    pub hint: Hint,
    pub res: Res,
    pub read_only: bool,
    /// GCP: the IAM permission checked. Azure ARM: the resource type path. Otherwise empty.
    pub permission: &'static str,
    /// Request parameters as a JSON template (`{account}`, `{resource}`, `{external_account}`,
    /// `{external_email}`, `{principal}` are filled in); empty for the renderer's default.
    pub params: &'static str,
}

const fn op(
    service: &'static str,
    name: &'static str,
    hint: Hint,
    res: Res,
    read_only: bool,
) -> Op {
    Op {
        service,
        name,
        hint,
        res,
        read_only,
        permission: "",
        params: "",
    }
}

impl Op {
    pub(crate) const fn with_params(mut self, params: &'static str) -> Op {
        self.params = params;
        self
    }
    pub(crate) const fn with_permission(mut self, permission: &'static str) -> Op {
        self.permission = permission;
        self
    }
}

pub(crate) const fn aws_read(service: &'static str, name: &'static str, res: Res) -> Op {
    op(service, name, Hint::AwsManagement, res, true)
}
pub(crate) const fn aws_write(service: &'static str, name: &'static str, res: Res) -> Op {
    op(service, name, Hint::AwsManagement, res, false)
}
pub(crate) const fn aws_data(
    service: &'static str,
    name: &'static str,
    res: Res,
    read: bool,
) -> Op {
    op(service, name, Hint::AwsData, res, read)
}
/// An Azure Resource Manager operation; the name carries the resource type.
pub(crate) const fn arm(name: &'static str, res: Res) -> Op {
    op("", name, Hint::AzureArm, res, false)
}
pub(crate) const fn keyvault(name: &'static str, read: bool) -> Op {
    op("", name, Hint::AzureKeyVault, Res::Secret, read)
}
pub(crate) const fn entra_audit(category: &'static str, name: &'static str, res: Res) -> Op {
    op(category, name, Hint::EntraAudit, res, false)
}
pub(crate) const fn gcp_admin(
    service: &'static str,
    method: &'static str,
    permission: &'static str,
    res: Res,
) -> Op {
    op(service, method, Hint::GcpActivity, res, false).with_permission(permission)
}
pub(crate) const fn gcp_read(
    service: &'static str,
    method: &'static str,
    permission: &'static str,
    res: Res,
) -> Op {
    op(service, method, Hint::GcpDataAccess, res, true).with_permission(permission)
}

/// An operation and how often it is chosen relative to the others of its vocabulary.
pub(crate) type Weighted = (Op, f64);

use Res as R;

pub(crate) const AWS_ENGINEER: &[Weighted] = &[
    (aws_read("ec2", "DescribeInstances", R::None), 12.0),
    (aws_read("ec2", "DescribeSecurityGroups", R::None), 4.0),
    (aws_read("ec2", "DescribeVpcs", R::None), 2.0),
    (aws_read("ec2", "DescribeSubnets", R::None), 2.0),
    (aws_read("s3", "ListBuckets", R::None), 6.0),
    (aws_read("s3", "GetBucketLocation", R::Bucket), 3.0),
    (aws_read("logs", "FilterLogEvents", R::LogGroup), 10.0),
    (aws_read("logs", "DescribeLogGroups", R::None), 5.0),
    (aws_read("logs", "GetLogEvents", R::LogGroup), 6.0),
    (aws_read("logs", "StartQuery", R::LogGroup), 3.0),
    (aws_read("monitoring", "GetMetricData", R::None), 8.0),
    (aws_read("monitoring", "DescribeAlarms", R::None), 3.0),
    (aws_read("lambda", "ListFunctions20150331", R::None), 3.0),
    (
        aws_read("lambda", "GetFunction20150331v2", R::Function),
        3.0,
    ),
    (aws_read("ecs", "DescribeServices", R::Cluster), 5.0),
    (aws_read("ecs", "ListTasks", R::Cluster), 3.0),
    (aws_read("ecs", "DescribeTasks", R::Cluster), 3.0),
    (aws_read("dynamodb", "DescribeTable", R::Table), 2.0),
    (aws_read("sts", "GetCallerIdentity", R::None), 4.0),
    (aws_read("cloudformation", "DescribeStacks", R::Stack), 4.0),
    (
        aws_read("cloudformation", "DescribeStackEvents", R::Stack),
        2.0,
    ),
    (aws_read("ssm", "GetParameter", R::Param), 3.0),
    (aws_read("iam", "GetRole", R::Role), 1.0),
    (aws_read("ecr", "DescribeImages", R::Repo), 2.0),
    (aws_read("eks", "DescribeCluster", R::Cluster), 2.0),
    (aws_read("rds", "DescribeDBInstances", R::None), 1.5),
    (aws_write("ec2", "CreateTags", R::Instance), 1.0),
    (
        aws_write(
            "lambda",
            "UpdateFunctionConfiguration20150331v2",
            R::Function,
        ),
        0.5,
    ),
    (aws_write("ssm", "PutParameter", R::Param), 0.5),
    (aws_write("ec2", "StartInstances", R::Instance), 0.4),
    (aws_write("ec2", "StopInstances", R::Instance), 0.4),
];

pub(crate) const AWS_ADMIN: &[Weighted] = &[
    (aws_read("ec2", "DescribeInstances", R::None), 8.0),
    (aws_read("iam", "ListRoles", R::None), 4.0),
    (aws_read("iam", "ListUsers", R::None), 3.0),
    (aws_read("iam", "GetRole", R::Role), 4.0),
    (aws_read("iam", "ListPolicies", R::None), 2.0),
    (aws_read("iam", "GetPolicyVersion", R::None), 2.0),
    (aws_read("cloudtrail", "DescribeTrails", R::None), 1.0),
    (aws_read("cloudtrail", "GetTrailStatus", R::Trail), 1.0),
    (aws_read("config", "DescribeConfigRules", R::None), 1.0),
    (aws_read("guardduty", "ListDetectors", R::None), 1.0),
    (aws_read("organizations", "DescribeOrganization", R::None), 1.0),
    (aws_read("s3", "ListBuckets", R::None), 4.0),
    (aws_read("monitoring", "GetMetricData", R::None), 4.0),
    (aws_read("logs", "FilterLogEvents", R::LogGroup), 4.0),
    (aws_read("sts", "GetCallerIdentity", R::None), 2.0),
    (
        aws_write("iam", "CreateRole", R::Role).with_params(
            r#"{"roleName":"{resource}","assumeRolePolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"}"#,
        ),
        0.6,
    ),
    (
        aws_write("iam", "AttachRolePolicy", R::Role).with_params(
            r#"{"roleName":"{resource}","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}"#,
        ),
        0.6,
    ),
    (aws_write("iam", "PutRolePolicy", R::Role), 0.5),
    (aws_write("ec2", "AuthorizeSecurityGroupIngress", R::None), 0.8),
    (aws_write("ec2", "RunInstances", R::None), 0.5),
    (aws_write("ec2", "TerminateInstances", R::Instance), 0.3),
    (aws_write("s3", "CreateBucket", R::Bucket), 0.3),
    (aws_write("s3", "PutBucketEncryption", R::Bucket), 0.3),
    (aws_write("s3", "PutBucketTagging", R::Bucket), 0.5),
    (aws_write("kms", "CreateKey", R::None), 0.2),
];

pub(crate) const AWS_ONCALL_EXTRA: &[Weighted] = &[
    (aws_write("ec2", "RebootInstances", R::Instance), 1.0),
    (aws_write("autoscaling", "SetDesiredCapacity", R::None), 1.0),
    (aws_write("rds", "RebootDBInstance", R::None), 0.3),
    (aws_write("ecs", "UpdateService", R::Cluster), 1.0),
];

pub(crate) const AWS_CICD: &[Weighted] = &[
    (aws_read("sts", "GetCallerIdentity", R::None), 3.0),
    (aws_read("ecr", "GetAuthorizationToken", R::None), 4.0),
    (aws_read("ecr", "BatchCheckLayerAvailability", R::Repo), 6.0),
    (aws_write("ecr", "InitiateLayerUpload", R::Repo), 4.0),
    (aws_write("ecr", "CompleteLayerUpload", R::Repo), 4.0),
    (aws_write("ecr", "PutImage", R::Repo), 3.0),
    (
        aws_write("cloudformation", "CreateChangeSet", R::Stack),
        2.0,
    ),
    (
        aws_read("cloudformation", "DescribeChangeSet", R::Stack),
        4.0,
    ),
    (
        aws_write("cloudformation", "ExecuteChangeSet", R::Stack),
        2.0,
    ),
    (aws_read("cloudformation", "DescribeStacks", R::Stack), 6.0),
    (
        aws_write("lambda", "UpdateFunctionCode20150331v2", R::Function),
        2.0,
    ),
    (
        aws_write("lambda", "PublishVersion20150331", R::Function),
        1.0,
    ),
    (aws_write("ecs", "RegisterTaskDefinition", R::None), 1.5),
    (aws_write("ecs", "UpdateService", R::Cluster), 1.5),
    (aws_read("ecs", "DescribeServices", R::Cluster), 4.0),
    (aws_data("s3", "PutObject", R::Object, false), 3.0),
    (aws_read("ssm", "GetParameters", R::Param), 2.0),
];

pub(crate) const AWS_FUNCTION: &[Weighted] = &[
    (aws_data("dynamodb", "GetItem", R::Table, true), 10.0),
    (aws_data("dynamodb", "PutItem", R::Table, false), 5.0),
    (aws_data("dynamodb", "Query", R::Table, true), 5.0),
    (aws_read("kms", "Decrypt", R::Key), 3.0),
    (aws_read("secretsmanager", "GetSecretValue", R::Secret), 1.0),
    (aws_data("s3", "GetObject", R::Object, true), 4.0),
    (aws_data("s3", "PutObject", R::Object, false), 2.0),
    (aws_data("sqs", "SendMessage", R::Queue, false), 3.0),
];

pub(crate) const AWS_DATA_JOB: &[Weighted] = &[
    (aws_read("glue", "GetTable", R::Table), 4.0),
    (aws_read("glue", "GetPartitions", R::Table), 4.0),
    (aws_write("glue", "BatchCreatePartition", R::Table), 1.0),
    (aws_write("athena", "StartQueryExecution", R::None), 3.0),
    (aws_read("athena", "GetQueryExecution", R::None), 6.0),
    (aws_read("athena", "GetQueryResults", R::None), 3.0),
    (aws_data("s3", "GetObject", R::Object, true), 10.0),
    (aws_data("s3", "PutObject", R::Object, false), 4.0),
    (aws_read("kms", "GenerateDataKey", R::Key), 2.0),
    (aws_read("kms", "Decrypt", R::Key), 3.0),
];

pub(crate) const AWS_ROOT: &[Weighted] = &[
    (aws_read("iam", "GetAccountSummary", R::None), 1.0),
    (aws_read("iam", "ListUsers", R::None), 1.0),
    (aws_read("ce", "GetCostAndUsage", R::None), 1.0),
];

/// Services adopted as benign novelty (a new service for this identity, used from then on).
pub(crate) const AWS_NOVEL: &[Weighted] = &[
    (aws_read("sqs", "ListQueues", R::None), 1.0),
    (aws_read("sns", "ListTopics", R::None), 1.0),
    (aws_read("states", "ListStateMachines", R::None), 1.0),
    (aws_read("apigateway", "GetRestApis", R::None), 1.0),
    (
        aws_read("elasticloadbalancing", "DescribeLoadBalancers", R::None),
        1.0,
    ),
];

pub(crate) const AZURE_ENGINEER: &[Weighted] = &[
    (
        arm(
            "Microsoft.Compute/virtualMachines/start/action",
            R::Instance,
        ),
        3.0,
    ),
    (
        arm(
            "Microsoft.Compute/virtualMachines/restart/action",
            R::Instance,
        ),
        2.0,
    ),
    (
        arm(
            "Microsoft.Compute/virtualMachines/deallocate/action",
            R::Instance,
        ),
        2.0,
    ),
    (arm("Microsoft.Web/sites/restart/action", R::WebApp), 2.0),
    (arm("Microsoft.Web/sites/config/write", R::WebApp), 2.0),
    (
        arm("Microsoft.Resources/deployments/write", R::ResourceGroup),
        4.0,
    ),
    (
        arm(
            "Microsoft.Resources/deployments/validate/action",
            R::ResourceGroup,
        ),
        3.0,
    ),
    (arm("Microsoft.Resources/tags/write", R::ResourceGroup), 1.0),
    (arm("Microsoft.Insights/components/write", R::WebApp), 1.0),
    (
        arm(
            "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
            R::Cluster,
        ),
        4.0,
    ),
    (
        arm(
            "Microsoft.Storage/storageAccounts/blobServices/containers/write",
            R::StorageAccount,
        ),
        1.0,
    ),
    (arm("Microsoft.Sql/servers/databases/write", R::Table), 0.5),
    (keyvault("SecretGet", true), 2.0),
];

pub(crate) const AZURE_ADMIN: &[Weighted] = &[
    (
        arm(
            "Microsoft.Network/networkSecurityGroups/securityRules/write",
            R::None,
        ),
        2.0,
    ),
    (
        arm("Microsoft.Compute/virtualMachines/write", R::Instance),
        2.0,
    ),
    (
        arm("Microsoft.Compute/virtualMachines/delete", R::Instance),
        0.3,
    ),
    (
        arm(
            "Microsoft.Resources/subscriptions/resourceGroups/write",
            R::ResourceGroup,
        ),
        1.0,
    ),
    (arm("Microsoft.KeyVault/vaults/write", R::Vault), 0.5),
    (
        arm("Microsoft.KeyVault/vaults/accessPolicies/write", R::Vault),
        0.5,
    ),
    (
        arm("Microsoft.Storage/storageAccounts/write", R::StorageAccount),
        1.0,
    ),
    (
        arm(
            "Microsoft.Storage/storageAccounts/listKeys/action",
            R::StorageAccount,
        ),
        1.0,
    ),
    (
        arm(
            "Microsoft.Authorization/policyAssignments/write",
            R::Subscription,
        ),
        0.3,
    ),
    (
        arm(
            "Microsoft.Insights/diagnosticSettings/write",
            R::Subscription,
        ),
        0.3,
    ),
    (
        arm("Microsoft.Resources/deployments/write", R::ResourceGroup),
        3.0,
    ),
    (
        arm(
            "Microsoft.Compute/virtualMachines/start/action",
            R::Instance,
        ),
        1.0,
    ),
    (keyvault("SecretList", true), 0.5),
    (keyvault("SecretSet", false), 0.3),
];

pub(crate) const AZURE_ONCALL_EXTRA: &[Weighted] = &[
    (
        arm(
            "Microsoft.Compute/virtualMachines/restart/action",
            R::Instance,
        ),
        2.0,
    ),
    (arm("Microsoft.Web/sites/restart/action", R::WebApp), 2.0),
    (
        arm(
            "Microsoft.Compute/virtualMachineScaleSets/write",
            R::Instance,
        ),
        1.0,
    ),
];

pub(crate) const AZURE_CICD: &[Weighted] = &[
    (
        arm("Microsoft.Resources/deployments/write", R::ResourceGroup),
        6.0,
    ),
    (
        arm(
            "Microsoft.Resources/deployments/validate/action",
            R::ResourceGroup,
        ),
        4.0,
    ),
    (arm("Microsoft.Web/sites/publishxml/action", R::WebApp), 2.0),
    (arm("Microsoft.Web/sites/config/write", R::WebApp), 2.0),
    (
        arm("Microsoft.Web/sites/slots/slotsswap/action", R::WebApp),
        1.0,
    ),
    (
        arm(
            "Microsoft.ContainerRegistry/registries/listCredentials/action",
            R::Repo,
        ),
        2.0,
    ),
    (arm("Microsoft.Web/sites/write", R::WebApp), 1.0),
];

pub(crate) const AZURE_FUNCTION: &[Weighted] = &[
    (keyvault("SecretGet", true), 10.0),
    (keyvault("KeyUnwrap", true), 2.0),
    (
        arm("Microsoft.Web/sites/host/listkeys/action", R::WebApp),
        0.3,
    ),
];

pub(crate) const AZURE_NOVEL: &[Weighted] = &[
    (arm("Microsoft.Cache/redis/write", R::None), 1.0),
    (arm("Microsoft.EventHub/namespaces/write", R::None), 1.0),
    (
        arm("Microsoft.ServiceBus/namespaces/queues/write", R::Queue),
        1.0,
    ),
];

pub(crate) const GCP_ENGINEER: &[Weighted] = &[
    (
        gcp_read(
            "compute.googleapis.com",
            "v1.compute.instances.list",
            "compute.instances.list",
            R::None,
        ),
        8.0,
    ),
    (
        gcp_read(
            "compute.googleapis.com",
            "v1.compute.instances.get",
            "compute.instances.get",
            R::Instance,
        ),
        4.0,
    ),
    (
        gcp_admin(
            "compute.googleapis.com",
            "v1.compute.instances.start",
            "compute.instances.start",
            R::Instance,
        ),
        1.0,
    ),
    (
        gcp_admin(
            "compute.googleapis.com",
            "v1.compute.instances.stop",
            "compute.instances.stop",
            R::Instance,
        ),
        1.0,
    ),
    (
        gcp_admin(
            "compute.googleapis.com",
            "v1.compute.instances.setLabels",
            "compute.instances.setLabels",
            R::Instance,
        ),
        0.5,
    ),
    (
        gcp_read(
            "logging.googleapis.com",
            "google.logging.v2.LoggingServiceV2.ListLogEntries",
            "logging.logEntries.list",
            R::Project,
        ),
        8.0,
    ),
    (
        gcp_read(
            "bigquery.googleapis.com",
            "google.cloud.bigquery.v2.JobService.InsertJob",
            "bigquery.jobs.create",
            R::Dataset,
        ),
        5.0,
    ),
    (
        gcp_read(
            "bigquery.googleapis.com",
            "google.cloud.bigquery.v2.JobService.GetQueryResults",
            "bigquery.jobs.get",
            R::Dataset,
        ),
        4.0,
    ),
    (
        gcp_read(
            "storage.googleapis.com",
            "storage.objects.get",
            "storage.objects.get",
            R::Object,
        ),
        4.0,
    ),
    (
        gcp_read(
            "storage.googleapis.com",
            "storage.objects.list",
            "storage.objects.list",
            R::Bucket,
        ),
        4.0,
    ),
    (
        gcp_read(
            "container.googleapis.com",
            "google.container.v1.ClusterManager.GetCluster",
            "container.clusters.get",
            R::Cluster,
        ),
        3.0,
    ),
    (
        gcp_read(
            "iam.googleapis.com",
            "google.iam.admin.v1.ListServiceAccounts",
            "iam.serviceAccounts.list",
            R::Project,
        ),
        1.0,
    ),
    (
        gcp_read(
            "cloudfunctions.googleapis.com",
            "google.cloud.functions.v1.CloudFunctionsService.ListFunctions",
            "cloudfunctions.functions.list",
            R::Project,
        ),
        1.0,
    ),
];

pub(crate) const GCP_ADMIN: &[Weighted] = &[
    (
        gcp_read(
            "compute.googleapis.com",
            "v1.compute.instances.list",
            "compute.instances.list",
            R::None,
        ),
        4.0,
    ),
    (
        gcp_read(
            "cloudresourcemanager.googleapis.com",
            "GetIamPolicy",
            "resourcemanager.projects.getIamPolicy",
            R::Project,
        ),
        3.0,
    ),
    (
        gcp_read(
            "iam.googleapis.com",
            "google.iam.admin.v1.ListServiceAccounts",
            "iam.serviceAccounts.list",
            R::Project,
        ),
        3.0,
    ),
    (
        gcp_admin(
            "compute.googleapis.com",
            "v1.compute.firewalls.insert",
            "compute.firewalls.create",
            R::None,
        ),
        0.8,
    ),
    (
        gcp_admin(
            "compute.googleapis.com",
            "v1.compute.firewalls.patch",
            "compute.firewalls.update",
            R::None,
        ),
        0.8,
    ),
    (
        gcp_admin(
            "compute.googleapis.com",
            "v1.compute.instances.insert",
            "compute.instances.create",
            R::Instance,
        ),
        0.8,
    ),
    (
        gcp_admin(
            "compute.googleapis.com",
            "v1.compute.instances.delete",
            "compute.instances.delete",
            R::Instance,
        ),
        0.3,
    ),
    (
        gcp_admin(
            "iam.googleapis.com",
            "google.iam.admin.v1.CreateServiceAccount",
            "iam.serviceAccounts.create",
            R::ServiceAccount,
        ),
        0.3,
    ),
    (
        gcp_admin(
            "iam.googleapis.com",
            "google.iam.admin.v1.CreateRole",
            "iam.roles.create",
            R::Project,
        ),
        0.2,
    ),
    (
        gcp_admin(
            "storage.googleapis.com",
            "storage.buckets.create",
            "storage.buckets.create",
            R::Bucket,
        ),
        0.4,
    ),
    (
        gcp_admin(
            "logging.googleapis.com",
            "google.logging.v2.ConfigServiceV2.UpdateSink",
            "logging.sinks.update",
            R::Sink,
        ),
        0.1,
    ),
    (
        gcp_read(
            "logging.googleapis.com",
            "google.logging.v2.LoggingServiceV2.ListLogEntries",
            "logging.logEntries.list",
            R::Project,
        ),
        4.0,
    ),
];

pub(crate) const GCP_ONCALL_EXTRA: &[Weighted] = &[
    (
        gcp_admin(
            "compute.googleapis.com",
            "v1.compute.instances.reset",
            "compute.instances.reset",
            R::Instance,
        ),
        2.0,
    ),
    (
        gcp_admin(
            "compute.googleapis.com",
            "v1.compute.instanceGroupManagers.resize",
            "compute.instanceGroupManagers.update",
            R::None,
        ),
        1.0,
    ),
    (
        gcp_admin(
            "container.googleapis.com",
            "google.container.v1.ClusterManager.SetNodePoolSize",
            "container.clusters.update",
            R::Cluster,
        ),
        1.0,
    ),
];

pub(crate) const GCP_CICD: &[Weighted] = &[
    (
        gcp_admin(
            "run.googleapis.com",
            "google.cloud.run.v1.Services.ReplaceService",
            "run.services.update",
            R::WebApp,
        ),
        3.0,
    ),
    (
        gcp_read(
            "run.googleapis.com",
            "google.cloud.run.v1.Services.GetService",
            "run.services.get",
            R::WebApp,
        ),
        4.0,
    ),
    (
        gcp_admin(
            "cloudfunctions.googleapis.com",
            "google.cloud.functions.v1.CloudFunctionsService.UpdateFunction",
            "cloudfunctions.functions.update",
            R::Function,
        ),
        2.0,
    ),
    (
        gcp_read(
            "artifactregistry.googleapis.com",
            "Docker-StartUpload",
            "artifactregistry.repositories.uploadArtifacts",
            R::Repo,
        ),
        4.0,
    ),
    (
        gcp_read(
            "artifactregistry.googleapis.com",
            "Docker-FinishUpload",
            "artifactregistry.repositories.uploadArtifacts",
            R::Repo,
        ),
        4.0,
    ),
    (
        gcp_read(
            "artifactregistry.googleapis.com",
            "Docker-PutManifest",
            "artifactregistry.repositories.uploadArtifacts",
            R::Repo,
        ),
        2.0,
    ),
    (
        gcp_read(
            "storage.googleapis.com",
            "storage.objects.create",
            "storage.objects.create",
            R::Object,
        ),
        3.0,
    ),
];

pub(crate) const GCP_FUNCTION: &[Weighted] = &[
    (
        gcp_read(
            "secretmanager.googleapis.com",
            "google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion",
            "secretmanager.versions.access",
            R::Secret,
        ),
        2.0,
    ),
    (
        gcp_read(
            "datastore.googleapis.com",
            "google.datastore.v1.Datastore.Lookup",
            "datastore.entities.get",
            R::Table,
        ),
        10.0,
    ),
    (
        gcp_read(
            "datastore.googleapis.com",
            "google.datastore.v1.Datastore.RunQuery",
            "datastore.entities.list",
            R::Table,
        ),
        6.0,
    ),
    (
        gcp_read(
            "datastore.googleapis.com",
            "google.datastore.v1.Datastore.Commit",
            "datastore.entities.update",
            R::Table,
        ),
        4.0,
    ),
    (
        gcp_read(
            "storage.googleapis.com",
            "storage.objects.get",
            "storage.objects.get",
            R::Object,
        ),
        4.0,
    ),
    (
        gcp_read(
            "storage.googleapis.com",
            "storage.objects.create",
            "storage.objects.create",
            R::Object,
        ),
        2.0,
    ),
];

pub(crate) const GCP_DATA_JOB: &[Weighted] = &[
    (
        gcp_read(
            "bigquery.googleapis.com",
            "google.cloud.bigquery.v2.JobService.InsertJob",
            "bigquery.jobs.create",
            R::Dataset,
        ),
        6.0,
    ),
    (
        gcp_read(
            "bigquery.googleapis.com",
            "google.cloud.bigquery.v2.JobService.GetQueryResults",
            "bigquery.jobs.get",
            R::Dataset,
        ),
        6.0,
    ),
    (
        gcp_read(
            "bigquery.googleapis.com",
            "google.cloud.bigquery.v2.TableDataService.List",
            "bigquery.tables.getData",
            R::Dataset,
        ),
        4.0,
    ),
    (
        gcp_admin(
            "bigquery.googleapis.com",
            "google.cloud.bigquery.v2.TableService.InsertTable",
            "bigquery.tables.create",
            R::Dataset,
        ),
        1.0,
    ),
    (
        gcp_read(
            "storage.googleapis.com",
            "storage.objects.get",
            "storage.objects.get",
            R::Object,
        ),
        8.0,
    ),
    (
        gcp_read(
            "storage.googleapis.com",
            "storage.objects.list",
            "storage.objects.list",
            R::Bucket,
        ),
        3.0,
    ),
    (
        gcp_read(
            "storage.googleapis.com",
            "storage.objects.create",
            "storage.objects.create",
            R::Object,
        ),
        3.0,
    ),
];

pub(crate) const GCP_NOVEL: &[Weighted] = &[
    (
        gcp_read(
            "pubsub.googleapis.com",
            "google.pubsub.v1.Publisher.ListTopics",
            "pubsub.topics.list",
            R::Project,
        ),
        1.0,
    ),
    (
        gcp_read(
            "spanner.googleapis.com",
            "google.spanner.admin.instance.v1.InstanceAdmin.ListInstances",
            "spanner.instances.list",
            R::Project,
        ),
        1.0,
    ),
    (
        gcp_read(
            "redis.googleapis.com",
            "google.cloud.redis.v1.CloudRedis.ListInstances",
            "redis.instances.list",
            R::Project,
        ),
        1.0,
    ),
];

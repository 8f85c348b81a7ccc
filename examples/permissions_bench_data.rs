//! Writes the data set of the permission-analytics benchmark (`bench/permissions.sh`): inventories of
//! N identities across AWS, Azure and GCP in their export formats, and an event lake of D days in which
//! each identity uses a few of its permissions.
//!
//! Usage: cargo run --release --example permissions_bench_data -- OUT IDENTITIES DAYS EVENTS_PER_DAY
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use vigil_schemas::*;
use vigil_sink::{LakeConfig, LakeWriter};

const ACCOUNT: &str = "111122223333";
const SUBSCRIPTION: &str = "0b1f6471-1bf0-4dda-aec3-111122223333";

fn event(
    id: u64,
    provider: Provider,
    key: &str,
    service: &str,
    operation: &str,
    permission: &str,
    time: DateTime<Utc>,
) -> Event {
    Event {
        event_id: format!("bench-{id}"),
        event_time: time,
        event_time_estimated: false,
        ingest_time: time,
        provider,
        class: EventClass::ApiActivity,
        account_id: Some(ACCOUNT.into()),
        tenant_id: None,
        region: None,
        identity: Identity::new(key, IdentityKind::HumanUser),
        action: Action {
            service: service.into(),
            operation: operation.into(),
            permission: permission.into(),
            category: ActionCategory::Read,
        },
        resources: vec![],
        source: SourceEndpoint::default(),
        user_agent: None,
        outcome: Outcome::success(),
        raw_ref: RawRef {
            source: "bench".into(),
            byte_offset: 0,
            record_index: 0,
            format: "bench".into(),
        },
    }
}

/// (service, operation, permission) used per cloud, cycling.
const AWS_USES: [(&str, &str, &str); 6] = [
    ("s3.amazonaws.com", "GetObject", "s3:GetObject"),
    (
        "ec2.amazonaws.com",
        "DescribeInstances",
        "ec2:DescribeInstances",
    ),
    (
        "logs.amazonaws.com",
        "FilterLogEvents",
        "logs:FilterLogEvents",
    ),
    ("dynamodb.amazonaws.com", "GetItem", "dynamodb:GetItem"),
    (
        "lambda.amazonaws.com",
        "UpdateFunctionCode20150331v2",
        "lambda:UpdateFunctionCode",
    ),
    (
        "sts.amazonaws.com",
        "GetCallerIdentity",
        "sts:GetCallerIdentity",
    ),
];
const AZURE_USES: [(&str, &str); 4] = [
    (
        "Microsoft.Compute",
        "Microsoft.Compute/virtualMachines/write",
    ),
    (
        "Microsoft.Compute",
        "Microsoft.Compute/virtualMachines/start/action",
    ),
    (
        "Microsoft.Resources",
        "Microsoft.Resources/deployments/write",
    ),
    (
        "Microsoft.Storage",
        "Microsoft.Storage/storageAccounts/write",
    ),
];
const GCP_USES: [(&str, &str, &str); 4] = [
    (
        "storage.googleapis.com",
        "storage.objects.get",
        "storage.objects.get",
    ),
    (
        "compute.googleapis.com",
        "v1.compute.instances.list",
        "compute.instances.list",
    ),
    (
        "bigquery.googleapis.com",
        "google.cloud.bigquery.v2.JobService.InsertJob",
        "bigquery.jobs.create",
    ),
    (
        "logging.googleapis.com",
        "google.logging.v2.LoggingServiceV2.ListLogEntries",
        "logging.logEntries.list",
    ),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = Path::new(&args[1]);
    let identities: usize = args[2].parse().unwrap();
    let days: i64 = args[3].parse().unwrap();
    let per_day: usize = args[4].parse().unwrap();
    let (aws_n, azure_n) = (identities / 2, identities * 3 / 10);
    let gcp_n = identities - aws_n - azure_n;
    let end: DateTime<Utc> = "2026-06-01T00:00:00Z".parse().unwrap();
    let start = end - Duration::days(days);

    // AWS: users in groups with AWS managed policies, a fifth of them admins; a tenth never act.
    let policies = [
        "ReadOnlyAccess",
        "PowerUserAccess",
        "AmazonS3FullAccess",
        "AWSLambda_FullAccess",
        "AdministratorAccess",
    ];
    let groups: Vec<_> = policies
        .iter()
        .map(|p| json!({"Path": "/", "GroupName": format!("g-{p}"), "GroupId": format!("AGPA{p}"), "Arn": format!("arn:aws:iam::{ACCOUNT}:group/g-{p}"),
            "CreateDate": "2024-01-01T00:00:00Z", "GroupPolicyList": [], "AttachedManagedPolicies": [{"PolicyName": p, "PolicyArn": format!("arn:aws:iam::aws:policy/{p}")}]}))
        .collect();
    let users: Vec<_> = (0..aws_n)
        .map(|i| json!({"Path": "/", "UserName": format!("u{i:05}"), "UserId": format!("AIDA{i:016}"), "Arn": format!("arn:aws:iam::{ACCOUNT}:user/u{i:05}"),
            "CreateDate": "2024-01-01T00:00:00Z", "GroupList": [format!("g-{}", policies[i % policies.len()])], "AttachedManagedPolicies": [], "UserPolicyList": [], "Tags": []}))
        .collect();
    let aws = json!({"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": [], "Policies": []});
    std::fs::create_dir_all(out.join("inventory/aws")).unwrap();
    std::fs::write(
        out.join("inventory/aws/authorization-details.json"),
        aws.to_string(),
    )
    .unwrap();

    // Azure: built-in role assignments at subscription and resource-group scope.
    let roles = [
        ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
        ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
        ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
    ];
    let assignments: Vec<_> = (0..azure_n)
        .map(|i| {
            let (name, id) = roles[i % roles.len()];
            let scope = if i % 2 == 0 { format!("/subscriptions/{SUBSCRIPTION}") } else { format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-{}", i % 20) };
            json!({"id": format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{i:08}-0000-4000-8000-000000000000"), "name": format!("{i:08}-0000-4000-8000-000000000000"),
                "principalId": format!("{i:08}-aaaa-4bbb-8ccc-000000000000"), "principalName": format!("user{i}@example.com"), "principalType": "User",
                "roleDefinitionId": format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{id}"), "roleDefinitionName": name, "scope": scope, "createdOn": "2024-01-01T00:00:00Z"})
        })
        .collect();
    std::fs::create_dir_all(out.join("inventory/azure")).unwrap();
    std::fs::write(
        out.join("inventory/azure/role-assignments.json"),
        serde_json::Value::Array(assignments).to_string(),
    )
    .unwrap();

    // GCP: project bindings of predefined and basic roles.
    let gcp_roles = [
        "roles/viewer",
        "roles/storage.admin",
        "roles/bigquery.user",
        "roles/editor",
        "roles/compute.admin",
    ];
    let bindings: Vec<_> = gcp_roles
        .iter()
        .enumerate()
        .map(|(r, role)| json!({"role": role, "members": (0..gcp_n).filter(|i| i % gcp_roles.len() == r).map(|i| format!("user:g{i:05}@example.com")).collect::<Vec<_>>()}))
        .collect();
    std::fs::create_dir_all(out.join("inventory/gcp")).unwrap();
    std::fs::write(
        out.join("inventory/gcp/projects_acme-bench.json"),
        json!({"bindings": bindings, "etag": "BwY=", "version": 1}).to_string(),
    )
    .unwrap();

    // The lake: every identity but each tenth acts `per_day` times a day.
    let mut lake = LakeWriter::new(out.join("lake"), "bench", LakeConfig::default()).unwrap();
    let mut id = 0u64;
    for day in 0..days {
        let mut batch = Vec::with_capacity(identities * per_day);
        for i in (0..identities).filter(|i| i % 10 != 9) {
            for n in 0..per_day {
                id += 1;
                let t = start
                    + Duration::days(day)
                    + Duration::seconds(((i * 37 + n * 997) % 86_400) as i64);
                let e = if i < aws_n {
                    let (s, o, p) = AWS_USES[(i + n) % AWS_USES.len()];
                    event(
                        id,
                        Provider::Aws,
                        &format!("arn:aws:iam::{ACCOUNT}:user/u{i:05}"),
                        s,
                        o,
                        p,
                        t,
                    )
                } else if i < aws_n + azure_n {
                    let j = i - aws_n;
                    let (s, p) = AZURE_USES[(j + n) % AZURE_USES.len()];
                    event(
                        id,
                        Provider::Azure,
                        &format!("azure:{j:08}-aaaa-4bbb-8ccc-000000000000"),
                        s,
                        p,
                        p,
                        t,
                    )
                } else {
                    let j = i - aws_n - azure_n;
                    let (s, o, p) = GCP_USES[(j + n) % GCP_USES.len()];
                    event(
                        id,
                        Provider::Gcp,
                        &format!("gcp:g{j:05}@example.com"),
                        s,
                        o,
                        p,
                        t,
                    )
                };
                batch.push(e);
            }
        }
        lake.write(batch).unwrap();
    }
    lake.finish().unwrap();
    println!("{id} events, {identities} identities, {days} days");
}

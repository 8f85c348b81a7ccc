//! Normalize throughput per provider, beside the parse-only limit measured on the same bytes in the same
//! run (`serde_json` into `IgnoredAny`). The inputs are synthetic but shaped like production files:
//! a CloudTrail S3 delivery file, an Azure diagnostic-settings export, GCP LogEntry NDJSON.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde::de::IgnoredAny;
use serde_json::json;
use vigil_ingest::{Limits, normalize_bytes};

const RECORDS: usize = 2_000;

fn cloudtrail_file() -> Vec<u8> {
    let records: Vec<_> = (0..RECORDS)
        .map(|i| {
            let source = ["s3.amazonaws.com", "ec2.amazonaws.com", "iam.amazonaws.com", "sts.amazonaws.com"][i % 4];
            let name = ["GetObject", "DescribeInstances", "ListRoles", "GetCallerIdentity"][i % 4];
            json!({
                "eventVersion": "1.09",
                "userIdentity": {
                    "type": "AssumedRole",
                    "principalId": format!("AROAEXAMPLEID{}:session-{}", i % 50, i % 7),
                    "arn": format!("arn:aws:sts::111122223333:assumed-role/Role{}/session-{}", i % 50, i % 7),
                    "accountId": "111122223333",
                    "accessKeyId": format!("ASIAEXAMPLE{i:08}"),
                    "sessionContext": {
                        "sessionIssuer": {"type": "Role", "principalId": format!("AROAEXAMPLEID{}", i % 50),
                            "arn": format!("arn:aws:iam::111122223333:role/Role{}", i % 50),
                            "accountId": "111122223333", "userName": format!("Role{}", i % 50)},
                        "attributes": {"creationDate": "2026-11-20T09:00:00Z", "mfaAuthenticated": "false"}
                    }
                },
                "eventTime": format!("2026-11-20T{:02}:{:02}:{:02}Z", (i / 3600) % 24, (i / 60) % 60, i % 60),
                "eventSource": source,
                "eventName": name,
                "awsRegion": "eu-west-1",
                "sourceIPAddress": format!("203.0.113.{}", i % 250),
                "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2 prompt/off command/s3api.get-object",
                "requestParameters": {"bucketName": "example-data", "key": format!("reports/2026/11/{i}.csv"), "Host": "example-data.s3.eu-west-1.amazonaws.com"},
                "responseElements": null,
                "additionalEventData": {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "bytesTransferredOut": 1843},
                "requestID": format!("REQ{i:012}"),
                "eventID": format!("8b3f0c3e-0000-4000-8000-{i:012}"),
                "readOnly": true,
                "resources": [{"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::example-data/reports/2026/11/{i}.csv")},
                              {"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::example-data"}],
                "eventType": "AwsApiCall",
                "managementEvent": false,
                "recipientAccountId": "111122223333",
                "eventCategory": "Data",
                "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "example-data.s3.eu-west-1.amazonaws.com"}
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "Records": records })).unwrap_or_default()
}

fn azure_export() -> Vec<u8> {
    let records: Vec<_> = (0..RECORDS)
        .map(|i| {
            json!({
                "time": format!("2026-11-20T{:02}:{:02}:{:02}.1234567Z", (i / 3600) % 24, (i / 60) % 60, i % 60),
                "resourceId": format!("/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000001/RESOURCEGROUPS/RG{}/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM{}", i % 9, i % 40),
                "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
                "category": "Administrative",
                "resultType": "Success",
                "resultSignature": "Succeeded.",
                "durationMs": "1234",
                "callerIpAddress": format!("198.51.100.{}", i % 250),
                "correlationId": format!("c0ffee00-0000-4000-8000-{i:012}"),
                "identity": {
                    "authorization": {"scope": "/subscriptions/00000000-0000-0000-0000-000000000001", "action": "Microsoft.Compute/virtualMachines/write"},
                    "claims": {
                        "http://schemas.microsoft.com/identity/claims/objectidentifier": format!("11111111-0000-4000-8000-{:012}", i % 60),
                        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": format!("user{}@example.com", i % 60),
                        "http://schemas.microsoft.com/identity/claims/tenantid": "22222222-0000-4000-8000-000000000000",
                        "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
                        "http://schemas.microsoft.com/claims/authnmethodsreferences": "pwd,mfa"
                    }
                },
                "level": "Information",
                "location": "westeurope",
                "properties": {"statusCode": "OK", "serviceRequestId": format!("{i}"), "eventCategory": "Administrative"}
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "records": records })).unwrap_or_default()
}

fn gcp_ndjson() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..RECORDS {
        let entry = json!({
            "insertId": format!("1abc{i:010}"),
            "logName": "projects/example-project/logs/cloudaudit.googleapis.com%2Factivity",
            "protoPayload": {
                "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                "authenticationInfo": {"principalEmail": format!("svc{}@example-project.iam.gserviceaccount.com", i % 30)},
                "authorizationInfo": [{"granted": true, "permission": "compute.instances.setMetadata",
                    "resource": format!("projects/example-project/zones/europe-west1-b/instances/vm-{}", i % 40)}],
                "methodName": "v1.compute.instances.setMetadata",
                "requestMetadata": {"callerIp": format!("192.0.2.{}", i % 250), "callerSuppliedUserAgent": "google-cloud-sdk gcloud/455.0.0"},
                "resourceName": format!("projects/example-project/zones/europe-west1-b/instances/vm-{}", i % 40),
                "serviceName": "compute.googleapis.com"
            },
            "receiveTimestamp": "2026-11-20T10:00:01.123456789Z",
            "resource": {"labels": {"instance_id": format!("{i}"), "project_id": "example-project", "zone": "europe-west1-b"}, "type": "gce_instance"},
            "severity": "NOTICE",
            "timestamp": format!("2026-11-20T{:02}:{:02}:{:02}.987654Z", (i / 3600) % 24, (i / 60) % 60, i % 60)
        });
        out.extend(serde_json::to_vec(&entry).unwrap_or_default());
        out.push(b'\n');
    }
    out
}

/// The transport-free limit: tokenize the same bytes without building anything.
fn parse_only(bytes: &[u8]) -> usize {
    serde_json::Deserializer::from_slice(bytes)
        .into_iter::<IgnoredAny>()
        .filter(Result::is_ok)
        .count()
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let now = chrono::Utc::now();
    for (provider, bytes) in [
        ("cloudtrail", cloudtrail_file()),
        ("azure", azure_export()),
        ("gcp", gcp_ndjson()),
    ] {
        let check = normalize_bytes("bench", &bytes, now, &limits);
        assert_eq!(
            check.events.len(),
            RECORDS,
            "{provider}: {:?}",
            check.dead_letters.first()
        );
        let mut group = c.benchmark_group(provider);
        group.sample_size(20);
        for (label, throughput) in [
            ("MB", Throughput::Bytes(bytes.len() as u64)),
            ("events", Throughput::Elements(RECORDS as u64)),
        ] {
            group.throughput(throughput);
            group.bench_with_input(BenchmarkId::new("normalize", label), &bytes, |b, bytes| {
                b.iter(|| normalize_bytes("bench", bytes, now, &limits).events.len())
            });
            group.bench_with_input(BenchmarkId::new("parse_only", label), &bytes, |b, bytes| {
                b.iter(|| parse_only(bytes))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

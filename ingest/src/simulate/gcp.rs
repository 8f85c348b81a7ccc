//! GCP Cloud Audit Log entries (LogEntry with an AuditLog payload), as a log sink exports them or a
//! Pub/Sub push subscription delivers them.

use base64::Engine as _;
use serde_json::{Value, json};

use super::activity::Act;
use super::estate::{Caller, Estate, SimIdentity};
use super::output::{Channel, GcpLog, SimRecord};
use super::render::{fill_template, resource_name, rfc3339_millis};
use super::rng::{self, Stream};
use super::vocab::{Hint, Res};

pub(crate) fn render(act: &Act, who: &SimIdentity, estate: &Estate, rng: &mut Stream) -> SimRecord {
    let project = &estate.gcp_projects[who.scope];
    let op = act.op;
    let log = if op.hint == Hint::GcpDataAccess {
        GcpLog::DataAccess
    } else {
        GcpLog::Activity
    };
    let name = resource_name(who, act);
    let zone = format!("{}-b", who.region);
    let (resource_name, resource_type, labels) =
        resource_of(op.res, &name, project, &zone, op.service);
    let email = match &who.principal {
        Caller::GcpUser { email } | Caller::GcpServiceAccount { email } => email.clone(),
        _ => String::new(),
    };
    let insert_id = rng::token(rng, rng::LOWER_ALNUM, 12);
    let time = rfc3339_millis(act.time);
    let mut payload = json!({
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "status": if act.denied { json!({"code": 7, "message": "PERMISSION_DENIED"}) } else { json!({}) },
        "authenticationInfo": {"principalEmail": email},
        "requestMetadata": {
            "callerIp": act.ip,
            "callerSuppliedUserAgent": act.agent,
            "requestAttributes": {"time": time, "auth": {}},
            "destinationAttributes": {},
        },
        "serviceName": op.service,
        "methodName": op.name,
        "authorizationInfo": [{
            "resource": resource_name,
            "permission": op.permission,
            "granted": !act.denied,
            "resourceAttributes": {},
        }],
        "resourceName": resource_name,
    });
    if !op.params.is_empty()
        && let Ok(request) = serde_json::from_str::<Value>(&fill_template(op.params, &act.fill))
        && let Some(p) = payload.as_object_mut()
    {
        p.insert("request".into(), request);
    }
    let entry = json!({
        "protoPayload": payload,
        "insertId": insert_id,
        "resource": {"type": resource_type, "labels": labels},
        "timestamp": time,
        "severity": if act.denied { "ERROR" } else if log == GcpLog::Activity { "NOTICE" } else { "INFO" },
        "logName": format!("projects/{project}/logs/{}", log.log_id().replace('/', "%2F")),
        "receiveTimestamp": rfc3339_millis(act.time + chrono::Duration::milliseconds(640)),
    });
    let push = who.scope % 2 == 1;
    let (channel, body) = if push {
        let data = base64::engine::general_purpose::STANDARD.encode(entry.to_string());
        let envelope = json!({
            "message": {
                "data": data,
                "messageId": format!("{}", 10_000_000_000_000u64 + u64::from(rand::Rng::random::<u32>(rng))),
                "publishTime": rfc3339_millis(act.time + chrono::Duration::milliseconds(900)),
                "attributes": {"logging.googleapis.com/timestamp": time},
            },
            "subscription": format!("projects/{project}/subscriptions/vigil-audit-push"),
        });
        (
            Channel::GcpPubSubPush {
                project: project.clone(),
            },
            envelope.to_string(),
        )
    } else {
        (
            Channel::GcpAudit {
                project: project.clone(),
                log,
            },
            entry.to_string(),
        )
    };
    SimRecord {
        time: act.time,
        channel,
        body,
        event_id: insert_id,
        identity_key: who.key.clone(),
        scenario: act.scenario,
    }
}

fn resource_of(
    res: Res,
    name: &str,
    project: &str,
    zone: &str,
    service: &str,
) -> (String, &'static str, Value) {
    let p = json!({"project_id": project});
    match res {
        Res::Instance => (
            format!("projects/{project}/zones/{zone}/instances/{name}"),
            "gce_instance",
            json!({"project_id": project, "zone": zone, "instance_id": format!("{}", name.len() * 7_919_123)}),
        ),
        Res::Bucket => (
            format!("projects/_/buckets/{name}"),
            "gcs_bucket",
            json!({"project_id": project, "bucket_name": name}),
        ),
        Res::Object => {
            let (bucket, object) = name.split_once('/').unwrap_or((name, "data"));
            (
                format!("projects/_/buckets/{bucket}/objects/{object}"),
                "gcs_bucket",
                json!({"project_id": project, "bucket_name": bucket}),
            )
        }
        Res::Dataset => (
            format!("projects/{project}/datasets/{name}"),
            "bigquery_dataset",
            json!({"project_id": project, "dataset_id": name}),
        ),
        Res::Secret => (
            format!(
                "projects/{project}/secrets/{}/versions/latest",
                name.replace('/', "-")
            ),
            "audited_resource",
            json!({"project_id": project, "service": service, "method": ""}),
        ),
        Res::ServiceAccount => (
            format!("projects/-/serviceAccounts/{name}@{project}.iam.gserviceaccount.com"),
            "service_account",
            json!({"project_id": project, "email_id": format!("{name}@{project}.iam.gserviceaccount.com")}),
        ),
        Res::Cluster => (
            format!("projects/{project}/locations/{zone}/clusters/{name}"),
            "gke_cluster",
            json!({"project_id": project, "cluster_name": name, "location": zone}),
        ),
        Res::WebApp => (
            format!("namespaces/{project}/services/{name}"),
            "cloud_run_revision",
            json!({"project_id": project, "service_name": name}),
        ),
        Res::Function => (
            format!("projects/{project}/locations/us-central1/functions/{name}"),
            "cloud_function",
            json!({"project_id": project, "function_name": name}),
        ),
        Res::Repo => (
            format!(
                "projects/{project}/locations/us/repositories/{}",
                name.replace('/', "-")
            ),
            "audited_resource",
            json!({"project_id": project, "service": service}),
        ),
        Res::Table => (
            format!("projects/{project}/databases/(default)/documents/{name}"),
            "datastore_database",
            p,
        ),
        Res::Sink => (
            format!("projects/{project}/sinks/{name}"),
            "logging_sink",
            json!({"project_id": project, "name": name}),
        ),
        Res::Disk => (
            format!("projects/{project}/zones/{zone}/disks/{name}"),
            "gce_disk",
            json!({"project_id": project, "zone": zone}),
        ),
        Res::Snapshot => (
            format!("projects/{project}/global/snapshots/{name}"),
            "gce_snapshot",
            p,
        ),
        Res::Image => (
            format!("projects/{project}/global/images/{name}"),
            "gce_image",
            p,
        ),
        Res::FlowLog => (
            format!("projects/{project}/regions/us-central1/subnetworks/{name}"),
            "gce_subnetwork",
            p,
        ),
        _ => (format!("projects/{project}"), "project", p),
    }
}

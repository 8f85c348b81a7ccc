//! AKS `kube-audit` / `kube-audit-admin` records: a Kubernetes audit event as JSON in `properties.log`.

use serde_json::Value;
use vigil_schemas::{
    Action, ActionCategory, Event, EventClass, Identity, IdentityKind, OutcomeStatus, Provider,
    Resource, SourceEndpoint,
};

use super::{
    at, event_time, first, get, is_email, is_guid, normalize_guid, outcome, provider_id,
    resource_from_id, subscription_of, txt,
};
use crate::json::embedded_object;
use crate::record::{RecordContext, RecordError, RecordResult};

/// RBAC objects: writing them grants permissions.
const RBAC_RESOURCES: [&str; 4] = [
    "roles",
    "rolebindings",
    "clusterroles",
    "clusterrolebindings",
];
/// Subresources that run code or open a channel into a pod or node.
const EXEC_SUBRESOURCES: [&str; 4] = ["exec", "attach", "portforward", "proxy"];

pub(super) fn normalize(
    record: &Value,
    format: &'static str,
    ctx: &RecordContext<'_>,
) -> RecordResult {
    let log = get(record, "properties")
        .and_then(|p| get(p, "log"))
        .and_then(embedded_object)
        .ok_or_else(|| {
            RecordError::missing(Provider::Azure, "properties.log (Kubernetes audit event)")
        })?;
    // The audit event's own times first; the envelope's `time` is when AKS shipped it.
    let (time, time_estimated) = event_time(
        &[
            at(&log, &["requestReceivedTimestamp"]),
            at(&log, &["stageTimestamp"]),
            at(record, &["time"]),
        ],
        ctx,
    )?;
    let verb = txt(&log, &["verb"])
        .ok_or_else(|| RecordError::missing(Provider::Azure, "properties.log.verb"))?;
    let cluster_id = txt(record, &["resourceId"]);

    let object = get(&log, "objectRef");
    let resource = object.and_then(|o| txt(o, &["resource"]));
    let subresource = object.and_then(|o| txt(o, &["subresource"]));
    let api_group = object.and_then(|o| txt(o, &["apiGroup"]));
    let target = match (&resource, &subresource) {
        (Some(r), Some(s)) => format!("{r}/{s}"),
        (Some(r), None) => r.clone(),
        (None, _) => txt(&log, &["requestURI"]).unwrap_or_else(|| "unknown".into()),
    };

    let source = get(&log, "sourceIPs")
        .and_then(Value::as_array)
        .and_then(|ips| ips.first())
        .and_then(crate::json::scalar_text)
        .map(|ip| SourceEndpoint::from_raw(&ip))
        .unwrap_or_default();

    let mut resources: Vec<Resource> = Vec::new();
    if let Some(o) = object {
        let namespace = txt(o, &["namespace"]);
        let name = txt(o, &["name"]);
        // The API path form: `namespaces/<ns>/<resource>/<name>/<subresource>`.
        let mut parts: Vec<String> = Vec::new();
        if let Some(ns) = &namespace {
            parts.extend(["namespaces".to_string(), ns.clone()]);
        }
        parts.extend(resource.clone());
        parts.extend(name.clone());
        parts.extend(subresource.clone());
        let id = if parts.is_empty() {
            target.clone()
        } else {
            parts.join("/")
        };
        resources.push(Resource {
            id,
            kind: Some(format!(
                "Kubernetes/{}",
                resource.clone().unwrap_or_default()
            )),
            name,
        });
    }
    resources.extend(cluster_id.as_deref().and_then(resource_from_id));

    let code = first(&log, &[&["responseStatus", "code"]]);
    let status = match code.as_deref().and_then(|c| c.parse::<u16>().ok()) {
        Some(c) if c < 400 => OutcomeStatus::Success,
        Some(_) => OutcomeStatus::Failure,
        None => OutcomeStatus::Unknown,
    };
    let message = first(
        &log,
        &[
            &["responseStatus", "message"],
            &["responseStatus", "reason"],
        ],
    );

    Ok(Event {
        event_id: provider_id(&log, &[&["auditID"]], ctx),
        event_time: time,
        event_time_estimated: time_estimated,
        ingest_time: ctx.ingest_time,
        provider: Provider::Azure,
        class: EventClass::ApiActivity,
        account_id: cluster_id.as_deref().and_then(subscription_of),
        tenant_id: txt(record, &["tenantId"]).map(|t| t.to_ascii_lowercase()),
        region: txt(record, &["location"]),
        identity: k8s_identity(&log, cluster_id.as_deref()),
        action: Action {
            service: "Kubernetes".into(),
            operation: format!("{verb} {target}"),
            permission: permission(api_group.as_deref(), &target, &verb, subresource.as_deref()),
            category: category(&verb, resource.as_deref(), subresource.as_deref()),
        },
        resources,
        source,
        user_agent: txt(&log, &["userAgent"]),
        outcome: outcome(status, code, message),
        raw_ref: ctx.raw_ref(format),
    })
}

/// The Azure RBAC data action for the request, so AKS calls compare with Azure role definitions:
/// `Microsoft.ContainerService/managedClusters/[<apiGroup>/]<resource>[/<subresource>]/<read|write|delete|action>`
/// (`.../pods/exec/action`, `.../rbac.authorization.k8s.io/clusterrolebindings/write`).
fn permission(
    api_group: Option<&str>,
    target: &str,
    verb: &str,
    subresource: Option<&str>,
) -> String {
    let data_verb = if subresource.is_some_and(|s| EXEC_SUBRESOURCES.contains(&s)) {
        "action"
    } else {
        match verb {
            "get" | "list" | "watch" => "read",
            "delete" | "deletecollection" => "delete",
            "create" | "update" | "patch" => "write",
            _ => "action",
        }
    };
    match api_group.filter(|g| !g.is_empty()) {
        Some(group) => {
            format!("Microsoft.ContainerService/managedClusters/{group}/{target}/{data_verb}")
        }
        None => format!("Microsoft.ContainerService/managedClusters/{target}/{data_verb}"),
    }
}

fn category(verb: &str, resource: Option<&str>, subresource: Option<&str>) -> ActionCategory {
    let mutating = matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection" | "bind" | "escalate"
    );
    if subresource.is_some_and(|s| EXEC_SUBRESOURCES.contains(&s)) {
        return ActionCategory::Other;
    }
    if mutating && resource.is_some_and(|r| RBAC_RESOURCES.contains(&r)) {
        return ActionCategory::PermissionChange;
    }
    // Minting service account tokens and client certificates creates credentials.
    if verb == "create"
        && (subresource == Some("token") || resource == Some("certificatesigningrequests"))
    {
        return ActionCategory::PermissionChange;
    }
    match verb {
        "get" => ActionCategory::Read,
        "list" | "watch" => ActionCategory::List,
        "create" | "update" | "patch" => ActionCategory::Write,
        "delete" | "deletecollection" => ActionCategory::Delete,
        _ => ActionCategory::Other,
    }
}

/// Entra principals (AKS with Entra integration writes a UPN or object id) share the `azure:` key of their
/// Activity Log calls; cluster-local users, service accounts and nodes are scoped to their cluster.
fn k8s_identity(log: &Value, cluster_id: Option<&str>) -> Identity {
    let Some(username) = get(log, "user").and_then(|u| txt(u, &["username"])) else {
        return Identity::new(
            format!("azure-aks:{}:unknown", cluster_scope(cluster_id)),
            IdentityKind::Unknown,
        );
    };
    if username == "system:anonymous" {
        return Identity::new("anonymous:azure", IdentityKind::Anonymous);
    }
    let mut identity = if is_email(&username) {
        Identity::new(
            format!("azure:{}", username.to_ascii_lowercase()),
            IdentityKind::HumanUser,
        )
    } else if is_guid(&username) {
        Identity::new(
            format!("azure:{}", normalize_guid(&username)),
            IdentityKind::Unknown,
        )
    } else {
        let kind = if username.starts_with("system:serviceaccount:") {
            IdentityKind::ServiceAccount
        } else if username.starts_with("system:") || username == "aksService" {
            IdentityKind::ProviderService
        } else {
            // Local accounts (`masterclient`, `clusterAdmin`) and certificate users: a person or a pipeline.
            IdentityKind::Unknown
        };
        Identity::new(
            format!("azure-aks:{}:{username}", cluster_scope(cluster_id)),
            kind,
        )
    };
    identity.display_name = Some(username);
    identity
}

fn cluster_scope(cluster_id: Option<&str>) -> String {
    cluster_id
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "unknown-cluster".into())
}

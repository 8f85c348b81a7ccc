//! Envelopes that carry one record (EventBridge, lookup-events, Pub/Sub push, CloudEvents) and
//! documents known not to be events.

use base64::Engine as _;
use serde_json::Value;
use vigil_schemas::Provider;

use crate::json::get_ci;
use crate::record::RecordError;

pub(super) enum Envelope {
    None,
    Inner(Value, &'static str),
    CloudTrailText(String, &'static str),
    Refused(Option<Provider>, &'static str, RecordError),
}

/// Single-record envelopes: EventBridge, lookup-events items, Pub/Sub push, CloudEvents; and documents
/// that are known not to be events (CloudTrail digests, other EventBridge detail types).
pub(super) fn unwrap_envelope(v: &Value) -> Envelope {
    if let (Some(detail_type), Some(detail)) = (get_ci(v, "detail-type"), get_ci(v, "detail")) {
        let detail_type = detail_type.as_str().unwrap_or("");
        if detail_type.contains("via CloudTrail") || (detail.is_object() && is_cloudtrail(detail)) {
            return Envelope::Inner(detail.clone(), "eventbridge");
        }
        return Envelope::Refused(
            Some(Provider::Aws),
            "eventbridge",
            RecordError::not_an_event(format!(
                "EventBridge event of type `{detail_type}` is not a CloudTrail record"
            )),
        );
    }
    if let Some(Value::String(text)) = get_ci(v, "CloudTrailEvent") {
        return Envelope::CloudTrailText(text.clone(), "lookup_events");
    }
    if get_ci(v, "digestStartTime").is_some() && get_ci(v, "digestEndTime").is_some() {
        return Envelope::Refused(
            Some(Provider::Aws),
            "cloudtrail_digest",
            RecordError::not_an_event(
                "CloudTrail digest file: log-integrity metadata, not activity",
            ),
        );
    }
    if let (Some(message), Some(_)) = (get_ci(v, "message"), get_ci(v, "subscription")) {
        let Some(data) = get_ci(message, "data").and_then(Value::as_str) else {
            return Envelope::Refused(
                None,
                "pubsub_push",
                RecordError::missing(Provider::Gcp, "message.data"),
            );
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(data.trim()));
        return match decoded.map(|bytes| serde_json::from_slice::<Value>(&bytes)) {
            Ok(Ok(inner)) => Envelope::Inner(inner, "pubsub_push"),
            Ok(Err(e)) => Envelope::Refused(
                Some(Provider::Gcp),
                "pubsub_push",
                RecordError::bad_value(format!("Pub/Sub message data is not JSON: {e}")),
            ),
            Err(e) => Envelope::Refused(
                Some(Provider::Gcp),
                "pubsub_push",
                RecordError::bad_value(format!("Pub/Sub message data is not base64: {e}")),
            ),
        };
    }
    if let Some(data) = get_ci(v, "data") {
        let is_cloudevent =
            get_ci(v, "specversion").is_some() || get_ci(v, "datacontenttype").is_some();
        if is_cloudevent && data.is_object() {
            return Envelope::Inner(data.clone(), "cloudevent");
        }
    }
    Envelope::None
}

/// CloudTrail records are recognised by `eventName` or `eventVersion` (or the Insights type) beside any
/// field that only CloudTrail uses, so hand-trimmed records are still read as CloudTrail (and a record
/// without `eventName` is then refused as having no operation).
pub(super) fn is_cloudtrail(v: &Value) -> bool {
    const CLOUDTRAIL_ONLY: [&str; 8] = [
        "eventSource",
        "eventVersion",
        "userIdentity",
        "awsRegion",
        "requestParameters",
        "responseElements",
        "recipientAccountId",
        "sourceIPAddress",
    ];
    let insight = get_ci(v, "eventType").and_then(Value::as_str) == Some("AwsCloudTrailInsight");
    let names_itself = get_ci(v, "eventName").is_some() || get_ci(v, "eventVersion").is_some();
    (names_itself || insight) && CLOUDTRAIL_ONLY.iter().any(|k| get_ci(v, k).is_some())
}

/// Azure REST API specification examples wrap a list response as `responses."200".body.value`.
pub(super) fn rest_example_records(responses: &str) -> Option<Vec<Value>> {
    let v: Value = serde_json::from_str(responses).ok()?;
    let ok = get_ci(&v, "200")?;
    let list = get_ci(get_ci(ok, "body")?, "value")?.as_array()?;
    Some(list.clone())
}

pub(super) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

//! The event as OCSF 1.3 JSON: API Activity (6003) or Authentication (3002).
//! Vigil-specific fields that OCSF has no place for go under `unmapped.vigil`.

use serde_json::{Map, Value, json};

use crate::event::{ActionCategory, Event, EventClass, OutcomeStatus, Provider};

pub const OCSF_VERSION: &str = "1.3.0";

impl Event {
    /// The event as an OCSF object.
    pub fn to_ocsf(&self) -> Value {
        let (class_name, category_uid, category_name) = match self.class {
            EventClass::ApiActivity => ("API Activity", 6, "Application Activity"),
            EventClass::Authentication => ("Authentication", 3, "Identity & Access Management"),
        };
        let activity_id = activity_id(self.class, self.action.category);
        let (status_id, status) = match self.outcome.status {
            OutcomeStatus::Success => (1, "Success"),
            OutcomeStatus::Failure => (2, "Failure"),
            OutcomeStatus::Unknown => (0, "Unknown"),
        };
        let class_uid = self.class.class_uid();

        let mut user = Map::new();
        user.insert("uid".into(), json!(self.identity.key));
        user.insert("type".into(), json!(self.identity.kind.as_str()));
        if let Some(name) = &self.identity.display_name {
            user.insert("name".into(), json!(name));
        }
        if let Some(credential) = &self.identity.credential_id {
            user.insert("credential_uid".into(), json!(credential));
        }
        let mut session = Map::new();
        if let Some(name) = &self.identity.session_name {
            session.insert("uid".into(), json!(name));
        }
        if let Some(mfa) = self.identity.mfa {
            session.insert("is_mfa".into(), json!(mfa));
        }
        let mut actor = Map::new();
        actor.insert("user".into(), Value::Object(user.clone()));
        if !session.is_empty() {
            actor.insert("session".into(), Value::Object(session));
        }
        if let Some(link) = self
            .identity
            .chain
            .iter()
            .find(|l| l.relation == crate::ChainRelation::InvokedBy)
        {
            actor.insert("invoked_by".into(), json!(link.principal));
        }

        // A network endpoint needs one of ip, name, hostname… (OCSF `at_least_one`): a source that is
        // not an IP ("AWS Internal", a service's host name) goes in `name`; none at all, `unknown`.
        let mut src = Map::new();
        if let Some(ip) = self.source.ip {
            src.insert("ip".into(), json!(ip.to_string()));
        } else if let Some(raw) = &self.source.raw {
            src.insert("name".into(), json!(raw));
        }

        let mut api = json!({
            "operation": self.action.operation,
            "service": { "name": self.action.service },
        });
        if self.outcome.error_code.is_some() || self.outcome.error_message.is_some() {
            api["response"] = json!({
                "error": self.outcome.error_code,
                "error_message": self.outcome.error_message,
            });
        }

        let mut out = json!({
            "class_uid": class_uid,
            "class_name": class_name,
            "category_uid": category_uid,
            "category_name": category_name,
            "activity_id": activity_id,
            "type_uid": class_uid * 100 + activity_id,
            "severity_id": 1,
            "severity": "Informational",
            "time": self.event_time.timestamp_millis(),
            "status_id": status_id,
            "status": status,
            "metadata": {
                "version": OCSF_VERSION,
                "uid": self.event_id,
                "logged_time": self.ingest_time.timestamp_millis(),
                "log_provider": self.provider.as_str(),
                "log_name": self.raw_ref.format,
                // `cloud` and `api` (on Authentication) belong to OCSF's cloud profile.
                "profiles": ["cloud"],
                "product": { "name": "Vigil", "vendor_name": "Vigil", "version": env!("CARGO_PKG_VERSION") },
            },
            "actor": Value::Object(actor),
            "api": api,
            "cloud": {
                "provider": cloud_name(self.provider),
                "account": self.account_id.as_ref().map(|a| json!({ "uid": a })),
                "org": self.tenant_id.as_ref().map(|t| json!({ "uid": t })),
                "region": self.region,
            },
            "resources": self.resources.iter().map(|r| json!({ "uid": r.id, "type": r.kind, "name": r.name })).collect::<Vec<_>>(),
            "unmapped": { "vigil": {
                "permission": self.action.permission,
                "action_category": self.action.category.as_str(),
                "event_time_estimated": self.event_time_estimated,
                "identity_chain": self.identity.chain,
                "raw_ref": self.raw_ref,
            }},
        });
        if src.is_empty() {
            // API Activity requires a source endpoint; the record did not name one.
            src.insert("name".into(), json!("unknown"));
        }
        out["src_endpoint"] = Value::Object(src);
        if let Some(agent) = &self.user_agent {
            out["http_request"] = json!({ "user_agent": agent });
        }
        if let Some(code) = &self.outcome.error_code {
            out["status_code"] = json!(code);
        }
        if let Some(message) = &self.outcome.error_message {
            out["status_detail"] = json!(message);
        }
        if self.class == EventClass::Authentication {
            // Authentication has no `resources`; it needs `service` or `dst_endpoint` instead.
            if let Some(Value::Array(resources)) =
                out.as_object_mut().and_then(|o| o.remove("resources"))
                && !resources.is_empty()
            {
                out["unmapped"]["vigil"]["resources"] = Value::Array(resources);
            }
            out["service"] = json!({ "name": self.action.service });
            out["user"] = Value::Object(user);
            if let Some(mfa) = self.identity.mfa {
                out["is_mfa"] = json!(mfa);
            }
        }
        strip_nulls(&mut out);
        out
    }
}

fn cloud_name(p: Provider) -> &'static str {
    match p {
        Provider::Aws => "AWS",
        Provider::Azure => "Azure",
        Provider::Gcp => "GCP",
    }
}

/// OCSF activity ids: API Activity 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other; Authentication 1 Logon.
fn activity_id(class: EventClass, category: ActionCategory) -> u32 {
    match (class, category) {
        (EventClass::Authentication, _) => 1,
        (_, ActionCategory::Read | ActionCategory::List) => 2,
        (_, ActionCategory::Write | ActionCategory::PermissionChange) => 3,
        (_, ActionCategory::Delete) => 4,
        (_, ActionCategory::Login | ActionCategory::Other) => 99,
    }
}

fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, child| !child.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

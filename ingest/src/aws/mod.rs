//! AWS CloudTrail records. Parsed with a typed, borrowing struct (no intermediate JSON tree) because
//! CloudTrail is the volume leader; every field is lenient (see [`Text`]) so odd types do not fail a record.

mod action;
pub(crate) mod dom;
mod identity;

use serde::Deserialize;
use vigil_schemas::{
    Action, ActionCategory, Event, EventClass, IdentityKind, Outcome, OutcomeStatus, Provider,
    Resource, SourceEndpoint,
};

use crate::json::parse_time_str;
use crate::record::{RecordContext, RecordError, RecordResult};
use crate::text::{LenientList, LenientObject, Text, opt, owned};

pub(crate) use action::{category, permission};
use identity::{identity, last_segment};

/// The record format name of a CloudTrail event.
pub(crate) const FORMAT: &str = "cloudtrail";

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct CloudTrailRecord<'a> {
    /// Present only on an S3 delivery file: the probe that reads any document as a CloudTrail record
    /// in one pass also picks up the file's records.
    #[serde(borrow, rename = "Records")]
    pub(crate) records: Option<Vec<CloudTrailRecord<'a>>>,
    #[serde(borrow, alias = "eventversion")]
    pub(crate) event_version: Option<Text<'a>>,
    #[serde(borrow, alias = "useridentity")]
    user_identity: Option<Box<UserIdentity<'a>>>,
    #[serde(borrow, alias = "eventtime")]
    pub(crate) event_time: Option<Text<'a>>,
    #[serde(borrow, alias = "eventsource")]
    pub(crate) event_source: Option<Text<'a>>,
    #[serde(borrow, alias = "eventname")]
    pub(crate) event_name: Option<Text<'a>>,
    #[serde(borrow, alias = "awsregion")]
    aws_region: Option<Text<'a>>,
    #[serde(borrow, rename = "sourceIPAddress", alias = "sourceipaddress")]
    source_ip_address: Option<Text<'a>>,
    #[serde(borrow, alias = "useragent")]
    user_agent: Option<Text<'a>>,
    #[serde(borrow, alias = "errorcode")]
    error_code: Option<Text<'a>>,
    #[serde(borrow, alias = "errormessage")]
    error_message: Option<Text<'a>>,
    #[serde(borrow, rename = "eventID", alias = "eventid")]
    event_id: Option<Text<'a>>,
    #[serde(borrow, alias = "recipientaccountid")]
    recipient_account_id: Option<Text<'a>>,
    #[serde(borrow, alias = "readonly")]
    read_only: Option<Text<'a>>,
    #[serde(borrow, alias = "requestparameters")]
    request_parameters: LenientObject<TargetParameters<'a>>,
    #[serde(borrow, alias = "responseelements")]
    response_elements: LenientObject<SignInVerdict<'a>>,
    #[serde(borrow, alias = "additionaleventdata")]
    additional_event_data: LenientObject<SignInDetails<'a>>,
    #[serde(borrow)]
    resources: LenientList<ListedResource<'a>>,
    #[serde(borrow, alias = "eventtype")]
    event_type: Option<Text<'a>>,
    #[serde(borrow, alias = "serviceeventdetails")]
    service_event_details: LenientObject<SignInVerdict<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct UserIdentity<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Text<'a>>,
    #[serde(borrow)]
    principal_id: Option<Text<'a>>,
    #[serde(borrow)]
    arn: Option<Text<'a>>,
    #[serde(borrow)]
    account_id: Option<Text<'a>>,
    #[serde(borrow)]
    access_key_id: Option<Text<'a>>,
    #[serde(borrow)]
    user_name: Option<Text<'a>>,
    #[serde(borrow)]
    invoked_by: Option<Text<'a>>,
    #[serde(borrow)]
    identity_provider: Option<Text<'a>>,
    #[serde(borrow)]
    credential_id: Option<Text<'a>>,
    #[serde(borrow)]
    session_context: Option<SessionContext<'a>>,
    #[serde(borrow)]
    on_behalf_of: Option<OnBehalfOf<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SessionContext<'a> {
    #[serde(borrow)]
    session_issuer: Option<SessionIssuer<'a>>,
    #[serde(borrow)]
    attributes: Option<SessionAttributes<'a>>,
    #[serde(borrow)]
    web_id_federation_data: Option<WebIdFederation<'a>>,
    #[serde(borrow)]
    source_identity: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SessionIssuer<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<Text<'a>>,
    #[serde(borrow)]
    arn: Option<Text<'a>>,
    #[serde(borrow)]
    user_name: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SessionAttributes<'a> {
    #[serde(borrow)]
    mfa_authenticated: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WebIdFederation<'a> {
    #[serde(borrow)]
    federated_provider: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct OnBehalfOf<'a> {
    #[serde(borrow)]
    user_id: Option<Text<'a>>,
    #[serde(borrow)]
    identity_store_arn: Option<Text<'a>>,
}

/// Request parameters that name the resource or principal an action targets.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct TargetParameters<'a> {
    #[serde(borrow)]
    user_name: Option<Text<'a>>,
    #[serde(borrow)]
    role_name: Option<Text<'a>>,
    #[serde(borrow)]
    group_name: Option<Text<'a>>,
    #[serde(borrow)]
    policy_arn: Option<Text<'a>>,
    #[serde(borrow)]
    role_arn: Option<Text<'a>>,
    #[serde(borrow)]
    bucket_name: Option<Text<'a>>,
    #[serde(borrow)]
    secret_id: Option<Text<'a>>,
    #[serde(borrow)]
    function_name: Option<Text<'a>>,
    #[serde(borrow)]
    snapshot_id: Option<Text<'a>>,
    #[serde(borrow)]
    image_id: Option<Text<'a>>,
    #[serde(borrow)]
    trail_name: Option<Text<'a>>,
    #[serde(borrow)]
    name: Option<Text<'a>>,
}

/// Where sign-in events put their verdict: `responseElements` or `serviceEventDetails`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignInVerdict<'a> {
    #[serde(borrow, rename = "ConsoleLogin")]
    console_login: Option<Text<'a>>,
    #[serde(borrow, rename = "UserAuthentication")]
    user_authentication: Option<Text<'a>>,
    #[serde(borrow, rename = "CredentialVerification")]
    credential_verification: Option<Text<'a>>,
    #[serde(borrow, rename = "CredentialChallenge")]
    credential_challenge: Option<Text<'a>>,
    #[serde(borrow, rename = "CheckMfa")]
    check_mfa: Option<Text<'a>>,
}

impl SignInVerdict<'_> {
    fn failed(&self) -> bool {
        [
            &self.console_login,
            &self.user_authentication,
            &self.credential_verification,
            &self.credential_challenge,
            &self.check_mfa,
        ]
        .into_iter()
        .any(|v| opt(v).is_some_and(|s| s.eq_ignore_ascii_case("failure")))
    }
}

/// The parts of a sign-in event's `additionalEventData` that say who and how.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignInDetails<'a> {
    #[serde(borrow, rename = "MFAUsed")]
    mfa_used: Option<Text<'a>>,
    #[serde(borrow, rename = "UserName")]
    user_name: Option<Text<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct ListedResource<'a> {
    #[serde(borrow, rename = "ARN", alias = "arn")]
    arn: Option<Text<'a>>,
    #[serde(borrow, rename = "type")]
    kind: Option<Text<'a>>,
}

impl CloudTrailRecord<'_> {
    /// True when the record has the fields that make it a CloudTrail event rather than some other
    /// document that happens to parse into this struct.
    pub(crate) fn looks_like_cloudtrail(&self) -> bool {
        opt(&self.event_name).is_some()
            && (opt(&self.event_source).is_some() || opt(&self.event_version).is_some())
    }
}

/// Normalizes one CloudTrail record.
pub(crate) fn normalize(r: &CloudTrailRecord<'_>, ctx: &RecordContext<'_>) -> RecordResult {
    if opt(&r.event_type) == Some("AwsCloudTrailInsight") {
        return Err(RecordError::not_an_event(
            "CloudTrail Insights event: a statistical summary of API call rates, not a call by an identity",
        ));
    }
    let Some(event_name) = opt(&r.event_name) else {
        return Err(RecordError::not_an_event(
            "CloudTrail record without eventName: no operation, not an activity record",
        ));
    };
    let time_text = opt(&r.event_time);
    let parsed = match time_text {
        Some(text) => Some(parse_time_str(text).ok_or_else(|| {
            RecordError::bad_value(format!("aws record has an unreadable eventTime `{text}`"))
        })?),
        None => None,
    };
    let (event_time, event_time_estimated) = ctx.time_or_ingest(parsed);
    let event_source = opt(&r.event_source).unwrap_or("unknown.amazonaws.com");

    let identity = identity(r, event_source);
    let account_id = opt(&r.recipient_account_id)
        .or_else(|| r.user_identity.as_ref().and_then(|u| opt(&u.account_id)))
        .map(str::to_string);
    let no_targets = TargetParameters::default();
    let targets = r.request_parameters.0.as_ref().unwrap_or(&no_targets);
    let category = category(event_source, event_name, opt(&r.read_only));
    let class = if category == ActionCategory::Login {
        EventClass::Authentication
    } else {
        EventClass::ApiActivity
    };

    let mut identity = identity;
    if event_source.starts_with("signin.")
        && let Some(details) = &r.additional_event_data.0
    {
        if let Some(mfa) = opt(&details.mfa_used).and_then(yes_no) {
            identity.mfa = Some(mfa);
        }
        // Sign-in events name the person in additionalEventData when userIdentity only has opaque ids.
        if let Some(user) = opt(&details.user_name)
            && (identity.kind == IdentityKind::HumanUser || identity.display_name.is_none())
        {
            identity.display_name = Some(user.to_string());
        }
    }

    Ok(Event {
        event_id: match opt(&r.event_id) {
            Some(id) => id.to_string(),
            None => ctx.raw.map_or_else(
                || synthetic_id(r, time_text.unwrap_or("")),
                Event::content_hash_id,
            ),
        },
        event_time,
        event_time_estimated,
        ingest_time: ctx.ingest_time,
        provider: Provider::Aws,
        class,
        resources: resources(r, targets, account_id.as_deref()),
        account_id,
        tenant_id: None,
        region: owned(&r.aws_region),
        identity,
        action: Action {
            service: event_source.to_string(),
            operation: event_name.to_string(),
            permission: permission(event_source, event_name),
            category,
        },
        source: opt(&r.source_ip_address)
            .map(SourceEndpoint::from_raw)
            .unwrap_or_default(),
        user_agent: owned(&r.user_agent),
        outcome: outcome(r),
        raw_ref: ctx.raw_ref(FORMAT),
    })
}

fn synthetic_id(r: &CloudTrailRecord<'_>, time: &str) -> String {
    let basis = format!(
        "{}|{}|{}|{}|{}",
        time,
        opt(&r.event_source).unwrap_or(""),
        opt(&r.event_name).unwrap_or(""),
        r.user_identity
            .as_ref()
            .and_then(|u| opt(&u.arn).or(opt(&u.principal_id)))
            .unwrap_or(""),
        opt(&r.source_ip_address).unwrap_or(""),
    );
    Event::content_hash_id(basis.as_bytes())
}

fn yes_no(flag: &str) -> Option<bool> {
    match flag.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

fn outcome(r: &CloudTrailRecord<'_>) -> Outcome {
    if let Some(code) = opt(&r.error_code) {
        return Outcome {
            status: OutcomeStatus::Failure,
            error_code: Some(code.to_string()),
            error_message: owned(&r.error_message),
        };
    }
    // Sign-in failures carry no errorCode: the verdict is in responseElements or serviceEventDetails.
    let verdicts = [&r.response_elements.0, &r.service_event_details.0];
    if verdicts.into_iter().flatten().any(SignInVerdict::failed) {
        return Outcome {
            status: OutcomeStatus::Failure,
            error_code: Some("Failure".to_string()),
            error_message: owned(&r.error_message),
        };
    }
    match opt(&r.error_message) {
        Some(message) => Outcome {
            status: OutcomeStatus::Failure,
            error_code: None,
            error_message: Some(message.to_string()),
        },
        None => Outcome::success(),
    }
}

fn resources(
    r: &CloudTrailRecord<'_>,
    targets: &TargetParameters<'_>,
    account: Option<&str>,
) -> Vec<Resource> {
    let mut out: Vec<Resource> = Vec::new();
    if let Some(listed) = &r.resources.0 {
        for item in listed {
            if let Some(arn) = opt(&item.arn) {
                out.push(Resource {
                    id: arn.to_string(),
                    kind: owned(&item.kind),
                    name: last_segment(arn),
                });
            }
        }
    }
    let account = account.unwrap_or("");
    let push = |out: &mut Vec<Resource>, id: String, kind: &str, name: &str| {
        if !out.iter().any(|r| r.id == id) {
            out.push(Resource {
                id,
                kind: Some(kind.to_string()),
                name: Some(name.to_string()),
            });
        }
    };
    if let Some(user) = opt(&targets.user_name) {
        push(
            &mut out,
            format!("arn:aws:iam::{account}:user/{user}"),
            "AWS::IAM::User",
            user,
        );
    }
    if let Some(role) = opt(&targets.role_name) {
        push(
            &mut out,
            format!("arn:aws:iam::{account}:role/{role}"),
            "AWS::IAM::Role",
            role,
        );
    }
    if let Some(group) = opt(&targets.group_name) {
        push(
            &mut out,
            format!("arn:aws:iam::{account}:group/{group}"),
            "AWS::IAM::Group",
            group,
        );
    }
    for (arn, kind) in [
        (&targets.policy_arn, "AWS::IAM::Policy"),
        (&targets.role_arn, "AWS::IAM::Role"),
    ] {
        if let Some(arn) = opt(arn) {
            push(
                &mut out,
                arn.to_string(),
                kind,
                &last_segment(arn).unwrap_or_default(),
            );
        }
    }
    if let Some(bucket) = opt(&targets.bucket_name) {
        push(
            &mut out,
            format!("arn:aws:s3:::{bucket}"),
            "AWS::S3::Bucket",
            bucket,
        );
    }
    let named = [
        (&targets.secret_id, "AWS::SecretsManager::Secret"),
        (&targets.function_name, "AWS::Lambda::Function"),
        (&targets.snapshot_id, "AWS::EC2::Snapshot"),
        (&targets.image_id, "AWS::EC2::Image"),
        (&targets.trail_name, "AWS::CloudTrail::Trail"),
    ];
    for (value, kind) in named {
        if let Some(v) = opt(value) {
            push(
                &mut out,
                v.to_string(),
                kind,
                &last_segment(v).unwrap_or_else(|| v.to_string()),
            );
        }
    }
    if out.is_empty()
        && let Some(name) = opt(&targets.name)
    {
        let source = opt(&r.event_source).unwrap_or("");
        let kind = if source.starts_with("cloudtrail.") {
            "AWS::CloudTrail::Trail"
        } else {
            "name"
        };
        push(
            &mut out,
            name.to_string(),
            kind,
            &last_segment(name).unwrap_or_else(|| name.to_string()),
        );
    }
    out
}

#[cfg(test)]
mod dom_tests;
#[cfg(test)]
mod tests;

//! AWS CloudTrail records. Parsed with a typed, borrowing struct (no intermediate JSON tree) because
//! CloudTrail is the volume leader; every field is lenient (see [`Text`]) so odd types do not fail a record.

use serde::Deserialize;
use vigil_schemas::{
    Action, ActionCategory, ChainLink, ChainRelation, Event, EventClass, Identity, IdentityKind,
    Outcome, OutcomeStatus, Provider, Resource, SourceEndpoint,
};

use crate::json::parse_time_str;
use crate::record::{RecordContext, RecordError, RecordResult};
use crate::text::{LenientList, LenientObject, Text, opt, owned};

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

fn identity(r: &CloudTrailRecord<'_>, event_source: &str) -> Identity {
    let account = r
        .user_identity
        .as_ref()
        .and_then(|u| opt(&u.account_id))
        .or(opt(&r.recipient_account_id))
        .unwrap_or("unknown");
    let Some(u) = &r.user_identity else {
        return Identity::new(format!("unknown:aws:{account}"), IdentityKind::Unknown);
    };
    let arn = opt(&u.arn);
    let user_name = opt(&u.user_name);
    let issuer = u
        .session_context
        .as_ref()
        .and_then(|s| s.session_issuer.as_ref());
    let issuer_arn = issuer.and_then(|i| opt(&i.arn));
    let partition = arn.and_then(|a| a.split(':').nth(1)).unwrap_or("aws");

    let mut id = match opt(&u.kind).unwrap_or("") {
        "IAMUser" => {
            let key = arn.map(str::to_string).unwrap_or_else(|| {
                format!(
                    "arn:{partition}:iam::{account}:user/{}",
                    user_name.unwrap_or("unknown")
                )
            });
            let mut id = Identity::new(key, IdentityKind::HumanUser);
            id.display_name = user_name
                .map(str::to_string)
                .or_else(|| arn.and_then(last_segment));
            id
        }
        "Root" => {
            let key = arn
                .map(str::to_string)
                .unwrap_or_else(|| format!("arn:{partition}:iam::{account}:root"));
            let mut id = Identity::new(key, IdentityKind::Root);
            id.display_name = Some(user_name.unwrap_or("root").to_string());
            id
        }
        "AssumedRole" => assumed_role(
            arn,
            issuer_arn,
            issuer.and_then(|i| opt(&i.user_name)),
            opt(&u.principal_id),
        ),
        "FederatedUser" => {
            let key = arn.map(str::to_string).unwrap_or_else(|| {
                format!(
                    "arn:{partition}:sts::{account}:federated-user/{}",
                    user_name.unwrap_or("unknown")
                )
            });
            let mut id = Identity::new(key, IdentityKind::Federated);
            id.display_name = arn.and_then(last_segment);
            if let Some(issuer) = issuer_arn {
                id.chain.push(ChainLink {
                    relation: ChainRelation::AssumedFrom,
                    principal: issuer.to_string(),
                });
            }
            id
        }
        "AWSService" => {
            let service = opt(&u.invoked_by).unwrap_or(event_source);
            let mut id = Identity::new(
                format!("aws-service:{service}"),
                IdentityKind::ProviderService,
            );
            id.display_name = Some(service.to_string());
            id
        }
        "AWSAccount" => match opt(&u.principal_id) {
            Some("ANONYMOUS_PRINCIPAL") => Identity::new("anonymous:aws", IdentityKind::Anonymous),
            Some(principal) => {
                let mut id = Identity::new(
                    format!("aws-account:{account}:{principal}"),
                    IdentityKind::Role,
                );
                id.display_name = Some(principal.to_string());
                id
            }
            None => Identity::new(format!("aws-account:{account}"), IdentityKind::Role),
        },
        kind @ ("SAMLUser" | "WebIdentityUser") => {
            let provider = opt(&u.identity_provider).unwrap_or("unknown");
            let prefix = if kind == "SAMLUser" {
                "aws-saml"
            } else {
                "aws-web-identity"
            };
            let name = user_name.or(opt(&u.principal_id)).unwrap_or("unknown");
            let mut id = Identity::new(
                format!("{prefix}:{provider}/{name}"),
                IdentityKind::Federated,
            );
            id.display_name = Some(name.to_string());
            id.chain.push(ChainLink {
                relation: ChainRelation::FederatedThrough,
                principal: provider.to_string(),
            });
            id
        }
        "IdentityCenterUser" => {
            let behalf = u.on_behalf_of.as_ref();
            let user = behalf.and_then(|b| opt(&b.user_id)).unwrap_or("unknown");
            let store = behalf
                .and_then(|b| opt(&b.identity_store_arn))
                .unwrap_or("unknown");
            let mut id = Identity::new(
                format!("aws-identity-center:{store}/{user}"),
                IdentityKind::HumanUser,
            );
            id.display_name = Some(user.to_string());
            id
        }
        _ => match (arn, opt(&u.invoked_by), opt(&u.principal_id)) {
            // Service events with only `invokedBy` (non-API events such as KMS key rotation).
            (None, Some(service), None) if opt(&u.kind).is_none() => {
                let mut id = Identity::new(
                    format!("aws-service:{service}"),
                    IdentityKind::ProviderService,
                );
                id.display_name = Some(service.to_string());
                id
            }
            (Some(arn), _, _) => {
                let mut id = Identity::new(arn, IdentityKind::Unknown);
                id.display_name = user_name.map(str::to_string);
                id
            }
            (None, _, principal) => {
                let who = user_name.or(principal).unwrap_or("unknown");
                let mut id = Identity::new(
                    format!("unknown:aws:{account}:{who}"),
                    IdentityKind::Unknown,
                );
                id.display_name = user_name.map(str::to_string);
                id
            }
        },
    };

    id.credential_id = owned(&u.access_key_id).or_else(|| owned(&u.credential_id));
    if id.mfa.is_none() {
        id.mfa = u
            .session_context
            .as_ref()
            .and_then(|s| s.attributes.as_ref())
            .and_then(|a| opt(&a.mfa_authenticated))
            .and_then(|m| match m.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            });
    }
    if let Some(service) = opt(&u.invoked_by)
        && id.kind != IdentityKind::ProviderService
    {
        id.chain.push(ChainLink {
            relation: ChainRelation::InvokedBy,
            principal: service.to_string(),
        });
    }
    if let Some(ctx) = &u.session_context {
        if let Some(provider) = ctx
            .web_id_federation_data
            .as_ref()
            .and_then(|w| opt(&w.federated_provider))
        {
            id.chain.push(ChainLink {
                relation: ChainRelation::FederatedThrough,
                principal: provider.to_string(),
            });
        }
        if id.session_name.is_none() {
            id.session_name = owned(&ctx.source_identity);
        }
    }
    id
}

/// A role session: keyed by the role, except where the session names a person (IAM Identity Center
/// permission sets, SAML and web identity sessions), which are keyed per person.
fn assumed_role(
    arn: Option<&str>,
    issuer_arn: Option<&str>,
    issuer_name: Option<&str>,
    principal_id: Option<&str>,
) -> Identity {
    // arn:aws:sts::111122223333:assumed-role/RoleName/session-name
    let from_session_arn = arn.and_then(|a| {
        let (prefix, rest) = a.split_once(":assumed-role/")?;
        let (role, session) = rest.split_once('/')?;
        let prefix = prefix.replacen(":sts:", ":iam:", 1);
        Some((
            format!("{prefix}:role/{role}"),
            role.to_string(),
            session.to_string(),
        ))
    });
    let session = from_session_arn
        .as_ref()
        .map(|(_, _, s)| s.clone())
        .or_else(|| {
            principal_id
                .and_then(|p| p.split_once(':'))
                .map(|(_, s)| s.to_string())
        });
    let role_arn = issuer_arn
        .map(str::to_string)
        .or_else(|| from_session_arn.as_ref().map(|(r, _, _)| r.clone()))
        .or_else(|| principal_id.map(|p| format!("aws-role:{}", p.split(':').next().unwrap_or(p))))
        .unwrap_or_else(|| "aws-role:unknown".to_string());
    let role_name = issuer_name
        .map(str::to_string)
        .or_else(|| from_session_arn.as_ref().map(|(_, r, _)| r.clone()))
        .or_else(|| last_segment(&role_arn));

    let per_person = role_name
        .as_deref()
        .is_some_and(|r| r.starts_with("AWSReservedSSO_"));
    let mut id = match (&session, per_person) {
        (Some(s), true) => Identity::new(format!("{role_arn}/{s}"), IdentityKind::Federated),
        _ => Identity::new(role_arn.clone(), IdentityKind::RoleSession),
    };
    id.display_name = role_name;
    id.session_name = session;
    id.chain.push(ChainLink {
        relation: ChainRelation::AssumedFrom,
        principal: role_arn,
    });
    id
}

fn last_segment(arn: &str) -> Option<String> {
    arn.rsplit(['/', ':'])
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
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

/// IAM action name of an API event: `iam:CreateAccessKey`. Service prefixes follow the IAM service
/// authorization reference where it differs from the endpoint name; dated API versions are removed
/// (`UpdateFunctionCode20150331v2` is `lambda:UpdateFunctionCode`).
pub(crate) fn permission(event_source: &str, event_name: &str) -> String {
    let host = event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(event_source);
    let prefix = match host {
        "monitoring" => "cloudwatch",
        "email" => "ses",
        "elasticmapreduce" => "elasticmapreduce",
        "elasticfilesystem" => "elasticfilesystem",
        "s3-control" => "s3",
        "cloudhsmv2" => "cloudhsm",
        "sso-directory" => "sso-directory",
        h => h.split('.').next().unwrap_or(h),
    };
    format!("{prefix}:{}", strip_api_version(event_name))
}

fn strip_api_version(name: &str) -> &str {
    let bytes = name.as_bytes();
    // Lambda: 20150331 or 20150331v2; CloudFront: 2020_05_31.
    let mut end = bytes.len();
    if end > 2 && bytes[end - 2] == b'v' && bytes[end - 1].is_ascii_digit() {
        end -= 2;
    }
    let tail = &name[..end];
    let digits_or_underscore = tail
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_digit() || *b == b'_')
        .count();
    if digits_or_underscore >= 8 && digits_or_underscore < tail.len() {
        &tail[..tail.len() - digits_or_underscore]
    } else {
        name
    }
}

const LOGIN_EVENTS: [&str; 12] = [
    "ConsoleLogin",
    "CheckMfa",
    "UserAuthentication",
    "CredentialChallenge",
    "CredentialVerification",
    "SwitchRole",
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "GetSessionToken",
    "GetFederationToken",
    "ExternalIdPDirectoryLogin",
];

/// Coarse category of a CloudTrail event from its name's verb, with IAM and policy changes lifted to
/// `permission_change`.
pub(crate) fn category(
    event_source: &str,
    event_name: &str,
    read_only: Option<&str>,
) -> ActionCategory {
    if LOGIN_EVENTS.contains(&event_name) {
        return ActionCategory::Login;
    }
    let verb_end = event_name
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_ascii_uppercase())
        .map_or(event_name.len(), |(i, _)| i);
    let verb = &event_name[..verb_end];
    let is_iam = event_source.starts_with("iam.") || event_source.starts_with("sso.");
    let changes = !matches!(
        verb,
        "Get" | "List" | "Describe" | "Head" | "Lookup" | "Search" | "BatchGet" | "Simulate"
    );
    let touches_access = [
        "Policy",
        "Permission",
        "Acl",
        "AccessKey",
        "LoginProfile",
        "Grant",
        "Trust",
    ]
    .iter()
    .any(|w| event_name.contains(w))
        || matches!(
            event_name,
            "ModifySnapshotAttribute" | "ModifyImageAttribute" | "ModifyDBSnapshotAttribute"
        )
        || (is_iam && matches!(verb, "Attach" | "Detach" | "Add" | "Remove"));
    if changes && touches_access {
        return ActionCategory::PermissionChange;
    }
    match verb {
        "Get" | "Describe" | "Head" | "Lookup" | "BatchGet" | "Select" | "Retrieve"
        | "Download" | "Decrypt" | "Generate" | "Read" | "Check" | "Validate" | "Simulate"
        | "Estimate" | "Preview" | "Filter" => ActionCategory::Read,
        "List" | "Search" | "Scan" | "Query" => ActionCategory::List,
        "Delete" | "Remove" | "Terminate" | "Purge" | "Deregister" | "Destroy" | "Deactivate"
        | "BatchDelete" => ActionCategory::Delete,
        "Create" | "Put" | "Update" | "Modify" | "Run" | "Start" | "Stop" | "Attach" | "Detach"
        | "Associate" | "Disassociate" | "Tag" | "Untag" | "Set" | "Enable" | "Disable"
        | "Register" | "Copy" | "Upload" | "Import" | "Export" | "Restore" | "Reboot" | "Add"
        | "Authorize" | "Revoke" | "Cancel" | "Reset" | "Change" | "Replace" | "Send"
        | "Publish" | "Invoke" | "Rotate" | "Apply" | "Accept" | "Reject" | "Allocate"
        | "Release" | "Request" | "Submit" | "Upgrade" | "Activate" | "Complete" | "Initiate"
        | "Encrypt" | "Schedule" | "Execute" | "Leave" | "Invite" | "Move" | "Batch" | "Rename"
        | "Resize" => ActionCategory::Write,
        _ if read_only.is_some_and(|r| r.eq_ignore_ascii_case("true")) => ActionCategory::Read,
        _ => ActionCategory::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn ctx() -> RecordContext<'static> {
        RecordContext {
            source: "test.json",
            byte_offset: 0,
            record_index: 0,
            envelope: None,
            ingest_time: Utc::now(),
            raw: None,
        }
    }

    fn parse(text: &str) -> Result<Event, String> {
        let record: CloudTrailRecord<'_> = serde_json::from_str(text).map_err(|e| e.to_string())?;
        normalize(&record, &ctx()).map_err(|e| e.to_string())
    }

    #[test]
    fn assumed_role_is_keyed_by_role_with_session_kept() -> Result<(), String> {
        let e = parse(
            r#"{"eventVersion":"1.08","eventTime":"2024-03-01T03:12:00Z","eventSource":"iam.amazonaws.com",
            "eventName":"CreateAccessKey","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9",
            "userAgent":"aws-cli/2.15","eventID":"e-1","recipientAccountId":"111122223333",
            "requestParameters":{"userName":"bob"},
            "userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:i-0abc","arn":"arn:aws:sts::111122223333:assumed-role/Deployer/i-0abc",
              "accountId":"111122223333","accessKeyId":"ASIAEXAMPLE",
              "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/Deployer","userName":"Deployer"},
                "attributes":{"mfaAuthenticated":"false","creationDate":"2024-03-01T03:00:00Z"}}}}"#,
        )?;
        assert_eq!(e.identity.key, "arn:aws:iam::111122223333:role/Deployer");
        assert_eq!(e.identity.kind, IdentityKind::RoleSession);
        assert_eq!(e.identity.session_name.as_deref(), Some("i-0abc"));
        assert_eq!(e.identity.credential_id.as_deref(), Some("ASIAEXAMPLE"));
        assert_eq!(e.identity.mfa, Some(false));
        assert_eq!(e.action.permission, "iam:CreateAccessKey");
        assert_eq!(e.action.category, ActionCategory::PermissionChange);
        assert_eq!(e.resources[0].id, "arn:aws:iam::111122223333:user/bob");
        assert_eq!(
            e.source.ip.map(|i| i.to_string()).as_deref(),
            Some("203.0.113.9")
        );
        assert_eq!(e.outcome.status, OutcomeStatus::Success);
        Ok(())
    }

    #[test]
    fn sso_sessions_are_keyed_per_person() -> Result<(), String> {
        let e = parse(
            r#"{"eventTime":"2024-03-01T03:12:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets",
            "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_abc/alice@example.com"}}"#,
        )?;
        assert_eq!(
            e.identity.key,
            "arn:aws:iam::1:role/AWSReservedSSO_Admin_abc/alice@example.com"
        );
        assert_eq!(e.identity.kind, IdentityKind::Federated);
        assert_eq!(e.action.category, ActionCategory::List);
        assert!(e.event_id.starts_with("sha256:"));
        Ok(())
    }

    #[test]
    fn failed_console_login_and_root() -> Result<(), String> {
        let e = parse(
            r#"{"eventTime":"2024-03-01T03:12:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin",
            "userIdentity":{"type":"Root","principalId":"111122223333","accountId":"111122223333"},
            "sourceIPAddress":"198.51.100.1","responseElements":{"ConsoleLogin":"Failure"},
            "additionalEventData":{"MFAUsed":"No"},"errorMessage":"Failed authentication"}"#,
        )?;
        assert_eq!(e.identity.key, "arn:aws:iam::111122223333:root");
        assert_eq!(e.identity.kind, IdentityKind::Root);
        assert_eq!(e.identity.mfa, Some(false));
        assert_eq!(e.class, EventClass::Authentication);
        assert_eq!(e.outcome.status, OutcomeStatus::Failure);
        assert_eq!(
            e.outcome.error_message.as_deref(),
            Some("Failed authentication")
        );
        Ok(())
    }

    #[test]
    fn services_anonymous_and_errors() -> Result<(), String> {
        let svc = parse(
            r#"{"eventTime":"2024-03-01T03:12:00Z","eventSource":"kms.amazonaws.com","eventName":"RotateKey",
            "userIdentity":{"accountId":"1","invokedBy":"AWS Internal"},"sourceIPAddress":"AWS Internal"}"#,
        )?;
        assert_eq!(svc.identity.key, "aws-service:AWS Internal");
        assert_eq!(svc.source.ip, None);
        assert_eq!(svc.source.raw.as_deref(), Some("AWS Internal"));
        let anon = parse(
            r#"{"eventTime":"2024-03-01T03:12:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject",
            "userIdentity":{"type":"AWSAccount","principalId":"ANONYMOUS_PRINCIPAL"},
            "errorCode":"AccessDenied","errorMessage":"Access Denied"}"#,
        )?;
        assert_eq!(anon.identity.key, "anonymous:aws");
        assert_eq!(anon.outcome.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(anon.outcome.status, OutcomeStatus::Failure);
        Ok(())
    }

    #[test]
    fn missing_time_is_estimated_and_bad_time_refused() -> Result<(), String> {
        let e = parse(
            r#"{"eventsource":"s3.amazonaws.com","eventname":"GetObject","awsregion":"eu-west-1"}"#,
        )?;
        assert!(e.event_time_estimated);
        assert_eq!(
            e.region.as_deref(),
            Some("eu-west-1"),
            "lower-cased keys are read"
        );
        let err = parse(
            r#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventTime":"redacted"}"#,
        );
        assert!(err.is_err_and(|e| e.contains("unreadable eventTime")));
        let insight =
            parse(r#"{"eventTime":"2024-01-01T00:00:00Z","eventType":"AwsCloudTrailInsight"}"#);
        assert!(insight.is_err_and(|e| e.contains("Insights")));
        Ok(())
    }

    #[test]
    fn permissions_and_categories() {
        assert_eq!(
            permission("lambda.amazonaws.com", "UpdateFunctionCode20150331v2"),
            "lambda:UpdateFunctionCode"
        );
        assert_eq!(
            permission("cloudfront.amazonaws.com", "CreateDistribution2020_05_31"),
            "cloudfront:CreateDistribution"
        );
        assert_eq!(
            permission("monitoring.amazonaws.com", "PutMetricAlarm"),
            "cloudwatch:PutMetricAlarm"
        );
        assert_eq!(
            category("cloudtrail.amazonaws.com", "StopLogging", None),
            ActionCategory::Write
        );
        assert_eq!(
            category("cloudtrail.amazonaws.com", "DeleteTrail", None),
            ActionCategory::Delete
        );
        assert_eq!(
            category("iam.amazonaws.com", "AttachRolePolicy", None),
            ActionCategory::PermissionChange
        );
        assert_eq!(
            category("s3.amazonaws.com", "PutBucketPolicy", None),
            ActionCategory::PermissionChange
        );
        assert_eq!(
            category("ec2.amazonaws.com", "ModifySnapshotAttribute", None),
            ActionCategory::PermissionChange
        );
        assert_eq!(
            category("iam.amazonaws.com", "GetPolicy", None),
            ActionCategory::Read
        );
        assert_eq!(
            category("secretsmanager.amazonaws.com", "GetSecretValue", None),
            ActionCategory::Read
        );
        assert_eq!(
            category("sts.amazonaws.com", "AssumeRole", None),
            ActionCategory::Login
        );
        assert_eq!(
            category("x.amazonaws.com", "Frobnicate", Some("true")),
            ActionCategory::Read
        );
        assert_eq!(
            category("x.amazonaws.com", "A", None),
            ActionCategory::Other
        );
    }
}

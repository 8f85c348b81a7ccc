//! The fast path for whole CloudTrail documents: sonic-rs parses the document into its arena DOM (SIMD,
//! faster than serde_json merely skipping the same bytes), and one pass over each object's keys fills
//! the same [`CloudTrailRecord`] the serde path fills, so everything after is shared.
//!
//! The serde path is the reference: wherever it would refuse a shape (a `userIdentity` that is not an
//! object, a repeated key), this path returns `None` and the caller reads the document the careful way.

use std::borrow::Cow;

use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

use super::{
    CloudTrailRecord, ListedResource, OnBehalfOf, SessionAttributes, SessionContext, SessionIssuer,
    SignInDetails, SignInVerdict, TargetParameters, UserIdentity, WebIdFederation,
};
use crate::text::{LenientList, LenientObject, Text};

/// Parses `doc` (one JSON document) and reads it as a CloudTrail record or S3 delivery file.
pub(crate) fn parse(doc: &[u8]) -> Option<Value> {
    sonic_rs::from_slice::<Value>(doc).ok()
}

/// The records of an S3 delivery file (`{"Records": [...]}` and nothing CloudTrail-like beside it).
pub(crate) fn delivery_records(v: &Value) -> Option<&sonic_rs::Array> {
    let obj = v.as_object()?;
    let mut records = None;
    for (key, value) in obj.iter() {
        match key {
            "Records" if records.is_none() => records = Some(value.as_array()?),
            "Records" => return None,
            _ => {}
        }
    }
    records
}

/// Reads a parsed document as a CloudTrail record; `None` where the serde path would refuse it.
pub(crate) fn record(v: &Value) -> Option<CloudTrailRecord<'_>> {
    let obj = v.as_object()?;
    let mut r = CloudTrailRecord::default();
    let mut seen: u32 = 0;
    for (key, value) in obj.iter() {
        let field: u32 = match key {
            "Records" => {
                let items = match value.as_array() {
                    Some(items) => items,
                    None if value.is_null() => continue,
                    None => return None,
                };
                let mut records = Vec::with_capacity(items.len());
                for item in items.iter() {
                    records.push(record(item)?);
                }
                r.records = Some(records);
                0
            }
            "eventVersion" | "eventversion" => set(&mut r.event_version, value, 1),
            "userIdentity" | "useridentity" => {
                r.user_identity = strict(value, user_identity)?.map(Box::new);
                2
            }
            "eventTime" | "eventtime" => set(&mut r.event_time, value, 3),
            "eventSource" | "eventsource" => set(&mut r.event_source, value, 4),
            "eventName" | "eventname" => set(&mut r.event_name, value, 5),
            "awsRegion" | "awsregion" => set(&mut r.aws_region, value, 6),
            "sourceIPAddress" | "sourceipaddress" => set(&mut r.source_ip_address, value, 7),
            "userAgent" | "useragent" => set(&mut r.user_agent, value, 8),
            "errorCode" | "errorcode" => set(&mut r.error_code, value, 9),
            "errorMessage" | "errormessage" => set(&mut r.error_message, value, 10),
            "eventID" | "eventid" => set(&mut r.event_id, value, 11),
            "recipientAccountId" | "recipientaccountid" => {
                set(&mut r.recipient_account_id, value, 12)
            }
            "readOnly" | "readonly" => set(&mut r.read_only, value, 13),
            "requestParameters" | "requestparameters" => {
                r.request_parameters = lenient(value, target_parameters);
                14
            }
            "responseElements" | "responseelements" => {
                r.response_elements = lenient(value, verdict);
                15
            }
            "additionalEventData" | "additionaleventdata" => {
                r.additional_event_data = lenient(value, sign_in_details);
                16
            }
            "resources" => {
                r.resources = LenientList(value.as_array().map(|items| {
                    items
                        .iter()
                        .filter(|i| i.is_object())
                        .map(listed_resource)
                        .collect()
                }));
                17
            }
            "eventType" | "eventtype" => set(&mut r.event_type, value, 18),
            "serviceEventDetails" | "serviceeventdetails" => {
                r.service_event_details = lenient(value, verdict);
                19
            }
            _ => continue,
        };
        // serde refuses a repeated field; so does this path (the careful path then reports it).
        if seen & (1 << field) != 0 {
            return None;
        }
        seen |= 1 << field;
    }
    Some(r)
}

/// A scalar as lenient text, the way [`Text`] reads it: strings trimmed, numbers and booleans printed,
/// containers read as empty, null as absent.
fn text(v: &Value) -> Option<Text<'_>> {
    if let Some(s) = v.as_str() {
        return Some(Text(Cow::Borrowed(s.trim())));
    }
    if v.is_null() {
        return None;
    }
    if let Some(b) = v.as_bool() {
        return Some(Text(Cow::Owned(b.to_string())));
    }
    if let Some(n) = v.as_u64() {
        return Some(Text(Cow::Owned(n.to_string())));
    }
    if let Some(n) = v.as_i64() {
        return Some(Text(Cow::Owned(n.to_string())));
    }
    if let Some(n) = v.as_f64() {
        return Some(Text(Cow::Owned(n.to_string())));
    }
    Some(Text::default())
}

fn set<'v>(slot: &mut Option<Text<'v>>, value: &'v Value, field: u32) -> u32 {
    *slot = text(value);
    field
}

/// A nested object serde reads strictly: null is absent, an object is read, anything else refuses
/// the record (outer `None`).
fn strict<'v, T>(value: &'v Value, read: impl Fn(&'v Value) -> Option<T>) -> Option<Option<T>> {
    if value.is_null() {
        return Some(None);
    }
    if value.is_object() {
        read(value).map(Some)
    } else {
        None
    }
}

fn lenient<'v, T>(value: &'v Value, read: impl Fn(&'v Value) -> T) -> LenientObject<T> {
    LenientObject(if value.is_object() {
        Some(read(value))
    } else {
        None
    })
}

/// Calls `each` for every key of an object (exact names: nested CloudTrail objects are camelCase).
fn fields<'v>(v: &'v Value, mut each: impl FnMut(&str, &'v Value) -> Option<()>) -> Option<()> {
    for (key, value) in v.as_object()?.iter() {
        each(key, value)?;
    }
    Some(())
}

fn user_identity(v: &Value) -> Option<UserIdentity<'_>> {
    let mut u = UserIdentity::default();
    fields(v, |key, value| {
        match key {
            "type" => u.kind = text(value),
            "principalId" => u.principal_id = text(value),
            "arn" => u.arn = text(value),
            "accountId" => u.account_id = text(value),
            "accessKeyId" => u.access_key_id = text(value),
            "userName" => u.user_name = text(value),
            "invokedBy" => u.invoked_by = text(value),
            "identityProvider" => u.identity_provider = text(value),
            "credentialId" => u.credential_id = text(value),
            "sessionContext" => u.session_context = strict(value, session_context)?,
            "onBehalfOf" => u.on_behalf_of = strict(value, on_behalf_of)?,
            _ => {}
        }
        Some(())
    })?;
    Some(u)
}

fn session_context(v: &Value) -> Option<SessionContext<'_>> {
    let mut c = SessionContext::default();
    fields(v, |key, value| {
        match key {
            "sessionIssuer" => c.session_issuer = strict(value, session_issuer)?,
            "attributes" => {
                c.attributes = strict(value, |a| {
                    let mut attrs = SessionAttributes::default();
                    fields(a, |k, x| {
                        if k == "mfaAuthenticated" {
                            attrs.mfa_authenticated = text(x);
                        }
                        Some(())
                    })?;
                    Some(attrs)
                })?
            }
            "webIdFederationData" => {
                c.web_id_federation_data = strict(value, |w| {
                    let mut web = WebIdFederation::default();
                    fields(w, |k, x| {
                        if k == "federatedProvider" {
                            web.federated_provider = text(x);
                        }
                        Some(())
                    })?;
                    Some(web)
                })?
            }
            "sourceIdentity" => c.source_identity = text(value),
            _ => {}
        }
        Some(())
    })?;
    Some(c)
}

fn session_issuer(v: &Value) -> Option<SessionIssuer<'_>> {
    let mut i = SessionIssuer::default();
    fields(v, |key, value| {
        match key {
            "type" => i.kind = text(value),
            "arn" => i.arn = text(value),
            "userName" => i.user_name = text(value),
            _ => {}
        }
        Some(())
    })?;
    Some(i)
}

fn on_behalf_of(v: &Value) -> Option<OnBehalfOf<'_>> {
    let mut o = OnBehalfOf::default();
    fields(v, |key, value| {
        match key {
            "userId" => o.user_id = text(value),
            "identityStoreArn" => o.identity_store_arn = text(value),
            _ => {}
        }
        Some(())
    })?;
    Some(o)
}

fn target_parameters(v: &Value) -> TargetParameters<'_> {
    let mut t = TargetParameters::default();
    let _ = fields(v, |key, value| {
        let slot = match key {
            "userName" => &mut t.user_name,
            "roleName" => &mut t.role_name,
            "groupName" => &mut t.group_name,
            "policyArn" => &mut t.policy_arn,
            "roleArn" => &mut t.role_arn,
            "bucketName" => &mut t.bucket_name,
            "secretId" => &mut t.secret_id,
            "functionName" => &mut t.function_name,
            "snapshotId" => &mut t.snapshot_id,
            "imageId" => &mut t.image_id,
            "trailName" => &mut t.trail_name,
            "name" => &mut t.name,
            _ => return Some(()),
        };
        *slot = text(value);
        Some(())
    });
    t
}

fn verdict(v: &Value) -> SignInVerdict<'_> {
    let mut s = SignInVerdict::default();
    let _ = fields(v, |key, value| {
        let slot = match key {
            "ConsoleLogin" => &mut s.console_login,
            "UserAuthentication" => &mut s.user_authentication,
            "CredentialVerification" => &mut s.credential_verification,
            "CredentialChallenge" => &mut s.credential_challenge,
            "CheckMfa" => &mut s.check_mfa,
            _ => return Some(()),
        };
        *slot = text(value);
        Some(())
    });
    s
}

fn sign_in_details(v: &Value) -> SignInDetails<'_> {
    let mut d = SignInDetails::default();
    let _ = fields(v, |key, value| {
        match key {
            "MFAUsed" => d.mfa_used = text(value),
            "UserName" => d.user_name = text(value),
            _ => {}
        }
        Some(())
    });
    d
}

fn listed_resource(v: &Value) -> ListedResource<'_> {
    let mut r = ListedResource::default();
    let _ = fields(v, |key, value| {
        match key {
            "ARN" | "arn" => r.arn = text(value),
            "type" => r.kind = text(value),
            _ => {}
        }
        Some(())
    });
    r
}

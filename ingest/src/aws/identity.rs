//! Who acted in a CloudTrail record: the identity key and its session, credential and chain
//! (see the key table in `vigil_schemas::identity`).

use vigil_schemas::{ChainLink, ChainRelation, Identity, IdentityKind};

use super::CloudTrailRecord;
use crate::text::{opt, owned};

pub(super) fn identity(r: &CloudTrailRecord<'_>, event_source: &str) -> Identity {
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

pub(super) fn last_segment(arn: &str) -> Option<String> {
    arn.rsplit(['/', ':'])
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

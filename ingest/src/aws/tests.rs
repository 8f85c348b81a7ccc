//! Unit tests of the aws module.

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

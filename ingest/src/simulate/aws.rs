//! CloudTrail records, as CloudTrail writes them to S3.

use serde_json::{Map, Value, json};

use super::activity::Act;
use super::estate::{Caller, Estate, SimIdentity};
use super::output::{Channel, SimRecord};
use super::render::{fill_template, resource_name, rfc3339_seconds};
use super::rng::{self, Stream};
use super::vocab::{Hint, Res};

pub(crate) fn render(act: &Act, who: &SimIdentity, estate: &Estate, rng: &mut Stream) -> SimRecord {
    let account = &estate.aws_accounts[who.scope];
    let event_id = rng::uuid(rng);
    let time = rfc3339_seconds(act.time);
    let region = if act.login { "us-east-1" } else { who.region };
    let resource = resource_name(who, act);
    let mut record = Map::new();
    record.insert("eventVersion".into(), json!("1.09"));
    record.insert("userIdentity".into(), user_identity(who, account, act, rng));
    record.insert("eventTime".into(), json!(time));
    if act.login {
        record.insert("eventSource".into(), json!("signin.amazonaws.com"));
        record.insert("eventName".into(), json!("ConsoleLogin"));
        record.insert("awsRegion".into(), json!(region));
        record.insert("sourceIPAddress".into(), json!(act.ip));
        record.insert("userAgent".into(), json!(act.agent));
        record.insert("requestParameters".into(), Value::Null);
        record.insert(
            "responseElements".into(),
            json!({"ConsoleLogin": if act.denied {"Failure"} else {"Success"}}),
        );
        record.insert(
            "additionalEventData".into(),
            json!({"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": if act.mfa {"Yes"} else {"No"}}),
        );
        record.insert("eventID".into(), json!(event_id));
        record.insert("readOnly".into(), json!(false));
        record.insert("eventType".into(), json!("AwsConsoleSignIn"));
        record.insert("managementEvent".into(), json!(true));
        record.insert("recipientAccountId".into(), json!(account));
        record.insert("eventCategory".into(), json!("Management"));
    } else {
        let op = act.op;
        record.insert(
            "eventSource".into(),
            json!(format!("{}.amazonaws.com", op.service)),
        );
        record.insert("eventName".into(), json!(op.name));
        record.insert("awsRegion".into(), json!(region));
        record.insert("sourceIPAddress".into(), json!(act.ip));
        record.insert("userAgent".into(), json!(act.agent));
        if act.denied {
            record.insert("errorCode".into(), json!("AccessDenied"));
            record.insert(
                "errorMessage".into(),
                json!(format!(
                    "User: {} is not authorized to perform: {}:{} because no identity-based policy allows the {}:{} action",
                    caller_arn(who, account),
                    op.service,
                    op.name,
                    op.service,
                    op.name
                )),
            );
        }
        let params = if op.params.is_empty() {
            default_params(op.res, &resource, account, region)
        } else {
            let mut fill = act.fill.clone();
            fill.push(("resource", resource.clone()));
            fill.push(("account", account.clone()));
            serde_json::from_str(&fill_template(op.params, &fill)).unwrap_or(Value::Null)
        };
        record.insert("requestParameters".into(), params);
        record.insert("responseElements".into(), Value::Null);
        record.insert("requestID".into(), json!(rng::uuid(rng)));
        record.insert("eventID".into(), json!(event_id));
        record.insert("readOnly".into(), json!(op.read_only));
        if op.hint == Hint::AwsData {
            record.insert(
                "resources".into(),
                data_resources(op.res, &resource, account, region),
            );
        }
        record.insert("eventType".into(), json!("AwsApiCall"));
        record.insert("managementEvent".into(), json!(op.hint != Hint::AwsData));
        record.insert("recipientAccountId".into(), json!(account));
        record.insert(
            "eventCategory".into(),
            json!(if op.hint == Hint::AwsData {
                "Data"
            } else {
                "Management"
            }),
        );
        record.insert(
            "tlsDetails".into(),
            json!({"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": format!("{}.{region}.amazonaws.com", op.service)}),
        );
    }
    SimRecord {
        time: act.time,
        channel: Channel::CloudTrail {
            account: account.clone(),
            region: region.to_string(),
        },
        body: Value::Object(record).to_string(),
        event_id,
        identity_key: who.key.clone(),
        scenario: act.scenario,
    }
}

fn caller_arn(who: &SimIdentity, account: &str) -> String {
    match &who.principal {
        Caller::AwsSso { role, email } => {
            format!("arn:aws:sts::{account}:assumed-role/{role}/{email}")
        }
        Caller::AwsRole { role, session } => {
            format!("arn:aws:sts::{account}:assumed-role/{role}/{session}")
        }
        _ => format!("arn:aws:iam::{account}:root"),
    }
}

fn user_identity(who: &SimIdentity, account: &str, act: &Act, rng: &mut Stream) -> Value {
    let key_id = format!("ASIA{}", rng::token(rng, rng::UPPER_ALNUM, 16));
    let role_id = format!(
        "AROA{}",
        &rng::hex(who.key.as_bytes())[..17].to_ascii_uppercase()
    );
    let mfa = if act.mfa { "true" } else { "false" };
    match &who.principal {
        Caller::AwsRoot => json!({
            "type": "Root",
            "principalId": account,
            "arn": format!("arn:aws:iam::{account}:root"),
            "accountId": account,
            "accessKeyId": if act.login { "" } else { key_id.as_str() },
        }),
        Caller::AwsSso { role, email } => json!({
            "type": "AssumedRole",
            "principalId": format!("{role_id}:{email}"),
            "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{email}"),
            "accountId": account,
            "accessKeyId": key_id,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": format!("arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/{role}"),
                    "accountId": account,
                    "userName": role,
                },
                "attributes": {"creationDate": rfc3339_seconds(act.time), "mfaAuthenticated": mfa},
            },
        }),
        Caller::AwsRole { role, session } => json!({
            "type": "AssumedRole",
            "principalId": format!("{role_id}:{session}"),
            "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
            "accountId": account,
            "accessKeyId": key_id,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": format!("arn:aws:iam::{account}:role/{role}"),
                    "accountId": account,
                    "userName": role,
                },
                "attributes": {"creationDate": rfc3339_seconds(act.time), "mfaAuthenticated": "false"},
            },
        }),
        _ => json!({"type": "Unknown"}),
    }
}

fn default_params(res: Res, name: &str, account: &str, region: &str) -> Value {
    match res {
        Res::None => Value::Null,
        Res::Instance => json!({"instancesSet": {"items": [{"instanceId": name}]}}),
        Res::Bucket => {
            json!({"bucketName": name, "Host": format!("{name}.s3.{region}.amazonaws.com")})
        }
        Res::Object => {
            let (bucket, key) = name.split_once('/').unwrap_or((name, "data"));
            json!({"bucketName": bucket, "key": key})
        }
        Res::Function => json!({"functionName": name}),
        Res::Table => json!({"tableName": name}),
        Res::Secret => {
            json!({"secretId": format!("arn:aws:secretsmanager:{region}:{account}:secret:{name}")})
        }
        Res::Role => json!({"roleName": name}),
        Res::User => json!({"userName": name}),
        Res::LogGroup => json!({"logGroupName": name}),
        Res::Stack => json!({"stackName": name}),
        Res::Repo => json!({"repositoryName": name, "registryId": account}),
        Res::Cluster => json!({"cluster": name}),
        Res::Queue => {
            json!({"queueUrl": format!("https://sqs.{region}.amazonaws.com/{account}/{name}")})
        }
        Res::Key => json!({"keyId": format!("arn:aws:kms:{region}:{account}:key/{name}")}),
        Res::Param => json!({"name": name, "withDecryption": true}),
        Res::Trail => {
            json!({"name": format!("arn:aws:cloudtrail:{region}:{account}:trail/{name}")})
        }
        _ => json!({"resourceName": name}),
    }
}

fn data_resources(res: Res, name: &str, account: &str, region: &str) -> Value {
    match res {
        Res::Object => {
            let (bucket, _) = name.split_once('/').unwrap_or((name, ""));
            json!([
                {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{name}")},
                {"accountId": account, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")},
            ])
        }
        Res::Table => {
            json!([{"accountId": account, "type": "AWS::DynamoDB::Table", "ARN": format!("arn:aws:dynamodb:{region}:{account}:table/{name}")}])
        }
        Res::Queue => {
            json!([{"accountId": account, "type": "AWS::SQS::Queue", "ARN": format!("arn:aws:sqs:{region}:{account}:{name}")}])
        }
        _ => json!([]),
    }
}

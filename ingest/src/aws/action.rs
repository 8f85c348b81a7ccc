//! What a CloudTrail event did: its IAM permission name and coarse category.

use vigil_schemas::ActionCategory;

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

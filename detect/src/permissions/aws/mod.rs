//! AWS permission analytics: IAM inventory exports and the AWS permission catalog turned into
//! effective permissions, escalation edges, event → permission mapping and right-sized policies.
//!
//! Principal keys are those the CloudTrail normalizer computes: the user ARN as the record gives it
//! (paths included), the role ARN (paths included: IAM Identity Center roles live under
//! `aws-reserved/sso.amazonaws.com/…`), the group ARN, and `arn:aws:iam::<account>:root`.
//!
//! What is evaluated: identity policies (inline and managed; users also get their groups'), `Action`
//! and `NotAction` with wildcards, unconditional `Deny` on `*` (subtracted; other denies are kept as
//! evidence), permissions boundaries (intersected), conditions (kept; the permissions they govern
//! are reported as conditional). Out of scope: resource-based policies (bucket, key, queue policies,
//! Lambda function policies) and organization SCPs, which the IAM exports do not contain; a role
//! trusting another account is reported by [`external_trusts`] but not followed in the path graph.

mod catalog;
mod escalation;
mod grants;
mod holder;
mod inventory;
mod policy;
mod rightsize;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_escalation;

use std::collections::BTreeMap;

pub use catalog::Catalog;
pub use inventory::Inventory;

use crate::DetectError;
use crate::permissions::{
    Entitlements, EscalationEdge, ObservedAction, RightSized, UsedPermission,
};

/// Reads IAM inventory exports: (name used in errors, bytes) for each file. Shapes, detected from
/// the content: `aws iam get-account-authorization-details` JSON (documents as objects or URL-encoded
/// strings; several pages may be several files), the credential report (CSV, or the
/// `get-credential-report` JSON with base64 `Content`), and `aws iam list-access-keys` JSON. An
/// unrecognised or malformed file is an error naming the file and the field; nothing is half-loaded.
pub fn parse_inventory(docs: &[(String, Vec<u8>)]) -> Result<Inventory, DetectError> {
    inventory::parse(docs)
}

/// One [`Entitlements`] per principal (users, groups, roles, root), in the inventory's order.
pub fn entitlements(inventory: &Inventory, catalog: &Catalog) -> Vec<Entitlements> {
    let mut expander = grants::Expander::new(inventory, catalog);
    inventory
        .principals
        .iter()
        .map(|p| grants::entitlements_of(&mut expander, p))
        .collect()
}

/// Escalation edges: role assumption (`aws.assume-role`) and Rhino Security Labs' primitives
/// (`aws.iam-create-policy-version`, `aws.iam-set-default-policy-version`,
/// `aws.iam-attach-{user,group,role}-policy`, `aws.iam-put-{user,group,role}-policy`,
/// `aws.iam-add-user-to-group`, `aws.iam-create-access-key`, `aws.iam-create-login-profile`,
/// `aws.iam-update-login-profile`, `aws.iam-update-assume-role-policy`, `aws.passrole-lambda`,
/// `aws.passrole-ec2`, `aws.passrole-cloudformation`, `aws.passrole-glue`,
/// `aws.lambda-update-function-code`). Admin-equivalent principals get no outgoing edges: they are
/// the goal.
pub fn escalation_edges(
    inventory: &Inventory,
    entitlements: &[Entitlements],
    catalog: &Catalog,
) -> Vec<EscalationEdge> {
    escalation::edges(inventory, entitlements, catalog)
}

/// Catalog permissions one CloudTrail event exercised. The catalog's map first (eventSource and
/// eventName, then with the API-version suffix stripped), then `prefix:eventName` when the catalog
/// has that action, then the lake's own `action_permission`. Calls that need no permission
/// (`sts:GetCallerIdentity`, console sign-in) give an empty list, not a gap. `None` is a gap.
pub fn event_permissions(action: ObservedAction<'_>, catalog: &Catalog) -> Option<Vec<u32>> {
    catalog.event_permissions(action)
}

/// True when events keyed `usage_key` are the principal's doing: the same key, or for an IAM
/// Identity Center role (`…/AWSReservedSSO_*`) a per-person key `role-arn/session`.
pub fn usage_belongs_to(principal_key: &str, usage_key: &str) -> bool {
    if principal_key == usage_key {
        return true;
    }
    let is_sso_role = principal_key
        .rsplit('/')
        .next()
        .is_some_and(|name| name.starts_with("AWSReservedSSO_"));
    // Session names cannot contain `/`, so `role-arn/x/y` is another role's path, not a session.
    is_sso_role
        && usage_key
            .strip_prefix(principal_key)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|session| !session.is_empty() && !session.contains('/'))
}

/// A least-privilege IAM policy from what was used (see [`rightsize::rightsize`]).
pub fn rightsize(
    entitlements: &Entitlements,
    used: &BTreeMap<String, UsedPermission>,
    catalog: &Catalog,
) -> RightSized {
    rightsize::rightsize(entitlements, used, catalog)
}

/// Roles whose trust policy admits principals of other accounts (or anyone): role ARN → the
/// external principals named. External access, outside the path graph.
pub fn external_trusts(inventory: &Inventory) -> BTreeMap<String, Vec<String>> {
    inventory
        .roles
        .values()
        .map(|r| (r.arn.clone(), holder::external_principals(r)))
        .filter(|(_, external)| !external.is_empty())
        .collect()
}

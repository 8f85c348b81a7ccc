//! IAM policy documents as IAM writes them: identity policies (Allow/Deny, Action or NotAction,
//! Resource or NotResource, Condition) and role trust policies (Principal). Parsing is strict about
//! the fields that change what a statement means, so a malformed document is an error naming the
//! field instead of a statement quietly read as something else.

use serde_json::Value;

use crate::permissions::Effect;

/// One statement of an identity policy or permissions boundary.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    /// `Action` or `NotAction` patterns as written.
    pub(crate) actions: Vec<String>,
    pub(crate) not_action: bool,
    /// `Resource` or `NotResource` as written.
    pub(crate) resources: Vec<String>,
    pub(crate) not_resource: bool,
    pub(crate) condition: Option<Value>,
}

impl Statement {
    /// Applies to every resource: `Resource: "*"` (a `NotResource` always leaves something out).
    pub(crate) fn on_every_resource(&self) -> bool {
        !self.not_resource && self.resources.iter().any(|r| r == "*")
    }

    /// Whether the statement's resources cover `resource` (an ARN). `${aws:username}` is replaced by
    /// `user_name` when given, since self-service policies scope access keys and passwords with it.
    pub(crate) fn covers_resource(&self, resource: &str, user_name: Option<&str>) -> bool {
        let hit = self.resources.iter().any(|pattern| match user_name {
            Some(name) if pattern.contains("${aws:username}") => glob_match(
                pattern.replace("${aws:username}", name).as_bytes(),
                resource.as_bytes(),
            ),
            _ => glob_match(pattern.as_bytes(), resource.as_bytes()),
        });
        hit != self.not_resource
    }
}

/// A parsed identity policy document.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PolicyDocument {
    pub(crate) statements: Vec<Statement>,
}

/// One statement of a role trust policy (`AssumeRolePolicyDocument`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TrustStatement {
    pub(crate) allow: bool,
    /// `Principal: "*"` or `{"AWS": "*"}`.
    pub(crate) anyone: bool,
    /// `AWS` principals: account ids, account root ARNs, user and role ARNs.
    pub(crate) aws: Vec<String>,
    pub(crate) service: Vec<String>,
    /// SAML and OIDC providers; recorded, but they lead to no edge in the path graph.
    pub(crate) federated: Vec<String>,
    pub(crate) actions: Vec<String>,
    pub(crate) condition: Option<Value>,
}

/// A parsed trust policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TrustPolicy {
    pub(crate) statements: Vec<TrustStatement>,
}

/// A policy document as the exports give it: a JSON object (AWS CLI), a URL-encoded JSON string (the
/// raw API), or a plain JSON string.
pub(crate) fn document_value(value: &Value, field: &str) -> Result<Value, String> {
    match value {
        Value::Object(_) => Ok(value.clone()),
        Value::String(text) => {
            let decoded = if text.trim_start().starts_with('{') {
                text.clone()
            } else {
                percent_decode(text).map_err(|e| format!("{field}: {e}"))?
            };
            serde_json::from_str(&decoded)
                .map_err(|e| format!("{field}: not a JSON policy document ({e})"))
        }
        other => Err(format!(
            "{field}: expected a policy document (object or URL-encoded string), found {}",
            kind_of(other)
        )),
    }
}

/// Parses an identity policy document. `field` names it in errors (`UserDetailList[0].UserPolicyList[1].PolicyDocument`).
pub(crate) fn parse_policy(value: &Value, field: &str) -> Result<PolicyDocument, String> {
    let doc = document_value(value, field)?;
    let statements = statement_list(&doc, field)?;
    let mut out = Vec::with_capacity(statements.len());
    for (i, raw) in statements.iter().enumerate() {
        let at = format!("{field}.Statement[{i}]");
        let effect = effect_of(raw, &at)?;
        let (actions, not_action) = match (raw.get("Action"), raw.get("NotAction")) {
            (Some(a), None) => (strings(a, &format!("{at}.Action"))?, false),
            (None, Some(a)) => (strings(a, &format!("{at}.NotAction"))?, true),
            (Some(_), Some(_)) => return Err(format!("{at}: both Action and NotAction")),
            (None, None) => return Err(format!("{at}: neither Action nor NotAction")),
        };
        let (resources, not_resource) = match (raw.get("Resource"), raw.get("NotResource")) {
            (Some(r), None) => (strings(r, &format!("{at}.Resource"))?, false),
            (None, Some(r)) => (strings(r, &format!("{at}.NotResource"))?, true),
            (Some(_), Some(_)) => return Err(format!("{at}: both Resource and NotResource")),
            (None, None) => return Err(format!("{at}: neither Resource nor NotResource")),
        };
        out.push(Statement {
            sid: raw.get("Sid").and_then(Value::as_str).map(str::to_string),
            effect,
            actions,
            not_action,
            resources,
            not_resource,
            condition: condition_of(raw),
        });
    }
    Ok(PolicyDocument { statements: out })
}

/// Parses a role trust policy.
pub(crate) fn parse_trust(value: &Value, field: &str) -> Result<TrustPolicy, String> {
    let doc = document_value(value, field)?;
    let statements = statement_list(&doc, field)?;
    let mut out = Vec::with_capacity(statements.len());
    for (i, raw) in statements.iter().enumerate() {
        let at = format!("{field}.Statement[{i}]");
        let allow = effect_of(raw, &at)? == Effect::Allow;
        let mut st = TrustStatement {
            allow,
            actions: match raw.get("Action") {
                Some(a) => strings(a, &format!("{at}.Action"))?,
                None => Vec::new(),
            },
            condition: condition_of(raw),
            ..TrustStatement::default()
        };
        match raw.get("Principal") {
            Some(Value::String(s)) if s == "*" => st.anyone = true,
            Some(Value::Object(map)) => {
                for (kind, v) in map {
                    let values = strings(v, &format!("{at}.Principal.{kind}"))?;
                    match kind.as_str() {
                        "AWS" => {
                            st.anyone |= values.iter().any(|p| p == "*");
                            st.aws.extend(values.into_iter().filter(|p| p != "*"));
                        }
                        "Service" => st.service.extend(values),
                        "Federated" => st.federated.extend(values),
                        // CanonicalUser principals only appear in S3 bucket policies.
                        _ => {}
                    }
                }
            }
            // NotPrincipal in a trust policy is vanishingly rare and AWS advises against it; such a
            // statement grants no edge here.
            None if raw.get("NotPrincipal").is_some() => {}
            Some(other) => {
                return Err(format!(
                    "{at}.Principal: expected \"*\" or an object, found {}",
                    kind_of(other)
                ));
            }
            None => return Err(format!("{at}: no Principal")),
        }
        out.push(st);
    }
    Ok(TrustPolicy { statements: out })
}

fn statement_list(doc: &Value, field: &str) -> Result<Vec<Value>, String> {
    match doc.get("Statement") {
        Some(Value::Array(list)) => Ok(list.clone()),
        Some(one @ Value::Object(_)) => Ok(vec![one.clone()]),
        Some(other) => Err(format!(
            "{field}.Statement: expected a list or an object, found {}",
            kind_of(other)
        )),
        None => Err(format!("{field}: no Statement")),
    }
}

fn effect_of(raw: &Value, at: &str) -> Result<Effect, String> {
    match raw.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Ok(Effect::Allow),
        Some("Deny") => Ok(Effect::Deny),
        Some(other) => Err(format!(
            "{at}.Effect: expected Allow or Deny, found {other:?}"
        )),
        None => Err(format!("{at}.Effect: missing")),
    }
}

fn condition_of(raw: &Value) -> Option<Value> {
    raw.get("Condition")
        .filter(|c| !c.is_null() && c.as_object().is_none_or(|m| !m.is_empty()))
        .cloned()
}

/// A string or a list of strings (IAM accepts both wherever a list is expected).
pub(crate) fn strings(value: &Value, field: &str) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{field}[{i}]: expected a string, found {}", kind_of(v)))
            })
            .collect(),
        other => Err(format!(
            "{field}: expected a string or a list of strings, found {}",
            kind_of(other)
        )),
    }
}

pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// RFC 3986 percent-decoding, as IAM encodes documents in its API (`+` stays a plus sign).
pub(crate) fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent escape at byte {i}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent-decoded text is not UTF-8".to_string())
}

/// IAM wildcard matching: `*` any run of characters, `?` one character. Case-sensitive; callers
/// lower-case both sides for action names, which IAM compares case-insensitively.
pub(crate) fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

//! Helpers shared by the three providers' record writers.

use chrono::{DateTime, SecondsFormat, Timelike, Utc};

use super::activity::Act;
use super::estate::SimIdentity;
use super::vocab::Res;

/// `2026-03-02T10:15:07Z`: CloudTrail's second precision.
pub(crate) fn rfc3339_seconds(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The time truncated to whole seconds, as a record written with [`rfc3339_seconds`] reads back.
pub(crate) fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(0).unwrap_or(t)
}

/// `2026-03-02T10:15:07.123Z`.
pub(crate) fn rfc3339_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `2026-03-02T10:15:07.1230000Z`: Azure's seven fractional digits.
pub(crate) fn rfc3339_azure(t: DateTime<Utc>) -> String {
    format!("{}0000Z", t.format("%Y-%m-%dT%H:%M:%S%.3f"))
}

/// Replaces `{name}` placeholders of a JSON template. Values are JSON-escaped, so a template stays
/// valid JSON whatever the value.
pub(crate) fn fill_template(template: &str, values: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        let quoted = serde_json::Value::String(value.clone()).to_string();
        let escaped = &quoted[1..quoted.len() - 1];
        out = out.replace(&format!("{{{name}}}"), escaped);
    }
    out
}

/// The name of the resource an act touches: the attack's chosen target, or one of the identity's
/// team resources of that kind.
pub(crate) fn resource_name(who: &SimIdentity, act: &Act) -> String {
    if let Some((_, name)) = act.fill.iter().find(|(k, _)| *k == "resource") {
        return name.clone();
    }
    let team = who.team;
    let n = act.target + 1;
    match act.op.res {
        Res::None => String::new(),
        Res::Instance => format!(
            "i-0{:016x}",
            u64::from(n) * 0x9e37_79b9 + team.len() as u64 * 0x1234_5678
        ),
        Res::Bucket => format!("acme-{team}-assets-{n}"),
        Res::Object => format!(
            "acme-{team}-data-{n}/exports/part-{:05}.parquet",
            act.time.minute() * 60 + act.time.second()
        ),
        Res::Function => format!("{team}-handler-{n}"),
        Res::Table => format!("{team}-table-{n}"),
        Res::Secret => format!("{team}/service-{n}/credentials"),
        Res::Role => format!("{team}-service-role-{n}"),
        Res::User => format!("{team}-svc-user-{n}"),
        Res::LogGroup => format!("/aws/lambda/{team}-handler-{n}"),
        Res::Stack => format!("{team}-stack-{n}"),
        Res::Repo => format!("{team}/app-{n}"),
        Res::Cluster => format!("{team}-cluster-{n}"),
        Res::Queue => format!("{team}-queue-{n}"),
        Res::Key => format!(
            "{:08x}-{team}-key-{n}",
            u64::from(n).wrapping_mul(2_654_435_761) & 0xffff_ffff
        ),
        Res::Param => format!("/{team}/service-{n}/config"),
        Res::Disk => format!("{team}-disk-{n}"),
        Res::Snapshot => format!("snap-0{:016x}", u64::from(n) * 0x51_7cc1_b727),
        Res::Image => format!("ami-0{:016x}", u64::from(n) * 0x2545_f491),
        Res::Trail => "management-events".to_string(),
        Res::FlowLog => format!("fl-0{:016x}", u64::from(n) * 0x1f12_3bb5),
        Res::Vault => format!("kv-{team}-{n}"),
        Res::StorageAccount => format!("st{team}{n}"),
        Res::WebApp => format!("app-{team}-{n}"),
        Res::ResourceGroup => format!("rg-{team}"),
        Res::Subscription => String::new(),
        Res::Dataset => format!("{team}_analytics"),
        Res::ServiceAccount => format!("{team}-worker-{n}"),
        Res::Project => String::new(),
        Res::Sink => format!("{team}-audit-export"),
        Res::Application => format!("{team}-app-{n}"),
        Res::Identity => format!("id-{team}-{n}"),
        Res::Bastion => format!("bastion-{team}"),
    }
}

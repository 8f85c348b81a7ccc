//! Query rows as report lines.

use std::collections::BTreeMap;

use arrow_array::RecordBatch;

use super::columns::{floats, resources, string_lists, strings, times};
use super::{AlertLine, EventLine, IncidentLine};
use crate::SinkError;

/// Events of a batch with the report's event columns; rows without a time are skipped.
pub(crate) fn event_lines(batch: &RecordBatch) -> Result<Vec<EventLine>, SinkError> {
    let time = times(batch, "event_time")?;
    let s = |name: &str| strings(batch, name);
    let (id, provider, account, region) = (
        s("event_id")?,
        s("provider")?,
        s("account_id")?,
        s("region")?,
    );
    let (permission, category, outcome, error) = (
        s("action_permission")?,
        s("action_category")?,
        s("outcome_status")?,
        s("outcome_error_code")?,
    );
    let (ip, raw, agent) = (s("src_ip")?, s("src_raw")?, s("user_agent")?);
    let res = resources(batch)?;
    let mut out = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let Some(t) = time[i] else { continue };
        out.push(EventLine {
            time: t,
            event_id: id[i].clone().unwrap_or_default(),
            provider: provider[i].clone().unwrap_or_default(),
            account_id: account[i].clone(),
            region: region[i].clone(),
            permission: permission[i].clone().unwrap_or_default(),
            category: category[i].clone().unwrap_or_default(),
            outcome: outcome[i].clone().unwrap_or_default(),
            error_code: error[i].clone(),
            source: ip[i].clone().or_else(|| raw[i].clone()),
            user_agent: agent[i].clone(),
            resources: res[i].iter().map(|r| r.id.clone()).collect(),
        });
    }
    Ok(out)
}

/// Alerts of a batch of the alerts table.
pub(crate) fn alert_lines(batch: &RecordBatch) -> Result<Vec<AlertLine>, SinkError> {
    let time = times(batch, "time")?;
    let s = |name: &str| strings(batch, name);
    let (id, key, severity, tactic, technique, reason_key, baseline) = (
        s("alert_id")?,
        s("identity_key")?,
        s("severity")?,
        s("tactic")?,
        s("technique")?,
        s("reason_key")?,
        s("baseline_json")?,
    );
    let score = floats(batch, "score")?;
    let reasons = string_lists(batch, "reasons")?;
    let evidence = string_lists(batch, "evidence_event_ids")?;
    let mut out = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let Some(t) = time[i] else { continue };
        let baseline: BTreeMap<String, f64> = baseline[i]
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        out.push(AlertLine {
            alert_id: id[i].clone().unwrap_or_default(),
            identity_key: key[i].clone().unwrap_or_default(),
            time: t,
            severity: severity[i].clone().unwrap_or_default(),
            score: score[i].unwrap_or_default(),
            tactic: tactic[i].clone(),
            technique: technique[i].clone(),
            reason_key: reason_key[i].clone().unwrap_or_default(),
            reasons: reasons[i].clone(),
            evidence_event_ids: evidence[i].clone(),
            baseline,
        });
    }
    Ok(out)
}

/// Incidents of a batch of the incidents table.
pub(crate) fn incident_lines(batch: &RecordBatch) -> Result<Vec<IncidentLine>, SinkError> {
    let first = times(batch, "first_time")?;
    let last = times(batch, "last_time")?;
    let s = |name: &str| strings(batch, name);
    let (id, severity, summary) = (s("incident_id")?, s("severity")?, s("summary")?);
    let revision = floats(batch, "revision")?;
    let score = floats(batch, "score")?;
    let tactics = string_lists(batch, "tactics")?;
    let alert_ids = string_lists(batch, "alert_ids")?;
    let mut out = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let (Some(f), Some(l)) = (first[i], last[i]) else {
            continue;
        };
        out.push(IncidentLine {
            incident_id: id[i].clone().unwrap_or_default(),
            revision: revision[i].unwrap_or_default() as u64,
            first_time: f,
            last_time: l,
            severity: severity[i].clone().unwrap_or_default(),
            score: score[i].unwrap_or_default(),
            tactics: tactics[i].clone(),
            alert_ids: alert_ids[i].clone(),
            summary: summary[i].clone().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The latest revision of each incident, oldest incident first.
pub(crate) fn latest_revisions(incidents: Vec<IncidentLine>) -> Vec<IncidentLine> {
    let mut latest: BTreeMap<String, IncidentLine> = BTreeMap::new();
    for i in incidents {
        match latest.get(&i.incident_id) {
            Some(old) if old.revision >= i.revision => {}
            _ => {
                latest.insert(i.incident_id.clone(), i);
            }
        }
    }
    let mut out: Vec<_> = latest.into_values().collect();
    out.sort_by(|a, b| {
        a.first_time
            .cmp(&b.first_time)
            .then(a.incident_id.cmp(&b.incident_id))
    });
    out
}

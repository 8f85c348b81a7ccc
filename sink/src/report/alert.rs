//! The alert report: one alert, its reasons and baseline, the events it rests on, and the
//! incidents it is part of.

use datafusion::prelude::{Expr, col, lit};
use serde::Serialize;

use super::{AlertLine, EVENT_COLUMNS, EventLine, IncidentLine};
use crate::SinkError;
use crate::query::Lake;

/// The alert report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertReport {
    pub alert: AlertLine,
    /// The evidence events found in the lake, in time order.
    pub evidence: Vec<EventLine>,
    /// Evidence event ids the lake has no event for (not written yet, or outside the lake).
    pub missing_evidence: Vec<String>,
    /// Incidents (latest revisions) that include this alert.
    pub incidents: Vec<IncidentLine>,
}

/// Builds the report of alert `alert_id`.
pub async fn alert_report(lake: &Lake, alert_id: &str) -> Result<AlertReport, SinkError> {
    let df = lake
        .table("alerts")
        .await?
        .filter(col("alert_id").eq(lit(alert_id)))
        .map_err(|e| SinkError::query(e, "alerts"))?;
    let mut alerts = Vec::new();
    for batch in lake.collect(df).await? {
        alerts.extend(super::alert_lines(&batch)?);
    }
    let Some(alert) = alerts.into_iter().next() else {
        return Err(SinkError::NotFound(format!(
            "no alert with id {alert_id:?} in {} (list them with: vigil query \"SELECT alert_id, identity_key, time, reason_key FROM alerts ORDER BY time DESC LIMIT 20\")",
            lake.root().display()
        )));
    };

    let mut evidence = Vec::new();
    if !alert.evidence_event_ids.is_empty() {
        let ids: Vec<Expr> = alert
            .evidence_event_ids
            .iter()
            .map(|id| lit(id.as_str()))
            .collect();
        let mut select: Vec<Expr> = EVENT_COLUMNS.iter().map(|c| col(*c)).collect();
        select.push(col("resources"));
        let df = lake
            .table("events")
            .await?
            .filter(
                col("identity_key")
                    .eq(lit(alert.identity_key.as_str()))
                    .and(col("event_id").in_list(ids, false)),
            )
            .and_then(|df| df.select(select))
            .and_then(|df| {
                df.sort(vec![
                    col("event_time").sort(true, false),
                    col("event_id").sort(true, false),
                ])
            })
            .map_err(|e| SinkError::query(e, "evidence events"))?;
        for batch in lake.collect(df).await? {
            evidence.extend(super::event_lines(&batch)?);
        }
        super::identity::dedupe_by(&mut evidence, |e| e.event_id.clone());
    }
    let missing_evidence = alert
        .evidence_event_ids
        .iter()
        .filter(|id| !evidence.iter().any(|e| &e.event_id == *id))
        .cloned()
        .collect();

    let df = lake
        .table("incidents")
        .await?
        .filter(col("identity_key").eq(lit(alert.identity_key.as_str())))
        .map_err(|e| SinkError::query(e, "incidents"))?;
    let mut incidents = Vec::new();
    for batch in lake.collect(df).await? {
        incidents.extend(super::incident_lines(&batch)?);
    }
    let incidents = super::latest_revisions(incidents)
        .into_iter()
        .filter(|i| i.alert_ids.iter().any(|a| a == alert_id))
        .collect();
    Ok(AlertReport {
        alert,
        evidence,
        missing_evidence,
        incidents,
    })
}

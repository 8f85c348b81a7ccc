//! The identity report: what one identity did between `since` and `until`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use datafusion::prelude::{Expr, col, lit};
use datafusion::scalar::ScalarValue;
use serde::Serialize;

use super::columns::{resources, strings};
use super::{AlertLine, EVENT_COLUMNS, EventLine, IncidentLine};
use crate::SinkError;
use crate::query::Lake;
use vigil_schemas::arrow_records::provider_of_identity_key;

/// What to report on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityQuery {
    /// The identity key, as in the lake's `identity_key` column.
    pub identity_key: String,
    /// Start of the window, inclusive.
    pub since: DateTime<Utc>,
    /// End of the window, exclusive.
    pub until: DateTime<Utc>,
    /// Most events listed in the timeline; the counts always cover every event.
    pub timeline_limit: usize,
}

/// A count with its first and last time in the window.
#[derive(Debug, Clone, PartialEq)]
struct Tally {
    value: String,
    events: u64,
    first_time: DateTime<Utc>,
    last_time: DateTime<Utc>,
}

/// A source network or user agent with its first-seen mark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sighting {
    /// `a.b.c.0/24`, `x:y:z::/48`, or the raw source when it is not an address.
    pub value: String,
    pub events: u64,
    pub first_time: DateTime<Utc>,
    pub last_time: DateTime<Utc>,
    /// True when the lake has no event of this identity with it before `since`.
    pub first_seen_in_window: bool,
}

/// Actions of one service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceActions {
    pub service: String,
    pub events: u64,
    pub failures: u64,
    /// Permissions used, most used first.
    pub permissions: Vec<(String, u64)>,
}

/// A resource the identity touched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceTouch {
    pub id: String,
    pub kind: Option<String>,
    pub events: u64,
    pub first_time: DateTime<Utc>,
    pub last_time: DateTime<Utc>,
}

/// Events per time bucket over the window, for the activity chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Activity {
    /// Bucket width: 3600 (hour), 86400 (day) or 604800 (week).
    pub bucket_seconds: i64,
    /// `(bucket start, events)`, every bucket of the window, empty ones included.
    pub buckets: Vec<(DateTime<Utc>, u64)>,
}

/// The baseline figures of the identity, from its latest alert that carried them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    pub alert_id: String,
    pub time: DateTime<Utc>,
    pub figures: BTreeMap<String, f64>,
}

/// The identity report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdentityReport {
    pub identity_key: String,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub providers: Vec<String>,
    pub events: u64,
    pub failures: u64,
    pub first_event: Option<DateTime<Utc>>,
    pub last_event: Option<DateTime<Utc>>,
    /// The first `timeline_limit` events of the window, in time order.
    pub timeline: Vec<EventLine>,
    /// True when the window has more events than the timeline lists.
    pub timeline_truncated: bool,
    pub services: Vec<ServiceActions>,
    pub resources: Vec<ResourceTouch>,
    pub networks: Vec<Sighting>,
    pub user_agents: Vec<Sighting>,
    pub alerts: Vec<AlertLine>,
    pub incidents: Vec<IncidentLine>,
    pub baseline: Option<Baseline>,
    pub activity: Activity,
    /// Events per hour of the week in UTC, Monday 00:00 first: 168 counts.
    pub hour_of_week: Vec<u64>,
}

pub(super) fn timestamp(t: DateTime<Utc>) -> Expr {
    lit(ScalarValue::TimestampMicrosecond(
        Some(t.timestamp_micros()),
        Some("UTC".into()),
    ))
}

/// `date` partition filter covering `[since, until)`.
pub(super) fn date_range(since: DateTime<Utc>, until: DateTime<Utc>) -> Expr {
    let last = until - Duration::microseconds(1);
    col("date")
        .gt_eq(lit(since.format("%Y-%m-%d").to_string()))
        .and(col("date").lt_eq(lit(last.format("%Y-%m-%d").to_string())))
}

/// The network of a source: /24 for IPv4, /48 for IPv6; the raw text otherwise.
pub fn network_of(ip: Option<&str>, raw: Option<&str>) -> Option<String> {
    match ip.map(str::parse::<IpAddr>) {
        Some(Ok(IpAddr::V4(v4))) => {
            let o = v4.octets();
            Some(format!("{}.{}.{}.0/24", o[0], o[1], o[2]))
        }
        Some(Ok(IpAddr::V6(v6))) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
        _ => raw.filter(|r| !r.is_empty()).map(str::to_string),
    }
}

/// Builds the report of `q.identity_key` from the lake.
pub async fn identity_report(lake: &Lake, q: &IdentityQuery) -> Result<IdentityReport, SinkError> {
    if q.until <= q.since {
        return Err(SinkError::Lake(format!(
            "the window is empty: --until {} is not after --since {}",
            q.until.to_rfc3339(),
            q.since.to_rfc3339()
        )));
    }
    let who = col("identity_key").eq(lit(q.identity_key.as_str()));
    // An identity key names its cloud, and events are partitioned by cloud: the other clouds'
    // folders are never listed.
    let who_events = match provider_of_identity_key(&q.identity_key) {
        Some(p) => who.clone().and(col("provider").eq(lit(p.as_str()))),
        None => who.clone(),
    };
    let mut select: Vec<Expr> = EVENT_COLUMNS.iter().map(|c| col(*c)).collect();
    select.push(col("resources"));
    let df = lake
        .table("events")
        .await?
        .filter(
            who_events
                .clone()
                .and(date_range(q.since, q.until))
                .and(col("event_time").gt_eq(timestamp(q.since)))
                .and(col("event_time").lt(timestamp(q.until))),
        )
        .and_then(|df| df.select(select))
        .and_then(|df| {
            df.sort(vec![
                col("event_time").sort(true, false),
                col("event_id").sort(true, false),
            ])
        })
        .map_err(|e| SinkError::query(e, "events"))?;
    // What the identity used before the window, for first-seen marks.
    let before = lake
        .table("events")
        .await?
        .filter(
            who_events
                .and(col("date").lt_eq(lit(q.since.format("%Y-%m-%d").to_string())))
                .and(col("event_time").lt(timestamp(q.since))),
        )
        .and_then(|df| {
            df.aggregate(
                vec![col("src_ip"), col("src_raw"), col("user_agent")],
                vec![],
            )
        })
        .map_err(|e| SinkError::query(e, "events before the window"))?;
    let alerts = lake
        .table("alerts")
        .await?
        .filter(
            who.clone()
                .and(date_range(q.since, q.until))
                .and(col("time").gt_eq(timestamp(q.since)))
                .and(col("time").lt(timestamp(q.until))),
        )
        .and_then(|df| df.sort(vec![col("time").sort(true, false)]))
        .map_err(|e| SinkError::query(e, "alerts"))?;
    let incidents = lake
        .table("incidents")
        .await?
        .filter(
            who.clone()
                .and(col("date").gt_eq(lit(q.since.format("%Y-%m-%d").to_string())))
                .and(col("last_time").gt_eq(timestamp(q.since)))
                .and(col("first_time").lt(timestamp(q.until))),
        )
        .map_err(|e| SinkError::query(e, "incidents"))?;
    // The three smaller queries run while the timeline is read.
    let spawn = |df: datafusion::prelude::DataFrame, what: &'static str| {
        tokio::spawn(async move { df.collect().await.map_err(|e| SinkError::query(e, what)) })
    };
    let before = spawn(before, "events before the window");
    let alerts = spawn(alerts, "alerts");
    let incidents = spawn(incidents, "incidents");
    let batches = lake.collect(df).await?;
    let joined = |e: tokio::task::JoinError| SinkError::Lake(format!("a report query failed: {e}"));
    let before = before.await.map_err(joined)??;
    let alerts = alerts.await.map_err(joined)??;
    let incidents = incidents.await.map_err(joined)??;

    let mut known_networks = BTreeSet::new();
    let mut known_agents = BTreeSet::new();
    for batch in before {
        let (ip, raw, ua) = (
            strings(&batch, "src_ip")?,
            strings(&batch, "src_raw")?,
            strings(&batch, "user_agent")?,
        );
        for i in 0..batch.num_rows() {
            if let Some(n) = network_of(ip[i].as_deref(), raw[i].as_deref()) {
                known_networks.insert(n);
            }
            if let Some(a) = &ua[i] {
                known_agents.insert(a.clone());
            }
        }
    }

    let mut report = IdentityReport {
        identity_key: q.identity_key.clone(),
        since: q.since,
        until: q.until,
        providers: Vec::new(),
        events: 0,
        failures: 0,
        first_event: None,
        last_event: None,
        timeline: Vec::new(),
        timeline_truncated: false,
        services: Vec::new(),
        resources: Vec::new(),
        networks: Vec::new(),
        user_agents: Vec::new(),
        alerts: Vec::new(),
        incidents: Vec::new(),
        baseline: None,
        activity: Activity {
            bucket_seconds: 0,
            buckets: Vec::new(),
        },
        hour_of_week: vec![0; 168],
    };
    let bucket = bucket_seconds(q.since, q.until);
    let start = q.since.timestamp().div_euclid(bucket) * bucket;
    let end = q.until.timestamp();
    let n_buckets = usize::try_from((end - start + bucket - 1) / bucket).unwrap_or(0);
    let mut buckets = vec![0u64; n_buckets];
    let mut providers = BTreeSet::new();
    let mut services: BTreeMap<String, (u64, u64, HashMap<String, u64>)> = BTreeMap::new();
    let mut touched: HashMap<String, ResourceTouch> = HashMap::new();
    let mut networks: HashMap<String, Tally> = HashMap::new();
    let mut agents: HashMap<String, Tally> = HashMap::new();
    for batch in &batches {
        let lines = super::event_lines(batch)?;
        let service = strings(batch, "action_service")?;
        let res = resources(batch)?;
        let ip = strings(batch, "src_ip")?;
        let raw = strings(batch, "src_raw")?;
        for (i, line) in lines.into_iter().enumerate() {
            let t = line.time;
            report.events += 1;
            let failed = line.outcome != "success";
            report.failures += u64::from(failed);
            report.first_event.get_or_insert(t);
            report.last_event = Some(t);
            providers.insert(line.provider.clone());
            let idx = usize::try_from((t.timestamp() - start) / bucket).unwrap_or(0);
            if let Some(b) = buckets.get_mut(idx) {
                *b += 1;
            }
            let how = t.weekday().num_days_from_monday() as usize * 24 + t.hour() as usize;
            report.hour_of_week[how.min(167)] += 1;
            let s = services
                .entry(service[i].clone().unwrap_or_default())
                .or_default();
            s.0 += 1;
            s.1 += u64::from(failed);
            *s.2.entry(line.permission.clone()).or_default() += 1;
            for r in &res[i] {
                let e = touched
                    .entry(r.id.clone())
                    .or_insert_with(|| ResourceTouch {
                        id: r.id.clone(),
                        kind: r.kind.clone(),
                        events: 0,
                        first_time: t,
                        last_time: t,
                    });
                e.events += 1;
                e.last_time = t;
            }
            if let Some(n) = network_of(ip[i].as_deref(), raw[i].as_deref()) {
                tally(&mut networks, n, t);
            }
            if let Some(a) = &line.user_agent {
                tally(&mut agents, a.clone(), t);
            }
            if report.timeline.len() < q.timeline_limit {
                report.timeline.push(line);
            } else {
                report.timeline_truncated = true;
            }
        }
    }
    report.providers = providers.into_iter().collect();
    report.activity = Activity {
        bucket_seconds: bucket,
        buckets: buckets
            .into_iter()
            .enumerate()
            .map(|(i, n)| {
                let t = start + i as i64 * bucket;
                (DateTime::from_timestamp(t, 0).unwrap_or_default(), n)
            })
            .collect(),
    };
    report.services = services
        .into_iter()
        .map(|(service, (events, failures, perms))| {
            let mut permissions: Vec<_> = perms.into_iter().collect();
            permissions.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            ServiceActions {
                service,
                events,
                failures,
                permissions,
            }
        })
        .collect();
    report
        .services
        .sort_by(|a, b| b.events.cmp(&a.events).then(a.service.cmp(&b.service)));
    report.resources = touched.into_values().collect();
    report
        .resources
        .sort_by(|a, b| b.events.cmp(&a.events).then(a.id.cmp(&b.id)));
    report.networks = sightings(networks, &known_networks);
    report.user_agents = sightings(agents, &known_agents);

    for batch in alerts {
        report.alerts.extend(super::alert_lines(&batch)?);
    }
    dedupe_by(&mut report.alerts, |a| a.alert_id.clone());
    report.baseline = report
        .alerts
        .iter()
        .rev()
        .find(|a| !a.baseline.is_empty())
        .map(|a| Baseline {
            alert_id: a.alert_id.clone(),
            time: a.time,
            figures: a.baseline.clone(),
        });

    for batch in incidents {
        report.incidents.extend(super::incident_lines(&batch)?);
    }
    report.incidents = super::latest_revisions(std::mem::take(&mut report.incidents));
    Ok(report)
}

fn tally(map: &mut HashMap<String, Tally>, value: String, t: DateTime<Utc>) {
    let e = map.entry(value.clone()).or_insert_with(|| Tally {
        value,
        events: 0,
        first_time: t,
        last_time: t,
    });
    e.events += 1;
    e.last_time = t;
}

fn sightings(map: HashMap<String, Tally>, known: &BTreeSet<String>) -> Vec<Sighting> {
    let mut out: Vec<Sighting> = map
        .into_values()
        .map(|t| Sighting {
            first_seen_in_window: !known.contains(&t.value),
            value: t.value,
            events: t.events,
            first_time: t.first_time,
            last_time: t.last_time,
        })
        .collect();
    out.sort_by(|a, b| a.first_time.cmp(&b.first_time).then(a.value.cmp(&b.value)));
    out
}

pub(super) fn dedupe_by<T>(items: &mut Vec<T>, key: impl Fn(&T) -> String) {
    let mut seen = BTreeSet::new();
    items.retain(|i| seen.insert(key(i)));
}

/// The smallest bucket width that draws the window in at most 200 bars.
fn bucket_seconds(since: DateTime<Utc>, until: DateTime<Utc>) -> i64 {
    let span = (until - since).num_seconds().max(1);
    for width in [3_600, 86_400, 604_800] {
        if span / width <= 200 {
            return width;
        }
    }
    (span / 200).max(604_800)
}

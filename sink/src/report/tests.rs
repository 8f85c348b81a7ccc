use std::error::Error;

use chrono::{TimeZone, Utc};

use super::{IdentityQuery, ReportFormat, alert_report, identity_report};
use crate::query::Lake;
use crate::query::fixture::{BOB, HOSTILE_AGENT, sample_lake};

fn query(limit: usize) -> Result<IdentityQuery, Box<dyn Error>> {
    Ok(IdentityQuery {
        identity_key: BOB.to_string(),
        since: Utc
            .with_ymd_and_hms(2026, 11, 15, 0, 0, 0)
            .single()
            .ok_or("time")?,
        until: Utc
            .with_ymd_and_hms(2026, 11, 21, 0, 0, 0)
            .single()
            .ok_or("time")?,
        timeline_limit: limit,
    })
}

#[tokio::test]
async fn identity_report_tells_the_story() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    sample_lake(dir.path())?;
    let lake = Lake::open(dir.path()).await?;
    let r = identity_report(&lake, &query(10)?).await?;
    assert_eq!(r.events, 5 * 9 + 3);
    assert_eq!(r.failures, 1);
    assert_eq!(r.providers, vec!["aws"]);
    assert_eq!(r.timeline.len(), 10);
    assert!(r.timeline_truncated);
    assert!(r.timeline.windows(2).all(|w| w[0].time <= w[1].time));
    let services: Vec<(&str, u64, u64)> = r
        .services
        .iter()
        .map(|s| (s.service.as_str(), s.events, s.failures))
        .collect();
    assert_eq!(
        services,
        vec![
            ("s3.amazonaws.com", 45, 0),
            ("cloudtrail.amazonaws.com", 2, 1),
            ("iam.amazonaws.com", 1, 0)
        ]
    );
    assert_eq!(r.resources[0].id, "arn:aws:s3:::acme-reports");
    assert!(
        r.resources
            .iter()
            .any(|x| x.id == "arn:aws:iam::111122223333:user/alice")
    );
    let nets: Vec<(&str, bool)> = r
        .networks
        .iter()
        .map(|n| (n.value.as_str(), n.first_seen_in_window))
        .collect();
    assert_eq!(
        nets,
        vec![("198.51.100.0/24", false), ("192.0.2.0/24", true)]
    );
    let agents: Vec<(&str, bool)> = r
        .user_agents
        .iter()
        .map(|n| (n.value.as_str(), n.first_seen_in_window))
        .collect();
    assert_eq!(
        agents,
        vec![("aws-cli/2.15.0", false), (HOSTILE_AGENT, true)]
    );
    let alerts: Vec<&str> = r.alerts.iter().map(|a| a.alert_id.as_str()).collect();
    assert_eq!(alerts, vec!["va-key", "va-stop"]);
    assert_eq!(r.incidents.len(), 1);
    assert_eq!(r.incidents[0].revision, 2, "the latest revision");
    let baseline = r.baseline.as_ref().ok_or("no baseline")?;
    assert_eq!(baseline.alert_id, "va-stop");
    assert_eq!(baseline.figures.get("events_seen"), Some(&90.0));
    assert_eq!(r.activity.bucket_seconds, 3600);
    assert_eq!(r.activity.buckets.len(), 6 * 24);
    assert_eq!(
        r.activity.buckets.iter().map(|b| b.1).sum::<u64>(),
        r.events
    );
    assert_eq!(r.hour_of_week.len(), 168);
    assert_eq!(r.hour_of_week.iter().sum::<u64>(), r.events);
    // 2026-11-20 is a Friday: bob's 03:00 burst is in cell 4 * 24 + 3.
    assert_eq!(r.hour_of_week[4 * 24 + 3], 3);

    // A 30-day window is drawn by day.
    let mut q = query(10)?;
    q.since = Utc
        .with_ymd_and_hms(2026, 10, 22, 0, 0, 0)
        .single()
        .ok_or("time")?;
    let r = identity_report(&lake, &q).await?;
    assert_eq!(r.activity.bucket_seconds, 86_400);
    assert_eq!(r.activity.buckets.len(), 30);
    assert_eq!(r.events, 10 * 9 + 3);
    assert!(
        r.networks
            .iter()
            .all(|n| n.value != "198.51.100.0/24" || n.first_seen_in_window)
    );
    Ok(())
}

#[tokio::test]
async fn renderings_escape_what_attackers_wrote() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    sample_lake(dir.path())?;
    let lake = Lake::open(dir.path()).await?;
    let r = identity_report(&lake, &query(100)?).await?;
    let a = alert_report(&lake, "va-stop").await?;
    for html in [r.render(ReportFormat::Html)?, a.render(ReportFormat::Html)?] {
        assert!(!html.contains("<script>alert"), "unescaped script");
        assert!(!html.contains("<img"), "unescaped img");
        assert!(!html.contains("src=\"http"), "external asset");
        assert!(html.contains("Content-Security-Policy"));
    }
    let html = r.render(ReportFormat::Html)?;
    assert!(html.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(
        html.matches("<script").count(),
        2,
        "chart data and the drawing script only"
    );
    assert!(html.contains("id=\"activity-over-time\"") && html.contains("id=\"hour-of-week\""));
    let md = a.render(ReportFormat::Markdown)?;
    assert!(
        md.contains(
            "client &lt;img src=x onerror=alert\\(2\\)&gt; never seen \\| \\`x\\` \\*\\*bold\\*\\*"
        ),
        "{md}"
    );
    let json: serde_json::Value = serde_json::from_str(&r.render(ReportFormat::Json)?)?;
    assert_eq!(json["user_agents"][1]["value"], HOSTILE_AGENT);
    assert_eq!(json["events"], 48);
    Ok(())
}

#[tokio::test]
async fn alert_report_finds_its_evidence() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    sample_lake(dir.path())?;
    let lake = Lake::open(dir.path()).await?;
    let r = alert_report(&lake, "va-stop").await?;
    assert_eq!(r.alert.reason_key, "aws.cloudtrail.stop-logging");
    assert_eq!(r.evidence.len(), 1);
    assert_eq!(r.evidence[0].event_id, "bob-stop");
    assert_eq!(r.evidence[0].permission, "cloudtrail:StopLogging");
    assert_eq!(r.missing_evidence, vec!["bob-not-in-lake"]);
    assert_eq!(r.incidents.len(), 1);
    assert_eq!(r.incidents[0].alert_ids, vec!["va-key", "va-stop"]);
    let err = alert_report(&lake, "nope").await.err().ok_or("no error")?;
    assert!(
        err.to_string().contains("no alert with id \"nope\""),
        "{err}"
    );
    Ok(())
}

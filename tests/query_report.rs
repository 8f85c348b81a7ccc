//! `vigil query` and `vigil report` over a lake in the hive layout (`table=…/provider=…/date=…/hour=…`):
//! SQL with partition pruning, CSV/JSON output read back, identity and alert reports in Markdown,
//! JSON and HTML, and the HTML page rendered by a real headless Chromium with its charts drawn.

mod common;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::vigil;
use vigil_sink::query::fixture::{BOB, HOSTILE_AGENT, sample_lake};

type TestResult = Result<(), Box<dyn Error>>;

fn fixture_lake() -> Result<(tempfile::TempDir, PathBuf), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let lake = dir.path().join("lake");
    sample_lake(&lake)?;
    Ok((dir, lake))
}

fn run(args: &[&str]) -> Result<Output, Box<dyn Error>> {
    Ok(vigil().args(args).output()?)
}

fn ok_stdout(args: &[&str]) -> Result<String, Box<dyn Error>> {
    let out = run(args)?;
    if !out.status.success() {
        return Err(format!(
            "vigil {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

#[test]
fn query_counts_and_filters_in_every_format() -> TestResult {
    let (_dir, lake) = fixture_lake()?;
    let sql = "SELECT provider, count(*) AS n, count(DISTINCT identity_key) AS ids FROM events \
               GROUP BY provider ORDER BY provider";
    let csv = ok_stdout(&["query", "--lake", path(&lake), "--format", "csv", sql])?;
    assert_eq!(csv, "provider,n,ids\naws,93,1\nazure,10,1\ngcp,10,1\n");

    let sql = format!(
        "SELECT event_id, event_time, outcome_error_code FROM events \
         WHERE identity_key = '{BOB}' AND date = '2026-11-20' ORDER BY event_time"
    );
    let json = ok_stdout(&["query", "--lake", path(&lake), "--format", "json", &sql])?;
    let rows: Vec<serde_json::Value> = json
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let ids: Vec<&str> = rows.iter().filter_map(|r| r["event_id"].as_str()).collect();
    assert_eq!(ids, vec!["bob-key", "bob-denied", "bob-stop"]);
    assert_eq!(rows[1]["outcome_error_code"], "AccessDenied");
    assert!(
        rows[0]["event_time"]
            .as_str()
            .is_some_and(|t| t.starts_with("2026-11-20T03:12:00")),
        "{json}"
    );

    let table = ok_stdout(&[
        "query",
        "--lake",
        path(&lake),
        "SELECT alert_id, severity FROM alerts ORDER BY alert_id",
    ])?;
    assert!(table.contains("| va-key   | high     |"), "{table}");
    assert!(table.trim_end().ends_with("2 rows"), "{table}");
    Ok(())
}

#[test]
fn a_query_on_one_provider_never_opens_the_other_folders() -> TestResult {
    let (_dir, lake) = fixture_lake()?;
    let explain = ok_stdout(&[
        "query",
        "--lake",
        path(&lake),
        "--format",
        "csv",
        "EXPLAIN SELECT count(*) FROM events WHERE provider = 'gcp' AND identity_key = 'x'",
    ])?;
    assert!(explain.contains("provider=gcp"), "{explain}");
    assert!(!explain.contains("provider=aws"), "{explain}");
    assert!(explain.contains("pruning_predicate"), "{explain}");

    // Break every AWS file: a query that is pruned to gcp still answers, one that is not fails.
    for file in walk(&lake.join("table=events/provider=aws")) {
        std::fs::write(&file, b"not parquet")?;
    }
    let gcp = ok_stdout(&[
        "query",
        "--lake",
        path(&lake),
        "--format",
        "csv",
        "SELECT count(*) AS n FROM events WHERE provider = 'gcp'",
    ])?;
    assert_eq!(gcp, "n\n10\n");
    let all = run(&[
        "query",
        "--lake",
        path(&lake),
        "SELECT count(*) FROM events",
    ])?;
    assert!(!all.status.success(), "the broken AWS files were not read");
    Ok(())
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn errors_are_one_clear_line() -> TestResult {
    let (dir, lake) = fixture_lake()?;
    let nope = dir.path().join("nope");
    let cases: [(&[&str], &str); 4] = [
        (
            &["query", "--lake", path(&lake), "SELECT * FROM evnts"],
            "events, alerts, incidents, deadletters",
        ),
        (&["query", "--lake", path(&nope), "SELECT 1"], "no lake at"),
        (
            &["report", "alert", "va-nope", "--lake", path(&lake)],
            "no alert with id \"va-nope\"",
        ),
        (
            &[
                "report",
                "identity",
                BOB,
                "--lake",
                path(&lake),
                "--since",
                "yesterday",
            ],
            "neither an RFC 3339 time",
        ),
    ];
    for (args, expected) in cases {
        let out = run(args)?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
    }
    let help = ok_stdout(&["report", "identity", "--help"])?;
    assert!(
        help.contains("Examples:") && help.contains("--since"),
        "{help}"
    );
    let help = ok_stdout(&["query", "--help"])?;
    assert!(help.contains("SELECT"), "{help}");
    Ok(())
}

fn identity_report(lake: &Path, format: &str) -> Result<String, Box<dyn Error>> {
    ok_stdout(&[
        "report",
        "identity",
        BOB,
        "--lake",
        path(lake),
        "--since",
        "2026-11-15",
        "--until",
        "2026-11-20",
        "--format",
        format,
    ])
}

#[test]
fn identity_report_in_three_formats() -> TestResult {
    let (_dir, lake) = fixture_lake()?;
    let json: serde_json::Value = serde_json::from_str(&identity_report(&lake, "json")?)?;
    assert_eq!(json["events"], 48);
    assert_eq!(json["since"], "2026-11-15T00:00:00Z");
    assert_eq!(
        json["until"], "2026-11-21T00:00:00Z",
        "a date --until is the end of that day"
    );
    assert_eq!(json["networks"][1]["value"], "192.0.2.0/24");
    assert_eq!(json["networks"][1]["first_seen_in_window"], true);
    assert_eq!(json["networks"][0]["first_seen_in_window"], false);
    assert_eq!(json["user_agents"][1]["value"], HOSTILE_AGENT);
    assert_eq!(json["alerts"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["incidents"][0]["revision"], 2);
    assert_eq!(json["baseline"]["figures"]["days_of_history"], 10.0);
    assert_eq!(json["services"][0]["service"], "s3.amazonaws.com");
    assert_eq!(json["timeline"][47]["event_id"], "bob-stop");

    let md = identity_report(&lake, "markdown")?;
    for expected in [
        "# Identity report: arn:aws:iam::111122223333:user/bob",
        "- Events: 48 (1 not successful)",
        "| 192.0.2.0/24 | 3 | 2026-11-20 03:12:00 | 2026-11-20 03:14:00 | **NEW** in window |",
        "| 198.51.100.0/24 | 45 |",
        "| cloudtrail.amazonaws.com | 2 | 1 |",
        "aws.cloudtrail.stop-logging",
        "| events\\_seen | 90 |",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in\n{md}");
    }
    assert!(!md.contains("<script>"), "{md}");

    let html = identity_report(&lake, "html")?;
    assert!(html.contains("<svg id=\"activity-over-time\""));
    assert!(html.contains("<svg id=\"hour-of-week\""));
    assert!(!html.contains("<script>alert"));
    Ok(())
}

#[test]
fn alert_report_in_three_formats() -> TestResult {
    let (_dir, lake) = fixture_lake()?;
    let report = |format: &str| {
        ok_stdout(&[
            "report",
            "alert",
            "va-stop",
            "--lake",
            path(&lake),
            "--format",
            format,
        ])
    };
    let json: serde_json::Value = serde_json::from_str(&report("json")?)?;
    assert_eq!(json["alert"]["identity_key"], BOB);
    assert_eq!(json["evidence"][0]["event_id"], "bob-stop");
    assert_eq!(json["evidence"][0]["source"], "192.0.2.77");
    assert_eq!(json["missing_evidence"][0], "bob-not-in-lake");
    assert_eq!(json["incidents"][0]["incident_id"], "vi-bob");
    let md = report("markdown")?;
    assert!(md.contains("## Evidence (1 of 2 events found)"), "{md}");
    assert!(md.contains("cloudtrail:StopLogging"), "{md}");
    assert!(
        md.contains("- CloudTrail logging stopped \\(cloudtrail:StopLogging\\)"),
        "{md}"
    );
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("alert.html");
    ok_stdout(&[
        "report",
        "alert",
        "va-stop",
        "--lake",
        path(&lake),
        "--format",
        "html",
        "--out",
        path(&out),
    ])?;
    let html = std::fs::read_to_string(&out)?;
    assert!(html.contains("<table id=\"evidence\">"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(!html.contains("<img"));
    Ok(())
}

/// The `<rect>` tags inside `<svg id="{id}" …>…</svg>` of a serialized DOM, as attribute lists.
fn rects(dom: &str, id: &str) -> Vec<Vec<(String, String)>> {
    let Some(start) = dom.find(&format!("id=\"{id}\"")) else {
        return Vec::new();
    };
    let svg = &dom[start..];
    let svg = &svg[..svg.find("</svg>").unwrap_or(svg.len())];
    svg.split("<rect ")
        .skip(1)
        .map(|tag| {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            tag.split("\" ")
                .filter_map(|kv| kv.split_once("=\""))
                .map(|(k, v)| (k.trim().to_string(), v.trim_end_matches('"').to_string()))
                .collect()
        })
        .collect()
}

fn attr<'a>(rect: &'a [(String, String)], name: &str) -> &'a str {
    rect.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

#[test]
fn html_report_charts_are_drawn_by_headless_chromium() -> TestResult {
    let (dir, lake) = fixture_lake()?;
    let page = dir.path().join("bob.html");
    ok_stdout(&[
        "report",
        "identity",
        BOB,
        "--lake",
        path(&lake),
        "--since",
        "2026-11-15",
        "--until",
        "2026-11-20",
        "--format",
        "html",
        "--out",
        path(&page),
    ])?;
    let profile = dir.path().join("chromium-profile");
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--virtual-time-budget=5000", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .map_err(|e| format!("cannot start chromium (bash deploy/scripts/deps/report.sh): {e}"))?;
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // 6 days drawn by the hour: 144 bars, one per bucket, heights following the counts.
    let bars = rects(&dom, "activity-over-time");
    assert_eq!(bars.len(), 144, "{dom}");
    assert!(bars.iter().all(|b| attr(b, "class") == "bar"));
    let mut total = 0;
    for bar in &bars {
        let count: u64 = attr(bar, "data-count").parse()?;
        let height: f64 = attr(bar, "height").parse()?;
        total += count;
        assert_eq!(count > 0, height > 0.0, "bar {bar:?}");
    }
    assert_eq!(total, 48);
    let tallest = bars
        .iter()
        .max_by_key(|b| attr(b, "data-count").parse::<u64>().unwrap_or(0))
        .ok_or("no bar")?;
    assert!(
        attr(tallest, "height").parse::<f64>()? > 100.0,
        "{tallest:?}"
    );

    // 168 hour-of-week cells; Friday 03:00 UTC holds bob's burst.
    let cells = rects(&dom, "hour-of-week");
    assert_eq!(cells.len(), 168);
    assert!(cells.iter().all(|c| attr(c, "class") == "cell"));
    assert_eq!(attr(&cells[4 * 24 + 3], "data-count"), "3");
    assert_eq!(
        cells
            .iter()
            .filter(|c| attr(c, "data-count") != "0")
            .count(),
        5 * 9 + 1,
        "nine office hours on five days, and the 03:00 burst"
    );
    assert!(dom.contains("data-drawn=\"true\""));
    // The hostile user agent is text on the page, not markup.
    assert!(dom.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    Ok(())
}

/// The lake `vigil run` writes (hive layout, the real lake writer) answers the same way.
#[test]
fn the_lake_of_vigil_run_answers_queries_and_reports() -> TestResult {
    let dir = tempfile::tempdir()?;
    let lake = dir.path().join("lake");
    let sample = common::repo_root().join("deploy/sample");
    common::run_pipeline(&[sample.as_path()], &lake, &[]);
    assert!(lake.join("table=events").is_dir());
    let counts = ok_stdout(&[
        "query",
        "--lake",
        path(&lake),
        "--format",
        "csv",
        "SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM alerts) AS alerts, \
         (SELECT count(*) FROM incidents) AS incidents, (SELECT count(*) FROM deadletters) AS dl",
    ])?;
    assert_eq!(counts, "events,alerts,incidents,dl\n43,5,1,1\n");
    let id = ok_stdout(&[
        "query",
        "--lake",
        path(&lake),
        "--format",
        "csv",
        "SELECT alert_id FROM alerts WHERE reason_key = 'aws.cloudtrail.stop-logging'",
    ])?;
    let id = id.lines().nth(1).ok_or("no stop-logging alert")?;
    let alert: serde_json::Value = serde_json::from_str(&ok_stdout(&[
        "report",
        "alert",
        id,
        "--lake",
        path(&lake),
        "--format",
        "json",
    ])?)?;
    assert_eq!(alert["evidence"][0]["permission"], "cloudtrail:StopLogging");
    assert_eq!(alert["missing_evidence"].as_array().map(Vec::len), Some(0));
    assert_eq!(alert["incidents"][0]["tactics"][1], "defense-evasion");
    let bob: serde_json::Value = serde_json::from_str(&ok_stdout(&[
        "report",
        "identity",
        BOB,
        "--lake",
        path(&lake),
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-21",
        "--format",
        "json",
    ])?)?;
    assert_eq!(bob["events"], 4);
    assert_eq!(bob["alerts"].as_array().map(Vec::len), Some(2));
    assert_eq!(bob["incidents"].as_array().map(Vec::len), Some(1));
    let new_net = bob["networks"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["value"] == "192.0.2.0/24"))
        .ok_or("no 192.0.2.0/24")?;
    assert_eq!(new_net["first_seen_in_window"], true);
    Ok(())
}

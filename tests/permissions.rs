//! `vigil permissions` end to end: the shipped sample events through `vigil run`, then the shipped
//! example inventories against the real permission catalog, with findings read back from Parquet by
//! pyarrow and a right-sized policy checked against what the events show.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{repo_root, run_pipeline, run_vigil};

const NOW: &str = "2026-11-21T00:00:00Z";

fn catalog() -> PathBuf {
    let dir = repo_root().join("../shared/iam-catalog");
    assert!(
        dir.join("aws/iam_actions.json").exists(),
        "the permission catalog is expected at {}",
        dir.display()
    );
    dir
}

fn sample_lake(dir: &Path) -> PathBuf {
    let lake = dir.join("lake");
    run_pipeline(&[&repo_root().join("deploy/sample")], &lake, &[]);
    lake
}

fn analyze(lake: &Path, out: Option<&Path>, format: &str) -> std::process::Output {
    let inventory = repo_root().join("deploy/inventory");
    let catalog = catalog();
    let mut args = vec![
        "permissions",
        "analyze",
        "--inventory",
        inventory.to_str().unwrap(),
        "--lake",
        lake.to_str().unwrap(),
        "--catalog",
        catalog.to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        format,
    ];
    if let Some(out) = out {
        args.extend(["--out", out.to_str().unwrap()]);
    }
    run_vigil(&args, None)
}

#[test]
fn sample_inventories_give_every_finding_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let out_dir = dir.path().join("out");
    let o = analyze(&lake, Some(&out_dir), "json");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["events"], 43);
    assert_eq!(
        report["unmapped_actions"],
        serde_json::json!({}),
        "every sample action maps to a permission"
    );
    let findings = report["analysis"]["findings"].as_array().unwrap();
    let has = |provider: &str, kind: &str, key: &str| {
        findings
            .iter()
            .any(|f| f["provider"] == provider && f["kind"] == kind && f["identity_key"] == key)
    };
    let kinds: BTreeSet<&str> = findings.iter().filter_map(|f| f["kind"].as_str()).collect();
    for kind in [
        "inactive_identity",
        "super_identity",
        "over_provisioned",
        "inactive_group",
        "unused_credential",
        "can_read_secrets",
        "can_disable_security_tooling",
        "escalation_path",
    ] {
        assert!(kinds.contains(kind), "no {kind} finding");
    }
    let aws = |rest: &str| format!("arn:aws:iam::111122223333:{rest}");
    assert!(has("aws", "super_identity", &aws("user/bob")));
    assert!(has("aws", "can_disable_security_tooling", &aws("user/bob")));
    assert!(has("aws", "inactive_identity", &aws("user/carol")));
    assert!(has("aws", "unused_credential", &aws("user/carol")));
    assert!(has("aws", "inactive_group", &aws("group/auditors")));
    assert!(has("aws", "over_provisioned", &aws("role/ci-deployer")));
    assert!(
        !has("aws", "inactive_identity", &aws("user/bob")),
        "bob acted in the window"
    );
    assert!(has(
        "azure",
        "super_identity",
        "azure:6b1e0000-0000-4000-8000-0000000ca401"
    ));
    assert!(has("gcp", "super_identity", "gcp:dave@example.com"));
    assert!(has(
        "gcp",
        "unused_credential",
        "gcp:etl-runner@acme-prod.iam.gserviceaccount.com"
    ));

    // Paths: dave assumes ci-deployer, which runs code as lambda-admin; etl-runner goes through two service accounts.
    let paths = report["analysis"]["paths"].as_array().unwrap();
    let path_of = |key: &str| {
        paths
            .iter()
            .find(|p| p["identity_key"] == key)
            .unwrap_or_else(|| panic!("no path for {key}"))["steps"]
            .as_array()
            .unwrap()
            .clone()
    };
    let dave = path_of(&aws("user/engineering/dave"));
    assert_eq!(dave.len(), 2);
    assert_eq!(dave[0]["primitive"], "aws.assume-role");
    assert_eq!(dave[1]["to"], aws("role/service-role/lambda-admin"));
    assert_eq!(
        path_of("gcp:etl-runner@acme-prod.iam.gserviceaccount.com").len(),
        2
    );
    assert!(path_of("azure:5e0d0000-0000-4000-8000-0000000de901").len() >= 2);

    // The Permission Creep Index: bob's unused AdministratorAccess is 100; carol (AWS) has no unused writes.
    let identities = report["analysis"]["identities"].as_array().unwrap();
    let pci = |provider: &str, key: &str| {
        identities
            .iter()
            .find(|i| i["provider"] == provider && i["identity_key"] == key)
            .unwrap()["pci"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(pci("aws", &aws("user/bob")), 100.0);
    assert_eq!(pci("aws", &aws("user/carol")), 0.0);
    assert_eq!(report["analysis"]["accounts"].as_array().unwrap().len(), 3);

    // Parquet, read by an independent reader.
    let script = "import sys, pyarrow.parquet as pq\nt = pq.read_table(sys.argv[1])\nprint(t.num_rows, t.schema.field('pci').type, t.schema.field('analyzed_at').type)";
    let py = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(out_dir.join("findings.parquet"))
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&py.stdout).trim(),
        format!("{} double timestamp[us, tz=UTC]", findings.len())
    );
    assert!(out_dir.join("analysis.json").exists());
}

#[test]
fn the_table_prints_identities_findings_and_paths_step_by_step() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let o = analyze(&lake, None, "table");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    for part in [
        "Identities",
        "Accounts",
        "Findings (",
        "Escalation paths",
        "1. [aws.assume-role]",
        "2. [",
        "43 events read; 0 could not be mapped",
    ] {
        assert!(text.contains(part), "no `{part}` in\n{text}");
    }
}

#[test]
fn rightsize_keeps_what_bob_used_and_removes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let inventory = repo_root().join("deploy/inventory");
    let catalog = catalog();
    let o = run_vigil(
        &[
            "permissions",
            "rightsize",
            "arn:aws:iam::111122223333:user/bob",
            "--inventory",
            inventory.to_str().unwrap(),
            "--lake",
            lake.to_str().unwrap(),
            "--catalog",
            catalog.to_str().unwrap(),
            "--now",
            NOW,
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let policy: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(policy["Version"], "2012-10-17");
    let actions: BTreeSet<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Action"] {
            serde_json::Value::String(a) => vec![a.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => vec![],
        })
        .collect();
    let expected: BTreeSet<String> = [
        "cloudtrail:StopLogging",
        "iam:CreateAccessKey",
        "s3:ListAllMyBuckets",
        "secretsmanager:GetSecretValue",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // CloudTrail calls it ListBuckets; the IAM action that allows it is s3:ListAllMyBuckets.
    assert_eq!(actions, expected);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("keeps 4 permissions"), "{err}");
}

#[test]
fn bad_input_is_a_one_line_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let bad = dir.path().join("aws");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("authorization-details.json"),
        r#"{"UserDetailList": [{"UserName": 7}]}"#,
    )
    .unwrap();
    let catalog = catalog();
    for (args, says) in [
        (
            vec![
                "--inventory",
                bad.to_str().unwrap(),
                "--catalog",
                catalog.to_str().unwrap(),
            ],
            "authorization-details.json",
        ),
        (
            vec![
                "--inventory",
                bad.to_str().unwrap(),
                "--catalog",
                "/nonexistent",
            ],
            "--catalog",
        ),
    ] {
        let mut all = vec![
            "permissions",
            "analyze",
            "--lake",
            lake.to_str().unwrap(),
            "--now",
            NOW,
        ];
        all.extend(args);
        let o = run_vigil(&all, None);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn the_built_in_catalog_needs_no_flag_and_says_what_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let inventory = repo_root().join("deploy/inventory");
    let o = run_vigil(
        &[
            "permissions",
            "analyze",
            "--inventory",
            inventory.to_str().unwrap(),
            "--lake",
            lake.to_str().unwrap(),
            "--now",
            NOW,
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("AWS managed policies are not bundled"),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = report["analysis"]["findings"].as_array().unwrap();
    let has = |kind: &str, key: &str| {
        findings
            .iter()
            .any(|f| f["kind"] == kind && f["identity_key"] == key)
    };
    // Azure and GCP are complete; AWS managed policies are reported, not expanded.
    assert!(has(
        "super_identity",
        "azure:6b1e0000-0000-4000-8000-0000000ca401"
    ));
    assert!(has("super_identity", "gcp:dave@example.com"));
    assert!(!has("super_identity", "arn:aws:iam::111122223333:user/bob"));
    assert_eq!(report["unmapped_actions"], serde_json::json!({}));

    // Right-sizing in JSON carries the full diff.
    let o = run_vigil(
        &[
            "permissions",
            "rightsize",
            "gcp:dave@example.com",
            "--inventory",
            inventory.to_str().unwrap(),
            "--lake",
            lake.to_str().unwrap(),
            "--now",
            NOW,
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["format"], "gcp_custom_role");
    assert_eq!(r["kept"].as_array().unwrap().len(), 4);
    assert!(r["removed"].as_array().unwrap().len() > 10_000);
}

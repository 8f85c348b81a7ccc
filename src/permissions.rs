//! `vigil permissions`: granted versus used across AWS, Azure and GCP, findings, escalation paths and
//! right-sizing. Reads the inventory exports and the permission catalog from disk and the "used" side
//! from the event lake; the analysis itself is `vigil_detect::permissions`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, Utc};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use vigil_detect::permissions::analysis::{self, Analysis, AnalysisOptions, CloudView};
use vigil_detect::permissions::{
    Entitlements, EscalationEdge, ObservedAction, PermissionCatalog, RightSized, Usage,
    UsedPermission, aws, azure, gcp,
};
use vigil_schemas::Provider;

use crate::config::Config;
use crate::permissions_catalog;

/// Arguments of `vigil permissions`.
#[derive(Debug, clap::Args)]
pub(crate) struct PermissionsArgs {
    #[command(subcommand)]
    command: PermissionsCommand,
}

#[derive(Debug, clap::Args)]
struct Inputs {
    /// Inventory exports: files or folders (read recursively). AWS `get-account-authorization-details`
    /// and the credential report; Azure `az role assignment list --all` and `az role definition list`;
    /// GCP `get-iam-policy` outputs, custom roles and service account keys. A folder named aws, azure or
    /// gcp says which cloud its files are; otherwise the content does.
    #[arg(long, required = true, num_args = 1..)]
    inventory: Vec<PathBuf>,
    /// The event lake written by `vigil run` (its `table=events` is what "used" is read from);
    /// default `lake.dir`.
    #[arg(long)]
    lake: Option<PathBuf>,
    /// A permission catalog folder (with `aws/`, `azure/`, `gcp/`), e.g. the full iam-catalog data
    /// pack; default `permissions.catalog_dir`, else the catalog built into Vigil (which lacks AWS
    /// managed policies, see deploy/iam-catalog/README.md).
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// Days of activity that count as "used"; default `permissions.window_days` (90).
    #[arg(long)]
    days: Option<u32>,
    /// The end of the window (RFC 3339); default now. Set it to analyse an old lake as of its time.
    #[arg(long)]
    now: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
enum PermissionsCommand {
    /// Findings for every identity: inactive, super identities, over-provisioned, inactive groups,
    /// unused credentials, secret readers, security-tooling disablers, escalation paths, and the
    /// Permission Creep Index per identity and account.
    ///
    /// Example:
    ///   vigil permissions analyze --inventory deploy/inventory --lake /tmp/vigil-lake \
    ///     --catalog ../shared/iam-catalog --now 2026-11-21T00:00:00Z
    #[command(verbatim_doc_comment)]
    Analyze {
        #[command(flatten)]
        inputs: Inputs,
        /// `table` (default) or `json`.
        #[arg(long, default_value = "table")]
        format: String,
        /// Also write `findings.parquet` and `analysis.json` into this folder.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// A least-privilege policy for one identity from what it used: an AWS IAM policy, an Azure custom
    /// role or a GCP custom role, with what it keeps and what it removes.
    ///
    /// Example:
    ///   vigil permissions rightsize arn:aws:iam::111122223333:user/bob --inventory deploy/inventory \
    ///     --lake /tmp/vigil-lake --catalog ../shared/iam-catalog
    #[command(verbatim_doc_comment)]
    Rightsize {
        /// The identity key (as in the lake's `identity_key` column).
        identity: String,
        #[command(flatten)]
        inputs: Inputs,
        /// `policy` (default: the policy document alone, ready to apply) or `json` (the document with
        /// the full lists of permissions kept and removed).
        #[arg(long, default_value = "policy")]
        format: String,
    },
}

/// One cloud, loaded.
struct Cloud<C> {
    catalog: C,
    entitlements: Vec<Entitlements>,
    edges: Vec<EscalationEdge>,
}

struct Loaded {
    aws: Option<Cloud<aws::Catalog>>,
    azure: Option<Cloud<azure::Catalog>>,
    gcp: Option<Cloud<gcp::Catalog>>,
}

/// The inputs with the configuration's defaults filled in.
struct Resolved {
    inventory: Vec<PathBuf>,
    lake: PathBuf,
    catalog: Option<PathBuf>,
    days: u32,
    now: Option<String>,
}

fn resolve(inputs: Inputs, config: &Config) -> anyhow::Result<Resolved> {
    let catalog = inputs
        .catalog
        .or_else(|| config.permissions.catalog_dir.clone());
    let days = inputs.days.unwrap_or(config.permissions.window_days);
    if days == 0 {
        bail!("--days must be at least 1");
    }
    Ok(Resolved {
        inventory: inputs.inventory,
        lake: inputs.lake.unwrap_or_else(|| config.lake.dir.clone()),
        catalog,
        days,
        now: inputs.now,
    })
}

pub(crate) fn execute(args: PermissionsArgs, config: &Config) -> anyhow::Result<()> {
    match args.command {
        PermissionsCommand::Analyze {
            inputs,
            format,
            out,
        } => {
            let inputs = resolve(inputs, config)?;
            let now = now_of(&inputs)?;
            let loaded = load(&inputs)?;
            let usage = read_usage(&loaded, &inputs.lake, now, inputs.days)?;
            let views = views(&loaded);
            let result = analysis::analyze(
                &views,
                &usage,
                AnalysisOptions {
                    now,
                    window_days: inputs.days,
                },
            );
            if let Some(dir) = &out {
                vigil_sink::findings::write_findings(
                    &dir.join("findings.parquet"),
                    &result.findings,
                )
                .with_context(|| format!("cannot write findings to {}", dir.display()))?;
                let json = serde_json::json!({"analysis": &result, "unmapped_actions": &usage.unmapped, "events": usage.events});
                std::fs::write(
                    dir.join("analysis.json"),
                    serde_json::to_string_pretty(&json)?,
                )
                .with_context(|| format!("cannot write {}", dir.join("analysis.json").display()))?;
            }
            match format.as_str() {
                "json" => println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"analysis": &result, "unmapped_actions": &usage.unmapped, "events": usage.events})
                    )?
                ),
                "table" => print!("{}", render(&result, &usage)),
                other => bail!("unknown --format `{other}`; use table or json"),
            }
            Ok(())
        }
        PermissionsCommand::Rightsize {
            identity,
            inputs,
            format,
        } => {
            let inputs = resolve(inputs, config)?;
            let now = now_of(&inputs)?;
            let loaded = load(&inputs)?;
            let usage = read_usage(&loaded, &inputs.lake, now, inputs.days)?;
            let result = rightsize(&loaded, &usage, &identity)?;
            match format.as_str() {
                "policy" => println!("{}", serde_json::to_string_pretty(&result.document)?),
                "json" => println!("{}", serde_json::to_string_pretty(&result)?),
                other => bail!("unknown --format `{other}`; use policy or json"),
            }
            let examples: Vec<&str> = result.removed.iter().take(5).map(String::as_str).collect();
            if !examples.is_empty() {
                eprintln!("removes, for example: {}", examples.join(", "));
            }
            eprintln!(
                "{}: keeps {} permissions, removes {} ({} format)",
                result.identity,
                result.kept.len(),
                result.removed.len(),
                result.format
            );
            Ok(())
        }
    }
}

fn now_of(inputs: &Resolved) -> anyhow::Result<DateTime<Utc>> {
    match &inputs.now {
        Some(t) => Ok(DateTime::parse_from_rfc3339(t)
            .with_context(|| format!("--now `{t}` is not RFC 3339 (2026-11-21T00:00:00Z)"))?
            .with_timezone(&Utc)),
        None => Ok(Utc::now()),
    }
}

/// Which cloud an inventory file belongs to: a folder named after the cloud, else its content.
fn cloud_of(path: &Path, bytes: &[u8]) -> Option<Provider> {
    for part in path.components().rev().skip(1) {
        match part.as_os_str().to_str() {
            Some("aws") => return Some(Provider::Aws),
            Some("azure") => return Some(Provider::Azure),
            Some("gcp") => return Some(Provider::Gcp),
            _ => {}
        }
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1 << 16)]);
    let has = |s: &str| head.contains(s);
    if has("UserDetailList")
        || has("RoleDetailList")
        || has("GroupDetailList")
        || head.starts_with("user,arn")
        || has("\"AccessKeyMetadata\"")
    {
        Some(Provider::Aws)
    } else if has("roleDefinitionId")
        || has("assignableScopes")
        || has("notActions")
        || has("principalType")
    {
        Some(Provider::Azure)
    } else if has("\"bindings\"")
        || has("includedPermissions")
        || has("validAfterTime")
        || has("preferredMemberKey")
        || has("\"projectId\"")
        || has("iam.gserviceaccount.com")
    {
        Some(Provider::Gcp)
    } else {
        None
    }
}

fn inventory_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                for entry in
                    std::fs::read_dir(&d).with_context(|| format!("cannot list {}", d.display()))?
                {
                    let path = entry?.path();
                    let hidden = path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'));
                    let doc = path
                        .extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| e == "md");
                    if hidden || doc {
                        continue;
                    }
                    if path.is_dir() {
                        stack.push(path);
                    } else {
                        out.push(path);
                    }
                }
            }
        } else if p.exists() {
            out.push(p.clone());
        } else {
            bail!(
                "inventory {} does not exist; pass exported files or folders",
                p.display()
            );
        }
    }
    out.sort();
    Ok(out)
}

fn load(inputs: &Resolved) -> anyhow::Result<Loaded> {
    let mut docs: BTreeMap<Provider, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    for path in inventory_files(&inputs.inventory)? {
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .with_context(|| format!("cannot read {}", path.display()))?;
        let Some(cloud) = cloud_of(&path, &bytes) else {
            bail!(
                "{}: not an inventory export Vigil knows; put it in a folder named aws, azure or gcp, or see `vigil permissions analyze --help`",
                path.display()
            );
        };
        docs.entry(cloud)
            .or_default()
            .push((path.display().to_string(), bytes));
    }
    if docs.is_empty() {
        bail!("no inventory files found under {:?}", inputs.inventory);
    }
    let dir = inputs.catalog.as_deref();
    let mut loaded = Loaded {
        aws: None,
        azure: None,
        gcp: None,
    };
    if let Some(d) = docs.get(&Provider::Aws) {
        let catalog = aws::Catalog::parse(&permissions_catalog::files(
            dir,
            "aws",
            aws::Catalog::FILES,
        )?)?;
        let inventory = aws::parse_inventory(d)?;
        let entitlements = aws::entitlements(&inventory, &catalog);
        let edges = aws::escalation_edges(&inventory, &entitlements, &catalog);
        loaded.aws = Some(Cloud {
            catalog,
            entitlements,
            edges,
        });
    }
    if let Some(d) = docs.get(&Provider::Azure) {
        let catalog = azure::Catalog::parse(&permissions_catalog::files(
            dir,
            "azure",
            azure::Catalog::FILES,
        )?)?;
        let inventory = azure::parse_inventory(d)?;
        azure::check_role_references(&inventory, &catalog)?;
        let entitlements = azure::entitlements(&inventory, &catalog);
        let edges = azure::escalation_edges(&inventory, &entitlements, &catalog);
        loaded.azure = Some(Cloud {
            catalog,
            entitlements,
            edges,
        });
    }
    if let Some(d) = docs.get(&Provider::Gcp) {
        let catalog = gcp::Catalog::parse(&permissions_catalog::files(
            dir,
            "gcp",
            gcp::Catalog::FILES,
        )?)?;
        let inventory = gcp::parse_inventory(d)?;
        for note in &inventory.notes {
            tracing::info!(cloud = "gcp", "{note}");
        }
        let entitlements = gcp::entitlements(&inventory, &catalog);
        let edges = gcp::escalation_edges(&inventory, &entitlements, &catalog);
        loaded.gcp = Some(Cloud {
            catalog,
            entitlements,
            edges,
        });
    }
    Ok(loaded)
}

fn views(loaded: &Loaded) -> Vec<CloudView<'_>> {
    let mut v = Vec::new();
    if let Some(c) = &loaded.aws {
        v.push(CloudView {
            provider: Provider::Aws,
            catalog: &c.catalog,
            entitlements: &c.entitlements,
            edges: &c.edges,
            belongs: aws::usage_belongs_to,
        });
    }
    if let Some(c) = &loaded.azure {
        v.push(CloudView {
            provider: Provider::Azure,
            catalog: &c.catalog,
            entitlements: &c.entitlements,
            edges: &c.edges,
            belongs: azure::usage_belongs_to,
        });
    }
    if let Some(c) = &loaded.gcp {
        v.push(CloudView {
            provider: Provider::Gcp,
            catalog: &c.catalog,
            entitlements: &c.entitlements,
            edges: &c.edges,
            belongs: gcp::usage_belongs_to,
        });
    }
    v
}

/// Most resources kept per identity and permission: enough to scope a policy, bounded for memory.
const RESOURCES_KEPT: usize = 32;

fn read_usage(
    loaded: &Loaded,
    lake: &Path,
    now: DateTime<Utc>,
    days: u32,
) -> anyhow::Result<Usage> {
    let since = now - Duration::days(i64::from(days));
    let mut usage = Usage::default();
    // Mapping an action is the same for every event with it: memoised per (provider, service, operation, permission).
    let mut memo: BTreeMap<(String, String, String, String), Option<Vec<String>>> = BTreeMap::new();
    let events = vigil_sink::lake_scan::scan_actions(lake, since, now, |row| {
        let key = (
            row.provider.to_string(),
            row.service.to_string(),
            row.operation.to_string(),
            row.permission.to_string(),
        );
        let mapped = memo.entry(key).or_insert_with(|| {
            let action = ObservedAction {
                service: row.service,
                operation: row.operation,
                permission: row.permission,
            };
            let names = |catalog: &dyn PermissionCatalog, found: Option<Vec<u32>>| {
                found.map(|ids| {
                    ids.iter()
                        .filter_map(|i| catalog.permissions().get(*i as usize))
                        .map(|p| p.name.clone())
                        .collect()
                })
            };
            match row.provider {
                "aws" => loaded
                    .aws
                    .as_ref()
                    .map(|c| names(&c.catalog, aws::event_permissions(action, &c.catalog)))
                    .unwrap_or(Some(Vec::new())),
                "azure" => loaded
                    .azure
                    .as_ref()
                    .map(|c| names(&c.catalog, azure::event_permissions(action, &c.catalog)))
                    .unwrap_or(Some(Vec::new())),
                "gcp" => loaded
                    .gcp
                    .as_ref()
                    .map(|c| names(&c.catalog, gcp::event_permissions(action, &c.catalog)))
                    .unwrap_or(Some(Vec::new())),
                _ => None,
            }
        });
        let last = usage
            .last_seen
            .entry(row.identity_key.to_string())
            .or_insert(row.time);
        if row.time > *last {
            *last = row.time;
        }
        if let Some(id) = row.credential_id {
            let seen = usage
                .credentials_last_used
                .entry(id.to_string())
                .or_insert(row.time);
            if row.time > *seen {
                *seen = row.time;
            }
        }
        match mapped {
            Some(names) => {
                let per = usage
                    .by_identity
                    .entry(row.identity_key.to_string())
                    .or_default();
                for name in names.iter() {
                    let stat: &mut UsedPermission = per.entry(name.clone()).or_default();
                    stat.count += 1;
                    stat.first = Some(stat.first.map_or(row.time, |t| t.min(row.time)));
                    stat.last = Some(stat.last.map_or(row.time, |t| t.max(row.time)));
                    for r in row.resources {
                        if stat.resources.len() < RESOURCES_KEPT {
                            stat.resources.insert((*r).to_string());
                        }
                    }
                }
            }
            None => {
                *usage
                    .unmapped
                    .entry(format!("{} {}", row.provider, row.permission))
                    .or_default() += 1
            }
        }
    })
    .with_context(|| {
        format!(
            "cannot read the event lake at {} (write one with `vigil run`)",
            lake.display()
        )
    })?;
    usage.events = events;
    Ok(usage)
}

fn rightsize(loaded: &Loaded, usage: &Usage, identity: &str) -> anyhow::Result<RightSized> {
    fn used_of(
        usage: &Usage,
        key: &str,
        belongs: fn(&str, &str) -> bool,
    ) -> BTreeMap<String, UsedPermission> {
        let mut out: BTreeMap<String, UsedPermission> = BTreeMap::new();
        for (k, perms) in &usage.by_identity {
            if k == key || belongs(key, k) {
                for (name, stat) in perms {
                    let e = out.entry(name.clone()).or_default();
                    e.count += stat.count;
                    e.first = match (e.first, stat.first) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    e.last = match (e.last, stat.last) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                    e.resources.extend(stat.resources.iter().cloned());
                }
            }
        }
        out
    }
    if let Some(c) = &loaded.aws
        && let Some(e) = c.entitlements.iter().find(|e| e.principal.key == identity)
    {
        return Ok(aws::rightsize(
            e,
            &used_of(usage, identity, aws::usage_belongs_to),
            &c.catalog,
        ));
    }
    if let Some(c) = &loaded.azure
        && let Some(e) = c.entitlements.iter().find(|e| e.principal.key == identity)
    {
        return Ok(azure::rightsize(
            e,
            &used_of(usage, identity, azure::usage_belongs_to),
            &c.catalog,
        ));
    }
    if let Some(c) = &loaded.gcp
        && let Some(e) = c.entitlements.iter().find(|e| e.principal.key == identity)
    {
        return Ok(gcp::rightsize(
            e,
            &used_of(usage, identity, gcp::usage_belongs_to),
            &c.catalog,
        ));
    }
    bail!(
        "identity `{identity}` is not in the inventories; use the key as `vigil permissions analyze` lists it"
    )
}

fn render(result: &Analysis, usage: &Usage) -> String {
    let mut out = String::new();
    let mut ids = Table::new();
    ids.load_preset(UTF8_FULL_CONDENSED).set_header([
        "cloud",
        "account",
        "identity",
        "granted",
        "used",
        "unused high-risk",
        "PCI",
        "band",
        "last seen",
    ]);
    for i in &result.identities {
        ids.add_row(vec![
            i.provider.clone(),
            i.account.clone(),
            i.name.clone(),
            i.granted.to_string(),
            i.used.to_string(),
            i.unused_high_risk.to_string(),
            format!("{:.0}", i.pci),
            i.band.to_string(),
            i.last_seen
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "never".into()),
        ]);
    }
    out.push_str(&format!("Identities\n{ids}\n"));
    let mut accounts = Table::new();
    accounts.load_preset(UTF8_FULL_CONDENSED).set_header([
        "cloud",
        "account",
        "identities",
        "PCI",
        "band",
        "high",
    ]);
    for a in &result.accounts {
        accounts.add_row(vec![
            a.provider.clone(),
            a.account.clone(),
            a.identities.to_string(),
            format!("{:.0}", a.pci),
            a.band.to_string(),
            a.high.to_string(),
        ]);
    }
    out.push_str(&format!("Accounts\n{accounts}\n"));
    let mut findings = Table::new();
    findings
        .load_preset(UTF8_FULL_CONDENSED)
        .set_header(["severity", "finding", "cloud", "identity", "what", "fix"]);
    for f in &result.findings {
        findings.add_row(vec![
            f.severity.clone(),
            f.kind.clone(),
            f.provider.clone(),
            f.identity_name.clone(),
            f.title.clone(),
            f.suggested_fix.clone(),
        ]);
    }
    out.push_str(&format!(
        "Findings ({})\n{findings}\n",
        result.findings.len()
    ));
    if !result.paths.is_empty() {
        out.push_str("Escalation paths\n");
        for p in &result.paths {
            out.push_str(&format!("  {}\n", p.identity_key));
            for (n, s) in p.steps.iter().enumerate() {
                let to = s.to.clone().unwrap_or_else(|| "admin-equivalent".into());
                out.push_str(&format!(
                    "    {}. [{}] {} → {}: {}\n",
                    n + 1,
                    s.primitive,
                    s.from,
                    to,
                    s.explanation
                ));
            }
        }
    }
    let gaps: u64 = usage.unmapped.values().sum();
    out.push_str(&format!(
        "{} events read; {} could not be mapped to a permission{}\n",
        usage.events,
        gaps,
        if gaps == 0 {
            String::new()
        } else {
            format!(
                " ({} distinct actions, listed in --format json)",
                usage.unmapped.len()
            )
        }
    ));
    out
}

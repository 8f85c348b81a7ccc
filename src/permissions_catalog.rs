//! The permission catalog: the one compiled into the binary (`deploy/iam-catalog`, the parts whose
//! licences allow redistribution), or a folder the user points at.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use anyhow::Context;

/// Files compiled in, by cloud and name (gzip).
const BUNDLED: &[(&str, &str, &[u8])] = &[
    (
        "aws",
        "iam_actions.json",
        include_bytes!("../deploy/iam-catalog/aws/iam_actions.json.gz"),
    ),
    (
        "aws",
        "cloudtrail_map.json",
        include_bytes!("../deploy/iam-catalog/aws/cloudtrail_map.json.gz"),
    ),
    (
        "aws",
        "sensitive_actions.json",
        include_bytes!("../deploy/iam-catalog/aws/sensitive_actions.json.gz"),
    ),
    (
        "azure",
        "built_in_roles.json",
        include_bytes!("../deploy/iam-catalog/azure/built_in_roles.json.gz"),
    ),
    (
        "azure",
        "operations_derived.json",
        include_bytes!("../deploy/iam-catalog/azure/operations_derived.json.gz"),
    ),
    (
        "gcp",
        "predefined_roles.json.gz",
        include_bytes!("../deploy/iam-catalog/gcp/predefined_roles.json.gz"),
    ),
    (
        "gcp",
        "permissions.json",
        include_bytes!("../deploy/iam-catalog/gcp/permissions.json.gz"),
    ),
    (
        "gcp",
        "method_permissions.json",
        include_bytes!("../deploy/iam-catalog/gcp/method_permissions.json.gz"),
    ),
    (
        "gcp",
        "sensitive_permissions.json",
        include_bytes!("../deploy/iam-catalog/gcp/sensitive_permissions.json.gz"),
    ),
];

/// Stands in for AWS managed policies, which are not redistributed (see deploy/iam-catalog/README.md).
const NO_MANAGED_POLICIES: &[u8] =
    br#"{"_meta": {"note": "AWS managed policies are not bundled with Vigil"}, "policies": {}}"#;

fn gunzip_if_gzip(name: &str, bytes: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    // A file named `.gz` is handed over as it is: its parser expects the compressed form.
    if !bytes.starts_with(&[0x1f, 0x8b]) || name.ends_with(".gz") {
        return Ok(bytes);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut out)
        .with_context(|| format!("catalog file {name} is not valid gzip"))?;
    Ok(out)
}

/// The files `names` of `cloud`'s catalog: from `dir/<cloud>/` (plain or `.gz`) when a folder is
/// given, else the bundled copy.
pub(crate) fn files(
    dir: Option<&Path>,
    cloud: &str,
    names: &[&str],
) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut files = BTreeMap::new();
    for name in names {
        let bytes = match dir {
            Some(dir) => {
                let path = dir.join(cloud).join(name);
                let gz = dir.join(cloud).join(format!("{name}.gz"));
                let read = if path.exists() {
                    std::fs::read(&path)
                } else {
                    std::fs::read(&gz)
                };
                read.with_context(|| format!("the permission catalog has no {} (pass --catalog pointing at an iam-catalog folder)", path.display()))?
            }
            None => match BUNDLED.iter().find(|(c, n, _)| *c == cloud && n == name) {
                Some((_, _, bytes)) => bytes.to_vec(),
                None if cloud == "aws" && *name == "managed_policies.json" => {
                    tracing::warn!(
                        "AWS managed policies are not bundled; pass --catalog with the full iam-catalog pack to expand them"
                    );
                    NO_MANAGED_POLICIES.to_vec()
                }
                None => anyhow::bail!("the bundled catalog has no {cloud}/{name}; pass --catalog"),
            },
        };
        files.insert((*name).to_string(), gunzip_if_gzip(name, bytes)?);
    }
    Ok(files)
}

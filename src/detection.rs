//! Builds the detect stage both `vigil run` and `vigil detect` use: the engine with its settings and
//! the analyst feedback file folded into its suppressions.

use anyhow::{Context, bail};
use vigil_detect::engine::{Engine, EngineConfig, Suppression};

/// The engine for `config`, with the feedback file (if any) read and applied.
pub(crate) fn engine(config: &EngineConfig) -> anyhow::Result<Engine> {
    let mut config = config.clone();
    if let Some(path) = &config.feedback_file {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the feedback file {}; fix detect.feedback_file or create the file",
                path.display()
            )
        })?;
        let verdicts =
            parse_feedback(&text).with_context(|| format!("feedback file {}", path.display()))?;
        config.suppress.extend(verdicts);
    }
    Engine::new(config).map_err(|e| anyhow::anyhow!("invalid [detect] settings: {e}"))
}

/// One suppression per line: an alert line (`identity_key` + `reason_key`) or `{identity, reason}`.
fn parse_feedback(text: &str) -> anyhow::Result<Vec<Suppression>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("line {} is not JSON", i + 1))?;
        let field = |a: &str, b: &str| {
            value
                .get(a)
                .or_else(|| value.get(b))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let (Some(identity), Some(reason)) = (
            field("identity", "identity_key"),
            field("reason", "reason_key"),
        ) else {
            bail!(
                "line {}: needs identity and reason (or an alert's identity_key and reason_key)",
                i + 1
            );
        };
        out.push(Suppression { identity, reason });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_reads_alert_lines_and_short_forms() -> anyhow::Result<()> {
        let text = "# benign\n{\"alert_id\":\"va-1\",\"identity_key\":\"bob\",\"reason_key\":\"model:new_networks\",\"score\":90}\n\n{\"identity\":\"ci-*\",\"reason\":\"*\"}\n";
        let s = parse_feedback(text)?;
        assert_eq!(s.len(), 2);
        assert!(s[0].matches("bob", "model:new_networks"));
        assert!(s[1].matches("ci-deploy", "aws.cloudtrail.stop-logging"));
        let Err(err) = parse_feedback("{\"identity\":\"x\"}") else {
            anyhow::bail!("a line without a reason was accepted");
        };
        assert!(format!("{err:#}").contains("line 1"));
        Ok(())
    }
}

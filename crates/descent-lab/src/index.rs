//! The index `descent reproduce` writes: every claim across all experiments, with its experiment
//! and the relative path of its report (index.json and index.md).

use std::fmt::Write as _;
use std::path::Path;

use descent_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::report::{ClaimKind, Report, short_json};

/// One claim in the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The experiment's name (`descent run <name>`).
    pub experiment: String,
    /// The paper's short id.
    pub paper: String,
    /// The claim's id within its report.
    pub id: String,
    /// What the claim states.
    pub statement: String,
    /// Whether the claim is asserted or only reported.
    pub kind: ClaimKind,
    /// The measured value(s), as in report.json.
    pub measured: Value,
    /// What the claim expects, in words.
    pub expected: String,
    /// Whether the measurement meets the expectation.
    pub holds: bool,
    /// Relative path of the experiment's report.json.
    pub report: String,
}

/// `{"claims": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Every claim of every report, in experiment order.
    pub claims: Vec<IndexEntry>,
}

impl Index {
    /// The index of the reports of one reproduce run (each written to `<experiment>/`).
    pub fn from_reports(reports: &[Report]) -> Index {
        let claims = reports
            .iter()
            .flat_map(|r| {
                r.claims.iter().map(|c| IndexEntry {
                    experiment: r.experiment.clone(),
                    paper: r.paper.clone(),
                    id: c.id.clone(),
                    statement: c.statement.clone(),
                    kind: c.kind,
                    measured: c.measured.clone(),
                    expected: c.expected.clone(),
                    holds: c.holds,
                    report: format!("{}/report.json", r.experiment),
                })
            })
            .collect();
        Index { claims }
    }

    /// Writes index.json and index.md into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = dir.join("index.json");
        let json = serde_json::to_string_pretty(self).map_err(|e| Error::io(&path, e))?;
        std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
        let path = dir.join("index.md");
        std::fs::write(&path, self.markdown()).map_err(|e| Error::io(&path, e))?;
        Ok(())
    }

    /// One table of every claim, grouped by experiment.
    pub fn markdown(&self) -> String {
        let mut s = String::from("# descent: every claim\n\n");
        let asserted = self.claims.iter().filter(|c| c.kind == ClaimKind::Asserted);
        let (n_a, held_a) = asserted.fold((0, 0), |(n, h), c| (n + 1, h + c.holds as usize));
        let _ = writeln!(
            s,
            "{held_a} of {n_a} asserted claims hold; {} claims in all.\n",
            self.claims.len()
        );
        s.push_str("| experiment | claim | kind | measured | expected | holds |\n");
        s.push_str("|---|---|---|---|---|---|\n");
        for c in &self.claims {
            let _ = writeln!(
                s,
                "| [{}]({}) | `{}` {} | {} | {} | {} | {} |",
                c.experiment,
                c.report.replace("report.json", "report.md"),
                c.id,
                c.statement.replace('|', "\\|"),
                match c.kind {
                    ClaimKind::Asserted => "asserted",
                    ClaimKind::Reported => "reported",
                },
                short_json(&c.measured).replace('|', "\\|"),
                c.expected.replace('|', "\\|"),
                if c.holds { "yes" } else { "**no**" }
            );
        }
        s
    }
}

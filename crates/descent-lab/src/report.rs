//! The [`Report`] every experiment returns (DESIGN §5): claims with computed verdicts,
//! assumptions, tables and series, written as report.json, report.md, one CSV per table or
//! series, and the figures as PNG and SVG.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use descent_core::{Error, EvalCounts, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plot::Figure;

/// Whether a claim gates the quick-preset test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimKind {
    /// Calibrated in the paper's spec: the quick-preset test fails when it does not hold.
    Asserted,
    /// Measured and judged, never gating (claims the spec could not confirm, speed ratios).
    Reported,
}

/// One checkable statement of a paper, with what was measured and whether it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    /// `"<experiment>/<short-name>"`, unique across the toolkit.
    pub id: String,
    /// What the paper states, in words.
    pub statement: String,
    /// Asserted (a failure fails the run's check) or reported only.
    pub kind: ClaimKind,
    /// A number, list or object.
    pub measured: Value,
    /// A short human-readable condition: "<= 1e-4", "strictly increasing", "in [0.85, 1.25]".
    pub expected: String,
    /// Computed from `measured` by the constructor, never typed in.
    pub holds: bool,
}

impl Claim {
    fn new(
        id: &str,
        statement: &str,
        kind: ClaimKind,
        measured: Value,
        expected: String,
        holds: bool,
    ) -> Self {
        Claim {
            id: id.to_string(),
            statement: statement.to_string(),
            kind,
            measured,
            expected,
            holds,
        }
    }

    /// Holds when `measured ≤ bound` (NaN never holds).
    pub fn at_most(id: &str, statement: &str, kind: ClaimKind, measured: f64, bound: f64) -> Self {
        Self::new(
            id,
            statement,
            kind,
            num(measured),
            format!("<= {bound}"),
            measured <= bound,
        )
    }

    /// Holds when `measured ≥ bound` (NaN never holds).
    pub fn at_least(id: &str, statement: &str, kind: ClaimKind, measured: f64, bound: f64) -> Self {
        Self::new(
            id,
            statement,
            kind,
            num(measured),
            format!(">= {bound}"),
            measured >= bound,
        )
    }

    /// Holds when `lo ≤ measured ≤ hi`.
    pub fn in_range(
        id: &str,
        statement: &str,
        kind: ClaimKind,
        measured: f64,
        lo: f64,
        hi: f64,
    ) -> Self {
        let holds = measured >= lo && measured <= hi;
        Self::new(
            id,
            statement,
            kind,
            num(measured),
            format!("in [{lo}, {hi}]"),
            holds,
        )
    }

    /// Holds when the values strictly increase.
    pub fn strictly_increasing(id: &str, statement: &str, kind: ClaimKind, values: &[f64]) -> Self {
        let holds = values.len() >= 2 && values.windows(2).all(|w| w[1] > w[0]);
        let measured = Value::Array(values.iter().map(|v| num(*v)).collect());
        Self::new(
            id,
            statement,
            kind,
            measured,
            "strictly increasing".into(),
            holds,
        )
    }

    /// Holds when the values strictly decrease.
    pub fn strictly_decreasing(id: &str, statement: &str, kind: ClaimKind, values: &[f64]) -> Self {
        let holds = values.len() >= 2 && values.windows(2).all(|w| w[1] < w[0]);
        let measured = Value::Array(values.iter().map(|v| num(*v)).collect());
        Self::new(
            id,
            statement,
            kind,
            measured,
            "strictly decreasing".into(),
            holds,
        )
    }

    /// A claim about every case of a set ("for every split", "at every learning rate"): holds
    /// when `holds_for` is true of each case's value and there is at least one case (NaN should
    /// fail the predicate; `x <= b` does). `measured` keeps every case's value by name and lists
    /// the failing cases by name, so a case that fails is shown, never dropped.
    pub fn for_every(
        id: &str,
        statement: &str,
        kind: ClaimKind,
        cases: &[(String, f64)],
        expected: &str,
        holds_for: impl Fn(f64) -> bool,
    ) -> Self {
        let failing: Vec<Value> = cases
            .iter()
            .filter(|(_, v)| !holds_for(*v))
            .map(|(name, _)| Value::String(name.clone()))
            .collect();
        let values: serde_json::Map<String, Value> = cases
            .iter()
            .map(|(name, v)| (name.clone(), num(*v)))
            .collect();
        let holds = !cases.is_empty() && failing.is_empty();
        let measured = serde_json::json!({ "values": values, "failing": failing });
        Self::new(id, statement, kind, measured, expected.to_string(), holds)
    }

    /// A claim whose verdict is a predicate over structured measurements; `expected` says what
    /// the predicate checks.
    pub fn judged(
        id: &str,
        statement: &str,
        kind: ClaimKind,
        measured: Value,
        expected: &str,
        holds: bool,
    ) -> Self {
        Self::new(id, statement, kind, measured, expected.to_string(), holds)
    }
}

/// A JSON number, or null for NaN/inf (JSON has no non-finite numbers).
pub fn num(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// A named table: columns and rows of JSON scalars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// The table's name.
    pub name: String,
    /// Column headers.
    pub columns: Vec<String>,
    /// Rows, each with one value per column.
    pub rows: Vec<Vec<Value>>,
}

/// A named set of equal-length numeric columns (a curve, or several sharing an x column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// The series' name.
    pub name: String,
    /// Column names, one per entry of `data`.
    pub columns: Vec<String>,
    /// `data[c]` is column `c`.
    pub data: Vec<Vec<f64>>,
}

/// Everything an experiment run produced (DESIGN §5). An experiment fills `claims`,
/// `assumptions`, `tables`, `series` and `evals`; the runner
/// ([`crate::experiment::run_and_write`]) fills the run metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The experiment's name (`descent run <name>`).
    pub experiment: String,
    /// The paper's short id (`P1` … `P10`).
    pub paper: String,
    /// `quick` or `full` for a paper experiment; `custom` for a `compare` or `active` study,
    /// whose settings are its flags (recorded in `config`).
    pub preset: String,
    /// The run's seed.
    pub seed: u64,
    /// The resolved config the run used.
    pub config: Value,
    /// Wall-clock seconds of the run.
    pub elapsed_s: f64,
    /// Oracle evaluations of the whole run.
    pub evals: EvalCounts,
    /// The paper's checkable statements and their measurements.
    pub claims: Vec<Claim>,
    /// Assumptions the run made, in words.
    pub assumptions: Vec<String>,
    /// Tables of results.
    pub tables: Vec<Table>,
    /// Numeric series (the data behind the figures).
    pub series: Vec<Series>,
    /// File stems of the figures (each written as `<stem>.png` and `<stem>.svg`).
    #[serde(default)]
    pub figures: Vec<String>,
}

fn csv_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{s}.csv")
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "NaN".into(),
        other => other.to_string(),
    }
}

impl Report {
    /// Adds a claim.
    pub fn claim(&mut self, claim: Claim) -> &mut Self {
        self.claims.push(claim);
        self
    }

    /// Adds an assumption (a reading of the paper where it leaves something open).
    pub fn assume(&mut self, text: impl Into<String>) -> &mut Self {
        self.assumptions.push(text.into());
        self
    }

    /// Adds a series of equal-length named columns.
    pub fn add_series(&mut self, name: &str, columns: &[(&str, Vec<f64>)]) -> &mut Self {
        self.series.push(Series {
            name: name.to_string(),
            columns: columns.iter().map(|(c, _)| c.to_string()).collect(),
            data: columns.iter().map(|(_, d)| d.clone()).collect(),
        });
        self
    }

    /// Adds a table.
    pub fn add_table(&mut self, name: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> &mut Self {
        self.tables.push(Table {
            name: name.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows,
        });
        self
    }

    /// Asserted claims that do not hold.
    pub fn failed_asserted(&self) -> Vec<&Claim> {
        self.claims
            .iter()
            .filter(|c| c.kind == ClaimKind::Asserted && !c.holds)
            .collect()
    }

    /// Writes report.json, report.md, the CSVs and the figures into `dir` (created if missing).
    pub fn write(&mut self, dir: &Path, figures: &[(String, Figure)]) -> Result<PathBuf> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        self.figures = figures.iter().map(|(stem, _)| stem.clone()).collect();
        for (stem, fig) in figures {
            fig.save(dir, stem)?;
        }
        for t in &self.tables {
            let mut w = csv_writer(&dir.join(csv_name(&t.name)))?;
            write_record(&mut w, dir, t.columns.iter().cloned())?;
            for row in &t.rows {
                write_record(&mut w, dir, row.iter().map(cell))?;
            }
        }
        for s in &self.series {
            let mut w = csv_writer(&dir.join(csv_name(&s.name)))?;
            write_record(&mut w, dir, s.columns.iter().cloned())?;
            let n = s.data.iter().map(Vec::len).max().unwrap_or(0);
            for i in 0..n {
                write_record(
                    &mut w,
                    dir,
                    s.data
                        .iter()
                        .map(|c| c.get(i).map_or(String::new(), |v| v.to_string())),
                )?;
            }
        }
        let json_path = dir.join("report.json");
        let json = serde_json::to_string_pretty(self).map_err(|e| Error::io(&json_path, e))?;
        std::fs::write(&json_path, json).map_err(|e| Error::io(&json_path, e))?;
        let md_path = dir.join("report.md");
        std::fs::write(&md_path, self.markdown()).map_err(|e| Error::io(&md_path, e))?;
        Ok(json_path)
    }

    /// The report for people: claims table first, then assumptions, tables and figures.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# {} ({}), preset {}, seed {}\n",
            self.experiment, self.paper, self.preset, self.seed
        );
        let held = self.claims.iter().filter(|c| c.holds).count();
        let _ = writeln!(
            s,
            "{held} of {} claims hold; {:.1} s.\n",
            self.claims.len(),
            self.elapsed_s
        );
        if !self.claims.is_empty() {
            s.push_str("| claim | kind | statement | measured | expected | holds |\n|---|---|---|---|---|---|\n");
            for c in &self.claims {
                let _ = writeln!(
                    s,
                    "| `{}` | {} | {} | {} | {} | {} |",
                    c.id,
                    match c.kind {
                        ClaimKind::Asserted => "asserted",
                        ClaimKind::Reported => "reported",
                    },
                    c.statement.replace('|', "\\|"),
                    short_json(&c.measured).replace('|', "\\|"),
                    c.expected.replace('|', "\\|"),
                    if c.holds { "yes" } else { "**no**" }
                );
            }
            s.push('\n');
        }
        if !self.assumptions.is_empty() {
            s.push_str("## Assumptions\n\n");
            for a in &self.assumptions {
                let _ = writeln!(s, "- {a}");
            }
            s.push('\n');
        }
        for t in &self.tables {
            let _ = writeln!(s, "## {}\n", t.name);
            let _ = writeln!(s, "| {} |", t.columns.join(" | "));
            let _ = writeln!(s, "|{}", "---|".repeat(t.columns.len()));
            for row in &t.rows {
                let cells: Vec<String> = row.iter().map(short_json).collect();
                let _ = writeln!(s, "| {} |", cells.join(" | "));
            }
            let _ = writeln!(s, "\n([{}]({}))\n", csv_name(&t.name), csv_name(&t.name));
        }
        if !self.figures.is_empty() {
            s.push_str("## Figures\n\n");
            for f in &self.figures {
                let _ = writeln!(s, "![{f}]({f}.png)\n");
            }
        }
        if !self.series.is_empty() {
            s.push_str("## Data\n\n");
            for se in &self.series {
                let _ = writeln!(s, "- [{}]({})", se.name, csv_name(&se.name));
            }
        }
        s
    }
}

/// A compact rendering of a measurement: numbers with 4 significant digits.
pub fn short_json(v: &Value) -> String {
    match v {
        Value::Number(n) => n.as_f64().map_or(n.to_string(), sig4),
        Value::Array(a) if a.len() <= 12 => {
            format!(
                "[{}]",
                a.iter().map(short_json).collect::<Vec<_>>().join(", ")
            )
        }
        Value::Array(a) => format!("[{} values]", a.len()),
        Value::String(s) => s.clone(),
        Value::Null => "NaN".into(),
        Value::Object(o) => {
            let parts: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{k}: {}", short_json(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Bool(b) => b.to_string(),
    }
}

/// A number with 4 significant digits, in scientific notation outside [1e-3, 1e5).
pub fn sig4(x: f64) -> String {
    if x == 0.0 || x.fract() == 0.0 && x.abs() < 1e9 {
        return format!("{x}");
    }
    let a = x.abs();
    if (1e-3..1e5).contains(&a) {
        let digits = (3 - a.log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    } else {
        format!("{x:.3e}")
    }
}

fn csv_writer(path: &Path) -> Result<csv::Writer<std::fs::File>> {
    csv::Writer::from_path(path).map_err(|e| Error::io(path, e))
}

fn write_record(
    w: &mut csv::Writer<std::fs::File>,
    dir: &Path,
    rec: impl Iterator<Item = String>,
) -> Result<()> {
    w.write_record(rec.collect::<Vec<_>>())
        .map_err(|e| Error::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_verdicts_are_computed() {
        let k = ClaimKind::Asserted;
        assert!(Claim::at_most("x/a", "s", k, 1e-5, 1e-4).holds);
        assert!(!Claim::at_most("x/a", "s", k, f64::NAN, 1e-4).holds);
        assert!(Claim::in_range("x/b", "s", k, 1.0, 0.85, 1.25).holds);
        assert!(!Claim::in_range("x/b", "s", k, 1.3, 0.85, 1.25).holds);
        assert!(Claim::strictly_increasing("x/c", "s", k, &[1.0, 2.0, 3.0]).holds);
        assert!(!Claim::strictly_increasing("x/c", "s", k, &[1.0, 2.0, 2.0]).holds);
        assert_eq!(
            Claim::at_least("x/d", "s", k, 0.9, 0.96).expected,
            ">= 0.96"
        );
        assert_eq!(num(f64::NAN), Value::Null);
    }

    #[test]
    fn every_case_claims_name_their_failing_cases() {
        let k = ClaimKind::Reported;
        let cases = |v: &[f64]| -> Vec<(String, f64)> {
            v.iter()
                .enumerate()
                .map(|(i, x)| (format!("split{i}"), *x))
                .collect()
        };
        let c = Claim::for_every(
            "x/e",
            "s",
            k,
            &cases(&[0.1, 0.5, f64::NAN]),
            "<= 0.2",
            |v| v <= 0.2,
        );
        assert!(!c.holds);
        assert_eq!(
            c.measured["failing"],
            serde_json::json!(["split1", "split2"])
        );
        assert_eq!(c.measured["values"]["split0"], 0.1);
        assert_eq!(c.measured["values"]["split2"], Value::Null);
        assert!(Claim::for_every("x/e", "s", k, &cases(&[0.1, 0.2]), "<= 0.2", |v| v <= 0.2).holds);
        assert!(!Claim::for_every("x/e", "s", k, &[], "<= 0.2", |v| v <= 0.2).holds);
    }

    #[test]
    fn numbers_render_with_four_significant_digits() {
        assert_eq!(sig4(0.123456), "0.1235");
        assert_eq!(sig4(12.3456), "12.35");
        assert_eq!(sig4(1.5e-7), "1.500e-7");
        assert_eq!(sig4(3.0), "3");
    }
}

//! The experiment framework end to end: a small experiment registered in a registry, run through
//! its quick preset, its report validated against the schema and its files checked.

use descent_core::testfns::Quadratic;
use descent_core::{Error, Gradient, Result};
use descent_lab::experiment::{
    Experiment, Paper, PaperConfig, Preset, Registry, RunContext, RunOutput, quick_config_error,
    resolve_config, run_quick_checked,
};
use descent_lab::plot::{Figure, Line, Panel};
use descent_lab::report::{Claim, ClaimKind, Report};
use serde::{Deserialize, Serialize};

/// Gradient descent with step 1/L on a diagonal quadratic with spectrum [1, κ].
struct GdDemo;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct DemoConfig {
    /// Condition number κ.
    kappa: f64,
    /// GD steps.
    steps: usize,
    nested: Nested,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Nested {
    start: f64,
}

impl Default for Nested {
    fn default() -> Self {
        Nested { start: 1.0 }
    }
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            kappa: 10.0,
            steps: 200,
            nested: Nested::default(),
        }
    }
}

impl PaperConfig for DemoConfig {
    fn quick() -> Self {
        DemoConfig::default()
    }
    fn full() -> Self {
        DemoConfig {
            steps: 2000,
            ..DemoConfig::default()
        }
    }
    fn validate(&self) -> Result<()> {
        if self.kappa.is_nan() || self.kappa < 1.0 {
            return Err(Error::invalid("kappa", self.kappa, "a number >= 1"));
        }
        if self.steps < 10 {
            return Err(Error::invalid("steps", self.steps, "an integer >= 10"));
        }
        Ok(())
    }
}

impl Paper for GdDemo {
    type Config = DemoConfig;
    const NAME: &'static str = "gd-demo";
    const PAPER: &'static str = "P0 gradient descent on a quadratic";
    const SUMMARY: &'static str = "GD with step 1/L contracts the error by (1 - 1/kappa) per step";

    fn reproduce(&self, c: &DemoConfig, _ctx: &RunContext<'_>) -> Result<RunOutput> {
        let mut q = Quadratic::diagonal(&[1.0, c.kappa], &[0.0, 0.0])?;
        let mut x = vec![c.nested.start; 2];
        let mut g = vec![0.0; 2];
        let mut losses = Vec::new();
        for _ in 0..c.steps {
            losses.push(q.value_grad(&x, &mut g));
            for (xi, gi) in x.iter_mut().zip(&g) {
                *xi -= gi / c.kappa;
            }
        }
        let predicted =
            0.5 * c.nested.start.powi(2) * (1.0 - 1.0 / c.kappa).powi(2 * c.steps as i32);
        let mut report = Report::default();
        report
            .claim(Claim::strictly_decreasing(
                "gd-demo/monotone",
                "the loss decreases at every step",
                ClaimKind::Asserted,
                &losses[..10],
            ))
            .claim(Claim::in_range(
                "gd-demo/rate",
                "the final loss equals the predicted contraction",
                ClaimKind::Asserted,
                losses[c.steps - 1] / predicted,
                0.99,
                1.01 * (1.0 - 1.0 / c.kappa).powi(-2),
            ))
            .assume("step size 1/L with L = kappa");
        let steps: Vec<f64> = (0..c.steps).map(|i| i as f64).collect();
        report.add_series("loss", &[("step", steps.clone()), ("loss", losses.clone())]);
        let fig = Figure {
            caption: None,
            panels: vec![Panel {
                title: "GD on a quadratic".into(),
                x_label: "step".into(),
                y_label: "loss".into(),
                log_y: true,
                lines: vec![Line::new("gd", steps, losses)],
                ..Default::default()
            }],
        };
        Ok(RunOutput {
            report,
            figures: vec![("loss".into(), fig)],
        })
    }
}

#[test]
fn a_registered_experiment_writes_a_valid_report() {
    let mut reg = Registry::new();
    reg.register(Box::new(GdDemo)).unwrap();
    assert!(reg.register(Box::new(GdDemo)).is_err());
    let e = reg.get("gd-dem").err().unwrap().to_string();
    assert_eq!(e, "unknown experiment 'gd-dem'; valid: gd-demo");
    let dir = tempfile::tempdir().unwrap();
    let report = run_quick_checked(reg.get("gd-demo").unwrap(), 3, dir.path());
    assert_eq!(report.claims.len(), 2);
    assert_eq!(report.seed, 3);
    assert_eq!(report.preset, "quick");
    assert_eq!(report.config["steps"], 200);
    let csv = std::fs::read_to_string(dir.path().join("loss.csv")).unwrap();
    assert_eq!(csv.lines().next().unwrap(), "step,loss");
    assert_eq!(csv.lines().count(), 201);
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("| `gd-demo/rate` | asserted |"), "{md}");
    assert!(md.contains("![loss](loss.png)"));
}

#[test]
fn overrides_apply_and_bad_ones_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let toml = dir.path().join("c.toml");
    std::fs::write(&toml, "kappa = 4.0\n[nested]\nstart = 2.0\n").unwrap();
    let cfg = resolve_config(&GdDemo, Preset::Full, Some(&toml), &["steps=50".into()]).unwrap();
    assert_eq!(cfg["kappa"], 4.0);
    assert_eq!(cfg["steps"], 50);
    assert_eq!(cfg["nested"]["start"], 2.0);
    let e = resolve_config(&GdDemo, Preset::Quick, None, &["nested.stat=1".into()])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "unknown key 'nested.stat' for 'nested'; valid keys: start"
    );
    let e = resolve_config(&GdDemo, Preset::Quick, None, &["steps=many".into()])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "invalid value for 'steps': got \"many\", expected an integer"
    );
    std::fs::write(&toml, "kapa = 4.0\n").unwrap();
    let e = resolve_config(&GdDemo, Preset::Quick, Some(&toml), &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("unknown key 'kapa' for the config (in "),
        "{e}"
    );
    assert!(e.ends_with("valid keys: kappa, nested, steps"), "{e}");
}

#[test]
fn a_paper_validates_its_typed_config_before_running() {
    assert_eq!(
        quick_config_error(&GdDemo, &["kappa=0.5"]).expect("an error"),
        "invalid value for 'kappa': got 0.5, expected a number >= 1"
    );
    assert_eq!(
        quick_config_error(&GdDemo, &["steps=3"]).expect("an error"),
        "invalid value for 'steps': got 3, expected an integer >= 10"
    );
    assert!(quick_config_error(&GdDemo, &["steps=20"]).is_none());
    assert_eq!(GdDemo.config(Preset::Full)["steps"], 2000);
    assert_eq!(GdDemo.name(), "gd-demo");
}

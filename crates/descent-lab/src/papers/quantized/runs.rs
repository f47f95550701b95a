//! The run machinery Z1, Z2 and Z3 share: a quantization setting (which of P7's four components
//! W, G, M, V are quantized, to how many mantissa bits, with which rounding), its optimizer spec
//! text, the step loop of one run, (setting × seed) grids through the harness job runner, and
//! the per-component sweep (final loss against mantissa bits) with its table and figure panels.

use descent_core::{EvalCounter, EvalCounts, Problem, Result, RngStreams};
use descent_optim::{Optimizer, parse_optimizer};
use serde_json::{Value, json};

use crate::harness::{par_grid, stats};
use crate::plot::{LegendAt, Line, Panel};
use crate::report::num;

/// Which optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opt {
    /// Adam (P7 §2.3).
    Adam,
    /// Muon (P7 §2.4).
    Muon,
}

impl Opt {
    /// The display name.
    pub fn name(self) -> &'static str {
        match self {
            Opt::Adam => "Adam",
            Opt::Muon => "Muon",
        }
    }

    /// `adam` or `muon` learning rate of a problem's config.
    pub fn lr(self, adam_lr: f64, muon_lr: f64) -> f64 {
        match self {
            Opt::Adam => adam_lr,
            Opt::Muon => muon_lr,
        }
    }
}

/// One quantization setting: which components, how many mantissa bits, which rounding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setting {
    /// Components among 'W', 'G', 'M', 'V' (P7 §2.2: weights seen by the worker, gradient,
    /// first moment or momentum, second moment); empty = full precision.
    pub comps: &'static str,
    /// Mantissa bits M of the quantized components (exponent bits 8).
    pub bits: u32,
    /// `nearest` or `stochastic` (the rounding names of the format spec).
    pub round: &'static str,
}

/// Full precision (f64, no quantizer; the table shows its 52 mantissa bits).
pub const FP: Setting = Setting {
    comps: "",
    bits: 52,
    round: "nearest",
};

/// The setting quantizing `comps` to E8M`bits` with rounding `round`.
pub fn set(comps: &'static str, bits: u32, round: &'static str) -> Setting {
    Setting { comps, bits, round }
}

impl Setting {
    /// `"V nearest M=7"`, or `"fp64"` for full precision.
    pub fn label(&self) -> String {
        if self.comps.is_empty() {
            "fp64".into()
        } else {
            format!("{} {} M={}", self.comps, self.round, self.bits)
        }
    }
}

/// The optimizer spec text for a setting: Adam (torch's practical form) or Muon (Nesterov,
/// NS5, AdamW at 0.1× the rate on non-matrix blocks), a linear decay of the rate to 0 over
/// `steps`, and one `fmt(e=8, m=M, round=..)` quantizer per quantized component.
pub fn spec_text(opt: Opt, lr: f64, steps: u64, s: &Setting) -> String {
    let mut t = match opt {
        Opt::Adam => format!("adam(lr={lr}, schedule=linear(total={steps}, end=0)"),
        Opt::Muon => format!(
            "muon(lr={lr}, beta=0.95, nesterov=true, adam_lr={}, schedule=linear(total={steps}, end=0)",
            lr * 0.1
        ),
    };
    let f = format!("fmt(e=8, m={}, round={})", s.bits, s.round);
    for (c, key) in [('W', "w"), ('G', "g"), ('M', "m"), ('V', "v")] {
        if s.comps.contains(c) {
            t.push_str(&format!(", {key}={f}"));
        }
    }
    t.push(')');
    t
}

/// The seed of seed index `k` of a run whose report seed is `root`: the noise and
/// stochastic-rounding seed of one (setting, seed) job.
pub fn job_seed(root: u64, k: usize) -> u64 {
    RngStreams::new(root).child_seed("run", k as u64)
}

/// The result of one run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The exact (noise-free, full-batch) loss at the final master weights; +inf if diverged.
    pub final_loss: f64,
    /// (step, exact loss) every `every` steps, from step 0.
    pub curve: Vec<(f64, f64)>,
    /// Oracle evaluations of the run.
    pub evals: EvalCounts,
}

/// Runs the optimizer of `spec` (initialised from `seed`) on `problem` from `x0` for `steps`
/// steps, recording the exact loss `exact` every `every` steps (never when 0). A run whose
/// master weights become non-finite stops there with final loss +inf.
pub fn run_steps(
    spec: &str,
    problem: &mut dyn Problem,
    x0: Vec<f64>,
    steps: u64,
    seed: u64,
    every: u64,
    exact: &mut dyn FnMut(&[f64]) -> f64,
) -> Result<RunResult> {
    let mut opt: Box<dyn Optimizer> = parse_optimizer(spec)?;
    let layout = problem.layout().clone();
    opt.init(&layout, &RngStreams::new(seed))?;
    let mut x = x0;
    let mut curve = vec![(0.0, exact(&x))];
    let mut counter = EvalCounter::new(problem);
    for t in 1..=steps {
        opt.step(&mut x, &mut counter)?;
        if x.iter().any(|v| !v.is_finite()) {
            return Ok(RunResult {
                final_loss: f64::INFINITY,
                curve,
                evals: counter.counts(),
            });
        }
        if every > 0 && t % every == 0 {
            curve.push((t as f64, exact(&x)));
        }
    }
    Ok(RunResult {
        final_loss: exact(&x),
        curve,
        evals: counter.counts(),
    })
}

/// The runs of one (optimizer, setting) over the seeds.
#[derive(Debug, Clone)]
pub struct SettingRuns {
    /// The optimizer.
    pub opt: Opt,
    /// What is quantized, and how.
    pub setting: Setting,
    /// The final loss of each seed, in seed order.
    pub finals: Vec<f64>,
}

impl SettingRuns {
    /// The median final loss over the seeds (NaN when a run diverged: the harness policy).
    pub fn median(&self) -> f64 {
        stats::median(&self.finals)
    }
}

/// Runs every (key, seed index) pair in parallel through [`par_grid`]; `result[key][seed]`.
pub fn run_grid(
    keys: &[(Opt, Setting)],
    seeds: usize,
    run: impl Fn(Opt, &Setting, usize) -> Result<RunResult> + Sync + Send,
) -> Result<Vec<Vec<RunResult>>> {
    par_grid(keys.len(), seeds, |k, s| run(keys[k].0, &keys[k].1, s))
}

/// The final losses of a grid, key by key.
pub fn setting_runs(keys: &[(Opt, Setting)], grid: &[Vec<RunResult>]) -> Vec<SettingRuns> {
    keys.iter()
        .zip(grid)
        .map(|(&(opt, setting), runs)| SettingRuns {
            opt,
            setting,
            finals: runs.iter().map(|r| r.final_loss).collect(),
        })
        .collect()
}

/// The evaluations of every run of a grid.
pub fn grid_evals(grid: &[Vec<RunResult>]) -> EvalCounts {
    grid.iter()
        .flatten()
        .fold(EvalCounts::default(), |a, r| a + r.evals)
}

/// The panels of a per-component sweep: (panel title, component set).
pub const SWEEP_PANELS: [(&str, &str); 5] = [
    ("W", "W"),
    ("G", "G"),
    ("M", "M"),
    ("V", "V"),
    ("all", "WGMV"),
];

/// Final loss against mantissa bits for each component set of [`SWEEP_PANELS`], each optimizer
/// (Muon has no second moment, so no V panel lines) and each rounding.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The mantissa widths M swept.
    pub bits: Vec<u32>,
    /// Seeds per point.
    pub seeds: usize,
    /// One entry per (panel, optimizer, rounding, bits), in [`sweep_keys`] order.
    pub points: Vec<SettingRuns>,
    /// The full-precision medians (Adam, Muon) drawn as reference lines.
    pub fp: [f64; 2],
}

/// The (optimizer, setting) keys of a sweep, panel by panel.
pub fn sweep_keys(bits: &[u32]) -> Vec<(Opt, Setting)> {
    let mut keys = Vec::new();
    for &(_, comps) in &SWEEP_PANELS {
        for opt in [Opt::Adam, Opt::Muon] {
            if opt == Opt::Muon && comps == "V" {
                continue;
            }
            for round in ["nearest", "stochastic"] {
                for &b in bits {
                    keys.push((opt, set(comps, b, round)));
                }
            }
        }
    }
    keys
}

/// Runs a sweep on `seeds` seeds; `fp` are the full-precision medians for the figure.
pub fn measure_sweep(
    bits: &[u32],
    seeds: usize,
    fp: [f64; 2],
    run: impl Fn(Opt, &Setting, usize) -> Result<RunResult> + Sync + Send,
) -> Result<(Sweep, EvalCounts)> {
    let keys = sweep_keys(bits);
    let grid = run_grid(&keys, seeds, run)?;
    let sweep = Sweep {
        bits: bits.to_vec(),
        seeds,
        points: setting_runs(&keys, &grid),
        fp,
    };
    Ok((sweep, grid_evals(&grid)))
}

impl Sweep {
    /// The median final losses of one (optimizer, components, rounding) line, in `bits` order.
    pub fn line(&self, opt: Opt, comps: &str, round: &str) -> Vec<f64> {
        self.points
            .iter()
            .filter(|p| p.opt == opt && p.setting.comps == comps && p.setting.round == round)
            .map(SettingRuns::median)
            .collect()
    }

    /// The median at one width of a line (NaN if the width was not swept).
    pub fn at(&self, opt: Opt, comps: &str, round: &str, bits: u32) -> f64 {
        let line = self.line(opt, comps, round);
        self.bits
            .iter()
            .position(|b| *b == bits)
            .and_then(|i| line.get(i).copied())
            .unwrap_or(f64::NAN)
    }

    /// The table columns of [`Sweep::rows`].
    pub const COLUMNS: [&'static str; 5] = [
        "optimizer",
        "components",
        "rounding",
        "mantissa_bits",
        "median_final_loss",
    ];

    /// One row per point.
    pub fn rows(&self) -> Vec<Vec<Value>> {
        self.points
            .iter()
            .map(|p| {
                vec![
                    json!(p.opt.name()),
                    json!(p.setting.comps),
                    json!(p.setting.round),
                    json!(p.setting.bits),
                    num(p.median()),
                ]
            })
            .collect()
    }

    /// One panel per component set: a line per (optimizer, rounding) and dashed
    /// full-precision references; `label` names the problem in the titles.
    pub fn panels(&self, label: &str) -> Vec<Panel> {
        let bx: Vec<f64> = self.bits.iter().map(|b| *b as f64).collect();
        let (lo, hi) = (bx[0], *bx.last().unwrap_or(&bx[0]));
        let mut panels = Vec::new();
        for &(title, comps) in &SWEEP_PANELS {
            let mut lines = Vec::new();
            for opt in [Opt::Adam, Opt::Muon] {
                for round in ["nearest", "stochastic"] {
                    // a diverged point (NaN or inf) is drawn at the top of the axis
                    let ys: Vec<f64> = self
                        .line(opt, comps, round)
                        .iter()
                        .map(|v| v.min(1e12))
                        .collect();
                    if ys.is_empty() {
                        continue;
                    }
                    let short = if round == "nearest" { "RTN" } else { "SR" };
                    // the same colour for a series in every panel (Muon has no V panel lines)
                    let color = 2 * usize::from(opt == Opt::Muon) + usize::from(short == "SR");
                    lines.push(Line {
                        markers: true,
                        color: Some(color),
                        ..Line::new(format!("{} {short}", opt.name()), bx.clone(), ys)
                    });
                }
            }
            for (name, fp, color) in [("Adam fp64", self.fp[0], 4), ("Muon fp64", self.fp[1], 5)] {
                lines.push(Line {
                    dashed: true,
                    color: Some(color),
                    ..Line::new(name, vec![lo, hi], vec![fp, fp])
                });
            }
            panels.push(Panel {
                title: format!("{label}: quantize {title}"),
                x_label: "mantissa bits M (E8M_M)".into(),
                y_label: "median final loss".into(),
                log_y: true,
                legend: LegendAt::UpperRight,
                lines,
                ..Default::default()
            });
        }
        panels
    }
}

//! P7 — Adam and Muon under floating-point quantization (Tang, Li & Zou, ICLR 2026).
//!
//! Quantizers sit where the paper puts them (§2.2): Q_W on the weights a worker evaluates the
//! gradient at (master weights stay in f64), Q_G on the gradient, Q_M and Q_V on the stored
//! optimizer states. Every run is built from spec text through the optimizer registry, e.g.
//! `adam(lr=0.01, schedule=linear(total=20000, end=0), v=fmt(e=8, m=7, round=nearest))`, with
//! `w=` for Q_W. Formats are E8M_M (f32's exponent range, M mantissa bits), as the spec advises.
//!
//! Problems (spec §5): Z1 the 8×8 matrix quadratic (the asserted checks), Z2 Rosenbrock in 16
//! dimensions viewed as a 4×4 matrix, Z3 a bias-free tanh MLP on the embedded digits.

use std::sync::Arc;

use descent_core::testfns::Rosenbrock;
use descent_core::{
    Error, EvalCounts, Function, Gradient, Layout, Problem, Result, RngStreams, Stochastic, linalg,
};
use descent_data::Standardizer;
use descent_nn::{Activation, Init, Loss, Mlp, Objective};
use descent_optim::{Optimizer, parse_optimizer};
use descent_optim::{adam_condition, muon_condition};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config;
use crate::experiment::{Experiment, Preset, RunContext, RunOutput};
use crate::plot::{Figure, LegendAt, Line, Panel};
use crate::report::{Claim, ClaimKind, Report, num};

/// The `quantized` experiment.
pub struct Quantized;

/// Z1, the matrix quadratic f(W) = (1/2n)‖A(W − W*)‖²_F (spec §5).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z1Config {
    /// Side n of the n × n weight matrix.
    pub n: usize,
    /// Steps T (linear learning-rate decay to 0 over T).
    pub steps: u64,
    /// A = U diag(√h) Uᵀ with h log-spaced in [1, h_max].
    pub h_max: f64,
    /// Seed of the random orthogonal U.
    pub rotation_seed: u64,
    /// W* = target_scale · N(0, 1).
    pub target_scale: f64,
    /// Standard deviation of the additive gradient noise per entry.
    pub noise: f64,
    /// Adam's learning rate (β = (0.9, 0.999), ε = 1e-8).
    pub adam_lr: f64,
    /// Muon's learning rate (β = 0.95, Nesterov, NS5).
    pub muon_lr: f64,
    /// Seeds per setting (the asserted checks use the median).
    pub seeds: usize,
    /// Mantissa widths of the per-component sweep in the figure (empty: no sweep).
    pub sweep_bits: Vec<u32>,
    /// Seeds per sweep point (median).
    pub sweep_seeds: usize,
    /// Record the loss every this many steps for the curves.
    pub curve_every: u64,
}

impl Default for Z1Config {
    fn default() -> Self {
        Z1Config {
            n: 8,
            steps: 20_000,
            h_max: 10.0,
            rotation_seed: 123,
            target_scale: 10.0,
            noise: 0.01,
            adam_lr: 0.01,
            muon_lr: 0.03,
            seeds: 2,
            sweep_bits: vec![1, 2, 3, 4, 5, 7, 10, 23],
            sweep_seeds: 2,
            curve_every: 200,
        }
    }
}

/// Z2, Rosenbrock f(x) = Σ 100(x_{i+1} − x_i²)² + (1 − x_i)² as a rows × cols matrix.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z2Config {
    /// Run Z2 at all.
    pub enabled: bool,
    /// Matrix shape seen by Muon (rows · cols = dimension).
    pub rows: usize,
    pub cols: usize,
    /// Steps T (linear decay to 0).
    pub steps: u64,
    /// Gradient noise standard deviation.
    pub noise: f64,
    /// Adam's learning rate.
    pub adam_lr: f64,
    /// Muon's learning rate.
    pub muon_lr: f64,
    /// Seeds per setting (median reported).
    pub seeds: usize,
    /// Mantissa widths of the all-component stochastic-rounding sweep.
    pub bits: Vec<u32>,
}

impl Default for Z2Config {
    fn default() -> Self {
        Z2Config {
            enabled: true,
            rows: 4,
            cols: 4,
            steps: 3000,
            noise: 1.0,
            adam_lr: 1e-2,
            muon_lr: 1e-2,
            seeds: 3,
            bits: vec![1, 2, 3, 5, 7, 10, 23],
        }
    }
}

/// Z3, a bias-free tanh MLP on the embedded digits (stand-in for the paper's CIFAR-10 MLP).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Z3Config {
    /// Run Z3 at all.
    pub enabled: bool,
    /// Hidden widths (input 64 and output 10 come from the data).
    pub hidden: Vec<usize>,
    /// Minibatch size.
    pub batch: usize,
    /// Steps T (linear decay to 0).
    pub steps: u64,
    /// Adam's learning rate.
    pub adam_lr: f64,
    /// Muon's learning rate.
    pub muon_lr: f64,
    /// Seeds per setting (median reported).
    pub seeds: usize,
    /// Mantissa widths of the all-component stochastic-rounding sweep.
    pub bits: Vec<u32>,
}

impl Default for Z3Config {
    fn default() -> Self {
        Z3Config {
            enabled: true,
            hidden: vec![64, 64],
            batch: 128,
            steps: 1000,
            adam_lr: 1e-3,
            muon_lr: 0.02,
            seeds: 2,
            bits: vec![1, 2, 3, 5, 7, 10, 23],
        }
    }
}

/// The experiment's configuration.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct QuantizedConfig {
    /// The matrix quadratic (asserted checks and the per-component sweep).
    pub z1: Z1Config,
    /// Rosenbrock (reported).
    pub z2: Z2Config,
    /// MLP on digits (reported).
    pub z3: Z3Config,
}

impl QuantizedConfig {
    fn quick() -> Self {
        QuantizedConfig {
            z1: Z1Config {
                sweep_bits: vec![1, 3, 7],
                sweep_seeds: 1,
                ..Z1Config::default()
            },
            z2: Z2Config {
                enabled: false,
                ..Z2Config::default()
            },
            z3: Z3Config {
                enabled: false,
                ..Z3Config::default()
            },
        }
    }

    fn full() -> Self {
        QuantizedConfig {
            z1: Z1Config {
                seeds: 3,
                ..Z1Config::default()
            },
            ..Default::default()
        }
    }
}

/// Which optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Adam,
    Muon,
}

impl Opt {
    fn name(self) -> &'static str {
        match self {
            Opt::Adam => "Adam",
            Opt::Muon => "Muon",
        }
    }
}

/// One quantization setting: which components, how many mantissa bits, which rounding.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Setting {
    /// Components among 'W', 'G', 'M', 'V'; empty = full precision.
    comps: &'static str,
    bits: u32,
    round: &'static str,
}

const FP: Setting = Setting {
    comps: "",
    bits: 52,
    round: "nearest",
};

fn set(comps: &'static str, bits: u32, round: &'static str) -> Setting {
    Setting { comps, bits, round }
}

impl Setting {
    fn label(&self) -> String {
        if self.comps.is_empty() {
            "fp64".into()
        } else {
            format!("{} {} M={}", self.comps, self.round, self.bits)
        }
    }
}

/// The optimizer spec text for a setting.
fn spec_text(opt: Opt, lr: f64, steps: u64, s: &Setting) -> String {
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

/// Z1's problem with additive Gaussian gradient noise, resampled once per step from the run's
/// `"noise"` stream (the same in full-precision and quantized runs).
#[derive(Clone)]
struct NoisyMatrixQuadratic {
    n: usize,
    h: Arc<Vec<f64>>,
    target: Arc<Vec<f64>>,
    noise: GradientNoise,
    d: Vec<f64>,
    layout: Layout,
}

impl NoisyMatrixQuadratic {
    fn new(c: &Z1Config, seed: u64) -> Result<Self> {
        let n = c.n;
        if n == 0 {
            return Err(Error::invalid("z1.n", 0, "an integer >= 1"));
        }
        let mut rng = RngStreams::new(c.rotation_seed).stream("z1-rotation");
        let g: Vec<f64> = (0..n * n)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let (u, _) = linalg::qr(&g, n, n);
        let hs: Vec<f64> = (0..n)
            .map(|i| {
                let t = if n > 1 {
                    i as f64 / (n - 1) as f64
                } else {
                    0.0
                };
                c.h_max.powf(t)
            })
            .collect();
        let mut uh = u.clone();
        for i in 0..n {
            for j in 0..n {
                uh[i * n + j] *= hs[j];
            }
        }
        let h = linalg::matmul(&uh, linalg::Trans::N, &u, linalg::Trans::T, n, n, n);
        let mut trng = RngStreams::new(c.rotation_seed).stream("z1-target");
        let target: Vec<f64> = (0..n * n)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut trng);
                c.target_scale * z
            })
            .collect();
        Ok(NoisyMatrixQuadratic {
            n,
            h: Arc::new(h),
            target: Arc::new(target),
            noise: GradientNoise::new(c.noise, n * n, seed),
            d: vec![0.0; n * n],
            layout: Layout::matrix(n, n),
        })
    }

    /// (1/n)·H·D for D = W − W*, and f = (1/2n)·tr(DᵀHD).
    fn exact(&mut self, x: &[f64], g: Option<&mut [f64]>) -> f64 {
        let n = self.n;
        for (d, (a, b)) in self.d.iter_mut().zip(x.iter().zip(self.target.iter())) {
            *d = a - b;
        }
        let mut f = 0.0;
        let mut hd = [0.0f64; 64];
        let scratch: &mut [f64] = if n * n <= 64 {
            &mut hd[..n * n]
        } else {
            // sizes above 8×8 are an experiment option, not the hot path
            return self.exact_large(x, g);
        };
        for i in 0..n {
            for j in 0..n {
                scratch[i * n + j] = (0..n).map(|k| self.h[i * n + k] * self.d[k * n + j]).sum();
            }
        }
        for (a, b) in scratch.iter().zip(&self.d) {
            f += a * b;
        }
        if let Some(g) = g {
            for (gi, s) in g.iter_mut().zip(scratch.iter()) {
                *gi = s / n as f64;
            }
        }
        f / (2.0 * n as f64)
    }

    fn exact_large(&mut self, _x: &[f64], g: Option<&mut [f64]>) -> f64 {
        let n = self.n;
        let hd = linalg::matmul(
            &self.h,
            linalg::Trans::N,
            &self.d,
            linalg::Trans::N,
            n,
            n,
            n,
        );
        let f: f64 = hd.iter().zip(&self.d).map(|(a, b)| a * b).sum();
        if let Some(g) = g {
            for (gi, s) in g.iter_mut().zip(&hd) {
                *gi = s / n as f64;
            }
        }
        f / (2.0 * n as f64)
    }
}

impl Function for NoisyMatrixQuadratic {
    fn dim(&self) -> usize {
        self.n * self.n
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.exact(x, None)
    }
}

impl Gradient for NoisyMatrixQuadratic {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let f = self.exact(x, Some(g));
        self.noise.add_to(g);
        f
    }
}

impl Stochastic for NoisyMatrixQuadratic {
    fn resample(&mut self) {
        self.noise.redraw();
    }
}

impl Problem for NoisyMatrixQuadratic {
    fn name(&self) -> String {
        format!("z1 matrix quadratic {0}x{0}", self.n)
    }
    fn layout(&self) -> &Layout {
        &self.layout
    }
    descent_core::problem_views!(function, gradient, stochastic);
}

/// Additive Gaussian gradient noise ε ~ N(0, σ²I), redrawn at every resample from the run's
/// `"noise"` stream (so full-precision and quantized runs see the same noise).
#[derive(Clone)]
struct GradientNoise {
    sigma: f64,
    eps: Vec<f64>,
    rng: descent_core::rng::Rng,
}

impl GradientNoise {
    fn new(sigma: f64, dim: usize, seed: u64) -> Self {
        GradientNoise {
            sigma,
            eps: vec![0.0; dim],
            rng: RngStreams::new(seed).stream("noise"),
        }
    }

    fn redraw(&mut self) {
        for e in self.eps.iter_mut() {
            let z: f64 = StandardNormal.sample(&mut self.rng);
            *e = self.sigma * z;
        }
    }

    fn add_to(&self, g: &mut [f64]) {
        for (gi, e) in g.iter_mut().zip(&self.eps) {
            *gi += e;
        }
    }
}

/// Rosenbrock with additive Gaussian gradient noise.
#[derive(Clone)]
struct NoisyRosenbrock {
    inner: Rosenbrock,
    noise: GradientNoise,
}

impl Function for NoisyRosenbrock {
    fn dim(&self) -> usize {
        Function::dim(&self.inner)
    }
    fn value(&mut self, x: &[f64]) -> f64 {
        self.inner.value(x)
    }
}

impl Gradient for NoisyRosenbrock {
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let f = self.inner.value_grad(x, g);
        self.noise.add_to(g);
        f
    }
}

impl Stochastic for NoisyRosenbrock {
    fn resample(&mut self) {
        self.noise.redraw();
    }
}

impl Problem for NoisyRosenbrock {
    fn name(&self) -> String {
        format!("noisy {}", self.inner.name())
    }
    fn layout(&self) -> &Layout {
        self.inner.layout()
    }
    descent_core::problem_views!(function, gradient, stochastic);
}

/// The result of one run.
#[derive(Debug, Clone)]
struct RunResult {
    /// The exact (noise-free, full-batch) loss at the final master weights; +inf if diverged.
    final_loss: f64,
    /// (step, exact loss) every `curve_every` steps.
    curve: Vec<(f64, f64)>,
    evals: EvalCounts,
}

/// Runs `opt` on `problem` from `x0`, evaluating the exact loss with `exact` every
/// `every` steps.
fn run_one(
    spec: &str,
    mut problem: Box<dyn Problem>,
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
    let mut counter = descent_core::EvalCounter::new(problem.as_mut());
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

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// A job: problem id, optimizer, setting, seed index.
#[derive(Debug, Clone, Copy)]
struct Job {
    problem: u8,
    opt: Opt,
    setting: Setting,
    seed: usize,
    /// Z1 only: start from x0 + JITTER·N(0, I) instead of 0 (the control for how far an
    /// f32-sized perturbation alone moves the final loss).
    jitter: bool,
}

/// The start perturbation of the jitter control: about f32's unit round-off (2⁻²⁴ ≈ 6e-8).
const JITTER: f64 = 1e-7;

struct Runner<'a> {
    cfg: &'a QuantizedConfig,
    seed: u64,
    digits: Option<(Arc<descent_data::Dataset>, Mlp)>,
}

impl Runner<'_> {
    fn run(&self, job: &Job) -> Result<RunResult> {
        let seed = RngStreams::new(self.seed).child_seed("run", job.seed as u64);
        match job.problem {
            1 => {
                let c = &self.cfg.z1;
                let p = NoisyMatrixQuadratic::new(c, seed)?;
                let mut probe = p.clone();
                let lr = if job.opt == Opt::Adam {
                    c.adam_lr
                } else {
                    c.muon_lr
                };
                let spec = spec_text(job.opt, lr, c.steps, &job.setting);
                let mut x0 = vec![0.0; c.n * c.n];
                if job.jitter {
                    let mut rng = RngStreams::new(seed).stream("jitter");
                    for v in &mut x0 {
                        let z: f64 = StandardNormal.sample(&mut rng);
                        *v = JITTER * z;
                    }
                }
                run_one(
                    &spec,
                    Box::new(p),
                    x0,
                    c.steps,
                    seed,
                    c.curve_every,
                    &mut |x| probe.value(x),
                )
            }
            2 => {
                let c = &self.cfg.z2;
                let inner = Rosenbrock::matrix(c.rows, c.cols)?;
                let n = c.rows * c.cols;
                let p = NoisyRosenbrock {
                    inner: inner.clone(),
                    noise: GradientNoise::new(c.noise, n, seed),
                };
                let mut probe = inner;
                let lr = if job.opt == Opt::Adam {
                    c.adam_lr
                } else {
                    c.muon_lr
                };
                let spec = spec_text(job.opt, lr, c.steps, &job.setting);
                run_one(
                    &spec,
                    Box::new(p),
                    vec![0.0; n],
                    c.steps,
                    seed,
                    (c.steps / 50).max(1),
                    &mut |x| probe.value(x),
                )
            }
            _ => {
                let c = &self.cfg.z3;
                let (data, mlp) = self.digits.as_ref().expect("digits loaded for z3");
                let streams = RngStreams::new(seed);
                let obj = Objective::new(
                    mlp.clone(),
                    data.clone(),
                    Loss::SoftmaxCe,
                    c.batch,
                    &streams,
                )?;
                let x0 = obj.init_params(Init::Xavier, &streams);
                let mut full = Objective::new(
                    mlp.clone(),
                    data.clone(),
                    Loss::SoftmaxCe,
                    data.len(),
                    &streams,
                )?;
                let lr = if job.opt == Opt::Adam {
                    c.adam_lr
                } else {
                    c.muon_lr
                };
                let spec = spec_text(job.opt, lr, c.steps, &job.setting);
                run_one(
                    &spec,
                    Box::new(obj),
                    x0,
                    c.steps,
                    seed,
                    (c.steps / 25).max(1),
                    &mut |x| full.value(x),
                )
            }
        }
    }
}

/// Results of a list of jobs, in the jobs' order (rayon inside, deterministic).
fn run_jobs(runner: &Runner<'_>, jobs: &[Job]) -> Result<Vec<RunResult>> {
    jobs.par_iter().map(|j| runner.run(j)).collect()
}

/// Median final loss over seeds for each (opt, setting) of `keys`, from jobs laid out as
/// keys × seeds.
fn medians(results: &[RunResult], seeds: usize) -> Vec<f64> {
    results
        .chunks(seeds)
        .map(|c| {
            let mut v: Vec<f64> = c.iter().map(|r| r.final_loss).collect();
            median(&mut v)
        })
        .collect()
}

fn jobs_for(problem: u8, keys: &[(Opt, Setting)], seeds: usize) -> Vec<Job> {
    keys.iter()
        .flat_map(|&(opt, setting)| {
            (0..seeds).map(move |seed| Job {
                problem,
                opt,
                setting,
                seed,
                jitter: false,
            })
        })
        .collect()
}

fn add_evals(total: &mut EvalCounts, rs: &[RunResult]) {
    for r in rs {
        *total = *total + r.evals;
    }
}

impl Experiment for Quantized {
    fn name(&self) -> &'static str {
        "quantized"
    }
    fn paper(&self) -> &'static str {
        "P7 A Convergence Analysis of Adaptive Optimizers under Floating-point Quantization"
    }
    fn summary(&self) -> &'static str {
        "Adam vs Muon with quantized weights, gradients and states: RTN second moments stall \
         Adam, Muon and stochastic rounding are robust"
    }
    fn config(&self, preset: Preset) -> Value {
        match preset {
            Preset::Quick => config::to_value(&QuantizedConfig::quick()),
            Preset::Full => config::to_value(&QuantizedConfig::full()),
        }
    }

    fn run(&self, cfg: &Value, ctx: &RunContext<'_>) -> Result<RunOutput> {
        let c: QuantizedConfig = config::from_value(cfg)?;
        if c.z1.seeds == 0 {
            return Err(Error::invalid("z1.seeds", 0, "an integer >= 1"));
        }
        if c.z1.steps == 0 {
            return Err(Error::invalid("z1.steps", 0, "an integer >= 1"));
        }
        for (field, v, on) in [
            ("z1.sweep_seeds", c.z1.sweep_seeds as u64, true),
            ("z2.seeds", c.z2.seeds as u64, c.z2.enabled),
            ("z2.steps", c.z2.steps, c.z2.enabled),
            ("z3.seeds", c.z3.seeds as u64, c.z3.enabled),
            ("z3.steps", c.z3.steps, c.z3.enabled),
            ("z3.batch", c.z3.batch as u64, c.z3.enabled),
        ] {
            if on && v == 0 {
                return Err(Error::invalid(field, 0, "an integer >= 1"));
            }
        }
        for (field, empty, on) in [
            ("z1.sweep_bits", c.z1.sweep_bits.is_empty(), true),
            ("z2.bits", c.z2.bits.is_empty(), c.z2.enabled),
            ("z3.bits", c.z3.bits.is_empty(), c.z3.enabled),
        ] {
            if on && empty {
                return Err(Error::invalid(field, "[]", "at least one mantissa width"));
            }
        }
        for &b in c.z1.sweep_bits.iter().chain(&c.z2.bits).chain(&c.z3.bits) {
            if b > 52 {
                return Err(Error::invalid("bits", b, "mantissa bits in [0, 52]"));
            }
        }
        let digits = if c.z3.enabled {
            let mut d = descent_data::digits()?;
            Standardizer::fit(&d)?.transform(&mut d)?;
            let mut sizes = vec![64];
            sizes.extend(&c.z3.hidden);
            sizes.push(10);
            Some((Arc::new(d), Mlp::new(sizes, Activation::Tanh, false)?))
        } else {
            None
        };
        let runner = Runner {
            cfg: &c,
            seed: ctx.seed,
            digits,
        };
        let mut report = Report::default();
        let mut evals = EvalCounts::default();
        let mut figures = Vec::new();

        // ---- Z1: the asserted checks -------------------------------------------------
        (ctx.progress)(0.0, "z1 checks");
        let seeds = c.z1.seeds;
        let mut keys: Vec<(Opt, Setting)> = vec![(Opt::Adam, FP), (Opt::Muon, FP)];
        let adam_stall = [set("V", 7, "nearest"), set("GMV", 7, "nearest")];
        let muon_ok = [
            set("M", 7, "nearest"),
            set("M", 3, "nearest"),
            set("GM", 7, "nearest"),
            set("GM", 3, "nearest"),
        ];
        let sr_cures = [
            set("V", 3, "stochastic"),
            set("V", 7, "stochastic"),
            set("GMV", 3, "stochastic"),
            set("GMV", 7, "stochastic"),
        ];
        let gm_benign = [
            set("G", 3, "nearest"),
            set("G", 7, "nearest"),
            set("G", 3, "stochastic"),
            set("G", 7, "stochastic"),
            set("M", 3, "nearest"),
            set("M", 7, "nearest"),
            set("M", 3, "stochastic"),
            set("M", 7, "stochastic"),
        ];
        let adam_sets = ["G", "M", "V", "GMV", "W", "WGMV"];
        let muon_sets = ["G", "M", "GM", "W", "WGM"];
        keys.extend(adam_stall.iter().map(|s| (Opt::Adam, *s)));
        keys.extend(muon_ok.iter().map(|s| (Opt::Muon, *s)));
        keys.extend(sr_cures.iter().map(|s| (Opt::Adam, *s)));
        keys.extend(gm_benign.iter().map(|s| (Opt::Adam, *s)));
        for bits in [23u32, 10] {
            keys.extend(
                adam_sets
                    .iter()
                    .map(|s| (Opt::Adam, set(s, bits, "nearest"))),
            );
            keys.extend(
                muon_sets
                    .iter()
                    .map(|s| (Opt::Muon, set(s, bits, "nearest"))),
            );
        }
        let results = run_jobs(&runner, &jobs_for(1, &keys, seeds))?;
        add_evals(&mut evals, &results);
        let med = medians(&results, seeds);
        let lookup = |opt: Opt, s: &Setting| -> f64 {
            let i = keys
                .iter()
                .position(|k| k.0 == opt && k.1 == *s)
                .expect("setting was run");
            med[i]
        };
        // per-seed values for the recovery check (relative difference seed by seed)
        let per_seed = |opt: Opt, s: &Setting| -> Vec<f64> {
            let i = keys
                .iter()
                .position(|k| k.0 == opt && k.1 == *s)
                .expect("setting was run");
            results[i * seeds..(i + 1) * seeds]
                .iter()
                .map(|r| r.final_loss)
                .collect()
        };
        let fp_adam = lookup(Opt::Adam, &FP);
        let fp_muon = lookup(Opt::Muon, &FP);
        let fp = |o: Opt| if o == Opt::Adam { fp_adam } else { fp_muon };
        let mut table_rows = Vec::new();
        for (i, (opt, s)) in keys.iter().enumerate() {
            table_rows.push(vec![
                json!(opt.name()),
                json!(if s.comps.is_empty() { "none" } else { s.comps }),
                json!(s.bits),
                json!(s.round),
                num(med[i]),
                num(med[i] / fp(*opt)),
            ]);
        }
        report.add_table(
            "z1_checks",
            &[
                "optimizer",
                "components",
                "mantissa_bits",
                "rounding",
                "median_final_loss",
                "ratio_to_fp",
            ],
            table_rows,
        );
        let ratios = |opt: Opt, ss: &[Setting]| -> Vec<f64> {
            ss.iter().map(|s| lookup(opt, s) / fp(opt)).collect()
        };
        let named = |opt: Opt, ss: &[Setting]| -> Value {
            Value::Object(
                ss.iter()
                    .map(|s| (s.label(), num(lookup(opt, s) / fp(opt))))
                    .collect(),
            )
        };
        report.claim(Claim::in_range(
            "quantized/z1-fp-baselines",
            "Z1 full-precision final losses (Adam, Muon) are small and finite (spec proto: \
             Adam 1.7e-5, Muon 5.0e-5); the ratio Muon/Adam is reported",
            ClaimKind::Reported,
            fp_muon / fp_adam,
            0.1,
            10.0,
        ));
        let stall = ratios(Opt::Adam, &adam_stall);
        report.claim(Claim::judged(
            "quantized/adam-rtn-v7-stalls",
            "Adam whose second moment (alone, or with G and M) is stored in E8M7 with \
             round-to-nearest ends at >= 100x the full-precision loss on Z1 (v freezes: \
             1 - beta2 < 2^-(M+2))",
            ClaimKind::Asserted,
            named(Opt::Adam, &adam_stall),
            "every ratio to FP Adam >= 100",
            stall.iter().all(|r| *r >= 100.0),
        ));
        let mo = ratios(Opt::Muon, &muon_ok);
        report.claim(Claim::judged(
            "quantized/muon-rtn-m-benign",
            "Muon with the same round-to-nearest state quantization (momentum, or gradient + \
             momentum) at M = 7 and M = 3 stays within 1.5x full-precision Muon on Z1",
            ClaimKind::Asserted,
            named(Opt::Muon, &muon_ok),
            "every ratio to FP Muon <= 1.5",
            mo.iter().all(|r| *r <= 1.5),
        ));
        let sr = ratios(Opt::Adam, &sr_cures);
        report.claim(Claim::judged(
            "quantized/sr-cures-adam",
            "stochastic rounding cures it: Adam with V (or G+M+V) quantized by SR at M = 3 and \
             M = 7 stays within 1.5x full-precision Adam on Z1",
            ClaimKind::Asserted,
            named(Opt::Adam, &sr_cures),
            "every ratio to FP Adam <= 1.5",
            sr.iter().all(|r| *r <= 1.5),
        ));
        let gm = ratios(Opt::Adam, &gm_benign);
        report.claim(Claim::judged(
            "quantized/adam-g-m-benign",
            "gradient or first-moment quantization alone is benign: Adam with G-only or M-only \
             at M = 3 and 7, either rounding, stays within 1.5x full precision on Z1",
            ClaimKind::Asserted,
            named(Opt::Adam, &gm_benign),
            "every ratio to FP Adam <= 1.5",
            gm.iter().all(|r| *r <= 1.5),
        ));
        // M = 23 recovery (relative, every seed) and M = 10 within 1.5x. Measured: Adam
        // reproduces the spec; Muon's final loss moves by ~1e-3 under any f32-level
        // perturbation, and W quantization at M = 10 costs Adam ~3x, so those parts are reported.
        let mut rec = [
            serde_json::Map::new(),
            serde_json::Map::new(),
            serde_json::Map::new(),
        ];
        let mut worst_rec = [0.0f64; 3]; // [Adam no W, Adam with W, Muon any]
        let mut m10 = [serde_json::Map::new(), serde_json::Map::new()];
        let mut worst10 = [0.0f64; 2]; // [no W, with W]
        for (opt, sets) in [(Opt::Adam, &adam_sets[..]), (Opt::Muon, &muon_sets[..])] {
            let base = per_seed(opt, &FP);
            for comps in sets {
                let s = set(comps, 23, "nearest");
                let q = per_seed(opt, &s);
                let rel = q
                    .iter()
                    .zip(&base)
                    .map(|(a, b)| ((a - b) / b).abs())
                    .fold(0.0, f64::max);
                let key = format!("{} {}", opt.name(), comps);
                let k = match (opt, comps.contains('W')) {
                    (Opt::Adam, false) => 0,
                    (Opt::Adam, true) => 1,
                    (Opt::Muon, _) => 2,
                };
                worst_rec[k] = worst_rec[k].max(rel);
                rec[k].insert(key.clone(), num(rel));
                let r10 = lookup(opt, &set(comps, 10, "nearest")) / fp(opt);
                let w = usize::from(comps.contains('W'));
                worst10[w] = worst10[w].max(r10);
                m10[w].insert(key, num(r10));
            }
        }
        let [rec0, rec1, rec2] = rec;
        let [m10a, m10b] = m10;
        // Control for the Muon M = 23 reading: full precision from a start moved by ~f32
        // round-off. If this alone moves Muon's final loss as much as M = 23 does, the M = 23
        // gap is sensitivity, not a quantizer defect.
        let mut control_jobs = jobs_for(1, &[(Opt::Adam, FP), (Opt::Muon, FP)], seeds);
        for j in &mut control_jobs {
            j.jitter = true;
        }
        let control = run_jobs(&runner, &control_jobs)?;
        add_evals(&mut evals, &control);
        let spread = |k: usize, opt: Opt| -> f64 {
            control[k * seeds..(k + 1) * seeds]
                .iter()
                .zip(per_seed(opt, &FP))
                .map(|(r, b)| ((r.final_loss - b) / b).abs())
                .fold(0.0, f64::max)
        };
        let (adam_spread, muon_spread) = (spread(0, Opt::Adam), spread(1, Opt::Muon));
        report.claim(Claim::judged(
            "quantized/m23-recovers-fp",
            "Adam with M = 23 round-to-nearest (an f32 cast) on any component set without the \
             weights ends within 1e-6 relative of the unquantized run (every seed)",
            ClaimKind::Asserted,
            Value::Object(rec0),
            "every relative difference <= 1e-6",
            worst_rec[0] <= 1e-6,
        ));
        report.claim(Claim::judged(
            "quantized/m23-recovers-fp-with-w",
            "Adam with M = 23 round-to-nearest including the weights ends within 1e-4 relative \
             of the unquantized run (every seed)",
            ClaimKind::Asserted,
            Value::Object(rec1),
            "every relative difference <= 1e-4",
            worst_rec[1] <= 1e-4,
        ));
        report.claim(Claim::judged(
            "quantized/m23-recovers-fp-muon",
            "Muon with M = 23 round-to-nearest ends within 1e-6 (1e-4 with W) relative of the \
             unquantized run; the spec states it for any component set, but our Muon's final \
             loss moves by ~1e-3 relative under f32-level perturbations (NS5 of a \
             noise-dominated momentum; measured by muon-perturbation-control below), so this \
             is reported, not asserted",
            ClaimKind::Reported,
            Value::Object(rec2),
            "every relative difference <= 1e-4",
            worst_rec[2] <= 1e-4,
        ));
        report.claim(Claim::judged(
            "quantized/muon-perturbation-control",
            &format!(
                "control for the line above: full-precision runs started from x0 + {JITTER:e}·N(0, I) \
                 instead of 0 (f32-sized) move Muon's final loss by as much as M = 23 does, \
                 while Adam's stays put (max relative difference over seeds to the unperturbed \
                 run)"
            ),
            ClaimKind::Reported,
            json!({"adam": num(adam_spread), "muon": num(muon_spread),
                   "muon_m23_worst": num(worst_rec[2])}),
            "muon >= 0.1 x muon_m23_worst and adam <= 1e-6",
            muon_spread >= 0.1 * worst_rec[2] && adam_spread <= 1e-6,
        ));
        report.claim(Claim::judged(
            "quantized/m10-within-1.5x",
            "with M = 10 round-to-nearest on any component set without the weights, the final \
             loss stays within 1.5x full precision on Z1 (Adam and Muon)",
            ClaimKind::Asserted,
            Value::Object(m10a),
            "every ratio to FP <= 1.5",
            worst10[0] <= 1.5,
        ));
        report.claim(Claim::judged(
            "quantized/m10-within-1.5x-with-w",
            "with M = 10 round-to-nearest including the weights, the final loss stays within \
             1.5x full precision on Z1 (spec: 'M = 10 stays within 1.5x FP'); measured: does \
             not hold for Adam (the gradient at Q_W(x) has a floor from the 2^-11 weight \
             spacing around |W*| ~ 10), so reported",
            ClaimKind::Reported,
            Value::Object(m10b),
            "every ratio to FP <= 1.5",
            worst10[1] <= 1.5,
        ));

        // theory predicates (P7 §3 (b), (b′)): the smallest M at which they hold
        let mut pred_rows = Vec::new();
        let mut adam_min = [None::<u32>; 2];
        let mut muon_min = [None::<u32>; 2];
        for m in 1..=23u32 {
            let rtn = 2f64.powi(-(m as i32 + 1));
            let srq = 2f64.powi(-(m as i32));
            let a = [
                adam_condition(0.9, 0.999, rtn, rtn),
                adam_condition(0.9, 0.999, srq, srq),
            ];
            let mu = [muon_condition(0.95, rtn), muon_condition(0.95, srq)];
            for k in 0..2 {
                if a[k] && adam_min[k].is_none() {
                    adam_min[k] = Some(m);
                }
                if mu[k] && muon_min[k].is_none() {
                    muon_min[k] = Some(m);
                }
            }
            pred_rows.push(vec![
                json!(m),
                json!(a[0]),
                json!(a[1]),
                json!(mu[0]),
                json!(mu[1]),
            ]);
        }
        report.add_table(
            "theory_predicates",
            &[
                "mantissa_bits",
                "adam_cond_rtn",
                "adam_cond_sr",
                "muon_cond_rtn",
                "muon_cond_sr",
            ],
            pred_rows,
        );
        let am = [
            adam_min[0].unwrap_or(0) as f64,
            adam_min[1].unwrap_or(0) as f64,
        ];
        report.claim(Claim::judged(
            "quantized/adam-condition-threshold",
            "Theorem 4.5's condition beta1^2 (1+qM)^2 < beta2 (1-qV) at (0.9, 0.999) with \
             qM = qV = q first holds at M = 3 for RTN (q = 2^-(M+1)) and M = 4 for SR \
             (q = 2^-M) (spec §3 (b))",
            ClaimKind::Reported,
            json!({"rtn": am[0], "sr": am[1]}),
            "rtn = 3 and sr = 4",
            am == [3.0, 4.0],
        ));
        let mm = [
            muon_min[0].unwrap_or(0) as f64,
            muon_min[1].unwrap_or(0) as f64,
        ];
        report.claim(Claim::judged(
            "quantized/muon-condition-threshold",
            "the Muon factor's condition beta (1+qM) < 1 at beta = 0.95 first holds at M = 4 \
             (RTN) and M = 5 (SR); sufficient only (Muon RTN M = 3 is measured benign above)",
            ClaimKind::Reported,
            json!({"rtn": mm[0], "sr": mm[1]}),
            "rtn = 4 and sr = 5",
            mm == [4.0, 5.0],
        ));

        // loss curves for selected settings (seed 0)
        let curve_keys: Vec<(Opt, Setting)> = vec![
            (Opt::Adam, FP),
            (Opt::Adam, set("V", 7, "nearest")),
            (Opt::Adam, set("V", 7, "stochastic")),
            (Opt::Muon, FP),
            (Opt::Muon, set("M", 7, "nearest")),
            (Opt::Muon, set("GM", 3, "nearest")),
        ];
        let mut curve_lines = Vec::new();
        for (i, (opt, s)) in curve_keys.iter().enumerate() {
            let k = keys
                .iter()
                .position(|k| k.0 == *opt && k.1 == *s)
                .expect("curve setting was run");
            let r = &results[k * seeds];
            let xs: Vec<f64> = r.curve.iter().map(|p| p.0).collect();
            let ys: Vec<f64> = r.curve.iter().map(|p| p.1.max(1e-12)).collect();
            report.add_series(
                &format!("z1_curve_{i}"),
                &[("step", xs.clone()), ("loss", ys.clone())],
            );
            let name = format!("{} {}", opt.name(), s.label());
            curve_lines.push(Line::new(name, xs, ys));
        }
        figures.push((
            "z1_loss_curves".to_string(),
            Figure {
                caption: Some(
                    "Z1 8x8 quadratic, seed 0: quantized components, rounding, E8M_M bits".into(),
                ),
                panels: vec![Panel {
                    title: "Z1 loss curves, selected settings".into(),
                    x_label: "step".into(),
                    y_label: "f(W) at master weights".into(),
                    log_y: true,
                    legend: LegendAt::UpperRight,
                    lines: curve_lines,
                    ..Default::default()
                }],
            },
        ));

        // ---- sweeps: final loss vs mantissa bits per component ------------------------
        let comps_panels: [(&'static str, &'static str); 5] = [
            ("W", "W"),
            ("G", "G"),
            ("M", "M"),
            ("V", "V"),
            ("all", "WGMV"),
        ];
        if !c.z1.sweep_bits.is_empty() {
            (ctx.progress)(0.4, "z1 sweep");
            let (panels, rows) = sweep(
                &runner,
                1,
                "Z1",
                &c.z1.sweep_bits,
                c.z1.sweep_seeds.max(1),
                &comps_panels,
                &mut evals,
                fp_adam,
                fp_muon,
            )?;
            report.add_table(
                "z1_sweep",
                &[
                    "optimizer",
                    "components",
                    "rounding",
                    "mantissa_bits",
                    "median_final_loss",
                ],
                rows,
            );
            figures.push((
                "z1_loss_vs_bits".to_string(),
                Figure {
                    caption: Some(
                        "Z1: final loss vs mantissa bits, one quantized component per panel \
                         (W weights, G gradient, M moment/momentum, V second moment)"
                            .into(),
                    ),
                    panels,
                },
            ));
        }

        if c.z2.enabled {
            (ctx.progress)(0.6, "z2 sweep");
            let c2 = &c.z2;
            let keys2: Vec<(Opt, Setting)> = vec![(Opt::Adam, FP), (Opt::Muon, FP)];
            let rs = run_jobs(&runner, &jobs_for(2, &keys2, c2.seeds))?;
            add_evals(&mut evals, &rs);
            let m2 = medians(&rs, c2.seeds);
            let (panels, rows) = sweep(
                &runner,
                2,
                "Z2",
                &c2.bits,
                c2.seeds,
                &comps_panels,
                &mut evals,
                m2[0],
                m2[1],
            )?;
            let all_sr = |opt: &str| -> Vec<f64> {
                rows.iter()
                    .filter(|r| {
                        r[0] == json!(opt) && r[1] == json!("WGMV") && r[2] == json!("stochastic")
                    })
                    .map(|r| r[4].as_f64().unwrap_or(f64::INFINITY))
                    .collect()
            };
            let (a_sr, m_sr) = (all_sr("Adam"), all_sr("Muon"));
            let at = |v: &[f64], b: u32| {
                c2.bits
                    .iter()
                    .position(|x| *x == b)
                    .map_or(f64::NAN, |i| v[i])
            };
            report.claim(Claim::judged(
                "quantized/z2-muon-vs-adam-m3",
                "Rosenbrock (16-d as 4x4, noise 1): with all components SR-quantized at M = 3, \
                 Muon ends lower than Adam (the paper's 'Muon is more robust'; weak in the spec's \
                 prototype: 0.41 vs 2.8)",
                ClaimKind::Reported,
                json!({"adam": num(at(&a_sr, 3)), "muon": num(at(&m_sr, 3)),
                       "adam_fp": num(m2[0]), "muon_fp": num(m2[1])}),
                "muon < adam",
                at(&m_sr, 3) < at(&a_sr, 3),
            ));
            let ok10 = c2
                .bits
                .iter()
                .filter(|b| **b >= 10)
                .all(|b| at(&a_sr, *b) <= 2.0 * m2[0] && at(&m_sr, *b) <= 2.0 * m2[1]);
            report.claim(Claim::judged(
                "quantized/z2-high-precision",
                "Rosenbrock: all-component SR at M >= 10 ends within 2x full precision for both \
                 optimizers, and M <= 2 at least 100x worse",
                ClaimKind::Reported,
                json!({"adam": a_sr.iter().map(|v| num(*v)).collect::<Vec<_>>(),
                       "muon": m_sr.iter().map(|v| num(*v)).collect::<Vec<_>>(),
                       "bits": c2.bits, "adam_fp": num(m2[0]), "muon_fp": num(m2[1])}),
                "M >= 10 within 2x FP; M <= 2 >= 100x FP",
                ok10 && c2
                    .bits
                    .iter()
                    .filter(|b| **b <= 2)
                    .all(|b| at(&a_sr, *b) >= 100.0 * m2[0] && at(&m_sr, *b) >= 100.0 * m2[1]),
            ));
            report.add_table(
                "z2_sweep",
                &[
                    "optimizer",
                    "components",
                    "rounding",
                    "mantissa_bits",
                    "median_final_loss",
                ],
                rows,
            );
            figures.push((
                "z2_loss_vs_bits".to_string(),
                Figure {
                    caption: Some(
                        "Z2 Rosenbrock (16-d as a 4x4 matrix for Muon, gradient noise 1): median \
                         final loss vs mantissa bits per quantized component"
                            .into(),
                    ),
                    panels,
                },
            ));
        }

        if c.z3.enabled {
            (ctx.progress)(0.8, "z3 sweep");
            let c3 = &c.z3;
            let mut keys3: Vec<(Opt, Setting)> = vec![(Opt::Adam, FP), (Opt::Muon, FP)];
            for &b in &c3.bits {
                keys3.push((Opt::Adam, set("WGMV", b, "stochastic")));
                keys3.push((Opt::Muon, set("WGMV", b, "stochastic")));
            }
            let rs = run_jobs(&runner, &jobs_for(3, &keys3, c3.seeds))?;
            add_evals(&mut evals, &rs);
            let m3 = medians(&rs, c3.seeds);
            let mut rows = Vec::new();
            let mut lines: Vec<Line> = Vec::new();
            for opt in [Opt::Adam, Opt::Muon] {
                let (xs, ys): (Vec<f64>, Vec<f64>) = keys3
                    .iter()
                    .zip(&m3)
                    .filter(|(k, _)| k.0 == opt && !k.1.comps.is_empty())
                    .map(|(k, v)| (k.1.bits as f64, *v))
                    .unzip();
                for (x, y) in xs.iter().zip(&ys) {
                    rows.push(vec![json!(opt.name()), json!(x), num(*y)]);
                }
                let fpv = m3[if opt == Opt::Adam { 0 } else { 1 }];
                let color = Some(usize::from(opt == Opt::Muon));
                lines.push(Line {
                    markers: true,
                    color,
                    ..Line::new(format!("{} all SR", opt.name()), xs.clone(), ys)
                });
                lines.push(Line {
                    dashed: true,
                    color,
                    ..Line::new(
                        format!("{} fp64", opt.name()),
                        vec![xs[0], *xs.last().unwrap_or(&xs[0])],
                        vec![fpv, fpv],
                    )
                });
            }
            let m_at3 = |opt: Opt| {
                keys3
                    .iter()
                    .position(|k| k.0 == opt && k.1 == set("WGMV", 3, "stochastic"))
                    .map_or(f64::NAN, |i| m3[i])
            };
            report.claim(Claim::judged(
                "quantized/z3-muon-vs-adam",
                "MLP on digits (stand-in for the paper's CIFAR-10 MLP): with all components \
                 SR-quantized at M = 3, Muon's loss relative to its FP run is lower than Adam's. \
                 Read with the absolute values: when Muon interpolates the digits training set \
                 (final losses ~1e-12), its ratio compares round-off-level numbers, while \
                 Adam's M = 3 loss can sit at its FP loss (ratio ~1)",
                ClaimKind::Reported,
                json!({"adam_m3": num(m_at3(Opt::Adam)), "muon_m3": num(m_at3(Opt::Muon)),
                       "adam_fp": num(m3[0]), "muon_fp": num(m3[1])}),
                "muon_m3/muon_fp < adam_m3/adam_fp",
                m_at3(Opt::Muon) / m3[1] < m_at3(Opt::Adam) / m3[0],
            ));
            report.add_table(
                "z3_sweep",
                &["optimizer", "mantissa_bits", "median_final_train_loss"],
                rows,
            );
            figures.push((
                "z3_loss_vs_bits".to_string(),
                Figure {
                    caption: Some(
                        "Z3: bias-free tanh MLP 64-64-64-10 on digits, batch 128; median final \
                         full-batch training loss vs mantissa bits, all components SR"
                            .into(),
                    ),
                    panels: vec![Panel {
                        title: "Z3 digits MLP: final loss vs mantissa bits".into(),
                        x_label: "mantissa bits M (E8M_M)".into(),
                        y_label: "final training cross-entropy".into(),
                        log_y: true,
                        legend: LegendAt::UpperRight,
                        lines,
                        ..Default::default()
                    }],
                },
            ));
        }

        report.evals = evals;
        report
            .assume(
                "Adam is torch's practical form (bias corrections, eps outside the root) with \
                 states stored quantized after the full-precision EMA update (spec §2.3, \
                 pitfall 2); the Defossez weighted-sum form is not implemented",
            )
            .assume(
                "Muon follows KellerJordan/Muon: Nesterov momentum beta = 0.95, NS5 with \
                 (3.4445, -4.7750, 2.0315), scale sqrt(max(1, rows/cols)); non-matrix blocks \
                 use AdamW with lr = 0.1 x Muon's lr; Q_M quantizes the momentum buffer, NS runs \
                 in full precision",
            )
            .assume(
                "formats are E8M_M with subnormals (f32's exponent range); stochastic rounding \
                 uses a counter hash of (seed, step, index) per component, independent of the \
                 gradient-noise stream",
            )
            .assume(
                "Z1: f(W) = (1/2n)||A(W - W*)||_F^2 with n = 8 the matrix side; h log-spaced in \
                 [1, 10], U from QR of a Gaussian (seed 123), W* = 10 N(0,1) from the same seed; \
                 gradient noise 0.01 N(0,1) per entry per step; linear LR decay to 0; the metric \
                 is the exact loss at the final master weights; medians over seeds",
            )
            .assume(
                "Q_W: the gradient is evaluated at Q_W(x) and applied to f64 master weights \
                 (pitfall 1); the loss is always measured at the master weights",
            )
            .assume(
                "Z2 and Z3 learning rates, noise, shapes and T are our choices (the paper's are \
                 unknown); Z3 uses the embedded digits with a bias-free MLP so Muon sees only \
                 matrices",
            );
        (ctx.progress)(1.0, "done");
        Ok(RunOutput { report, figures })
    }
}

/// Runs the per-component sweep on a problem: for each panel's component set, each optimizer
/// and each rounding, the median final loss at each mantissa width. Returns the panels and the
/// table rows.
#[allow(clippy::too_many_arguments)]
fn sweep(
    runner: &Runner<'_>,
    problem: u8,
    label: &str,
    bits: &[u32],
    seeds: usize,
    comps_panels: &[(&'static str, &'static str)],
    evals: &mut EvalCounts,
    fp_adam: f64,
    fp_muon: f64,
) -> Result<(Vec<Panel>, Vec<Vec<Value>>)> {
    let mut keys: Vec<(Opt, Setting)> = Vec::new();
    for &(_, comps) in comps_panels {
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
    let rs = run_jobs(runner, &jobs_for(problem, &keys, seeds))?;
    add_evals(evals, &rs);
    let med = medians(&rs, seeds);
    let mut rows = Vec::new();
    for ((opt, s), m) in keys.iter().zip(&med) {
        rows.push(vec![
            json!(opt.name()),
            json!(s.comps),
            json!(s.round),
            json!(s.bits),
            num(*m),
        ]);
    }
    let bx: Vec<f64> = bits.iter().map(|b| *b as f64).collect();
    let (lo, hi) = (bx[0], *bx.last().unwrap_or(&bx[0]));
    let mut panels = Vec::new();
    for &(title, comps) in comps_panels {
        let mut lines = Vec::new();
        for opt in [Opt::Adam, Opt::Muon] {
            for round in ["nearest", "stochastic"] {
                let ys: Vec<f64> = keys
                    .iter()
                    .zip(&med)
                    .filter(|(k, _)| k.0 == opt && k.1.comps == comps && k.1.round == round)
                    .map(|(_, v)| v.min(1e12))
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
        for (name, fp, color) in [("Adam fp64", fp_adam, 4), ("Muon fp64", fp_muon, 5)] {
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
    Ok((panels, rows))
}

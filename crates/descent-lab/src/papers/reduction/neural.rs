//! The neural case the paper only discusses (spec §4: variable elimination; reported only): a
//! tanh MLP regression on a teacher network, trained plainly on f(θ, W) = ½-MSE + (λ/2)‖W‖²
//! with GD and Adam, and with its linear head eliminated by variable projection
//! (`descent_nn::VarPro`: F(θ) = min_W f(θ, W), the head solved by ridge least squares inside
//! every evaluation) with the same two optimizers. Loss against iterations and against
//! seconds, and the Hessian spectrum of each problem at the end of each run.

use std::sync::Arc;

use descent_core::{EvalCounter, EvalCounts, Problem, Result, RngStreams};
use descent_data::{Dataset, Generator, Teacher, TeacherConfig};
use descent_nn::{Activation, Init, Mlp, RidgeHead, VarPro};
use descent_optim::parse_optimizer;
use descent_optim::probes::{
    Curvature, CurvatureOptions, hessian_curvature, top_hessian_eigenvalue,
};
use serde_json::Value;

use super::config::NeuralConfig;
use crate::harness::{EpochMetrics, par_range, run_epochs};
use crate::report::{Claim, ClaimKind, num};

/// The four runs, in order: (optimizer, on the reduced problem).
pub const RUNS: [(&str, bool); 4] = [("GD", false), ("Adam", false), ("GD", true), ("Adam", true)];

/// One training run.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuralRun {
    /// `GD on f`, `Adam on F (VarPro)`.
    pub label: String,
    /// `GD` or `Adam` (GD's step is gd_scale/λ_max at the start).
    pub optimizer: String,
    /// Whether it ran on F (the head eliminated by variable projection) instead of f.
    pub reduced: bool,
    /// The spec text it ran (the learning rate included).
    pub spec: String,
    /// Per curve point: steps, optimization seconds and loss (f, or F for VarPro).
    pub steps: Vec<f64>,
    /// Optimization seconds per curve point.
    pub seconds: Vec<f64>,
    /// Loss per curve point.
    pub loss: Vec<f64>,
    /// Whether the run produced a non-finite loss.
    pub diverged: bool,
    /// The Hessian of the run's problem at its final point.
    pub curvature: Curvature,
}

impl NeuralRun {
    /// The loss at the end (NaN for an empty curve).
    pub fn final_loss(&self) -> f64 {
        self.loss.last().copied().unwrap_or(f64::NAN)
    }

    /// Seconds until the loss first fell to `target` (NaN if it never did).
    pub fn seconds_to(&self, target: f64) -> f64 {
        self.loss
            .iter()
            .zip(&self.seconds)
            .find(|(l, _)| **l <= target)
            .map_or(f64::NAN, |(_, s)| *s)
    }
}

/// What the neural case measured.
#[derive(Debug, Clone, PartialEq)]
pub struct NeuralResult {
    /// The four runs (GD and Adam, on f and on F).
    pub runs: Vec<NeuralRun>,
    /// Parameters of f and of F (the head eliminated).
    pub n_full: usize,
    /// Parameters of F.
    pub n_reduced: usize,
    /// Oracle evaluations of all runs.
    pub evals: EvalCounts,
}

impl NeuralResult {
    /// The run of `optimizer` on f (`reduced` false) or F.
    pub fn run(&self, optimizer: &str, reduced: bool) -> Option<&NeuralRun> {
        self.runs
            .iter()
            .find(|r| r.optimizer == optimizer && r.reduced == reduced)
    }
}

/// The loss after each piece of a run.
#[derive(Debug, Clone, Copy)]
struct Loss(f64);

impl EpochMetrics for Loss {
    fn loss(&self) -> f64 {
        self.0
    }
}

/// The teacher data of the run seed.
fn data(c: &NeuralConfig, seed: u64) -> Result<Arc<Dataset>> {
    let s = RngStreams::new(seed);
    let cfg = TeacherConfig {
        dim: c.dim,
        hidden: c.teacher_hidden,
        outputs: 1,
        noise: c.noise,
        ..TeacherConfig::default()
    };
    let teacher = Teacher::new(cfg, &mut s.stream("neural-structure"))?;
    Ok(Arc::new(
        teacher.sample(c.samples, &mut s.stream("neural-samples")),
    ))
}

fn student(c: &NeuralConfig) -> Result<Mlp> {
    let mut sizes = vec![c.dim];
    sizes.extend(&c.hidden);
    sizes.push(1);
    Mlp::new(sizes, Activation::Tanh, true)
}

/// Runs one optimizer on one problem from `x0` and probes the end point.
fn train<P: Problem + descent_core::HessianVector>(
    c: &NeuralConfig,
    problem: P,
    x0: &[f64],
    spec: &str,
    seed: u64,
) -> Result<(NeuralRun, EvalCounts)> {
    let mut opt = parse_optimizer(spec)?;
    opt.init(problem.layout(), &RngStreams::new(seed))?;
    let mut counted = EvalCounter::new(problem);
    let mut x = x0.to_vec();
    let per = (c.steps / c.points as u64).max(1);
    let run = run_epochs(
        opt.as_mut(),
        &mut x,
        &mut counted,
        c.points,
        per,
        |p, x| Ok(Loss(p.value(x))),
        |_| {},
    )?;
    let evals = counted.counts();
    let mut p = counted.into_inner();
    let curvature = hessian_curvature(&mut p, &x, &CurvatureOptions::default())?;
    let run = NeuralRun {
        label: String::new(),
        optimizer: String::new(),
        reduced: false,
        spec: spec.to_string(),
        steps: run.column(|r| r.steps as f64),
        seconds: run.column(|r| r.seconds),
        loss: run.column(|r| r.metrics.0),
        diverged: run.diverged(),
        curvature,
    };
    Ok((run, evals))
}

/// The optimizer's spec for a problem: GD with step gd_scale/λ_max(∇²) at the start, or Adam;
/// and the HVPs its Lanczos probe used.
fn spec_for(
    c: &NeuralConfig,
    optimizer: &str,
    problem: &mut dyn descent_core::HessianVector,
    x0: &[f64],
    seed: u64,
) -> Result<(String, usize)> {
    if optimizer == "Adam" {
        return Ok((format!("adam(lr={})", c.adam_lr), 0));
    }
    let top = top_hessian_eigenvalue(problem, x0, 60, 1e-6, seed)?;
    Ok((
        format!("sgd(lr={})", c.gd_scale / top.lambda_max),
        top.iterations,
    ))
}

/// The four runs (in parallel) from one initialisation of the student.
pub fn measure(c: &NeuralConfig, run_seed: u64) -> Result<NeuralResult> {
    let seed = RngStreams::new(run_seed).child_seed("neural", 0);
    let data = data(c, seed)?;
    let model = student(c)?;
    let x0 = model.init_params(
        Init::Xavier,
        &mut RngStreams::new(seed).stream("neural-init"),
    );
    let n_full = x0.len();
    let n_reduced = n_full - c.hidden[c.hidden.len() - 1] - 1;
    let results = par_range(RUNS.len(), |i| {
        let (optimizer, reduced) = RUNS[i];
        let (mut run, evals) = if reduced {
            let mut vp = VarPro::new(model.clone(), data.clone(), c.ridge)?;
            let theta = &x0[..n_reduced];
            let (spec, probe) = spec_for(c, optimizer, &mut vp, theta, seed)?;
            let (run, mut e) = train(c, vp, theta, &spec, seed)?;
            e.hvps += (probe + run.curvature.hvps) as u64;
            (run, e)
        } else {
            let mut f = RidgeHead::new(model.clone(), data.clone(), c.ridge)?;
            let (spec, probe) = spec_for(c, optimizer, &mut f, &x0, seed)?;
            let (run, mut e) = train(c, f, &x0, &spec, seed)?;
            e.hvps += (probe + run.curvature.hvps) as u64;
            (run, e)
        };
        run.optimizer = optimizer.to_string();
        run.reduced = reduced;
        run.label = if reduced {
            format!("{optimizer} on F (VarPro)")
        } else {
            format!("{optimizer} on f")
        };
        Ok((run, evals))
    })?;
    let mut evals = EvalCounts::default();
    let mut runs = Vec::new();
    for (run, e) in results {
        evals = evals + e;
        runs.push(run);
    }
    Ok(NeuralResult {
        runs,
        n_full,
        n_reduced,
        evals,
    })
}

/// (optimizer, value(plain run, VarPro run)) for GD and Adam.
fn pairs(r: &NeuralResult, value: impl Fn(&NeuralRun, &NeuralRun) -> f64) -> Vec<(String, f64)> {
    ["GD", "Adam"]
        .iter()
        .map(|o| {
            let v = match (r.run(o, false), r.run(o, true)) {
                (Some(f), Some(big)) => value(f, big),
                _ => f64::NAN,
            };
            (o.to_string(), v)
        })
        .collect()
}

/// The claims of the neural case (reported: the paper has no neural experiment).
pub fn claims(r: &NeuralResult) -> Vec<Claim> {
    let k = ClaimKind::Reported;
    let what = format!(
        "tanh MLP regression on a teacher network ({} parameters; {} after eliminating the \
         linear head), one initialisation from the run seed",
        r.n_full, r.n_reduced
    );
    vec![
        Claim::for_every(
            "reduction/neural-varpro-lower-loss",
            &format!(
                "{what}: after the same number of steps the VarPro loss F(θ) is below the plain \
                 run's f(θ, W) (measured: final F / final f, per optimizer)"
            ),
            k,
            &pairs(r, |f, big| big.final_loss() / f.final_loss()),
            "every ratio < 1",
            |v| v < 1.0,
        ),
        Claim::for_every(
            "reduction/neural-varpro-faster-in-seconds",
            &format!(
                "{what}: VarPro reaches the plain run's final loss in less wall time than the \
                 plain run took (measured: VarPro seconds to that loss / plain seconds, per \
                 optimizer; NaN if never reached; timings share the machine)"
            ),
            k,
            &pairs(r, |f, big| {
                big.seconds_to(f.final_loss()) / f.seconds.last().copied().unwrap_or(f64::NAN)
            }),
            "every ratio < 1",
            |v| v < 1.0,
        ),
        Claim::for_every(
            "reduction/neural-conditioning",
            &format!(
                "{what}: the Hessian of F at the end of the VarPro run is better conditioned \
                 than that of f at the end of the plain run (measured: κ_F/κ_f with κ = λ_max / \
                 smallest eigenvalue above zero_tol·max|λ|, per optimizer; the end points are not \
                 minimisers — the table lists negative eigenvalues — and where the spectrum runs \
                 continuously down to 0, κ is close to 1/zero_tol for both problems)"
            ),
            k,
            &pairs(r, |f, big| big.curvature.kappa / f.curvature.kappa),
            "every ratio < 1",
            |v| v < 1.0,
        ),
    ]
}

/// The columns of [`rows`].
pub const COLUMNS: [&str; 11] = [
    "run",
    "spec",
    "final loss",
    "seconds",
    "ms per step",
    "beta",
    "mu",
    "kappa",
    "zeros",
    "negative",
    "diverged",
];

/// One row per run.
pub fn rows(r: &NeuralResult) -> Vec<Vec<Value>> {
    r.runs
        .iter()
        .map(|run| {
            let secs = run.seconds.last().copied().unwrap_or(f64::NAN);
            let steps = run.steps.last().copied().unwrap_or(f64::NAN);
            vec![
                Value::String(run.label.clone()),
                Value::String(run.spec.clone()),
                num(run.final_loss()),
                num(secs),
                num(1e3 * secs / steps),
                num(run.curvature.beta),
                num(run.curvature.mu),
                num(run.curvature.kappa),
                Value::from(run.curvature.zero_count),
                Value::from(run.curvature.negative_count),
                Value::Bool(run.diverged),
            ]
        })
        .collect()
}

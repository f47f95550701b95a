//! The training runs of checks 4 (SPRING μ = 0), 5, 7, 8, 9 and the reported Nyström, L-BFGS and
//! problem B/C comparisons: every method from the same model seed and the same resampled
//! batches, run in parallel through the harness, each logged by the harness epoch loop.

use descent_core::{EvalCounter, EvalCounts, Layout, Problem, Requires, Result, RngStreams};
use descent_nn::pinn::PinnObjective;
use descent_optim::{
    Engd, EngdConfig, Optimizer, OptimizerState, SolveLog, Solver, StepInfo, StepTimes,
    parse_optimizer,
};
use serde_json::{Value, json};

use super::config::{Config, ProblemConfig};
use super::linear_algebra::NYSTROM_SHIFT;
use super::problems::{Which, problem};
use crate::harness::{EpochEnd, EpochMetrics, par_map, run_epochs};
use crate::plot::{Figure, LegendAt, Line, Panel};
use crate::report::num;

/// What a run is for: the claims find their runs by (problem, role), never by label text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Role {
    /// ENGD-W at the problem's damping λ from model seed `seed` (checks 7–9, the comparisons).
    EngdW {
        /// The model seed index.
        seed: usize,
    },
    /// ENGD-W at λ = 1e-6 (checks 5 and 7).
    EngdWLambda1e6,
    /// ENGD, the parameter-space solve, at λ = 1e-6 (check 5).
    EngdLambda1e6,
    /// SPRING with μ = 0 (check 4: must reproduce ENGD-W bit for bit).
    SpringMu0,
    /// SPRING with momentum μ (check 9).
    Spring {
        /// Momentum μ.
        mu: f64,
    },
    /// Nyström-ENGD with damping λ (reported).
    Nystrom {
        /// Damping λ.
        damping: f64,
    },
    /// The Adam baseline (check 8).
    Adam,
    /// The L-BFGS baseline (reported).
    Lbfgs,
}

/// How a run's optimizer is built.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// The ENGD family as `Engd::new(config, spec)`: `spec` is the registry text that builds the
    /// same optimizer (the runs table shows it), `config` is what runs, so a run's solver is
    /// known from the optimizer itself (check 5 needs two different solvers).
    Natural {
        /// What runs.
        config: EngdConfig,
        /// The registry text that builds the same optimizer.
        spec: String,
    },
    /// Any other optimizer of the registry, from its spec text.
    Registry(String),
}

impl Method {
    fn natural(solver: Solver, damping: f64, momentum: f64, spec: String) -> Self {
        Method::Natural {
            config: EngdConfig {
                solver,
                damping,
                momentum,
                ..EngdConfig::default()
            },
            spec,
        }
    }

    /// ENGD (Müller & Zeinhofer 2023): (JᵀJ + λI)⁻¹, the P × P solve.
    pub fn engd(damping: f64) -> Self {
        Self::natural(
            Solver::Parameter,
            damping,
            0.0,
            format!("engd(damping={damping:e})"),
        )
    }

    /// ENGD-W: Jᵀ(JJᵀ + λI)⁻¹, the N × N solve (the Woodbury form).
    pub fn engd_w(damping: f64) -> Self {
        Self::natural(
            Solver::Sample,
            damping,
            0.0,
            format!("engd_w(damping={damping:e})"),
        )
    }

    /// SPRING: ENGD-W with momentum μ and bias correction.
    pub fn spring(damping: f64, momentum: f64) -> Self {
        Self::natural(
            Solver::Sample,
            damping,
            momentum,
            format!("spring(damping={damping:e}, momentum={momentum})"),
        )
    }

    /// ENGD-W with the GPU-efficient Nyström kernel of rank ℓ (paper Algorithm 2).
    pub fn nystrom(rank: usize, damping: f64) -> Self {
        Self::natural(
            Solver::Nystrom {
                rank,
                shift: NYSTROM_SHIFT,
            },
            damping,
            0.0,
            format!("nystrom(rank={rank}, damping={damping:e})"),
        )
    }

    /// The spec text.
    pub fn spec(&self) -> &str {
        match self {
            Method::Natural { spec, .. } | Method::Registry(spec) => spec,
        }
    }
}

/// One training run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// What the run is for (the claims find it by role).
    pub role: Role,
    /// The PDE.
    pub which: Which,
    /// The legend label.
    pub label: String,
    /// The optimizer.
    pub method: Method,
    /// Optimizer steps.
    pub steps: usize,
    /// Seed of the model's initial parameters.
    pub model_seed: u64,
    /// Evaluate the L2 error every this many steps (and after the last).
    pub every: usize,
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// What the run was for.
    pub role: Role,
    /// The PDE.
    pub which: Which,
    /// The legend label.
    pub label: String,
    /// The optimizer's spec text.
    pub optimizer: String,
    /// The solver of the optimizer that ran (ENGD family), read from its configuration.
    pub solver: Option<Solver>,
    /// Logged steps (0 is the initial point) with the L2 error and the optimization seconds.
    pub steps: Vec<f64>,
    /// Relative L2 error of the solution at each logged step.
    pub l2: Vec<f64>,
    /// Optimization seconds up to each logged step (evaluations excluded).
    pub seconds: Vec<f64>,
    /// Relative H1 error at the end (NaN when not reached).
    pub final_h1: f64,
    /// Phase seconds and Cholesky safety nets of the ENGD family (zero for the others).
    pub times: StepTimes,
    /// Cholesky jitters and SVD fallbacks of the ENGD family.
    pub log: SolveLog,
    /// Oracle evaluations of the whole run.
    pub evals: EvalCounts,
    /// Why the run stopped early (an error or divergence), if it did.
    pub error: Option<String>,
    /// Steps whose line search found no improving step size (α = 0).
    pub no_step: usize,
}

impl RunResult {
    /// An empty result for `spec`.
    pub fn new(spec: &RunSpec) -> Self {
        RunResult {
            role: spec.role,
            which: spec.which,
            label: spec.label.clone(),
            optimizer: spec.method.spec().to_string(),
            solver: None,
            steps: Vec::new(),
            l2: Vec::new(),
            seconds: Vec::new(),
            final_h1: f64::NAN,
            times: StepTimes::default(),
            log: SolveLog::default(),
            evals: EvalCounts::default(),
            error: None,
            no_step: 0,
        }
    }

    /// The L2 error at exactly `step` (NaN when that step was not logged).
    pub fn l2_at(&self, step: usize) -> f64 {
        self.steps
            .iter()
            .position(|&s| s as usize == step)
            .map_or(f64::NAN, |i| self.l2[i])
    }

    /// The last logged L2 error (NaN if none).
    pub fn final_l2(&self) -> f64 {
        self.l2.last().copied().unwrap_or(f64::NAN)
    }
}

/// Every run, in plan order.
#[derive(Debug, Clone)]
pub struct TrainingResult {
    /// Every run, in plan order.
    pub runs: Vec<RunResult>,
}

impl TrainingResult {
    /// The run of `role` on problem `which`.
    pub fn run(&self, which: Which, role: Role) -> Option<&RunResult> {
        self.runs
            .iter()
            .find(|r| r.which == which && r.role == role)
    }

    /// L2 of that run at `step`; NaN when the run or the step is missing.
    pub fn l2_at(&self, which: Which, role: Role, step: usize) -> f64 {
        self.run(which, role).map_or(f64::NAN, |r| r.l2_at(step))
    }
}

/// The runs of the experiment, in the order of the runs table.
pub fn plan(c: &Config, seed: u64) -> Vec<RunSpec> {
    let model_seed = |i: usize| RngStreams::new(seed).child_seed("model", i as u64);
    let run = |role, which, label: String, method, steps, every| RunSpec {
        role,
        which,
        label,
        method,
        steps,
        model_seed: model_seed(if let Role::EngdW { seed } = role {
            seed
        } else {
            0
        }),
        every,
    };
    let (lam, eq) = (c.a.damping, c.equivalence_steps);
    let a = Which::A;
    let mut specs: Vec<RunSpec> = (0..c.model_seeds)
        .map(|i| {
            let label = format!("ENGD-W λ={lam:e} seed {i}");
            let role = Role::EngdW { seed: i };
            run(role, a, label, Method::engd_w(lam), c.engd_w_steps(), 1)
        })
        .collect();
    let fixed = [
        (Role::EngdWLambda1e6, "ENGD-W λ=1e-6", Method::engd_w(1e-6)),
        (Role::EngdLambda1e6, "ENGD λ=1e-6", Method::engd(1e-6)),
        (Role::SpringMu0, "SPRING μ=0", Method::spring(lam, 0.0)),
    ];
    for (role, label, method) in fixed {
        let steps = match role {
            Role::EngdWLambda1e6 => c.engd_w_lambda_1e6_steps(),
            _ => eq,
        };
        specs.push(run(role, a, label.into(), method, steps, 1));
    }
    for &mu in &c.a.momenta {
        let method = Method::spring(lam, mu);
        specs.push(run(
            Role::Spring { mu },
            a,
            format!("SPRING μ={mu}"),
            method,
            c.spring_steps,
            1,
        ));
    }
    for &nl in &c.nystrom_dampings {
        let label = format!("Nyström ℓ={} λ={nl:e}", c.nystrom_rank);
        let method = Method::nystrom(c.nystrom_rank, nl);
        specs.push(run(
            Role::Nystrom { damping: nl },
            a,
            label,
            method,
            c.nystrom_steps,
            1,
        ));
    }
    let adam = Method::Registry(format!("adam(lr={})", c.adam_lr));
    specs.push(run(
        Role::Adam,
        a,
        format!("Adam lr={}", c.adam_lr),
        adam.clone(),
        c.a.adam_steps,
        10,
    ));
    let lbfgs = Method::Registry("lbfgs".into());
    specs.push(run(
        Role::Lbfgs,
        a,
        "L-BFGS".into(),
        lbfgs,
        c.lbfgs_steps,
        5,
    ));
    if c.problems_bc {
        for which in [Which::B, Which::C] {
            let (pc, tag) = (which.config(c), which.tag());
            let w = Method::engd_w(pc.damping);
            specs.push(run(
                Role::EngdW { seed: 0 },
                which,
                format!("{tag}: ENGD-W"),
                w,
                pc.steps,
                1,
            ));
            for &mu in &pc.momenta {
                let label = format!("{tag}: SPRING μ={mu}");
                let method = Method::spring(pc.damping, mu);
                specs.push(run(Role::Spring { mu }, which, label, method, pc.steps, 1));
            }
            let label = format!("{tag}: Adam");
            specs.push(run(
                Role::Adam,
                which,
                label,
                adam.clone(),
                pc.adam_steps,
                10,
            ));
        }
    }
    specs
}

/// Runs the plan in parallel (longest first, so the cores stay busy; results in plan order).
/// Batches and evaluation sets come from the run seed, initial parameters from the model seeds.
pub fn measure(c: &Config, seed: u64) -> Result<TrainingResult> {
    let specs = plan(c, seed);
    let mut order: Vec<usize> = (0..specs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cost(&specs[i], specs[i].which.config(c))));
    let done = par_map(&order, |&i| {
        Ok(run_one(&specs[i], specs[i].which.config(c), seed))
    })?;
    let mut runs: Vec<Option<RunResult>> = vec![None; specs.len()];
    for (&i, r) in order.iter().zip(done) {
        runs[i] = Some(r);
    }
    Ok(TrainingResult {
        runs: runs
            .into_iter()
            .map(|r| r.expect("every run ran"))
            .collect(),
    })
}

/// A rough cost estimate for scheduling the runs (longest first).
fn cost(s: &RunSpec, pc: &ProblemConfig) -> usize {
    let n = pc.interior + pc.condition;
    let per = match &s.method {
        Method::Registry(t) if t.starts_with("adam") => n / 10,
        Method::Registry(_) => n / 3,
        Method::Natural { config, .. } if config.solver == Solver::Parameter => n * 20,
        Method::Natural { .. } => n * 4,
    };
    per * s.steps
}

/// One run; an error or a divergence is recorded in the result (a failed run is data).
fn run_one(spec: &RunSpec, pc: &ProblemConfig, data_seed: u64) -> RunResult {
    let mut out = RunResult::new(spec);
    if let Err(e) = train(spec, pc, data_seed, &mut out) {
        out.error = Some(e.to_string());
    }
    out
}

fn train(spec: &RunSpec, pc: &ProblemConfig, data_seed: u64, out: &mut RunResult) -> Result<()> {
    let obj = problem(spec.which, pc, data_seed)?;
    let mut x = obj.init_params(&RngStreams::new(spec.model_seed));
    let layout = obj.layout().clone();
    let streams = RngStreams::new(data_seed);
    let mut counted = EvalCounter::new(obj);
    match &spec.method {
        Method::Natural { config, spec: text } => {
            let mut opt = Engd::new(*config, text.clone())?;
            opt.init(&layout, &streams)?;
            out.solver = Some(opt.config().solver);
            drive(&mut opt, &mut x, &mut counted, spec, out)?;
            out.times = opt.times();
            out.log = opt.solve_log();
        }
        Method::Registry(text) => {
            let mut opt = parse_optimizer(text)?;
            opt.init(&layout, &streams)?;
            drive(opt.as_mut(), &mut x, &mut counted, spec, out)?;
        }
    }
    out.evals = counted.counts();
    out.final_h1 = counted.inner_mut().h1_error(&x);
    Ok(())
}

/// The L2 error on the fixed evaluation set: the measurement after each logged step.
struct L2(f64);

impl EpochMetrics for L2 {
    fn loss(&self) -> f64 {
        self.0
    }
}

/// Runs `spec.steps` steps through the harness epoch loop, one "epoch" per `spec.every` steps
/// (and a shorter last one for a remainder), and logs steps, L2 and seconds into `out`.
fn drive(
    opt: &mut dyn Optimizer,
    x: &mut [f64],
    counted: &mut EvalCounter<PinnObjective>,
    spec: &RunSpec,
    out: &mut RunResult,
) -> Result<()> {
    let mut watched = NoMoveCounter {
        inner: opt,
        no_move: 0,
    };
    let every = spec.every.max(1);
    let mut parts = vec![(spec.steps / every, every)];
    if !spec.steps.is_multiple_of(every) {
        parts.push((1, spec.steps % every));
    }
    let (mut steps_before, mut seconds_before) = (0.0, 0.0);
    for (k, &(epochs, len)) in parts.iter().enumerate() {
        let run = run_epochs(
            &mut watched,
            x,
            counted,
            epochs,
            len as u64,
            |p, x| Ok(L2(p.l2_error(x))),
            |_| {},
        )?;
        // a later part's first record repeats the last record of the one before
        for rec in &run.records[usize::from(k > 0)..] {
            out.steps.push(steps_before + rec.steps as f64);
            out.l2.push(rec.metrics.0);
            out.seconds.push(seconds_before + rec.seconds);
        }
        if let EpochEnd::Diverged { step, .. } = run.end {
            out.error = Some(format!("diverged at step {}", steps_before + step as f64));
            break;
        }
        steps_before += run.last().steps as f64;
        seconds_before += run.last().seconds;
    }
    out.no_step = watched.no_move;
    Ok(())
}

/// Passes every call to `inner` and counts the steps whose extras report α = 0 (the line search
/// found no improvement and did not move): the harness loop drives it like any optimizer.
struct NoMoveCounter<'a> {
    inner: &'a mut dyn Optimizer,
    no_move: usize,
}

impl Optimizer for NoMoveCounter<'_> {
    fn requires(&self) -> Requires {
        self.inner.requires()
    }
    fn name(&self) -> String {
        self.inner.name()
    }
    fn init(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.inner.init(layout, streams)
    }
    fn step(&mut self, x: &mut [f64], problem: &mut dyn Problem) -> Result<StepInfo> {
        let info = self.inner.step(x, problem)?;
        if info.extras.get("alpha") == Some(0.0) {
            self.no_move += 1;
        }
        Ok(info)
    }
    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        self.inner.set_hyper(name, value)
    }
    fn state(&self) -> OptimizerState {
        self.inner.state()
    }
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        self.inner.load_state(state)
    }
}

/// Seconds per step of the Gram and solve phases (check 6 inside the runs).
pub fn solve_seconds_per_step(r: Option<&RunResult>, steps: usize) -> f64 {
    r.map_or(f64::NAN, |r| {
        (r.times.gram + r.times.solve) / steps.max(1) as f64
    })
}

/// Check 6 measured inside the training runs: ENGD's over ENGD-W's solve seconds per step at
/// λ = 1e-6 (the runs share the cores, so this is indicative only).
pub fn in_runs_speed_ratio(c: &Config, t: &TrainingResult) -> f64 {
    let engd = t.run(Which::A, Role::EngdLambda1e6);
    let engd_w = t.run(Which::A, Role::EngdWLambda1e6);
    solve_seconds_per_step(engd, c.equivalence_steps)
        / solve_seconds_per_step(engd_w, c.engd_w_lambda_1e6_steps())
}

/// Columns of the runs table.
pub const RUNS_COLUMNS: [&str; 11] = [
    "run",
    "optimizer",
    "steps",
    "final_l2",
    "final_h1",
    "seconds",
    "s_jacobian_per_step",
    "s_gram_per_step",
    "s_solve_per_step",
    "s_line_search_per_step",
    "steps_without_move",
];

/// One row per run: final errors, seconds and phase seconds per step.
pub fn runs_rows(t: &TrainingResult) -> Vec<Vec<Value>> {
    t.runs
        .iter()
        .map(|r| {
            let nsteps = r.steps.last().copied().filter(|s| *s >= 1.0).unwrap_or(1.0);
            vec![
                json!(r.label),
                json!(r.optimizer),
                json!(nsteps),
                num(r.final_l2()),
                num(r.final_h1),
                num(r.seconds.last().copied().unwrap_or(f64::NAN)),
                num(r.times.jacobian / nsteps),
                num(r.times.gram / nsteps),
                num(r.times.solve / nsteps),
                num(r.times.line_search / nsteps),
                json!(r.no_step),
            ]
        })
        .collect()
}

/// Notes on runs whose Cholesky needed the safety nets or that stopped early.
pub fn run_notes(t: &TrainingResult) -> Vec<String> {
    let mut notes = Vec::new();
    for r in &t.runs {
        if r.log.jittered > 0 || r.log.fallbacks > 0 {
            notes.push(format!(
                "{}: Cholesky needed a jitter in {} steps (max {:e}) and the SVD fallback in {} steps.",
                r.label, r.log.jittered, r.log.max_jitter, r.log.fallbacks
            ));
        }
        if let Some(e) = &r.error {
            notes.push(format!("{}: the run stopped: {e}", r.label));
        }
    }
    notes
}

/// The series name of a run: `l2_` and its label made file-safe.
pub fn series_name(label: &str) -> String {
    let s: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("l2_{}", s.replace("μ", "mu"))
}

/// The paper-style figures: L2 against steps and seconds for problem A (one model seed, no
/// SPRING μ = 0, which is ENGD-W) and for B and C when they ran.
pub fn figures(t: &TrainingResult) -> Vec<(String, Figure)> {
    let shown = |which: Which| -> Vec<&RunResult> {
        t.runs
            .iter()
            .filter(|r| r.which == which)
            .filter(|r| !matches!(r.role, Role::SpringMu0 | Role::EngdW { seed: 1.. }))
            .collect()
    };
    let mut out = vec![(
        "l2_problem_a".to_string(),
        l2_figure(
            "Problem A: 2-D Poisson, sin(πx)sin(πy), N = 300 + 100",
            &shown(Which::A),
        ),
    )];
    for (which, title) in [
        (Which::B, "Problem B: 5-D Poisson, Σcos(πxᵢ)"),
        (Which::C, "Problem C: heat, 1+2-D, sin product"),
    ] {
        let runs = shown(which);
        if !runs.is_empty() {
            let stem = format!("l2_problem_{}", which.tag().to_lowercase());
            out.push((stem, l2_figure(title, &runs)));
        }
    }
    out
}

/// L2 error vs step and vs wall-clock seconds, log axes, one line per run.
fn l2_figure(title: &str, runs: &[&RunResult]) -> Figure {
    let line = |r: &RunResult, by_time: bool| {
        // step 0 (the initial error) has no place on a log axis; the series keep it
        let tail = |v: &[f64]| v.get(1..).unwrap_or(&[]).to_vec();
        let x = if by_time { &r.seconds } else { &r.steps };
        Line::new(r.label.clone(), tail(x), tail(&r.l2))
    };
    let panel = |by_time: bool| Panel {
        title: format!("{title}: L2 vs {}", if by_time { "time" } else { "step" }),
        x_label: if by_time {
            "wall-clock seconds (log, line search included)".into()
        } else {
            "optimizer step (log)".into()
        },
        y_label: "L2 error (RMS of u − u*)".into(),
        log_x: true,
        log_y: true,
        legend: LegendAt::LowerLeft,
        lines: runs.iter().map(|r| line(r, by_time)).collect(),
        ..Default::default()
    };
    Figure {
        caption: Some(
            "L2 error (absolute RMS on the fixed evaluation points) against steps and seconds"
                .into(),
        ),
        panels: vec![panel(false), panel(true)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each ENGD-family method's spec text builds, through the registry, the optimizer its typed
    /// configuration builds: two steps on a small problem A land on the same bits (so the runs
    /// table's text is what ran, and the parameter- and sample-space runs are what they say).
    #[test]
    fn spec_texts_build_the_typed_optimizers() {
        let pc = ProblemConfig {
            hidden: vec![6],
            interior: 15,
            condition: 6,
            eval: 4,
            ..ProblemConfig::default()
        };
        let methods = [
            Method::engd(1e-6),
            Method::engd_w(1e-6),
            Method::spring(1e-8, 0.0),
            Method::spring(1e-8, 0.5),
            Method::nystrom(8, 1e-4),
        ];
        let mut finals = Vec::new();
        for m in &methods {
            let Method::Natural { config, spec } = m else {
                panic!("{m:?} is not of the ENGD family")
            };
            let take_steps = |opt: &mut dyn Optimizer| {
                let mut obj = problem(Which::A, &pc, 2).unwrap();
                let mut x = obj.init_params(&RngStreams::new(3));
                opt.init(&obj.layout().clone(), &RngStreams::new(4))
                    .unwrap();
                for _ in 0..2 {
                    opt.step(&mut x, &mut obj).unwrap();
                }
                x
            };
            let typed = take_steps(&mut Engd::new(*config, spec.clone()).unwrap());
            let parsed = take_steps(parse_optimizer(spec).unwrap().as_mut());
            assert_eq!(typed, parsed, "{spec}");
            finals.push(typed);
        }
        // parameter and sample space are different computations (they differ in the last bits)
        assert_ne!(finals[0], finals[1]);
    }

    #[test]
    fn the_plan_keeps_roles_unique_and_solvers_as_named() {
        let c = Config::default();
        let specs = plan(&c, 0);
        assert_eq!(specs.len(), 12);
        for (i, a) in specs.iter().enumerate() {
            for b in &specs[i + 1..] {
                assert!(!(a.which == b.which && a.role == b.role), "{}", a.label);
            }
        }
        let solver = |role| {
            let s = specs.iter().find(|s| s.role == role).unwrap();
            match &s.method {
                Method::Natural { config, .. } => config.solver,
                Method::Registry(t) => panic!("{t}"),
            }
        };
        assert_eq!(solver(Role::EngdLambda1e6), Solver::Parameter);
        assert_eq!(solver(Role::EngdWLambda1e6), Solver::Sample);
    }

    #[test]
    fn a_remainder_of_steps_is_logged_once_at_the_end() {
        let pc = ProblemConfig {
            hidden: vec![4],
            interior: 8,
            condition: 4,
            eval: 4,
            ..ProblemConfig::default()
        };
        let spec = RunSpec {
            role: Role::Adam,
            which: Which::A,
            label: "Adam".into(),
            method: Method::Registry("adam(lr=0.01)".into()),
            steps: 7,
            model_seed: 1,
            every: 3,
        };
        let r = run_one(&spec, &pc, 0);
        assert_eq!(r.error, None);
        assert_eq!(r.steps, vec![0.0, 3.0, 6.0, 7.0]);
        assert!(r.l2.iter().all(|v| v.is_finite()));
        assert!(r.seconds.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(r.evals.gradients, 7);
    }
}

//! The run machinery shared by every check (P1 §5): one online simulation per (sweep point,
//! seed), started at the rule's analytic fixed point, and the rotation estimator of P1 §2.4 on
//! snapshots of the relevant block.
//!
//! All checks' points run in one parallel fan-out ([`run`]): the sweeps share points (T2's
//! n = 10 is T1's λ⊥ = 0.5; the other models' n − m sweeps reuse T4–T6's points), which run
//! once, and one fan-out keeps both cores busy to the end. Each check then reads its points
//! from the [`Runs`].

use std::time::Instant;

use descent_core::rng::SimRng;
use descent_core::{Error, Result, RngStreams};
use descent_data::generators::{Basis, SpectralGaussian, SpectralTarget};
use descent_nn::drift_theory as theory;
use descent_nn::hebbian::{LinearAutoencoder, Oja, OnlineRule, SimilarityMatching, TwoLayerLinear};
use descent_optim::probes::drift::{
    DiffusionFit, DriftEstimate, DriftProbe, DriftProbeConfig, fit_diffusion,
};
use descent_optim::{SynapticNoise, Transform};

use super::config::{Config, Sweep};
use crate::harness::{par_grid, stats};

/// Which rule a run trains (its `Debug` text is part of the run's seed key, see
/// `RunSpec::seed_key`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// Oja's subspace rule (P1-a).
    Oja,
    /// Similarity matching (P1-b).
    Sm {
        /// The lateral time constant τ > 0.
        tau: f64,
    },
    /// The linear autoencoder trained by SGD (P1-c).
    Ae {
        /// Weight decay ≥ 0.
        wd: f64,
    },
    /// The supervised two-layer linear network (P1-d).
    Sup {
        /// Weight decay γ ≥ 0.
        gamma: f64,
    },
}

impl Model {
    /// The model's name in tables and statements.
    pub fn label(self) -> &'static str {
        match self {
            Model::Oja => "Oja",
            Model::Sm { .. } => "similarity matching",
            Model::Ae { .. } => "autoencoder",
            Model::Sup { .. } => "supervised",
        }
    }

    /// Closed-form D of P1 §3 (learning noise, P1-a to P1-d, plus synaptic noise, P1-e).
    /// Without irrelevant variance the unsupervised models have no learning-noise drift; the
    /// supervised net keeps its λ⊥-independent term.
    pub fn theory(self, r: &RunSpec) -> f64 {
        let (n, m, eta, l) = (r.n, r.m, r.eta, r.var_irr);
        let learn = match self {
            Model::Sup { gamma } => theory::supervised(n, m, eta, gamma, l),
            _ if l == 0.0 => 0.0,
            Model::Oja => theory::oja(n, m, eta, 1.0, l),
            Model::Sm { .. } => theory::similarity_matching(n, m, eta, 1.0, l),
            Model::Ae { .. } => theory::autoencoder(n, m, eta, 1.0, l),
        };
        learn + theory::synaptic(m, eta, r.sigma)
    }
}

/// One simulation: a rule, its data and noise, and how long to run it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// The rule trained.
    pub model: Model,
    /// n: input dimension (relevant plus irrelevant stimuli).
    pub n: usize,
    /// m: output dimension, also the number of relevant stimuli.
    pub m: usize,
    /// Relevant variances (length m).
    pub var_rel: Vec<f64>,
    /// λ⊥: the variance of each of the n − m irrelevant inputs.
    pub var_irr: f64,
    /// η: the learning rate.
    pub eta: f64,
    /// σ: synaptic noise scale (per-entry variance η·σ² per step; 0 = none).
    pub sigma: f64,
    /// Measured steps (after the burn-in).
    pub steps: u64,
    /// Window L of the rotation estimator, in steps.
    pub window: u64,
    /// 0 in a sweep point; the run's own seed when it runs ([`run`]).
    pub seed: u64,
}

impl RunSpec {
    /// The point of sweep `s` at (n, m, λ⊥) with equal relevant variances λ∥ = 1.
    pub fn new(model: Model, s: &Sweep, n: usize, m: usize, var_irr: f64) -> RunSpec {
        RunSpec {
            model,
            n,
            m,
            var_rel: vec![1.0; m],
            var_irr,
            eta: s.eta,
            sigma: s.sigma,
            steps: s.steps,
            window: s.window,
            seed: 0,
        }
    }

    /// The name under which the point's seeds derive from the run seed: the derived `Debug`
    /// text with seed 0, so equal points share their runs and every point (and each of its
    /// seeds) gets an independent stream. Renaming a field or a model changes every stream.
    fn seed_key(&self) -> String {
        format!(
            "{:?}",
            RunSpec {
                seed: 0,
                ..self.clone()
            }
        )
    }

    /// The closed-form D of this point.
    pub fn theory(&self) -> f64 {
        self.model.theory(self)
    }
}

/// One run's measurements.
struct RunResult {
    est: DriftEstimate,
    fit: Option<DiffusionFit>,
    steps_per_s: f64,
    failures: usize,
}

/// The fused hot loop: draw, step, noise, snapshot. Generic so each rule is monomorphised.
/// Every random choice comes from the run's `spec.seed`: the data structure from its
/// `"structure"` stream, the samples from `"samples"`, the synaptic noise from `"noise"`.
fn simulate<R: OnlineRule>(mut rule: R, spec: &RunSpec, c: &Config) -> Result<RunResult> {
    let (n, m) = (spec.n, spec.m);
    let mut variances = spec.var_rel.clone();
    variances.resize(n, spec.var_irr);
    let streams = RngStreams::new(spec.seed);
    let target = if rule.n_targets() > 0 {
        SpectralTarget::Projection
    } else {
        SpectralTarget::None
    };
    let data = SpectralGaussian::new(
        variances,
        m,
        Basis::Identity,
        target,
        &mut streams.stream("structure"),
    )?;
    let mut rng: SimRng = streams.sim("samples", 0);
    let layout = rule.layout();
    let symmetric = if layout.block("M").is_some() {
        vec!["M".to_string()]
    } else {
        Vec::new()
    };
    let mut noise = SynapticNoise::new(spec.eta, spec.sigma, symmetric)?;
    noise.build(&layout, &streams)?;
    // λ∥ = 1 (the Oja fixed point [I 0] holds for any distinct relevant variances too)
    let mut params = rule.fixed_point(1.0)?;
    let every = c.snapshot_every;
    let snapshots = (spec.steps / every) as usize;
    let mut probe = DriftProbe::new(DriftProbeConfig {
        m,
        snapshot_every: every,
        window: spec.window,
        lags: DriftProbeConfig::log_lags(every, 4 * spec.window, 6),
        batches: c.batches,
        expected_snapshots: snapshots,
    })?;
    let mut x = vec![0.0; n];
    let mut y = vec![0.0; rule.n_targets()];
    let mut enc = vec![0.0; m * n];
    let mut block = vec![0.0; m * m];
    let noisy = spec.sigma > 0.0;
    for _ in 0..c.burn_in {
        data.draw_with(&mut rng, &mut x, &mut y);
        rule.step(&mut params, &x, &y, spec.eta);
        if noisy {
            noise.add_to(&mut params);
        }
    }
    let start = Instant::now();
    for _ in 0..snapshots {
        for _ in 0..every {
            data.draw_with(&mut rng, &mut x, &mut y);
            rule.step(&mut params, &x, &y, spec.eta);
            if noisy {
                noise.add_to(&mut params);
            }
        }
        rule.encoder(&params, &mut enc);
        // relevant block: column s = representation of stimulus e_s
        for i in 0..m {
            block[i * m..(i + 1) * m].copy_from_slice(&enc[i * n..i * n + m]);
        }
        probe.record(&block);
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let est = probe.estimate();
    let fit = fit_diffusion(&est.msd, spec.window as f64 / 2.0).ok();
    Ok(RunResult {
        est,
        fit,
        steps_per_s: (snapshots as u64 * every) as f64 / secs,
        failures: probe.failures(),
    })
}

fn run_one(spec: &RunSpec, c: &Config) -> Result<RunResult> {
    match spec.model {
        Model::Oja => simulate(Oja::new(spec.n, spec.m)?, spec, c),
        Model::Sm { tau } => simulate(SimilarityMatching::new(spec.n, spec.m, tau)?, spec, c),
        Model::Ae { wd } => simulate(LinearAutoencoder::new(spec.n, spec.m, wd)?, spec, c),
        Model::Sup { gamma } => simulate(TwoLayerLinear::new(spec.n, spec.m, gamma)?, spec, c),
    }
}

/// A sweep point: its seeds' runs, combined (means over the seeds).
#[derive(Debug, Clone)]
pub struct Point {
    /// The simulation the point runs (seed 0; each run gets its own).
    pub spec: RunSpec,
    /// Number of runs (seeds) combined.
    pub runs: usize,
    /// The rotation estimate of D per step (P1 §2.4), mean over the runs.
    pub d: f64,
    /// Its standard error (batch means within each run, combined as for a mean).
    pub se: f64,
    /// The closed-form D of P1 §3.
    pub theory: f64,
    /// D from the slope of the MSD curve, mean over the runs.
    pub fit_d: f64,
    /// Least-squares standard error of `fit_d` (an underestimate, see `DiffusionFit::se`).
    pub fit_se: f64,
    /// Simulated steps per second of wall time, mean over the runs.
    pub steps_per_s: f64,
    /// (lag, MSD) pairs, MSD the mean over the runs.
    pub msd: Vec<(f64, f64)>,
    /// E\[Θ_ij²\]/L per step (m × m), mean over the runs.
    pub plane_rates: Vec<f64>,
    /// Per-stimulus rates D_i, mean over the runs.
    pub stimulus_rates: Vec<f64>,
    /// Largest mean ‖Θ‖² per plane in a window (the small-angle condition D·L ≲ 0.05), mean over the runs.
    pub mean_sq_angle: f64,
}

/// The standard error of a mean of independent estimates with standard errors `se`:
/// √(Σ seᵢ²)/k; NaN when any is not finite (the harness's policy).
fn se_of_mean(se: &[f64]) -> f64 {
    if se.is_empty() || se.iter().any(|s| !s.is_finite()) {
        return f64::NAN;
    }
    se.iter().map(|s| s.powi(2)).sum::<f64>().sqrt() / se.len() as f64
}

fn combine(spec: &RunSpec, runs: &[RunResult]) -> Point {
    let mean = |f: &dyn Fn(&RunResult) -> f64| stats::mean(&runs.iter().map(f).collect::<Vec<_>>());
    let m = spec.m;
    let ses = |f: &dyn Fn(&RunResult) -> f64| se_of_mean(&runs.iter().map(f).collect::<Vec<_>>());
    Point {
        spec: spec.clone(),
        runs: runs.len(),
        d: mean(&|r| r.est.d),
        se: ses(&|r| r.est.se),
        theory: spec.theory(),
        fit_d: mean(&|r| r.fit.map_or(f64::NAN, |f| f.d)),
        fit_se: ses(&|r| r.fit.map_or(f64::NAN, |f| f.se)),
        steps_per_s: mean(&|r| r.steps_per_s),
        msd: runs[0]
            .est
            .msd
            .iter()
            .enumerate()
            .map(|(i, (t, _))| (*t, mean(&|r| r.est.msd.get(i).map_or(f64::NAN, |p| p.1))))
            .collect(),
        plane_rates: (0..m * m)
            .map(|i| mean(&|r| r.est.plane_rates[i]))
            .collect(),
        stimulus_rates: (0..m).map(|i| mean(&|r| r.est.stimulus_rates[i])).collect(),
        mean_sq_angle: mean(&|r| r.est.mean_sq_angle),
    }
}

/// Every point's combined runs.
pub struct Runs {
    points: Vec<Point>,
    /// Snapshots whose relevant block was singular (skipped by the estimator), over all runs.
    pub failures: usize,
    /// Learning steps over all runs, burn-in included.
    pub total_steps: u64,
}

impl Runs {
    /// The points of `specs`, in order.
    pub fn points(&self, specs: &[RunSpec]) -> Result<Vec<Point>> {
        specs.iter().map(|s| self.point(s)).collect()
    }

    /// The point of `spec`.
    pub fn point(&self, spec: &RunSpec) -> Result<Point> {
        self.points
            .iter()
            .find(|p| &p.spec == spec)
            .cloned()
            .ok_or_else(|| Error::invalid("drift point", format!("{spec:?}"), "a planned point"))
    }
}

/// Runs every distinct point of `specs` at `c.seeds` seeds in parallel, through
/// [`par_grid`] (point-major, seeds inner). The k-th seed of a point is
/// `child_seed(point key, k)` of the run seed, so a point's numbers depend only on the run
/// seed and the point, never on the thread count or on which other points run.
pub fn run(
    c: &Config,
    seed: u64,
    specs: &[RunSpec],
    progress: &(dyn Fn(f64, &str) + Sync),
) -> Result<Runs> {
    let mut unique: Vec<RunSpec> = Vec::new();
    for s in specs {
        if !unique.contains(s) {
            unique.push(s.clone());
        }
    }
    let base = RngStreams::new(seed);
    progress(0.0, &format!("{} runs", unique.len() * c.seeds));
    let grid = par_grid(unique.len(), c.seeds, |p, k| {
        let spec = RunSpec {
            seed: base.child_seed(&unique[p].seed_key(), k as u64),
            ..unique[p].clone()
        };
        run_one(&spec, c)
    })?;
    progress(1.0, "runs done");
    let total_steps = unique.iter().map(|s| s.steps + c.burn_in).sum::<u64>() * c.seeds as u64;
    let failures = grid.iter().flatten().map(|r| r.failures).sum();
    let points = unique
        .iter()
        .zip(&grid)
        .map(|(spec, runs)| combine(spec, runs))
        .collect();
    Ok(Runs {
        points,
        failures,
        total_steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_errors_of_a_mean_combine_and_fail_on_nan() {
        assert!((se_of_mean(&[3.0, 4.0]) - 2.5).abs() < 1e-15);
        assert!(se_of_mean(&[1.0, f64::NAN]).is_nan());
        assert!(se_of_mean(&[]).is_nan());
    }

    #[test]
    fn the_seed_key_ignores_the_seed_and_tells_points_apart() {
        let s = Sweep::default();
        let a = RunSpec::new(Model::Oja, &s, 10, 2, 0.5);
        let b = RunSpec {
            seed: 7,
            ..a.clone()
        };
        assert_eq!(a.seed_key(), b.seed_key());
        assert_ne!(
            a.seed_key(),
            RunSpec::new(Model::Oja, &s, 10, 2, 0.3).seed_key()
        );
        // the key the streams were always derived from: do not change it silently
        assert_eq!(
            a.seed_key(),
            "RunSpec { model: Oja, n: 10, m: 2, var_rel: [1.0, 1.0], var_irr: 0.5, eta: 0.01, \
             sigma: 0.0, steps: 10000000, window: 10000, seed: 0 }"
        );
    }
}

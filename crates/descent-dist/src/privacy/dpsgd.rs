//! DP-SGD on one machine, for any model: what Opacus' `make_private` /
//! `make_private_with_epsilon` give a PyTorch user (Abadi et al. 2016, with the RDP accounting
//! of [`super::accountant`]).
//!
//! - [`DpSgdConfig`]: the privacy settings as a spec, `dp(epsilon=4, delta=1e-5, clip=1)` (a
//!   target ε, calibrated over the whole run) or `dp(noise_multiplier=1.1, delta=1e-5, clip=1)`
//!   (a given noise multiplier), optionally stage-wise decaying noise and clipping
//!   `stages=4, noise_decay=0.9, clip_decay=0.5` (σ_s = σ₀γ^s, C_s = C₀κ^s: P9 §2.2 steps 3–4)
//!   and `conversion=classic`. The accountant sees only the multipliers σ_s (std ÷ C_s, P9
//!   pitfall 11): a decaying clip changes the noise std σ_s·C_s, not the privacy cost.
//! - [`DpSchedule`]: the resolved schedule of a run of K releases at rate q: stage lengths,
//!   multipliers and the ε the whole schedule spends (≤ the target).
//! - [`DpSgdProblem`]: a gradient problem whose every gradient is one private release of
//!   [`PrivateGradient`] (a fresh Poisson batch, per-sample clipping, Gaussian noise, one
//!   accountant event). Any first-order transform runs on it as on any problem, so DP-SGD,
//!   DP-Adam and DP-Muon are ordinary optimizers on this problem.
//!
//! Why only first-order transforms: the accounting is right whatever calls the gradient (every
//! evaluation is a release with its own batch and its own accountant event), but methods that
//! expect two gradients of the SAME minibatch (SAM, line searches, RBO's inner loop) or
//! function values (zeroth-order) do not get what they assume. The problem therefore offers
//! Gradient and Stochastic only (no Function view), and `descent train --privacy` accepts
//! first-order optimizers and transforms only.

use descent_core::{
    Caps, Error, Function, Gradient, Layout, PerSampleGradients, Problem, Result, Spec, Stochastic,
};
use serde::{Deserialize, Serialize};

use super::accountant::{
    Conversion, Epsilon, RdpAccountant, Stage, calibrate, check_delta, check_multiplier, check_q,
    decaying_shape, epsilon_of_schedule,
};
use super::clip::check_clip;
use super::mechanism::{PrivateGradient, Release, ReleaseSpec};

/// The keys a `dp(...)` spec takes.
pub const DP_KEYS: [&str; 8] = [
    "epsilon",
    "noise_multiplier",
    "delta",
    "clip",
    "noise_decay",
    "clip_decay",
    "stages",
    "conversion",
];

/// DP-SGD's privacy settings (see the module docs). Exactly one of `epsilon` and
/// `noise_multiplier`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DpSgdConfig {
    /// Target ε of the whole run: σ₀ is calibrated so the run spends at most this.
    pub epsilon: Option<f64>,
    /// The noise multiplier σ₀ (noise std ÷ clipping norm), given instead of a target.
    pub noise_multiplier: Option<f64>,
    /// δ of the (ε, δ) guarantee (default 1e-5).
    pub delta: f64,
    /// The per-sample clipping norm C (default 1).
    pub clip: f64,
    /// γ: stage s has multiplier σ₀γ^s (default 1, constant noise).
    pub noise_decay: f64,
    /// κ: stage s clips to C·κ^s (default 1, constant clipping; P9 §2.2 step 3).
    pub clip_decay: f64,
    /// Number of equal stages of the run (default 1).
    pub stages: usize,
    /// The RDP → (ε, δ) conversion for calibration and the reported ε (default improved).
    pub conversion: Conversion,
}

impl DpSgdConfig {
    /// Parses `dp(epsilon=4, delta=1e-5, clip=1)` and the like (see [`DpSgdConfig::from_spec`]).
    pub fn parse(text: &str) -> Result<DpSgdConfig> {
        DpSgdConfig::from_spec(&Spec::parse(text)?)
    }

    /// Reads a `dp(...)` spec with the keys [`DP_KEYS`]; errors name `dp.key`, the value and
    /// what was expected (unknown names and keys list the valid ones).
    pub fn from_spec(spec: &Spec) -> Result<DpSgdConfig> {
        if spec.name != "dp" {
            return Err(Error::unknown_name(
                "privacy mechanism",
                &spec.name,
                &["dp"],
            ));
        }
        let a = spec.args(&DP_KEYS)?;
        let epsilon = a.f64_opt("epsilon")?;
        let noise_multiplier = a.f64_opt("noise_multiplier")?;
        let conversion = match a.choice("conversion", "improved", &["improved", "classic"])? {
            c if c == "classic" => Conversion::Classic,
            _ => Conversion::Improved,
        };
        let cfg = DpSgdConfig {
            epsilon,
            noise_multiplier,
            delta: a.f64("delta", 1e-5)?,
            clip: a.f64("clip", 1.0)?,
            noise_decay: a.f64("noise_decay", 1.0)?,
            clip_decay: a.f64("clip_decay", 1.0)?,
            stages: a.usize("stages", 1)?,
            conversion,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every field; errors name `dp.<field>`.
    pub fn validate(&self) -> Result<()> {
        match (self.epsilon, self.noise_multiplier) {
            (Some(_), Some(n)) => {
                return Err(Error::invalid(
                    "dp.noise_multiplier",
                    n,
                    "no noise_multiplier= together with epsilon= (give a target ε to calibrate \
                     the noise, or the noise multiplier itself)",
                ));
            }
            (None, None) => {
                return Err(Error::invalid(
                    "dp",
                    "neither epsilon= nor noise_multiplier=",
                    "a target epsilon=E (calibrates the noise) or noise_multiplier=S",
                ));
            }
            (Some(e), None) if !(e > 0.0 && e.is_finite()) => {
                return Err(Error::invalid("dp.epsilon", e, "a finite target ε > 0"));
            }
            (None, Some(n)) => {
                check_multiplier("dp.noise_multiplier", n)?;
            }
            _ => {}
        }
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return Err(Error::invalid("dp.delta", self.delta, "a number in (0, 1)"));
        }
        check_clip("dp.clip", self.clip)?;
        if !(self.noise_decay > 0.0 && self.noise_decay.is_finite()) {
            return Err(Error::invalid(
                "dp.noise_decay",
                self.noise_decay,
                "a finite decay factor γ > 0 (σ_s = σ₀·γ^s)",
            ));
        }
        if !(self.clip_decay > 0.0 && self.clip_decay <= 1.0) {
            return Err(Error::invalid(
                "dp.clip_decay",
                self.clip_decay,
                "a clipping decay factor κ in (0, 1] (C_s = C·κ^s)",
            ));
        }
        if self.stages == 0 {
            return Err(Error::invalid("dp.stages", 0, "an integer >= 1"));
        }
        Ok(())
    }

    /// The schedule of a run of `steps` releases at Poisson rate `q`: `stages` stages of
    /// (near-)equal length (the first ones one step longer when `steps` does not divide),
    /// multipliers σ₀γ^s with σ₀ calibrated to the target ε over the whole run, or the given
    /// one. Errors: q outside (0, 1], fewer steps than stages, an unreachable target.
    pub fn schedule(&self, q: f64, steps: u64) -> Result<DpSchedule> {
        self.validate()?;
        check_q("sampling rate", q)?;
        let s = self.stages as u64;
        if steps < s {
            return Err(Error::invalid(
                "dp.stages",
                self.stages,
                format!("at most the run's {steps} steps"),
            ));
        }
        let stage_steps: Vec<u64> = (0..s)
            .map(|i| steps / s + u64::from(i < steps % s))
            .collect();
        let shape = decaying_shape(q, &stage_steps, self.noise_decay)?;
        let sigma0 = match (self.epsilon, self.noise_multiplier) {
            (Some(e), _) => calibrate(e, self.delta, &shape, self.conversion)?.sigma0,
            (None, Some(n)) => n,
            (None, None) => unreachable!("validated: epsilon or noise"),
        };
        let stages: Vec<Stage> = shape
            .iter()
            .map(|st| Stage {
                noise_multiplier: sigma0 * st.noise_multiplier,
                ..*st
            })
            .collect();
        let planned = epsilon_of_schedule(&stages, self.delta, self.conversion)?;
        let clips = (0..s)
            .map(|i| self.clip * self.clip_decay.powi(i as i32))
            .collect();
        Ok(DpSchedule {
            clip: self.clip,
            clips,
            sigma0,
            stages,
            planned,
            target_epsilon: self.epsilon,
        })
    }
}

/// A resolved DP-SGD schedule (pure data: it prints, serializes and reports).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DpSchedule {
    /// The clipping norm C of stage 0.
    pub clip: f64,
    /// C_s per stage (C·κ^s).
    pub clips: Vec<f64>,
    /// σ₀, the multiplier of stage 0.
    pub sigma0: f64,
    /// (q, σ_s, T_s) per stage.
    pub stages: Vec<Stage>,
    /// ε of the whole schedule (≤ the target when calibrated).
    pub planned: Epsilon,
    /// The target ε, when calibrated.
    pub target_epsilon: Option<f64>,
}

impl DpSchedule {
    /// The stage of release `k` (0-based); past the schedule the last stage.
    pub fn stage_at(&self, k: u64) -> usize {
        let mut end = 0;
        for (i, s) in self.stages.iter().enumerate() {
            end += s.steps;
            if k < end {
                return i;
            }
        }
        self.stages.len().saturating_sub(1)
    }

    /// The multiplier σ_s of release `k` (0-based); past the schedule the last stage's.
    pub fn multiplier_at(&self, k: u64) -> f64 {
        self.stages
            .get(self.stage_at(k))
            .map_or(0.0, |s| s.noise_multiplier)
    }

    /// The clipping norm C_s of release `k`; past the schedule the last stage's.
    pub fn clip_at(&self, k: u64) -> f64 {
        self.clips
            .get(self.stage_at(k))
            .copied()
            .unwrap_or(self.clip)
    }

    /// Σ T_s.
    pub fn total_steps(&self) -> u64 {
        self.stages.iter().map(|s| s.steps).sum()
    }
}

/// DP-SGD's gradient as a problem: every gradient evaluation is one private release (see the
/// module docs). The inner problem's current batch is the population the Poisson batches are
/// drawn from: bind the whole training set in full-batch mode.
#[derive(Debug, Clone)]
pub struct DpSgdProblem<P> {
    grad: PrivateGradient<P>,
    schedule: DpSchedule,
    delta: f64,
    conversion: Conversion,
    last: Option<Release>,
}

impl<P: PerSampleGradients + Problem> DpSgdProblem<P> {
    /// DP-SGD over `problem` (its current batch = the m training samples) with Poisson rate `q`
    /// (the schedule's), noise from `schedule`, at `delta` with `conversion`, drawing batches
    /// and noise from the streams (seed, "dp-batch" | "dp-noise", 0, k).
    pub fn new(
        problem: P,
        schedule: DpSchedule,
        delta: f64,
        conversion: Conversion,
        seed: u64,
    ) -> Result<Self> {
        check_delta(delta)?;
        let Some(first) = schedule.stages.first() else {
            return Err(Error::invalid("dp schedule", "[]", "at least one stage"));
        };
        for (i, s) in schedule.stages.iter().enumerate() {
            s.validate(&format!("stages[{i}]."))?;
            if s.q != first.q {
                return Err(Error::invalid(
                    format!("stages[{i}].q"),
                    s.q,
                    format!(
                        "the rate of stage 0 ({}): one Poisson sampler per run",
                        first.q
                    ),
                ));
            }
        }
        check_clip("dp.clip", schedule.clip)?;
        if schedule.clips.len() != schedule.stages.len() {
            return Err(Error::shape(
                "dp schedule clips (one per stage)",
                schedule.stages.len(),
                schedule.clips.len(),
            ));
        }
        for (i, &c) in schedule.clips.iter().enumerate() {
            check_clip(&format!("dp.clips[{i}]"), c)?;
        }
        Ok(DpSgdProblem {
            grad: PrivateGradient::new(problem, first.q, seed, 0)?,
            schedule,
            delta,
            conversion,
            last: None,
        })
    }

    /// The wrapped problem (e.g. to evaluate the model on test data; not private).
    pub fn problem(&self) -> &P {
        self.grad.problem()
    }

    /// The wrapped problem, mutably.
    pub fn problem_mut(&mut self) -> &mut P {
        self.grad.problem_mut()
    }

    /// The private gradient oracle (its accountant and sampler).
    pub fn private_gradient(&self) -> &PrivateGradient<P> {
        &self.grad
    }

    /// The schedule.
    pub fn schedule(&self) -> &DpSchedule {
        &self.schedule
    }

    /// Continues from a checkpoint of a run with this schedule: `releases` releases were made
    /// and `accountant` holds their spent budget (see [`PrivateGradient::restore`]).
    pub fn restore(&mut self, releases: u64, accountant: RdpAccountant) {
        self.grad.restore(releases, accountant);
        self.last = None;
    }

    /// Releases so far.
    pub fn releases(&self) -> u64 {
        self.grad.accountant().steps()
    }

    /// ε spent so far at the run's δ, in the run's conversion.
    pub fn epsilon(&self) -> Epsilon {
        self.grad
            .epsilon(self.delta, self.conversion)
            .expect("δ validated in DpSgdProblem::new")
    }

    /// ε spent so far in both conversions (classic, improved).
    pub fn epsilon_bracket(&self) -> [Epsilon; 2] {
        self.grad
            .accountant()
            .epsilon_bracket(self.delta)
            .expect("δ validated in DpSgdProblem::new")
    }

    /// The last release (batch size, clipped count, noise std, loss).
    pub fn last_release(&self) -> Option<Release> {
        self.last
    }
}

impl<P: PerSampleGradients + Problem> Function for DpSgdProblem<P> {
    fn dim(&self) -> usize {
        self.grad.problem().layout().len()
    }

    /// The inner problem's value on its whole batch: NOT private, for diagnostics only (this
    /// problem offers no Function view in [`Problem::caps`]).
    fn value(&mut self, x: &[f64]) -> f64 {
        Function::value(self.grad.problem_mut(), x)
    }
}

impl<P: PerSampleGradients + Problem> Gradient for DpSgdProblem<P> {
    /// One private release at `x`: (Σ_{i∈B} clip_{C_k}(∇ℓᵢ) + N(0, (σ_k C_k)² I)) / (q m) with a
    /// fresh Poisson batch B, σ_k and C_k the schedule's multiplier and clip of this release; returns the clipped loss
    /// of B (not private: a diagnostic, as Opacus users print it).
    fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
        let k = self.grad.next_iteration();
        let spec = ReleaseSpec::private(self.schedule.clip_at(k), self.schedule.multiplier_at(k));
        let release = self
            .grad
            .release(x, spec, g)
            .expect("clip, multipliers and lengths validated in DpSgdProblem::new");
        self.last = Some(release);
        release.loss
    }
}

impl<P: PerSampleGradients + Problem> Stochastic for DpSgdProblem<P> {
    /// Nothing to do: every release draws its own Poisson batch.
    fn resample(&mut self) {}
}

impl<P: PerSampleGradients + Problem> Problem for DpSgdProblem<P> {
    fn name(&self) -> String {
        format!(
            "dp-sgd(q={}, σ₀={:.4}, C={}) of {}",
            self.schedule.stages[0].q,
            self.schedule.sigma0,
            self.schedule.clip,
            self.grad.problem().name()
        )
    }

    fn layout(&self) -> &Layout {
        self.grad.problem().layout()
    }

    /// Gradient and Stochastic: no Function view (values would be non-private evaluations).
    fn caps(&self) -> Caps {
        Caps::GRADIENT | Caps::STOCHASTIC
    }

    fn as_gradient(&mut self) -> Option<&mut dyn Gradient> {
        Some(self)
    }

    fn as_stochastic(&mut self) -> Option<&mut dyn Stochastic> {
        Some(self)
    }
}

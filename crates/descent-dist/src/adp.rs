//! ADP-VRSGP's node (P9 §2.2, §2.4) and its baselines DP-SGP and non-private SGP, as SGP
//! learners over any [`PerSampleGradients`] problem (e.g. a `descent_nn::Objective` bound to
//! the node's local data in full-batch mode).
//!
//! Node i in round k, stage s (stages of `stage_steps` rounds; past the last stage the last
//! stage's settings continue):
//! 1. Poisson batch with q_i = b/m_i from the stream (seed, "dp-batch", i, k);
//! 2. per-sample clipping to C_s = C₀κ^s at the de-biased model z;
//! 3. g̃ = (Σ clipped + N(0, (σ_{i,s}C_s)² I)) / (q_i m_i), noise from (seed, "dp-noise", i, k),
//!    σ_{i,s} = σ_{i,0}γ^s;
//! 4. progressive gradient fusion v = β_s v + (1 − β_s) g̃ (v⁰ = 0), on the noised gradient
//!    only (post-processing, P9 pitfall 7);
//! 5. the local transform (default `sgd(lr=η₀)`) turns v into the numerator's update, its `lr`
//!    set to η_s = η₀λ^s at every stage boundary.
//!
//! σ_{i,0} comes from the node's budget (ε_i, δ) by calibrating the whole schedule
//! ([`crate::privacy::calibrate`]), so nodes with smaller ε_i get larger σ_{i,0}; the accountant
//! is fed the multiplier σ_{i,s} = std_s / C_s, never the absolute std (pitfall 11).
//! [`NodeRule::dp_sgp`] (constant σ calibrated to the same ε_i, constant η, no fusion) and
//! [`NodeRule::sgp`] with [`NoiseSpec::None`] (no clipping or noise, same sampling) are the
//! baselines of P9 §5.1.

use descent_core::{Error, PerSampleGradients, Problem, Result, RngStreams, Spec};
use descent_optim::{Transform, TransformState, build_transform};
use serde::{Deserialize, Serialize};

use crate::privacy::accountant::{
    Conversion, Epsilon, RdpAccountant, Stage, calibrate, check_delta, decaying_shape,
    epsilon_of_schedule,
};
use crate::privacy::clip::check_clip;
use crate::privacy::mechanism::{PrivateGradient, Release, ReleaseSpec};
use crate::pushsum::{LocalLearner, PushSumNode};

/// How a node's Poisson rate is set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampling {
    /// q_i = b / m_i for an expected batch size b (P9 §5.1: b = 32).
    ExpectedBatch(f64),
    /// The same rate q on every node.
    Rate(f64),
}

/// The rule every node follows (the method), shared by all nodes; the per-node part is the
/// [`NoiseSpec`] (e.g. the budget ε_i).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeRule {
    /// T_s: rounds per stage (K = Σ T_s).
    pub stage_steps: Vec<u64>,
    /// How the node's Poisson sampling rate q_i is set (P9 §5.1).
    pub sampling: Sampling,
    /// C₀: the clipping norm of stage 0.
    pub clip: f64,
    /// κ: C_s = C₀κ^s (1 = constant clip).
    pub clip_decay: f64,
    /// γ: σ_{i,s} = σ_{i,0}γ^s (1 = constant noise, DP-SGP).
    pub noise_decay: f64,
    /// λ: η_s = η₀λ^s, η₀ the transform's `lr`.
    pub lr_decay: f64,
    /// β_s per stage for the fusion v = β_s v + (1−β_s) g̃; empty = no fusion.
    pub fusion: Vec<f64>,
    /// δ of every node's (ε_i, δ) guarantee.
    pub delta: f64,
    /// The RDP → (ε, δ) conversion used for calibration and the reported ε.
    pub conversion: Conversion,
    /// The local transform, e.g. `sgd(lr=0.5)`.
    pub transform: String,
}

impl Default for NodeRule {
    fn default() -> Self {
        NodeRule::adp_vrsgp()
    }
}

impl NodeRule {
    /// ADP-VRSGP with P9 §5.1's settings: 4 stages × 75 rounds, b = 32, C = 1 (κ = 1),
    /// γ = 0.9, λ = 0.9, β = (0.8, 0.6, 0.4, 0.2), δ = 1e-5, improved conversion, SGD with
    /// η₀ = 0.5.
    pub fn adp_vrsgp() -> NodeRule {
        NodeRule {
            stage_steps: vec![75; 4],
            sampling: Sampling::ExpectedBatch(32.0),
            clip: 1.0,
            clip_decay: 1.0,
            noise_decay: 0.9,
            lr_decay: 0.9,
            fusion: vec![0.8, 0.6, 0.4, 0.2],
            delta: 1e-5,
            conversion: Conversion::Improved,
            transform: "sgd(lr=0.5)".into(),
        }
    }

    /// DP-SGP (PrivSGP-style baseline): the same stages, sampling, clip and δ, but constant
    /// noise (γ = 1), constant lr (λ = 1) and no fusion.
    pub fn dp_sgp() -> NodeRule {
        NodeRule {
            noise_decay: 1.0,
            lr_decay: 1.0,
            fusion: Vec::new(),
            ..NodeRule::adp_vrsgp()
        }
    }

    /// Non-private SGP: constant lr, no fusion (use it with [`NoiseSpec::None`]).
    pub fn sgp() -> NodeRule {
        NodeRule::dp_sgp()
    }

    /// K = Σ T_s.
    pub fn total_steps(&self) -> u64 {
        self.stage_steps.iter().sum()
    }

    /// The stage of round `k` (the last stage past the end).
    pub fn stage_of(&self, k: u64) -> usize {
        let mut end = 0;
        for (s, &t) in self.stage_steps.iter().enumerate() {
            end += t;
            if k < end {
                return s;
            }
        }
        self.stage_steps.len().saturating_sub(1)
    }

    /// The node's Poisson rate for m local samples.
    pub fn rate(&self, m: usize) -> Result<f64> {
        match self.sampling {
            Sampling::Rate(q) => crate::privacy::accountant::check_q("sampling.rate", q),
            Sampling::ExpectedBatch(b) => {
                if !(b > 0.0 && b <= m as f64) {
                    return Err(Error::invalid(
                        "sampling.expected_batch",
                        b,
                        format!("an expected batch size in (0, {m}] (the node's {m} samples)"),
                    ));
                }
                Ok(b / m as f64)
            }
        }
    }

    /// Checks every field; errors name the field, the value and the valid range.
    pub fn validate(&self) -> Result<()> {
        if self.stage_steps.is_empty() {
            return Err(Error::invalid("stage_steps", "[]", "at least one stage"));
        }
        if let Some(s) = self.stage_steps.iter().position(|&t| t == 0) {
            return Err(Error::invalid(
                format!("stage_steps[{s}]"),
                0,
                "at least 1 step",
            ));
        }
        check_clip("clip", self.clip)?;
        for (field, v) in [
            ("clip_decay", self.clip_decay),
            ("noise_decay", self.noise_decay),
            ("lr_decay", self.lr_decay),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                return Err(Error::invalid(field, v, "a finite decay factor > 0"));
            }
        }
        if !self.fusion.is_empty() && self.fusion.len() != self.stage_steps.len() {
            return Err(Error::invalid(
                "fusion",
                format!("{:?}", self.fusion),
                format!(
                    "one weight β_s per stage ({} stages), or [] for no fusion",
                    self.stage_steps.len()
                ),
            ));
        }
        if let Some((s, b)) = self
            .fusion
            .iter()
            .enumerate()
            .find(|(_, b)| !(**b >= 0.0 && **b < 1.0))
        {
            return Err(Error::invalid(
                format!("fusion[{s}]"),
                b,
                "a fusion weight β in [0, 1)",
            ));
        }
        check_delta(self.delta)?;
        if let Sampling::Rate(q) = self.sampling {
            crate::privacy::accountant::check_q("sampling.rate", q)?;
        }
        self.lr0()?;
        Ok(())
    }

    /// η₀: the transform's `lr` (1 when it has none; then λ must be 1).
    fn lr0(&self) -> Result<f64> {
        let t = build_transform(&Spec::parse(&self.transform)?)?;
        match t.hyper("lr") {
            Some(lr) => Ok(lr),
            None if self.lr_decay == 1.0 => Ok(1.0),
            None => Err(Error::invalid(
                "lr_decay",
                self.lr_decay,
                format!(
                    "1 for transform '{}', which has no 'lr' hyperparameter (it has: {})",
                    self.transform,
                    t.hyper_names().join(", ")
                ),
            )),
        }
    }
}

/// How much noise a node adds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseSpec {
    /// Calibrate σ_{i,0} so the whole schedule spends at most ε_i (at the rule's δ).
    Budget {
        /// The privacy budget ε_i of the whole schedule.
        epsilon: f64,
    },
    /// σ_{i,s} = sigma0·γ^s (noise std σ_{i,s}·C_s).
    Multiplier {
        /// σ_{i,0}, the noise multiplier of stage 0.
        sigma0: f64,
    },
    /// Absolute noise std std0·γ^s whatever the clip; the accountant gets std_s / C_s.
    AbsoluteStd {
        /// The absolute noise std of stage 0 on the clipped sum.
        std0: f64,
    },
    /// Non-private: no clipping, no noise, no accounting.
    None,
}

/// One stage of a node's resolved schedule: everything the node uses and reports.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StagePlan {
    /// T_s: local steps of this stage.
    pub steps: u64,
    /// q_i: the Poisson sampling rate of every step of this stage.
    pub q: f64,
    /// C_s (None when non-private).
    pub clip: Option<f64>,
    /// σ_{i,s} = std_s / C_s (what the accountant gets).
    pub noise_multiplier: f64,
    /// std_s: the absolute noise std on the clipped sum.
    pub std: f64,
    /// η_s.
    pub lr: f64,
    /// β_s (0 = no fusion).
    pub fusion: f64,
}

/// A node's resolved schedule: its rate, its calibrated σ_{i,0} and every stage's settings,
/// and the ε the whole schedule spends. Pure (no data needed), so the CLI can print it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodePlan {
    /// The node's id (0-based).
    pub node: usize,
    /// Local samples m_i.
    pub m: usize,
    /// q_i: the node's Poisson sampling rate.
    pub q: f64,
    /// The budget ε_i when calibrated.
    pub target_epsilon: Option<f64>,
    /// σ_{i,0} (0 when non-private).
    pub sigma0: f64,
    /// The stages s = 0, 1, … of the schedule, in order.
    pub stages: Vec<StagePlan>,
    /// ε of the full schedule (rule's conversion; None when non-private).
    pub planned_epsilon: Option<Epsilon>,
    /// The δ of every reported (ε, δ).
    pub delta: f64,
    /// The RDP → (ε, δ) conversion of `planned_epsilon`.
    pub conversion: Conversion,
}

impl NodePlan {
    /// Resolves the schedule of node `node` with `m` local samples under `rule` and `noise`.
    pub fn new(rule: &NodeRule, node: usize, m: usize, noise: NoiseSpec) -> Result<NodePlan> {
        rule.validate()?;
        let q = rule.rate(m)?;
        let lr0 = rule.lr0()?;
        let n_stages = rule.stage_steps.len();
        let clip_of = |s: usize| rule.clip * rule.clip_decay.powi(s as i32);
        let gamma_s = |s: usize| rule.noise_decay.powi(s as i32);
        let (sigma0, target) = match noise {
            NoiseSpec::Budget { epsilon } => {
                let shape = decaying_shape(q, &rule.stage_steps, rule.noise_decay)?;
                let cal = calibrate(epsilon, rule.delta, &shape, rule.conversion)?;
                (cal.sigma0, Some(epsilon))
            }
            NoiseSpec::Multiplier { sigma0 } => (
                crate::privacy::accountant::check_multiplier("noise.sigma0", sigma0)?,
                None,
            ),
            NoiseSpec::AbsoluteStd { std0 } => {
                if std0.is_nan() || std0 < 0.0 {
                    return Err(Error::invalid(
                        "noise.std0",
                        std0,
                        "an absolute noise std >= 0",
                    ));
                }
                (std0 / rule.clip, None)
            }
            NoiseSpec::None => (0.0, None),
        };
        let private = !matches!(noise, NoiseSpec::None);
        let stages: Vec<StagePlan> = (0..n_stages)
            .map(|s| {
                let clip = clip_of(s);
                let (multiplier, std) = match noise {
                    NoiseSpec::AbsoluteStd { std0 } => {
                        let std = std0 * gamma_s(s);
                        (std / clip, std)
                    }
                    NoiseSpec::None => (0.0, 0.0),
                    _ => {
                        let m = sigma0 * gamma_s(s);
                        (m, m * clip)
                    }
                };
                StagePlan {
                    steps: rule.stage_steps[s],
                    q,
                    clip: private.then_some(clip),
                    noise_multiplier: multiplier,
                    std,
                    lr: lr0 * rule.lr_decay.powi(s as i32),
                    fusion: rule.fusion.get(s).copied().unwrap_or(0.0),
                }
            })
            .collect();
        let planned_epsilon = if private {
            Some(epsilon_of_schedule(
                &accountant_stages(&stages),
                rule.delta,
                rule.conversion,
            )?)
        } else {
            None
        };
        Ok(NodePlan {
            node,
            m,
            q,
            target_epsilon: target,
            sigma0,
            stages,
            planned_epsilon,
            delta: rule.delta,
            conversion: rule.conversion,
        })
    }

    /// True when the node clips and adds noise.
    pub fn is_private(&self) -> bool {
        self.stages.first().is_some_and(|s| s.clip.is_some())
    }

    /// The schedule as the accountant sees it: (q, std_s / C_s, T_s) per stage.
    pub fn accountant_stages(&self) -> Vec<Stage> {
        accountant_stages(&self.stages)
    }
}

fn accountant_stages(stages: &[StagePlan]) -> Vec<Stage> {
    stages
        .iter()
        .map(|s| Stage {
            q: s.q,
            noise_multiplier: s.noise_multiplier,
            steps: s.steps,
        })
        .collect()
}

/// What a node reports after (or during) training: its plan and the ε its accountant has
/// actually spent (both conversions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeReport {
    /// The schedule the node was given.
    pub plan: NodePlan,
    /// Local steps taken.
    pub steps: u64,
    /// Spent ε in the rule's conversion (None when non-private).
    pub epsilon: Option<Epsilon>,
    /// Spent ε, classic conversion.
    pub epsilon_classic: Option<Epsilon>,
    /// Spent ε, improved conversion.
    pub epsilon_improved: Option<Epsilon>,
    /// The last release (batch size, clipped count, std, loss).
    pub last_release: Option<Release>,
}

/// What of a [`DpLearner`] changes over rounds, as a checkpoint keeps it: the fused gradient
/// v, the steps taken, the last release, the transform's state (moments, counters, streams),
/// the next release's iteration and the accountant's spent budget. Batches and noise come from
/// counter-based streams of the iteration, so nothing else is needed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DpLearnerState {
    /// The fused (variance-reduced) gradient estimate v.
    pub v: Vec<f64>,
    /// Local steps taken so far.
    pub steps: u64,
    /// The last release (batch size, clipped count, noise std, loss), if any.
    pub last: Option<Release>,
    /// The transform's state (moments, counters, random streams).
    pub transform: TransformState,
    /// The iteration index of the next private release.
    pub next_release: u64,
    /// The RDP accountant with the budget spent so far.
    pub accountant: RdpAccountant,
}

/// The ADP-VRSGP / DP-SGP / SGP learner of one node (see the module docs).
pub struct DpLearner<P> {
    plan: NodePlan,
    stage_ends: Vec<u64>,
    grad: PrivateGradient<P>,
    transform: Box<dyn Transform>,
    has_lr: bool,
    stage: Option<usize>,
    v: Vec<f64>,
    g: Vec<f64>,
    steps: u64,
    last: Option<Release>,
}

impl<P> std::fmt::Debug for DpLearner<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpLearner")
            .field("plan", &self.plan)
            .field("steps", &self.steps)
            .finish()
    }
}

impl<P: PerSampleGradients + Problem> DpLearner<P> {
    /// Node `node`'s learner over `problem` (its current batch = the node's m_i local samples,
    /// full-batch mode) under `rule` with noise `noise`, in a run with seed `seed`. Errors:
    /// an invalid rule or budget (named), an unreachable ε_i.
    pub fn new(
        problem: P,
        rule: &NodeRule,
        node: usize,
        noise: NoiseSpec,
        seed: u64,
    ) -> Result<Self> {
        let mut problem = problem;
        let m = problem.batch_len();
        let plan = NodePlan::new(rule, node, m, noise)?;
        let mut transform = build_transform(&Spec::parse(&rule.transform)?)?;
        let streams = RngStreams::new(RngStreams::new(seed).child_seed("transform", node as u64));
        transform.build(problem.layout(), &streams)?;
        let has_lr = transform.hyper("lr").is_some();
        let d = problem.layout().len();
        let stage_ends = plan
            .stages
            .iter()
            .scan(0u64, |end, s| {
                *end += s.steps;
                Some(*end)
            })
            .collect();
        Ok(DpLearner {
            grad: PrivateGradient::new(problem, plan.q, seed, node)?,
            plan,
            stage_ends,
            transform,
            has_lr,
            stage: None,
            v: vec![0.0; d],
            g: vec![0.0; d],
            steps: 0,
            last: None,
        })
    }

    /// The state to checkpoint ([`DpLearnerState`]).
    pub fn state(&self) -> DpLearnerState {
        DpLearnerState {
            v: self.v.clone(),
            steps: self.steps,
            last: self.last,
            transform: self.transform.state(),
            next_release: self.grad.next_iteration(),
            accountant: self.grad.accountant().clone(),
        }
    }

    /// Continues from `state` (a checkpoint of a learner built like this one). Errors, with
    /// the learner unchanged: a fused gradient of another length, or a transform state the
    /// transform refuses.
    pub fn restore(&mut self, state: DpLearnerState) -> Result<()> {
        if state.v.len() != self.v.len() {
            return Err(Error::shape(
                "checkpoint fused gradient",
                self.v.len(),
                state.v.len(),
            ));
        }
        self.transform.load_state(&state.transform)?;
        self.v = state.v;
        self.steps = state.steps;
        self.last = state.last;
        // the next step sets the learning rate of its stage
        self.stage = None;
        self.grad.restore(state.next_release, state.accountant);
        Ok(())
    }

    /// The resolved schedule.
    pub fn plan(&self) -> &NodePlan {
        &self.plan
    }

    /// The private gradient oracle (its accountant, sampler and problem).
    pub fn private_gradient(&self) -> &PrivateGradient<P> {
        &self.grad
    }

    /// The problem (e.g. to evaluate the node's model on test data).
    pub fn problem_mut(&mut self) -> &mut P {
        self.grad.problem_mut()
    }

    /// Its plan plus the ε actually spent.
    pub fn report(&self) -> NodeReport {
        let (mut classic, mut improved, mut chosen) = (None, None, None);
        if self.plan.is_private() {
            let acc = self.grad.accountant();
            let [c, i] = acc
                .epsilon_bracket(self.plan.delta)
                .expect("δ validated by the plan");
            classic = Some(c);
            improved = Some(i);
            chosen = Some(match self.plan.conversion {
                Conversion::Classic => c,
                Conversion::Improved => i,
            });
        }
        NodeReport {
            plan: self.plan.clone(),
            steps: self.steps,
            epsilon: chosen,
            epsilon_classic: classic,
            epsilon_improved: improved,
            last_release: self.last,
        }
    }

    fn stage_of(&self, k: u64) -> usize {
        self.stage_ends
            .iter()
            .position(|&end| k < end)
            .unwrap_or(self.stage_ends.len() - 1)
    }
}

impl<P: PerSampleGradients + Problem> LocalLearner for DpLearner<P> {
    fn local_update(&mut self, k: u64, z: &[f64], update: &mut [f64]) -> Option<f64> {
        let s = self.stage_of(k);
        let st = self.plan.stages[s];
        if self.stage != Some(s) {
            if self.has_lr {
                self.transform
                    .set_hyper("lr", st.lr)
                    .expect("lr validated by the plan");
            }
            self.stage = Some(s);
        }
        let spec = match st.clip {
            Some(c) => ReleaseSpec::private(c, st.noise_multiplier),
            None => ReleaseSpec::non_private(),
        };
        let release = self
            .grad
            .release_at(k, z, spec, &mut self.g)
            .expect("clip, multiplier and lengths validated by the plan");
        let beta = st.fusion;
        if beta == 0.0 {
            self.v.copy_from_slice(&self.g);
        } else {
            for (v, g) in self.v.iter_mut().zip(&self.g) {
                *v = beta * *v + (1.0 - beta) * g;
            }
        }
        update.copy_from_slice(&self.v);
        self.transform.update(k + 1, update, z);
        self.steps += 1;
        self.last = Some(release);
        Some(release.loss)
    }
}

/// The fusion EMA v ← βv + (1−β)g as a stand-alone step (P9 §2.2 step 5), e.g. to measure
/// its variance reduction V(1−β)/(1+β) on pure noise (P9 §3 item 5).
pub fn fuse(v: &mut [f64], g: &[f64], beta: f64) {
    for (v, g) in v.iter_mut().zip(g) {
        *v = beta * *v + (1.0 - beta) * g;
    }
}

/// One SGP node per problem, all starting from `x0`: node i gets `noise[i]` (e.g. its budget
/// ε_i). Errors: `noise` of the wrong length, a node's invalid plan (the error names the node).
pub fn dp_nodes<P: PerSampleGradients + Problem>(
    problems: Vec<P>,
    x0: &[f64],
    rule: &NodeRule,
    noise: &[NoiseSpec],
    seed: u64,
) -> Result<Vec<PushSumNode<DpLearner<P>>>> {
    if noise.len() != problems.len() {
        return Err(Error::shape(
            "noise specs per node",
            problems.len(),
            noise.len(),
        ));
    }
    problems
        .into_iter()
        .zip(noise)
        .enumerate()
        .map(|(i, (p, &nz))| {
            if p.layout().len() != x0.len() {
                return Err(Error::shape(
                    format!("node {i}'s problem vs the initial model"),
                    x0.len(),
                    p.layout().len(),
                ));
            }
            let learner = DpLearner::new(p, rule, i, nz, seed).map_err(|e| match e {
                Error::InvalidValue {
                    field,
                    value,
                    expected,
                } => Error::InvalidValue {
                    field: format!("node {i}: {field}"),
                    value,
                    expected,
                },
                other => other,
            })?;
            Ok(PushSumNode::new(i, x0.to_vec(), learner))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_rates_and_non_private_plans() {
        let rule = NodeRule::adp_vrsgp();
        assert_eq!(rule.total_steps(), 300);
        assert_eq!(
            [0, 74, 75, 299, 300, 10_000].map(|k| rule.stage_of(k)),
            [0, 0, 1, 3, 3, 3]
        );
        assert_eq!(rule.rate(160).unwrap(), 0.2);
        assert_eq!(rule.rate(64).unwrap(), 0.5);
        let plan = NodePlan::new(&NodeRule::sgp(), 2, 160, NoiseSpec::None).unwrap();
        assert!(!plan.is_private());
        assert!(plan.planned_epsilon.is_none());
        assert!(
            plan.stages
                .iter()
                .all(|s| s.std == 0.0 && s.fusion == 0.0 && s.lr == 0.5)
        );
        let adp = NodePlan::new(&rule, 0, 160, NoiseSpec::Multiplier { sigma0: 3.0 }).unwrap();
        let lrs: Vec<f64> = adp.stages.iter().map(|s| s.lr).collect();
        assert_eq!(lrs, [0.5, 0.5 * 0.9, 0.5 * 0.81, 0.5 * 0.9f64.powi(3)]);
        let betas: Vec<f64> = adp.stages.iter().map(|s| s.fusion).collect();
        assert_eq!(betas, [0.8, 0.6, 0.4, 0.2]);
    }

    #[test]
    fn rules_load_from_partial_configs() {
        // every field defaults to ADP-VRSGP's, so a config names only what it changes
        let r: NodeRule =
            serde_json::from_str(r#"{"noise_decay": 0.7, "sampling": {"rate": 0.1}}"#).unwrap();
        assert_eq!(r.noise_decay, 0.7);
        assert_eq!(r.sampling, Sampling::Rate(0.1));
        assert_eq!(r.fusion, NodeRule::adp_vrsgp().fusion);
        let n: NoiseSpec = serde_json::from_str(r#"{"budget": {"epsilon": 2.0}}"#).unwrap();
        assert_eq!(n, NoiseSpec::Budget { epsilon: 2.0 });
        let plan = NodePlan::new(&r, 1, 100, n).unwrap();
        let back: NodePlan = serde_json::from_str(&serde_json::to_string(&plan).unwrap()).unwrap();
        assert_eq!(back, plan);
    }
}

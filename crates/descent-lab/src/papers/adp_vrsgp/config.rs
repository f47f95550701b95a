//! The typed config of `adp-vrsgp`: P9 §5.1's small-scale design (digits, 8 nodes × 160
//! samples, softmax regression, C = 1, q = 0.2, δ = 1e-5, 4 stages × 75 rounds) with the quick
//! preset (what CI runs) and the full preset (more replicas, every ε in every scenario).

use descent_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::experiment::PaperConfig;

/// Configuration of the `adp-vrsgp` experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Number of nodes n.
    pub nodes: usize,
    /// Samples per node m_i in the IID split (a random permutation cut into n parts).
    pub per_node: usize,
    /// Fraction of the digits held out for testing (stratified).
    pub test_fraction: f64,
    /// Dirichlet concentration α of the non-IID split (variable m_i, q_i = b/m_i).
    pub dirichlet_alpha: f64,
    /// Smallest node of the non-IID split (redrawn until every node has this many; ≥ b).
    pub min_node_size: usize,
    /// Expected Poisson batch b (q_i = b/m_i).
    pub batch: f64,
    /// Rounds per stage T_s.
    pub stage_steps: u64,
    /// Number of stages S (K = S·T_s).
    pub stages: usize,
    /// η₀ of every method (constant for SGP and DP-SGP).
    pub lr: f64,
    /// γ = λ of ADP-VRSGP (noise and lr decay per stage).
    pub decay: f64,
    /// γ = λ of the strong-decay variant (reported).
    pub strong_decay: f64,
    /// β_s of the progressive fusion, one per stage.
    pub fusion: Vec<f64>,
    /// δ of every node.
    pub delta: f64,
    /// Uniform budgets ε of the main comparison (IID, one-peer exponential graph).
    pub epsilons: Vec<f64>,
    /// Replicas (training seeds) of the main comparison; check 4 is on their mean.
    pub replicas: usize,
    /// Personalised budgets ε_i, one per node.
    pub personalised: Vec<f64>,
    /// ε of the ablations (no fusion, strong decay) on the main setting.
    pub ablation_epsilons: Vec<f64>,
    /// ε of the other scenarios (non-IID and/or the random time-varying digraph).
    pub scenario_epsilons: Vec<f64>,
    /// Replicas of the other scenarios.
    pub scenario_replicas: usize,
    /// Rounds between two evaluations of the de-biased models on the test set.
    pub eval_every: u64,
    /// Rounds of the pure push-sum (gossip) consensus checks.
    pub gossip_rounds: u64,
    /// Draws of pure noise for the fusion-variance check (§3 item 5).
    pub fusion_draws: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            nodes: 8,
            per_node: 160,
            test_fraction: 0.25,
            dirichlet_alpha: 0.5,
            min_node_size: 40,
            batch: 32.0,
            stage_steps: 75,
            stages: 4,
            lr: 0.5,
            decay: 0.9,
            strong_decay: 0.7,
            fusion: vec![0.8, 0.6, 0.4, 0.2],
            delta: 1e-5,
            epsilons: vec![1.0, 2.0, 4.0, 8.0],
            replicas: 2,
            personalised: vec![1.0, 1.0, 2.0, 2.0, 4.0, 4.0, 8.0, 8.0],
            ablation_epsilons: vec![2.0, 8.0],
            scenario_epsilons: vec![2.0, 8.0],
            scenario_replicas: 1,
            eval_every: 25,
            gossip_rounds: 100,
            fusion_draws: 20_000,
        }
    }
}

fn positive_list(field: &str, v: &[f64]) -> Result<()> {
    if v.is_empty() {
        return Err(Error::invalid(field, "[]", "at least one ε > 0"));
    }
    match v.iter().find(|x| !(x.is_finite() && **x > 0.0)) {
        Some(bad) => Err(Error::invalid(field, bad, "a finite ε > 0")),
        None => Ok(()),
    }
}

impl PaperConfig for Config {
    fn quick() -> Self {
        Config::default()
    }

    fn full() -> Self {
        Config {
            replicas: 5,
            ablation_epsilons: vec![1.0, 2.0, 4.0, 8.0],
            scenario_epsilons: vec![1.0, 2.0, 4.0, 8.0],
            scenario_replicas: 3,
            eval_every: 10,
            fusion_draws: 200_000,
            ..Config::default()
        }
    }

    fn validate(&self) -> Result<()> {
        for (field, v) in [
            ("nodes", self.nodes),
            ("replicas", self.replicas),
            ("scenario_replicas", self.scenario_replicas),
            ("stages", self.stages),
            ("fusion_draws", self.fusion_draws),
        ] {
            if v == 0 {
                return Err(Error::invalid(field, 0, "an integer >= 1"));
            }
        }
        for (field, v) in [
            ("stage_steps", self.stage_steps),
            ("eval_every", self.eval_every),
            ("gossip_rounds", self.gossip_rounds),
        ] {
            if v == 0 {
                return Err(Error::invalid(field, 0, "an integer >= 1"));
            }
        }
        if self.nodes < 2 {
            return Err(Error::invalid("nodes", self.nodes, "at least 2 nodes"));
        }
        if !(self.batch > 0.0 && self.batch <= self.per_node as f64) {
            return Err(Error::invalid(
                "batch",
                self.batch,
                format!("an expected batch in (0, per_node = {}]", self.per_node),
            ));
        }
        if (self.min_node_size as f64) < self.batch {
            return Err(Error::invalid(
                "min_node_size",
                self.min_node_size,
                format!("at least the expected batch b = {}", self.batch),
            ));
        }
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(Error::invalid(
                "test_fraction",
                self.test_fraction,
                "a fraction in (0, 1)",
            ));
        }
        for (field, v) in [("lr", self.lr), ("dirichlet_alpha", self.dirichlet_alpha)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(field, v, "a finite number > 0"));
            }
        }
        for (field, v) in [("decay", self.decay), ("strong_decay", self.strong_decay)] {
            if !(v > 0.0 && v <= 1.0) {
                return Err(Error::invalid(field, v, "a decay factor in (0, 1]"));
            }
        }
        if self.fusion.len() != self.stages {
            return Err(Error::invalid(
                "fusion",
                format!("{:?}", self.fusion),
                format!("one weight β_s per stage ({} stages)", self.stages),
            ));
        }
        if let Some(b) = self.fusion.iter().find(|b| !(**b >= 0.0 && **b < 1.0)) {
            return Err(Error::invalid("fusion", b, "fusion weights β in [0, 1)"));
        }
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return Err(Error::invalid("delta", self.delta, "a δ in (0, 1)"));
        }
        positive_list("epsilons", &self.epsilons)?;
        positive_list("ablation_epsilons", &self.ablation_epsilons)?;
        positive_list("scenario_epsilons", &self.scenario_epsilons)?;
        positive_list("personalised", &self.personalised)?;
        if self.personalised.len() != self.nodes {
            return Err(Error::invalid(
                "personalised",
                format!("{:?}", self.personalised),
                format!("one budget ε_i per node ({} nodes)", self.nodes),
            ));
        }
        Ok(())
    }
}

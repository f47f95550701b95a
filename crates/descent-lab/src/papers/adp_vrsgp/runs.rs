//! The DP training runs behind checks 3–6: the digits federation (IID or Dirichlet non-IID), a
//! method (SGP, DP-SGP, ADP-VRSGP and its ablations) with uniform or personalised budgets, a
//! topology (one-peer exponential graph or P9 §2.5's random time-varying digraph), and one
//! replica seed. Every part comes from `descent-dist`: `NodeRule`, `dp_nodes`, `Sgp`,
//! `Topology`, `InProcess`.

use std::sync::Arc;

use descent_core::{Error, Result, RngStreams};
use descent_data::{Dataset, Partition};
use descent_dist::{
    DpLearner, InProcess, NodeRule, NoiseSpec, PushSumNode, Sampling, Sgp, Topology,
    consensus_distance, dp_nodes,
};
use descent_nn::{Activation, Loss, Mlp, Objective, Workspace};
use rand::RngExt;

use super::config::Config;
use crate::harness::stats;

/// A method of the comparison (P9 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Non-private SGP: no clipping or noise, constant η.
    Sgp,
    /// DP-SGP: constant σ calibrated to ε_i, constant η, no fusion.
    DpSgp,
    /// ADP-VRSGP: γ = λ = `decay`, fusion β_s.
    Adp,
    /// ADP-VRSGP without fusion (reported ablation).
    AdpNoFusion,
    /// ADP-VRSGP with γ = λ = `strong_decay` (reported ablation).
    AdpStrong,
}

impl Method {
    /// The legend and table name.
    pub fn label(self, c: &Config) -> String {
        match self {
            Method::Sgp => "SGP (non-private)".into(),
            Method::DpSgp => "DP-SGP (constant σ)".into(),
            Method::Adp => format!("ADP-VRSGP γ=λ={}", c.decay),
            Method::AdpNoFusion => format!("ADP-VRSGP γ=λ={}, no fusion", c.decay),
            Method::AdpStrong => format!("ADP-VRSGP γ=λ={}", c.strong_decay),
        }
    }

    /// True when the method clips and adds noise.
    pub fn private(self) -> bool {
        self != Method::Sgp
    }

    /// The node rule with the config's schedule.
    pub fn rule(self, c: &Config) -> NodeRule {
        let base = NodeRule {
            stage_steps: vec![c.stage_steps; c.stages],
            sampling: Sampling::ExpectedBatch(c.batch),
            delta: c.delta,
            transform: format!("sgd(lr={})", c.lr),
            ..NodeRule::dp_sgp()
        };
        let adp = |decay: f64, fusion: Vec<f64>| NodeRule {
            noise_decay: decay,
            lr_decay: decay,
            fusion,
            ..base.clone()
        };
        match self {
            Method::Sgp | Method::DpSgp => base,
            Method::Adp => adp(c.decay, c.fusion.clone()),
            Method::AdpNoFusion => adp(c.decay, Vec::new()),
            Method::AdpStrong => adp(c.strong_decay, c.fusion.clone()),
        }
    }
}

/// How the training data is split over the nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Each node draws a uniform random share of the training data.
    Iid,
    /// Each node holds a label-skewed share (P9 §5.1).
    NonIid,
}

/// The communication graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Graph {
    /// SGP's one-peer exponential graph (±2^j list).
    Exp,
    /// P9 §2.5's random time-varying digraph (B = 3, not regular).
    RandomTv,
}

impl Graph {
    fn spec(self) -> &'static str {
        match self {
            Graph::Exp => "exp",
            Graph::RandomTv => "random-tv",
        }
    }
}

/// Every node's budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budgets {
    /// The same ε on every node.
    Uniform(f64),
    /// The config's ε_i per node.
    Personalised,
}

/// One training run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Job {
    /// Which algorithm runs.
    pub method: Method,
    /// How the data is split over the nodes.
    pub split: Split,
    /// The communication graph.
    pub graph: Graph,
    /// Every node's privacy budget.
    pub budgets: Budgets,
    /// The replica index r (its training seed is [`replica_seed`]).
    pub replica: usize,
}

impl Job {
    /// The uniform ε (None when personalised or non-private).
    pub fn epsilon(&self) -> Option<f64> {
        match (self.method.private(), self.budgets) {
            (true, Budgets::Uniform(e)) => Some(e),
            _ => None,
        }
    }

    /// A short name for tables and claim cases.
    pub fn name(&self, c: &Config) -> String {
        let split = match self.split {
            Split::Iid => "IID",
            Split::NonIid => "non-IID",
        };
        let budget = match (self.method.private(), self.budgets) {
            (false, _) => String::new(),
            (true, Budgets::Uniform(e)) => format!(" ε={e}"),
            (true, Budgets::Personalised) => " ε_i personalised".into(),
        };
        format!(
            "{}{budget} {split} {} r{}",
            self.method.label(c),
            self.graph.spec(),
            self.replica
        )
    }
}

/// What one node ended with.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeEnd {
    /// Local samples m_i.
    pub m: usize,
    /// The budget ε_i when calibrated (`None`: non-private or a fixed σ).
    pub target: Option<f64>,
    /// σ_{i,0}.
    pub sigma0: f64,
    /// Noise multipliers per stage.
    pub multipliers: Vec<f64>,
    /// Spent ε (improved conversion), classic conversion.
    pub spent: Option<f64>,
    /// Spent ε, classic conversion.
    pub spent_classic: Option<f64>,
    /// Test accuracy of the node's de-biased model.
    pub accuracy: f64,
}

/// What one run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// The run's job.
    pub job: Job,
    /// Rounds at which the models were evaluated.
    pub rounds: Vec<f64>,
    /// Mean test accuracy of the n de-biased models at those rounds.
    pub accuracy: Vec<f64>,
    /// max_i ‖z_i − z̄‖/‖z̄‖ after every round 1..=K.
    pub consensus: Vec<f64>,
    /// Spent ε (improved) of every node at those rounds (`spent_curve[node][point]`).
    pub spent_curve: Vec<Vec<f64>>,
    /// Every node's end state, by node id.
    pub nodes: Vec<NodeEnd>,
    /// The final de-biased models (for the determinism check).
    pub models: Vec<Vec<f64>>,
}

impl RunResult {
    /// Final mean test accuracy of the n de-biased models.
    pub fn final_accuracy(&self) -> f64 {
        self.accuracy.last().copied().unwrap_or(f64::NAN)
    }

    /// Final consensus distance.
    pub fn final_consensus(&self) -> f64 {
        self.consensus.last().copied().unwrap_or(f64::NAN)
    }

    /// The lowest node accuracy at the end.
    pub fn worst_node(&self) -> f64 {
        stats::min(&self.nodes.iter().map(|n| n.accuracy).collect::<Vec<_>>())
    }
}

/// The data and model shared by every run.
pub struct Setup {
    /// The held-out test data.
    pub test: Dataset,
    /// The nodes' training shares under the IID split.
    pub iid: Vec<Arc<Dataset>>,
    /// The nodes' training shares under the non-IID split.
    pub non_iid: Vec<Arc<Dataset>>,
    /// The model every node trains (its initial parameters come from the replica seed).
    pub model: Mlp,
}

/// Digits (pixels / 16), a stratified test split from the stream (seed, "split"), the IID
/// split (a Fisher–Yates permutation from (seed + 3, "partition"), its first n·m_i samples cut
/// into n nodes of m_i) and the Dirichlet split
/// of the same n·m_i samples from (seed + 3, "dirichlet"). At seed 0 these are the spec's seeds
/// (split 0, partition 3).
pub fn setup(c: &Config, seed: u64) -> Result<Setup> {
    let mut d = descent_data::digits()?;
    d.features.iter_mut().for_each(|v| *v /= 16.0);
    let (train, test) = descent_data::split(
        &d,
        c.test_fraction,
        &mut RngStreams::new(seed).stream("split"),
    )?;
    let need = c.nodes * c.per_node;
    if need > train.len() {
        return Err(Error::invalid(
            "per_node",
            c.per_node,
            format!(
                "at most {} ({} training samples over {} nodes)",
                train.len() / c.nodes,
                train.len(),
                c.nodes
            ),
        ));
    }
    let streams = RngStreams::new(seed.wrapping_add(3));
    let mut order: Vec<usize> = (0..train.len()).collect();
    let mut rng = streams.stream("partition");
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    order.truncate(need);
    let pool = train.subset(&order);
    let iid = (0..c.nodes)
        .map(|i| Arc::new(pool.subset(&(i * c.per_node..(i + 1) * c.per_node).collect::<Vec<_>>())))
        .collect();
    let part = Partition::dirichlet(
        &pool,
        c.nodes,
        c.dirichlet_alpha,
        c.min_node_size,
        &mut streams.stream("dirichlet"),
    )?;
    let non_iid = (0..c.nodes)
        .map(|k| Arc::new(part.client_data(&pool, k)))
        .collect();
    Ok(Setup {
        test,
        iid,
        non_iid,
        model: Mlp::new(vec![64, 10], Activation::Identity, true)?,
    })
}

/// The training seed of replica r: the stream (seed, "replica", r).
pub fn replica_seed(seed: u64, replica: usize) -> u64 {
    RngStreams::new(seed).child_seed("replica", replica as u64)
}

/// One node of the DP runs.
pub type Node = PushSumNode<DpLearner<Objective>>;
type Net = InProcess<Node>;

/// The nodes (all starting from x⁰ = 0) and the topology of `job` with run seed `seed`.
pub fn network(s: &Setup, c: &Config, job: Job, seed: u64) -> Result<(Vec<Node>, Topology)> {
    let train_seed = replica_seed(seed, job.replica);
    let data = match job.split {
        Split::Iid => &s.iid,
        Split::NonIid => &s.non_iid,
    };
    let problems = data
        .iter()
        .map(|d| {
            Objective::new(
                s.model.clone(),
                d.clone(),
                Loss::SoftmaxCe,
                d.len(),
                &RngStreams::new(train_seed),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let noise: Vec<NoiseSpec> = (0..c.nodes)
        .map(|i| match (job.method.private(), job.budgets) {
            (false, _) => NoiseSpec::None,
            (true, Budgets::Uniform(epsilon)) => NoiseSpec::Budget { epsilon },
            (true, Budgets::Personalised) => NoiseSpec::Budget {
                epsilon: c.personalised[i],
            },
        })
        .collect();
    let x0 = vec![0.0; s.model.n_params()];
    let nodes = dp_nodes(problems, &x0, &job.method.rule(c), &noise, train_seed)?;
    let topology_seed = RngStreams::new(train_seed).child_seed("topology", 0);
    let topology = Topology::parse(job.graph.spec(), c.nodes, topology_seed)?;
    Ok((nodes, topology))
}

/// Mean and per-node test accuracy of the de-biased models.
fn evaluate(s: &Setup, net: &Net, ws: &mut Workspace) -> Vec<f64> {
    net.nodes()
        .iter()
        .map(|n| {
            s.model
                .evaluate(&n.debiased(), &s.test, Loss::SoftmaxCe, ws)
                .accuracy
                .unwrap_or(f64::NAN)
        })
        .collect()
}

/// Runs `job` (K = S·T_s rounds from x⁰ = 0): the consensus distance after every round, test
/// accuracy and spent ε every `eval_every` rounds and at the end. `parallel = false` runs the nodes serially (the determinism check compares both).
pub fn run(s: &Setup, c: &Config, job: Job, seed: u64, parallel: bool) -> Result<RunResult> {
    let (nodes, topology) = network(s, c, job, seed)?;
    let mut net = InProcess::new(nodes);
    if !parallel {
        net = net.serial();
    }
    let mut sgp = Sgp::new(topology);
    let mut ws = Workspace::new(&s.model, s.test.len());
    let k_total = c.stage_steps * c.stages as u64;
    let mut out = RunResult {
        job,
        rounds: Vec::new(),
        accuracy: Vec::new(),
        consensus: Vec::new(),
        spent_curve: vec![Vec::new(); c.nodes],
        nodes: Vec::new(),
        models: Vec::new(),
    };
    let mut last_acc = Vec::new();
    for k in 1..=k_total {
        sgp.step(&mut net)?;
        out.consensus.push(consensus_distance(net.nodes()));
        if k % c.eval_every == 0 || k == k_total {
            last_acc = evaluate(s, &net, &mut ws);
            out.rounds.push(k as f64);
            out.accuracy.push(stats::mean(&last_acc));
            for (curve, n) in out.spent_curve.iter_mut().zip(net.nodes()) {
                let r = n.learner().report();
                curve.push(r.epsilon.map_or(0.0, |e| e.epsilon));
            }
        }
    }
    out.models = net.nodes().iter().map(PushSumNode::debiased).collect();
    out.nodes = net
        .nodes()
        .iter()
        .zip(&last_acc)
        .map(|(n, &accuracy)| {
            let r = n.learner().report();
            NodeEnd {
                m: r.plan.m,
                target: r.plan.target_epsilon,
                sigma0: r.plan.sigma0,
                multipliers: r.plan.stages.iter().map(|s| s.noise_multiplier).collect(),
                spent: r.epsilon.map(|e| e.epsilon),
                spent_classic: r.epsilon_classic.map(|e| e.epsilon),
                accuracy,
            }
        })
        .collect();
    Ok(out)
}

//! Push-sum and Stochastic Gradient Push over a [`Transport`] (SGP, Assran et al. 2019;
//! P9 §2.2 steps 1, 6–8).
//!
//! Every node holds a numerator x_i and a push-sum weight w_i (w_i⁰ = 1). In round k:
//! 1. de-bias: z_i = x_i / w_i;
//! 2. local step ON THE NUMERATOR with the update computed at z_i (P9 pitfall 1):
//!    x_i ← x_i + u_i(z_i) (for SGD, u = −η ∇f(z_i));
//! 3. push: with out-neighbours N_i^out(k) of the round's graph and p = 1/(|N_i^out| + 1), send
//!    (p·x_i, p·w_i) to each out-neighbour and keep (p·x_i, p·w_i); w is split with the same
//!    coefficients as x, and the local step never touches w (pitfall 3);
//! 4. aggregate: x_i and w_i add up every share received.
//!
//! The mixing is column-stochastic, so Σ_i x_i and Σ_i w_i are conserved by every mixing step
//! (pitfall 2), and z_i → Σ_j x_j / Σ_j w_j on B-strongly-connected sequences of digraphs even
//! when w_i ≠ 1. Messages travel through [`Transport::exchange_acked`]: a share that was not
//! delivered (a link failing for one round, a node that dropped out) comes back to its sender,
//! which keeps it, so no mass is lost.
//!
//! The local step is a [`LocalLearner`]: [`Gossip`] (none: pure push-sum averaging),
//! [`TransformLearner`] (any `descent_optim` transform built from a spec, on any gradient
//! problem) or the private learners of [`crate::adp`].

use descent_core::{Caps, Error, Problem, Requires, Result, RngStreams, Spec};
use descent_optim::{Transform, build_transform};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

use crate::topology::{Digraph, Topology};
use crate::transport::{
    Message, Traffic, Transport, Wire, WireReader, f64s_bytes, put_f64, put_f64s,
};

/// A push-sum share: the weight p·w and the numerator p·x.
#[derive(Debug, Clone, PartialEq)]
pub struct PushMsg {
    /// p·w: the sender's share of its push-sum weight.
    pub w: f64,
    /// p·x: the sender's share of its numerator (flat parameters).
    pub x: Vec<f64>,
}

/// Encoding: w (f64), x (u64 count + f64 values): (d + 2)·8 bytes.
impl Wire for PushMsg {
    fn wire_bytes(&self) -> u64 {
        8 + f64s_bytes(self.x.len())
    }
    fn encode(&self, out: &mut Vec<u8>) {
        put_f64(out, self.w);
        put_f64s(out, &self.x);
    }
    fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = WireReader::new("PushMsg", bytes);
        let w = r.f64("w")?;
        let x = r.f64s("x")?;
        r.finish()?;
        Ok(PushMsg { w, x })
    }
}

/// A node's local computation in SGP: the update added to its numerator in round `k`, computed
/// at its de-biased model `z`.
pub trait LocalLearner: Send {
    /// Writes the update u (x ← x + u) computed at `z` for round `k` into `update` (length of
    /// the model) and returns the loss it saw, if any.
    fn local_update(&mut self, k: u64, z: &[f64], update: &mut [f64]) -> Option<f64>;
}

/// No local step: pure push-sum averaging (gossip).
#[derive(Debug, Clone, Copy, Default)]
pub struct Gossip;

impl LocalLearner for Gossip {
    fn local_update(&mut self, _k: u64, _z: &[f64], update: &mut [f64]) -> Option<f64> {
        update.iter_mut().for_each(|u| *u = 0.0);
        None
    }
}

/// A non-private SGP learner: any gradient problem and any transform from a spec
/// (`sgd(lr=0.1)`, `adam(lr=1e-3)`, `chain(of=[...])`). Each round resamples the problem once,
/// takes the gradient at z and turns it into the update with the transform (whose `params` is
/// z, e.g. for weight decay).
pub struct TransformLearner<P> {
    problem: P,
    transform: Box<dyn Transform>,
    spec: String,
    grad: Vec<f64>,
}

impl<P> std::fmt::Debug for TransformLearner<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransformLearner")
            .field("transform", &self.spec)
            .finish()
    }
}

impl<P: Problem> TransformLearner<P> {
    /// The learner of `problem` with the transform `spec`, built on the problem's layout from
    /// `streams` (transforms that draw noise use them). Errors: a bad spec, a problem without
    /// a gradient.
    pub fn new(mut problem: P, spec: &str, streams: &RngStreams) -> Result<Self> {
        Requires::all(Caps::GRADIENT).check(spec, &problem)?;
        let mut transform = build_transform(&Spec::parse(spec)?)?;
        transform.build(problem.layout(), streams)?;
        let d = problem.layout().len();
        if problem.as_gradient().is_none() {
            return Err(Error::invalid(
                "problem",
                problem.name(),
                "a gradient problem",
            ));
        }
        Ok(TransformLearner {
            problem,
            transform,
            spec: spec.to_string(),
            grad: vec![0.0; d],
        })
    }

    /// The problem.
    pub fn problem(&self) -> &P {
        &self.problem
    }

    /// The problem, mutably.
    pub fn problem_mut(&mut self) -> &mut P {
        &mut self.problem
    }

    /// The transform (e.g. to `set_hyper` a schedule between rounds).
    pub fn transform_mut(&mut self) -> &mut dyn Transform {
        self.transform.as_mut()
    }
}

impl<P: Problem> LocalLearner for TransformLearner<P> {
    fn local_update(&mut self, k: u64, z: &[f64], update: &mut [f64]) -> Option<f64> {
        descent_core::resample_if_stochastic(&mut self.problem);
        let g = self
            .problem
            .as_gradient()
            .expect("checked in TransformLearner::new");
        let loss = g.value_grad(z, &mut self.grad);
        update.copy_from_slice(&self.grad);
        self.transform.update(k + 1, update, z);
        Some(loss)
    }
}

/// One SGP node: numerator x, push-sum weight w and its local learner.
#[derive(Debug, Clone)]
pub struct PushSumNode<L> {
    id: usize,
    x: Vec<f64>,
    w: f64,
    z: Vec<f64>,
    update: Vec<f64>,
    learner: L,
    last_loss: Option<f64>,
    last_finite_loss: Option<f64>,
}

/// What of a [`PushSumNode`] changes over rounds, as a checkpoint keeps it: the numerator,
/// the weight, the last losses and the learner's state `S` (z and the update are recomputed
/// every round).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeState<S> {
    /// The push-sum numerator x.
    pub x: Vec<f64>,
    /// The push-sum weight w (the de-biased iterate is z = x / w).
    pub w: f64,
    /// The last local loss, if a step was taken.
    pub last_loss: Option<f64>,
    /// The last finite local loss, if any.
    pub last_finite_loss: Option<f64>,
    /// The local learner's state.
    pub learner: S,
}

impl<L> PushSumNode<L> {
    /// The state to checkpoint, with the learner's from `learner`.
    pub fn state<S>(&self, learner: impl FnOnce(&L) -> S) -> NodeState<S> {
        NodeState {
            x: self.x.clone(),
            w: self.w,
            last_loss: self.last_loss,
            last_finite_loss: self.last_finite_loss,
            learner: learner(&self.learner),
        }
    }

    /// Continues from `state`, restoring the learner with `learner`. Errors, with the node
    /// unchanged: a numerator of another length, or the learner's error.
    pub fn restore<S>(
        &mut self,
        state: NodeState<S>,
        learner: impl FnOnce(&mut L, S) -> Result<()>,
    ) -> Result<()> {
        if state.x.len() != self.x.len() {
            return Err(Error::shape(
                format!("checkpoint numerator of node {}", self.id),
                self.x.len(),
                state.x.len(),
            ));
        }
        learner(&mut self.learner, state.learner)?;
        self.x = state.x;
        self.w = state.w;
        self.last_loss = state.last_loss;
        self.last_finite_loss = state.last_finite_loss;
        Ok(())
    }

    /// Node `id` starting from the model `x0` with w = 1.
    pub fn new(id: usize, x0: Vec<f64>, learner: L) -> Self {
        let d = x0.len();
        PushSumNode {
            id,
            z: x0.clone(),
            x: x0,
            w: 1.0,
            update: vec![0.0; d],
            learner,
            last_loss: None,
            last_finite_loss: None,
        }
    }

    /// The node id.
    pub fn id(&self) -> usize {
        self.id
    }

    /// The numerator x (NOT the model: see [`PushSumNode::debiased`]).
    pub fn numerator(&self) -> &[f64] {
        &self.x
    }

    /// The push-sum weight w.
    pub fn weight(&self) -> f64 {
        self.w
    }

    /// The de-biased model z = x / w: the node's estimate of the network model.
    pub fn debiased(&self) -> Vec<f64> {
        self.x.iter().map(|v| v / self.w).collect()
    }

    /// The learner.
    pub fn learner(&self) -> &L {
        &self.learner
    }

    /// The learner, mutably.
    pub fn learner_mut(&mut self) -> &mut L {
        &mut self.learner
    }

    /// The loss of the last local step, if the learner reports one.
    pub fn last_loss(&self) -> Option<f64> {
        self.last_loss
    }
}

impl<L: LocalLearner> PushSumNode<L> {
    /// Steps 1–3 of the round: de-bias, local step on the numerator, split; returns the shares
    /// for the out-neighbours and keeps its own.
    fn push(&mut self, k: u64, out: &[usize], share: f64) -> Vec<(usize, PushMsg)> {
        let inv_w = 1.0 / self.w;
        for (z, x) in self.z.iter_mut().zip(&self.x) {
            *z = x * inv_w;
        }
        let loss = self.learner.local_update(k, &self.z, &mut self.update);
        self.last_loss = loss;
        if let Some(l) = loss.filter(|l| l.is_finite()) {
            self.last_finite_loss = Some(l);
        }
        for (x, u) in self.x.iter_mut().zip(&self.update) {
            *x += u;
        }
        let msg = PushMsg {
            w: share * self.w,
            x: self.x.iter().map(|v| share * v).collect(),
        };
        self.x.iter_mut().for_each(|v| *v *= share);
        self.w *= share;
        out.iter().map(|&j| (j, msg.clone())).collect()
    }

    /// Step 4: add the shares received and the own shares that came back undelivered.
    fn absorb(&mut self, inbox: &[Message<PushMsg>], returned: &[(usize, PushMsg)]) {
        for m in inbox
            .iter()
            .map(|m| &m.payload)
            .chain(returned.iter().map(|r| &r.1))
        {
            self.w += m.w;
            for (x, v) in self.x.iter_mut().zip(&m.x) {
                *x += v;
            }
        }
    }

    fn healthy(&self) -> bool {
        self.w.is_finite()
            && self.w > 0.0
            && self.last_loss.is_none_or(f64::is_finite)
            && self.x.iter().all(|v| v.is_finite())
    }
}

/// (node, loss of its local step, healthy, last finite loss) after a round.
type NodeStatus = (usize, Option<f64>, bool, Option<f64>);

/// What one SGP round did.
#[derive(Debug, Clone, PartialEq)]
pub struct SgpRound {
    /// The round number (from 0).
    pub round: u64,
    /// Messages and bytes the round moved.
    pub traffic: Traffic,
    /// (node, loss of its local step) for the nodes this process runs that report a loss,
    /// ascending by node.
    pub losses: Vec<(usize, f64)>,
}

/// The SGP driver: a topology and the round counter. Every round derives its graph from the
/// topology, so all ranks of a distributed run agree on in- and out-neighbours.
#[derive(Debug, Clone)]
pub struct Sgp {
    topology: Topology,
    round: u64,
}

impl Sgp {
    /// SGP over `topology`, starting at round 0.
    pub fn new(topology: Topology) -> Self {
        Sgp { topology, round: 0 }
    }

    /// Continues at round `round` (from a checkpoint taken after `round` rounds): the graphs
    /// are functions of (seed, round), so nothing else is needed.
    pub fn at_round(mut self, round: u64) -> Self {
        self.round = round;
        self
    }

    /// The topology.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The next round's index.
    pub fn round(&self) -> u64 {
        self.round
    }

    /// The graph of the next round.
    pub fn next_graph(&self) -> Result<Digraph> {
        self.topology.graph(self.round)
    }

    /// One synchronous SGP round over `transport`. Errors: a node count that differs from the
    /// topology's, a transport error, and divergence (a non-finite loss, numerator or weight
    /// on any node: [`Error::Diverged`] naming the node, the round and its last finite loss).
    pub fn step<L, T>(&mut self, transport: &mut T) -> Result<SgpRound>
    where
        L: LocalLearner,
        T: Transport<PushSumNode<L>>,
    {
        let n = self.topology.n();
        if transport.n_nodes() != n {
            return Err(Error::shape(
                "SGP nodes (transport vs topology)",
                n,
                transport.n_nodes(),
            ));
        }
        let k = self.round;
        let graph = self.topology.graph(k)?;
        let status: Mutex<Vec<NodeStatus>> = Mutex::new(Vec::new());
        let traffic = transport.exchange_acked(
            k,
            |i, node: &mut PushSumNode<L>| node.push(k, graph.out_neighbours(i), graph.share(i)),
            |i, node, inbox, returned| {
                node.absorb(inbox, returned);
                let s = (i, node.last_loss, node.healthy(), node.last_finite_loss);
                status.lock().expect("status lock").push(s);
            },
        )?;
        self.round += 1;
        let mut status = status.into_inner().expect("status lock");
        status.sort_by_key(|s| s.0);
        if let Some(&(i, _, _, last)) = status.iter().find(|s| !s.2) {
            return Err(Error::Diverged {
                method: format!("SGP node {i}"),
                step: k,
                last_finite_loss: last,
            });
        }
        Ok(SgpRound {
            round: k,
            traffic,
            losses: status
                .iter()
                .filter_map(|&(i, l, _, _)| l.map(|l| (i, l)))
                .collect(),
        })
    }
}

/// Σ_i x_i and Σ_i w_i: the conserved push-sum mass.
pub fn network_mass<L>(nodes: &[PushSumNode<L>]) -> (Vec<f64>, f64) {
    let d = nodes.first().map_or(0, |n| n.x.len());
    let mut sx = vec![0.0; d];
    let mut sw = 0.0;
    for n in nodes {
        sw += n.w;
        for (s, v) in sx.iter_mut().zip(&n.x) {
            *s += v;
        }
    }
    (sx, sw)
}

/// The network model Σ_i x_i / Σ_i w_i (the average every z_i converges to).
pub fn network_average<L>(nodes: &[PushSumNode<L>]) -> Vec<f64> {
    let (sx, sw) = network_mass(nodes);
    sx.into_iter().map(|v| v / sw).collect()
}

/// max_i ‖z_i − z̄‖ / ‖z̄‖ with z̄ the mean of the de-biased models (P9 §5.3 check 5).
pub fn consensus_distance<L>(nodes: &[PushSumNode<L>]) -> f64 {
    let zs: Vec<Vec<f64>> = nodes.iter().map(PushSumNode::debiased).collect();
    let d = zs.first().map_or(0, Vec::len);
    let mut mean = vec![0.0; d];
    for z in &zs {
        for (m, v) in mean.iter_mut().zip(z) {
            *m += v / zs.len() as f64;
        }
    }
    let norm = mean.iter().map(|v| v * v).sum::<f64>().sqrt();
    let worst = zs
        .iter()
        .map(|z| {
            z.iter()
                .zip(&mean)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt()
        })
        .fold(0.0, |a: f64, b| {
            if b.is_nan() || a.is_nan() {
                f64::NAN
            } else {
                a.max(b)
            }
        });
    worst / norm
}

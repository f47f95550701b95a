//! FedAvg as in the PUF authors' code (P3 §2.1): in round t the server broadcasts w_t and the
//! local learning rate lr_t = lr·decay^(t−1) to the sampled clients S_t; each trains E local
//! epochs and returns Δ_k = w_k − w_t; the server applies
//!
//! ```text
//! w_{t+1} = w_t + η_s Σ_{k∈S_t} (n_k / N_t) Δ_k,   N_t = Σ_{k∈S_t} n_k        (P3 §2.1)
//! ```
//!
//! i.e. one SGD step of server learning rate η_s on the pseudo-gradient −Δ_t. Clients that drop
//! out of a round are left out of S_t (the weights renormalise over those that reported).

use descent_core::{Error, Result, RngStreams};
use descent_nn::Model;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::client::{Client, ClientUpdate, RoundMsg};
use crate::transport::{Message, Traffic, Transport};

/// How the server weights the clients' updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weighting {
    /// n_k / N (FedAvg, the authors' code).
    Size,
    /// 1 / |S_t|.
    Uniform,
}

/// FedAvg's hyperparameters (defaults: P3 §5.1's small-scale design).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FedAvgConfig {
    /// Server learning rate η_s (1 = plain FedAvg).
    pub server_lr: f64,
    /// Fraction C of the active clients sampled each round (1 = full participation).
    pub fraction: f64,
    /// Local epochs E per round.
    pub local_epochs: usize,
    /// Local learning rate in round 1.
    pub lr: f64,
    /// Per-round decay of the local learning rate: lr_t = lr·decay^(t−1).
    pub lr_decay: f64,
    /// How the server weights the clients' updates.
    pub weighting: Weighting,
    /// Fewest clients that must report for a round to count (dropped clients are tolerated).
    pub min_clients: usize,
}

impl Default for FedAvgConfig {
    fn default() -> Self {
        FedAvgConfig {
            server_lr: 1.0,
            fraction: 1.0,
            local_epochs: 1,
            lr: 0.1,
            lr_decay: 0.998,
            weighting: Weighting::Size,
            min_clients: 1,
        }
    }
}

impl FedAvgConfig {
    /// Checks ranges; errors name `fedavg.<field>`.
    pub fn validate(&self) -> Result<()> {
        if !(self.server_lr > 0.0 && self.server_lr.is_finite()) {
            return Err(Error::invalid(
                "fedavg.server_lr",
                self.server_lr,
                "a finite number > 0",
            ));
        }
        if !(self.fraction > 0.0 && self.fraction <= 1.0) {
            return Err(Error::invalid(
                "fedavg.fraction",
                self.fraction,
                "a number in (0, 1]",
            ));
        }
        if self.local_epochs == 0 {
            return Err(Error::invalid("fedavg.local_epochs", 0, "an integer >= 1"));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::invalid("fedavg.lr", self.lr, "a finite number > 0"));
        }
        if !(self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            return Err(Error::invalid(
                "fedavg.lr_decay",
                self.lr_decay,
                "a number in (0, 1]",
            ));
        }
        if self.min_clients == 0 {
            return Err(Error::invalid("fedavg.min_clients", 0, "an integer >= 1"));
        }
        Ok(())
    }
}

/// What one round did.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundReport {
    /// The 1-based round number.
    pub round: u64,
    /// Clients that reported, ascending.
    pub participants: Vec<usize>,
    /// Clients that were sampled but dropped out.
    pub dropped: Vec<usize>,
    /// Messages and bytes the round moved.
    pub traffic: Traffic,
    /// Size-weighted mean of the clients' local training losses.
    pub train_loss: f64,
    /// Local minibatch steps summed over the participants.
    pub local_steps: u64,
}

/// w ← w + Σ_j c_j Δ_j, summed in the given order (fixed order = bit-identical runs).
pub fn aggregate(w: &mut [f64], coefficients: &[f64], deltas: &[&[f64]]) {
    assert_eq!(
        coefficients.len(),
        deltas.len(),
        "one coefficient per update"
    );
    for (c, d) in coefficients.iter().zip(deltas) {
        assert_eq!(d.len(), w.len(), "update length");
        w.iter_mut()
            .zip(d.iter())
            .for_each(|(wi, di)| *wi += c * di);
    }
}

/// What of a [`FedAvg`] server changes over rounds, as a checkpoint keeps it: the global
/// weights, the rounds done and the active clients. The clients keep nothing between rounds
/// (their optimizer and minibatch order are rebuilt from (seed, client, round) every round),
/// so this is the whole state of a federated run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FedAvgState {
    /// The server's global weights.
    pub weights: Vec<f64>,
    /// Rounds completed.
    pub round: u64,
    /// Ids of the clients still taking part (PUF removes the forgotten one).
    pub active: Vec<usize>,
}

/// The FedAvg server: global weights, the round counter and the active client set.
#[derive(Debug, Clone, PartialEq)]
pub struct FedAvg {
    cfg: FedAvgConfig,
    weights: Vec<f64>,
    round: u64,
    active: Vec<usize>,
    seed: u64,
}

impl FedAvg {
    /// A server starting from `init` with the clients `active` (node ids of the transport);
    /// `seed` drives client sampling.
    pub fn new(cfg: FedAvgConfig, init: Vec<f64>, active: Vec<usize>, seed: u64) -> Result<Self> {
        cfg.validate()?;
        let mut active = active;
        active.sort_unstable();
        active.dedup();
        if active.is_empty() {
            return Err(Error::invalid(
                "fedavg clients",
                "none",
                "at least one client",
            ));
        }
        Ok(FedAvg {
            cfg,
            weights: init,
            round: 0,
            active,
            seed,
        })
    }

    /// The state to checkpoint ([`FedAvgState`]).
    pub fn state(&self) -> FedAvgState {
        FedAvgState {
            weights: self.weights.clone(),
            round: self.round,
            active: self.active.clone(),
        }
    }

    /// Continues from `state` (a checkpoint of a server built like this one). Errors, with
    /// nothing changed: weights of another length, no active client, or an active client this
    /// server never had (clients only ever leave).
    pub fn restore(&mut self, state: FedAvgState) -> Result<()> {
        if state.weights.len() != self.weights.len() {
            return Err(Error::shape(
                "checkpoint FedAvg weights",
                self.weights.len(),
                state.weights.len(),
            ));
        }
        let known = |k: &usize| self.active.contains(k);
        if state.active.is_empty() || !state.active.iter().all(known) {
            return Err(Error::invalid(
                "checkpoint FedAvg clients",
                format!("{:?}", state.active),
                format!("a non-empty subset of {:?}", self.active),
            ));
        }
        self.weights = state.weights;
        self.round = state.round;
        self.active = state.active;
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &FedAvgConfig {
        &self.cfg
    }

    /// The global weights.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// Mutable global weights (the unlearning rules write them).
    pub fn weights_mut(&mut self) -> &mut [f64] {
        &mut self.weights
    }

    /// Rounds completed.
    pub fn round(&self) -> u64 {
        self.round
    }

    /// The active clients, ascending.
    pub fn active(&self) -> &[usize] {
        &self.active
    }

    /// The local learning rate of round `t` (1-based): lr·decay^(t−1).
    pub fn lr_at(&self, t: u64) -> f64 {
        self.cfg.lr * self.cfg.lr_decay.powi(t.saturating_sub(1) as i32)
    }

    /// Removes clients from the active set (after an unlearning request). Errors when none would
    /// remain.
    pub fn remove_clients(&mut self, ids: &[usize]) -> Result<()> {
        let rest: Vec<usize> = self
            .active
            .iter()
            .copied()
            .filter(|k| !ids.contains(k))
            .collect();
        if rest.is_empty() {
            return Err(Error::invalid(
                "clients to remove",
                format!("{ids:?}"),
                format!("a subset that leaves a client of {:?}", self.active),
            ));
        }
        self.active = rest;
        Ok(())
    }

    /// Marks one more round as done (the unlearning rounds count as rounds too).
    pub(crate) fn advance(&mut self) -> u64 {
        self.round += 1;
        self.round
    }

    /// The clients sampled for round `t`: all active clients when C = 1, else
    /// max(1, round(C·K)) of them drawn without replacement from the stream (seed, t).
    pub fn sample(&self, t: u64) -> Vec<usize> {
        if self.cfg.fraction >= 1.0 {
            return self.active.clone();
        }
        let k = self.active.len();
        let m = ((self.cfg.fraction * k as f64).round() as usize).clamp(1, k);
        let mut rng = RngStreams::new(self.seed).indexed("fedavg-sampling", t);
        let mut pool = self.active.clone();
        for i in 0..m {
            let j = rng.random_range(i..k);
            pool.swap(i, j);
        }
        let mut chosen = pool[..m].to_vec();
        chosen.sort_unstable();
        chosen
    }

    /// Aggregation weights of the reporting clients (n_k/N or 1/|S|).
    pub fn coefficients(&self, sizes: &[u64]) -> Vec<f64> {
        match self.cfg.weighting {
            Weighting::Size => {
                let total: u64 = sizes.iter().sum();
                sizes.iter().map(|&n| n as f64 / total as f64).collect()
            }
            Weighting::Uniform => vec![1.0 / sizes.len() as f64; sizes.len()],
        }
    }

    /// Broadcasts w and lr_t to `to`, runs `epochs` local epochs on each, gathers the updates.
    pub(crate) fn collect<M: Model, T: Transport<Client<M>>>(
        &self,
        transport: &mut T,
        t: u64,
        to: &[usize],
        epochs: usize,
        min_replies: usize,
    ) -> Result<crate::transport::Gathered<ClientUpdate>> {
        let msg = RoundMsg::new(&self.weights, self.lr_at(t), epochs);
        transport.broadcast_gather(t, to, &msg, min_replies, client_work)
    }

    /// One FedAvg round over the sampled active clients (P3 §2.1).
    pub fn step<M: Model, T: Transport<Client<M>>>(
        &mut self,
        transport: &mut T,
    ) -> Result<RoundReport> {
        let t = self.round + 1;
        let selected = self.sample(t);
        let g = self.collect(
            transport,
            t,
            &selected,
            self.cfg.local_epochs,
            self.cfg.min_clients.min(selected.len()),
        )?;
        let sizes: Vec<u64> = g.replies.iter().map(|m| m.payload.n).collect();
        let coefs: Vec<f64> = self
            .coefficients(&sizes)
            .iter()
            .map(|c| c * self.cfg.server_lr)
            .collect();
        let deltas: Vec<&[f64]> = g
            .replies
            .iter()
            .map(|m| m.payload.delta.as_slice())
            .collect();
        aggregate(&mut self.weights, &coefs, &deltas);
        check_finite(&self.weights, t)?;
        self.advance();
        Ok(round_report(t, &g))
    }

    /// `rounds` FedAvg rounds; `after` sees the server after each.
    pub fn run<M: Model, T: Transport<Client<M>>>(
        &mut self,
        transport: &mut T,
        rounds: usize,
        mut after: impl FnMut(&FedAvg, &RoundReport),
    ) -> Result<Vec<RoundReport>> {
        (0..rounds)
            .map(|_| {
                let r = self.step(transport)?;
                after(self, &r);
                Ok(r)
            })
            .collect()
    }
}

/// The client side of a FedAvg (or PUF) round, as every backend runs it on the node: local
/// training from the broadcast weights and learning rate, replying with the update (P3 §2.1).
/// An MPI rank that hosts clients serves rounds with it (`MpiTransport::serve`).
pub fn client_work<M: Model>(
    _k: usize,
    client: &mut Client<M>,
    m: &Message<&RoundMsg<'_>>,
) -> Result<Option<ClientUpdate>> {
    client.local_update(m.payload, m.round).map(Some)
}

pub(crate) fn round_report(t: u64, g: &crate::transport::Gathered<ClientUpdate>) -> RoundReport {
    let n: u64 = g.replies.iter().map(|m| m.payload.n).sum();
    let loss = g
        .replies
        .iter()
        .map(|m| m.payload.train_loss * m.payload.n as f64)
        .sum::<f64>()
        / n.max(1) as f64;
    RoundReport {
        round: t,
        participants: g.replies.iter().map(|m| m.sender).collect(),
        dropped: g.dropped.clone(),
        traffic: g.traffic,
        train_loss: loss,
        local_steps: g.replies.iter().map(|m| m.payload.steps).sum(),
    }
}

pub(crate) fn check_finite(w: &[f64], t: u64) -> Result<()> {
    if w.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(Error::Diverged {
            method: "fedavg".into(),
            step: t,
            last_finite_loss: None,
        })
    }
}

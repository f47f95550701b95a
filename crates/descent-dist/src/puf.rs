//! PUF: federated unlearning by negated pseudo-gradients (P3 §2.2–2.5), and the baselines.
//!
//! At the unlearning round t* the target clients U take part once, as in a normal round: each
//! downloads the current w, trains with the current (decayed) learning rate and uploads
//! Δ_u = w_u − w. Nothing is stored. The server then applies, with N counting the targets:
//!
//! ```text
//! PUF-Regular (all clients train):  w ← w + η_s Σ_{k∈R} (n_k/N) Δ_k − η_u Σ_{u∈U} (n_u/N) Δ_u,
//!                                   N = Σ_R n_k + Σ_U n_u                         (η_u = 20)
//! PUF-Special (only U trains):      w ← w − η_u Σ_{u∈U} (n_u/N_U) Δ_u,  N_U = Σ_U n_u  (η_u = 2)
//! ```
//!
//! so −Δ_u, a pseudo-gradient of the target's loss, becomes an ascent step (P3 §3 claim 2).
//! Several targets are unlearned concurrently by the same rule (§2.5). The targets then leave the
//! federation; recovery is plain FedAvg over the retained clients (§2.4). A Regular round moves
//! exactly the messages of a normal round and a Special round only |U| of them (§3 claim 3).
//!
//! Baselines: [`retrain_from_scratch`] (FedAvg without the targets from the same initial weights
//! and seeds, the gold standard) and [`continue_without`] ("natural" forgetting).

use descent_core::{Error, Result};
use descent_nn::Model;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::fedavg::{FedAvg, RoundReport, aggregate, check_finite, round_report};
use crate::transport::{Traffic, Transport};

/// The two forms of the PUF update (P3 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PufMode {
    /// A dedicated round in which only the targets train; weights n_u / N_U.
    Special,
    /// Piggybacks on a normal round; weights n_k / N with N including the targets.
    Regular,
}

/// PUF's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PufConfig {
    /// Which form of the update (P3 §2.2).
    pub mode: PufMode,
    /// The unlearning rate η_u (paper: 2 for Special, 20 for Regular with 10 clients).
    pub eta_u: f64,
    /// Local epochs of the unlearning round (paper: 1).
    pub epochs: usize,
}

impl PufConfig {
    /// PUF-Special with η_u = 2, one epoch (the authors' run scripts).
    pub fn special() -> Self {
        PufConfig {
            mode: PufMode::Special,
            eta_u: 2.0,
            epochs: 1,
        }
    }

    /// PUF-Regular with η_u = 20, one epoch (the authors' run scripts).
    pub fn regular() -> Self {
        PufConfig {
            mode: PufMode::Regular,
            eta_u: 20.0,
            epochs: 1,
        }
    }

    /// Checks ranges; errors name `puf.<field>`.
    pub fn validate(&self) -> Result<()> {
        if !(self.eta_u > 0.0 && self.eta_u.is_finite()) {
            return Err(Error::invalid(
                "puf.eta_u",
                self.eta_u,
                "a finite number > 0",
            ));
        }
        if self.epochs == 0 {
            return Err(Error::invalid("puf.epochs", 0, "an integer >= 1"));
        }
        Ok(())
    }
}

/// The coefficients c of `w ← w + Σ_k c_k Δ_k` in the unlearning round, for the retained
/// clients (sizes `retained`, empty for Special) and the targets (sizes `targets`), exactly as in
/// P3 §2.2: Regular c_k = η_s n_k/N, c_u = −η_u n_u/N with N = Σ_R n + Σ_U n; Special
/// c_u = −η_u n_u/N_U.
pub fn puf_coefficients(
    mode: PufMode,
    eta_u: f64,
    server_lr: f64,
    retained: &[u64],
    targets: &[u64],
) -> (Vec<f64>, Vec<f64>) {
    let n_u: u64 = targets.iter().sum();
    match mode {
        PufMode::Special => (
            Vec::new(),
            targets
                .iter()
                .map(|&n| -eta_u * n as f64 / n_u as f64)
                .collect(),
        ),
        PufMode::Regular => {
            let total = (retained.iter().sum::<u64>() + n_u) as f64;
            (
                retained
                    .iter()
                    .map(|&n| server_lr * n as f64 / total)
                    .collect(),
                targets.iter().map(|&n| -eta_u * n as f64 / total).collect(),
            )
        }
    }
}

/// What the unlearning round did.
#[derive(Debug, Clone, PartialEq)]
pub struct UnlearnReport {
    /// The round as FedAvg reports it (participants, traffic, loss).
    pub round: RoundReport,
    /// Every participant's pseudo-gradient Δ_k of this round (ascending id), e.g. to check the
    /// update against the formula.
    pub deltas: Vec<(usize, Vec<f64>)>,
    /// The coefficient applied to each participant's Δ, in participant order.
    pub coefficients: Vec<f64>,
}

/// Runs PUF's unlearning round for `targets` (one or several, all active) and removes them from
/// the federation. Every target must report (an unlearning round without the target's update
/// cannot unlearn it); in Regular mode the retained participants are the round's sampled clients.
pub fn unlearn<M: Model, T: Transport<Client<M>>>(
    fed: &mut FedAvg,
    transport: &mut T,
    targets: &[usize],
    cfg: &PufConfig,
) -> Result<UnlearnReport> {
    cfg.validate()?;
    let mut targets = targets.to_vec();
    targets.sort_unstable();
    targets.dedup();
    if targets.is_empty() {
        return Err(Error::invalid(
            "puf targets",
            "[]",
            "at least one client id",
        ));
    }
    if let Some(k) = targets.iter().find(|k| !fed.active().contains(k)) {
        return Err(Error::invalid(
            "puf target",
            k,
            format!("an active client of {:?}", fed.active()),
        ));
    }
    if targets.len() == fed.active().len() {
        return Err(Error::invalid(
            "puf targets",
            format!("{targets:?}"),
            "a strict subset of the active clients (someone must remain)",
        ));
    }
    let t = fed.round() + 1;
    let to: Vec<usize> = match cfg.mode {
        PufMode::Special => targets.clone(),
        PufMode::Regular => {
            let mut s = fed.sample(t);
            s.extend(&targets);
            s.sort_unstable();
            s.dedup();
            s
        }
    };
    let min = match cfg.mode {
        PufMode::Special => targets.len(),
        PufMode::Regular => targets.len() + fed.config().min_clients.min(to.len() - targets.len()),
    };
    let g = fed.collect(transport, t, &to, cfg.epochs, min)?;
    if let Some(k) = targets
        .iter()
        .find(|k| !g.replies.iter().any(|m| m.sender == **k))
    {
        return Err(Error::invalid(
            format!("unlearning round {t}"),
            format!("no update from target client {k}"),
            "an update from every target client",
        ));
    }
    let is_target = |k: usize| targets.contains(&k);
    let retained_sizes: Vec<u64> = g
        .replies
        .iter()
        .filter(|m| !is_target(m.sender))
        .map(|m| m.payload.n)
        .collect();
    let target_sizes: Vec<u64> = g
        .replies
        .iter()
        .filter(|m| is_target(m.sender))
        .map(|m| m.payload.n)
        .collect();
    let (cr, cu) = puf_coefficients(
        cfg.mode,
        cfg.eta_u,
        fed.config().server_lr,
        &retained_sizes,
        &target_sizes,
    );
    let (mut ir, mut iu) = (cr.into_iter(), cu.into_iter());
    let coefficients: Vec<f64> = g
        .replies
        .iter()
        .map(|m| {
            if is_target(m.sender) {
                iu.next()
            } else {
                ir.next()
            }
            .expect("one coefficient per reply")
        })
        .collect();
    let deltas: Vec<&[f64]> = g
        .replies
        .iter()
        .map(|m| m.payload.delta.as_slice())
        .collect();
    aggregate(fed.weights_mut(), &coefficients, &deltas);
    check_finite(fed.weights(), t)?;
    fed.advance();
    fed.remove_clients(&targets)?;
    let round = round_report(t, &g);
    let deltas = g
        .replies
        .into_iter()
        .map(|m| (m.sender, m.payload.delta))
        .collect();
    Ok(UnlearnReport {
        round,
        deltas,
        coefficients,
    })
}

/// The result of a recovery phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovery {
    /// Recovery rounds needed to reach the goal (0 = already there), `None` if the cap was hit.
    pub rounds: Option<usize>,
    /// The score (e.g. test accuracy) before any recovery round and after each.
    pub scores: Vec<f64>,
    /// Messages and bytes of all recovery rounds.
    pub traffic: Traffic,
    /// Local minibatch steps of all recovery rounds.
    pub local_steps: u64,
}

/// The first index whose score reaches `goal` (recovery rounds of a fixed-length trajectory).
pub fn first_reaching(scores: &[f64], goal: f64) -> Option<usize> {
    scores.iter().position(|&s| s >= goal)
}

/// Recovery (P3 §2.4): FedAvg rounds over the remaining clients until `score(w) ≥ goal` (the
/// retrained model's test accuracy in the paper: an evaluation device), at most `cap` rounds
/// (paper: 30).
pub fn recover<M: Model, T: Transport<Client<M>>>(
    fed: &mut FedAvg,
    transport: &mut T,
    goal: f64,
    cap: usize,
    mut score: impl FnMut(&[f64]) -> f64,
) -> Result<Recovery> {
    let mut scores = vec![score(fed.weights())];
    let mut traffic = Traffic::default();
    let mut local_steps = 0;
    while scores.last().is_some_and(|&s| s < goal) && scores.len() <= cap {
        let r = fed.step(transport)?;
        traffic += r.traffic;
        local_steps += r.local_steps;
        scores.push(score(fed.weights()));
    }
    Ok(Recovery {
        rounds: first_reaching(&scores, goal),
        scores,
        traffic,
        local_steps,
    })
}

/// Retrain from scratch without `targets`: FedAvg from `init` with the same configuration and
/// seed over the other clients for `rounds` rounds (P3 §4.1's gold standard). `after` sees the
/// server after each round.
#[allow(clippy::too_many_arguments)]
pub fn retrain_from_scratch<M: Model, T: Transport<Client<M>>>(
    original: &FedAvg,
    init: Vec<f64>,
    clients: &[usize],
    targets: &[usize],
    rounds: usize,
    seed: u64,
    transport: &mut T,
    after: impl FnMut(&FedAvg, &RoundReport),
) -> Result<FedAvg> {
    let rest: Vec<usize> = clients
        .iter()
        .copied()
        .filter(|k| !targets.contains(k))
        .collect();
    let mut fed = FedAvg::new(original.config().clone(), init, rest, seed)?;
    fed.run(transport, rounds, after)?;
    Ok(fed)
}

/// "Natural" forgetting: the federation continues without `targets` for `rounds` rounds.
pub fn continue_without<M: Model, T: Transport<Client<M>>>(
    fed: &FedAvg,
    targets: &[usize],
    rounds: usize,
    transport: &mut T,
    after: impl FnMut(&FedAvg, &RoundReport),
) -> Result<FedAvg> {
    let mut fed = fed.clone();
    fed.remove_clients(targets)?;
    fed.run(transport, rounds, after)?;
    Ok(fed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficients_follow_the_two_forms() {
        let (r, u) = puf_coefficients(PufMode::Regular, 20.0, 1.0, &[100, 300], &[100]);
        assert_eq!(r, vec![0.2, 0.6]);
        assert_eq!(u, vec![-20.0 * 0.2]);
        let (r, u) = puf_coefficients(PufMode::Special, 2.0, 1.0, &[], &[100, 300]);
        assert!(r.is_empty());
        assert_eq!(u, vec![-0.5, -1.5]);
        assert!(
            PufConfig {
                eta_u: 0.0,
                ..PufConfig::special()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn first_reaching_counts_rounds() {
        assert_eq!(first_reaching(&[0.5, 0.7, 0.9], 0.7), Some(1));
        assert_eq!(first_reaching(&[0.95], 0.9), Some(0));
        assert_eq!(first_reaching(&[0.5, 0.6], 0.9), None);
    }
}

#![deny(missing_docs)]
//! descent-dist: federated learning, federated unlearning and decentralized (differentially
//! private) learning over a narrow [`Transport`]
//! (DESIGN §7).
//!
//! - [`transport`]: the [`Transport`] trait (server broadcast + gather, point-to-point to
//!   out-neighbours; every message carries its round and sender; clients that drop out of a round
//!   are tolerated down to a configurable minimum) and the in-process backend [`InProcess`]
//!   (rayon across nodes, bit-identical to a serial run).
//! - `mpi` (feature `mpi`): the same trait over MPI ranks (rsmpi, Open MPI, `mpirun`), rank 0
//!   the federated server, every rank a block of decentralized nodes; bit-identical results.
//! - [`client`]: a federated [`Client`]: its data, the model, and a local optimizer built from a
//!   spec (any `Transform`), trained for E local epochs per round.
//! - [`fedavg`]: [`FedAvg`] (server learning rate, size weighting, client sampling, per-round
//!   learning-rate decay through `set_hyper`), as in the PUF authors' code (P3 §2.1).
//! - [`puf`]: federated unlearning by negated pseudo-gradients, both forms of P3 §2.2
//!   (PUF-Special, PUF-Regular), for one or several concurrent targets; the
//!   retrain-from-scratch and continue-without-client baselines; recovery (§2.4).
//! - [`topology`]: time-varying directed graphs (SGP's exponential graphs, ring, random
//!   out-regular, Erdős–Rényi, P9's random time-varying digraph), derived from (seed, round)
//!   so every rank knows its in-neighbours; B-strong-connectivity checks.
//! - [`pushsum`]: push-sum / Stochastic Gradient Push over the transport (de-biased models,
//!   column-stochastic uniform mixing, undelivered shares kept by their sender) with any local
//!   transform.
//! - [`privacy`]: per-sample clipping, Poisson sampling, the Gaussian mechanism and an RDP
//!   accountant with calibration: DP-SGD on one machine or per node.
//! - [`adp`]: ADP-VRSGP's node (decaying noise, lr and clip; progressive gradient fusion;
//!   per-node budgets) and its baselines DP-SGP and SGP (P9).
//! - [`metrics`]: accuracy (on any data, or on each client's own training data), the Yeom loss-threshold and confidence-threshold
//!   membership-inference attacks (P3 §4.2) as member rates, and attack AUC.

pub mod adp;
pub mod client;
pub mod faults;
pub mod fedavg;
pub mod metrics;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod privacy;
pub mod puf;
pub mod pushsum;
pub mod ranks;
pub mod topology;
pub mod transport;

pub use adp::{
    DpLearner, DpLearnerState, NodePlan, NodeReport, NodeRule, NoiseSpec, Sampling, StagePlan,
    dp_nodes,
};

pub use client::{Client, ClientUpdate, RoundMsg};
pub use fedavg::{
    FedAvg, FedAvgConfig, FedAvgState, RoundReport, Weighting, aggregate, client_work,
};
pub use metrics::{
    Mia, accuracy, auc, client_train_accuracies, confidence_threshold, evaluate_mia,
    true_class_probs,
};
pub use puf::{
    PufConfig, PufMode, UnlearnReport, continue_without, puf_coefficients, recover,
    retrain_from_scratch, unlearn,
};
pub use pushsum::{
    Gossip, LocalLearner, NodeState, PushMsg, PushSumNode, Sgp, SgpRound, TransformLearner,
    consensus_distance, network_average, network_mass,
};
pub use ranks::RankRound;
pub use topology::{Digraph, Topology, TopologyKind};
pub use transport::{
    Faults, Gathered, InProcess, Message, SERVER, Traffic, Transport, Wire, WireReader,
};

/// `examples/federated.rs` (FedAvg on the digits, 10 non-IID clients), run as a doctest so it
/// cannot rot.
///
/// ```
#[doc = include_str!("../examples/federated.rs")]
/// ```
#[cfg(doctest)]
pub struct Federated;

//! P3 — PUF: federated unlearning by negated pseudo-gradients (Mora et al., "Federated
//! Unlearning Made Practical: Seamless Integration via Negated Pseudo-Gradients", 2025).
//! The server forgets a client by subtracting η_u times its fresh pseudo-gradient (§2.2), then
//! recovers with plain FedAvg over the retained clients (§2.4).
//!
//! The reproduction runs the paper's protocol at small scale: UCI digits (pixels / 16), a
//! stratified 25 % test split, K = 10 clients from a per-class Dirichlet(α = 0.3) partition, an
//! MLP 64-64-10 (ReLU, He init), client SGD with decoupled weight decay (lr 0.1·0.998^(t−1),
//! batch 16, 1 epoch), plain FedAvg for 60 rounds. Then, for every (data split, target client)
//! case: retrain from scratch without the target, PUF-Special (η_u = 2) and PUF-Regular
//! (η_u = 20) followed by recovery to the retrained test accuracy (cap 30), and "natural"
//! continuation without the target; two clients concurrently per split; and the backdoor stress
//! scenario. A Gaussian mixture in 64-D runs the same pipeline as a reported-only dataset. All
//! federated parts come from `descent-dist`; every seed derives from the run seed
//! ([`config::Seeds`]).
//!
//! All checks share one measurement, so the files follow the verbs:
//!
//! | check | file |
//! |---|---|
//! | the federated runs and cases behind every check | `measure.rs` (data in `setup.rs`) |
//! | 1 FedAvg sanity, 2 update algebra and concurrent linearity, 3 immediate forgetting, 4 recovery, 5 fidelity, 6 better than natural, 7 backdoor (mean and per case), 8 determinism, claim 3 traffic, reported extensions | `claims.rs` |
//! | cases, per-client accuracy, MIA, backdoor, bytes, trajectories | `tables.rs` |
//! | accuracy after the request, MIA bars, training curves | `figures.rs` |
//! | readings the numbers rest on | `assumptions.rs` |

pub mod assumptions;
pub mod claims;
pub mod config;
pub mod figures;
pub mod measure;
pub mod setup;
pub mod tables;
#[cfg(test)]
mod tests;

use descent_core::Result;

pub use config::Config;

use crate::experiment::{Paper, RunContext, RunOutput};
use crate::report::Report;

/// The `puf` experiment (P3).
pub struct PufPaper;

impl Paper for PufPaper {
    type Config = Config;
    const NAME: &'static str = "puf";
    const PAPER: &'static str = "P3 PUF: federated unlearning by negated pseudo-gradients";
    const SUMMARY: &'static str = "FedAvg on Dirichlet(0.3) digits clients; unlearn one or two \
        clients by PUF (Special, Regular), recover, compare with retraining and natural \
        forgetting; MIAs";

    fn reproduce(&self, c: &Config, ctx: &RunContext<'_>) -> Result<RunOutput> {
        let r = measure::measure(c, ctx.seed, ctx.progress)?;
        let report = Report {
            claims: claims::claims(c, &r),
            assumptions: assumptions::assumptions(c, &r),
            tables: tables::tables(c, &r),
            series: tables::all_series(c, &r),
            evals: r.evals(),
            ..Report::default()
        };
        Ok(RunOutput {
            report,
            figures: figures::figures(c, &r),
        })
    }
}

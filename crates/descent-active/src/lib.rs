#![deny(missing_docs)]
//! descent-active: open-set active learning on any class-labelled data (P2, SAMOSA).
//!
//! The protocol of LfOSA/EOAL (P2 spec §2.1): a pool whose classes are split into K known and
//! the rest unknown, a small labelled set of known samples, and rounds in which a query
//! strategy picks `budget` unlabelled samples for an oracle that returns their class, or
//! "unknown" for a sample of an unknown class (which still costs budget). Every round trains
//! fresh models (pitfall 6) and records the test accuracy of the K-way model, the query
//! precision (known/queried) and the recall of known samples.
//!
//! - [`OpenSetTask`] (pool, known-class test set, oracle) and [`PoolState`] (L, I, U);
//! - [`Recipe`]: how every fresh model is trained (model spec, optimizer spec, epochs, batch);
//!   [`TrainedModel`] gives softmax outputs and penultimate-layer embeddings;
//! - [`QueryStrategy`], built from text by [`parse_strategy`]: [`Random`], [`Uncertainty`]
//!   (entropy, margin, least confidence), [`Coreset`] (k-center greedy) and [`Samosa`] (SAMIS-P
//!   between an SGD and a SAM model with the K+1 filter; low-score, no-filter, SGD-vs-SGD and
//!   shared-init variants); [`scores`] holds the per-sample formulas;
//! - [`run_active`]: the round loop, returning a [`RoundRecord`] per evaluation;
//!   [`run_active_from`] pauses and continues it between rounds from an [`ActiveProgress`]
//!   (checkpoints).
//!
//! ```no_run
//! use descent_active::{ActiveConfig, OpenSetTask, parse_strategy, run_active};
//! # fn main() -> descent_core::Result<()> {
//! let data = descent_data::digits()?;
//! let (pool, test) = descent_data::split(&data, 0.2, &mut descent_core::RngStreams::new(0).stream("split"))?;
//! let task = OpenSetTask::new(&pool, &test, &[0, 1, 2, 3, 4])?;
//! let cfg = ActiveConfig { initial: 15, budget: 30, rounds: 8, ..ActiveConfig::default() };
//! let run = run_active(&task, parse_strategy("samosa")?.as_ref(), &cfg, 0)?;
//! println!("final accuracy {:.3}, precision {:.3}", run.final_accuracy(), run.precision());
//! # Ok(()) }
//! ```
//!
//! Place in the workspace (DESIGN §2): depends on descent-core, descent-data, descent-nn and
//! descent-optim (active → core, data, nn, optim); only descent-lab (the `samosa` experiment
//! and `descent active`) depends on it.

pub mod model;
pub mod prelude;
pub mod run;
pub mod samosa;
pub mod scores;
pub mod strategy;
pub mod task;

pub use model::{Recipe, TrainedModel, gather_rows};
pub use run::{
    ActiveConfig, ActiveEnd, ActiveProgress, ActiveRun, AfterRound, LastQuery, RoundRecord,
    ScoreSummary, model_seed, query_seed, run_active, run_active_from,
};
pub use samosa::{InitMode, Order, Pair, Samosa, rank_with_fill};
pub use strategy::{
    Coreset, QueryContext, QueryStrategy, Random, STRATEGIES, Selection, Uncertainty,
    k_center_greedy, nearest_sq_distances, parse_strategy,
};
pub use task::{Answer, OpenSetTask, PoolState};

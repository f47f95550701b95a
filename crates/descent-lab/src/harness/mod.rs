//! What every paper experiment shares (DESIGN §2.1): [`stats`] with one NaN policy, the parallel
//! job runner [`jobs`], the epoch loop [`epochs`] and legend [`labels`]. Unit-tested once here,
//! so a paper's files hold only what is particular to the paper.

pub mod epochs;
pub mod jobs;
pub mod labels;
pub mod stats;

pub use epochs::{
    DataMetrics, EpochEnd, EpochMetrics, EpochRecord, EpochRun, LoopPlan, LoopState, SaveFn,
    run_epochs, run_epochs_paused,
};
pub use jobs::{par_grid, par_map, par_range};

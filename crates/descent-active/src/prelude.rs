//! One glob import for open-set active learning: `use descent_active::prelude::*;` brings the
//! task and pool, the training recipe, the query strategies and the loop.

pub use crate::{
    ActiveConfig, ActiveRun, OpenSetTask, PoolState, QueryStrategy, Recipe, Samosa, parse_strategy,
    run_active,
};

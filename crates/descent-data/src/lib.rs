//! descent-data: datasets, embedded UCI data, file loaders, seeded splits, standardization and
//! minibatch sampling.

pub mod dataset;

pub use dataset::{Dataset, Targets};

//! descent-data: datasets, embedded UCI data, file loaders, seeded splits, standardization and
//! minibatch sampling.

pub mod dataset;
pub mod sampler;

pub use dataset::{Dataset, Targets};
pub use sampler::{BatchSampler, SamplingMode};

//! One glob import for data pipelines: `use descent_data::prelude::*;` brings the dataset type,
//! the loaders by spec, the seeded split, the standardizer and the minibatch sampler.

pub use crate::{
    BatchSampler, DataSource, Dataset, SamplingMode, Standardizer, Targets, load_dataset,
    source_from_spec, split,
};

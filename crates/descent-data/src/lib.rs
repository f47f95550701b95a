//! descent-data: datasets, embedded UCI data, file loaders, seeded splits, standardization and
//! minibatch sampling.
//!
//! A typical pipeline: build a [`Dataset`] from a spec ([`source::load`]: `digits`, `iris`,
//! `wine`, `csv:PATH`, the
//! generators `mixture(...)`, `teacher(...)`, `gaussian(...)`), [`split()`] it with a seeded RNG stream, fit a [`Standardizer`] on the
//! training part and apply it to both parts, then draw minibatches with a [`BatchSampler`].

pub mod csv;
pub mod dataset;
pub mod embedded;
pub mod generators;
pub mod sampler;
pub mod source;
pub mod split;
pub mod standardize;

pub use self::csv::{CsvOptions, HeaderMode, TargetKind, load_csv, parse_csv};
pub use dataset::{Dataset, Targets};
pub use embedded::{digits, iris, wine};
pub use generators::{
    GaussianMixture, Generator, MixtureConfig, Partition, SpectralGaussian, Stream, Teacher,
    TeacherConfig,
};
pub use sampler::{BatchSampler, SamplingMode};
pub use source::{DATASETS, from_spec, load as load_dataset};
pub use split::{split, split_indices, split_with};
pub use standardize::Standardizer;

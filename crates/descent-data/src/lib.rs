#![deny(missing_docs)]
//! descent-data: datasets, embedded UCI data, file loaders, seeded splits, standardization and
//! minibatch sampling.
//!
//! A typical pipeline: build a [`Dataset`] from a spec ([`source::load`]: `digits`, `iris`,
//! `wine`, `csv:PATH`, the
//! generators `mixture(...)`, `teacher(...)`, `gaussian(...)`), [`split()`] it with a seeded RNG stream, fit a [`Standardizer`] on the
//! training part and apply it to both parts, then draw minibatches with a [`BatchSampler`].

pub mod cifar;
pub mod csv;
pub mod dataset;
pub mod embedded;
pub mod generators;
pub mod idx;
pub mod npy;
pub mod prelude;
pub mod sampler;
pub mod source;
pub mod split;
pub mod standardize;

pub use self::csv::{CsvOptions, HeaderMode, TargetKind, load_csv, parse_csv};
pub use cifar::{cifar_batch_from_bytes, load_cifar10_dir};
pub use dataset::{Dataset, Targets};
pub use embedded::{digits, iris, wine};
pub use generators::{
    GaussianMixture, Generator, MixtureConfig, Partition, SpectralGaussian, Stream, Teacher,
    TeacherConfig,
};
pub use idx::{idx_pair_from_bytes, load_idx_dir, load_idx_pair, parse_idx_bytes, read_idx};
pub use npy::{NpyOptions, load_npy, npy_from_bytes, parse_npy_bytes, read_npy};
pub use sampler::{BatchSampler, SamplingMode};
pub use source::{
    DATASETS, DataSource, from_spec, load as load_dataset, load_source, source_from_spec,
};
pub use split::{split, split_indices, split_with};
pub use standardize::Standardizer;

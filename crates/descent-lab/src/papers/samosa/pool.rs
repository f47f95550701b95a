//! The data of the experiment: the synthetic open-set pool of P2 §5.1 (with each sample's
//! sub-cluster, for check 5) and the digits split of §5.5. Both are library parts
//! ([`GaussianMixture`], [`OpenSetTask`]) put together with the spec's sizes and seeds.

use descent_active::OpenSetTask;
use descent_core::{Result, RngStreams};
use descent_data::{Dataset, GaussianMixture, MixtureConfig, Standardizer};

use super::config::PoolConfig;

/// One draw of the synthetic pool.
pub struct SyntheticPool {
    /// The known and unknown classes of the draw.
    pub task: OpenSetTask,
    /// The pool with its true labels (classes 0..K known, K..K+U unknown).
    pub data: Dataset,
    /// Each pool sample's sub-cluster (0 typical … last atypical).
    pub subcluster: Vec<usize>,
}

/// The pool of seed `seed` (data seed `data_seed_offset + seed`): centres from its
/// `"structure"` stream, `per_known`/`per_unknown` samples per class from `"pool"`, the
/// known-class test set from `"test"`.
pub fn synthetic(c: &PoolConfig, seed: u64) -> Result<SyntheticPool> {
    let mixture = MixtureConfig {
        classes: c.known + c.unknown,
        dim: c.dim,
        weights: c.weights.clone(),
        sep: c.sep,
        spread: c.spread,
        noise: c.noise,
        class_weights: Vec::new(),
    };
    let streams = RngStreams::new(c.data_seed_offset.wrapping_add(seed));
    let mix = GaussianMixture::new(mixture, &mut streams.stream("structure"))?;
    let per_class = |known: usize, unknown: usize| {
        let mut v = vec![known; c.known];
        v.extend(std::iter::repeat_n(unknown, c.unknown));
        v
    };
    let pool = mix.sample_per_class(
        &per_class(c.per_known, c.per_unknown),
        &mut streams.stream("pool"),
    )?;
    let test =
        mix.sample_per_class(&per_class(c.test_per_class, 0), &mut streams.stream("test"))?;
    let known: Vec<usize> = (0..c.known).collect();
    Ok(SyntheticPool {
        task: OpenSetTask::new(&pool.data, &test.data, &known)?,
        data: pool.data,
        subcluster: pool.subcluster,
    })
}

/// The embedded 8×8 digits as an open-set task with `known` classes: a stratified split by data
/// seed `1000 + seed` (its `"split"` stream), features standardized with the pool's statistics.
pub fn digits_task(known: &[usize], test_fraction: f64, seed: u64) -> Result<OpenSetTask> {
    let data = descent_data::digits()?;
    let streams = RngStreams::new(1000u64.wrapping_add(seed));
    let (mut pool, mut test) =
        descent_data::split(&data, test_fraction, &mut streams.stream("split"))?;
    let st = Standardizer::fit(&pool)?;
    st.transform(&mut pool)?;
    st.transform(&mut test)?;
    OpenSetTask::new(&pool, &test, known)
}

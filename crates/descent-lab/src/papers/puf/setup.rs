//! The data, model and clients of the federated runs: UCI digits (pixels / 16) or a 64-D
//! Gaussian mixture, a stratified train/test split, per-class Dirichlet partitions over K
//! clients, an MLP 64-h-10 (ReLU, He init), and the spec's backdoor (§5.2 of the reproduction
//! design: a 2×2 patch and shifted labels).

use std::sync::Arc;

use descent_core::{Result, RngStreams};
use descent_data::generators::{GaussianMixture, MixtureConfig};
use descent_data::{Dataset, Partition, Standardizer, Targets};
use descent_dist::{Client, InProcess};
use descent_nn::{Activation, Init, Loss, Mlp};

use super::config::{Config, Seeds};

/// One dataset prepared for federated runs.
pub struct Setup {
    /// The dataset's name.
    pub name: &'static str,
    /// The training data, split over the clients.
    pub train: Arc<Dataset>,
    /// The held-out test data.
    pub test: Dataset,
    /// The model every client trains.
    pub model: Mlp,
    /// The initial weights of every federation (original and retrained).
    pub init: Vec<f64>,
}

/// Digits with pixels scaled to [0, 1], split by the `"split"` stream of the test seed.
pub fn digits(c: &Config, seeds: &Seeds) -> Result<Setup> {
    let mut data = descent_data::digits()?;
    data.features.iter_mut().for_each(|v| *v /= 16.0);
    let (train, test) = descent_data::split(
        &data,
        c.test_fraction,
        &mut RngStreams::new(seeds.test).stream("split"),
    )?;
    setup("digits", train, test, c, seeds)
}

/// A 10-class Gaussian mixture in 64-D (`mixture_per_class` samples per class) drawn from the
/// test seed, split as digits and standardised on the training part.
pub fn mixture(c: &Config, seeds: &Seeds) -> Result<Setup> {
    // what the dataset spec `mixture(classes=10, dim=64, n, seed)` builds, with a 64-bit seed
    let streams = RngStreams::new(seeds.test);
    let mix = GaussianMixture::new(
        MixtureConfig {
            classes: 10,
            dim: 64,
            ..MixtureConfig::default()
        },
        &mut streams.stream("structure"),
    )?;
    let data = mix
        .sample_per_class(&[c.mixture_per_class; 10], &mut streams.stream("samples"))?
        .data;
    let (mut train, mut test) = descent_data::split(
        &data,
        c.test_fraction,
        &mut RngStreams::new(seeds.test).stream("split"),
    )?;
    let st = Standardizer::fit(&train)?;
    st.transform(&mut train)?;
    st.transform(&mut test)?;
    setup("mixture", train, test, c, seeds)
}

fn setup(
    name: &'static str,
    train: Dataset,
    test: Dataset,
    c: &Config,
    seeds: &Seeds,
) -> Result<Setup> {
    let model = Mlp::new(
        vec![train.n_features, c.hidden, train.n_outputs()],
        Activation::Relu,
        true,
    )?;
    let init = model.init_params(Init::He, &mut RngStreams::new(seeds.init).stream("init"));
    Ok(Setup {
        name,
        train: Arc::new(train),
        test,
        model,
        init,
    })
}

/// The per-client datasets of the Dirichlet partition with seed `partition_seed`.
pub fn client_data(s: &Setup, c: &Config, partition_seed: u64) -> Result<Vec<Arc<Dataset>>> {
    let part = Partition::dirichlet(
        &s.train,
        c.clients,
        c.alpha,
        c.min_client_size,
        &mut RngStreams::new(partition_seed).stream("partition"),
    )?;
    Ok((0..c.clients)
        .map(|k| Arc::new(part.client_data(&s.train, k)))
        .collect())
}

/// One client per dataset; minibatch orders from `train_seed`.
pub fn clients(
    s: &Setup,
    c: &Config,
    data: &[Arc<Dataset>],
    train_seed: u64,
) -> Result<Vec<Client>> {
    let opt = c.optimizer();
    data.iter()
        .enumerate()
        .map(|(k, d)| {
            Client::new(
                k,
                d.clone(),
                s.model.clone(),
                Loss::SoftmaxCe,
                c.batch_size,
                &opt,
                train_seed,
            )
        })
        .collect()
}

/// The in-process transport over [`clients`].
pub fn transport(
    s: &Setup,
    c: &Config,
    data: &[Arc<Dataset>],
    train_seed: u64,
) -> Result<InProcess<Client>> {
    Ok(InProcess::new(clients(s, c, data, train_seed)?))
}

/// The backdoor of the stress scenario: every sample of the target gets a 2×2 white patch in
/// the top-left corner (pixels 0, 1, 8, 9 = 1) and the label y → (y + 1) mod 10. It touches all
/// of the target's samples, so it involves no random choice.
pub fn backdoored(d: &Dataset) -> Dataset {
    let mut b = d.clone();
    for row in b.features.chunks_exact_mut(b.n_features) {
        for i in [0, 1, 8, 9] {
            row[i] = 1.0;
        }
    }
    if let Targets::Classes { labels, n_classes } = &mut b.targets {
        labels.iter_mut().for_each(|y| *y = (*y + 1) % *n_classes);
    }
    b.name = format!("{} + backdoor", d.name);
    b
}

/// The samples of several clients in order (the forgotten set of concurrent targets, the
/// retained clients' data as the MIA's shadow members).
pub fn concat(parts: &[&Dataset]) -> Dataset {
    let first = parts[0];
    let mut features = Vec::new();
    let mut labels = Vec::new();
    let mut n_classes = 0;
    for p in parts {
        features.extend_from_slice(&p.features);
        if let Targets::Classes {
            labels: l,
            n_classes: c,
        } = &p.targets
        {
            labels.extend_from_slice(l);
            n_classes = *c;
        }
    }
    Dataset {
        name: "retained".into(),
        features,
        n_features: first.n_features,
        targets: Targets::Classes { labels, n_classes },
    }
}

//! Statistics of the seeded generators (means, covariance spectrum, mixture weights, teacher
//! noise), the Dirichlet partition's label histogram against α, streams and specs. Tolerances are
//! a few standard errors of each estimate, stated next to each assertion.

use descent_core::linalg::{least_squares, sym_eigen};
use descent_core::{Error, RngStreams, Spec, Stochastic};
use descent_data::generators::{
    Basis, SpectralTarget, TargetShape, TeacherAct, dataset_from_spec, generator_from_spec,
};
use descent_data::{
    Dataset, GaussianMixture, Generator, MixtureConfig, Partition, SpectralGaussian, Stream,
    Targets, Teacher, TeacherConfig, load_dataset,
};

fn rng(name: &str) -> descent_core::rng::Rng {
    RngStreams::new(11).stream(name)
}

fn mean_cov(x: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = x.len() / d;
    let mut mean = vec![0.0; d];
    x.chunks_exact(d).for_each(|r| {
        r.iter()
            .zip(&mut mean)
            .for_each(|(v, m)| *m += v / n as f64)
    });
    let mut cov = vec![0.0; d * d];
    for r in x.chunks_exact(d) {
        for i in 0..d {
            for j in 0..d {
                cov[i * d + j] += (r[i] - mean[i]) * (r[j] - mean[j]) / (n - 1) as f64;
            }
        }
    }
    (mean, cov)
}

#[test]
fn mixture_weights_centres_and_noise() {
    let config = MixtureConfig {
        classes: 2,
        dim: 4,
        weights: vec![0.7, 0.2, 0.1],
        sep: 2.0,
        spread: 1.0,
        noise: 1.5,
        class_weights: vec![],
    };
    let mix = GaussianMixture::new(config, &mut rng("structure")).unwrap();
    // class centres have norm sep·√d/2 = 2 exactly
    for c in 0..2 {
        let norm = mix
            .class_centre(c)
            .iter()
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt();
        assert!((norm - 2.0).abs() < 1e-12, "{norm}");
    }
    let s = mix
        .sample_per_class(&[6000, 6000], &mut rng("samples"))
        .unwrap();
    assert_eq!((s.data.len(), s.data.n_features), (12000, 4));
    let Targets::Classes { labels, n_classes } = &s.data.targets else {
        panic!()
    };
    assert_eq!((*n_classes, labels[5999], labels[6000]), (2, 0, 1));
    for c in 0..2 {
        for (j, w) in [0.7, 0.2, 0.1].into_iter().enumerate() {
            let rows: Vec<usize> = (c * 6000..(c + 1) * 6000)
                .filter(|&i| s.subcluster[i] == j)
                .collect();
            // weight: binomial sd √(w(1−w)/6000) ≤ 0.006; allow 0.025 (> 4 sd)
            let frac = rows.len() as f64 / 6000.0;
            assert!((frac - w).abs() < 0.025, "class {c} sub {j}: {frac}");
            // sub-cluster mean = its centre: sd 1.5/√n_j per coordinate; allow 5 sd
            let sub = s.data.subset(&rows);
            let (mean, cov) = mean_cov(&sub.features, 4);
            let tol = 5.0 * 1.5 / (rows.len() as f64).sqrt();
            for (m, t) in mean.iter().zip(mix.centre(c, j)) {
                assert!((m - t).abs() < tol, "{m} vs {t}");
            }
            // within-sub-cluster covariance = 1.5² I: sd of a variance ≈ 2.25·√(2/n_j)
            for i in 0..4 {
                for k in 0..4 {
                    let target = if i == k { 2.25 } else { 0.0 };
                    let tol = 6.0 * 2.25 * (2.0 / rows.len() as f64).sqrt();
                    assert!((cov[i * 4 + k] - target).abs() < tol, "{cov:?}");
                }
            }
        }
    }
    // fresh draws pick classes by class_weights (uniform by default)
    let fresh = mix.sample(10_000, &mut rng("fresh"));
    let Targets::Classes { labels, .. } = &fresh.targets else {
        panic!()
    };
    let ones = labels.iter().filter(|&&l| l == 1).count() as f64 / 10_000.0;
    assert!((ones - 0.5).abs() < 0.025, "{ones}"); // sd 0.005
}

#[test]
fn teacher_linear_is_recovered_and_noise_has_the_stated_variance() {
    let config = TeacherConfig {
        dim: 5,
        hidden: 0,
        outputs: 1,
        act: TeacherAct::Tanh,
        noise: 0.3,
    };
    let t = Teacher::new(config, &mut rng("structure")).unwrap();
    let d = t.sample(8000, &mut rng("samples"));
    let Targets::Real { values, dim } = &d.targets else {
        panic!()
    };
    assert_eq!(*dim, 1);
    // inputs are N(0, I)
    let (mean, cov) = mean_cov(&d.features, 5);
    for i in 0..5 {
        assert!(mean[i].abs() < 0.05, "{mean:?}"); // sd 0.011
        assert!((cov[i * 6] - 1.0).abs() < 0.08, "{cov:?}"); // sd 0.016
    }
    // least squares recovers W/√d (sd ≈ 0.3/√8000 = 0.0034 per weight)
    let w = least_squares(&d.features, 8000, 5, values).unwrap();
    for (a, b) in w.iter().zip(t.first_layer()) {
        assert!((a - b / 5f64.sqrt()).abs() < 0.02, "{w:?}");
    }
    let resid: f64 = (0..8000)
        .map(|i| {
            let f: f64 = d.row(i).iter().zip(&w).map(|(a, b)| a * b).sum();
            (values[i] - f).powi(2)
        })
        .sum::<f64>()
        / 8000.0;
    assert!((resid - 0.09).abs() < 0.09 * 0.08, "{resid}"); // relative sd √(2/8000) = 1.6 %
}

#[test]
fn teacher_network_targets_are_prediction_plus_noise() {
    let config = TeacherConfig {
        dim: 8,
        hidden: 16,
        outputs: 2,
        act: TeacherAct::Relu,
        noise: 0.2,
    };
    let t = Teacher::new(config, &mut rng("structure")).unwrap();
    let d = t.sample(5000, &mut rng("samples"));
    let Targets::Real { values, dim: 2 } = &d.targets else {
        panic!()
    };
    let mut f = [0.0; 2];
    let (mut m, mut v, mut signal) = (0.0, 0.0, 0.0);
    for i in 0..5000 {
        t.predict(d.row(i), &mut f);
        for k in 0..2 {
            let e = values[2 * i + k] - f[k];
            m += e / 10_000.0;
            v += e * e / 10_000.0;
            signal += f[k] * f[k] / 10_000.0;
        }
    }
    assert!(m.abs() < 0.01, "{m}"); // sd 0.002
    assert!((v - 0.04).abs() < 0.04 * 0.08, "{v}"); // relative sd 1.4 %
    assert!(
        signal > 0.05,
        "the teacher's output is not trivial: {signal}"
    );
}

#[test]
fn spectral_gaussian_covariance_spectrum_and_split() {
    let spectrum = vec![4.0, 2.0, 1.0, 0.5, 0.25, 0.1];
    let g = SpectralGaussian::new(
        spectrum.clone(),
        2,
        Basis::Random,
        SpectralTarget::Projection,
        &mut rng("structure"),
    )
    .unwrap();
    let u = g.basis();
    // U is orthogonal
    for i in 0..6 {
        for j in 0..6 {
            let dot: f64 = (0..6).map(|k| u[k * 6 + i] * u[k * 6 + j]).sum();
            assert!((dot - f64::from(u8::from(i == j))).abs() < 1e-12);
        }
    }
    assert_eq!(g.target_shape(), TargetShape::Real(2));
    let d = g.sample(20_000, &mut rng("samples"));
    let (mean, cov) = mean_cov(&d.features, 6);
    assert!(mean.iter().all(|m| m.abs() < 0.05), "{mean:?}"); // sd ≤ 0.014
    // the empirical covariance's eigenvalues are the spectrum (relative sd √(2/n) = 1 %)
    let (eig, _) = sym_eigen(&cov, 6).unwrap();
    for (e, l) in eig.iter().rev().zip(&spectrum) {
        assert!((e / l - 1.0).abs() < 0.06, "{eig:?}");
    }
    // and it matches U diag(λ) Uᵀ entrywise
    let c = g.covariance();
    for (a, b) in cov.iter().zip(&c) {
        assert!((a - b).abs() < 0.15, "{a} vs {b}");
    }
    // target y = U∥ᵀ x; x = x∥ + x⊥ with x∥ in span(U∥) and x⊥ orthogonal to it
    let Targets::Real { values, dim: 2 } = &d.targets else {
        panic!()
    };
    let (mut par, mut perp, mut z) = ([0.0; 6], [0.0; 6], [0.0; 6]);
    for i in 0..50 {
        let x = d.row(i);
        g.coordinates(x, &mut z);
        assert!((z[0] - values[2 * i]).abs() < 1e-12 && (z[1] - values[2 * i + 1]).abs() < 1e-12);
        g.split(x, &mut par, &mut perp);
        let mut zp = [0.0; 6];
        g.coordinates(&perp, &mut zp);
        assert!(zp[0].abs() < 1e-12 && zp[1].abs() < 1e-12);
        g.coordinates(&par, &mut zp);
        assert!(zp[2..].iter().all(|v| v.abs() < 1e-12));
        for k in 0..6 {
            assert!((par[k] + perp[k] - x[k]).abs() < 1e-12);
        }
    }
    // flat and power-law forms
    let f = SpectralGaussian::flat(
        5,
        2,
        1.0,
        0.3,
        Basis::Identity,
        SpectralTarget::None,
        &mut rng("s"),
    )
    .unwrap();
    assert_eq!(f.variances(), &[1.0, 1.0, 0.3, 0.3, 0.3]);
    assert_eq!(f.target_shape(), TargetShape::Real(0));
    let p = SpectralGaussian::power_law(
        4,
        1,
        2.0,
        1.0,
        Basis::Identity,
        SpectralTarget::None,
        &mut rng("s"),
    )
    .unwrap();
    assert_eq!(p.variances(), &[2.0, 1.0, 2.0 / 3.0, 0.5]);
    let e = SpectralGaussian::new(
        vec![1.0, f64::NAN],
        1,
        Basis::Identity,
        SpectralTarget::None,
        &mut rng("s"),
    )
    .unwrap_err();
    assert!(e.to_string().contains("gaussian.spectrum"), "{e}");
}

/// Classes × samples-per-class labels with one dummy feature.
fn labelled(classes: usize, per_class: usize) -> Dataset {
    let n = classes * per_class;
    Dataset::new(
        "labels",
        vec![0.0; n],
        1,
        Targets::Classes {
            labels: (0..n).map(|i| i / per_class).collect(),
            n_classes: classes,
        },
    )
    .unwrap()
}

#[test]
fn dirichlet_histogram_matches_alpha() {
    // client shares of each class are Dir(α·1_K): mean 1/K, variance (1/K)(1 − 1/K)/(Kα + 1)
    let data = labelled(400, 100);
    let k = 5;
    let mut previous = f64::INFINITY;
    for alpha in [0.1, 0.5, 5.0] {
        let p = Partition::dirichlet(&data, k, alpha, 0, &mut rng("partition")).unwrap();
        assert_eq!(p.attempts, 1);
        let mut seen = vec![false; data.len()];
        for (client, idx) in p.clients.iter().enumerate() {
            assert!(idx.windows(2).all(|w| w[0] < w[1]));
            for &i in idx {
                assert!(!seen[i], "sample {i} given twice");
                seen[i] = true;
            }
            assert_eq!(idx.len(), p.histogram[client].iter().sum::<usize>());
        }
        assert!(seen.iter().all(|s| *s), "every sample is assigned");
        let shares: Vec<f64> = (0..400)
            .flat_map(|c| {
                let col: Vec<usize> = p.histogram.iter().map(|h| h[c]).collect();
                assert_eq!(col.iter().sum::<usize>(), 100);
                col.into_iter().map(|m| m as f64 / 100.0)
            })
            .collect();
        let mean = shares.iter().sum::<f64>() / shares.len() as f64;
        let var = shares.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / shares.len() as f64;
        let expected = 0.2 * 0.8 / (k as f64 * alpha + 1.0);
        // mean is exactly 1/K (shares sum to 1 per class); variance within 15 % (its relative
        // sd over 2000 shares is ≤ 5 %, plus rounding of 1/12·100⁻² ≈ 8e-6)
        assert!((mean - 0.2).abs() < 1e-12);
        assert!(
            (var / expected - 1.0).abs() < 0.15,
            "α={alpha}: var {var} vs {expected}"
        );
        assert!(var < previous);
        previous = var;
    }
}

#[test]
fn dirichlet_min_size_retries_and_errors() {
    let data = labelled(10, 30);
    let p = Partition::dirichlet(&data, 10, 0.3, 10, &mut rng("partition")).unwrap();
    assert!(p.sizes().iter().all(|&s| s >= 10), "{:?}", p.sizes());
    assert!(p.attempts >= 1);
    let c0 = p.client_data(&data, 0);
    assert_eq!(c0.len(), p.sizes()[0]);
    assert_eq!(c0.name, "labels[client 0]");
    // same rng, same partition
    assert_eq!(
        p,
        Partition::dirichlet(&data, 10, 0.3, 10, &mut rng("partition")).unwrap()
    );
    let e = Partition::dirichlet(&data, 10, 0.0, 0, &mut rng("p")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value for 'partition.alpha': got 0, expected a finite number > 0"
    );
    let e = Partition::dirichlet(&data, 10, 0.3, 31, &mut rng("p")).unwrap_err();
    assert!(e.to_string().contains("partition.min_size"), "{e}");
    let e = Partition::dirichlet(&data, 10, 0.01, 29, &mut rng("p")).unwrap_err();
    assert!(e.to_string().contains("within 1000 Dirichlet"), "{e}");
    let real = Dataset::new(
        "r",
        vec![0.0; 3],
        1,
        Targets::Real {
            values: vec![0.0; 3],
            dim: 1,
        },
    )
    .unwrap();
    assert!(
        Partition::dirichlet(&real, 2, 1.0, 0, &mut rng("p"))
            .unwrap_err()
            .to_string()
            .contains("class labels")
    );
    let iid = Partition::iid(&data, 7, &mut rng("p")).unwrap();
    let sizes = iid.sizes();
    assert_eq!(sizes.iter().sum::<usize>(), 300);
    assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
}

#[test]
fn streams_draw_fresh_batches_in_place() {
    let spec = Spec::parse("teacher(dim=3, hidden=4, noise=0.1, seed=5)").unwrap();
    let mut s = Stream::from_spec(&spec, 8, rng("batches")).unwrap();
    let first = s.batch().clone();
    let ptr = s.batch().features.as_ptr();
    s.resample();
    // the first resample draws the batch shown before it
    assert_eq!(s.batch(), &first);
    s.resample();
    assert_ne!(s.batch().features, first.features);
    assert_eq!(s.batch().features.as_ptr(), ptr, "refilled in place");
    assert_eq!(s.resamples(), 2);
    // equal seeds give equal streams
    let mut t = Stream::from_spec(&spec, 8, rng("batches")).unwrap();
    t.resample();
    t.resample();
    assert_eq!(t.batch(), s.batch());
    // the stream's distribution is the spec's dataset's: a single-sample stream's mean of y²
    let mut one = Stream::from_spec(&spec, 1, rng("b2")).unwrap();
    let (g, _) = generator_from_spec(&spec).unwrap();
    let mut acc = 0.0;
    for _ in 0..4000 {
        one.resample();
        let Targets::Real { values, .. } = &one.batch().targets else {
            panic!()
        };
        acc += values[0] * values[0] / 4000.0;
    }
    let big = g.sample(20_000, &mut rng("big"));
    let Targets::Real { values, .. } = &big.targets else {
        panic!()
    };
    let ref_m2 = values.iter().map(|v| v * v).sum::<f64>() / 20_000.0;
    assert!((acc / ref_m2 - 1.0).abs() < 0.1, "{acc} vs {ref_m2}"); // relative sd ≈ 2.5 %
    assert!(Stream::new(g, 0, rng("x")).is_err());
}

#[test]
fn generators_as_dataset_specs() {
    let d = load_dataset("mixture(classes=3, dim=4, n=50, seed=2)").unwrap();
    assert_eq!((d.len(), d.n_features, d.n_classes()), (150, 4, Some(3)));
    assert_eq!(d.name, "mixture(classes=3, dim=4, n=50, seed=2)");
    assert_eq!(
        d,
        load_dataset("mixture(classes=3, dim=4, n=50, seed=2)").unwrap()
    );
    assert_ne!(
        d.features,
        load_dataset("mixture(classes=3, dim=4, n=50, seed=3)")
            .unwrap()
            .features
    );
    let t = load_dataset("teacher(dim=6, outputs=2, n=40)").unwrap();
    assert_eq!((t.len(), t.n_features, t.n_outputs()), (40, 6, 2));
    let g = load_dataset("gaussian(spectrum=[3,2,1], relevant=1, basis=identity, n=30)").unwrap();
    assert_eq!((g.len(), g.n_features, g.n_outputs()), (30, 3, 1));
    let p = load_dataset("gaussian(dim=8, relevant=3, power=1, n=10)").unwrap();
    assert_eq!((p.n_features, p.n_outputs()), (8, 3));

    let err = |s: &str| load_dataset(s).unwrap_err().to_string();
    assert_eq!(
        err("mixture(weights=[0.5, -1])"),
        "invalid value for 'mixture.weights': got [0.5, -1.0], expected a non-empty list of \
         finite weights >= 0 with a positive sum"
    );
    assert!(err("mixture(size=3)").contains("unknown key 'size'"));
    assert!(err("mixture(n=0)").contains("'mixture.n'"));
    assert!(err("teacher(act=sin)").contains("'teacher.act'"));
    assert!(err("gaussian(spectrum=[1,2], dim=3)").contains("'gaussian.dim'"));
    assert!(err("gaussian(spectrum=[1,2], power=1)").contains("one way"));
    assert!(err("gaussian(dim=3, relevant=4)").contains("'gaussian.relevant'"));
    assert!(err("mixture:x").contains("mixture(key=value"));
    assert!(matches!(
        dataset_from_spec(&Spec::named("nope")),
        Err(Error::UnknownName { .. })
    ));
}

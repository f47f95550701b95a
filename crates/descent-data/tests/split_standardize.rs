//! Seeded splits (sizes, determinism, stratification) and standardization fitted on the
//! training part.

use descent_core::{Error, RngStreams};
use descent_data::{Dataset, Standardizer, Targets, digits, iris, split, split_with, wine};

fn class_counts(d: &Dataset) -> Vec<usize> {
    let Targets::Classes { labels, n_classes } = &d.targets else {
        panic!("class targets expected")
    };
    let mut h = vec![0; *n_classes];
    labels.iter().for_each(|&l| h[l] += 1);
    h
}

#[test]
fn split_sizes_and_partition() {
    let d = wine().unwrap();
    let (train, test) = split(&d, 0.25, &mut RngStreams::new(0).stream("split")).unwrap();
    // round(0.25 · 178) = 45 (44.5 rounds away from zero)
    assert_eq!((train.len(), test.len()), (133, 45));
    // together the parts hold every sample exactly once
    let mut rows: Vec<Vec<u64>> = train
        .features
        .chunks(13)
        .chain(test.features.chunks(13))
        .map(|r| r.iter().map(|x| x.to_bits()).collect())
        .collect();
    let mut all: Vec<Vec<u64>> = d
        .features
        .chunks(13)
        .map(|r| r.iter().map(|x| x.to_bits()).collect())
        .collect();
    rows.sort();
    all.sort();
    assert_eq!(rows, all);
    // tiny fractions still leave a non-empty test part
    let (train, test) = split(&d, 1e-6, &mut RngStreams::new(0).stream("split")).unwrap();
    assert_eq!((train.len(), test.len()), (177, 1));
}

#[test]
fn same_seed_same_split_different_seed_different_split() {
    let d = digits().unwrap();
    let run = |seed| split(&d, 0.2, &mut RngStreams::new(seed).stream("split")).unwrap();
    assert_eq!(run(3), run(3));
    assert_ne!(run(3).1.features, run(4).1.features);
    let plain =
        |seed| split_with(&d, 0.2, false, &mut RngStreams::new(seed).stream("split")).unwrap();
    assert_eq!(plain(5), plain(5));
    assert_ne!(plain(5).1.features, plain(6).1.features);
}

#[test]
fn stratification_keeps_class_proportions_within_one_sample() {
    for (d, fraction) in [
        (digits().unwrap(), 0.2),
        (wine().unwrap(), 0.3),
        (iris().unwrap(), 0.1),
    ] {
        let all = class_counts(&d);
        for seed in 0..5 {
            let (train, test) =
                split(&d, fraction, &mut RngStreams::new(seed).stream("split")).unwrap();
            let n_test = test.len() as f64;
            for (c, (&k, &tr)) in class_counts(&test)
                .iter()
                .zip(&class_counts(&train))
                .enumerate()
            {
                let exact = all[c] as f64 * n_test / d.len() as f64;
                assert!(
                    (k as f64 - exact).abs() < 1.0,
                    "{} class {c}: {k} vs {exact}",
                    d.name
                );
                assert_eq!(k + tr, all[c]);
            }
        }
    }
}

#[test]
fn split_validation_names_the_field() {
    let d = iris().unwrap();
    let mut rng = RngStreams::new(0).stream("split");
    for bad in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
        let e = split(&d, bad, &mut rng).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidValue { field, .. } if field == "test_fraction"),
            "{e}"
        );
    }
    let one = d.subset(&[0]);
    assert!(split(&one, 0.5, &mut rng).is_err());
    let real = Dataset::new(
        "r",
        vec![1.0, 2.0, 3.0],
        1,
        Targets::Real {
            values: vec![0.0; 3],
            dim: 1,
        },
    )
    .unwrap();
    assert!(split_with(&real, 0.5, true, &mut rng).is_err());
    let (train, test) = split(&real, 0.5, &mut rng).unwrap();
    assert_eq!(train.len() + test.len(), 3);
}

#[test]
fn standardizer_fitted_on_train_gives_zero_mean_unit_std_there() {
    let d = digits().unwrap();
    let (mut train, mut test) = split(&d, 0.25, &mut RngStreams::new(1).stream("split")).unwrap();
    let s = Standardizer::fit(&train).unwrap();
    s.transform(&mut train).unwrap();
    s.transform(&mut test).unwrap();
    let n = train.len() as f64;
    let mut constant = 0;
    for j in 0..train.n_features {
        let col: Vec<f64> = (0..train.len()).map(|i| train.row(i)[j]).collect();
        let mean = col.iter().sum::<f64>() / n;
        let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 1e-12, "feature {j}: mean {mean}");
        if s.scale[j] == 1.0 && col.iter().all(|&x| x == 0.0) {
            constant += 1; // a constant column maps to exact zeros
        } else {
            assert!(
                (var.sqrt() - 1.0).abs() < 1e-12,
                "feature {j}: std {}",
                var.sqrt()
            );
        }
    }
    // digits has always-blank corner pixels (e.g. pixel 0), constant in any split
    assert!(constant >= 1);
    assert!(
        train
            .features
            .iter()
            .chain(&test.features)
            .all(|x| x.is_finite())
    );
    // the test part used the training statistics, not its own
    let s_test = Standardizer::fit(&test).unwrap();
    assert!(s_test.mean.iter().any(|m| m.abs() > 1e-3));
}

proptest::proptest! {
    /// For any labels, fraction and seed: the parts partition the samples, the test size is
    /// round(f·n) clamped to 1..n-1, and each class's test count is within one of its share.
    #[test]
    fn stratified_split_partitions_and_keeps_shares(
        labels in proptest::collection::vec(0usize..4, 2..120),
        fraction in 0.01f64..0.99,
        seed in 0u64..1000,
    ) {
        let n = labels.len();
        let features: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let n_classes = labels.iter().max().unwrap() + 1;
        let d = Dataset::new("p", features, 1, Targets::Classes { labels: labels.clone(), n_classes }).unwrap();
        let (train, test) = split(&d, fraction, &mut RngStreams::new(seed).stream("split")).unwrap();
        let n_test = ((fraction * n as f64).round() as usize).clamp(1, n - 1);
        proptest::prop_assert_eq!(test.len(), n_test);
        let mut ids: Vec<usize> = train.features.iter().chain(&test.features).map(|&x| x as usize).collect();
        ids.sort_unstable();
        proptest::prop_assert_eq!(ids, (0..n).collect::<Vec<_>>());
        let all = class_counts(&d);
        for (c, &k) in class_counts(&test).iter().enumerate() {
            let exact = all[c] as f64 * n_test as f64 / n as f64;
            proptest::prop_assert!((k as f64 - exact).abs() < 1.0);
        }
    }
}

//! The embedded UCI sets: shapes, class counts and known values from the original files.

use descent_data::{DATASETS, Targets, digits, iris, load_dataset, wine};

fn labels(t: &Targets) -> &[usize] {
    match t {
        Targets::Classes { labels, .. } => labels,
        Targets::Real { .. } => panic!("expected class targets"),
    }
}

fn histogram(t: &Targets, n_classes: usize) -> Vec<usize> {
    let mut h = vec![0; n_classes];
    labels(t).iter().for_each(|&l| h[l] += 1);
    h
}

#[test]
fn digits_shape_values_and_class_balance() {
    let d = digits().unwrap();
    assert_eq!((d.len(), d.n_features, d.n_classes()), (1797, 64, Some(10)));
    assert_eq!(d.name, "digits");
    // first image of the UCI file, a zero
    assert_eq!(&d.row(0)[..8], &[0.0, 0.0, 5.0, 13.0, 9.0, 1.0, 0.0, 0.0]);
    assert_eq!(labels(&d.targets)[..3], [0, 1, 2]);
    assert!(
        d.features
            .iter()
            .all(|&x| (0.0..=16.0).contains(&x) && x.fract() == 0.0)
    );
    let h = histogram(&d.targets, 10);
    assert_eq!(h.iter().sum::<usize>(), 1797);
    assert!(h.iter().all(|&c| (174..=183).contains(&c)), "{h:?}");
}

#[test]
fn iris_shape_and_known_rows() {
    let d = iris().unwrap();
    assert_eq!((d.len(), d.n_features, d.n_classes()), (150, 4, Some(3)));
    assert_eq!(d.row(0), &[5.1, 3.5, 1.4, 0.2]);
    assert_eq!(d.row(149), &[5.9, 3.0, 5.1, 1.8]);
    let l = labels(&d.targets);
    assert_eq!((l[0], l[149]), (0, 2));
    assert_eq!(histogram(&d.targets, 3), vec![50, 50, 50]);
}

#[test]
fn wine_shape_and_known_rows() {
    let d = wine().unwrap();
    assert_eq!((d.len(), d.n_features, d.n_classes()), (178, 13, Some(3)));
    assert_eq!(d.row(0)[0], 14.23);
    assert_eq!(d.row(0)[12], 1065.0);
    assert_eq!(histogram(&d.targets, 3), vec![59, 71, 48]);
}

#[test]
fn spec_names_build_the_embedded_sets() {
    assert_eq!(load_dataset("iris").unwrap(), iris().unwrap());
    assert_eq!(load_dataset(" digits ").unwrap().len(), 1797);
    let names: Vec<&str> = DATASETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names[..4], ["digits", "iris", "wine", "csv"]);
    assert!(DATASETS.iter().all(|(n, d)| !n.is_empty() && !d.is_empty()));
}

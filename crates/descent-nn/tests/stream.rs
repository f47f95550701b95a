//! An objective fed by a generator stream: each resample draws a fresh batch, the oracles agree
//! with a fixed-data objective on that same batch, and SGD on the stream learns the teacher.

use std::sync::Arc;

use descent_core::{Function, Gradient, Problem, RngStreams, Spec};
use descent_data::Stream;
use descent_nn::{Activation, Init, Loss, Mlp, Objective};

#[test]
fn streaming_objective_matches_fixed_data_and_learns() {
    let spec = Spec::parse("teacher(dim=4, hidden=0, noise=0.05, seed=3)").unwrap();
    let streams = RngStreams::new(1);
    let stream = Stream::from_spec(&spec, 16, streams.stream("batches")).unwrap();
    let model = Mlp::new(vec![4, 1], Activation::Identity, false).unwrap();
    let mut obj = Objective::streaming(model.clone(), stream, Loss::Mse).unwrap();
    assert!(!obj.is_full_batch());
    assert!(obj.name().contains("stream of teacher"), "{}", obj.name());
    let x = obj.init_params(Init::Xavier, &streams);
    let mut g = vec![0.0; x.len()];
    let mut g_ref = vec![0.0; x.len()];
    for _ in 0..3 {
        descent_core::resample_if_stochastic(&mut obj);
        let batch = Arc::new(obj.current_data().clone());
        let mut fixed = Objective::new(model.clone(), batch, Loss::Mse, 16, &streams).unwrap();
        let f = obj.value_grad(&x, &mut g);
        let f_ref = fixed.value_grad(&x, &mut g_ref);
        assert_eq!(f, f_ref);
        assert_eq!(g, g_ref);
    }
    assert_eq!(obj.stream().unwrap().resamples(), 3);

    // plain SGD, one fresh batch per step: the loss falls near the noise floor ½σ² = 0.00125
    let mut w = x.clone();
    let start = obj.value(&w);
    for _ in 0..400 {
        descent_core::resample_if_stochastic(&mut obj);
        obj.value_grad(&w, &mut g);
        w.iter_mut().zip(&g).for_each(|(a, b)| *a -= 0.2 * b);
    }
    let mut end = 0.0;
    for _ in 0..50 {
        descent_core::resample_if_stochastic(&mut obj);
        end += obj.value(&w) / 50.0;
    }
    assert!(end < 0.01 && end < start / 20.0, "{start} -> {end}");
}

//! The cost of a learning step (P1 §5 budgets about 0.22 µs per Oja step at n = 10): a
//! single-thread Oja run without probes, and the steps per second of the sweep's runs.

use std::time::Instant;

use descent_core::{Result, RngStreams};
use descent_data::generators::{Basis, SpectralGaussian, SpectralTarget};
use descent_nn::hebbian::{Oja, OnlineRule};
use serde_json::{Value, json};

use super::config::Config;
use super::simulate::Point;
use super::t1_t2_oja::OjaResult;
use super::t3_output_dim::OutputDimResult;
use super::t4_t6_models::ModelsResult;
use crate::report::{Claim, ClaimKind, num};

/// The single-thread measurement.
#[derive(Debug, Clone, Copy)]
pub struct SpeedResult {
    /// Steps timed.
    pub steps: u64,
    /// Mean wall time per step, ns.
    pub ns_per_step: f64,
}

/// Times `c.speed_steps` Oja steps at n = 10, m = 2, λ⊥ = 0.5 on one thread, sampling
/// included, with T1's η; the samples come from the run seed's `"speed"` stream.
pub fn measure(c: &Config, seed: u64) -> Result<SpeedResult> {
    let streams = RngStreams::new(seed);
    let data = SpectralGaussian::flat(
        10,
        2,
        1.0,
        0.5,
        Basis::Identity,
        SpectralTarget::None,
        &mut streams.stream("structure"),
    )?;
    let mut oja = Oja::new(10, 2)?;
    let mut w = oja.fixed_point(1.0)?;
    let mut rng = streams.sim("speed", 0);
    let mut x = [0.0; 10];
    let eta = c.t1_oja_var.eta;
    let t = Instant::now();
    for _ in 0..c.speed_steps {
        data.draw_with(&mut rng, &mut x, &mut []);
        oja.step(&mut w, &x, &[], eta);
    }
    std::hint::black_box(&w);
    Ok(SpeedResult {
        steps: c.speed_steps,
        ns_per_step: t.elapsed().as_secs_f64() * 1e9 / c.speed_steps.max(1) as f64,
    })
}

/// Reported (a timing): the single-thread Oja step costs at most 0.3 µs.
pub fn claims(r: &SpeedResult) -> Vec<Claim> {
    vec![Claim::at_most(
        "drift/oja-step-ns",
        &format!(
            "an Oja step at n = 10, m = 2 costs at most 0.3 µs: mean wall time per step of one \
             single-thread run of {} steps, sampling included",
            r.steps
        ),
        ClaimKind::Reported,
        r.ns_per_step,
        300.0,
    )]
}

/// Steps per second and ns per step: the single-thread run and one point of each model in the
/// sweep (the first point of T1, T4, T5, T6 and the largest m of T3).
pub fn table_rows(
    r: &SpeedResult,
    oja: &OjaResult,
    out_dim: &OutputDimResult,
    models: &ModelsResult,
) -> Vec<Vec<Value>> {
    let first = |p: &[Point]| p.first().map_or(f64::NAN, |q| q.steps_per_s);
    let last = |p: &[Point]| p.last().map_or(f64::NAN, |q| q.steps_per_s);
    [
        (
            "Oja n=10 m=2 (single thread, no probes)",
            1e9 / r.ns_per_step,
        ),
        ("Oja n=10 m=2 (in sweep)", first(&oja.var)),
        ("similarity matching n=10 m=2", first(&models.var[0])),
        ("autoencoder n=10 p=2", first(&models.var[1])),
        ("supervised n=10 k=2", first(&models.var[2])),
        ("Oja n=12 m=10", last(&out_dim.learning)),
        ("Oja n=12 m=10 + synaptic noise", last(&out_dim.synaptic)),
    ]
    .iter()
    .map(|(k, v)| vec![json!(k), num(*v), num(1e9 / v)])
    .collect()
}

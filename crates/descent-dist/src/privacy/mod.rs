//! Differential privacy for gradient methods, usable on one machine (DP-SGD) or per node of a
//! decentralized run (ADP-VRSGP, P9): what an Opacus user expects of a privacy engine.
//!
//! - [`clip`]: [`PerSampleClip`], per-sample clipping as an oracle adapter over any
//!   `PerSampleGradients` problem (norms, then one weighted gradient; no per-sample matrix).
//! - [`mechanism`]: [`PoissonSampler`], the Gaussian mechanism on the clipped sum
//!   ([`add_gaussian_noise`]) with streams keyed by (seed, node, iteration) ([`node_rng`]),
//!   and [`PrivateGradient`], the whole private gradient step with its own accountant.
//! - [`dpsgd`]: DP-SGD for any model on one machine: the `dp(epsilon=4, delta=1e-5, clip=1)`
//!   settings ([`DpSgdConfig`]), their resolved [`DpSchedule`], and [`DpSgdProblem`], a
//!   gradient problem whose every gradient is one accounted private release (what
//!   `descent train --privacy` runs any first-order optimizer on).
//! - [`accountant`]: [`RdpAccountant`] for the Poisson-subsampled Gaussian on orders
//!   {2..64, 128, 256}, heterogeneous stages, classic and improved (ε, δ) conversions with the
//!   optimal order, budgets, and [`calibrate`] (σ for a target ε, constant or γ-decaying).
//!
//! A one-machine DP-SGD loop:
//!
//! ```
//! # use descent_core::{Function, Gradient, PerSampleGradients, Layout};
//! use descent_dist::privacy::{Conversion, PrivateGradient, ReleaseSpec, calibrate, decaying_shape};
//! # /// ℓᵢ(x) = ½‖x − aᵢ‖² for 100 fixed points aᵢ.
//! # struct Points(Vec<[f64; 2]>);
//! # impl Function for Points {
//! #     fn dim(&self) -> usize { 2 }
//! #     fn value(&mut self, x: &[f64]) -> f64 { 0.0 }
//! # }
//! # impl Gradient for Points {
//! #     fn value_grad(&mut self, x: &[f64], g: &mut [f64]) -> f64 { let w = vec![1.0 / 100.0; 100]; self.weighted_grad(x, &w, g) }
//! # }
//! # impl PerSampleGradients for Points {
//! #     fn batch_len(&mut self) -> usize { self.0.len() }
//! #     fn per_sample_grad_norms(&mut self, x: &[f64], n: &mut [f64]) {
//! #         for (o, a) in n.iter_mut().zip(&self.0) { *o = ((x[0] - a[0]).powi(2) + (x[1] - a[1]).powi(2)).sqrt(); }
//! #     }
//! #     fn weighted_grad(&mut self, x: &[f64], w: &[f64], g: &mut [f64]) -> f64 {
//! #         g.fill(0.0);
//! #         for (wi, a) in w.iter().zip(&self.0) { g[0] += wi * (x[0] - a[0]); g[1] += wi * (x[1] - a[1]); }
//! #         0.0
//! #     }
//! # }
//! # let problem = Points((0..100).map(|i| [i as f64 / 50.0, 1.0]).collect());
//! // σ for ε = 2 at δ = 1e-5 after 300 steps with q = 0.1 (Opacus' get_noise_multiplier)
//! let shape = decaying_shape(0.1, &[300], 1.0).unwrap();
//! let sigma = calibrate(2.0, 1e-5, &shape, Conversion::Improved).unwrap().sigma0;
//! let mut dp = PrivateGradient::new(problem, 0.1, 42, 0).unwrap();
//! let (mut x, mut g) = (vec![0.0; 2], vec![0.0; 2]);
//! for _ in 0..300 {
//!     dp.release(&x, ReleaseSpec::private(1.0, sigma), &mut g).unwrap();
//!     x.iter_mut().zip(&g).for_each(|(x, g)| *x -= 0.5 * g);
//! }
//! let spent = dp.epsilon(1e-5, Conversion::Improved).unwrap();
//! assert!(spent.epsilon <= 2.0 && spent.epsilon > 1.99);
//! assert!((x[1] - 1.0).abs() < 0.5);
//! ```

pub mod accountant;
pub mod clip;
pub mod dpsgd;
pub mod mechanism;

pub use accountant::{
    Budget, Calibration, Conversion, Epsilon, RdpAccountant, Stage, calibrate, check_delta,
    check_multiplier, check_q, decaying_shape, default_orders, epsilon_floor, epsilon_from_rdp,
    epsilon_of_schedule, full_batch_epsilon_closed_form, full_batch_rdp, rdp_subsampled_gaussian,
};
pub use clip::{ClipStats, PerSampleClip};
pub use dpsgd::{DP_KEYS, DpSchedule, DpSgdConfig, DpSgdProblem};
pub use mechanism::{
    PoissonSampler, PrivateGradient, Release, ReleaseSpec, add_gaussian_noise, node_rng,
};

//! The configuration of `drift`: one [`Sweep`] per check of P1 §5 (λ∥ = 1 and basis U = I
//! throughout), the quick and full presets, and the validation that runs before any work.

use descent_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::experiment::PaperConfig;

/// A sweep over one model's hyperparameter.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Sweep {
    /// Input dimensions n (one per point for dimension sweeps, else one value).
    pub n: Vec<usize>,
    /// Code dimensions m (p for the autoencoder, k for the supervised net).
    pub m: Vec<usize>,
    /// Irrelevant variances λ⊥.
    pub var_irr: Vec<f64>,
    /// Learning rate η.
    pub eta: f64,
    /// Learning steps per run after burn-in.
    pub steps: u64,
    /// Window L of the rotation estimator, in steps.
    pub window: u64,
    /// Synaptic-noise standard deviation σ_syn (per-entry variance ησ² per step).
    pub sigma: f64,
}

impl Default for Sweep {
    fn default() -> Self {
        Sweep {
            n: vec![10],
            m: vec![2],
            var_irr: vec![0.5],
            eta: 0.01,
            steps: 10_000_000,
            window: 10_000,
            sigma: 0.0,
        }
    }
}

fn sweep(n: &[usize], m: &[usize], var_irr: &[f64], eta: f64, steps: u64) -> Sweep {
    Sweep {
        n: n.to_vec(),
        m: m.to_vec(),
        var_irr: var_irr.to_vec(),
        eta,
        steps,
        ..Sweep::default()
    }
}

/// The configuration of `drift` (P1 §5; λ∥ = 1 and basis U = I throughout). The default is
/// the quick preset.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Independent runs (seeds) per sweep point; D is their mean.
    pub seeds: usize,
    /// Burn-in steps from the analytic fixed point before measuring.
    pub burn_in: u64,
    /// Steps between snapshots of the relevant block.
    pub snapshot_every: u64,
    /// Batches of the batch-means standard error.
    pub batches: usize,
    /// T1: Oja, λ⊥ sweep (n = 10, m = 2, η = 0.01, 10⁷ steps).
    pub t1_oja_var: Sweep,
    /// T2: Oja, dimension sweep n ∈ {6, 10, 18} at λ⊥ = 0.5.
    pub t2_oja_dim: Sweep,
    /// T3a: Oja, learning noise, m sweep at n = 12, λ⊥ = 0.5.
    pub t3_learning_m: Sweep,
    /// T3b: Oja, synaptic noise only (λ⊥ = 0), m sweep at n = 12.
    pub t3_synaptic_m: Sweep,
    /// T4: similarity matching, λ⊥ sweep.
    pub t4_sm_var: Sweep,
    /// Similarity matching's lateral time constant τ.
    pub sm_tau: f64,
    /// T5: linear autoencoder, λ⊥ sweep (η = 0.02).
    pub t5_ae_var: Sweep,
    /// Autoencoder weight decay.
    pub ae_wd: f64,
    /// T6: supervised two-layer net, λ⊥ sweep (η = 0.025).
    pub t6_sup_var: Sweep,
    /// Supervised weight decay γ.
    pub sup_gamma: f64,
    /// Reported: n − m dependence of SM (λ⊥ = 0.6), AE (0.5) and the supervised net (1.0);
    /// `n` lists the extra dimensions, `steps` their run length.
    pub other_dims: Sweep,
    /// T7 (anisotropy, Oja m = 3 with relevant variances `t7_var_rel`); skipped when steps = 0.
    pub t7_aniso: Sweep,
    /// T7's distinct relevant variances λ_i.
    pub t7_var_rel: Vec<f64>,
    /// T7's synaptic-noise isotropy run (equal λ_i = 1, λ⊥ = 0); skipped when steps = 0.
    pub t7_synaptic: Sweep,
    /// Steps of the single-thread Oja speed measurement (n = 10, m = 2).
    pub speed_steps: u64,
}

impl Default for Config {
    fn default() -> Self {
        let syn = Sweep {
            sigma: 0.02,
            window: 2_500,
            ..sweep(&[12], &[2, 4, 6, 8, 10], &[0.0], 0.01, 2_500_000)
        };
        Config {
            seeds: 1,
            burn_in: 50_000,
            snapshot_every: 100,
            batches: 20,
            t1_oja_var: sweep(&[10], &[2], &[0.3, 0.4, 0.5, 0.6], 0.01, 10_000_000),
            t2_oja_dim: sweep(&[6, 10, 18], &[2], &[0.5], 0.01, 10_000_000),
            t3_learning_m: sweep(&[12], &[2, 4, 6, 8, 10], &[0.5], 0.01, 5_000_000),
            t3_synaptic_m: syn,
            t4_sm_var: sweep(&[10], &[2], &[0.3, 0.6], 0.01, 10_000_000),
            sm_tau: 1.0,
            t5_ae_var: sweep(&[10], &[2], &[0.3, 0.5, 0.7], 0.02, 10_000_000),
            ae_wd: 0.05,
            t6_sup_var: sweep(&[10], &[2], &[0.0, 0.5, 1.0], 0.025, 20_000_000),
            sup_gamma: 0.25,
            other_dims: sweep(&[6, 18], &[2], &[], 0.0, 5_000_000),
            t7_aniso: sweep(&[10], &[3], &[0.5], 0.01, 0),
            t7_var_rel: vec![4.0, 2.0, 1.0],
            t7_synaptic: Sweep {
                sigma: 0.02,
                window: 5_000,
                ..sweep(&[10], &[3], &[0.0], 0.01, 0)
            },
            speed_steps: 2_000_000,
        }
    }
}

impl Config {
    /// The sweeps by their config name, in the order the checks run them.
    fn sweeps(&self) -> [(&'static str, &Sweep); 10] {
        [
            ("t1_oja_var", &self.t1_oja_var),
            ("t2_oja_dim", &self.t2_oja_dim),
            ("t3_learning_m", &self.t3_learning_m),
            ("t3_synaptic_m", &self.t3_synaptic_m),
            ("t4_sm_var", &self.t4_sm_var),
            ("t5_ae_var", &self.t5_ae_var),
            ("t6_sup_var", &self.t6_sup_var),
            ("other_dims", &self.other_dims),
            ("t7_aniso", &self.t7_aniso),
            ("t7_synaptic", &self.t7_synaptic),
        ]
    }

    fn validate_t7(&self) -> Result<()> {
        let s7 = &self.t7_aniso;
        if s7.steps == 0 {
            return Ok(());
        }
        if self.t7_var_rel.len() < 2 {
            return Err(Error::invalid(
                "t7_var_rel",
                format!("{:?}", self.t7_var_rel),
                "at least two relevant variances (one per output dimension)",
            ));
        }
        if let Some(bad) = self
            .t7_var_rel
            .iter()
            .find(|v| v.is_nan() || **v <= s7.var_irr[0])
        {
            return Err(Error::invalid(
                "t7_var_rel",
                bad,
                format!("relevant variances above λ⊥ = {}", s7.var_irr[0]),
            ));
        }
        // T7's output dimension is the number of relevant variances, not t7_aniso.m
        check_dimensions("t7_aniso.n", &s7.n, &[self.t7_var_rel.len()])
    }
}

impl PaperConfig for Config {
    fn quick() -> Self {
        Config::default()
    }

    /// The spec's design with 3 seeds per point, T3's synaptic runs at the spec's 5·10⁶ steps
    /// and L = 5·10³, and T7.
    fn full() -> Self {
        let mut c = Config {
            seeds: 3,
            ..Default::default()
        };
        c.t3_synaptic_m.steps = 5_000_000;
        c.t3_synaptic_m.window = 5_000;
        c.t7_aniso.steps = 20_000_000;
        c.t7_synaptic.steps = 5_000_000;
        c
    }

    fn validate(&self) -> Result<()> {
        if self.seeds == 0 {
            return Err(Error::invalid("seeds", 0, "an integer >= 1"));
        }
        if self.snapshot_every == 0 {
            return Err(Error::invalid("snapshot_every", 0, "an integer >= 1"));
        }
        if self.batches < 2 {
            return Err(Error::invalid("batches", self.batches, "an integer >= 2"));
        }
        if self.speed_steps == 0 {
            return Err(Error::invalid("speed_steps", 0, "an integer >= 1"));
        }
        for (name, s) in self.sweeps() {
            check_sweep(name, s, self.snapshot_every)?;
        }
        for s in [&self.t4_sm_var, &self.t5_ae_var, &self.t6_sup_var] {
            check_dimensions("other_dims.n", &self.other_dims.n, &s.m)?;
        }
        if !(self.sm_tau > 0.0 && self.sm_tau.is_finite()) {
            return Err(Error::invalid("sm_tau", self.sm_tau, "a finite number > 0"));
        }
        // the balanced fixed points need s0² = 1 − wd > 0 and w² = 1 − γ > 0 (λ∥ = 1)
        for (field, v) in [("ae_wd", self.ae_wd), ("sup_gamma", self.sup_gamma)] {
            if !(0.0..1.0).contains(&v) {
                return Err(Error::invalid(field, v, "a weight decay in [0, 1)"));
            }
        }
        self.validate_t7()
    }
}

fn check_sweep(name: &str, s: &Sweep, snapshot_every: u64) -> Result<()> {
    if s.steps > 0 && (s.window == 0 || !s.window.is_multiple_of(snapshot_every)) {
        return Err(Error::invalid(
            format!("{name}.window"),
            s.window,
            format!("a positive multiple of snapshot_every = {snapshot_every}"),
        ));
    }
    if s.steps > 0 && s.steps < 20 * s.window {
        return Err(Error::invalid(
            format!("{name}.steps"),
            s.steps,
            format!("at least 20 windows ({} steps)", 20 * s.window),
        ));
    }
    if !(s.eta > 0.0 && s.eta < 0.5) && s.steps > 0 && name != "other_dims" {
        return Err(Error::invalid(
            format!("{name}.eta"),
            s.eta,
            "a learning rate in (0, 0.5)",
        ));
    }
    // other_dims only adds input dimensions to the T4–T6 sweeps (its m and λ⊥ are theirs)
    let lists: &[(&str, bool)] = if name == "other_dims" {
        &[]
    } else {
        &[
            ("n", s.n.is_empty()),
            ("m", s.m.is_empty()),
            ("var_irr", s.var_irr.is_empty()),
        ]
    };
    for (field, empty) in lists {
        if *empty {
            return Err(Error::invalid(
                format!("{name}.{field}"),
                "[]",
                "at least one value",
            ));
        }
    }
    if let Some(m) = s.m.iter().find(|m| **m == 0) {
        return Err(Error::invalid(
            format!("{name}.m"),
            m,
            "output dimensions >= 1",
        ));
    }
    check_dimensions(&format!("{name}.n"), &s.n, &s.m)
}

/// Every input dimension n must exceed every output dimension m (the drift is a rotation of
/// the m relevant directions inside n).
fn check_dimensions(field: &str, ns: &[usize], ms: &[usize]) -> Result<()> {
    let max_m = ms.iter().copied().max().unwrap_or(0);
    match ns.iter().find(|n| **n <= max_m) {
        Some(n) => Err(Error::invalid(
            field,
            n,
            format!("input dimensions above every output dimension m (max m = {max_m})"),
        )),
        None => Ok(()),
    }
}

//! Rényi-DP accounting of the Poisson-subsampled Gaussian mechanism (P9 §2.3), its conversion
//! to (ε, δ), and the calibration of the noise multiplier to a target ε.
//!
//! - One step with sampling rate q and noise multiplier σ (noise std ÷ clipping norm, on the
//!   sum of clipped per-sample gradients, add/remove-one adjacency) has, at integer order α ≥ 2
//!   (Mironov, Talwar, Zhang 2019),
//!   RDP(α) = log A_α / (α − 1),  A_α = Σ_{k=0}^{α} C(α,k) (1−q)^{α−k} q^k exp((k²−k)/(2σ²)).
//!   A_α − 1 is summed in log space from k = 2 (the k = 0, 1 terms cancel the 1 exactly), so
//!   the result is ≥ 0 and precise even when it is tiny (huge σ); at q = 1 the closed form
//!   α/(2σ²) is used.
//! - Steps compose by adding RDP order by order; stages with different (q, σ) are events of
//!   the history (consecutive equal events are merged, so 4 × 75 equal steps are exactly one
//!   stage of 300).
//! - Conversion to (ε, δ) at the best order of the grid, either
//!   [`Conversion::Classic`]: ε = min_α RDP(α) + log(1/δ)/(α−1) (Mironov 2017; the moments
//!   accountant), or [`Conversion::Improved`]: ε = min_α RDP(α) + log(1 − 1/α) −
//!   (log δ + log α)/(α−1) (Balle et al. 2020; what `dp-accounting` and Opacus report).
//!   Both are reported with the order that attains the minimum, so the gap between them (≈ 10 %,
//!   P9 pitfall 9) is visible.
//! - The order grid is {2, …, 64, 128, 256} ([`default_orders`]): integer orders are exact for
//!   the subsampled Gaussian (fractional orders near 1 are numerically fragile, P9 pitfall 10).
//!
//! Every input is validated: an error names the field, the value and the valid range.

use descent_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// The default order grid: 2..=64, 128 and 256.
pub fn default_orders() -> Vec<u32> {
    (2..=64).chain([128, 256]).collect()
}

/// Which RDP → (ε, δ) conversion to report (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Conversion {
    /// ε = RDP(α) + log(1/δ)/(α−1): older papers and the moments accountant.
    Classic,
    /// ε = RDP(α) + log(1 − 1/α) − (log δ + log α)/(α−1): `dp-accounting`, Opacus.
    #[default]
    Improved,
}

impl Conversion {
    /// Both conversions, classic first.
    pub const ALL: [Conversion; 2] = [Conversion::Classic, Conversion::Improved];

    /// Parses `classic` or `improved`.
    pub fn parse(text: &str) -> Result<Conversion> {
        match text {
            "classic" => Ok(Conversion::Classic),
            "improved" => Ok(Conversion::Improved),
            other => Err(Error::unknown_name(
                "RDP conversion",
                other,
                &["classic", "improved"],
            )),
        }
    }

    /// ε at one order from the composed RDP at that order.
    pub fn epsilon_at(self, rdp: f64, order: f64, delta: f64) -> f64 {
        let eps = match self {
            Conversion::Classic => rdp + (1.0 / delta).ln() / (order - 1.0),
            Conversion::Improved => {
                rdp + (-1.0 / order).ln_1p() - (delta.ln() + order.ln()) / (order - 1.0)
            }
        };
        eps.max(0.0)
    }
}

impl std::fmt::Display for Conversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conversion::Classic => "classic",
            Conversion::Improved => "improved",
        })
    }
}

/// `steps` releases of the Poisson-subsampled Gaussian mechanism with sampling rate `q` and
/// noise multiplier `noise_multiplier` (std ÷ clipping norm): one stage of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// q: the Poisson sampling rate of each release, in (0, 1].
    pub q: f64,
    /// σ: noise std ÷ clipping norm.
    pub noise_multiplier: f64,
    /// Number of releases in the stage.
    pub steps: u64,
}

impl Stage {
    /// A validated stage.
    pub fn new(q: f64, noise_multiplier: f64, steps: u64) -> Result<Stage> {
        let s = Stage {
            q,
            noise_multiplier,
            steps,
        };
        s.validate("")?;
        Ok(s)
    }

    /// Checks q ∈ (0, 1], σ ≥ 0 (not NaN) and steps ≥ 1; field names get `prefix`
    /// (e.g. `"stages[2]."`).
    pub fn validate(&self, prefix: &str) -> Result<()> {
        check_q(&format!("{prefix}q"), self.q)?;
        check_multiplier(&format!("{prefix}noise_multiplier"), self.noise_multiplier)?;
        if self.steps == 0 {
            return Err(Error::invalid(
                format!("{prefix}steps"),
                0,
                "at least 1 step",
            ));
        }
        Ok(())
    }

    /// The RDP of this whole stage at integer order `order` ≥ 2.
    pub fn rdp(&self, order: u32) -> f64 {
        let per_step = rdp_subsampled_gaussian(self.q, self.noise_multiplier, order);
        if per_step == 0.0 {
            0.0
        } else {
            per_step * self.steps as f64
        }
    }
}

/// Checks a sampling rate: q ∈ (0, 1].
pub fn check_q(field: &str, q: f64) -> Result<f64> {
    if q > 0.0 && q <= 1.0 {
        Ok(q)
    } else {
        Err(Error::invalid(field, q, "a sampling rate in (0, 1]"))
    }
}

/// Checks a noise multiplier: σ ≥ 0 (0 = no noise, infinite ε; +∞ = no privacy cost).
pub fn check_multiplier(field: &str, sigma: f64) -> Result<f64> {
    if sigma >= 0.0 {
        Ok(sigma)
    } else {
        Err(Error::invalid(
            field,
            sigma,
            "a noise multiplier >= 0 (noise std / clipping norm)",
        ))
    }
}

/// Checks δ ∈ (0, 1).
pub fn check_delta(delta: f64) -> Result<f64> {
    if delta > 0.0 && delta < 1.0 {
        Ok(delta)
    } else {
        Err(Error::invalid("delta", delta, "a number in (0, 1)"))
    }
}

/// log C(α, k) for k = 0..=α, by the running product (exact to rounding for α ≤ 256).
fn log_binomials(order: u32) -> impl Iterator<Item = f64> {
    let a = order as f64;
    (0..=order).scan(0.0f64, move |lc, k| {
        if k > 0 {
            *lc += (a - k as f64 + 1.0).ln() - (k as f64).ln();
        }
        Some(*lc)
    })
}

/// log(eᶜ − 1) for c > 0, without overflow for large c.
fn ln_expm1(c: f64) -> f64 {
    if c > 30.0 {
        c + (-(-c).exp()).ln_1p()
    } else {
        c.exp_m1().ln()
    }
}

/// log(1 + eˣ), stable both ways.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// RDP at integer order `order` ≥ 2 of ONE step of the Poisson-subsampled Gaussian mechanism
/// with rate `q` ∈ (0, 1] and noise multiplier `sigma` ≥ 0 (callers validate; σ = 0 gives +∞).
pub fn rdp_subsampled_gaussian(q: f64, sigma: f64, order: u32) -> f64 {
    debug_assert!(order >= 2);
    if sigma == 0.0 {
        return f64::INFINITY;
    }
    if sigma.is_infinite() {
        return 0.0;
    }
    if q == 1.0 {
        return order as f64 / (2.0 * sigma * sigma);
    }
    let (lq, l1q) = (q.ln(), (-q).ln_1p());
    let inv = 1.0 / (2.0 * sigma * sigma);
    // log(A − 1) = logsumexp_{k ≥ 2} [log C(α,k) + (α−k) log(1−q) + k log q + log(e^{c_k} − 1)]
    let mut terms = [0.0f64; 257];
    let mut len = 0;
    for (k, lc) in log_binomials(order).enumerate().skip(2) {
        let kf = k as f64;
        let c = (kf * kf - kf) * inv;
        terms[len] = lc + (order as f64 - kf) * l1q + kf * lq + ln_expm1(c);
        len += 1;
    }
    let terms = &terms[..len];
    let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::INFINITY {
        return f64::INFINITY;
    }
    let log_a_minus_1 = m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln();
    softplus(log_a_minus_1) / (order as f64 - 1.0)
}

/// RDP at a continuous order α > 1 of `stages` of the full-batch (q = 1) Gaussian mechanism:
/// Σ_s steps_s · α/(2σ_s²). Errors when a stage is subsampled (no closed form there).
pub fn full_batch_rdp(stages: &[Stage], alpha: f64) -> Result<f64> {
    if alpha.is_nan() || alpha <= 1.0 {
        return Err(Error::invalid("order", alpha, "a Rényi order > 1"));
    }
    let mut rho = 0.0;
    for (i, s) in stages.iter().enumerate() {
        s.validate(&format!("stages[{i}]."))?;
        if s.q != 1.0 {
            return Err(Error::invalid(
                format!("stages[{i}].q"),
                s.q,
                "1 (the continuous-order closed form is for the full-batch Gaussian)",
            ));
        }
        rho += s.steps as f64 / (2.0 * s.noise_multiplier * s.noise_multiplier);
    }
    Ok(rho * alpha)
}

/// The classic conversion minimised over CONTINUOUS orders for full-batch stages:
/// ε = ρ + 2√(ρ log(1/δ)) with ρ = Σ steps/(2σ²), attained at α* = 1 + √(log(1/δ)/ρ)
/// (P9 §3 item 4). Returns (ε, α*).
pub fn full_batch_epsilon_closed_form(stages: &[Stage], delta: f64) -> Result<(f64, f64)> {
    check_delta(delta)?;
    let rho = full_batch_rdp(stages, 2.0)? / 2.0;
    let l = (1.0 / delta).ln();
    Ok((rho + 2.0 * (rho * l).sqrt(), 1.0 + (l / rho).sqrt()))
}

/// An (ε, δ) guarantee and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Epsilon {
    /// ε (natural-log units, as in every DP paper).
    pub epsilon: f64,
    /// δ, the failure probability the ε holds at.
    pub delta: f64,
    /// The order of the grid that attains the minimum.
    pub order: u32,
    /// The RDP → (ε, δ) conversion that produced it.
    pub conversion: Conversion,
}

/// ε from composed RDP values on `orders` (same length): the minimum over the grid; ties go
/// to the smaller order; all-infinite RDP gives ε = +∞ at the first order.
pub fn epsilon_from_rdp(
    orders: &[u32],
    rdp: &[f64],
    delta: f64,
    conversion: Conversion,
) -> Result<Epsilon> {
    check_delta(delta)?;
    if orders.len() != rdp.len() || orders.is_empty() {
        return Err(Error::shape(
            "RDP values per order",
            orders.len(),
            rdp.len(),
        ));
    }
    let mut best = Epsilon {
        epsilon: f64::INFINITY,
        delta,
        order: orders[0],
        conversion,
    };
    for (&a, &r) in orders.iter().zip(rdp) {
        let e = conversion.epsilon_at(r, a as f64, delta);
        if e < best.epsilon {
            best.epsilon = e;
            best.order = a;
        }
    }
    Ok(best)
}

/// A privacy budget (ε, δ), validated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// ε > 0.
    pub epsilon: f64,
    /// δ in (0, 1).
    pub delta: f64,
}

impl Budget {
    /// A budget with ε > 0 finite and δ ∈ (0, 1).
    pub fn new(epsilon: f64, delta: f64) -> Result<Budget> {
        check_target(epsilon)?;
        check_delta(delta)?;
        Ok(Budget { epsilon, delta })
    }
}

fn check_target(epsilon: f64) -> Result<f64> {
    if epsilon > 0.0 && epsilon.is_finite() {
        Ok(epsilon)
    } else {
        Err(Error::invalid(
            "target_epsilon",
            epsilon,
            "a finite number > 0",
        ))
    }
}

/// The RDP accountant of one data holder (one node): the history of subsampled-Gaussian
/// releases, composed on an order grid. Plain data (serde), so it checkpoints with the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdpAccountant {
    orders: Vec<u32>,
    history: Vec<Stage>,
}

impl Default for RdpAccountant {
    fn default() -> Self {
        RdpAccountant::new()
    }
}

impl RdpAccountant {
    /// An empty accountant on the default grid {2..64, 128, 256}.
    pub fn new() -> RdpAccountant {
        RdpAccountant {
            orders: default_orders(),
            history: Vec::new(),
        }
    }

    /// An empty accountant on a custom grid of integer orders (each in 2..=256; sorted and
    /// de-duplicated here).
    pub fn with_orders(mut orders: Vec<u32>) -> Result<RdpAccountant> {
        orders.sort_unstable();
        orders.dedup();
        if orders.is_empty() {
            return Err(Error::invalid("orders", "[]", "at least one order"));
        }
        if let Some(&bad) = orders.iter().find(|&&a| !(2..=256).contains(&a)) {
            return Err(Error::invalid("orders", bad, "integer orders in 2..=256"));
        }
        Ok(RdpAccountant {
            orders,
            history: Vec::new(),
        })
    }

    /// The order grid.
    pub fn orders(&self) -> &[u32] {
        &self.orders
    }

    /// The composed events, consecutive equal (q, σ) merged.
    pub fn history(&self) -> &[Stage] {
        &self.history
    }

    /// Total releases recorded.
    pub fn steps(&self) -> u64 {
        self.history.iter().map(|s| s.steps).sum()
    }

    /// Records one release with rate `q` and multiplier `noise_multiplier`.
    pub fn step(&mut self, q: f64, noise_multiplier: f64) -> Result<()> {
        self.compose(Stage::new(q, noise_multiplier, 1)?)
    }

    /// Records a stage of releases (merged into the last event when q and σ are equal).
    pub fn compose(&mut self, stage: Stage) -> Result<()> {
        stage.validate("")?;
        match self.history.last_mut() {
            Some(last) if last.q == stage.q && last.noise_multiplier == stage.noise_multiplier => {
                last.steps += stage.steps
            }
            _ => self.history.push(stage),
        }
        Ok(())
    }

    /// Records every stage of a schedule (errors name the stage).
    pub fn compose_schedule(&mut self, stages: &[Stage]) -> Result<()> {
        for (i, s) in stages.iter().enumerate() {
            s.validate(&format!("stages[{i}]."))?;
        }
        for s in stages {
            self.compose(*s)?;
        }
        Ok(())
    }

    /// Composed RDP at every order of the grid.
    pub fn rdp(&self) -> Vec<f64> {
        self.orders
            .iter()
            .map(|&a| self.history.iter().map(|s| s.rdp(a)).sum())
            .collect()
    }

    /// The (ε, δ) guarantee of everything recorded. Before any release nothing has been
    /// revealed: ε = 0 (the conversion's δ-term would otherwise report the grid's floor).
    pub fn epsilon(&self, delta: f64, conversion: Conversion) -> Result<Epsilon> {
        let e = epsilon_from_rdp(&self.orders, &self.rdp(), delta, conversion)?;
        if self.history.is_empty() {
            return Ok(Epsilon {
                epsilon: 0.0,
                order: self.orders[0],
                ..e
            });
        }
        Ok(e)
    }

    /// Both conversions (classic, improved): the bracket users want to see, not one number.
    pub fn epsilon_bracket(&self, delta: f64) -> Result<[Epsilon; 2]> {
        Ok([
            self.epsilon(delta, Conversion::Classic)?,
            self.epsilon(delta, Conversion::Improved)?,
        ])
    }

    /// True when recording `next` would take ε above `budget` (Flower's "would this round
    /// exceed the budget").
    pub fn would_exceed(
        &self,
        next: Stage,
        budget: Budget,
        conversion: Conversion,
    ) -> Result<bool> {
        let mut after = self.clone();
        after.compose(next)?;
        Ok(after.epsilon(budget.delta, conversion)?.epsilon > budget.epsilon)
    }
}

/// ε of a schedule of stages on the default grid.
pub fn epsilon_of_schedule(
    stages: &[Stage],
    delta: f64,
    conversion: Conversion,
) -> Result<Epsilon> {
    if stages.is_empty() {
        return Err(Error::invalid("stages", "[]", "at least one stage"));
    }
    let mut acc = RdpAccountant::new();
    acc.compose_schedule(stages)?;
    acc.epsilon(delta, conversion)
}

/// The smallest ε the grid can certify at `delta` even with infinite noise (RDP = 0): targets
/// at or below it are unreachable.
pub fn epsilon_floor(orders: &[u32], delta: f64, conversion: Conversion) -> f64 {
    orders
        .iter()
        .map(|&a| conversion.epsilon_at(0.0, a as f64, delta))
        .fold(f64::INFINITY, f64::min)
}

/// The result of [`calibrate`]: the base multiplier σ₀ and the ε it achieves (≤ the target).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// σ₀: stage s gets noise multiplier σ₀ · shape_s.
    pub sigma0: f64,
    /// The calibrated schedule (multipliers σ₀ · shape_s).
    pub stages: Vec<Stage>,
    /// Its guarantee (≤ the target, within the bisection's tolerance of it).
    pub epsilon: Epsilon,
    /// The ε the calibration aimed at.
    pub target: f64,
}

/// Calibrates σ₀ so that the schedule whose stage s has multiplier σ₀ · `shape[s].noise_multiplier`
/// (rates and lengths as in `shape`) spends at most `target` ε at `delta`: bisection on σ₀
/// (ε is decreasing in σ₀) to a relative width of 1e-12, returning the upper end, so
/// ε ≤ target always holds. Opacus' `get_noise_multiplier` for one constant stage; a
/// γ-decaying schedule is the shape (1, γ, γ², …) ([`decaying_shape`]).
///
/// Errors: an invalid stage (named by index; shape factors must be > 0), δ outside (0, 1), a
/// non-positive target, and a target the grid cannot certify even with infinite noise
/// ([`epsilon_floor`]).
pub fn calibrate(
    target: f64,
    delta: f64,
    shape: &[Stage],
    conversion: Conversion,
) -> Result<Calibration> {
    check_target(target)?;
    check_delta(delta)?;
    if shape.is_empty() {
        return Err(Error::invalid("stages", "[]", "at least one stage"));
    }
    for (i, s) in shape.iter().enumerate() {
        s.validate(&format!("stages[{i}]."))?;
        if !(s.noise_multiplier > 0.0 && s.noise_multiplier.is_finite()) {
            return Err(Error::invalid(
                format!("stages[{i}].noise_multiplier"),
                s.noise_multiplier,
                "a finite relative noise factor > 0 in a calibration shape",
            ));
        }
    }
    let orders = default_orders();
    let floor = epsilon_floor(&orders, delta, conversion);
    if target <= floor {
        return Err(Error::invalid(
            "target_epsilon",
            target,
            format!(
                "a value above {floor:.6}: the smallest ε that orders 2..256 certify at δ = \
                 {delta} ({conversion} conversion), even with infinite noise; this target is \
                 unreachable"
            ),
        ));
    }
    let scaled = |sigma0: f64| -> Vec<Stage> {
        shape
            .iter()
            .map(|s| Stage {
                noise_multiplier: sigma0 * s.noise_multiplier,
                ..*s
            })
            .collect()
    };
    let eps = |sigma0: f64| -> Result<f64> {
        Ok(epsilon_of_schedule(&scaled(sigma0), delta, conversion)?.epsilon)
    };
    // bracket: eps(lo) > target >= eps(hi)
    let mut hi = 1.0;
    while eps(hi)? > target {
        hi *= 2.0;
        if hi > 1e12 {
            return Err(Error::invalid(
                "target_epsilon",
                target,
                format!(
                    "a target reachable with a noise multiplier below 1e12 (ε at σ₀ = 1e12 is \
                     still {:.6}; δ = {delta}, {conversion} conversion)",
                    eps(hi)?
                ),
            ));
        }
    }
    let mut lo = hi / 2.0;
    while eps(lo)? <= target {
        hi = lo;
        lo /= 2.0;
        if lo < 1e-12 {
            // even a vanishing multiplier meets the target: the smallest bracket end
            break;
        }
    }
    for _ in 0..200 {
        if (hi - lo) <= 1e-12 * hi {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if eps(mid)? > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let stages = scaled(hi);
    let epsilon = epsilon_of_schedule(&stages, delta, conversion)?;
    Ok(Calibration {
        sigma0: hi,
        stages,
        epsilon,
        target,
    })
}

/// The calibration shape of a γ-decaying schedule: stage s has rate `q`, `stage_steps[s]`
/// steps and relative multiplier γ^s (γ = 1: constant noise).
pub fn decaying_shape(q: f64, stage_steps: &[u64], gamma: f64) -> Result<Vec<Stage>> {
    if !(gamma > 0.0 && gamma.is_finite()) {
        return Err(Error::invalid(
            "noise_decay",
            gamma,
            "a finite decay factor γ > 0 (σ_s = σ₀·γ^s)",
        ));
    }
    check_q("q", q)?;
    if stage_steps.is_empty() {
        return Err(Error::invalid("stage_steps", "[]", "at least one stage"));
    }
    stage_steps
        .iter()
        .enumerate()
        .map(|(s, &t)| {
            let st = Stage {
                q,
                noise_multiplier: gamma.powi(s as i32),
                steps: t,
            };
            st.validate(&format!("stages[{s}]."))?;
            Ok(st)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdp_at_q_one_is_the_gaussian_closed_form_and_grows_with_q() {
        for a in [2u32, 7, 64, 256] {
            assert_eq!(rdp_subsampled_gaussian(1.0, 3.0, a), a as f64 / 18.0);
            // q → 1 from below approaches the closed form
            let near = rdp_subsampled_gaussian(1.0 - 1e-9, 3.0, a);
            assert!(
                (near - a as f64 / 18.0).abs() < 1e-6 * a as f64,
                "{a}: {near}"
            );
        }
        let r: Vec<f64> = [0.01, 0.1, 0.5, 0.9]
            .iter()
            .map(|&q| rdp_subsampled_gaussian(q, 1.5, 16))
            .collect();
        assert!(r.windows(2).all(|w| w[0] < w[1]), "{r:?}");
        // tiny but positive for enormous noise: A − 1 is summed without cancellation
        let t = rdp_subsampled_gaussian(0.2, 1e6, 2);
        let exact = 0.04 * (1.0f64 / 1e12).exp_m1(); // α = 2: log(1 + q²(e^{1/σ²} − 1))
        assert!((t - exact).abs() < 1e-12 * exact, "{t} vs {exact}");
        assert_eq!(rdp_subsampled_gaussian(0.3, 0.0, 4), f64::INFINITY);
        assert_eq!(rdp_subsampled_gaussian(0.3, f64::INFINITY, 4), 0.0);
        // order 2 closed form: log(1 + q²(e^{1/σ²} − 1))
        let (q, s) = (0.3f64, 0.9f64);
        let two = (q * q * (1.0 / (s * s)).exp_m1()).ln_1p();
        assert!((rdp_subsampled_gaussian(q, s, 2) - two).abs() < 1e-15);
    }

    #[test]
    fn equal_consecutive_events_merge_and_both_conversions_are_reported() {
        let mut a = RdpAccountant::new();
        for _ in 0..4 {
            a.compose(Stage::new(0.2, 2.0, 75).unwrap()).unwrap();
        }
        a.step(0.2, 2.5).unwrap();
        assert_eq!(a.history().len(), 2);
        assert_eq!(a.steps(), 301);
        let [c, i] = a.epsilon_bracket(1e-5).unwrap();
        assert!(i.epsilon < c.epsilon);
        assert_eq!(
            RdpAccountant::new()
                .epsilon(1e-5, Conversion::Improved)
                .unwrap()
                .epsilon,
            0.0
        );
        // checkpoint: the accountant is plain data and round-trips through JSON
        let json = serde_json::to_string(&a).unwrap();
        let back: RdpAccountant = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a);
        assert_eq!(back.epsilon(1e-5, Conversion::Classic).unwrap(), c);
    }
}

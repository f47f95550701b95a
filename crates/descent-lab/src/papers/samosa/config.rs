//! The typed configuration of the `samosa` experiment: the synthetic pool of P2 §5.1, the loop
//! of §5.2, check 5's typicality runs and the digits variant of §5.5, with the quick preset
//! (8 derived seeds, what CI runs) and the full preset (16 seeds).

use descent_active::{ActiveConfig, parse_strategy};
use descent_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::pool::{digits_task, synthetic};
use crate::experiment::PaperConfig;

/// The synthetic open-set pool (§5.1): K known and U unknown Gaussian-mixture classes, each of
/// three sub-clusters weighted 0.7 / 0.2 / 0.1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolConfig {
    /// K, known classes (the first K classes of the mixture).
    pub known: usize,
    /// U, unknown classes.
    pub unknown: usize,
    /// Feature dimension d.
    pub dim: usize,
    /// Class centres are N(0, I) draws rescaled to norm sep·√d/2.
    pub sep: f64,
    /// Sub-cluster centres are μ_c + spread·N(0, I).
    pub spread: f64,
    /// A sample is its sub-cluster centre plus noise·N(0, I).
    pub noise: f64,
    /// Sub-cluster weights; the first is the typical mode, the last the atypical one.
    pub weights: Vec<f64>,
    /// Pool samples per known class.
    pub per_known: usize,
    /// Pool samples per unknown class.
    pub per_unknown: usize,
    /// Test samples per known class (the test set has known classes only).
    pub test_per_class: usize,
    /// The pool of seed s is drawn from data seed `data_seed_offset + s`.
    pub data_seed_offset: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            known: 5,
            unknown: 10,
            dim: 10,
            sep: 2.0,
            spread: 1.0,
            noise: 1.5,
            weights: vec![0.7, 0.2, 0.1],
            per_known: 400,
            per_unknown: 300,
            test_per_class: 500,
            data_seed_offset: 1000,
        }
    }
}

/// Check 5: a K-way SGD and a K-way SAM model on random known samples; SAMIS-P on the rest of
/// the known pool by sub-cluster, and against the SGD model's margin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TypicalityConfig {
    /// Labelled known samples the two models train on.
    pub labelled: usize,
    /// Derived seeds (pools).
    pub seeds: usize,
    /// SAM's radius ρ for the SAM model.
    pub rho: f64,
}

impl Default for TypicalityConfig {
    fn default() -> Self {
        TypicalityConfig {
            labelled: 200,
            seeds: 6,
            rho: 0.05,
        }
    }
}

/// The digits variant (§5.5, uncalibrated in the spec; reported).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigitsConfig {
    /// Run it at all.
    pub enabled: bool,
    /// The known-class sets, one case each (digits 0–4: 50 % of classes known; 0–3: 40 %).
    pub known_sets: Vec<Vec<usize>>,
    /// Initial labelled set as a fraction of the pool's known samples (2 %).
    pub initial_fraction: f64,
    /// Samples queried per round.
    pub budget: usize,
    /// Query rounds.
    pub rounds: usize,
    /// Derived seeds per case.
    pub seeds: usize,
    /// Fraction of the 1797 digits held out as the test set (stratified, by the data seed).
    pub test_fraction: f64,
    /// Strategies run on every case.
    pub strategies: Vec<String>,
}

impl Default for DigitsConfig {
    fn default() -> Self {
        DigitsConfig {
            enabled: true,
            known_sets: vec![vec![0, 1, 2, 3, 4], vec![0, 1, 2, 3]],
            initial_fraction: 0.02,
            budget: 30,
            rounds: 8,
            seeds: 8,
            test_fraction: 0.2,
            strategies: ["random", "entropy", "samosa", "samosa(filter=false)"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// The experiment's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The synthetic open-set pool.
    pub pool: PoolConfig,
    /// The loop (§5.2): initial set, budget, rounds, and the recipe of every fresh model.
    pub active: ActiveConfig,
    /// Derived seeds of the comparison (run seed s uses seeds 8s … 8s + 7 for 8 seeds).
    pub seeds: usize,
    /// The strategies compared; must include those the claims judge ([`REQUIRED`]).
    pub strategies: Vec<String>,
    /// Check 5 (typicality scores).
    pub typicality: TypicalityConfig,
    /// The digits variant.
    pub digits: DigitsConfig,
}

/// The strategies the claims judge, as their canonical spec text.
pub const REQUIRED: [&str; 7] = [
    "random",
    "samosa",
    "samosa(filter=false)",
    "samosa(order=low)",
    "entropy",
    "samosa(pair=sgd)",
    "samosa(init=shared)",
];

impl Default for Config {
    fn default() -> Self {
        let mut strategies: Vec<String> = REQUIRED.iter().map(|s| s.to_string()).collect();
        strategies.extend(["margin", "least_confidence", "coreset"].map(String::from));
        Config {
            pool: PoolConfig::default(),
            active: ActiveConfig::default(),
            seeds: 8,
            strategies,
            typicality: TypicalityConfig::default(),
            digits: DigitsConfig::default(),
        }
    }
}

/// The `n` seeds derived from run seed `s`: `n·s … n·s + n − 1`, so run seeds 0, 1, 2 judge
/// disjoint sets of seeds.
pub fn derived_seeds(run_seed: u64, n: usize) -> Vec<u64> {
    (0..n as u64)
        .map(|k| run_seed.wrapping_mul(n as u64).wrapping_add(k))
        .collect()
}

/// A library error with its field renamed into the config's namespace (`budget` →
/// `active.budget`).
fn in_section(section: &str, e: Error) -> Error {
    match e {
        Error::InvalidValue {
            field,
            value,
            expected,
        } => Error::InvalidValue {
            field: format!("{section}.{field}"),
            value,
            expected,
        },
        other => other,
    }
}

fn at_least_one(fields: &[(&str, usize)]) -> Result<()> {
    match fields.iter().find(|(_, v)| *v == 0) {
        Some((f, _)) => Err(Error::invalid(*f, 0, "an integer >= 1")),
        None => Ok(()),
    }
}

impl PaperConfig for Config {
    fn quick() -> Self {
        Config::default()
    }

    fn full() -> Self {
        let mut c = Config {
            seeds: 16,
            ..Config::default()
        };
        c.typicality.seeds = 12;
        c.digits.seeds = 16;
        c.digits
            .strategies
            .extend(["samosa(pair=sgd)", "margin", "coreset"].map(String::from));
        c
    }

    fn validate(&self) -> Result<()> {
        let p = &self.pool;
        at_least_one(&[
            ("pool.known", p.known),
            ("pool.dim", p.dim),
            ("pool.per_known", p.per_known),
            ("pool.test_per_class", p.test_per_class),
            ("seeds", self.seeds),
            ("typicality.labelled", self.typicality.labelled),
            ("typicality.seeds", self.typicality.seeds),
        ])?;
        if p.known < 2 {
            return Err(Error::invalid("pool.known", p.known, "an integer >= 2"));
        }
        let pool = synthetic(p, 0)?;
        self.active
            .validate(&pool.task)
            .map_err(|e| in_section("active", e))?;
        if !(self.typicality.rho.is_finite() && self.typicality.rho >= 0.0) {
            return Err(Error::invalid(
                "typicality.rho",
                self.typicality.rho,
                "a finite number >= 0",
            ));
        }
        if self.typicality.labelled >= p.known * p.per_known {
            return Err(Error::invalid(
                "typicality.labelled",
                self.typicality.labelled,
                format!(
                    "fewer than the pool's {} known samples",
                    p.known * p.per_known
                ),
            ));
        }
        let names = canonical(&self.strategies, "strategies")?;
        if let Some(missing) = REQUIRED.iter().find(|r| !names.iter().any(|n| n == *r)) {
            return Err(Error::invalid(
                "strategies",
                format!("a list without {missing}"),
                format!("a list including {}", REQUIRED.join(", ")),
            ));
        }
        let d = &self.digits;
        if d.enabled {
            at_least_one(&[
                ("digits.budget", d.budget),
                ("digits.seeds", d.seeds),
                ("digits.known_sets", d.known_sets.len()),
                ("digits.strategies", d.strategies.len()),
            ])?;
            if !(d.initial_fraction > 0.0 && d.initial_fraction < 1.0) {
                return Err(Error::invalid(
                    "digits.initial_fraction",
                    d.initial_fraction,
                    "a number in (0, 1)",
                ));
            }
            canonical(&d.strategies, "digits.strategies")?;
            for known in &d.known_sets {
                let task =
                    digits_task(known, d.test_fraction, 0).map_err(|e| in_section("digits", e))?;
                digits_active(d, &self.active, &task)
                    .validate(&task)
                    .map_err(|e| in_section("digits", e))?;
            }
        }
        Ok(())
    }
}

/// The loop settings of a digits case: the recipe of the synthetic runs, the digits budget and
/// rounds, and an initial set of `initial_fraction` of the pool's known samples (at least one).
pub fn digits_active(
    d: &DigitsConfig,
    base: &ActiveConfig,
    task: &descent_active::OpenSetTask,
) -> ActiveConfig {
    let initial = (d.initial_fraction * task.n_pool_known() as f64).round() as usize;
    ActiveConfig {
        initial: initial.max(1),
        budget: d.budget,
        rounds: d.rounds,
        recipe: base.recipe.clone(),
    }
}

/// The strategies' canonical names (`samosa( filter = false )` → `samosa(filter=false)`);
/// errors name the list and the bad entry.
pub fn canonical(strategies: &[String], field: &str) -> Result<Vec<String>> {
    strategies
        .iter()
        .map(|s| {
            parse_strategy(s)
                .map(|st| st.name())
                .map_err(|e| Error::invalid(field, s, format!("a strategy spec ({e})")))
        })
        .collect()
}

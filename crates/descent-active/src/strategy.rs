//! Query strategies behind one trait (P2 spec §2.3, §2.5), built from spec text by
//! [`parse_strategy`]:
//!
//! | spec | queries first |
//! |---|---|
//! | `random` | a uniform draw from the unlabelled pool |
//! | `entropy` | the highest entropy of model C's K-way softmax |
//! | `margin` | the lowest top-1 − top-2 probability of model C |
//! | `least_confidence` | the highest 1 − max p of model C |
//! | `coreset` | k-center greedy on model C's penultimate features (Sener & Savarese 2018) |
//! | `samosa(order=high\|low, filter=true\|false, pair=sam\|sgd, init=independent\|shared, rho=0.05)` | the highest SAMIS-P of an SGD and a SAM model that both predict a known class ([`Samosa`]) |
//!
//! A strategy sees a [`QueryContext`]: the pool's features (no labels), the labelling state,
//! the round's K-way model C, the training recipe and the round's seed; it returns the pool
//! indices to query and, optionally, the score of every unlabelled sample.

use descent_core::linalg::{Trans, gemm};
use descent_core::{Error, Result, RngStreams, Spec};
use descent_data::Dataset;

use crate::model::{Recipe, TrainedModel, gather_rows};
use crate::samosa::Samosa;
use crate::scores::{entropy, least_confidence, margin, top_k};
use crate::task::PoolState;

/// What a strategy may read when it chooses a round's queries.
pub struct QueryContext<'a> {
    /// The pool's features, without labels.
    pub inputs: &'a Dataset,
    /// L, I and U of this run so far.
    pub state: &'a PoolState,
    /// This round's K-way model C (trained on L only).
    pub model: &'a TrainedModel,
    /// How to train any further fresh model.
    pub recipe: &'a Recipe,
    /// The query round, 1-based (round r's query gives the labelled set of evaluation r).
    pub round: usize,
    /// The seed for this round's random choices and models (derived from the run seed).
    pub seed: u64,
}

impl QueryContext<'_> {
    /// The unlabelled samples' features, row-major in [`PoolState::unlabelled`] order.
    pub fn unlabelled_rows(&self) -> Vec<f64> {
        gather_rows(self.inputs, self.state.unlabelled())
    }
}

/// A round's choice.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Pool indices to query, in the order chosen.
    pub indices: Vec<usize>,
    /// The score the strategy ranked by, for every unlabelled sample in
    /// [`PoolState::unlabelled`] order (diagnostics: which scores unknowns get).
    pub scores: Option<Vec<f64>>,
}

/// A query strategy of open-set active learning.
pub trait QueryStrategy: Send + Sync {
    /// The strategy's spec text (`samosa(filter=false)`), for reports.
    fn name(&self) -> String;
    /// Chooses `budget` distinct unlabelled samples (the loop asks for at most |U|).
    fn select(&self, ctx: &QueryContext<'_>, budget: usize) -> Result<Selection>;
}

/// Every strategy name with a one-line description (for `descent list` and errors).
pub const STRATEGIES: &[(&str, &str)] = &[
    ("random", "uniform draw from the unlabelled pool"),
    ("entropy", "highest entropy of model C's K-way softmax"),
    ("margin", "lowest top-1 minus top-2 probability of model C"),
    ("least_confidence", "highest 1 - max probability of model C"),
    (
        "coreset",
        "k-center greedy on model C's penultimate features, from L and I as centres",
    ),
    (
        "samosa",
        "highest SAMIS-P (L1 gap of an SGD and a SAM model's K+1-way softmax) among samples \
         both predict as known; samosa(order=high|low, filter=true|false, pair=sam|sgd, \
         init=independent|shared, rho=0.05)",
    ),
];

/// Builds a strategy from spec text (see the module table). Unknown names and keys are errors
/// listing the valid ones.
///
/// # Errors
///
/// Text that is not a spec, or an unknown name or key (listing the valid ones).
pub fn parse_strategy(text: &str) -> Result<Box<dyn QueryStrategy>> {
    let spec = Spec::parse(text)?;
    let no_args = |s: Box<dyn QueryStrategy>| -> Result<Box<dyn QueryStrategy>> {
        spec.args(&[])?;
        if spec.short.is_some() {
            return Err(Error::invalid(
                "strategy",
                text,
                format!("'{}' without ':'", spec.name),
            ));
        }
        Ok(s)
    };
    match spec.name.as_str() {
        "random" => no_args(Box::new(Random)),
        "entropy" => no_args(Box::new(Uncertainty::Entropy)),
        "margin" => no_args(Box::new(Uncertainty::Margin)),
        "least_confidence" => no_args(Box::new(Uncertainty::LeastConfidence)),
        "coreset" => no_args(Box::new(Coreset)),
        "samosa" => Ok(Box::new(Samosa::from_spec(&spec)?)),
        other => {
            let names: Vec<&str> = STRATEGIES.iter().map(|(n, _)| *n).collect();
            Err(Error::unknown_name("strategy", other, &names))
        }
    }
}

/// Uniform sampling without replacement from U (the `"random"` stream of the round's seed).
#[derive(Debug, Clone, Copy, Default)]
pub struct Random;

impl QueryStrategy for Random {
    fn name(&self) -> String {
        "random".into()
    }

    fn select(&self, ctx: &QueryContext<'_>, budget: usize) -> Result<Selection> {
        let u = ctx.state.unlabelled();
        let mut rng = RngStreams::new(ctx.seed).stream("random");
        let picked = rand::seq::index::sample(&mut rng, u.len(), budget.min(u.len()));
        Ok(Selection {
            indices: picked.iter().map(|k| u[k]).collect(),
            scores: None,
        })
    }
}

/// Uncertainty sampling on model C's K-way softmax (§2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uncertainty {
    /// Highest −Σ p log p first.
    Entropy,
    /// Lowest p₍₁₎ − p₍₂₎ first.
    Margin,
    /// Highest 1 − max p first.
    LeastConfidence,
}

impl QueryStrategy for Uncertainty {
    fn name(&self) -> String {
        match self {
            Uncertainty::Entropy => "entropy",
            Uncertainty::Margin => "margin",
            Uncertainty::LeastConfidence => "least_confidence",
        }
        .into()
    }

    fn select(&self, ctx: &QueryContext<'_>, budget: usize) -> Result<Selection> {
        let p = ctx.model.probabilities(&ctx.unlabelled_rows());
        let k = ctx.model.n_outputs();
        let (scores, descending) = match self {
            Uncertainty::Entropy => (entropy(&p, k), true),
            Uncertainty::Margin => (margin(&p, k), false),
            Uncertainty::LeastConfidence => (least_confidence(&p, k), true),
        };
        let u = ctx.state.unlabelled();
        Ok(Selection {
            indices: top_k(&scores, budget, descending)
                .into_iter()
                .map(|j| u[j])
                .collect(),
            scores: Some(scores),
        })
    }
}

/// Coreset (Sener & Savarese, ICLR 2018): k-center greedy on model C's penultimate features.
/// The centres start as every queried sample (L ∪ I); each pick is the unlabelled sample
/// farthest from its nearest centre (the first on ties), which then becomes a centre. The
/// reported score is each sample's initial distance to its nearest centre.
#[derive(Debug, Clone, Copy, Default)]
pub struct Coreset;

impl QueryStrategy for Coreset {
    fn name(&self) -> String {
        "coreset".into()
    }

    fn select(&self, ctx: &QueryContext<'_>, budget: usize) -> Result<Selection> {
        let u = ctx.state.unlabelled();
        let mut queried: Vec<usize> = ctx.state.labelled().to_vec();
        queried.extend_from_slice(ctx.state.invalid());
        let eu = ctx.model.embeddings(&ctx.unlabelled_rows());
        let ec = ctx.model.embeddings(&gather_rows(ctx.inputs, &queried));
        let w = eu.len() / u.len().max(1);
        let picks = k_center_greedy(&eu, &ec, w, budget);
        let scores = nearest_sq_distances(&eu, &ec, w)
            .into_iter()
            .map(f64::sqrt)
            .collect();
        Ok(Selection {
            indices: picks.into_iter().map(|j| u[j]).collect(),
            scores: Some(scores),
        })
    }
}

/// The squared distance of every row of `points` (n × w) to its nearest row of `centres`
/// (m × w), by ‖x‖² + ‖c‖² − 2 x·c with one GEMM in blocks of 256 points; +∞ without centres.
pub fn nearest_sq_distances(points: &[f64], centres: &[f64], w: usize) -> Vec<f64> {
    if w == 0 {
        return vec![0.0; 0];
    }
    let n = points.len() / w;
    let m = centres.len() / w;
    let sq = |rows: &[f64]| -> Vec<f64> {
        rows.chunks_exact(w)
            .map(|r| r.iter().map(|v| v * v).sum())
            .collect()
    };
    let (pn, cn) = (sq(points), sq(centres));
    let mut out = vec![f64::INFINITY; n];
    if m == 0 {
        return out;
    }
    const BLOCK: usize = 256;
    let mut dots = vec![0.0; BLOCK * m];
    for start in (0..n).step_by(BLOCK) {
        let b = BLOCK.min(n - start);
        let block = &points[start * w..(start + b) * w];
        gemm(
            &mut dots[..b * m],
            b,
            m,
            w,
            1.0,
            block,
            Trans::N,
            centres,
            Trans::T,
            0.0,
        );
        for r in 0..b {
            let row = &dots[r * m..(r + 1) * m];
            let mut best = f64::INFINITY;
            for (c, d) in row.iter().enumerate() {
                let dist = (pn[start + r] + cn[c] - 2.0 * d).max(0.0);
                if dist < best {
                    best = dist;
                }
            }
            out[start + r] = best;
        }
    }
    out
}

/// k-center greedy: `k` row positions of `points` (n × w), each the point farthest from its
/// nearest centre so far (the first on ties), starting from `centres` (m × w; with none, the
/// first pick is point 0). Picks at most n points.
pub fn k_center_greedy(points: &[f64], centres: &[f64], w: usize, k: usize) -> Vec<usize> {
    if w == 0 {
        return (0..k.min(points.len())).collect();
    }
    let n = points.len() / w;
    let mut dist = nearest_sq_distances(points, centres, w);
    let mut picks = Vec::with_capacity(k.min(n));
    let mut taken = vec![false; n];
    while picks.len() < k.min(n) {
        let mut best = None::<usize>;
        for j in (0..n).filter(|&j| !taken[j]) {
            if best.is_none_or(|b| dist[j] > dist[b]) {
                best = Some(j);
            }
        }
        let j = best.expect("an untaken point while picks < n");
        taken[j] = true;
        picks.push(j);
        let pj = &points[j * w..(j + 1) * w];
        for (i, d) in dist.iter_mut().enumerate() {
            let dj: f64 = points[i * w..(i + 1) * w]
                .iter()
                .zip(pj)
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            if dj < *d {
                *d = dj;
            }
        }
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_center_greedy_picks_the_farthest_points() {
        // points on a line at 0, 1, 2, 10, 11; centre at 0.5
        let points = [0.0, 1.0, 2.0, 10.0, 11.0];
        let d = nearest_sq_distances(&points, &[0.5], 1);
        assert_eq!(d, [0.25, 0.25, 2.25, 90.25, 110.25]);
        // 11 is farthest; then 2 (1.5 from the centre, 9 from 11); then 10 (1 from 11) beats
        // 0 and 1 (0.5 from the centre)
        assert_eq!(k_center_greedy(&points, &[0.5], 1, 3), [4, 2, 3]);
        assert_eq!(k_center_greedy(&points, &[], 1, 2), [0, 4]);
        assert_eq!(k_center_greedy(&points, &[0.5], 1, 9).len(), 5);
        // 2-D with the GEMM path (300 points > one block)
        let pts: Vec<f64> = (0..600).map(|i| ((i * 37 % 101) as f64) / 10.0).collect();
        let cs = [1.0, 2.0, 5.0, 5.0];
        let fast = nearest_sq_distances(&pts, &cs, 2);
        for (i, f) in fast.iter().enumerate() {
            let p = &pts[2 * i..2 * i + 2];
            let slow = cs
                .chunks(2)
                .map(|c| (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2))
                .fold(f64::INFINITY, |a, b| if b < a { b } else { a });
            assert!((f - slow).abs() < 1e-9, "{i}: {f} vs {slow}");
        }
    }

    #[test]
    fn unknown_strategies_and_keys_are_named() {
        let e = parse_strategy("badge").err().unwrap().to_string();
        assert_eq!(
            e,
            "unknown strategy 'badge'; valid: random, entropy, margin, least_confidence, coreset, samosa"
        );
        let e = parse_strategy("entropy(k=3)").err().unwrap().to_string();
        assert!(e.contains("unknown key 'k' for 'entropy'"), "{e}");
        for s in [
            "random",
            "entropy",
            "margin",
            "least_confidence",
            "coreset",
            "samosa",
        ] {
            assert_eq!(parse_strategy(s).unwrap().name(), s);
        }
    }
}

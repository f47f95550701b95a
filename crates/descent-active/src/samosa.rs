//! SAMOSA (Kim, Agiollo, Khanna, arXiv 2510.16757, §2.3 of the P2 spec): query the unlabelled
//! samples on which an SGD-trained and a SAM-trained model disagree most, among those both
//! models think are known.
//!
//! Every round trains two fresh K+1-way models on L ∪ I (unknowns labelled K): A with the
//! recipe's optimizer and B with `sam(rho=ρ, base=<the recipe's optimizer>)`, independently
//! initialised as in the authors' code. For every unlabelled x,
//!
//! ```text
//! SAMIS-P(x) = Σ_{j=1..K+1} |softmax(A(x))_j − softmax(B(x))_j|        (in [0, 2])
//! Cand       = {x : argmax A(x) < K and argmax B(x) < K}                 (the unknown filter)
//! Q          = top_b(Cand by SAMIS-P desc) ++ top_{b−|Cand|}(U \ Cand by SAMIS-P desc)
//! ```
//!
//! Variants (the paper's ablations and the spec's §5.3 rows): `order=low` takes the lowest
//! scores first (`samisuk_l`), `filter=false` ranks all of U, `pair=sgd` replaces the SAM
//! model by a second, independently initialised SGD model (the "ensemble vs SAM" ablation),
//! and `init=shared` starts A and B from the same weights and batch order (isolates SAM).

use std::sync::Arc;

use descent_core::{Error, Result, RngStreams, Spec};

use crate::model::TrainedModel;
use crate::scores::{argmax_rows, rank, samis_p};
use crate::strategy::{QueryContext, QueryStrategy, Selection};

/// Which end of the SAMIS-P ranking is queried first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Highest SAMIS-P first (SAMOSA).
    High,
    /// Lowest first (the ablation that buys precision and loses accuracy, pitfall 1).
    Low,
}

/// What model B is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pair {
    /// SAM over the recipe's optimizer.
    Sam,
    /// A second model with the recipe's optimizer (SGD vs SGD).
    Sgd,
}

/// How A and B are initialised (pitfall 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitMode {
    /// Separate initialisations and batch orders (the authors' code).
    Independent,
    /// One initialisation and one batch order for both.
    Shared,
}

/// The SAMOSA strategy and its variants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Samosa {
    /// The order in which the ranked samples are queried.
    pub order: Order,
    /// Keep only samples both models predict as known before ranking.
    pub filter: bool,
    /// Which pair of models measures the sharpness gap.
    pub pair: Pair,
    /// How the models of each round are initialised.
    pub init: InitMode,
    /// SAM's neighbourhood radius ρ.
    pub rho: f64,
}

impl Default for Samosa {
    fn default() -> Self {
        Samosa {
            order: Order::High,
            filter: true,
            pair: Pair::Sam,
            init: InitMode::Independent,
            rho: 0.05,
        }
    }
}

impl Samosa {
    /// `samosa(order=high|low, filter=true|false, pair=sam|sgd, init=independent|shared,
    /// rho=0.05)`. SGD vs SGD with a shared init is an error: the two models would be identical
    /// and every score 0.
    ///
    /// # Errors
    ///
    /// An unknown key or value (listing the valid ones), or SGD pairs with a shared init.
    pub fn from_spec(spec: &Spec) -> Result<Samosa> {
        if let Some(s) = &spec.short {
            return Err(Error::invalid(
                "samosa",
                format!("samosa:{s}"),
                "samosa(key=value, ...)",
            ));
        }
        let args = spec.args(&["order", "filter", "pair", "init", "rho"])?;
        let d = Samosa::default();
        let s = Samosa {
            order: match args.choice("order", "high", &["high", "low"])?.as_str() {
                "high" => Order::High,
                _ => Order::Low,
            },
            filter: args.bool("filter", d.filter)?,
            pair: match args.choice("pair", "sam", &["sam", "sgd"])?.as_str() {
                "sam" => Pair::Sam,
                _ => Pair::Sgd,
            },
            init: match args
                .choice("init", "independent", &["independent", "shared"])?
                .as_str()
            {
                "independent" => InitMode::Independent,
                _ => InitMode::Shared,
            },
            rho: args.non_negative("rho", d.rho)?,
        };
        if s.pair == Pair::Sgd && s.init == InitMode::Shared {
            return Err(Error::invalid(
                "samosa",
                "pair=sgd with init=shared",
                "pair=sam or init=independent (two SGD models from one init are identical)",
            ));
        }
        Ok(s)
    }

    /// The seeds of models A and B in a round with seed `round_seed`.
    pub fn pair_seeds(&self, round_seed: u64) -> (u64, u64) {
        let s = RngStreams::new(round_seed);
        let a = s.child_seed("samosa-a", 0);
        match self.init {
            InitMode::Independent => (a, s.child_seed("samosa-b", 0)),
            InitMode::Shared => (a, a),
        }
    }

    /// Trains the round's fresh models A and B on L ∪ I (K + 1 classes).
    ///
    /// # Errors
    ///
    /// A training run that fails or diverges (see [`crate::Recipe::fit_with`]).
    pub fn fit_pair(&self, ctx: &QueryContext<'_>) -> Result<(TrainedModel, TrainedModel)> {
        let open = Arc::new(ctx.state.open_set(ctx.inputs));
        let (sa, sb) = self.pair_seeds(ctx.seed);
        let a = ctx.recipe.fit(open.clone(), sa)?;
        let b = match self.pair {
            Pair::Sam => {
                let sam = format!("sam(rho={}, base={})", self.rho, ctx.recipe.optimizer);
                ctx.recipe.fit_with(open, &sam, sb)?
            }
            Pair::Sgd => ctx.recipe.fit(open, sb)?,
        };
        Ok((a, b))
    }
}

impl QueryStrategy for Samosa {
    fn name(&self) -> String {
        let d = Samosa::default();
        let mut keys = Vec::new();
        if self.order == Order::Low {
            keys.push("order=low".to_string());
        }
        if !self.filter {
            keys.push("filter=false".into());
        }
        if self.pair == Pair::Sgd {
            keys.push("pair=sgd".into());
        }
        if self.init == InitMode::Shared {
            keys.push("init=shared".into());
        }
        if self.rho != d.rho {
            keys.push(format!("rho={}", self.rho));
        }
        if keys.is_empty() {
            "samosa".into()
        } else {
            format!("samosa({})", keys.join(", "))
        }
    }

    fn select(&self, ctx: &QueryContext<'_>, budget: usize) -> Result<Selection> {
        let (a, b) = self.fit_pair(ctx)?;
        let rows = ctx.unlabelled_rows();
        let (pa, pb) = (a.probabilities(&rows), b.probabilities(&rows));
        let width = a.n_outputs();
        let scores = samis_p(&pa, &pb, width);
        let candidate: Vec<bool> = if self.filter {
            let k = width - 1;
            argmax_rows(&pa, width)
                .into_iter()
                .zip(argmax_rows(&pb, width))
                .map(|(x, y)| x < k && y < k)
                .collect()
        } else {
            vec![true; scores.len()]
        };
        let u = ctx.state.unlabelled();
        let picks = rank_with_fill(&scores, &candidate, budget, self.order);
        Ok(Selection {
            indices: picks.into_iter().map(|j| u[j]).collect(),
            scores: Some(scores),
        })
    }
}

/// SAMOSA's selection rule (§2.3 steps 3–4): candidates ranked by score (highest first for
/// [`Order::High`], lowest for [`Order::Low`]), then, if fewer than `budget`, the rejected
/// samples in the same order. Ties keep the lower position first (pitfall 12). Returns
/// `min(budget, n)` distinct positions.
pub fn rank_with_fill(
    scores: &[f64],
    candidate: &[bool],
    budget: usize,
    order: Order,
) -> Vec<usize> {
    assert_eq!(scores.len(), candidate.len(), "one flag per score");
    let descending = order == Order::High;
    let mut positions: Vec<usize> = (0..scores.len()).collect();
    // candidates before rejected, each group by score; the stable sort keeps position order
    positions.sort_by(|&x, &y| {
        candidate[y]
            .cmp(&candidate[x])
            .then_with(|| rank(scores[x], scores[y], descending))
    });
    positions.truncate(budget);
    positions
}

//! The spec's check 6 (P2 §5.4) and the loop's contract: SAMIS-P's range and symmetry, the
//! unknown filter, the fill-up rule, where queried unknowns go, fresh models every round,
//! seeds, stopping and continuing between rounds, and named errors.

use std::sync::{Arc, Mutex};

use descent_active::scores::{argmax_rows, samis_p};
use descent_active::{
    ActiveConfig, ActiveEnd, ActiveProgress, AfterRound, Answer, OpenSetTask, Order, PoolState,
    QueryContext, QueryStrategy, Recipe, Samosa, Selection, model_seed, parse_strategy, query_seed,
    rank_with_fill, run_active, run_active_from,
};
use descent_core::{Result, RngStreams};
use descent_data::{Dataset, GaussianMixture, MixtureConfig};
use proptest::prelude::*;

/// A small open-set pool: 3 known and 3 unknown mixture classes in 4-D.
fn task(seed: u64) -> OpenSetTask {
    let cfg = MixtureConfig {
        classes: 6,
        dim: 4,
        ..MixtureConfig::default()
    };
    let s = RngStreams::new(seed);
    let mix = GaussianMixture::new(cfg, &mut s.stream("structure")).unwrap();
    let pool = mix
        .sample_per_class(&[40, 40, 40, 30, 30, 30], &mut s.stream("pool"))
        .unwrap()
        .data;
    let test = mix
        .sample_per_class(&[50, 50, 50, 0, 0, 0], &mut s.stream("test"))
        .unwrap()
        .data;
    OpenSetTask::new(&pool, &test, &[0, 1, 2]).unwrap()
}

fn small_config() -> ActiveConfig {
    ActiveConfig {
        initial: 12,
        budget: 10,
        rounds: 3,
        recipe: Recipe {
            epochs: 8,
            batch_size: 16,
            ..Recipe::default()
        },
    }
}

proptest! {
    #[test]
    fn samis_p_lies_in_0_2_and_is_symmetric(
        raw in proptest::collection::vec(0.0f64..1.0, 24),
    ) {
        let norm = |v: &[f64]| -> Vec<f64> {
            v.chunks(4).flat_map(|r| {
                let s: f64 = r.iter().sum::<f64>() + 1e-12;
                r.iter().map(move |x| (x + 1e-12 / 4.0) / s).collect::<Vec<_>>()
            }).collect()
        };
        let (pa, pb) = (norm(&raw[..12]), norm(&raw[12..]));
        let ab = samis_p(&pa, &pb, 4);
        let ba = samis_p(&pb, &pa, 4);
        prop_assert_eq!(&ab, &ba);
        for s in ab {
            prop_assert!((0.0..=2.0 + 1e-12).contains(&s));
        }
        prop_assert!(samis_p(&pa, &pa, 4).iter().all(|s| *s == 0.0));
    }

    #[test]
    fn the_fill_up_rule_returns_exactly_b_distinct_samples(
        scores in proptest::collection::vec(0.0f64..2.0, 1..60),
        flags in proptest::collection::vec(any::<bool>(), 60),
        b in 0usize..70,
        low in any::<bool>(),
    ) {
        let n = scores.len();
        let cand = &flags[..n];
        let order = if low { Order::Low } else { Order::High };
        let picks = rank_with_fill(&scores, cand, b, order);
        prop_assert_eq!(picks.len(), b.min(n));
        let mut sorted = picks.clone();
        sorted.sort_unstable();
        sorted.dedup();
        prop_assert_eq!(sorted.len(), picks.len());
        // candidates come first, and every candidate is taken before any rejected sample
        let n_cand = cand.iter().filter(|c| **c).count();
        for (k, &p) in picks.iter().enumerate() {
            prop_assert_eq!(cand[p], k < n_cand);
        }
        // within each group, scores are ordered
        for w in picks.windows(2) {
            if cand[w[0]] == cand[w[1]] {
                let ok = if low { scores[w[0]] <= scores[w[1]] } else { scores[w[0]] >= scores[w[1]] };
                prop_assert!(ok);
            }
        }
    }
}

#[test]
fn ties_break_by_position_and_the_fill_up_takes_the_highest_rejected() {
    let scores = [0.0, 0.9, 0.0, 0.5, 1.5, 0.0];
    let cand = [true, false, true, true, false, true];
    assert_eq!(rank_with_fill(&scores, &cand, 3, Order::High), [3, 0, 2]);
    assert_eq!(
        rank_with_fill(&scores, &cand, 6, Order::High),
        [3, 0, 2, 5, 4, 1]
    );
    assert_eq!(
        rank_with_fill(&scores, &cand, 5, Order::Low),
        [0, 2, 5, 3, 1]
    );
}

/// A strategy that records every context it sees, then runs SAMOSA.
struct Probe {
    inner: Samosa,
    seen: Mutex<Vec<ProbeRecord>>,
}

struct ProbeRecord {
    known_set: Dataset,
    open_set: Dataset,
    model_params: Vec<f64>,
    seed: u64,
    unlabelled: Vec<usize>,
    filtered_out: Vec<usize>,
    selection: Vec<usize>,
}

impl QueryStrategy for Probe {
    fn name(&self) -> String {
        "probe".into()
    }
    fn select(&self, ctx: &QueryContext<'_>, budget: usize) -> Result<Selection> {
        let sel = self.inner.select(ctx, budget)?;
        let (a, b) = self.inner.fit_pair(ctx)?;
        let rows = ctx.unlabelled_rows();
        let (pa, pb) = (a.probabilities(&rows), b.probabilities(&rows));
        let k = ctx.state.n_known();
        let filtered_out = argmax_rows(&pa, k + 1)
            .into_iter()
            .zip(argmax_rows(&pb, k + 1))
            .enumerate()
            .filter(|(_, (x, y))| *x == k || *y == k)
            .map(|(j, _)| ctx.state.unlabelled()[j])
            .collect();
        self.seen.lock().unwrap().push(ProbeRecord {
            known_set: ctx.state.known_set(ctx.inputs),
            open_set: ctx.state.open_set(ctx.inputs),
            model_params: ctx.model.params.clone(),
            seed: ctx.seed,
            unlabelled: ctx.state.unlabelled().to_vec(),
            filtered_out,
            selection: sel.indices.clone(),
        });
        Ok(sel)
    }
}

#[test]
fn the_loop_keeps_unknowns_out_of_c_retrains_fresh_models_and_filters() {
    let task = task(3);
    let cfg = small_config();
    let probe = Probe {
        inner: Samosa::default(),
        seen: Mutex::new(Vec::new()),
    };
    let run = run_active(&task, &probe, &cfg, 11).unwrap();
    let seen = probe.seen.into_inner().unwrap();
    assert_eq!(seen.len(), 3);
    assert_eq!(run.records.len(), 4);
    let k = task.n_known();
    let mut queried_unknowns: Vec<usize> = Vec::new();
    for (r, rec) in seen.iter().enumerate() {
        // model C's training set holds known labels only, and exactly L
        let labels = |d: &Dataset| match &d.targets {
            descent_data::Targets::Classes { labels, n_classes } => (labels.clone(), *n_classes),
            _ => panic!("class targets"),
        };
        let (cl, cn) = labels(&rec.known_set);
        assert_eq!(cn, k);
        assert!(cl.iter().all(|&c| c < k));
        assert_eq!(cl.len(), run.records[r].labelled);
        // A's and B's set: L, then every queried unknown so far with label K
        let (ol, on) = labels(&rec.open_set);
        assert_eq!(on, k + 1);
        assert_eq!(
            ol.iter().filter(|&&c| c == k).count(),
            queried_unknowns.len()
        );
        assert_eq!(ol.len(), cl.len() + queried_unknowns.len());
        // model C is a fresh fit of this round's L from its own seed (no warm start)
        let fresh = cfg
            .recipe
            .fit(Arc::new(rec.known_set.clone()), model_seed(11, r))
            .unwrap();
        assert_eq!(fresh.params, rec.model_params, "round {r}");
        assert_eq!(rec.seed, query_seed(11, r + 1));
        // the filter excluded every sample either model assigned to class K (enough
        // candidates remain here, so nothing is filled up from the rejected ones)
        let n_cand = rec.unlabelled.len() - rec.filtered_out.len();
        if n_cand >= cfg.budget {
            assert!(rec.selection.iter().all(|i| !rec.filtered_out.contains(i)));
        }
        assert_eq!(rec.selection.len(), cfg.budget);
        queried_unknowns.extend(
            rec.selection
                .iter()
                .filter(|&&i| task.oracle(i) == Answer::Unknown),
        );
    }
    // the filter became active once unknowns were queried
    assert!(seen.iter().skip(1).any(|r| !r.filtered_out.is_empty()));
    // rounds use different seeds, so models are re-initialised, not reused
    assert_ne!(model_seed(11, 0), model_seed(11, 1));
    let s = Samosa::default();
    assert_ne!(
        s.pair_seeds(query_seed(11, 1)),
        s.pair_seeds(query_seed(11, 2))
    );
    let (a, b) = s.pair_seeds(5);
    assert_ne!(a, b, "independent inits");
    let shared = parse_strategy("samosa(init=shared)").unwrap();
    assert_eq!(shared.name(), "samosa(init=shared)");
    // metrics: precision = known/queried per round, recall counts the initial set
    for r in &run.records[1..] {
        assert_eq!(r.queried, 10);
        assert_eq!(r.precision, r.queried_known as f64 / 10.0);
        assert_eq!(r.recall, r.labelled as f64 / task.n_pool_known() as f64);
        let sc = r.scores.unwrap();
        assert!(sc.min >= 0.0 && sc.max <= 2.0);
    }
    assert_eq!(run.records[0].labelled, 12);
    assert!(run.records[0].precision.is_nan());
    assert_eq!(run.records[3].labelled + run.records[3].invalid, 12 + 30);
}

#[test]
fn runs_are_reproducible_and_seeded() {
    let task = task(1);
    let cfg = small_config();
    for name in [
        "random",
        "entropy",
        "margin",
        "least_confidence",
        "coreset",
        "samosa(pair=sgd)",
    ] {
        let s = parse_strategy(name).unwrap();
        let a = run_active(&task, s.as_ref(), &cfg, 4).unwrap();
        let b = run_active(&task, s.as_ref(), &cfg, 4).unwrap();
        // (Debug text: round 0's precision is NaN, which != itself)
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{name}");
        let c = run_active(&task, s.as_ref(), &cfg, 5).unwrap();
        assert_ne!(
            format!("{:?}", a.records),
            format!("{:?}", c.records),
            "{name}"
        );
        assert!(
            a.records.iter().all(|r| r.test_accuracy > 0.3),
            "{name}: {a:?}"
        );
    }
}

#[test]
fn pool_state_moves_queried_samples() {
    let task = task(2);
    let mut st = PoolState::initial(&task, 5, &mut RngStreams::new(0).stream("initial")).unwrap();
    assert_eq!(st.labelled().len(), 5);
    assert_eq!(st.unlabelled().len(), task.len() - 5);
    let unknown = (0..task.len())
        .find(|&i| task.oracle(i) == Answer::Unknown)
        .unwrap();
    let known = *st
        .unlabelled()
        .iter()
        .find(|&&i| task.oracle(i) != Answer::Unknown)
        .unwrap();
    assert_eq!(st.apply(&task, &[unknown, known]).unwrap(), 1);
    assert_eq!(st.invalid(), [unknown]);
    assert!(st.labelled().contains(&known) && !st.unlabelled().contains(&known));
    let e = st.apply(&task, &[known]).unwrap_err().to_string();
    assert!(e.contains("distinct samples of the unlabelled pool"), "{e}");
    let e = st.apply(&task, &[0, 0]).unwrap_err().to_string();
    assert!(e.contains("queried sample"), "{e}");
}

#[test]
fn bad_input_is_a_named_error() {
    let t = task(0);
    let s = RngStreams::new(0);
    let mix = GaussianMixture::new(
        MixtureConfig {
            classes: 6,
            dim: 4,
            ..MixtureConfig::default()
        },
        &mut s.stream("x"),
    )
    .unwrap();
    let pool = mix
        .sample_per_class(&[5; 6], &mut s.stream("p"))
        .unwrap()
        .data;
    let err = |known: &[usize]| {
        OpenSetTask::new(&pool, &pool, known)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(&[0, 9]),
        "invalid value for 'known classes': got 9, expected a class label of the data (0..=5)"
    );
    assert!(err(&[1]).contains("at least two class labels"));
    assert!(err(&[1, 1]).contains("class 1 twice"));
    let big = ActiveConfig {
        budget: 400,
        ..small_config()
    };
    let e = run_active(&t, parse_strategy("random").unwrap().as_ref(), &big, 0)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "invalid value for 'budget': got 400, expected at most the 198 unlabelled pool samples (210 in the pool, 12 initially labelled)"
    );
    let many = ActiveConfig {
        budget: 50,
        rounds: 8,
        ..small_config()
    };
    let e = run_active(&t, parse_strategy("random").unwrap().as_ref(), &many, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("50 x 8 = 400 queries"), "{e}");
    let e = parse_strategy("samosa(pair=sgd, init=shared)")
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("two SGD models from one init are identical"),
        "{e}"
    );
    let e = parse_strategy("samosa(order=middle)")
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        e,
        "invalid value for 'samosa.order': got middle, expected one of high, low"
    );
    let bad = ActiveConfig {
        recipe: Recipe {
            optimizer: "sgd(lr=-1)".into(),
            ..Recipe::default()
        },
        ..small_config()
    };
    let e = run_active(&t, parse_strategy("random").unwrap().as_ref(), &bad, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("sgd.lr"), "{e}");
}

/// Runs `strategy` until `k` query rounds are done and returns its progress as a checkpoint
/// stores it (through lossless JSON).
fn progress_after(
    task: &OpenSetTask,
    strategy: &dyn QueryStrategy,
    cfg: &ActiveConfig,
    k: usize,
) -> ActiveProgress {
    let mut saved = None;
    let end = run_active_from(task, strategy, cfg, 7, None, &mut |p| {
        if p.rounds_done == k && !p.finished(cfg) {
            saved = Some(descent_core::json::to_vec(p).unwrap());
            return Ok(AfterRound::Stop);
        }
        Ok(AfterRound::Continue)
    })
    .unwrap();
    assert_eq!(end, ActiveEnd::Stopped { rounds_done: k });
    descent_core::json::from_slice(&saved.unwrap()).unwrap()
}

#[test]
fn a_run_stopped_between_rounds_continues_bit_identically() {
    let task = task(3);
    let cfg = small_config();
    let bits = |r: &[descent_active::RoundRecord]| -> Vec<[u64; 3]> {
        r.iter()
            .map(|x| [x.precision, x.recall, x.test_accuracy].map(f64::to_bits))
            .collect()
    };
    for name in ["samosa(pair=sgd)", "coreset", "random"] {
        let s = parse_strategy(name).unwrap();
        let whole = run_active(&task, s.as_ref(), &cfg, 7).unwrap();
        for k in 1..=cfg.rounds {
            let progress = progress_after(&task, s.as_ref(), &cfg, k);
            assert_eq!(progress.records.len(), k);
            let mut calls = Vec::new();
            let end = run_active_from(&task, s.as_ref(), &cfg, 7, Some(progress), &mut |p| {
                calls.push((p.rounds_done, p.records.len()));
                Ok(AfterRound::Continue)
            })
            .unwrap();
            let ActiveEnd::Finished(run) = end else {
                panic!("{name} from round {k}: {end:?}")
            };
            assert_eq!(format!("{:?}", run.records), format!("{:?}", whole.records));
            assert_eq!(bits(&run.records), bits(&whole.records), "{name} from {k}");
            // one call per remaining query round, then one with the finished run
            let want: Vec<_> = (k + 1..=cfg.rounds)
                .map(|r| (r, r))
                .chain([(cfg.rounds, cfg.rounds + 1)])
                .collect();
            assert_eq!(calls, want, "{name} from {k}");
        }
    }
}

#[test]
fn damaged_progress_is_refused_naming_the_field() {
    let task = task(3);
    let cfg = small_config();
    let s = parse_strategy("random").unwrap();
    let good = progress_after(&task, s.as_ref(), &cfg, 2);
    let run = |p: ActiveProgress| {
        run_active_from(&task, s.as_ref(), &cfg, 7, Some(p), &mut |_| {
            Ok(AfterRound::Continue)
        })
        .unwrap_err()
        .to_string()
    };
    let mut p = good.clone();
    p.rounds_done = 9;
    assert!(run(p).contains("checkpoint rounds_done"));
    let mut p = good.clone();
    p.records.swap(0, 1);
    assert!(run(p).contains("checkpoint records"));
    let mut p = good.clone();
    p.labelled.pop();
    let e = run(p);
    assert!(
        e.contains("checkpoint labelled") && e.contains("--initial 12"),
        "{e}"
    );
    let mut p = good.clone();
    let known = *good
        .labelled
        .iter()
        .find(|&&i| !good.invalid.contains(&i))
        .unwrap();
    if let Some(first) = p.invalid.first_mut() {
        *first = known;
        let e = run(p);
        assert!(e.contains("invalid sample"), "{e}");
    }
    let mut p = good.clone();
    p.labelled[0] = task.len() + 5;
    let e = run(p);
    assert!(
        e.contains("labelled sample") && e.contains(&(task.len() + 5).to_string()),
        "{e}"
    );
}

//! Reported extras (stand-ins for the paper's practical tasks, at small scale): ZO-Adam with every law but the
//! oracle DAP-exact on Rosenbrock and on softmax regression over digits (d = 650), at equal
//! function-query budgets. The paper's evidence here is qualitative (DAP competitive on
//! practical tasks), so nothing is asserted.

use std::sync::Arc;

use descent_core::testfns::Rosenbrock;
use descent_core::{EvalCounts, Function, Result, RngStreams};
use serde_json::{Value, json};

use super::config::ExtrasConfig;
use super::curves::{self, Curve, DAP_ESTIMATED, ZoLaw};
use crate::harness::{par_map, stats};
use crate::plot::{Figure, LegendAt, Line, Panel};
use crate::report::{Claim, ClaimKind, num};
use crate::train::{TrainConfig, build_objective, prepare_data};

/// The two tasks, in job order.
pub const TASKS: [&str; 2] = ["rosenbrock", "digits train loss"];

/// The extras' measurements.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtrasResult {
    /// Dimension of the Rosenbrock task.
    pub rosenbrock_dim: usize,
    /// Learning rate of the digits task.
    pub digits_lr: f64,
    /// Minibatch size of the digits task.
    pub digits_batch: usize,
    /// Directions q per step.
    pub q: usize,
    /// Seeds per law.
    pub seeds: usize,
    /// Per task of [`TASKS`], per law, the curves over seeds: the Rosenbrock value and the full
    /// training loss, against function queries.
    pub groups: [Vec<(String, Vec<Curve>)>; 2],
    /// Oracle evaluations of all runs.
    pub evals: EvalCounts,
}

/// The laws of the extras: those of Z4 without the oracle DAP-exact.
fn laws(q: usize) -> Vec<ZoLaw> {
    curves::laws(q)
        .into_iter()
        .filter(|l| l.law != "dap_exact")
        .collect()
}

/// Runs every (task, law, seed) in parallel; the data split comes from `seed` and each run's
/// initialisation, minibatches and perturbations from a child seed. `None` when disabled.
pub fn measure(c: &ExtrasConfig, seed: u64) -> Result<Option<ExtrasResult>> {
    if !c.run {
        return Ok(None);
    }
    let streams = RngStreams::new(seed);
    let laws = laws(c.q);
    let steps_r = c.rosenbrock_queries / (c.q + 1);
    // Digits: softmax regression (d = 650) on the standardized training split.
    let tc = TrainConfig {
        data: "digits".into(),
        model: "softmax-regression".into(),
        batch_size: c.digits_batch,
        seed,
        ..Default::default()
    };
    let data = prepare_data(&tc)?;
    let steps_d = c.digits_queries / (c.q + 1);
    let jobs: Vec<(usize, usize, usize)> = (0..TASKS.len())
        .flat_map(|p| (0..laws.len()).flat_map(move |l| (0..c.seeds).map(move |s| (p, l, s))))
        .collect();
    let mut all = par_map(&jobs, |&(p, l, s)| {
        let run_seed = streams.child_seed("extras", (p * 1000 + l * 100 + s) as u64);
        let law = &laws[l];
        if p == 0 {
            let mut r = Rosenbrock::new(c.rosenbrock_dim)?;
            let x0 = r.start();
            let spec = format!(
                "zo(law={}, q={}, mu=1e-6, base=adam(lr=0.01, \
                 schedule=cosine(total={steps_r}, min=0.01)))",
                law.law, law.q
            );
            curves::zo_curve(&spec, &mut r, &x0, steps_r, 100, run_seed, |p, x| {
                p.value(x)
            })
        } else {
            let mut cfg = tc.clone();
            cfg.seed = run_seed;
            let (mut obj, x0) = build_objective(&cfg, Arc::clone(&data.train))?;
            let spec = format!(
                "zo(law={}, q={}, mu=1e-4, base=adam(lr={}))",
                law.law, law.q, c.digits_lr
            );
            let full = Arc::clone(&data.train);
            curves::zo_curve(&spec, &mut obj, &x0, steps_d, 200, run_seed, move |o, x| {
                o.evaluate(x, &full).map_or(f64::NAN, |e| e.loss)
            })
        }
    })?;
    let digits = all.split_off(laws.len() * c.seeds);
    let (rosenbrock, e_r) = curves::group_by_law(&laws, c.seeds, all);
    let (digits, e_d) = curves::group_by_law(&laws, c.seeds, digits);
    Ok(Some(ExtrasResult {
        rosenbrock_dim: c.rosenbrock_dim,
        digits_lr: c.digits_lr,
        digits_batch: c.digits_batch,
        q: c.q,
        seeds: c.seeds,
        groups: [rosenbrock, digits],
        evals: e_r + e_d,
    }))
}

/// Per task, per law: the median over seeds of the final value (NaN when a run diverged).
pub fn final_medians(r: &ExtrasResult) -> [Vec<(String, f64)>; 2] {
    [0, 1].map(|k| {
        r.groups[k]
            .iter()
            .map(|(label, cs)| {
                let finals: Vec<f64> = cs.iter().map(Curve::final_value).collect();
                (label.clone(), stats::median(&finals))
            })
            .collect()
    })
}

/// Per task: DAP-estimated's final median over the best law's (NaN when any law's median is).
pub fn dap_to_best(r: &ExtrasResult) -> Vec<(String, f64)> {
    TASKS
        .iter()
        .zip(final_medians(r))
        .map(|(task, finals)| {
            let values: Vec<f64> = finals.iter().map(|(_, v)| *v).collect();
            let dap = finals
                .iter()
                .find(|(l, _)| l == DAP_ESTIMATED)
                .map_or(f64::NAN, |(_, v)| *v);
            (task.to_string(), dap / stats::min(&values))
        })
        .collect()
}

/// The extras' claim, per task.
pub fn claims(r: &ExtrasResult) -> Vec<Claim> {
    vec![Claim::for_every(
        "zeroth-order/extras-equal-budget",
        &format!(
            "ZO-Adam at equal function-query budgets on Rosenbrock and on digits \
             softmax-regression (d = 650) full training loss: per task, DAP-estimated's final \
             value over the best law's, each the median over {} seeds; the paper presents DAP \
             as competitive on practical tasks",
            r.seeds
        ),
        ClaimKind::Reported,
        &dap_to_best(r),
        "every ratio <= 2 (DAP-estimated within 2x of the best law)",
        |v| v <= 2.0,
    )]
}

/// Columns of [`final_rows`].
pub const FINAL_COLUMNS: [&str; 3] = ["law", "rosenbrock", "digits train loss"];

/// Per law, the median final value over seeds on each task.
pub fn final_rows(r: &ExtrasResult) -> Vec<Vec<Value>> {
    let [ros, dig] = final_medians(r);
    ros.iter()
        .zip(&dig)
        .map(|((l, a), (_, b))| vec![json!(l), num(*a), num(*b)])
        .collect()
}

/// How the extras were run.
pub fn assumption(r: &ExtrasResult) -> String {
    format!(
        "Extras: ZO-Adam (lr 0.01 with a cosine decay to 1e-4 on Rosenbrock from (-1.2, 1, ...), \
         lr {} on digits) with q = {} directions (DAP-estimated q/2) so every law spends {} \
         function values per step; digits uses softmax regression on the standardized 80% \
         training split with minibatch {} (the same minibatch for every query of a step)",
        r.digits_lr,
        r.q,
        r.q + 1,
        r.digits_batch
    )
}

/// Per task, the median (over seeds) lines with min–max bands.
pub fn lines(r: &ExtrasResult) -> [Vec<Line>; 2] {
    [
        curves::band_lines(&r.groups[0], 1e-300),
        curves::band_lines(&r.groups[1], 1e-300),
    ]
}

/// The extras figure: median and min–max over seeds against function queries, per task.
pub fn figure(r: &ExtrasResult) -> Figure {
    let [lines_r, lines_d] = lines(r);
    Figure {
        caption: Some(format!(
            "ZO-Adam at equal function-query budgets, median and min-max over {} seeds",
            r.seeds
        )),
        panels: vec![
            Panel {
                title: format!("Rosenbrock, d = {}", r.rosenbrock_dim),
                x_label: "function queries".into(),
                y_label: "f(x)".into(),
                log_y: true,
                legend: LegendAt::LowerLeft,
                lines: lines_r,
                ..Default::default()
            },
            Panel {
                title: "Digits, softmax regression (d = 650)".into(),
                x_label: "function queries".into(),
                y_label: "training cross-entropy".into(),
                log_y: true,
                legend: LegendAt::UpperRight,
                lines: lines_d,
                ..Default::default()
            },
        ],
    }
}

//! The one measurement of `puf`, shared by all its checks: for every data split, the original
//! FedAvg federation; for every (split, target set) case, retraining from scratch, PUF-Special
//! and PUF-Regular with recovery, natural forgetting, the update algebra, the traffic and, for
//! single targets, the backdoor stress scenario (paper §2.2–§2.4, the reproduction's §5).
//! The claims, tables, figures and assumptions are pure functions of [`PufResult`].

use std::sync::Arc;

use descent_core::{EvalCounts, Result};
use descent_data::Dataset;
use descent_dist::puf::first_reaching;
use descent_dist::{
    Client, FedAvg, Mia, PufConfig, PufMode, Transport, UnlearnReport, accuracy,
    client_train_accuracies, continue_without, evaluate_mia, recover, retrain_from_scratch,
    unlearn,
};
use descent_nn::{Mlp, Workspace};

use super::config::{Config, Seeds};
use super::setup::{self, Setup};
use crate::harness::{par_map, stats};

/// Everything the claims, tables and figures of `puf` read.
#[derive(Debug, Clone)]
pub struct PufResult {
    /// UCI digits: every split and case.
    pub digits: DatasetRun,
    /// The Gaussian mixture, first split only (reported), when `mixture` is on.
    pub mixture: Option<DatasetRun>,
}

impl PufResult {
    /// Local minibatch steps of every run (one gradient and one resample each).
    pub fn evals(&self) -> EvalCounts {
        let d = &self.digits;
        let steps = d.original_steps()
            + d.singles
                .iter()
                .chain(&d.pairs)
                .map(|k| k.steps)
                .sum::<u64>()
            + self.mixture.as_ref().map_or(0, |m| {
                m.original_steps() + m.singles.iter().map(|k| k.steps).sum::<u64>()
            });
        EvalCounts {
            gradients: steps,
            resamples: steps,
            ..EvalCounts::default()
        }
    }
}

/// All cases of one dataset.
#[derive(Debug, Clone)]
pub struct DatasetRun {
    /// One original federation per split, in `split_seeds` order.
    pub originals: Vec<OriginalRun>,
    /// Single-target cases, split-major then target order.
    pub singles: Vec<Case>,
    /// Concurrent-target cases, one per split (digits only).
    pub pairs: Vec<Case>,
    /// Check 8 (digits only): the first split's original trained again with the serial
    /// transport is bit-identical.
    pub determinism: Option<bool>,
}

impl DatasetRun {
    fn original_steps(&self) -> u64 {
        self.originals.iter().map(|o| o.steps).sum()
    }
}

/// The original federation of one split, as measured.
#[derive(Debug, Clone)]
pub struct OriginalRun {
    /// The split's name (its entry of `split_seeds`).
    pub split: u64,
    /// Test accuracy after each round 1..=rounds.
    pub test_curve: Vec<f64>,
    /// Local minibatch steps of the whole run.
    pub steps: u64,
}

/// Evaluation of one model on the quantities the paper reports (§4.2).
#[derive(Debug, Clone, Copy)]
pub struct Point {
    /// Test accuracy.
    pub test: f64,
    /// Accuracy on the forgotten clients' training data.
    pub forget: f64,
    /// The membership-inference attacks on the forgotten clients' data.
    pub mia: Mia,
}

/// A post-request trajectory: index 0 = the model at the request (original), index j = after
/// j rounds (for PUF the first of them is the unlearning round).
#[derive(Debug, Clone, Default)]
pub struct Trajectory {
    /// Test accuracy at each index.
    pub test: Vec<f64>,
    /// Accuracy on the forgotten clients' training data at each index.
    pub forget: Vec<f64>,
}

/// Everything measured for one (split, target set) case.
#[derive(Debug, Clone)]
pub struct Case {
    /// The split's name (its entry of `split_seeds`).
    pub split: u64,
    /// The clients asked to be forgotten, ascending.
    pub targets: Vec<usize>,
    /// Accuracy on each client's own training data: [original, PUF-Special right after,
    /// retrain] (the forgotten client's entry next to the retained clients').
    pub per_client: [Vec<f64>; 3],
    /// Samples of the forgotten clients.
    pub n_target: usize,
    /// The model at the request.
    pub original: Point,
    /// Retrained from scratch without the targets (the gold standard).
    pub retrain: Point,
    /// The retrained federation's test accuracy after each round.
    pub retrain_curve: Vec<f64>,
    /// PUF-Special right after the unlearning round.
    pub special_after: Point,
    /// PUF-Special after recovery (or at the cap).
    pub special: Point,
    /// Recovery rounds after the unlearning round (None: the cap was reached first).
    pub special_rounds: Option<usize>,
    /// PUF-Special's trajectory from the request.
    pub special_traj: Trajectory,
    /// PUF-Regular right after the unlearning round.
    pub regular_after: Point,
    /// PUF-Regular after recovery (or at the cap).
    pub regular: Point,
    /// PUF-Regular's recovery rounds (None: the cap was reached first).
    pub regular_rounds: Option<usize>,
    /// PUF-Regular's trajectory from the request.
    pub regular_traj: Trajectory,
    /// Natural forgetting after as many rounds as PUF-Special used.
    pub natural: Point,
    /// Natural forgetting's trajectory from the request.
    pub natural_traj: Trajectory,
    /// max |w_new − (w + Σ c Δ)| and max |c − c_formula| over both forms.
    pub algebra_err: f64,
    /// For concurrent targets: max |w_joint − Σ_u (n_u/N_U) w_single(u)|.
    pub linearity_err: Option<f64>,
    /// Bytes of a normal round, a Special and a Regular unlearning round.
    pub bytes: [u64; 3],
    /// The backdoor stress scenario, when configured.
    pub backdoor: Option<Backdoor>,
    /// Local minibatch steps of every run of the case.
    pub steps: u64,
}

impl Case {
    /// "split1-target0" (or "split1-targets1+2"): the case's name in per-case claims.
    pub fn name(&self) -> String {
        let ids: Vec<String> = self.targets.iter().map(|t| t.to_string()).collect();
        let noun = if ids.len() == 1 { "target" } else { "targets" };
        format!("split{}-{noun}{}", self.split, ids.join("+"))
    }
}

/// The backdoor stress scenario of one case: accuracy on the target's backdoored samples
/// (shifted labels).
#[derive(Debug, Clone)]
pub struct Backdoor {
    /// Accuracy of the model at the request.
    pub original: f64,
    /// Accuracy of the retrained model.
    pub retrain: f64,
    /// After PUF-Special + recovery, one per `backdoor_etas` entry.
    pub puf: Vec<f64>,
    /// After `backdoor_natural_rounds` rounds without the target.
    pub natural: f64,
}

impl Backdoor {
    /// The forgetting ratio needs something to forget: the original classifies at least 10 %
    /// more of the backdoored samples "correctly" (shifted labels) than the retrained model.
    /// A non-finite accuracy counts as memorised, so its NaN ratio fails the claims rather than
    /// leaving the case out.
    pub fn memorised(&self) -> bool {
        let gap = self.original - self.retrain;
        gap >= 0.1 || gap.is_nan()
    }

    /// (orig − x)/(orig − retrain): 1 = forgotten as well as retraining, 0 = not at all.
    pub fn ratio(&self, x: f64) -> f64 {
        (self.original - x) / (self.original - self.retrain)
    }
}

/// Runs every split and case of `puf` at run seed `seed`.
pub fn measure(c: &Config, seed: u64, progress: &(dyn Fn(f64, &str) + Sync)) -> Result<PufResult> {
    let seeds = Seeds::new(c, seed);
    let digits = setup::digits(c, &seeds)?;
    let d = run_dataset(&digits, c, &seeds, &c.split_seeds, true, progress)?;
    progress(0.8, "digits done");
    let mixture = if c.mixture {
        let s = setup::mixture(c, &seeds)?;
        Some(run_dataset(
            &s,
            c,
            &seeds,
            &c.split_seeds[..1],
            false,
            progress,
        )?)
    } else {
        None
    };
    Ok(PufResult { digits: d, mixture })
}

/// One split's data and trained original federation.
struct Prepared {
    split: u64,
    data: Vec<Arc<Dataset>>,
    original: Original,
}

/// One trained federation.
struct Original {
    fed: FedAvg,
    test_curve: Vec<f64>,
    steps: u64,
    round_bytes: u64,
}

fn run_dataset(
    s: &Setup,
    c: &Config,
    seeds: &Seeds,
    splits: &[u64],
    primary: bool,
    progress: &(dyn Fn(f64, &str) + Sync),
) -> Result<DatasetRun> {
    let prepared = par_map(splits, |&split| {
        let data = setup::client_data(s, c, seeds.partition(split))?;
        let mut tr = setup::transport(s, c, &data, seeds.train)?;
        let original = train_original(s, c, seeds, &mut tr)?;
        Ok(Prepared {
            split,
            data,
            original,
        })
    })?;
    progress(0.2, &format!("{}: original federations trained", s.name));
    let determinism = if primary {
        Some(retrains_bit_identically(s, c, seeds, &prepared[0])?)
    } else {
        None
    };
    let mut jobs: Vec<(usize, Vec<usize>)> = Vec::new();
    for i in 0..prepared.len() {
        for &t in &c.targets {
            jobs.push((i, vec![t]));
        }
        if primary && !c.concurrent.is_empty() {
            jobs.push((i, c.concurrent.clone()));
        }
    }
    let cases = par_map(&jobs, |(i, targets)| {
        let with_backdoor = primary && c.backdoor && targets.len() == 1;
        run_case(s, c, seeds, &prepared[*i], targets, with_backdoor)
    })?;
    let (singles, pairs): (Vec<Case>, Vec<Case>) =
        cases.into_iter().partition(|k| k.targets.len() == 1);
    Ok(DatasetRun {
        originals: prepared
            .into_iter()
            .map(|p| OriginalRun {
                split: p.split,
                test_curve: p.original.test_curve,
                steps: p.original.steps,
            })
            .collect(),
        singles,
        pairs,
        determinism,
    })
}

/// Check 8: the split's original federation trained again with the serial transport.
fn retrains_bit_identically(s: &Setup, c: &Config, seeds: &Seeds, p: &Prepared) -> Result<bool> {
    let mut tr = setup::transport(s, c, &p.data, seeds.train)?.serial();
    let again = train_original(s, c, seeds, &mut tr)?;
    Ok(again
        .fed
        .weights()
        .iter()
        .zip(p.original.fed.weights())
        .all(|(a, b)| a.to_bits() == b.to_bits()))
}

fn train_original<T: Transport<Client>>(
    s: &Setup,
    c: &Config,
    seeds: &Seeds,
    tr: &mut T,
) -> Result<Original> {
    let mut ws = s.model.workspace(256);
    let mut fed = FedAvg::new(
        c.fedavg(),
        s.init.clone(),
        (0..c.clients).collect(),
        seeds.train,
    )?;
    let mut curve = Vec::new();
    let mut steps = 0;
    let mut bytes = 0;
    fed.run(tr, c.rounds, |f, r| {
        steps += r.local_steps;
        bytes = r.traffic.bytes();
        curve.push(accuracy(&s.model, f.weights(), &s.test, &mut ws));
    })?;
    Ok(Original {
        fed,
        test_curve: curve,
        steps,
        round_bytes: bytes,
    })
}

/// The model, the test set, the forgotten data and the retained clients' data of one case.
struct Evaluator<'a> {
    model: &'a Mlp,
    test: &'a Dataset,
    forget: Dataset,
    retained: Dataset,
}

impl<'a> Evaluator<'a> {
    /// The evaluator of the case that forgets `targets` among the clients with `data`.
    fn new(s: &'a Setup, data: &[Arc<Dataset>], targets: &[usize]) -> Self {
        let forget = if targets.len() == 1 {
            (*data[targets[0]]).clone()
        } else {
            setup::concat(&targets.iter().map(|&k| &*data[k]).collect::<Vec<_>>())
        };
        let retained: Vec<&Dataset> = (0..data.len())
            .filter(|k| !targets.contains(k))
            .map(|k| &*data[k])
            .collect();
        Evaluator {
            model: &s.model,
            test: &s.test,
            forget,
            retained: setup::concat(&retained),
        }
    }

    fn accs(&self, w: &[f64], ws: &mut Workspace) -> (f64, f64) {
        (
            accuracy(self.model, w, self.test, ws),
            accuracy(self.model, w, &self.forget, ws),
        )
    }

    fn point(&self, w: &[f64], ws: &mut Workspace) -> Point {
        let (test, forget) = self.accs(w, ws);
        Point {
            test,
            forget,
            mia: evaluate_mia(self.model, w, &self.forget, &self.retained, self.test, ws),
        }
    }
}

/// A trajectory with the weights after each round.
#[derive(Default)]
struct Run {
    traj: Trajectory,
    weights: Vec<Vec<f64>>,
    steps: u64,
}

impl Run {
    fn push(&mut self, w: &[f64], ev: &Evaluator<'_>, ws: &mut Workspace) {
        let (t, f) = ev.accs(w, ws);
        self.traj.test.push(t);
        self.traj.forget.push(f);
        self.weights.push(w.to_vec());
    }
}

/// One PUF form after the request: the run, the recovery rounds (counted after the unlearning
/// round), the unlearning round's report and the models right after and recovered.
struct PufRun {
    run: Run,
    rounds: Option<usize>,
    report: UnlearnReport,
    after: Point,
    recovered: Point,
    /// Index of the recovered model in the run (the last one when the cap was reached).
    recovered_at: usize,
}

/// When recovery stops (paper §2.4): at the first round whose test accuracy reaches `goal` (the
/// retrained model's), but not before `horizon` rounds are recorded, and at most `cap` rounds.
struct Stop {
    goal: f64,
    horizon: usize,
    cap: usize,
}

/// PUF then recovery until [`Stop`].
fn puf_run<T: Transport<Client>>(
    fed0: &FedAvg,
    tr: &mut T,
    targets: &[usize],
    cfg: &PufConfig,
    stop: &Stop,
    ev: &Evaluator<'_>,
    ws: &mut Workspace,
) -> Result<PufRun> {
    let mut fed = fed0.clone();
    let mut run = Run::default();
    run.push(fed.weights(), ev, ws);
    let report = unlearn(&mut fed, tr, targets, cfg)?;
    run.steps = report.round.local_steps;
    run.push(fed.weights(), ev, ws);
    let rounds = loop {
        let rec = first_reaching(&run.traj.test[1..], stop.goal);
        let done = run.traj.test.len() - 2; // recovery rounds run so far
        if (rec.is_some() && run.traj.test.len() > stop.horizon) || done >= stop.cap {
            break rec;
        }
        run.steps += fed.step(tr)?.local_steps;
        run.push(fed.weights(), ev, ws);
    };
    let recovered_at = rounds.map_or(run.weights.len() - 1, |r| r + 1);
    Ok(PufRun {
        after: ev.point(&run.weights[1], ws),
        recovered: ev.point(&run.weights[recovered_at], ws),
        run,
        rounds,
        report,
        recovered_at,
    })
}

/// Natural forgetting: FedAvg continues without the targets for `rounds` rounds.
fn natural_run<T: Transport<Client>>(
    fed0: &FedAvg,
    tr: &mut T,
    targets: &[usize],
    rounds: usize,
    ev: &Evaluator<'_>,
    ws: &mut Workspace,
) -> Result<Run> {
    let mut run = Run::default();
    run.push(fed0.weights(), ev, ws);
    let mut steps = 0;
    continue_without(fed0, targets, rounds, tr, |f, r| {
        steps += r.local_steps;
        run.push(f.weights(), ev, ws);
    })?;
    run.steps = steps;
    Ok(run)
}

/// Checks an unlearning round against the formulas of paper §2.2 from the round's own Δs:
/// the largest of max |c − c_formula| over the coefficients and max |w₁ − (w₀ + Σ c Δ)| over
/// the weights (NaN if anything is not finite).
fn algebra_error(
    w0: &[f64],
    w1: &[f64],
    rep: &UnlearnReport,
    cfg: &PufConfig,
    targets: &[usize],
    sizes: &[usize],
) -> f64 {
    let parts = &rep.round.participants;
    let size_of = |retained: bool| -> u64 {
        parts
            .iter()
            .filter(|k| targets.contains(k) != retained)
            .map(|&k| sizes[k] as u64)
            .sum()
    };
    let n_u = size_of(false);
    let n = n_u + size_of(true);
    let mut expect = w0.to_vec();
    let mut coef_diff = Vec::with_capacity(rep.coefficients.len());
    for ((k, delta), c) in rep.deltas.iter().zip(&rep.coefficients) {
        let nk = sizes[*k] as f64;
        let formula = match (cfg.mode, targets.contains(k)) {
            (PufMode::Special, _) => -cfg.eta_u * nk / n_u as f64,
            (PufMode::Regular, true) => -cfg.eta_u * nk / n as f64,
            (PufMode::Regular, false) => nk / n as f64,
        };
        coef_diff.push(c - formula);
        expect
            .iter_mut()
            .zip(delta)
            .for_each(|(e, d)| *e += formula * d);
    }
    stats::max(&[stats::max_abs(&coef_diff), stats::max_abs_diff(&expect, w1)])
}

/// Claim 4 of the paper: the joint Special update for concurrent targets against the
/// size-weighted average of the single-target updates from the same w (max abs difference);
/// returns it with the local steps spent.
fn linearity_error<T: Transport<Client>>(
    fed0: &FedAvg,
    tr: &mut T,
    targets: &[usize],
    sizes: &[usize],
    cfg: &PufConfig,
    joint: &[f64],
) -> Result<(f64, u64)> {
    let n_u: usize = targets.iter().map(|&k| sizes[k]).sum();
    let mut expect = vec![0.0; joint.len()];
    let mut steps = 0;
    for &u in targets {
        let mut fed = fed0.clone();
        let rep = unlearn(&mut fed, tr, &[u], cfg)?;
        steps += rep.round.local_steps;
        let share = sizes[u] as f64 / n_u as f64;
        expect
            .iter_mut()
            .zip(fed.weights())
            .for_each(|(e, w)| *e += share * w);
    }
    Ok((stats::max_abs_diff(&expect, joint), steps))
}

fn run_case(
    s: &Setup,
    c: &Config,
    seeds: &Seeds,
    p: &Prepared,
    targets: &[usize],
    with_backdoor: bool,
) -> Result<Case> {
    let data = &p.data;
    let orig = &p.original;
    let mut tr = setup::transport(s, c, data, seeds.train)?;
    let mut ws = s.model.workspace(256);
    let ev = Evaluator::new(s, data, targets);
    let sizes: Vec<usize> = data.iter().map(|d| d.len()).collect();
    let w0 = orig.fed.weights();
    let original = ev.point(w0, &mut ws);
    // retrain from scratch without the targets
    let mut steps = 0;
    let mut retrain_curve = Vec::new();
    let re = retrain_from_scratch(
        &orig.fed,
        s.init.clone(),
        &(0..c.clients).collect::<Vec<_>>(),
        targets,
        c.rounds,
        seeds.train,
        &mut tr,
        |f, r| {
            steps += r.local_steps;
            retrain_curve.push(accuracy(&s.model, f.weights(), &s.test, &mut ws));
        },
    )?;
    let retrain = ev.point(re.weights(), &mut ws);
    let goal = retrain.test;
    let stop = Stop {
        goal,
        horizon: c.horizon,
        cap: c.recovery_cap,
    };
    let form = |mode, eta_u| PufConfig {
        mode,
        eta_u,
        epochs: 1,
    };
    let special_cfg = form(PufMode::Special, c.eta_special);
    let regular_cfg = form(PufMode::Regular, c.eta_regular);
    let sp = puf_run(
        &orig.fed,
        &mut tr,
        targets,
        &special_cfg,
        &stop,
        &ev,
        &mut ws,
    )?;
    let w1 = &sp.run.weights[1];
    let per_client =
        [w0, w1.as_slice(), re.weights()].map(|w| client_train_accuracies(tr.nodes(), w));
    let [a, b, r] = per_client;
    let per_client = [a?, b?, r?];
    let rg = puf_run(
        &orig.fed,
        &mut tr,
        targets,
        &regular_cfg,
        &stop,
        &ev,
        &mut ws,
    )?;
    let algebra_err = stats::max(&[
        algebra_error(w0, w1, &sp.report, &special_cfg, targets, &sizes),
        algebra_error(
            w0,
            &rg.run.weights[1],
            &rg.report,
            &regular_cfg,
            targets,
            &sizes,
        ),
    ]);
    let linearity_err = if targets.len() > 1 {
        let (err, l_steps) =
            linearity_error(&orig.fed, &mut tr, targets, &sizes, &special_cfg, w1)?;
        steps += l_steps;
        Some(err)
    } else {
        None
    };
    // natural forgetting for as many rounds as PUF-Special used (and at least the horizon)
    let natural_rounds = sp.recovered_at.max(c.horizon);
    let nt = natural_run(&orig.fed, &mut tr, targets, natural_rounds, &ev, &mut ws)?;
    let natural = ev.point(&nt.weights[sp.recovered_at], &mut ws);
    let backdoor = if with_backdoor {
        let (b, b_steps) = backdoor_case(s, c, seeds, data, targets[0], &re, goal)?;
        steps += b_steps;
        Some(b)
    } else {
        None
    };
    Ok(Case {
        split: p.split,
        targets: targets.to_vec(),
        per_client,
        n_target: ev.forget.len(),
        original,
        retrain,
        retrain_curve,
        special_after: sp.after,
        special: sp.recovered,
        special_rounds: sp.rounds,
        regular_after: rg.after,
        regular: rg.recovered,
        regular_rounds: rg.rounds,
        natural,
        algebra_err,
        linearity_err,
        bytes: [
            orig.round_bytes,
            sp.report.round.traffic.bytes(),
            rg.report.round.traffic.bytes(),
        ],
        backdoor,
        steps: steps + sp.run.steps + rg.run.steps + nt.steps,
        special_traj: sp.run.traj,
        regular_traj: rg.run.traj,
        natural_traj: nt.traj,
    })
}

/// The backdoor stress scenario for one target: the target's data carries the patch and
/// shifted labels during the original training (the same seeds as the clean original);
/// forgetting is measured on that data after PUF-Special + recovery at each η_u and after
/// natural forgetting.
fn backdoor_case(
    s: &Setup,
    c: &Config,
    seeds: &Seeds,
    data: &[Arc<Dataset>],
    target: usize,
    retrained: &FedAvg,
    goal: f64,
) -> Result<(Backdoor, u64)> {
    let bd = Arc::new(setup::backdoored(&data[target]));
    let mut bdata = data.to_vec();
    bdata[target] = bd.clone();
    let mut tr = setup::transport(s, c, &bdata, seeds.train)?;
    let mut ws = s.model.workspace(256);
    let orig = train_original(s, c, seeds, &mut tr)?;
    let mut steps = orig.steps;
    let acc = |w: &[f64], ws: &mut Workspace| accuracy(&s.model, w, &bd, ws);
    let original = acc(orig.fed.weights(), &mut ws);
    // the retrained model never saw the target, so it is the clean retrain
    let retrain = acc(retrained.weights(), &mut ws);
    let mut puf = Vec::new();
    for &eta in &c.backdoor_etas {
        let mut fed = orig.fed.clone();
        let cfg = PufConfig {
            mode: PufMode::Special,
            eta_u: eta,
            epochs: 1,
        };
        steps += unlearn(&mut fed, &mut tr, &[target], &cfg)?
            .round
            .local_steps;
        let rec = recover(&mut fed, &mut tr, goal, c.recovery_cap, |w| {
            accuracy(&s.model, w, &s.test, &mut ws)
        })?;
        steps += rec.local_steps;
        puf.push(acc(fed.weights(), &mut ws));
    }
    let nat = continue_without(
        &orig.fed,
        &[target],
        c.backdoor_natural_rounds,
        &mut tr,
        |_, r| steps += r.local_steps,
    )?;
    let natural = acc(nat.weights(), &mut ws);
    Ok((
        Backdoor {
            original,
            retrain,
            puf,
            natural,
        },
        steps,
    ))
}

//! The driver loop (argmin's split: oracle, one step, loop): runs an [`Optimizer`] for a number
//! of steps, counts evaluations per step through [`EvalCounter`], reports each step to an
//! observer, and turns NaN/inf into [`Outcome::Diverged`] instead of a crash — a diverged
//! learning rate is data (DESIGN §3 "Divergence").

use std::ops::ControlFlow;

use descent_core::{Error, EvalCounter, Problem, Result};

use crate::optimizer::{Optimizer, StepInfo};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// All requested steps ran (or the observer stopped early after `steps`; [`run_with`] says
    /// which). `final_loss` is f at the final x when the problem offers `Function` (one extra,
    /// uncounted value, unless [`RunOptions::final_evaluation`] is off), else the last loss a
    /// step reported.
    Completed {
        /// Steps taken.
        steps: u64,
        /// f at the final x (or the last loss a step reported).
        final_loss: Option<f64>,
    },
    /// At step `step` (1-based) the loss or the new x was NaN or infinite. `last_finite_loss` is
    /// the last finite loss seen before.
    Diverged {
        /// The 1-based step at which a value became non-finite.
        step: u64,
        /// The last finite loss before it, if any.
        last_finite_loss: Option<f64>,
    },
}

impl Outcome {
    /// True for [`Outcome::Diverged`].
    pub fn diverged(&self) -> bool {
        matches!(self, Outcome::Diverged { .. })
    }

    /// The final loss of a completed run (`None` when it diverged or saw no loss).
    pub fn final_loss(&self) -> Option<f64> {
        match self {
            Outcome::Completed { final_loss, .. } => *final_loss,
            Outcome::Diverged { .. } => None,
        }
    }
}

/// What the observer sees after each step.
#[derive(Debug, Clone, Copy)]
pub struct StepRecord<'a> {
    /// 1-based step index.
    pub step: u64,
    /// The step's report, with `evals` filled by the driver.
    pub info: &'a StepInfo,
    /// The parameters after the step.
    pub x: &'a [f64],
}

/// An observer that never stops the run.
pub fn no_observer(_: &StepRecord<'_>) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Why a run stopped (argmin's termination reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopReason {
    /// All requested steps ran.
    Budget,
    /// The observer returned `ControlFlow::Break`.
    Observer,
    /// The loss, x or the final loss became NaN or infinite.
    Diverged,
}

/// The settings of [`run_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// At most this many steps.
    pub steps: u64,
    /// Evaluate f at the final x for [`Outcome::Completed`]'s `final_loss` (one extra value,
    /// not counted) when the problem offers `Function`; without it `final_loss` is the last
    /// loss a step reported (the loss at the start of the last step).
    pub final_evaluation: bool,
}

impl RunOptions {
    /// `steps` steps with the final evaluation, as [`run`] does.
    pub fn steps(steps: u64) -> Self {
        RunOptions {
            steps,
            final_evaluation: true,
        }
    }

    /// The same without the extra evaluation at the end.
    pub fn without_final_evaluation(self) -> Self {
        RunOptions {
            final_evaluation: false,
            ..self
        }
    }
}

/// How and why a run of [`run_with`] ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunEnd {
    /// How the run ended.
    pub outcome: Outcome,
    /// Why it stopped.
    pub reason: StopReason,
}

/// Runs `optimizer` on `problem` from `x` for at most `steps` steps; `x` holds the final
/// parameters. The optimizer must already be [`Optimizer::init`]-ed (or loaded from a state), so
/// a run can resume. First checks `optimizer.requires()` against the problem, so a mismatch is an
/// error naming both sides. The observer can stop the run early with `ControlFlow::Break`.
/// Divergence (NaN/inf in the loss or in x after a step, which covers a non-finite update) ends
/// the run with [`Outcome::Diverged`]; errors from the optimizer are returned as errors.
/// The final loss is evaluated at the final x; [`run_with`] says why the run stopped and can
/// leave that evaluation out.
///
/// # Errors
///
/// A problem lacking what the optimizer `requires()` (naming both), a starting point of the wrong length, or an error of the optimizer's step.
pub fn run(
    optimizer: &mut dyn Optimizer,
    x: &mut [f64],
    problem: &mut dyn Problem,
    steps: u64,
    observer: impl FnMut(&StepRecord<'_>) -> ControlFlow<()>,
) -> Result<Outcome> {
    run_with(optimizer, x, problem, RunOptions::steps(steps), observer).map(|end| end.outcome)
}

/// [`run`] with options, returning why the run stopped as well (budget reached, observer
/// stopped, diverged).
///
/// # Errors
///
/// As [`run`].
pub fn run_with(
    optimizer: &mut dyn Optimizer,
    x: &mut [f64],
    problem: &mut dyn Problem,
    options: RunOptions,
    mut observer: impl FnMut(&StepRecord<'_>) -> ControlFlow<()>,
) -> Result<RunEnd> {
    optimizer.requires().check(&optimizer.name(), problem)?;
    problem.layout().check_len("starting point", x.len())?;
    if x.iter().any(|v| !v.is_finite()) {
        return Err(Error::invalid(
            "starting point",
            "a non-finite entry",
            "finite numbers",
        ));
    }
    let diverged = |step, last_finite_loss| RunEnd {
        outcome: Outcome::Diverged {
            step,
            last_finite_loss,
        },
        reason: StopReason::Diverged,
    };
    let mut counted = EvalCounter::new(problem);
    let mut last_finite: Option<f64> = None;
    let mut last_loss: Option<f64> = None;
    let mut done = 0;
    let mut reason = StopReason::Budget;
    for step in 1..=options.steps {
        let before = counted.counts();
        let mut info = optimizer.step(x, &mut counted)?;
        info.evals = counted.counts() - before;
        if let Some(l) = info.loss {
            if !l.is_finite() {
                return Ok(diverged(step, last_finite));
            }
            last_finite = Some(l);
            last_loss = Some(l);
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Ok(diverged(step, last_finite));
        }
        done = step;
        let record = StepRecord {
            step,
            info: &info,
            x,
        };
        if observer(&record).is_break() {
            reason = StopReason::Observer;
            break;
        }
    }
    let final_loss = match counted.inner_mut().as_function() {
        Some(f) if options.final_evaluation => Some(f.value(x)),
        _ => last_loss,
    };
    if let Some(l) = final_loss
        && !l.is_finite()
    {
        return Ok(diverged(done, last_finite));
    }
    Ok(RunEnd {
        outcome: Outcome::Completed {
            steps: done,
            final_loss,
        },
        reason,
    })
}

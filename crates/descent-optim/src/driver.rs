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
    /// All requested steps ran (or the observer stopped early after `steps`). `final_loss` is
    /// f at the final x when the problem offers `Function` (one extra, uncounted value), else the
    /// last loss a step reported.
    Completed { steps: u64, final_loss: Option<f64> },
    /// At step `step` (1-based) the loss or the new x was NaN or infinite. `last_finite_loss` is
    /// the last finite loss seen before.
    Diverged {
        step: u64,
        last_finite_loss: Option<f64>,
    },
}

impl Outcome {
    /// True for [`Outcome::Diverged`].
    pub fn diverged(&self) -> bool {
        matches!(self, Outcome::Diverged { .. })
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

/// Runs `optimizer` on `problem` from `x` for at most `steps` steps; `x` holds the final
/// parameters. The optimizer must already be [`Optimizer::init`]-ed (or loaded from a state), so
/// a run can resume. First checks `optimizer.requires()` against the problem, so a mismatch is an
/// error naming both sides. The observer can stop the run early with `ControlFlow::Break`.
/// Divergence (NaN/inf in the loss or in x after a step, which covers a non-finite update) ends
/// the run with [`Outcome::Diverged`]; errors from the optimizer are returned as errors.
pub fn run(
    optimizer: &mut dyn Optimizer,
    x: &mut [f64],
    problem: &mut dyn Problem,
    steps: u64,
    mut observer: impl FnMut(&StepRecord<'_>) -> ControlFlow<()>,
) -> Result<Outcome> {
    optimizer.requires().check(&optimizer.name(), problem)?;
    problem.layout().check_len("starting point", x.len())?;
    if x.iter().any(|v| !v.is_finite()) {
        return Err(Error::invalid(
            "starting point",
            "a non-finite entry",
            "finite numbers",
        ));
    }
    let mut counted = EvalCounter::new(problem);
    let mut last_finite: Option<f64> = None;
    let mut last_loss: Option<f64> = None;
    let mut done = 0;
    for step in 1..=steps {
        let before = counted.counts();
        let mut info = optimizer.step(x, &mut counted)?;
        info.evals = counted.counts() - before;
        if let Some(l) = info.loss {
            if !l.is_finite() {
                return Ok(Outcome::Diverged {
                    step,
                    last_finite_loss: last_finite,
                });
            }
            last_finite = Some(l);
            last_loss = Some(l);
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Ok(Outcome::Diverged {
                step,
                last_finite_loss: last_finite,
            });
        }
        done = step;
        let record = StepRecord {
            step,
            info: &info,
            x,
        };
        if observer(&record).is_break() {
            break;
        }
    }
    let final_loss = match counted.inner_mut().as_function() {
        Some(f) => Some(f.value(x)),
        None => last_loss,
    };
    if let Some(l) = final_loss
        && !l.is_finite()
    {
        return Ok(Outcome::Diverged {
            step: done,
            last_finite_loss: last_finite,
        });
    }
    Ok(Outcome::Completed {
        steps: done,
        final_loss,
    })
}

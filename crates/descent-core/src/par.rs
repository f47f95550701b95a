//! A thread budget for the large products inside ONE run (opt-in, default 1).
//!
//! DESIGN §3 runs each run sequentially and spreads independent runs over rayon; a single large
//! run (ENGD's Jacobian, Gram matrix and line search; an MLP step at a large batch) can instead
//! borrow N threads for its own products. [`Threads::install`] makes a budget active on the
//! calling thread; [`crate::linalg::gemm`], [`crate::linalg::syrk_lower`] and the engines of
//! descent-nn then split their work with [`run_parts`].
//!
//! **Determinism.** Work is split by *output*, never by reduction: every part writes its own
//! rows (or its own step sizes, or its own samples), and the partition depends only on the
//! problem's shape and N. Every output element is therefore computed by the same sequence of
//! operations whatever thread runs it, so results are bit-identical from run to run for a given
//! N. (Across different N a product may still differ in the last bits, because faer blocks a
//! smaller sub-product differently; element-wise work split by samples or step sizes is
//! bit-identical for every N.)

use std::cell::RefCell;
use std::sync::Arc;

use crate::{Error, Result};

/// N threads for the products of one run: the calling thread plus a pool of N − 1 workers
/// (no pool at all for N = 1). Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Threads {
    n: usize,
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl std::fmt::Debug for Threads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Threads({})", self.n)
    }
}

impl Default for Threads {
    fn default() -> Self {
        Threads { n: 1, pool: None }
    }
}

thread_local! {
    static ACTIVE: RefCell<Option<Threads>> = const { RefCell::new(None) };
}

impl Threads {
    /// A budget of `n ≥ 1` threads (`field` names the setting in the error for n = 0).
    ///
    /// # Errors
    ///
    /// n = 0 (naming `field`), or a thread pool that cannot be built.
    pub fn new(n: usize, field: &str) -> Result<Threads> {
        if n == 0 {
            return Err(Error::invalid(field, n, "at least 1 thread"));
        }
        if n == 1 {
            return Ok(Threads::default());
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n - 1)
            .thread_name(|i| format!("descent-run-{i}"))
            .build()
            .map_err(|e| Error::invalid(field, n, format!("a thread pool could be built: {e}")))?;
        Ok(Threads {
            n,
            pool: Some(Arc::new(pool)),
        })
    }

    /// The number of threads N.
    pub fn count(&self) -> usize {
        self.n
    }

    /// Runs `f` with this budget active on the calling thread (restored afterwards, also on a
    /// panic). With N = 1 it only runs `f`.
    pub fn install<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.pool.is_none() {
            return f();
        }
        let _restore = Swap::new(Some(self.clone()));
        f()
    }
}

/// Sets the active budget and puts the previous one back when dropped.
struct Swap(Option<Threads>);

impl Swap {
    fn new(next: Option<Threads>) -> Swap {
        Swap(ACTIVE.with(|a| a.replace(next)))
    }
}

impl Drop for Swap {
    fn drop(&mut self) {
        let prev = self.0.take();
        ACTIVE.with(|a| *a.borrow_mut() = prev);
    }
}

/// The number of threads active on this thread: N inside [`Threads::install`], 1 elsewhere
/// (also inside a part run by [`run_parts`], so parts never split again).
pub fn threads() -> usize {
    ACTIVE.with(|a| a.borrow().as_ref().map_or(1, |t| t.n))
}

/// Runs `f(i, part)` for every part, part 0 on the calling thread and the others on the active
/// budget's workers, and returns when all are done; sequentially in order when no budget is
/// active. The parts must be disjoint outputs (e.g. `chunks_mut`): each is written by exactly
/// one call, which is what makes the result independent of scheduling.
pub fn run_parts<T: Send>(parts: Vec<T>, f: impl Fn(usize, T) + Sync) {
    let pool = ACTIVE.with(|a| a.borrow().as_ref().and_then(|t| t.pool.clone()));
    let Some(pool) = pool.filter(|_| parts.len() > 1) else {
        parts.into_iter().enumerate().for_each(|(i, p)| f(i, p));
        return;
    };
    let _inner = Swap::new(None);
    let f = &f;
    pool.in_place_scope(|s| {
        let mut it = parts.into_iter().enumerate();
        let first = it.next();
        for (i, p) in it {
            s.spawn(move |_| f(i, p));
        }
        if let Some((i, p)) = first {
            f(i, p);
        }
    });
}

/// Boundaries of `parts` contiguous ranges of `0..len` of near-equal size, each a multiple of
/// `align` long except the last (so a range of rows can hold whole samples).
pub fn even_bounds(len: usize, parts: usize, align: usize) -> Vec<usize> {
    let units = len.div_ceil(align.max(1));
    let parts = parts.clamp(1, units.max(1));
    (0..=parts)
        .map(|i| ((units * i / parts) * align).min(len))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_run_once_each_and_budget_is_scoped() {
        assert_eq!(threads(), 1);
        let t = Threads::new(3, "threads").unwrap();
        let mut out = vec![0usize; 10];
        t.install(|| {
            assert_eq!(threads(), 3);
            let b = even_bounds(10, 3, 1);
            assert_eq!(b, vec![0, 3, 6, 10]);
            let mut rest = out.as_mut_slice();
            let mut parts = Vec::new();
            for w in b.windows(2) {
                let (head, tail) = rest.split_at_mut(w[1] - w[0]);
                parts.push((w[0], head));
                rest = tail;
            }
            run_parts(parts, |i, (start, chunk)| {
                assert_eq!(threads(), 1, "parts never split again");
                for (j, v) in chunk.iter_mut().enumerate() {
                    *v = 100 * i + start + j;
                }
            });
        });
        assert_eq!(threads(), 1);
        assert_eq!(out, vec![0, 1, 2, 103, 104, 105, 206, 207, 208, 209]);
        assert!(Threads::new(0, "x.threads").is_err());
        assert_eq!(even_bounds(10, 4, 4), vec![0, 4, 8, 10]);
    }
}

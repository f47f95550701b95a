//! The one parallel job runner of the lab: independent runs (an optimizer spec × a seed, a sweep
//! point, a case) go to rayon, and results come back in job order, so a run is bit-identical
//! to a serial one whatever the thread count (DESIGN §3 "Randomness and determinism").

use descent_core::Result;
use rayon::prelude::*;

/// Runs `f` on every job in parallel; results (or the first error in job order) in job order.
pub fn par_map<J: Sync, R: Send>(
    jobs: &[J],
    f: impl Fn(&J) -> Result<R> + Sync + Send,
) -> Result<Vec<R>> {
    let results: Vec<Result<R>> = jobs.par_iter().map(f).collect();
    results.into_iter().collect()
}

/// Runs `f(i)` for i in 0..n in parallel; results in index order.
pub fn par_range<R: Send>(
    n: usize,
    f: impl Fn(usize) -> Result<R> + Sync + Send,
) -> Result<Vec<R>> {
    let results: Vec<Result<R>> = (0..n).into_par_iter().map(f).collect();
    results.into_iter().collect()
}

/// Runs `f(spec, seed)` for every spec index in 0..specs and seed index in 0..seeds in
/// parallel; `result[spec][seed]`.
pub fn par_grid<R: Send>(
    specs: usize,
    seeds: usize,
    f: impl Fn(usize, usize) -> Result<R> + Sync + Send,
) -> Result<Vec<Vec<R>>> {
    let flat = par_range(specs * seeds, |k| f(k / seeds, k % seeds))?;
    let mut it = flat.into_iter();
    Ok((0..specs)
        .map(|_| it.by_ref().take(seeds).collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::Error;

    #[test]
    fn results_come_back_in_job_order_with_the_first_error() {
        let jobs: Vec<u64> = (0..200).collect();
        let out = par_map(&jobs, |j| Ok(j * j)).unwrap();
        assert_eq!(out, jobs.iter().map(|j| j * j).collect::<Vec<_>>());
        let grid = par_grid(3, 4, |a, b| Ok((a, b))).unwrap();
        assert_eq!(grid.len(), 3);
        assert_eq!(grid[2], vec![(2, 0), (2, 1), (2, 2), (2, 3)]);
        let err = par_range(100, |i| {
            if i % 30 == 17 {
                Err(Error::invalid("job", i, "no failure"))
            } else {
                Ok(i)
            }
        })
        .unwrap_err();
        assert!(err.to_string().contains("got 17"), "{err}");
    }
}

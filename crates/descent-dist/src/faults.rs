//! Simulated faults shared by every backend of the [`Transport`](crate::Transport): client
//! drop-outs and failing links, drawn from hashes so that all backends and all MPI ranks agree.

use descent_core::{Error, Result};

/// Simulated faults, decided by hashes of (seed, round, node or link) so that every backend
/// (and every MPI rank) draws the same ones: node k misses round t with probability `dropout`;
/// the directed link i → j fails in a point-to-point round with probability `link_failure`, and
/// every link of a dropped-out node fails.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    dropout: f64,
    dropout_seed: u64,
    link_failure: f64,
    link_seed: u64,
}

impl Faults {
    /// Each node misses each round with probability `p` in [0, 1).
    pub fn with_dropout(mut self, p: f64, seed: u64) -> Result<Self> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::invalid(
                "transport.dropout",
                p,
                "a probability in [0, 1)",
            ));
        }
        self.dropout = p;
        self.dropout_seed = seed;
        Ok(self)
    }

    /// Each directed link fails in each point-to-point round with probability `p` in [0, 1).
    pub fn with_link_failures(mut self, p: f64, seed: u64) -> Result<Self> {
        if !(0.0..1.0).contains(&p) {
            return Err(Error::invalid(
                "transport.link_failure",
                p,
                "a probability in [0, 1)",
            ));
        }
        self.link_failure = p;
        self.link_seed = seed;
        Ok(self)
    }

    /// True when node `k` drops out of round `round`.
    pub fn drops(&self, round: u64, k: usize) -> bool {
        if self.dropout == 0.0 {
            return false;
        }
        let h = descent_core::rng::splitmix64(
            self.dropout_seed ^ descent_core::rng::splitmix64(round ^ ((k as u64) << 40)),
        );
        ((h >> 11) as f64 / (1u64 << 53) as f64) < self.dropout
    }

    /// True when the link `from → to` fails in point-to-point round `round` (its own failure,
    /// or either end dropping out of the round).
    pub fn link_fails(&self, round: u64, from: usize, to: usize) -> bool {
        if self.drops(round, from) || self.drops(round, to) {
            return true;
        }
        if self.link_failure == 0.0 {
            return false;
        }
        use descent_core::rng::splitmix64;
        let h = splitmix64(
            self.link_seed
                ^ splitmix64(round ^ splitmix64(((from as u64) << 32) ^ (to as u64) ^ 0x5eed)),
        );
        ((h >> 11) as f64 / (1u64 << 53) as f64) < self.link_failure
    }
}

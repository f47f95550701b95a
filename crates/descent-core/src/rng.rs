//! Named, independent, reproducible random streams derived from one run seed (DESIGN §3).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// The random generator used everywhere outside hot simulation loops.
pub type Rng = ChaCha8Rng;

/// The generator of hot simulation loops (P1's drift runs draw ~10⁹ normals): xoshiro256++, about
/// twice as fast per draw as ChaCha8 and statistically sound for Monte Carlo. Seeded from a
/// [`RngStreams`] stream with [`RngStreams::sim`].
pub type SimRng = rand_xoshiro::Xoshiro256PlusPlus;

/// One standard normal draw by rand_distr's ziggurat ([`StandardNormal`]); about 3 ns with
/// [`SimRng`].
#[inline(always)]
pub fn std_normal<R: rand::Rng + ?Sized>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

/// Derives independent ChaCha8 streams from one `u64` seed: the stream for a name (and an index,
/// e.g. a client id) is `ChaCha8Rng::seed_from_u64(seed)` with `set_stream(hash(name, index))`.
/// Equal (seed, name, index) give equal sequences; different names give independent ones, so
/// adding a consumer of randomness never shifts another's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RngStreams {
    seed: u64,
}

impl RngStreams {
    /// Streams for this run seed.
    pub fn new(seed: u64) -> Self {
        RngStreams { seed }
    }

    /// The run seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The stream called `name` (`"init"`, `"batches"`, `"noise"`, `"split"`, ...).
    pub fn stream(&self, name: &str) -> Rng {
        self.indexed(name, 0)
    }

    /// The `index`-th stream called `name` (one per client, node, seed repeat, ...).
    pub fn indexed(&self, name: &str, index: u64) -> Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(stream_id(name, index));
        rng
    }

    /// The `index`-th fast simulation stream called `name` ([`SimRng`]), seeded from a mixed
    /// (seed, name, index) so equal triples give equal sequences.
    pub fn sim(&self, name: &str, index: u64) -> SimRng {
        SimRng::seed_from_u64(splitmix64(self.seed ^ stream_id(name, index)))
    }

    /// A child seed for an independent sub-run (e.g. the k-th seed of a comparison).
    pub fn child_seed(&self, name: &str, index: u64) -> u64 {
        splitmix64(self.seed ^ stream_id(name, index))
    }
}

/// FNV-1a over the name, mixed with the index: a stable (platform- and version-independent) id.
fn stream_id(name: &str, index: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix64(h ^ splitmix64(index))
}

/// The splitmix64 finaliser: a bijective mixer of 64-bit integers.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn sim_streams_are_reproducible_and_normal() {
        let s = RngStreams::new(3);
        let mut a = s.sim("noise", 0);
        let mut b = s.sim("noise", 0);
        let mut c = s.sim("noise", 1);
        let (x, y, z) = (std_normal(&mut a), std_normal(&mut b), std_normal(&mut c));
        assert_eq!(x, y);
        assert_ne!(x, z);
        let n = 200_000;
        let (mut m1, mut m2, mut m4) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let v = std_normal(&mut a);
            m1 += v;
            m2 += v * v;
            m4 += v * v * v * v;
        }
        let (m1, m2, m4) = (m1 / n as f64, m2 / n as f64, m4 / n as f64);
        // standard errors: 1/√n ≈ 0.0022, √(2/n) ≈ 0.0032, √(96/n) ≈ 0.022
        assert!(m1.abs() < 0.01, "{m1}");
        assert!((m2 - 1.0).abs() < 0.015, "{m2}");
        assert!((m4 - 3.0).abs() < 0.1, "{m4}");
    }

    #[test]
    fn equal_names_equal_streams_different_names_differ() {
        let s = RngStreams::new(7);
        let a: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(s.stream("init"), |r, _: u64| Some(r.random()))
            .collect();
        let b: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(s.stream("init"), |r, _: u64| Some(r.random()))
            .collect();
        let c: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(s.stream("batches"), |r, _: u64| Some(r.random()))
            .collect();
        let d: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(s.indexed("init", 1), |r, _: u64| Some(r.random()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        let e: Vec<u64> = (0..4)
            .map(|_| 0)
            .scan(RngStreams::new(8).stream("init"), |r, _: u64| {
                Some(r.random())
            })
            .collect();
        assert_ne!(a, e);
    }
}

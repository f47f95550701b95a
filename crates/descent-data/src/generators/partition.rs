//! Dirichlet non-IID partitions of a dataset over clients or nodes (P3 §2, P9 §5).

use super::*;

/// A partition of a dataset's samples among K clients.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// Sample indices of each client, ascending.
    pub clients: Vec<Vec<usize>>,
    /// `histogram[k][c]`: samples of class c held by client k.
    pub histogram: Vec<Vec<usize>>,
    /// Draws needed to satisfy the minimum client size (1 when the first draw did).
    pub attempts: usize,
}

impl Partition {
    /// Per-class Dirichlet partition (Hsu et al. 2019, as P3 §2 and P9's non-IID variant): for
    /// each class c, draw p ~ Dir(α·1_K) and give client k its largest-remainder share of
    /// round(p_k·n_c) of the class's samples (shuffled), so the shares sum to n_c exactly. The
    /// whole draw is repeated while some client holds fewer than `min_size` samples (P3: 10), up
    /// to 1000 times. Small α gives clients few classes each; α → ∞ gives IID shares.
    ///
    /// # Errors
    ///
    /// Real (non-class) targets, zero clients, α not finite and > 0, or a `min_size` no draw meets, naming the field.
    pub fn dirichlet(
        data: &Dataset,
        clients: usize,
        alpha: f64,
        min_size: usize,
        rng: &mut Rng,
    ) -> Result<Partition> {
        let Targets::Classes { labels, n_classes } = &data.targets else {
            return Err(Error::invalid(
                "partition data",
                format!("'{}' with real targets", data.name),
                "a dataset with class labels (the Dirichlet split is per class)",
            ));
        };
        if clients == 0 {
            return Err(Error::invalid("partition.clients", 0, "an integer >= 1"));
        }
        if !(alpha > 0.0 && alpha.is_finite()) {
            return Err(Error::invalid(
                "partition.alpha",
                alpha,
                "a finite number > 0",
            ));
        }
        if min_size * clients > labels.len() {
            return Err(Error::invalid(
                "partition.min_size",
                min_size,
                format!(
                    "at most {} ({} samples over {clients} clients)",
                    labels.len() / clients,
                    labels.len()
                ),
            ));
        }
        let gamma = Gamma::new(alpha, 1.0)
            .map_err(|e| Error::invalid("partition.alpha", alpha, e.to_string()))?;
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); *n_classes];
        labels
            .iter()
            .enumerate()
            .for_each(|(i, &c)| by_class[c].push(i));
        const MAX_ATTEMPTS: usize = 1000;
        let mut p = vec![0.0; clients];
        for attempt in 1..=MAX_ATTEMPTS {
            let mut assigned: Vec<Vec<usize>> = vec![Vec::new(); clients];
            let mut histogram = vec![vec![0usize; *n_classes]; clients];
            for (c, members) in by_class.iter_mut().enumerate() {
                shuffle(members, rng);
                p.iter_mut().for_each(|v| *v = gamma.sample(rng));
                let total: f64 = p.iter().sum();
                if total > 0.0 {
                    p.iter_mut().for_each(|v| *v /= total);
                } else {
                    // every Gamma draw underflowed (α ≪ 1): the class goes to one client
                    p.fill(0.0);
                    p[rng.random_range(0..clients)] = 1.0;
                }
                let counts = largest_remainder(&p, members.len());
                let mut start = 0;
                for (k, &m) in counts.iter().enumerate() {
                    assigned[k].extend_from_slice(&members[start..start + m]);
                    histogram[k][c] = m;
                    start += m;
                }
            }
            if assigned.iter().all(|a| a.len() >= min_size) {
                assigned.iter_mut().for_each(|a| a.sort_unstable());
                return Ok(Partition {
                    clients: assigned,
                    histogram,
                    attempts: attempt,
                });
            }
        }
        Err(Error::invalid(
            "partition.min_size",
            min_size,
            format!(
                "a size every client reaches within {MAX_ATTEMPTS} Dirichlet(α={alpha}) draws; \
                 lower it or raise alpha"
            ),
        ))
    }

    /// An IID partition: a random permutation cut into K parts whose sizes differ by at most one.
    ///
    /// # Errors
    ///
    /// Zero clients, or more clients than samples.
    pub fn iid(data: &Dataset, clients: usize, rng: &mut Rng) -> Result<Partition> {
        if clients == 0 || clients > data.len() {
            return Err(Error::invalid(
                "partition.clients",
                clients,
                format!("an integer in 1..={} (the number of samples)", data.len()),
            ));
        }
        let n = data.len();
        let mut perm: Vec<usize> = (0..n).collect();
        shuffle(&mut perm, rng);
        let mut parts: Vec<Vec<usize>> = (0..clients)
            .map(|k| perm[k * n / clients..(k + 1) * n / clients].to_vec())
            .collect();
        parts.iter_mut().for_each(|a| a.sort_unstable());
        let histogram = histogram_of(data, &parts);
        Ok(Partition {
            clients: parts,
            histogram,
            attempts: 1,
        })
    }

    /// The samples of client `k` as a dataset named `<name>[client k]`.
    pub fn client_data(&self, data: &Dataset, k: usize) -> Dataset {
        let mut d = data.subset(&self.clients[k]);
        d.name = format!("{}[client {k}]", data.name);
        d
    }

    /// Number of samples of each client.
    pub fn sizes(&self) -> Vec<usize> {
        self.clients.iter().map(Vec::len).collect()
    }
}

/// Per-client class counts (empty rows for real targets).
fn histogram_of(data: &Dataset, parts: &[Vec<usize>]) -> Vec<Vec<usize>> {
    match &data.targets {
        Targets::Classes { labels, n_classes } => parts
            .iter()
            .map(|p| {
                let mut h = vec![0; *n_classes];
                p.iter().for_each(|&i| h[labels[i]] += 1);
                h
            })
            .collect(),
        Targets::Real { .. } => vec![Vec::new(); parts.len()],
    }
}

fn shuffle(v: &mut [usize], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
}

/// Integer shares of `n` proportional to `p` (sums to 1): floors plus one for the largest
/// remainders (ties to the lower index).
fn largest_remainder(p: &[f64], n: usize) -> Vec<usize> {
    let exact: Vec<f64> = p.iter().map(|v| v * n as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|v| v.floor() as usize).collect();
    let assigned: usize = counts.iter().sum();
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &k in order.iter().take(n.saturating_sub(assigned)) {
        counts[k] += 1;
    }
    counts
}

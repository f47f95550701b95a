//! Per-sample scores of softmax outputs, row-major `n × width` (P2 spec §2.3, §2.5).
//!
//! | score | formula | queried first |
//! |---|---|---|
//! | [`samis_p`] | ‖p_A − p_B‖₁ over all K+1 outputs (Agiollo et al., KDD 2024) | highest (SAMOSA) |
//! | [`entropy`] | −Σ p log p | highest |
//! | [`margin`] | p₍₁₎ − p₍₂₎ | lowest |
//! | [`least_confidence`] | 1 − max p | highest |

/// Row-wise softmax of logits (`n × width`, row-major), in place, shifted by each row's maximum
/// so large logits do not overflow.
pub fn softmax_rows(logits: &mut [f64], width: usize) {
    assert!(
        width > 0 && logits.len().is_multiple_of(width),
        "rows of the width"
    );
    for row in logits.chunks_exact_mut(width) {
        let m = row_max(row);
        let mut z = 0.0;
        for v in row.iter_mut() {
            *v = (*v - m).exp();
            z += *v;
        }
        row.iter_mut().for_each(|v| *v /= z);
    }
}

/// The index of each row's largest entry (the first on ties).
pub fn argmax_rows(p: &[f64], width: usize) -> Vec<usize> {
    p.chunks_exact(width)
        .map(|row| {
            let mut best = 0;
            for (j, v) in row.iter().enumerate() {
                if *v > row[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// SAMIS-P: the L1 distance Σⱼ |p_A,j − p_B,j| between two models' softmax outputs, row by row
/// over every output including the "unknown" one (pitfall 2: not renormalised). In [0, 2] and
/// symmetric in A and B. Panics when the shapes differ (a programming error).
pub fn samis_p(pa: &[f64], pb: &[f64], width: usize) -> Vec<f64> {
    assert_eq!(pa.len(), pb.len(), "two outputs of the same shape");
    pa.chunks_exact(width)
        .zip(pb.chunks_exact(width))
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum())
        .collect()
}

/// Shannon entropy −Σ p log p of each row (0 log 0 = 0), in nats.
pub fn entropy(p: &[f64], width: usize) -> Vec<f64> {
    p.chunks_exact(width)
        .map(|row| {
            -row.iter()
                .filter(|v| **v > 0.0)
                .map(|v| v * v.ln())
                .sum::<f64>()
        })
        .collect()
}

/// Top-1 minus top-2 probability of each row (1 for a single output).
pub fn margin(p: &[f64], width: usize) -> Vec<f64> {
    p.chunks_exact(width)
        .map(|row| {
            let (mut first, mut second) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
            for &v in row {
                if v > first {
                    second = first;
                    first = v;
                } else if v > second {
                    second = v;
                }
            }
            if second == f64::NEG_INFINITY {
                1.0
            } else {
                first - second
            }
        })
        .collect()
}

/// 1 − max p of each row.
pub fn least_confidence(p: &[f64], width: usize) -> Vec<f64> {
    p.chunks_exact(width)
        .map(|row| 1.0 - row_max(row))
        .collect()
}

/// The largest entry, NaN if any entry is NaN (a fold with `f64::max` would skip it).
fn row_max(row: &[f64]) -> f64 {
    row.iter().copied().fold(f64::NEG_INFINITY, |m, v| {
        if v.is_nan() || m.is_nan() {
            f64::NAN
        } else if v > m {
            v
        } else {
            m
        }
    })
}

/// The positions of the `k` best scores, best first, with a stable order: ties keep the lower
/// position first (pitfall 12: many scores tie, e.g. at 0). `descending` puts the highest
/// scores first. NaN scores sort last either way.
pub fn top_k(scores: &[f64], k: usize, descending: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| rank(scores[a], scores[b], descending));
    order.truncate(k);
    order
}

/// The ordering of two scores for [`top_k`]: best first, NaN last.
pub(crate) fn rank(a: f64, b: f64, descending: bool) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ if descending => b.total_cmp(&a),
        _ => a.total_cmp(&b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_hand_computations() {
        let mut p = vec![0.0, 0.0, 2f64.ln(), 1000.0, 0.0, 0.0];
        softmax_rows(&mut p, 3);
        assert!((p[0] - 0.25).abs() < 1e-15 && (p[2] - 0.5).abs() < 1e-15);
        assert!(
            (p[3] - 1.0).abs() < 1e-15 && p[4] < 1e-300,
            "no overflow: {p:?}"
        );
        assert_eq!(argmax_rows(&p, 3), [2, 0]);
        let h = entropy(&p, 3);
        assert!((h[0] - (0.5 * 4f64.ln() + 0.5 * 2f64.ln())).abs() < 1e-15);
        assert_eq!(h[1], 0.0);
        let m = margin(&p, 3);
        assert!((m[0] - 0.25).abs() < 1e-15 && (m[1] - 1.0).abs() < 1e-15);
        assert_eq!(margin(&[0.3, 0.3, 0.4], 3)[0], 0.10000000000000003);
        assert_eq!(margin(&[1.0], 1), [1.0]);
        assert!(least_confidence(&[0.2, f64::NAN, 0.8], 3)[0].is_nan());
        let mut bad = [1.0, f64::NAN];
        softmax_rows(&mut bad, 2);
        assert!(bad.iter().all(|v| v.is_nan()));
        let lc = least_confidence(&p, 3);
        assert!((lc[0] - 0.5).abs() < 1e-15);
        let s = samis_p(&[0.5, 0.5, 0.0, 1.0], &[0.0, 1.0, 1.0, 0.0], 2);
        assert_eq!(s, [1.0, 2.0]);
    }

    #[test]
    fn top_k_is_stable_and_puts_nan_last() {
        let s = [0.5, 1.0, 0.5, f64::NAN, 1.0, 0.0];
        assert_eq!(top_k(&s, 4, true), [1, 4, 0, 2]);
        assert_eq!(top_k(&s, 6, false), [5, 0, 2, 1, 4, 3]);
        assert_eq!(top_k(&s, 10, true).len(), 6);
    }
}

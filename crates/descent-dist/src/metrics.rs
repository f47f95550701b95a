//! Evaluation of federated (un)learning (P3 §4.2): accuracy on any data, and two
//! membership-inference attacks (MIA) on the forgotten client's data.
//!
//! - **Yeom** (loss threshold): threshold = mean cross-entropy over the retained clients'
//!   training data; a sample is called a member when its loss ≤ threshold.
//! - **Confidence** (the authors' 1-feature SVC on the true-class probability, here its 1-D
//!   equivalent): the threshold on the true-class probability that best separates shadow members
//!   (retained clients' training data) from shadow non-members (test data), by balanced accuracy;
//!   a sample is a member when its probability ≥ threshold.
//!
//! Both are reported as the member rate on the target's data (success means matching the
//! retrained model's rate, not reaching 0: P3 §6.9) and, threshold-free, as the attack AUC of
//! the target's samples against the test samples. Both attacks score a sample by its true-class
//! probability p (the loss is −ln p), so they share one AUC.

use descent_core::{Error, Result};
use descent_data::{Dataset, Targets};
use descent_nn::{Loss, Model};
use serde::{Deserialize, Serialize};

use crate::client::Client;

/// Accuracy of `params` on `data` (class targets).
pub fn accuracy<M: Model>(model: &M, params: &[f64], data: &Dataset, ws: &mut M::Workspace) -> f64 {
    model
        .evaluate(params, data, Loss::SoftmaxCe, ws)
        .accuracy
        .unwrap_or(f64::NAN)
}

/// Accuracy of the global weights `params` on each client's own training data, in the order of
/// `clients` (P3 §4.2: "accuracy on each client's train data"; after unlearning, the forgotten
/// client's value next to the retained clients' shows what was forgotten). Each client's data is
/// evaluated under its own model; `params` of the wrong length is an error naming the client.
pub fn client_train_accuracies<M: Model>(
    clients: &[Client<M>],
    params: &[f64],
) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(clients.len());
    for c in clients {
        let model = c.model();
        if params.len() != model.n_params() {
            return Err(Error::shape(
                format!(
                    "global weights for client {} ({})",
                    c.id(),
                    model.describe()
                ),
                model.n_params(),
                params.len(),
            ));
        }
        let mut ws = model.workspace(c.n().min(256));
        out.push(accuracy(model, params, c.data(), &mut ws));
    }
    Ok(out)
}

/// The softmax probability of each sample's true class (class targets).
pub fn true_class_probs<M: Model>(
    model: &M,
    params: &[f64],
    data: &Dataset,
    ws: &mut M::Workspace,
) -> Vec<f64> {
    let Targets::Classes { labels, .. } = &data.targets else {
        return vec![f64::NAN; data.len()];
    };
    let no = model.n_outputs();
    let mut out = vec![0.0; data.len() * no];
    model.predict(params, &data.features, ws, &mut out);
    out.chunks_exact(no)
        .zip(labels)
        .map(|(o, &y)| {
            let m = o.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            let z: f64 = o.iter().map(|v| (v - m).exp()).sum();
            (o[y] - m).exp() / z
        })
        .collect()
}

/// The area under the ROC curve of scores separating `pos` from `neg` (Mann–Whitney U, ties
/// count ½): the probability that a random positive outscores a random negative.
pub fn auc(pos: &[f64], neg: &[f64]) -> f64 {
    if pos.is_empty() || neg.is_empty() {
        return f64::NAN;
    }
    let mut all: Vec<(f64, bool)> = pos
        .iter()
        .map(|&s| (s, true))
        .chain(neg.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // sum of the (average) ranks of the positives
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += avg * all[i..=j].iter().filter(|x| x.1).count() as f64;
        i = j + 1;
    }
    let (np, nn) = (pos.len() as f64, neg.len() as f64);
    (rank_sum - np * (np + 1.0) / 2.0) / (np * nn)
}

/// The threshold τ on a score that maximises the balanced accuracy of "member iff score ≥ τ" on
/// shadow `members` and `non_members` (candidates: midpoints between consecutive distinct
/// scores; ties broken towards the smaller τ).
pub fn confidence_threshold(members: &[f64], non_members: &[f64]) -> f64 {
    let mut all: Vec<(f64, bool)> = members
        .iter()
        .map(|&s| (s, true))
        .chain(non_members.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (nm, nn) = (members.len() as f64, non_members.len() as f64);
    // τ below everything: every member right, every non-member wrong
    let (mut below_m, mut below_n) = (0.0, 0.0);
    let mut best = (0.5, all.first().map_or(0.0, |x| x.0 - 1.0));
    for i in 0..all.len() {
        if all[i].1 {
            below_m += 1.0;
        } else {
            below_n += 1.0;
        }
        if i + 1 < all.len() && all[i + 1].0 == all[i].0 {
            continue;
        }
        let tau = if i + 1 < all.len() {
            0.5 * (all[i].0 + all[i + 1].0)
        } else {
            all[i].0 + 1.0
        };
        let bal = 0.5 * ((nm - below_m) / nm.max(1.0) + below_n / nn.max(1.0));
        if bal > best.0 {
            best = (bal, tau);
        }
    }
    best.1
}

/// Both attacks on one model (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Mia {
    /// Yeom: fraction of the target's samples with loss ≤ mean retained-train loss.
    pub yeom_rate: f64,
    /// Confidence: fraction of the target's samples with true-class probability ≥ τ.
    pub confidence_rate: f64,
    /// AUC of the true-class probability, target samples vs test samples.
    pub auc: f64,
}

/// Runs both attacks against `params` on the `target` data, with the retained clients' training
/// data as shadow members and `test` as shadow non-members.
pub fn evaluate_mia<M: Model>(
    model: &M,
    params: &[f64],
    target: &Dataset,
    retained: &Dataset,
    test: &Dataset,
    ws: &mut M::Workspace,
) -> Mia {
    let p_target = true_class_probs(model, params, target, ws);
    let p_retained = true_class_probs(model, params, retained, ws);
    let p_test = true_class_probs(model, params, test, ws);
    let threshold_loss =
        p_retained.iter().map(|p| -p.ln()).sum::<f64>() / p_retained.len().max(1) as f64;
    let n = p_target.len().max(1) as f64;
    let yeom = p_target
        .iter()
        .filter(|p| -p.ln() <= threshold_loss)
        .count() as f64
        / n;
    let tau = confidence_threshold(&p_retained, &p_test);
    let conf = p_target.iter().filter(|&&p| p >= tau).count() as f64 / n;
    Mia {
        yeom_rate: yeom,
        confidence_rate: conf,
        auc: auc(&p_target, &p_test),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_nn::{Activation, Mlp};
    use std::sync::Arc;

    fn client(id: usize, features: Vec<f64>, labels: Vec<usize>, model: &Mlp) -> Client {
        let data = Dataset::new(
            format!("client{id}"),
            features,
            2,
            Targets::Classes {
                labels,
                n_classes: 2,
            },
        )
        .unwrap();
        Client::new(
            id,
            Arc::new(data),
            model.clone(),
            Loss::SoftmaxCe,
            2,
            "sgd",
            0,
        )
        .unwrap()
    }

    #[test]
    fn client_train_accuracies_count_each_clients_own_samples() {
        // logits = W x + b with W = I, b = (0, 0.5): class 1 unless x0 > x1 + 0.5
        let model = Mlp::new(vec![2, 2], Activation::Identity, true).unwrap();
        let lp = model.layer_params()[0];
        let mut p = vec![0.0; model.n_params()];
        p[lp.weight] = 1.0; // W[0][0]
        p[lp.weight + 3] = 1.0; // W[1][1]
        p[lp.bias.unwrap() + 1] = 0.5;
        let clients = [
            // predictions 0, 1, 1: labels 0, 1, 0 → 2 of 3
            client(0, vec![2.0, 0.0, 0.0, 1.0, 1.0, 0.8], vec![0, 1, 0], &model),
            // predictions 1, 0, 0, 1: labels 1, 1, 0, 0 → 2 of 4
            client(
                3,
                vec![0.0, 3.0, 3.0, 0.0, 1.0, 0.4, 0.5, 0.5],
                vec![1, 1, 0, 0],
                &model,
            ),
            client(4, vec![5.0, 0.0], vec![0], &model),
        ];
        let acc = client_train_accuracies(&clients, &p).unwrap();
        assert_eq!(acc, vec![2.0 / 3.0, 0.5, 1.0]);
        let e = client_train_accuracies(&clients, &p[1..]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "shape mismatch in global weights for client 0 ({}): expected 6, got 5",
                model.describe()
            )
        );
        assert!(client_train_accuracies::<Mlp>(&[], &p).unwrap().is_empty());
    }

    #[test]
    fn auc_matches_pair_counting() {
        let pos = [0.9, 0.8, 0.3, 0.5];
        let neg = [0.1, 0.5, 0.6];
        let mut wins = 0.0;
        for p in pos {
            for n in neg {
                wins += if p > n {
                    1.0
                } else if p == n {
                    0.5
                } else {
                    0.0
                };
            }
        }
        assert_eq!(auc(&pos, &neg), wins / 12.0);
        assert_eq!(auc(&[2.0, 3.0], &[0.0, 1.0]), 1.0);
        assert_eq!(auc(&[1.0], &[1.0]), 0.5);
    }

    #[test]
    fn threshold_separates_separable_scores() {
        let tau = confidence_threshold(&[0.9, 0.95, 0.8], &[0.2, 0.4, 0.7]);
        assert!((tau - 0.75).abs() < 1e-12, "{tau}");
        // overlapping: balanced accuracy 5/6 both at 0.45 (above 0.2, 0.3) and at 0.775 (above
        // 0.65); the tie goes to the smaller threshold
        let tau = confidence_threshold(&[0.9, 0.95, 0.6], &[0.2, 0.65, 0.3]);
        assert!((tau - 0.45).abs() < 1e-12, "{tau}");
    }
}

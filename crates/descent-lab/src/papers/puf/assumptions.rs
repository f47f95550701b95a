//! The readings of the paper and of the reproduction design that `puf`'s numbers rest on.

use super::config::Config;
use super::measure::PufResult;

fn list(v: &[u64]) -> String {
    v.iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The report's assumptions, in report order.
pub fn assumptions(c: &Config, r: &PufResult) -> Vec<String> {
    let mut out = Vec::new();
    if r.digits.pairs.is_empty() {
        out.push(
            "concurrent = []: no concurrent requests were run, so check 2's concurrent part \
             (puf/concurrent-linear) and puf/concurrent are not measured"
                .to_string(),
        );
    }
    let test_pct = (100.0 * c.test_fraction).round();
    out.extend([
        format!(
            "Every random choice derives from the run seed s: the train/test split and the \
             Gaussian-mixture data use the seed b(s) + test_seed ({}), the Dirichlet partitions \
             b(s) + each of split_seeds ({}), the initial weights b(s) + init_seed ({}), and the \
             client minibatch orders and FedAvg's client sampling b(s) + train_seed ({}), where \
             b(s) = c(s) − c(0) with c(s) = RngStreams::new(s).child_seed(\"puf\", 0). So b(0) = 0 \
             and run seed 0 runs the spec's seeds (§5.1); other run seeds shift all of them by \
             one pseudo-random 64-bit offset, so no two run seeds share a partition. Splits keep \
             the names of split_seeds at every run seed. The backdoor patches every sample of the \
             target, so it draws nothing.",
            c.test_seed,
            list(&c.split_seeds),
            c.init_seed,
            c.train_seed
        ),
        format!(
            "Data splits are Dirichlet partitions of one stratified {}/{} train/test split shared by \
             all of them; the spec's prototype used NumPy RNGs, so per-case numbers differ.",
            100.0 - test_pct,
            test_pct
        ),
        "The confidence MIA is the 1-D equivalent of the authors' RBF-SVC on the true-class \
         probability: the threshold with the best balanced accuracy on shadow members (all \
         retained clients' training data) vs non-members (the test set). Yeom uses the mean \
         loss on the retained clients' training data. Both score by the true-class \
         probability, so one AUC (target samples vs test samples) serves both."
            .to_string(),
        "Recovery rounds count the FedAvg rounds after the unlearning round until the test \
         accuracy reaches the retrained model's (0 = already after the unlearning round); \
         the 'recovered' model is the one at that round. Natural forgetting runs for the same \
         number of rounds as PUF (the unlearning round plus recovery)."
            .to_string(),
        "Clients rebuild their optimizer each round (Keras recompiles per round); the local \
         minibatch order depends on (train seed, client, round), so retrain and unlearning \
         runs see the same client randomness as the original run."
            .to_string(),
        "Backdoor stress: the retrained model is the clean retrain (the target is excluded), and \
         PUF's 'after recovery' model stops at the retrained test accuracy (cap 30). Check 7 \
         is judged on the mean ratio over the cases (asserted, as calibrated) and in every case \
         (the -per-case claims); the ratio (orig − x)/(orig − retrain) is only defined where \
         the original memorised the backdoor (orig − retrain >= 0.1); in cases where the \
         original never learned it (small target clients) there is nothing to forget, so the \
         case is left out of both and named under not_memorised in the per-case claims (all \
         ratios are in the backdoor table)."
            .to_string(),
        "Bytes per round: a header of 16 bytes (round, sender) per message; the broadcast \
         carries the weights, lr and epochs, the reply Δ, n_k, loss and step count (8 bytes \
         each)."
            .to_string(),
    ]);
    out
}

//! The open-set pool, its oracle and the labelling state (P2 spec §2.1).
//!
//! An [`OpenSetTask`] holds a pool of samples whose classes are split into K **known** classes
//! and the rest **unknown**, a test set of the known classes only (pitfall 10), and the oracle's
//! answers: a queried sample of a known class gets its K-way label, any other sample the answer
//! "unknown" ([`Answer`]). A [`PoolState`] is the labelling of one run: the labelled known
//! samples L with their K-way labels, the queried unknowns I (the "invalid list") and the
//! unlabelled rest U. Query strategies see the pool's features ([`OpenSetTask::inputs`], without
//! labels) and the state, never the oracle's answers for U.

use std::sync::Arc;

use descent_core::{Error, Result};
use descent_data::{Dataset, Targets};
use rand::Rng;

/// What the oracle answers for a queried sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A sample of known class k (0..K, the position of its class in the known list).
    Known(usize),
    /// A sample of a class outside the known list.
    Unknown,
}

/// A pool with known and unknown classes, a known-class test set and the oracle.
#[derive(Debug, Clone)]
pub struct OpenSetTask {
    /// Pool features without labels (real targets of dimension 0).
    inputs: Arc<Dataset>,
    /// Known-class test samples with K-way labels.
    test: Arc<Dataset>,
    /// `known[k]` is the data's label of known class k.
    known: Vec<usize>,
    /// The oracle's answer for every pool sample.
    answers: Vec<Answer>,
    n_classes: usize,
}

impl OpenSetTask {
    /// A task over `pool` and `test` (both with class labels in the same label space) with the
    /// classes `known` (the data's labels, in the order that defines the K-way labels) known
    /// and every other class unknown. The test set keeps its known-class samples only.
    ///
    /// Errors name the problem: real-valued targets, fewer than two known classes, a repeated
    /// class, a class label the data does not have, a pool or test set without known samples,
    /// or pool and test sets of different widths.
    ///
    /// # Errors
    ///
    /// See above.
    pub fn new(pool: &Dataset, test: &Dataset, known: &[usize]) -> Result<OpenSetTask> {
        let (labels, n_classes) = class_labels(pool, "pool")?;
        let (test_labels, test_classes) = class_labels(test, "test set")?;
        if known.len() < 2 {
            return Err(Error::invalid(
                "known classes",
                format!("{known:?}"),
                "at least two class labels",
            ));
        }
        for (i, &c) in known.iter().enumerate() {
            let n = n_classes.max(test_classes);
            if c >= n {
                return Err(Error::invalid(
                    "known classes",
                    c,
                    format!("a class label of the data (0..={})", n - 1),
                ));
            }
            if known[..i].contains(&c) {
                return Err(Error::invalid(
                    "known classes",
                    format!("class {c} twice"),
                    "distinct class labels",
                ));
            }
        }
        if pool.n_features != test.n_features {
            return Err(Error::shape(
                "test set width (the pool's number of features)",
                pool.n_features,
                test.n_features,
            ));
        }
        let position = |c: usize| known.iter().position(|&k| k == c);
        let answers: Vec<Answer> = labels
            .iter()
            .map(|&c| position(c).map_or(Answer::Unknown, Answer::Known))
            .collect();
        if !answers.iter().any(|a| matches!(a, Answer::Known(_))) {
            return Err(Error::invalid(
                format!("pool '{}'", pool.name),
                "no sample of a known class",
                format!("samples of the known classes {known:?}"),
            ));
        }
        let keep: Vec<usize> = (0..test.len())
            .filter(|&i| position(test_labels[i]).is_some())
            .collect();
        if keep.is_empty() {
            return Err(Error::invalid(
                format!("test set '{}'", test.name),
                "no sample of a known class",
                format!("samples of the known classes {known:?}"),
            ));
        }
        let mut features = Vec::with_capacity(keep.len() * test.n_features);
        for &i in &keep {
            features.extend_from_slice(test.row(i));
        }
        let test_k = Dataset::new(
            format!("{} (known classes)", test.name),
            features,
            test.n_features,
            Targets::Classes {
                labels: keep
                    .iter()
                    .map(|&i| position(test_labels[i]).expect("kept samples are known"))
                    .collect(),
                n_classes: known.len(),
            },
        )?;
        let inputs = Dataset::new(
            pool.name.clone(),
            pool.features.clone(),
            pool.n_features,
            Targets::Real {
                values: Vec::new(),
                dim: 0,
            },
        )?;
        Ok(OpenSetTask {
            inputs: Arc::new(inputs),
            test: Arc::new(test_k),
            known: known.to_vec(),
            answers,
            n_classes,
        })
    }

    /// K, the number of known classes.
    pub fn n_known(&self) -> usize {
        self.known.len()
    }

    /// The data's labels of the known classes (known class k is `known_classes()[k]`).
    pub fn known_classes(&self) -> &[usize] {
        &self.known
    }

    /// The number of classes of the pool's label space.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The pool's features, without labels: what query strategies may read.
    pub fn inputs(&self) -> &Arc<Dataset> {
        &self.inputs
    }

    /// Pool size.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// True for an empty pool (never: [`OpenSetTask::new`] requires known samples).
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }

    /// The known-class test set, labels 0..K.
    pub fn test(&self) -> &Arc<Dataset> {
        &self.test
    }

    /// The oracle: the answer for pool sample `i`.
    pub fn oracle(&self, i: usize) -> Answer {
        self.answers[i]
    }

    /// Pool samples of known classes (the denominator of recall, pitfall 9).
    pub fn n_pool_known(&self) -> usize {
        self.answers
            .iter()
            .filter(|a| matches!(a, Answer::Known(_)))
            .count()
    }
}

fn class_labels<'a>(data: &'a Dataset, what: &str) -> Result<(&'a [usize], usize)> {
    match &data.targets {
        Targets::Classes { labels, n_classes } => Ok((labels, *n_classes)),
        Targets::Real { dim, .. } => Err(Error::invalid(
            format!("{what} '{}'", data.name),
            format!("real targets of dimension {dim}"),
            "class labels (open-set active learning classifies)",
        )),
    }
}

/// The labelling of the pool in one run: L (labelled known samples with their K-way labels),
/// I (queried unknowns) and U (unlabelled), each in ascending pool order.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolState {
    labelled: Vec<usize>,
    labels: Vec<usize>,
    invalid: Vec<usize>,
    unlabelled: Vec<usize>,
    n_known: usize,
}

impl PoolState {
    /// L = `initial` known samples drawn uniformly from the pool's known samples (the
    /// initial labelled set of §2.1), I = ∅, U = the rest. Errors when `initial` is 0 or
    /// exceeds the known samples.
    ///
    /// # Errors
    ///
    /// `initial` = 0 or above the known samples.
    pub fn initial<R: Rng + ?Sized>(
        task: &OpenSetTask,
        initial: usize,
        rng: &mut R,
    ) -> Result<PoolState> {
        let known: Vec<usize> = (0..task.len())
            .filter(|&i| matches!(task.oracle(i), Answer::Known(_)))
            .collect();
        if initial == 0 || initial > known.len() {
            return Err(Error::invalid(
                "initial labelled samples",
                initial,
                format!(
                    "between 1 and the pool's {} known-class samples",
                    known.len()
                ),
            ));
        }
        let picked = rand::seq::index::sample(rng, known.len(), initial);
        let mut chosen: Vec<usize> = picked.iter().map(|k| known[k]).collect();
        chosen.sort_unstable();
        PoolState::from_labelled(task, &chosen)
    }

    /// L = the given known pool samples (their labels from the oracle), I = ∅, U = the rest.
    /// Errors name a sample out of range, repeated, or of an unknown class.
    ///
    /// # Errors
    ///
    /// See above.
    pub fn from_labelled(task: &OpenSetTask, labelled: &[usize]) -> Result<PoolState> {
        let mut in_l = vec![false; task.len()];
        let mut labels = Vec::with_capacity(labelled.len());
        for &i in labelled {
            if i >= task.len() || in_l[i] {
                return Err(Error::invalid(
                    "labelled sample",
                    i,
                    format!("distinct pool indices below {}", task.len()),
                ));
            }
            match task.oracle(i) {
                Answer::Known(k) => labels.push(k),
                Answer::Unknown => {
                    return Err(Error::invalid(
                        "labelled sample",
                        i,
                        "a sample of a known class",
                    ));
                }
            }
            in_l[i] = true;
        }
        let mut order: Vec<usize> = (0..labelled.len()).collect();
        order.sort_by_key(|&k| labelled[k]);
        Ok(PoolState {
            labelled: order.iter().map(|&k| labelled[k]).collect(),
            labels: order.iter().map(|&k| labels[k]).collect(),
            invalid: Vec::new(),
            unlabelled: (0..task.len()).filter(|&i| !in_l[i]).collect(),
            n_known: task.n_known(),
        })
    }

    /// The labelling saved by a checkpoint: L = `labelled` (their labels from the oracle),
    /// I = `invalid`, U = the rest. Errors (naming the sample) when an index is out of range or
    /// repeated, a labelled sample is of an unknown class or an invalid one of a known class,
    /// so a damaged checkpoint is refused rather than half-loaded.
    pub fn restore(task: &OpenSetTask, labelled: &[usize], invalid: &[usize]) -> Result<PoolState> {
        let mut state = PoolState::from_labelled(task, labelled)?;
        let mut in_i = vec![false; task.len()];
        for &i in invalid {
            let free = i < task.len() && !in_i[i] && state.labelled.binary_search(&i).is_err();
            if !free {
                return Err(Error::invalid(
                    "invalid sample",
                    i,
                    format!(
                        "distinct pool indices below {} outside the labelled set",
                        task.len()
                    ),
                ));
            }
            if task.oracle(i) != Answer::Unknown {
                return Err(Error::invalid(
                    "invalid sample",
                    i,
                    "a sample of an unknown class",
                ));
            }
            in_i[i] = true;
        }
        state.invalid = (0..task.len()).filter(|&i| in_i[i]).collect();
        state.unlabelled.retain(|&i| !in_i[i]);
        Ok(state)
    }

    /// L: labelled known samples (pool indices, ascending).
    pub fn labelled(&self) -> &[usize] {
        &self.labelled
    }

    /// The K-way labels of [`PoolState::labelled`], in the same order.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// I: queried samples the oracle called unknown.
    pub fn invalid(&self) -> &[usize] {
        &self.invalid
    }

    /// U: samples not queried yet.
    pub fn unlabelled(&self) -> &[usize] {
        &self.unlabelled
    }

    /// K.
    pub fn n_known(&self) -> usize {
        self.n_known
    }

    /// Model C's training set: L with K-way labels (K classes). Queried unknowns never enter it
    /// (pitfall 5).
    pub fn known_set(&self, inputs: &Dataset) -> Dataset {
        self.labelled_set(inputs, false)
    }

    /// Models A's and B's training set: L with K-way labels and I with label K (K + 1 classes).
    pub fn open_set(&self, inputs: &Dataset) -> Dataset {
        self.labelled_set(inputs, true)
    }

    fn labelled_set(&self, inputs: &Dataset, with_unknowns: bool) -> Dataset {
        let d = inputs.n_features;
        let extra = if with_unknowns { self.invalid.len() } else { 0 };
        let mut features = Vec::with_capacity((self.labelled.len() + extra) * d);
        let mut labels = self.labels.clone();
        for &i in &self.labelled {
            features.extend_from_slice(inputs.row(i));
        }
        if with_unknowns {
            for &i in &self.invalid {
                features.extend_from_slice(inputs.row(i));
                labels.push(self.n_known);
            }
        }
        let n_classes = self.n_known + usize::from(with_unknowns);
        Dataset {
            name: format!(
                "{} ({} labelled{})",
                inputs.name,
                labels.len(),
                if with_unknowns {
                    ", unknowns as class K"
                } else {
                    ""
                }
            ),
            features,
            n_features: d,
            targets: Targets::Classes { labels, n_classes },
        }
    }

    /// Asks the oracle about `query` (distinct unlabelled pool samples): known ones join L with
    /// their label, unknown ones join I, all leave U. Returns how many were known. Errors (and
    /// leaves the state unchanged) when a sample is not unlabelled or is repeated.
    ///
    /// # Errors
    ///
    /// A sample that is not unlabelled, or a repeated one (the state is left unchanged).
    pub fn apply(&mut self, task: &OpenSetTask, query: &[usize]) -> Result<usize> {
        let mut selected = vec![false; task.len()];
        let mut in_u = vec![false; task.len()];
        self.unlabelled.iter().for_each(|&i| in_u[i] = true);
        for &i in query {
            if i >= task.len() || !in_u[i] || selected[i] {
                return Err(Error::invalid(
                    "queried sample",
                    i,
                    "distinct samples of the unlabelled pool",
                ));
            }
            selected[i] = true;
        }
        let mut known = 0;
        for &i in query {
            match task.oracle(i) {
                Answer::Known(k) => {
                    let at = self.labelled.partition_point(|&j| j < i);
                    self.labelled.insert(at, i);
                    self.labels.insert(at, k);
                    known += 1;
                }
                Answer::Unknown => {
                    let at = self.invalid.partition_point(|&j| j < i);
                    self.invalid.insert(at, i);
                }
            }
        }
        self.unlabelled.retain(|&i| !selected[i]);
        Ok(known)
    }
}

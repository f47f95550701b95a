//! Level 2 of DESIGN §3: the optax-style [`Transform`] (a `GradientTransformation`), its plain-data
//! [`TransformState`], and the combinators [`Chain`] and [`Partition`].
//!
//! A transform rewrites a gradient, in place, into the update that is **added** to the
//! parameters (`x ← x + u`), so plain SGD writes `u = −lr·g`. It allocates its state once in
//! [`Transform::build`] and never allocates in [`Transform::update`].

use std::collections::BTreeMap;
use std::ops::Range;

use descent_core::{Block, Error, Layout, Result, RngStreams};
use serde::{Deserialize, Serialize};

/// A gradient transformation (optax's `GradientTransformation`, torch.optim's per-step rule).
///
/// Object safe and `Send`, so transforms built from text at run time compose as
/// `Box<dyn Transform>` and move across threads (one run per rayon task).
pub trait Transform: Send {
    /// A short readable name, e.g. `sgd(lr=0.1, momentum=0.9)` or `chain(clip_norm(max=1), adam(..))`.
    fn name(&self) -> String;

    /// Allocates state sized to `layout` (zeroed moments, empty buffers). Called once before the
    /// first update and again to reset. `streams` serves transforms that draw noise.
    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()>;

    /// Rewrites `grad` in place into the update added to `params`. `step` is the 1-based index
    /// of this update in the run, used by schedules; moment estimates keep their own count in
    /// state (as torch.optim does per parameter), so a reset transform restarts its bias
    /// correction. Never allocates.
    fn update(&mut self, step: u64, grad: &mut [f64], params: &[f64]);

    /// One step in place: `params += update(grad)`, as optax's `apply_updates` after `update`.
    /// The default does exactly that; a transform whose update is one streaming pass over
    /// memory (Adam) overrides it to fuse the two, saving a pass over the parameters (as
    /// torch's fused Adam does), with the same result bit for bit. Afterwards `grad` holds the
    /// update for the default and is unspecified for a fused override.
    fn apply(&mut self, step: u64, grad: &mut [f64], params: &mut [f64]) {
        self.update(step, grad, params);
        add_update(params, grad);
    }

    /// The hyperparameter names [`Transform::set_hyper`] accepts (e.g. `["lr", "momentum"]`).
    fn hyper_names(&self) -> Vec<&'static str>;

    /// The current value of a hyperparameter: `Some` exactly for the names of
    /// [`Transform::hyper_names`] (combinators use it to route `set_hyper` without allocating).
    fn hyper(&self, name: &str) -> Option<f64>;

    /// Changes a hyperparameter between updates (schedules driven from outside, e.g. once per
    /// federated round). Unknown names and out-of-range values are errors.
    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()>;

    /// The state as plain data (moments, counters and the current hyperparameters).
    fn state(&self) -> TransformState;

    /// Restores a state produced by [`Transform::state`] of an equal transform built on an
    /// equal layout; a state of another kind or shape is an error.
    fn load_state(&mut self, state: &TransformState) -> Result<()>;
}

/// `params += update`, entry by entry.
pub fn add_update(params: &mut [f64], update: &[f64]) {
    for (x, u) in params.iter_mut().zip(update) {
        *x += u;
    }
}

/// The error for a hyperparameter name a transform does not have.
pub fn unknown_hyper(owner: &str, name: &str, valid: &[&str]) -> Error {
    Error::UnknownKey {
        context: format!("hyperparameters of '{owner}'"),
        key: name.to_string(),
        valid: valid.iter().map(|s| s.to_string()).collect(),
    }
}

/// Checks a learning-rate-like hyperparameter: finite and ≥ 0 (0 lets a schedule end at zero).
pub fn check_non_negative(field: &str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::invalid(field, value, "a finite number >= 0"))
    }
}

/// A transform's state as plain, serde-serializable data: named scalars (counters,
/// hyperparameters) and named vectors (moments, laid out like the parameters), plus the states of
/// nested transforms in order (chain members, partition groups, a schedule's inner transform).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransformState {
    /// Which transform wrote it (`"sgd"`, `"adam"`, `"chain"`, ...); checked on load.
    pub kind: String,
    pub scalars: BTreeMap<String, f64>,
    pub vectors: BTreeMap<String, Vec<f64>>,
    pub children: Vec<TransformState>,
}

impl TransformState {
    /// An empty state of this kind.
    pub fn new(kind: &str) -> Self {
        TransformState {
            kind: kind.to_string(),
            ..Default::default()
        }
    }

    /// Adds a scalar.
    pub fn with_scalar(mut self, key: &str, value: f64) -> Self {
        self.scalars.insert(key.to_string(), value);
        self
    }

    /// Adds a vector.
    pub fn with_vector(mut self, key: &str, value: &[f64]) -> Self {
        self.vectors.insert(key.to_string(), value.to_vec());
        self
    }

    /// Adds a nested state.
    pub fn with_child(mut self, child: TransformState) -> Self {
        self.children.push(child);
        self
    }

    /// Ok when the state was written by a transform of this kind.
    pub fn expect_kind(&self, kind: &str) -> Result<()> {
        if self.kind == kind {
            Ok(())
        } else {
            Err(Error::invalid(
                "transform state",
                format!("a state of kind '{}'", self.kind),
                format!("a state of kind '{kind}'"),
            ))
        }
    }

    /// A scalar that must be present.
    pub fn scalar(&self, key: &str) -> Result<f64> {
        self.scalars.get(key).copied().ok_or_else(|| {
            Error::invalid(
                format!("{} state", self.kind),
                format!("no scalar '{key}'"),
                format!("a scalar '{key}'"),
            )
        })
    }

    /// Copies a vector that must be present and have `dst.len()` entries into `dst`.
    pub fn vector_into(&self, key: &str, dst: &mut [f64]) -> Result<()> {
        let v = self.vectors.get(key).ok_or_else(|| {
            Error::invalid(
                format!("{} state", self.kind),
                format!("no vector '{key}'"),
                format!("a vector '{key}'"),
            )
        })?;
        if v.len() != dst.len() {
            return Err(Error::shape(
                format!("{} state vector '{key}'", self.kind),
                dst.len(),
                v.len(),
            ));
        }
        dst.copy_from_slice(v);
        Ok(())
    }

    /// The nested states, which must number `n`.
    pub fn expect_children(&self, n: usize) -> Result<&[TransformState]> {
        if self.children.len() == n {
            Ok(&self.children)
        } else {
            Err(Error::shape(
                format!("{} state children", self.kind),
                n,
                self.children.len(),
            ))
        }
    }
}

/// Applies its members in order, each rewriting the previous one's output (optax `chain`), e.g.
/// `chain(clip_norm, adam)` clips the raw gradient, then Adam turns it into an update.
pub struct Chain {
    members: Vec<Box<dyn Transform>>,
}

impl Chain {
    /// A chain of `members`, applied first to last.
    pub fn new(members: Vec<Box<dyn Transform>>) -> Self {
        Chain { members }
    }

    /// The members in order.
    pub fn members(&self) -> &[Box<dyn Transform>] {
        &self.members
    }
}

fn join_names(members: &[Box<dyn Transform>]) -> String {
    members
        .iter()
        .map(|m| m.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn union_hyper_names(members: &[Box<dyn Transform>]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for m in members {
        for n in m.hyper_names() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    names
}

/// Sets `name` on every member that has it; an error when none has it.
/// Allocates only on error, so a schedule can drive a chain's lr inside `update`.
fn forward_hyper(
    kind: &str,
    members: &mut [Box<dyn Transform>],
    name: &str,
    value: f64,
) -> Result<()> {
    let mut found = false;
    for m in members.iter_mut() {
        if m.hyper(name).is_some() {
            m.set_hyper(name, value)?;
            found = true;
        }
    }
    if found {
        Ok(())
    } else {
        let owner = format!("{kind}({})", join_names(members));
        Err(unknown_hyper(&owner, name, &union_hyper_names(members)))
    }
}

impl Transform for Chain {
    fn name(&self) -> String {
        format!("chain({})", join_names(&self.members))
    }

    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.members
            .iter_mut()
            .try_for_each(|m| m.build(layout, streams))
    }

    fn update(&mut self, step: u64, grad: &mut [f64], params: &[f64]) {
        for m in &mut self.members {
            m.update(step, grad, params);
        }
    }

    /// The members' updates in order, the last one applied (fused where it can be).
    fn apply(&mut self, step: u64, grad: &mut [f64], params: &mut [f64]) {
        if let Some((last, first)) = self.members.split_last_mut() {
            for m in first {
                m.update(step, grad, params);
            }
            last.apply(step, grad, params);
        }
    }

    fn hyper_names(&self) -> Vec<&'static str> {
        union_hyper_names(&self.members)
    }

    /// The value of the first member that has the hyperparameter.
    fn hyper(&self, name: &str) -> Option<f64> {
        self.members.iter().find_map(|m| m.hyper(name))
    }

    /// Forwards to every member that knows the name.
    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        forward_hyper("chain", &mut self.members, name, value)
    }

    fn state(&self) -> TransformState {
        self.members
            .iter()
            .fold(TransformState::new("chain"), |s, m| s.with_child(m.state()))
    }

    fn load_state(&mut self, state: &TransformState) -> Result<()> {
        state.expect_kind("chain")?;
        let children = state.expect_children(self.members.len())?;
        for (m, c) in self.members.iter_mut().zip(children) {
            m.load_state(c)?;
        }
        Ok(())
    }
}

/// How a [`Partition`] assigns each layout block to a member.
enum Route {
    /// `labels[i]` is the member of block i.
    Labels(Vec<usize>),
    /// A function of the block (name, shape).
    By(Box<dyn Fn(&Block) -> usize + Send>),
}

/// The blocks routed to one member, with gather/scatter buffers sized once at build.
#[derive(Default)]
struct Group {
    ranges: Vec<Range<usize>>,
    grad: Vec<f64>,
    params: Vec<f64>,
}

/// Routes layout blocks to different transforms (optax `partition`, torch.optim parameter
/// groups): e.g. Muon on matrices and Adam on biases, or no weight decay on biases. Each member
/// is built on the sub-layout of its blocks ([`Layout::select`]) and sees only their slices,
/// packed contiguously into buffers allocated at build time.
pub struct Partition {
    members: Vec<Box<dyn Transform>>,
    route: Route,
    groups: Vec<Group>,
}

impl Partition {
    /// Routes block `b` to `members[label(b)]`.
    pub fn new(
        members: Vec<Box<dyn Transform>>,
        label: impl Fn(&Block) -> usize + Send + 'static,
    ) -> Self {
        Partition {
            members,
            route: Route::By(Box::new(label)),
            groups: Vec::new(),
        }
    }

    /// Routes the i-th block to `members[labels[i]]`.
    pub fn by_labels(members: Vec<Box<dyn Transform>>, labels: Vec<usize>) -> Self {
        Partition {
            members,
            route: Route::Labels(labels),
            groups: Vec::new(),
        }
    }

    /// Blocks for which `pred` holds go to `if_true`, the others to `if_false`.
    pub fn by_predicate(
        pred: impl Fn(&Block) -> bool + Send + 'static,
        if_true: Box<dyn Transform>,
        if_false: Box<dyn Transform>,
    ) -> Self {
        Self::new(vec![if_true, if_false], move |b| usize::from(!pred(b)))
    }

    /// The members in label order.
    pub fn members(&self) -> &[Box<dyn Transform>] {
        &self.members
    }

    /// The members in label order, mutably (to set one group's hyperparameters).
    pub fn members_mut(&mut self) -> &mut [Box<dyn Transform>] {
        &mut self.members
    }
}

impl Transform for Partition {
    fn name(&self) -> String {
        format!("partition({})", join_names(&self.members))
    }

    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        let blocks = layout.blocks();
        if let Route::Labels(labels) = &self.route
            && labels.len() != blocks.len()
        {
            return Err(Error::shape(
                "partition labels (one per layout block)",
                blocks.len(),
                labels.len(),
            ));
        }
        let mut indices: Vec<Vec<usize>> = vec![Vec::new(); self.members.len()];
        for (i, b) in blocks.iter().enumerate() {
            let label = match &self.route {
                Route::Labels(l) => l[i],
                Route::By(f) => f(b),
            };
            let slot = indices.get_mut(label).ok_or_else(|| {
                Error::invalid(
                    format!("partition label of block '{}'", b.name),
                    label,
                    format!("< {} (the number of transforms)", self.members.len()),
                )
            })?;
            slot.push(i);
        }
        self.groups.clear();
        for (member, idx) in self.members.iter_mut().zip(&indices) {
            let sub = layout.select(idx)?;
            member.build(&sub, streams)?;
            self.groups.push(Group {
                ranges: idx.iter().map(|&i| blocks[i].range()).collect(),
                grad: vec![0.0; sub.len()],
                params: vec![0.0; sub.len()],
            });
        }
        Ok(())
    }

    fn update(&mut self, step: u64, grad: &mut [f64], params: &[f64]) {
        for (member, group) in self.members.iter_mut().zip(&mut self.groups) {
            if group.grad.is_empty() {
                continue;
            }
            let mut at = 0;
            for r in &group.ranges {
                let n = r.len();
                group.grad[at..at + n].copy_from_slice(&grad[r.clone()]);
                group.params[at..at + n].copy_from_slice(&params[r.clone()]);
                at += n;
            }
            member.update(step, &mut group.grad, &group.params);
            let mut at = 0;
            for r in &group.ranges {
                let n = r.len();
                grad[r.clone()].copy_from_slice(&group.grad[at..at + n]);
                at += n;
            }
        }
    }

    fn hyper_names(&self) -> Vec<&'static str> {
        union_hyper_names(&self.members)
    }

    fn hyper(&self, name: &str) -> Option<f64> {
        self.members.iter().find_map(|m| m.hyper(name))
    }

    /// Forwards to every member that knows the name (use the member directly to set one group).
    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        forward_hyper("partition", &mut self.members, name, value)
    }

    fn state(&self) -> TransformState {
        self.members
            .iter()
            .fold(TransformState::new("partition"), |s, m| {
                s.with_child(m.state())
            })
    }

    fn load_state(&mut self, state: &TransformState) -> Result<()> {
        state.expect_kind("partition")?;
        let children = state.expect_children(self.members.len())?;
        for (m, c) in self.members.iter_mut().zip(children) {
            m.load_state(c)?;
        }
        Ok(())
    }
}

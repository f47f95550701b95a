//! Level 2 of DESIGN §3: the optax-style [`Transform`] (a `GradientTransformation`), its plain-data
//! [`TransformState`], and the combinators [`Chain`] and [`Partition`].
//!
//! A transform rewrites a gradient, in place, into the update that is **added** to the
//! parameters (`x ← x + u`), so plain SGD writes `u = −lr·g`. It allocates its state once in
//! [`Transform::build`] and never allocates in [`Transform::update`].

use std::ops::Range;

use descent_core::glob::glob_match;
use descent_core::{Block, Error, Layout, Result, RngStreams, Spec, Value};

use crate::config::KeyDoc;
use crate::registry::build_transform;

/// A gradient transformation (optax's `GradientTransformation`, torch.optim's per-step rule).
///
/// Object safe and `Send`, so transforms built from text at run time compose as
/// `Box<dyn Transform>` and move across threads (one run per rayon task).
///
/// A custom transform writes [`Transform::name`] and [`Transform::update`], and
/// [`Transform::build`] when it keeps state; everything else has a default (no
/// hyperparameters, and a state that records only its kind, which suits a stateless transform).
///
/// ```
/// use descent_optim::{Transform, TransformExt};
///
/// /// Sign descent: u = −lr·sign(g).
/// struct SignSgd(f64);
/// impl Transform for SignSgd {
///     fn name(&self) -> String { format!("sign_sgd(lr={})", self.0) }
///     fn update(&mut self, _step: u64, grad: &mut [f64], _params: &[f64]) {
///         grad.iter_mut().for_each(|g| *g = -self.0 * g.signum());
///     }
/// }
///
/// let mut t = SignSgd(0.1).with_clip_norm(1.0)?; // chain(clip_norm(max=1), sign_sgd(lr=0.1))
/// let mut g = [3.0, -4.0];
/// let layout = descent_core::Layout::flat(2);
/// t.build(&layout, &descent_core::RngStreams::new(0))?;
/// t.update(1, &mut g, &[0.0, 0.0]);
/// assert_eq!(g, [-0.1, 0.1]);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub trait Transform: Send {
    /// A short readable name, e.g. `sgd(lr=0.1, momentum=0.9)` or `chain(clip_norm(max=1), adam(..))`.
    fn name(&self) -> String;

    /// Allocates state sized to `layout` (zeroed moments, empty buffers). Called once before the
    /// first update and again to reset. `streams` serves transforms that draw noise. The default
    /// does nothing (a stateless transform).
    ///
    /// # Errors
    ///
    /// When the layout does not suit the transform (e.g. Muon on a block that is not a matrix).
    fn build(&mut self, _layout: &Layout, _streams: &RngStreams) -> Result<()> {
        Ok(())
    }

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

    /// `Some(c)` when this transform is the constant linear map `u = c·g` (`scale`,
    /// `scale_by_lr`): [`Chain`] then folds `c` into the previous member's per-step coefficient
    /// through [`Transform::update_scaled`], so `chain(scale_by_adam, scale_by_lr)` performs the
    /// fused Adam's arithmetic, bit for bit.
    fn linear_factor(&self) -> Option<f64> {
        None
    }

    /// [`Transform::update`] followed by `grad *= factor`; a transform whose update ends in a
    /// per-step scalar coefficient (Adam's `−lr/(1 − β₁ᵗ)`) overrides it to multiply `factor`
    /// into that coefficient instead. Never allocates.
    fn update_scaled(&mut self, step: u64, grad: &mut [f64], params: &[f64], factor: f64) {
        self.update(step, grad, params);
        grad.iter_mut().for_each(|g| *g *= factor);
    }

    /// The hyperparameter names [`Transform::set_hyper`] accepts (e.g. `["lr", "momentum"]`).
    /// The default has none.
    fn hyper_names(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// The current value of a hyperparameter: `Some` exactly for the names of
    /// [`Transform::hyper_names`] (combinators use it to route `set_hyper` without allocating).
    fn hyper(&self, _name: &str) -> Option<f64> {
        None
    }

    /// Changes a hyperparameter between updates (schedules driven from outside, e.g. once per
    /// federated round).
    ///
    /// # Errors
    ///
    /// Unknown names (the default knows none) and out-of-range values.
    fn set_hyper(&mut self, name: &str, _value: f64) -> Result<()> {
        Err(unknown_hyper(&self.name(), name, &self.hyper_names()))
    }

    /// The state as plain data (moments, counters and the current hyperparameters). The
    /// default records only the kind (the type's name): right for a stateless transform; a
    /// transform with state overrides this and [`Transform::load_state`] (the
    /// [`plumbing!`](crate::plumbing!) macro writes both from a config and a state struct).
    fn state(&self) -> TransformState {
        TransformState::new(std::any::type_name::<Self>())
    }

    /// Restores a state produced by [`Transform::state`] of an equal transform built on an
    /// equal layout.
    ///
    /// # Errors
    ///
    /// A state of another kind or shape. The default accepts exactly the state of the default
    /// [`Transform::state`].
    fn load_state(&mut self, state: &TransformState) -> Result<()> {
        state.expect_stateless(
            std::any::type_name::<Self>(),
            "transform state",
            &self.name(),
        )
    }
}

/// A boxed transform is a transform, so `Box<dyn Transform>` goes wherever one is expected.
impl<T: Transform + ?Sized> Transform for Box<T> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        (**self).build(layout, streams)
    }
    fn update(&mut self, step: u64, grad: &mut [f64], params: &[f64]) {
        (**self).update(step, grad, params)
    }
    fn apply(&mut self, step: u64, grad: &mut [f64], params: &mut [f64]) {
        (**self).apply(step, grad, params)
    }
    fn linear_factor(&self) -> Option<f64> {
        (**self).linear_factor()
    }
    fn update_scaled(&mut self, step: u64, grad: &mut [f64], params: &[f64], factor: f64) {
        (**self).update_scaled(step, grad, params, factor)
    }
    fn hyper_names(&self) -> Vec<&'static str> {
        (**self).hyper_names()
    }
    fn hyper(&self, name: &str) -> Option<f64> {
        (**self).hyper(name)
    }
    fn set_hyper(&mut self, name: &str, value: f64) -> Result<()> {
        (**self).set_hyper(name, value)
    }
    fn state(&self) -> TransformState {
        (**self).state()
    }
    fn load_state(&mut self, state: &TransformState) -> Result<()> {
        (**self).load_state(state)
    }
}

/// `params += update`, entry by entry.
pub fn add_update(params: &mut [f64], update: &[f64]) {
    for (x, u) in params.iter_mut().zip(update) {
        *x += u;
    }
}

pub use crate::config::{TransformState, unknown_hyper};

/// The check a stateful transform makes at the start of [`Transform::update`]: the gradient and
/// the parameters must have the length it was built for. Taking an update with a transform that
/// was never built (or built for another layout) would otherwise zip over empty state and hand
/// back the raw gradient, i.e. a step of gradient *ascent*.
///
/// # Panics
///
/// When `grad.len()` or `params.len()` differs from `built`, with a message naming the
/// transform and the three lengths. A wrong length is a programming error of the caller (the
/// [`crate::Optimizer`] adapters check lengths first and return an [`Error::Shape`]).
#[inline]
#[track_caller]
pub fn assert_update_len(kind: &str, built: usize, grad: &[f64], params: &[f64]) {
    if grad.len() != built || params.len() != built {
        update_len_panic(kind, built, grad.len(), params.len());
    }
}

/// The check of a stateless transform that reads the parameters: one parameter per gradient
/// entry.
///
/// # Panics
///
/// When `grad` and `params` differ in length, naming the transform.
#[inline]
#[track_caller]
pub fn assert_same_len(kind: &str, grad: &[f64], params: &[f64]) {
    if grad.len() != params.len() {
        panic!(
            "{kind}: update with a gradient of length {} but parameters of length {}",
            grad.len(),
            params.len()
        );
    }
}

#[cold]
#[track_caller]
fn update_len_panic(kind: &str, built: usize, grad: usize, params: usize) -> ! {
    panic!(
        "{kind}: update with a gradient of length {grad} and parameters of length {params}, \
         but the transform was built for {built} parameters (call build with the parameters' \
         layout before the first update)"
    )
}

/// Checks a learning-rate-like hyperparameter: finite and ≥ 0 (0 lets a schedule end at zero).
///
/// # Errors
///
/// A value that is negative or not finite, naming `field`.
pub fn check_non_negative(field: &str, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::invalid(field, value, "a finite number >= 0"))
    }
}

/// Applies its members in order, each rewriting the previous one's output (optax `chain`), e.g.
/// `chain(clip_norm, adam)` clips the raw gradient, then Adam turns it into an update.
///
/// ```
/// use descent_core::{Layout, RngStreams};
/// use descent_optim::{Chain, ClipByGlobalNorm, Sgd, SgdConfig, Transform, TransformExt};
///
/// let sgd = Sgd::new(SgdConfig { lr: 1.0, ..Default::default() })?;
/// let mut t = Chain::new(vec![ClipByGlobalNorm::new(1.0)?.boxed(), sgd.boxed()]);
/// t.build(&Layout::flat(2), &RngStreams::new(0))?;
/// let mut g = [3.0, 4.0];
/// t.update(1, &mut g, &[0.0, 0.0]);
/// assert!((g[0] + 0.6).abs() < 1e-15 && (g[1] + 0.8).abs() < 1e-15); // clipped to norm 1, then −lr·g
/// # Ok::<(), descent_core::Error>(())
/// ```
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

    /// The members in order, by value.
    pub fn into_members(self) -> Vec<Box<dyn Transform>> {
        self.members
    }

    /// `chain(of=[spec, ...])`.
    ///
    /// # Errors
    ///
    /// A missing `of`, or a member that does not build.
    pub fn from_spec(spec: &Spec) -> Result<Self> {
        let a = spec.args(&["of"])?;
        let items = a.list("of")?.ok_or_else(|| {
            Error::invalid(
                "chain.of",
                "nothing",
                "a list of specs [a(..), b(..)] (required)",
            )
        })?;
        Ok(Chain::new(transform_list("chain.of", items)?))
    }

    /// The keys of [`Chain::from_spec`], for `descent list`.
    pub fn keys() -> Vec<KeyDoc> {
        let mut k = KeyDoc::new("of", None, "the transforms, first to last: [spec, ...]");
        k.required = true;
        vec![k]
    }
}

/// The transforms of a list of specs (errors name `field`).
fn transform_list(field: &str, items: &[Value]) -> Result<Vec<Box<dyn Transform>>> {
    items
        .iter()
        .map(|v| match v {
            Value::Spec(s) => build_transform(s),
            other => Err(Error::invalid(field, other, "a transform spec")),
        })
        .collect()
}

fn join_names(members: &[Box<dyn Transform>]) -> String {
    members
        .iter()
        .map(|m| m.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The hyperparameter names of any member, each once (for combinators).
pub fn union_hyper_names(members: &[Box<dyn Transform>]) -> Vec<&'static str> {
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

/// Sets `name` on every member that has it; an error when none has it (naming the combinator
/// `kind(members)`). Allocates only on error, so a schedule can drive a chain's lr inside
/// `update`.
///
/// # Errors
///
/// No member with the hyperparameter `name`, or a value a member rejects.
pub fn forward_hyper(
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
    crate::plumbing! { kind: "chain", members: members, }

    fn name(&self) -> String {
        format!("chain({})", join_names(&self.members))
    }

    fn build(&mut self, layout: &Layout, streams: &RngStreams) -> Result<()> {
        self.members
            .iter_mut()
            .try_for_each(|m| m.build(layout, streams))
    }

    /// The members' updates in order; a member followed by a constant linear map (see
    /// [`Transform::linear_factor`]) takes the map's factor into its own update.
    fn update(&mut self, step: u64, grad: &mut [f64], params: &[f64]) {
        let mut i = 0;
        while i < self.members.len() {
            match self.members.get(i + 1).and_then(|m| m.linear_factor()) {
                Some(c) => {
                    self.members[i].update_scaled(step, grad, params, c);
                    i += 2;
                }
                None => {
                    self.members[i].update(step, grad, params);
                    i += 1;
                }
            }
        }
    }

    /// The members' updates in order, the last one applied (fused where it can be).
    fn apply(&mut self, step: u64, grad: &mut [f64], params: &mut [f64]) {
        let n = self.members.len();
        let mut i = 0;
        while i < n {
            let fold = self.members.get(i + 1).and_then(|m| m.linear_factor());
            let next = i + 1 + usize::from(fold.is_some());
            let member = &mut self.members[i];
            match (fold, next >= n) {
                (Some(c), true) => {
                    member.update_scaled(step, grad, params, c);
                    add_update(params, grad);
                }
                (Some(c), false) => member.update_scaled(step, grad, params, c),
                (None, true) => member.apply(step, grad, params),
                (None, false) => member.update(step, grad, params),
            }
            i = next;
        }
    }
}

/// Which blocks a named partition group takes (optax `partition` labels, torch.optim parameter
/// groups), see [`Partition::named`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    /// Blocks whose name matches the glob (`*` any run, `?` one character), e.g. `"*.bias"`.
    Glob(String),
    /// Matrix blocks (two dimensions).
    Matrix,
    /// Every block that is not a matrix (vectors, scalars, other ranks).
    Vector,
    /// Whatever no other group takes.
    Default,
}

impl Label {
    /// The spec text of the label (`match="*.bias"`, `matrix`, `vector`, `default`).
    pub fn text(&self) -> String {
        match self {
            Label::Glob(g) => format!("match={}", descent_core::Value::Str(g.clone())),
            Label::Matrix => "matrix".into(),
            Label::Vector => "vector".into(),
            Label::Default => "default".into(),
        }
    }
}

/// How a [`Partition`] assigns each layout block to a member.
enum Route {
    /// `labels[i]` is the member of block i.
    Labels(Vec<usize>),
    /// A function of the block (name, shape).
    By(Box<dyn Fn(&Block) -> usize + Send>),
    /// Member i takes the blocks of `labels[i]`: the first matching glob wins, then the shape
    /// class (matrix or vector), then the default.
    Named(Vec<Label>),
}

/// The member of each block under named labels; a glob that matches no block and a block no
/// label covers are errors naming them.
fn assign_named(labels: &[Label], blocks: &[Block]) -> Result<Vec<usize>> {
    let position = |want: &Label| labels.iter().position(|l| l == want);
    let mut used = vec![false; labels.len()];
    let mut out = Vec::with_capacity(blocks.len());
    for b in blocks {
        let by_glob = labels
            .iter()
            .position(|l| matches!(l, Label::Glob(g) if glob_match(g, &b.name)));
        let class = if b.matrix_shape().is_some() {
            Label::Matrix
        } else {
            Label::Vector
        };
        let member = by_glob
            .or_else(|| position(&class))
            .or_else(|| position(&Label::Default))
            .ok_or_else(|| {
                let groups: Vec<String> = labels.iter().map(Label::text).collect();
                Error::invalid(
                    "partition",
                    format!(
                        "block '{}' (shape {:?}) in no group ({})",
                        b.name,
                        b.shape,
                        groups.join(", ")
                    ),
                    "a group for every block: a match=\"glob\" that covers it, matrix= or \
                     vector= for its shape, or default=",
                )
            })?;
        used[member] = true;
        out.push(member);
    }
    for (label, used) in labels.iter().zip(used) {
        if let Label::Glob(g) = label
            && !used
            && !blocks.iter().any(|b| glob_match(g, &b.name))
        {
            let names: Vec<&str> = blocks.iter().map(|b| b.name.as_str()).collect();
            return Err(Error::invalid(
                "partition group match",
                descent_core::Value::Str(g.clone()),
                format!(
                    "a glob matching a block of the layout ({}); `*` matches any run, `?` one \
                     character",
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(out)
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
///
/// From spec text: `partition(matrix=adam(lr=1e-3), vector=sgd(lr=0.1))` (by shape class) or
/// `partition(groups=[group(match="*.bias", opt=sgd(lr=0.1)), ...], default=adam)` (by block
/// name, the first matching glob wins); see [`Partition::named`].
///
/// ```
/// use descent_core::{Layout, RngStreams};
/// use descent_optim::{Label, Partition, Sgd, SgdConfig, Transform, TransformExt};
///
/// let sgd = |lr| Sgd::new(SgdConfig { lr, ..Default::default() }).map(TransformExt::boxed);
/// let mut t = Partition::named(vec![
///     (Label::Glob("*.bias".into()), sgd(1.0)?),
///     (Label::Default, sgd(0.1)?),
/// ])?;
/// let mut layout = Layout::new();
/// layout.push("layer0.weight", &[1, 2]);
/// layout.push("layer0.bias", &[1]);
/// t.build(&layout, &RngStreams::new(0))?;
/// let mut g = [1.0, 1.0, 1.0];
/// t.update(1, &mut g, &[0.0; 3]);
/// assert_eq!(g, [-0.1, -0.1, -1.0]);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub struct Partition {
    members: Vec<Box<dyn Transform>>,
    route: Route,
    groups: Vec<Group>,
    /// The layout length of the last build (`None` before the first).
    built: Option<usize>,
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
            built: None,
        }
    }

    /// Routes the i-th block to `members[labels[i]]`.
    pub fn by_labels(members: Vec<Box<dyn Transform>>, labels: Vec<usize>) -> Self {
        Partition {
            members,
            route: Route::Labels(labels),
            groups: Vec::new(),
            built: None,
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

    /// Named groups: each block goes to the first group whose glob matches its name, else to the
    /// group of its shape class ([`Label::Matrix`] or [`Label::Vector`]), else to the
    /// [`Label::Default`] group. At build, a glob that matches no block and a block that no
    /// group covers are errors naming them. Matrix, vector and default may each appear once.
    ///
    /// # Errors
    ///
    /// A shape class or the default group given twice.
    pub fn named(groups: Vec<(Label, Box<dyn Transform>)>) -> Result<Self> {
        let (labels, members): (Vec<Label>, Vec<_>) = groups.into_iter().unzip();
        for (i, l) in labels.iter().enumerate() {
            if !matches!(l, Label::Glob(_)) && labels[..i].contains(l) {
                return Err(Error::invalid(
                    "partition",
                    format!("{} twice", l.text()),
                    "matrix, vector and default at most once each",
                ));
            }
        }
        Ok(Partition {
            members,
            route: Route::Named(labels),
            groups: Vec::new(),
            built: None,
        })
    }

    /// The members in label order.
    pub fn members(&self) -> &[Box<dyn Transform>] {
        &self.members
    }

    /// The members in label order, mutably (to set one group's hyperparameters).
    pub fn members_mut(&mut self) -> &mut [Box<dyn Transform>] {
        &mut self.members
    }

    /// `partition(groups=[group(match="glob", opt=spec), ...], matrix=spec, vector=spec,
    /// default=spec)`, at least one of them (see [`Partition::named`]).
    ///
    /// # Errors
    ///
    /// No group at all, a group without `match` or `opt`, or a member that does not build, naming the key.
    pub fn from_spec(spec: &Spec) -> Result<Self> {
        let a = spec.args(&["groups", "matrix", "vector", "default"])?;
        let mut groups: Vec<(Label, Box<dyn Transform>)> = Vec::new();
        for item in a.list("groups")?.unwrap_or(&[]) {
            let g = match item {
                Value::Spec(g) if g.name == "group" => g,
                other => {
                    return Err(Error::invalid(
                        "partition.groups",
                        other,
                        "group(match=\"glob\", opt=spec)",
                    ));
                }
            };
            let ga = g.args(&["match", "opt"])?;
            let pattern = ga.string("match")?.ok_or_else(|| {
                Error::invalid(
                    "group.match",
                    "nothing",
                    "a glob such as \"*.bias\" (required)",
                )
            })?;
            let opt = ga.spec("opt")?.ok_or_else(|| {
                Error::invalid("group.opt", "nothing", "a transform spec (required)")
            })?;
            groups.push((Label::Glob(pattern.to_string()), build_transform(opt)?));
        }
        for (key, label) in [
            ("matrix", Label::Matrix),
            ("vector", Label::Vector),
            ("default", Label::Default),
        ] {
            if let Some(s) = a.spec(key)? {
                groups.push((label, build_transform(s)?));
            }
        }
        if groups.is_empty() {
            return Err(Error::invalid(
                "partition",
                "no group",
                "groups=[group(match=\"glob\", opt=spec), ...], matrix=, vector= or default=",
            ));
        }
        Partition::named(groups)
    }

    /// The keys of [`Partition::from_spec`], for `descent list`.
    pub fn keys() -> Vec<KeyDoc> {
        vec![
            KeyDoc::new(
                "groups",
                None,
                "named groups, the first matching glob wins: [group(match=\"*.bias\", \
                 opt=spec), ...] (* any run, ? one character)",
            ),
            KeyDoc::new(
                "matrix",
                None,
                "the transform of the matrix blocks (2-D) no group took",
            ),
            KeyDoc::new(
                "vector",
                None,
                "the transform of the other blocks no group took",
            ),
            KeyDoc::new(
                "default",
                None,
                "the transform of every block nothing else took",
            ),
        ]
    }
}

impl Transform for Partition {
    crate::plumbing! { kind: "partition", members: members, }

    fn name(&self) -> String {
        match &self.route {
            Route::Named(labels) => {
                let groups: Vec<String> = labels
                    .iter()
                    .zip(&self.members)
                    .map(|(l, m)| match l {
                        Label::Glob(_) => format!("group({}, opt={})", l.text(), m.name()),
                        _ => format!("{}={}", l.text(), m.name()),
                    })
                    .collect();
                format!("partition({})", groups.join(", "))
            }
            _ => format!("partition({})", join_names(&self.members)),
        }
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
        let named = match &self.route {
            Route::Named(labels) => Some(assign_named(labels, blocks)?),
            _ => None,
        };
        let mut indices: Vec<Vec<usize>> = vec![Vec::new(); self.members.len()];
        for (i, b) in blocks.iter().enumerate() {
            let label = match (&self.route, &named) {
                (_, Some(n)) => n[i],
                (Route::Labels(l), _) => l[i],
                (Route::By(f), _) => f(b),
                (Route::Named(_), None) => unreachable!("named routes are assigned above"),
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
        self.built = None;
        for (member, idx) in self.members.iter_mut().zip(&indices) {
            let sub = layout.select(idx)?;
            member.build(&sub, streams)?;
            self.groups.push(Group {
                ranges: idx.iter().map(|&i| blocks[i].range()).collect(),
                grad: vec![0.0; sub.len()],
                params: vec![0.0; sub.len()],
            });
        }
        self.built = Some(layout.len());
        Ok(())
    }

    /// # Panics
    ///
    /// Before [`Transform::build`] and on a gradient or parameters of another length than the
    /// layout it was built on (see [`assert_update_len`]).
    fn update(&mut self, step: u64, grad: &mut [f64], params: &[f64]) {
        match self.built {
            Some(n) => assert_update_len("partition", n, grad, params),
            None => update_len_panic("partition (never built)", 0, grad.len(), params.len()),
        }
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
}

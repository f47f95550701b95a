//! Typed transform and optimizer states ([`TransformState`]) and the [`plumbing!`](crate::plumbing!)
//! macro that writes `hyper_names`, `hyper`, `set_hyper`, `state` and `load_state` from a config.

use super::*;

/// The state of a transform or optimizer as plain, serde-serializable data: which method wrote
/// it (`kind`, checked on load), its config (the hyperparameters when it was saved), its own
/// typed state (moments, counters, random streams; booleans and enums as themselves) and the
/// states of nested transforms in order (chain members, partition groups, a schedule's or an
/// optimizer's inner transform).
///
/// In JSON (integers stay integers, every f64 round-trips bit for bit through
/// [`descent_core::json`], NaN and ±inf as the strings `"NaN"`, `"inf"`, `"-inf"`):
///
/// ```text
/// {"kind": "sgd",
///  "config": {"lr": 0.05, "momentum": 0.9, "dampening": 0.0, "nesterov": false, "weight_decay": 0.0},
///  "state": {"momentum_buffer": [0.1, -0.2, 0.05], "has_buf": true}}
/// ```
///
/// `config`, `state` and `children` are left out when empty. Loading restores the saved config
/// too, so hyperparameters changed by a schedule or `set_hyper` come back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransformState {
    /// Which transform wrote it (`"sgd"`, `"adam"`, `"chain"`, ...).
    pub kind: String,
    /// The config it ran with.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub config: serde_json::Value,
    /// Its own state (moments, counters), typed by the transform.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub state: serde_json::Value,
    /// The states of nested transforms, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<TransformState>,
}

/// Plain data as a JSON value, non-finite floats as strings ([`descent_core::json`]; states
/// and configs are plain data, so this cannot fail).
#[doc(hidden)]
pub fn to_value<T: Serialize>(v: &T) -> serde_json::Value {
    descent_core::json::to_value(v).expect("configs and states are plain data")
}

impl TransformState {
    /// An empty state of this kind.
    pub fn new(kind: &str) -> Self {
        TransformState {
            kind: kind.to_string(),
            ..Default::default()
        }
    }

    /// Adds a nested state.
    pub fn with_child(mut self, child: TransformState) -> Self {
        self.children.push(child);
        self
    }

    /// Ok when the state was written by a transform of this kind.
    ///
    /// # Errors
    ///
    /// A state of another kind, naming both.
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

    /// Ok when this is the state of a stateless method of kind `kind` (no children, no saved
    /// state): the default `load_state` of transforms and optimizers. `what` names the field
    /// ("transform state" or "optimizer state") and `name` the method in the error.
    ///
    /// # Errors
    ///
    /// A state of another kind, or one with children or saved data.
    pub fn expect_stateless(&self, kind: &str, what: &str, name: &str) -> Result<()> {
        self.expect_kind(kind)?;
        self.expect_children(0)?;
        if self.state.is_null() {
            Ok(())
        } else {
            Err(Error::invalid(
                what,
                "saved moments or counters",
                format!("none for the stateless {name}"),
            ))
        }
    }

    /// The nested states, which must number `n`.
    ///
    /// # Errors
    ///
    /// Another number of nested states.
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

    /// The saved config as a value of `current`'s type, validated.
    ///
    /// # Errors
    ///
    /// A saved config that does not deserialize into `C` or does not validate.
    pub fn read_config<C: Config>(&self, _current: &C) -> Result<C> {
        let cfg: C = descent_core::json::from_value(self.config.clone()).map_err(|e| {
            Error::invalid(
                format!("{} state config", self.kind),
                e,
                "the config of this transform",
            )
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The saved own state as a value of `current`'s type, whose vectors must have the same
    /// lengths as `current`'s and whose `dim` entries (parameter counts) the same values.
    ///
    /// # Errors
    ///
    /// A saved state that does not deserialize into `T`, or vectors or parameter counts that differ from `current`'s.
    pub fn read_state<T: Serialize + DeserializeOwned>(&self, current: &T) -> Result<T> {
        same_shape(&self.kind, "", &to_value(current), &self.state)?;
        descent_core::json::from_value(self.state.clone()).map_err(|e| {
            Error::invalid(
                format!("{} state", self.kind),
                e,
                "the state of this transform",
            )
        })
    }

    /// The resolved configuration tree (kinds, configs and nested configs, without the moments
    /// and counters): what a report logs beside its results.
    pub fn resolved(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("kind".into(), self.kind.clone().into());
        if !self.config.is_null() {
            m.insert("config".into(), self.config.clone());
        }
        if !self.children.is_empty() {
            m.insert(
                "children".into(),
                self.children.iter().map(|c| c.resolved()).collect(),
            );
        }
        serde_json::Value::Object(m)
    }
}

/// Arrays must keep their lengths, objects are compared key by key, and a `dim` entry (a
/// parameter count) must keep its value.
fn same_shape(
    kind: &str,
    path: &str,
    current: &serde_json::Value,
    saved: &serde_json::Value,
) -> Result<()> {
    use serde_json::Value as J;
    match (current, saved) {
        (J::Array(a), J::Array(b)) => {
            if a.len() != b.len() {
                return Err(Error::shape(
                    format!("{kind} state vector '{path}'"),
                    a.len(),
                    b.len(),
                ));
            }
            Ok(())
        }
        (J::Object(a), J::Object(b)) => {
            for (k, va) in a {
                let Some(vb) = b.get(k) else { continue };
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if k == "dim" && va != vb {
                    return Err(Error::shape(
                        format!("{kind} state '{p}' (parameter count)"),
                        va,
                        vb,
                    ));
                }
                same_shape(kind, &p, va, vb)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Reads a value of the same type as `like` from a JSON value (type inference for
/// [`plumbing!`](crate::plumbing!)).
///
/// # Errors
///
/// A value that does not deserialize into `T`, naming `kind`.
#[doc(hidden)]
pub fn read_like<T: DeserializeOwned>(_like: &T, kind: &str, v: &serde_json::Value) -> Result<T> {
    descent_core::json::from_value(v.clone())
        .map_err(|e| Error::invalid(format!("{kind} state"), e, "a state of this transform"))
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plumb {
    // the config as a place
    (@cfg $s:ident [self]) => { (*$s) };
    (@cfg $s:ident [$f:ident]) => { $s.$f };

    (kind $s:ident [] $cfg:tt) => { $crate::config::Config::owner(&$crate::__plumb!(@cfg $s $cfg)) };
    (kind $s:ident [$kind:expr] $cfg:tt) => { $kind };

    (cfg_names $s:ident [] $out:ident) => {};
    (cfg_names $s:ident $cfg:tt $out:ident) => {
        $out.extend($crate::config::Config::tunable(&$crate::__plumb!(@cfg $s $cfg)));
    };
    (child_names $s:ident [] $out:ident) => {};
    (child_names $s:ident [$c:ident] $out:ident) => {
        for n in $s.$c.hyper_names() {
            if !$out.contains(&n) {
                $out.push(n);
            }
        }
    };

    (cfg_get $s:ident [] $name:ident) => {};
    (cfg_get $s:ident $cfg:tt $name:ident) => {
        if let Some(v) = $crate::config::Config::get(&$crate::__plumb!(@cfg $s $cfg), $name) {
            return Some(v);
        }
    };
    (child_get $s:ident [] $name:ident) => {};
    (child_get $s:ident [$c:ident] $name:ident) => {
        if let Some(v) = $s.$c.hyper($name) {
            return Some(v);
        }
    };

    (cfg_set $s:ident [] $name:ident $value:ident) => {};
    (cfg_set $s:ident $cfg:tt $name:ident $value:ident) => {
        if $crate::config::Config::accepts(&$crate::__plumb!(@cfg $s $cfg), $name) {
            return $crate::config::Config::set(&mut $crate::__plumb!(@cfg $s $cfg), $name, $value);
        }
    };
    (child_set $s:ident [] $name:ident $value:ident) => {};
    (child_set $s:ident [$c:ident] $name:ident $value:ident) => {
        return $s.$c.set_hyper($name, $value);
    };

    (cfg_value $s:ident []) => { serde_json::Value::Null };
    (cfg_value $s:ident $cfg:tt) => { $crate::config::to_value(&$crate::__plumb!(@cfg $s $cfg)) };
    (st_value $s:ident []) => { serde_json::Value::Null };
    (st_value $s:ident [$st:ident]) => { $crate::config::to_value(&$s.$st) };
    (members_names $s:ident [] $out:ident) => {};
    (members_names $s:ident [$m:ident] $out:ident) => {
        $out.extend($crate::transform::union_hyper_names(&$s.$m));
    };
    (members_get $s:ident [] $name:ident) => {};
    (members_get $s:ident [$m:ident] $name:ident) => {
        return $s.$m.iter().find_map(|m| m.hyper($name));
    };
    (members_set $s:ident $kind:tt [] $name:ident $value:ident) => {};
    (members_set $s:ident [$kind:expr] [$m:ident] $name:ident $value:ident) => {
        return $crate::transform::forward_hyper($kind, &mut $s.$m, $name, $value);
    };

    (children $s:ident [] []) => { Vec::new() };
    (children $s:ident [$c:ident] []) => { vec![$s.$c.state()] };
    (children $s:ident [] [$m:ident]) => { $s.$m.iter().map(|m| m.state()).collect() };
    (n_children $s:ident [] []) => { 0 };
    (n_children $s:ident [$c:ident] []) => { 1 };
    (n_children $s:ident [] [$m:ident]) => { $s.$m.len() };

    (cfg_read $s:ident [] $saved:ident $v:ident) => { let $v = (); };
    (cfg_read $s:ident $cfg:tt $saved:ident $v:ident) => {
        let $v = $saved.read_config(&$crate::__plumb!(@cfg $s $cfg))?;
    };
    (st_read $s:ident [] $saved:ident $v:ident) => { let $v = (); };
    (st_read $s:ident [$st:ident] $saved:ident $v:ident) => {
        let $v = $saved.read_state(&$s.$st)?;
    };
    (check $s:ident [] $v:ident) => { let _ = &$v; };
    (check $s:ident [$check:path] $v:ident) => { $check(&*$s, &$v)?; };
    (child_load $s:ident [] [] $children:ident) => { let _ = $children; };
    (child_load $s:ident [$c:ident] [] $children:ident) => { $s.$c.load_state(&$children[0])?; };
    (child_load $s:ident [] [$m:ident] $children:ident) => {
        for (m, c) in $s.$m.iter_mut().zip($children) {
            m.load_state(c)?;
        }
    };
    (cfg_commit $s:ident [] $v:ident) => { let _ = $v; };
    (cfg_commit $s:ident $cfg:tt $v:ident) => { $crate::__plumb!(@cfg $s $cfg) = $v; };
    (st_commit $s:ident [] $v:ident) => { let _ = $v; };
    (st_commit $s:ident [$st:ident] $v:ident) => { $s.$st = $v; };
}

/// Writes the hyperparameter and state plumbing of a [`crate::Transform`] or
/// [`crate::Optimizer`] impl from its parts, all optional, in this order:
///
/// ```text
/// plumbing! {
///     kind: "transform_optimizer",  // the state kind (default: the config's owner)
///     config: cfg,                  // a field implementing Config, or `self` for a config type
///     state: st,                    // a field of plain serde data (moments, counters)
///     child: base,                  // a nested transform or optimizer: state child 0; the
///                                   // hyperparameters the config lacks are forwarded to it
///     members: members,             // or nested transforms (a Vec, needs `kind`): states in
///                                   // order; a hyperparameter goes to every member having it
///     check: Self::check_state,     // fn(&Self, &State) -> Result<()>, before a load commits
/// }
/// ```
///
/// It generates `hyper_names`, `hyper`, `set_hyper` (allocation-free on success), `state` and
/// `load_state` (kind, children, config and state shapes checked before anything changes).
#[macro_export]
macro_rules! plumbing {
    (
        $(kind: $kind:expr,)?
        $(config: $cfg:tt,)?
        $(state: $st:ident,)?
        $(child: $child:ident,)?
        $(members: $members:ident,)?
        $(check: $check:path,)?
    ) => {
        $crate::plumbing!(
            @methods [$($kind)?] [$($cfg)?] [$($st)?] [$($child)?] [$($members)?] [$($check)?]
        );
    };
    (@methods $kind:tt $cfg:tt $st:tt $child:tt $members:tt $check:tt) => {
        fn hyper_names(&self) -> Vec<&'static str> {
            #[allow(unused_mut)]
            let mut out: Vec<&'static str> = Vec::new();
            $crate::__plumb!(cfg_names self $cfg out);
            $crate::__plumb!(child_names self $child out);
            $crate::__plumb!(members_names self $members out);
            out
        }

        #[allow(unreachable_code)]
        fn hyper(&self, name: &str) -> Option<f64> {
            $crate::__plumb!(cfg_get self $cfg name);
            $crate::__plumb!(child_get self $child name);
            $crate::__plumb!(members_get self $members name);
            let _ = name;
            None
        }

        #[allow(unreachable_code)]
        fn set_hyper(&mut self, name: &str, value: f64) -> descent_core::Result<()> {
            $crate::__plumb!(cfg_set self $cfg name value);
            $crate::__plumb!(child_set self $child name value);
            $crate::__plumb!(members_set self $kind $members name value);
            let _ = value;
            Err($crate::config::unknown_hyper(
                $crate::__plumb!(kind self $kind $cfg),
                name,
                &self.hyper_names(),
            ))
        }

        fn state(&self) -> $crate::config::TransformState {
            $crate::config::TransformState {
                kind: $crate::__plumb!(kind self $kind $cfg).to_string(),
                config: $crate::__plumb!(cfg_value self $cfg),
                state: $crate::__plumb!(st_value self $st),
                children: $crate::__plumb!(children self $child $members),
            }
        }

        #[allow(clippy::let_unit_value)]
        fn load_state(
            &mut self,
            saved: &$crate::config::TransformState,
        ) -> descent_core::Result<()> {
            saved.expect_kind($crate::__plumb!(kind self $kind $cfg))?;
            let children = saved.expect_children($crate::__plumb!(n_children self $child $members))?;
            $crate::__plumb!(cfg_read self $cfg saved new_config);
            $crate::__plumb!(st_read self $st saved new_state);
            $crate::__plumb!(check self $check new_state);
            $crate::__plumb!(child_load self $child $members children);
            $crate::__plumb!(cfg_commit self $cfg new_config);
            $crate::__plumb!(st_commit self $st new_state);
            Ok(())
        }
    };
}

/// Deserializes plain data (for tests and tools reading saved states).
///
/// # Errors
///
/// A value that does not deserialize into `T`.
pub fn from_value<T: for<'de> Deserialize<'de>>(v: &serde_json::Value) -> Result<T> {
    descent_core::json::from_value(v.clone())
        .map_err(|e| Error::invalid("state", e, "plain data of the expected type"))
}

//! Fuzz drivers for the text a user types: the spec grammar (optimizers, transforms, models)
//! and experiment configs (a TOML file, then `--set key=value` overrides). Each must return Ok
//! or Err without panicking. Shared by the cargo-fuzz targets (`fuzz/fuzz_targets/`) and the
//! stable corpus replay (`crates/descent-lab/tests/fuzz_corpus.rs`).

use descent_core::testfns::Rosenbrock;
use descent_core::{Layout, RngStreams, Spec};
use descent_lab::config::{apply_set, from_value, merge_toml};
use descent_lab::experiment::{Experiment, PaperConfig, Preset};
use descent_lab::papers;

/// A spec: parsing, printing and parsing again gives the same spec; then it is built as an
/// optimizer (initialised and stepped on a 4-dimensional Rosenbrock), a transform and a model.
pub fn spec(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(spec) = Spec::parse(text) else {
        return;
    };
    let printed = spec.to_string();
    match Spec::parse(&printed) {
        Ok(again) => assert_eq!(again, spec, "{text:?} printed as {printed:?}"),
        Err(e) => panic!("{text:?} printed as {printed:?}, which does not parse: {e}"),
    }
    if let Ok(mut opt) = descent_optim::build_optimizer(&spec) {
        let mut problem = Rosenbrock::new(4).expect("4 >= 2");
        let mut x = problem.start();
        if opt.init(&Layout::flat(4), &RngStreams::new(1)).is_ok() {
            for _ in 0..3 {
                if opt.step(&mut x, &mut problem).is_err() {
                    break;
                }
            }
        }
    }
    if let Ok(mut t) = descent_optim::build_transform(&spec)
        && t.build(&Layout::flat(4), &RngStreams::new(1)).is_ok()
    {
        let mut grad = vec![1.0, -2.0, 0.5, 0.0];
        t.update(1, &mut grad, &[0.0; 4]);
    }
    let _ = descent_nn::build_model(&spec, 3, 2);
}

/// Resolves a paper's quick config the way `descent run` does, then reads it as the typed
/// config and validates it.
fn resolve<C: PaperConfig>(exp: &dyn Experiment, toml: &str, sets: &str) {
    let mut cfg = exp.config(Preset::Quick);
    if merge_toml(&mut cfg, toml, "fuzz.toml").is_err() {
        return;
    }
    for set in sets.lines() {
        if apply_set(&mut cfg, set).is_err() {
            return;
        }
    }
    if let Ok(c) = from_value::<C>(&cfg) {
        let _ = c.validate();
    }
}

/// A config: the first byte picks the paper; the rest, up to a `\u{1}`, is a TOML file, and
/// each line after it one `--set`.
pub fn config(bytes: &[u8]) {
    let Some((&which, rest)) = bytes.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (toml, sets) = text.split_once('\u{1}').unwrap_or((text, ""));
    let all = papers::all();
    let exp = all[which as usize % all.len()].as_ref();
    match exp.name() {
        "drift" => resolve::<papers::drift::Config>(exp, toml, sets),
        "samosa" => resolve::<papers::samosa::Config>(exp, toml, sets),
        "puf" => resolve::<papers::puf::Config>(exp, toml, sets),
        "hierarchical" => resolve::<papers::hierarchical::Config>(exp, toml, sets),
        "reduction" => resolve::<papers::reduction::Config>(exp, toml, sets),
        "rbo" => resolve::<papers::rbo::Config>(exp, toml, sets),
        "quantized" => resolve::<papers::quantized::Config>(exp, toml, sets),
        "engd" => resolve::<papers::engd::Config>(exp, toml, sets),
        "adp-vrsgp" => resolve::<papers::adp_vrsgp::Config>(exp, toml, sets),
        "zeroth-order" => resolve::<papers::zeroth_order::Config>(exp, toml, sets),
        other => panic!("paper {other} has no config type in the fuzz driver"),
    }
}

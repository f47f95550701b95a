//! What `descent list` prints: every optimizer, transform, model, loss and dataset with its
//! parameters, taken from the registries of the library crates.

use std::fmt::Write as _;

use descent_core::{Error, Result, Spec, Value};

/// The listing as text, one section per kind.
pub fn listing() -> String {
    let mut s = String::new();
    let _ = writeln!(s, "optimizers:");
    let _ = writeln!(s, "  (each key as key=default, then what it means)");
    s.push_str(&descent_optim::registry::listing(descent_optim::OPTIMIZERS));
    s.push('\n');
    let _ = writeln!(s, "transforms:");
    let _ = writeln!(
        s,
        "  (building blocks: inside chain(..), partition(..), base=.., or alone; \
         `descent list --model SPEC` shows the block names partition groups match)"
    );
    s.push_str(&descent_optim::registry::listing(descent_optim::TRANSFORMS));
    s.push('\n');
    let sections: [(&str, &[(&str, &str)]); 3] = [
        ("models", descent_nn::MODELS),
        ("losses", descent_nn::LOSSES),
        ("datasets", descent_data::DATASETS),
    ];
    for (title, items) in sections {
        let _ = writeln!(s, "{title}:");
        let width = items.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (name, doc) in items {
            let _ = writeln!(s, "  {name:width$}  {doc}");
        }
        s.push('\n');
    }
    let _ = writeln!(s, "experiments (descent run NAME, descent reproduce):");
    let registry = crate::experiment::registry();
    let width = registry.iter().map(|e| e.name().len()).max().unwrap_or(0);
    for e in registry.iter() {
        let _ = writeln!(s, "  {:width$}  {}: {}", e.name(), e.paper(), e.summary());
    }
    if registry.names().is_empty() {
        let _ = writeln!(s, "  (none registered yet)");
    }
    s
}

/// `descent list --model SPEC [--data NAME]`: the layout blocks of the model (name, row-major
/// shape, parameter count), the names `partition(groups=[group(match="..", ..)])` matches. The
/// input and output widths come from the spec when it gives all widths (`mlp:64-128-10`), else
/// from the data (its features, and the outputs its default loss needs).
pub fn model_layout(model: &str, data: Option<&str>) -> Result<String> {
    let spec = Spec::parse(model)?;
    let (n_in, n_out) = match data {
        Some(d) => {
            let source = descent_data::load_source(d)?;
            let loss = descent_nn::choose_loss(None, &source.train.targets)?;
            let n_out = descent_nn::output_width(loss, &source.train)?;
            (source.train.n_features, n_out)
        }
        None => spec_widths(&spec).ok_or_else(|| {
            Error::invalid(
                "--model",
                model,
                "all widths (mlp:64-128-10, mlp(sizes=[64,128,10])), or --data NAME to size \
                 the input and output",
            )
        })?,
    };
    let built = descent_nn::build_model(&spec, n_in, n_out)?;
    let layout = built.mlp.layout();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{model}: {} parameters in {} blocks",
        layout.len(),
        layout.blocks().len()
    );
    let rows: Vec<(String, String, usize)> = layout
        .blocks()
        .iter()
        .map(|b| (b.name.clone(), format!("{:?}", b.shape), b.numel()))
        .collect();
    let wn = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let ws = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    for (name, shape, n) in rows {
        let _ = writeln!(s, "  {name:wn$}  {shape:ws$}  {n}");
    }
    Ok(s)
}

/// The first and last width of a spec that gives all of them.
fn spec_widths(spec: &Spec) -> Option<(usize, usize)> {
    let widths: Vec<usize> = match (&spec.short, spec.get("sizes")) {
        (Some(short), _) => short
            .split('-')
            .map(|w| w.trim().parse().ok())
            .collect::<Option<_>>()?,
        (None, Some(Value::List(items))) => items
            .iter()
            .map(|v| match v {
                Value::Number(x) if *x >= 0.0 && x.fract() == 0.0 => Some(*x as usize),
                _ => None,
            })
            .collect::<Option<_>>()?,
        _ => return None,
    };
    (widths.len() >= 2).then(|| (widths[0], widths[widths.len() - 1]))
}

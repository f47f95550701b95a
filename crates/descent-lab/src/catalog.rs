//! What `descent list` prints: every optimizer, transform, model, loss and dataset with its
//! parameters, taken from the registries of the library crates.

use std::fmt::Write as _;

/// The listing as text, one section per kind.
pub fn listing() -> String {
    let mut s = String::new();
    let _ = writeln!(s, "optimizers (key=default, then what it means):");
    s.push_str(&descent_optim::registry::listing(descent_optim::OPTIMIZERS));
    s.push('\n');
    let _ = writeln!(
        s,
        "transforms (building blocks: inside chain(..), partition(..), base=.., or alone):"
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

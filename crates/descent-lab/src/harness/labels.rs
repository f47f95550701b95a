//! Legend labels from optimizer specs: a display name and the settings that tell runs apart,
//! read with [`descent_core::Spec::get`] (the spec text is parsed once, by the grammar's own
//! parser).

use descent_core::Spec;

/// `"<title> k₁=v₁, k₂=v₂"` for the listed `(key, symbol)` pairs that the spec gives, e.g.
/// `label("rbo(lr=6, radius=1, inner_steps=20)", "RBO", &[("lr", "η"), ("radius", "ρ")])` is
/// `"RBO η=6, ρ=1"`. Keys the spec leaves out are left out of the label; text that is not a
/// spec is returned as is.
pub fn label(spec_text: &str, title: &str, keys: &[(&str, &str)]) -> String {
    let Ok(spec) = Spec::parse(spec_text) else {
        return spec_text.to_string();
    };
    let parts: Vec<String> = keys
        .iter()
        .filter_map(|(key, symbol)| spec.get(key).map(|v| format!("{symbol}={v}")))
        .collect();
    if parts.is_empty() {
        title.to_string()
    } else {
        format!("{title} {}", parts.join(", "))
    }
}

/// The number a spec gives for `key` (e.g. a learning rate for a table column), NaN when the
/// text is not a spec or does not give a number there.
pub fn number(spec_text: &str, key: &str) -> f64 {
    Spec::parse(spec_text)
        .ok()
        .and_then(|s| s.number(key))
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_show_the_given_settings() {
        let keys = [("lr", "η"), ("radius", "ρ"), ("inner_steps", "K")];
        assert_eq!(
            label("rbo(lr=6, radius=1, inner_lr=0.01)", "RBO", &keys),
            "RBO η=6, ρ=1"
        );
        assert_eq!(label("sgd", "SGD", &keys), "SGD");
        assert_eq!(label("not a spec(", "x", &keys), "not a spec(");
        assert_eq!(number("sgd(lr=0.1, momentum=0.9)", "lr"), 0.1);
        assert!(number("sgd(lr=fast)", "lr").is_nan());
    }
}

//! Validation of JSON documents against the JSON Schema subset descent's own schemas use
//! (`type`, `enum`, `required`, `properties`, `additionalProperties: false`, `items`, `minimum`,
//! `minLength`, and `pattern` of the form `^[class]+/[class]+$`). The report schema is
//! `report.schema.json` in this crate; every report a test produces is validated against it.

use serde_json::Value;

/// The schema of report.json (DESIGN §5).
pub const REPORT_SCHEMA: &str = include_str!("../report.schema.json");

/// Validates `doc` against `schema`; returns every violation as "path: problem".
pub fn validate(schema: &Value, doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, doc, "$", &mut errors);
    errors
}

/// Validates a report document against [`REPORT_SCHEMA`].
pub fn validate_report(doc: &Value) -> Vec<String> {
    let schema: Value =
        serde_json::from_str(REPORT_SCHEMA).expect("the report schema is valid JSON");
    validate(&schema, doc)
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        _ => false,
    }
}

fn check(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(t) = schema.get("type") {
        let ok = match t {
            Value::String(t) => type_matches(t, v),
            Value::Array(ts) => ts
                .iter()
                .filter_map(Value::as_str)
                .any(|t| type_matches(t, v)),
            _ => true,
        };
        if !ok {
            errors.push(format!("{path}: expected type {t}, got {v}"));
            return;
        }
    }
    if let Some(Value::Array(options)) = schema.get("enum")
        && !options.contains(v)
    {
        errors.push(format!(
            "{path}: {v} is not one of {}",
            Value::Array(options.clone())
        ));
    }
    if let (Some(min), Some(x)) = (schema.get("minimum").and_then(Value::as_f64), v.as_f64())
        && x < min
    {
        errors.push(format!("{path}: {x} < minimum {min}"));
    }
    if let (Some(min), Some(s)) = (schema.get("minLength").and_then(Value::as_u64), v.as_str())
        && (s.chars().count() as u64) < min
    {
        errors.push(format!("{path}: string shorter than {min}"));
    }
    if let (Some(p), Some(s)) = (schema.get("pattern").and_then(Value::as_str), v.as_str())
        && !matches_id_pattern(p, s)
    {
        errors.push(format!("{path}: '{s}' does not match {p}"));
    }
    if let Value::Object(obj) = v {
        if let Some(Value::Array(req)) = schema.get("required") {
            for r in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    errors.push(format!("{path}: missing required '{r}'"));
                }
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, child) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => check(s, child, &format!("{path}.{k}"), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{path}: unexpected property '{k}'"))
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (v, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(s, item, &format!("{path}[{i}]"), errors);
        }
    }
}

/// Matches the one pattern shape the schemas use: `^[A]+/[B]+$` with character classes made of
/// ranges (`a-z`) and literal characters.
fn matches_id_pattern(pattern: &str, s: &str) -> bool {
    let classes: Vec<&str> = pattern
        .trim_start_matches('^')
        .trim_end_matches('$')
        .split("]+/[")
        .map(|c| c.trim_start_matches('[').trim_end_matches("]+"))
        .collect();
    let parts: Vec<&str> = s.splitn(2, '/').collect();
    classes.len() == 2
        && parts.len() == 2
        && parts
            .iter()
            .zip(&classes)
            .all(|(p, c)| !p.is_empty() && p.chars().all(|ch| in_class(c, ch)))
}

fn in_class(class: &str, ch: char) -> bool {
    let c: Vec<char> = class.chars().collect();
    let mut i = 0;
    while i < c.len() {
        if i + 2 < c.len() && c[i + 1] == '-' {
            if (c[i]..=c[i + 2]).contains(&ch) {
                return true;
            }
            i += 3;
        } else {
            if c[i] == ch {
                return true;
            }
            i += 1;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Claim, ClaimKind, Report};

    #[test]
    fn a_full_report_validates_and_broken_ones_do_not() {
        let mut r = Report {
            experiment: "demo".into(),
            paper: "P0 demo".into(),
            preset: "quick".into(),
            config: serde_json::json!({"steps": 3}),
            ..Default::default()
        };
        r.claim(Claim::at_most(
            "demo/err",
            "error is small",
            ClaimKind::Asserted,
            1e-9,
            1e-6,
        ));
        r.add_series(
            "curve",
            &[("x", vec![1.0, 2.0]), ("y", vec![0.5, f64::NAN])],
        );
        r.add_table("t", &["a", "b"], vec![vec![1.into(), "x".into()]]);
        let doc = serde_json::to_value(&r).unwrap();
        assert_eq!(validate_report(&doc), Vec::<String>::new());

        let mut bad = doc.clone();
        bad["claims"][0]["kind"] = "maybe".into();
        bad["claims"][0]["id"] = "no-slash".into();
        bad["preset"] = "medium".into();
        bad.as_object_mut().unwrap().remove("series");
        bad["extra"] = 1.into();
        let errs = validate_report(&bad);
        assert_eq!(errs.len(), 5, "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("$.claims[0].kind")));
        assert!(errs.iter().any(|e| e.contains("'no-slash' does not match")));
        assert!(errs.iter().any(|e| e.contains("missing required 'series'")));
        assert!(
            errs.iter()
                .any(|e| e.contains("unexpected property 'extra'"))
        );
    }

    #[test]
    fn id_pattern_classes() {
        let p = "^[a-z0-9-]+/[A-Za-z0-9_.-]+$";
        assert!(matches_id_pattern(p, "zeroth-order/Z1.mean"));
        assert!(!matches_id_pattern(p, "Drift/x"));
        assert!(!matches_id_pattern(p, "drift/"));
        assert!(!matches_id_pattern(p, "drift/a b"));
    }
}

//! Experiment configs as JSON values: presets come from typed, defaulted config structs; users
//! change them with `--set key=value` (dotted paths for nested fields) and `--config file.toml`.
//! Every key must already exist and keep its type, so a typo or a wrong type is an error that
//! names the key and lists the valid ones.

use descent_core::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A typed config as a JSON value.
pub fn to_value<C: Serialize>(config: &C) -> Value {
    serde_json::to_value(config).expect("config structs serialize to JSON")
}

/// A JSON value as the typed config; errors name the field.
pub fn from_value<C: DeserializeOwned>(value: &Value) -> Result<C> {
    serde_json::from_value(value.clone())
        .map_err(|e| Error::invalid("config", value_summary(value), e.to_string()))
}

/// The value as JSON, cut to 77 characters plus `...` when longer than 80 (counted in
/// characters, so a non-ASCII value is never cut inside one).
fn value_summary(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(80) {
        Some(_) => {
            let cut = s.char_indices().nth(77).map_or(s.len(), |(i, _)| i);
            format!("{}...", &s[..cut])
        }
        None => s,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

/// Parses the right-hand side of `key=value` as a TOML value (numbers, booleans, quoted strings,
/// arrays); anything else is taken as a bare string.
fn parse_scalar(text: &str) -> Value {
    let doc = format!("v = {text}");
    match toml::from_str::<toml::Table>(&doc) {
        Ok(t) => serde_json::to_value(finite_or_text(t["v"].clone()))
            .unwrap_or(Value::String(text.to_string())),
        Err(_) => Value::String(text.to_string()),
    }
}

/// TOML's `nan` and `inf` as the text `"NaN"` / `"inf"`: JSON has no such numbers (serde_json
/// would make them null), and no config field takes them, so the type check names them.
fn finite_or_text(v: toml::Value) -> toml::Value {
    match v {
        toml::Value::Float(x) if !x.is_finite() => toml::Value::String(x.to_string()),
        toml::Value::Array(a) => toml::Value::Array(a.into_iter().map(finite_or_text).collect()),
        toml::Value::Table(t) => {
            toml::Value::Table(t.into_iter().map(|(k, v)| (k, finite_or_text(v))).collect())
        }
        other => other,
    }
}

/// Replaces `slot` by `new` if the types agree (an integer may stand where a number is
/// expected); `key` names the field in errors.
fn assign(slot: &mut Value, new: Value, key: &str) -> Result<()> {
    let ok = match (&*slot, &new) {
        (Value::Number(old), Value::Number(n)) => old.is_f64() || !n.is_f64(),
        (Value::Bool(_), Value::Bool(_))
        | (Value::String(_), Value::String(_))
        | (Value::Null, _) => true,
        (Value::Array(old), Value::Array(n)) => match (old.first(), n.first()) {
            (Some(a), Some(b)) => std::mem::discriminant(a) == std::mem::discriminant(b),
            _ => true,
        },
        (Value::Object(_), Value::Object(_)) => true,
        _ => false,
    };
    if !ok {
        return Err(Error::invalid(key, value_summary(&new), type_name(slot)));
    }
    match (slot, new) {
        (Value::Object(old), Value::Object(new)) => merge_object(old, new, key),
        (slot, new) => {
            *slot = new;
            Ok(())
        }
    }
}

fn merge_object(old: &mut Map<String, Value>, new: Map<String, Value>, prefix: &str) -> Result<()> {
    for (k, v) in new {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let valid: Vec<String> = old.keys().cloned().collect();
        let slot = old.get_mut(&k).ok_or_else(|| Error::UnknownKey {
            context: if prefix.is_empty() {
                "the config".into()
            } else {
                format!("'{prefix}'")
            },
            key: path.clone(),
            valid,
        })?;
        assign(slot, v, &path)?;
    }
    Ok(())
}

/// Applies one `key=value` override (dotted keys reach nested tables).
pub fn apply_set(config: &mut Value, assignment: &str) -> Result<()> {
    let (key, text) = assignment
        .split_once('=')
        .ok_or_else(|| Error::invalid("--set", assignment, "key=value"))?;
    let key = key.trim();
    let mut slot = &mut *config;
    let mut walked = String::new();
    for part in key.split('.') {
        let path = if walked.is_empty() {
            part.to_string()
        } else {
            format!("{walked}.{part}")
        };
        let kind = type_name(slot);
        let obj = slot.as_object_mut().ok_or_else(|| {
            Error::invalid(
                &path,
                "a nested key",
                format!("a key of a table, but '{walked}' is {kind}"),
            )
        })?;
        let valid: Vec<String> = obj.keys().cloned().collect();
        slot = obj.get_mut(part).ok_or_else(|| Error::UnknownKey {
            context: if walked.is_empty() {
                "the config".into()
            } else {
                format!("'{walked}'")
            },
            key: path.clone(),
            valid,
        })?;
        walked = path;
    }
    assign(slot, parse_scalar(text.trim()), key)
}

/// A TOML syntax error as `file:line L, column C: message` (1-based, columns in characters).
fn toml_error(e: &toml::de::Error, text: &str, file: &str) -> Error {
    let message = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let at = (span.start..=span.start.min(text.len()))
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Error::data(file, format!("line {line}, column {column}"), message)
        }
        None => Error::data(file, "TOML", message),
    }
}

/// Merges a TOML document into the config; every key must exist (errors name `file` and key).
pub fn merge_toml(config: &mut Value, text: &str, file: &str) -> Result<()> {
    let table: toml::Table = toml::from_str(text).map_err(|e| toml_error(&e, text, file))?;
    let new = serde_json::to_value(finite_or_text(toml::Value::Table(table)))
        .map_err(|e| Error::data(file, "TOML", e.to_string()))?;
    match (config, new) {
        (Value::Object(old), Value::Object(new)) => {
            merge_object(old, new, "").map_err(|e| match e {
                Error::UnknownKey {
                    context,
                    key,
                    valid,
                } => Error::UnknownKey {
                    context: format!("{context} (in {file})"),
                    key,
                    valid,
                },
                Error::InvalidValue {
                    field,
                    value,
                    expected,
                } => Error::InvalidValue {
                    field: format!("{field} (in {file})"),
                    value,
                    expected,
                },
                other => other,
            })
        }
        _ => Err(Error::data(file, "TOML", "the config is not a table")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        lr: f64,
        steps: usize,
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Cfg {
        name: String,
        seeds: Vec<u64>,
        verbose: bool,
        opt: Inner,
    }

    fn cfg() -> Value {
        to_value(&Cfg {
            name: "a".into(),
            seeds: vec![1, 2],
            verbose: false,
            opt: Inner { lr: 0.1, steps: 10 },
        })
    }

    #[test]
    fn set_reaches_nested_fields_and_keeps_types() {
        let mut v = cfg();
        apply_set(&mut v, "opt.lr=0.5").unwrap();
        apply_set(&mut v, "opt.steps=20").unwrap();
        apply_set(&mut v, "opt.lr=1").unwrap(); // an integer where a number is expected
        apply_set(&mut v, "seeds=[3,4,5]").unwrap();
        apply_set(&mut v, "verbose=true").unwrap();
        apply_set(&mut v, "name=hello").unwrap();
        let c: Cfg = from_value(&v).unwrap();
        assert_eq!(c.opt, Inner { lr: 1.0, steps: 20 });
        assert_eq!(c.seeds, vec![3, 4, 5]);
        assert!(c.verbose);
        assert_eq!(c.name, "hello");
    }

    #[test]
    fn errors_name_the_key_and_list_valid_ones() {
        let mut v = cfg();
        let e = apply_set(&mut v, "opt.lrr=0.5").unwrap_err().to_string();
        assert_eq!(e, "unknown key 'opt.lrr' for 'opt'; valid keys: lr, steps");
        let e = apply_set(&mut v, "nme=x").unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown key 'nme' for the config; valid keys: name, opt, seeds, verbose"
        );
        let e = apply_set(&mut v, "opt.steps=fast").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid value for 'opt.steps': got \"fast\", expected an integer"
        );
        let e = apply_set(&mut v, "opt.steps=1.5").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid value for 'opt.steps': got 1.5, expected an integer"
        );
        let e = apply_set(&mut v, "opt.lr=nan").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid value for 'opt.lr': got \"NaN\", expected a number"
        );
        let e = apply_set(&mut v, "verbose").unwrap_err().to_string();
        assert!(e.contains("expected key=value"), "{e}");
        let e = apply_set(&mut v, "name.x=1").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid value for 'name.x': got a nested key, expected a key of a table, but \
             'name' is a string"
        );
        // a long non-ASCII value is cut between characters, not inside one
        let long = "é".repeat(100);
        let e = apply_set(&mut v, &format!("opt.steps={long}"))
            .unwrap_err()
            .to_string();
        let shown = format!("\"{}...", "é".repeat(76));
        assert_eq!(
            e,
            format!("invalid value for 'opt.steps': got {shown}, expected an integer")
        );
    }

    #[test]
    fn toml_files_merge_with_named_errors() {
        let mut v = cfg();
        merge_toml(&mut v, "verbose = true\n[opt]\nlr = 0.25\n", "c.toml").unwrap();
        let c: Cfg = from_value(&v).unwrap();
        assert_eq!(c.opt.lr, 0.25);
        let e = merge_toml(&mut v, "[opt]\nrate = 1.0\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "unknown key 'opt.rate' for 'opt' (in c.toml); valid keys: lr, steps"
        );
        let e = merge_toml(&mut v, "seeds = \"x\"\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid value for 'seeds (in c.toml)': got \"x\", expected a list"
        );
        let e = merge_toml(&mut v, "opt = [\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "c.toml:line 1, column 8: unclosed array, expected `]`");
        let e = merge_toml(&mut v, "name = \"é\"\nverbose = tru\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("c.toml:line 2, column 11: "), "{e}");
    }
}

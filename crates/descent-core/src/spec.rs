//! The one text grammar for optimizers, models, data sources and formats (DESIGN §3):
//!
//! ```text
//! spec   := name [ ":" short ] [ "(" [ arg { "," arg } ] ")" ]
//! arg    := key "=" value
//! value  := number | string | ident | spec | "[" [ value { "," value } ] "]"
//! string := '"' { any character but '"' and '\' | '\"' | '\\' } '"'
//! ```
//!
//! e.g. `sam(rho=0.05, base=sgd(lr=0.1, momentum=0.9))`, `mlp(sizes=[64,128,10], act=tanh)` and
//! its short form `mlp:64-128-10`, `csv:data/train.csv`,
//! `partition(groups=[group(match="*.bias", opt=sgd(lr=0.1))], default=adam)`. The short part
//! is everything after the colon up to an opening parenthesis (or the end), kept verbatim for the
//! builder to read. A quoted string holds any text (a glob such as `"layer?.*"`); inside it `\"`
//! is a quote and `\\` a backslash, and no other escape exists. Syntax errors name the column.

use std::fmt;

use crate::{Error, Result};

/// A parsed spec: a name, an optional short form and keyword arguments in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The name before the parentheses (`adam`).
    pub name: String,
    /// The short form it was written in, if any (`mlp:64-128-10`).
    pub short: Option<String>,
    /// The `key=value` arguments in order.
    pub args: Vec<(String, Value)>,
}

/// An argument value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A number (integers too).
    Number(f64),
    /// A quoted string, escapes resolved (`"a\"b"` holds `a"b`).
    Str(String),
    /// A bare word (`tanh`, `true`) or a nested spec (`sgd(lr=0.1)`); a bare word is a spec
    /// without arguments.
    Spec(Spec),
    /// A bracketed list `[a, b, ...]`.
    List(Vec<Value>),
}

impl Spec {
    /// Parses a spec string.
    ///
    /// # Errors
    ///
    /// An [`Error::SpecSyntax`] naming the column where the text stops fitting the grammar.
    pub fn parse(input: &str) -> Result<Spec> {
        let mut p = Parser {
            input,
            chars: input.char_indices().collect(),
            pos: 0,
            depth: 0,
        };
        p.skip_ws();
        let spec = p.spec()?;
        p.skip_ws();
        if p.pos < p.chars.len() {
            return Err(p.err_found("unexpected trailing text"));
        }
        Ok(spec)
    }

    /// A spec with only a name.
    pub fn named(name: &str) -> Spec {
        Spec {
            name: name.to_string(),
            short: None,
            args: Vec::new(),
        }
    }

    /// The value given for `key`, if any (the last word on a key is [`Spec::args`]' reader; this
    /// is for code that only looks, such as a legend label).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.args.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The number given for `key`, if it is one.
    pub fn number(&self, key: &str) -> Option<f64> {
        match self.get(key) {
            Some(Value::Number(x)) => Some(*x),
            _ => None,
        }
    }

    /// Checks every key against `valid` and returns a reader for the arguments. `context` names
    /// the thing in error messages (e.g. `optimizer 'adam'`).
    ///
    /// # Errors
    ///
    /// An [`Error::UnknownKey`] for a key outside `valid`, listing them.
    pub fn args(&self, valid: &[&str]) -> Result<Args<'_>> {
        let context = format!("'{}'", self.name);
        for (i, (key, _)) in self.args.iter().enumerate() {
            if !valid.contains(&key.as_str()) {
                return Err(Error::UnknownKey {
                    context,
                    key: key.clone(),
                    valid: valid.iter().map(|s| s.to_string()).collect(),
                });
            }
            if self.args[..i].iter().any(|(k, _)| k == key) {
                return Err(Error::invalid(
                    format!("{}.{key}", self.name),
                    "a repeated key",
                    "each key at most once",
                ));
            }
        }
        Ok(Args { spec: self })
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(s) = &self.short {
            write!(f, ":{s}")?;
        }
        if !self.args.is_empty() {
            f.write_str("(")?;
            for (i, (k, v)) in self.args.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{k}={v}")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // `inf` alone would read back as a name; the parser takes `+inf` as the number
            Value::Number(x) if *x == f64::INFINITY => f.write_str("+inf"),
            Value::Number(x) => write!(f, "{x}"),
            Value::Str(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    if c == '"' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("\"")
            }
            Value::Spec(s) => write!(f, "{s}"),
            Value::List(v) => {
                f.write_str("[")?;
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{x}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// Typed access to a spec's arguments, with defaults and errors that name `spec.key`, the value
/// and what was expected.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    spec: &'a Spec,
}

impl<'a> Args<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.spec.get(key)
    }

    /// `spec.key`, the name errors give a field.
    pub fn field(&self, key: &str) -> String {
        format!("{}.{key}", self.spec.name)
    }

    /// True when the key was given.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// A real number, or `default` when absent.
    ///
    /// # Errors
    ///
    /// A value of `key` that is not a number.
    pub fn f64(&self, key: &str, default: f64) -> Result<f64> {
        Ok(self.f64_opt(key)?.unwrap_or(default))
    }

    /// A real number if given.
    ///
    /// # Errors
    ///
    /// A value of `key` that is not a number.
    pub fn f64_opt(&self, key: &str) -> Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(x)) => Ok(Some(*x)),
            Some(Value::Spec(s)) if ["nan", "inf", "infinity"].contains(&s.name.as_str()) => {
                Err(Error::invalid(
                    self.field(key),
                    &s.name,
                    "a finite number such as 0.1 or 1e-3",
                ))
            }
            Some(v) => Err(Error::invalid(self.field(key), v, "a number")),
        }
    }

    /// A real number that must lie in `[lo, hi]`, or `default`.
    ///
    /// # Errors
    ///
    /// A value of `key` that is not a number in `[lo, hi]`.
    pub fn f64_in(&self, key: &str, default: f64, lo: f64, hi: f64) -> Result<f64> {
        let x = self.f64(key, default)?;
        if !(x >= lo && x <= hi) {
            return Err(Error::invalid(
                self.field(key),
                x,
                format!("a number in [{lo}, {hi}]"),
            ));
        }
        Ok(x)
    }

    /// A finite number > 0, or `default`.
    ///
    /// # Errors
    ///
    /// A value of `key` that is not a finite number > 0.
    pub fn positive(&self, key: &str, default: f64) -> Result<f64> {
        let x = self.f64(key, default)?;
        if !(x > 0.0 && x.is_finite()) {
            return Err(Error::invalid(self.field(key), x, "a finite number > 0"));
        }
        Ok(x)
    }

    /// A finite number ≥ 0, or `default`.
    ///
    /// # Errors
    ///
    /// A value of `key` that is not a finite number ≥ 0.
    pub fn non_negative(&self, key: &str, default: f64) -> Result<f64> {
        let x = self.f64(key, default)?;
        if !(x >= 0.0 && x.is_finite()) {
            return Err(Error::invalid(self.field(key), x, "a finite number >= 0"));
        }
        Ok(x)
    }

    /// A non-negative integer, or `default`.
    ///
    /// # Errors
    ///
    /// A value of `key` that is not a non-negative integer.
    pub fn usize(&self, key: &str, default: usize) -> Result<usize> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => as_usize(v)
                .ok_or_else(|| Error::invalid(self.field(key), v, "a non-negative integer")),
        }
    }

    /// `true`/`false` (also 1/0), or `default`.
    ///
    /// # Errors
    ///
    /// A value of `key` that is not `true` or `false`.
    pub fn bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Spec(s)) if s.args.is_empty() && s.short.is_none() && s.name == "true" => {
                Ok(true)
            }
            Some(Value::Spec(s)) if s.args.is_empty() && s.short.is_none() && s.name == "false" => {
                Ok(false)
            }
            Some(Value::Number(x)) if *x == 1.0 => Ok(true),
            Some(Value::Number(x)) if *x == 0.0 => Ok(false),
            Some(v) => Err(Error::invalid(self.field(key), v, "true or false")),
        }
    }

    /// A bare word that must be one of `choices`, or `default`.
    ///
    /// # Errors
    ///
    /// A value of `key` that is not one of `choices` (listed in the error).
    pub fn choice(&self, key: &str, default: &'a str, choices: &[&str]) -> Result<String> {
        match self.get(key) {
            None => Ok(default.to_string()),
            Some(Value::Spec(s))
                if s.args.is_empty() && s.short.is_none() && choices.contains(&s.name.as_str()) =>
            {
                Ok(s.name.clone())
            }
            Some(v) => Err(Error::invalid(
                self.field(key),
                v,
                format!("one of {}", choices.join(", ")),
            )),
        }
    }

    /// A nested spec (a bare word counts as a spec without arguments).
    ///
    /// # Errors
    ///
    /// A value of `key` that is not a spec.
    pub fn spec(&self, key: &str) -> Result<Option<&'a Spec>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Spec(s)) => Ok(Some(s)),
            Some(v) => Err(Error::invalid(
                self.field(key),
                v,
                "a spec such as name(key=value)",
            )),
        }
    }

    /// A text: a quoted string, or a bare word (`match="*.bias"`, `name=relu`).
    ///
    /// # Errors
    ///
    /// A value of `key` that is not a string or name.
    pub fn string(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(Value::Spec(s)) if s.args.is_empty() && s.short.is_none() => Ok(Some(&s.name)),
            Some(v) => Err(Error::invalid(
                self.field(key),
                v,
                "a quoted string such as \"*.bias\"",
            )),
        }
    }

    /// A list of values of any kind, for the caller to read item by item.
    ///
    /// # Errors
    ///
    /// A value of `key` that is not a list.
    pub fn list(&self, key: &str) -> Result<Option<&'a [Value]>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::List(v)) => Ok(Some(v)),
            Some(v) => Err(Error::invalid(self.field(key), v, "a list [a, b, ...]")),
        }
    }

    /// A list of non-negative integers.
    ///
    /// # Errors
    ///
    /// A value of `key` that is not a list of non-negative integers.
    pub fn usize_list(&self, key: &str) -> Result<Option<Vec<usize>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::List(v)) => v
                .iter()
                .map(|x| {
                    as_usize(x)
                        .ok_or_else(|| Error::invalid(self.field(key), x, "a non-negative integer"))
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(v) => Err(Error::invalid(
                self.field(key),
                v,
                "a list of integers such as [64,128,10]",
            )),
        }
    }

    /// A list of numbers.
    ///
    /// # Errors
    ///
    /// A value of `key` that is not a list of numbers.
    pub fn f64_list(&self, key: &str) -> Result<Option<Vec<f64>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::List(v)) => v
                .iter()
                .map(|x| match x {
                    Value::Number(n) => Ok(*n),
                    other => Err(Error::invalid(self.field(key), other, "a number")),
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(v) => Err(Error::invalid(
                self.field(key),
                v,
                "a list of numbers such as [0.1, 0.01]",
            )),
        }
    }
}

fn as_usize(v: &Value) -> Option<usize> {
    match v {
        Value::Number(x) if *x >= 0.0 && x.fract() == 0.0 && *x <= 1e15 => Some(*x as usize),
        _ => None,
    }
}

/// How deeply values may nest (lists in lists, specs in specs): far more than any real spec,
/// and few enough that a pathological input cannot overflow the stack.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    input: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
    /// Values being parsed, innermost included.
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, message: &str) -> Error {
        Error::SpecSyntax {
            input: self.input.to_string(),
            column: self.pos + 1,
            message: message.to_string(),
        }
    }

    /// A syntax error at the current position that also names what is there.
    fn err_found(&self, message: &str) -> Error {
        let found = match self.peek() {
            Some(c) => format!("found '{c}'"),
            None => "found the end of the text".to_string(),
        };
        self.err(&format!("{message}, {found}"))
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|c| c.1)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: char) -> Result<()> {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err_found(&format!("expected '{c}'")))
        }
    }

    fn ident(&mut self) -> Result<String> {
        self.skip_ws();
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            self.pos += 1;
        }
        if start == self.pos || !self.chars[start].1.is_ascii_alphabetic() {
            self.pos = start;
            return Err(self.err_found("expected a name starting with a letter"));
        }
        Ok(self.chars[start..self.pos].iter().map(|c| c.1).collect())
    }

    fn spec(&mut self) -> Result<Spec> {
        let name = self.ident()?;
        let mut short = None;
        if self.peek() == Some(':') {
            self.pos += 1;
            let start = self.pos;
            let mut depth = 0usize;
            while let Some(c) = self.peek() {
                match c {
                    '(' if depth == 0 => break,
                    ',' | ')' | ']' if depth == 0 => break,
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    _ => {}
                }
                self.pos += 1;
            }
            let s: String = self.chars[start..self.pos].iter().map(|c| c.1).collect();
            if s.trim().is_empty() {
                return Err(self.err("expected text after ':'"));
            }
            short = Some(s.trim().to_string());
        }
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some('(') {
            self.pos += 1;
            self.skip_ws();
            if self.peek() == Some(')') {
                self.pos += 1;
            } else {
                loop {
                    let key = self.ident()?;
                    self.expect('=')?;
                    let value = self.value()?;
                    args.push((key, value));
                    self.skip_ws();
                    match self.peek() {
                        Some(',') => self.pos += 1,
                        Some(')') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err(self.err_found("expected ',' or ')'")),
                    }
                }
            }
        }
        Ok(Spec { name, short, args })
    }

    /// A quoted string from the opening quote; escapes `\"` and `\\`.
    fn string(&mut self) -> Result<String> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    self.pos = open;
                    return Err(self.err("unterminated string (no closing '\"')"));
                }
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ ('"' | '\\')) => out.push(c),
                        _ => {
                            self.pos -= 1;
                            return Err(self.err(
                                "unknown escape in a string (only \\\" and \\\\ are escapes)",
                            ));
                        }
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn value(&mut self) -> Result<Value> {
        if self.depth == MAX_DEPTH {
            return Err(self.err(&format!("values nested more than {MAX_DEPTH} deep")));
        }
        self.depth += 1;
        let v = self.value_inner();
        self.depth -= 1;
        v
    }

    fn value_inner(&mut self) -> Result<Value> {
        self.skip_ws();
        match self.peek() {
            Some('[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(']') {
                    self.pos += 1;
                    return Ok(Value::List(items));
                }
                loop {
                    items.push(self.value()?);
                    self.skip_ws();
                    match self.peek() {
                        Some(',') => self.pos += 1,
                        Some(']') => {
                            self.pos += 1;
                            return Ok(Value::List(items));
                        }
                        _ => return Err(self.err_found("expected ',' or ']'")),
                    }
                }
            }
            Some('"') => self.string().map(Value::Str),
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '+')
                {
                    self.pos += 1;
                }
                let text: String = self.chars[start..self.pos].iter().map(|c| c.1).collect();
                match text.parse::<f64>() {
                    Ok(x) if x.is_finite() || text.contains("inf") => Ok(Value::Number(x)),
                    _ => {
                        self.pos = start;
                        Err(self.err(&format!("'{text}' is not a number")))
                    }
                }
            }
            Some(_) => Ok(Value::Spec(self.spec()?)),
            None => Err(self.err_found("expected a value")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_specs_lists_and_short_forms() {
        let s = Spec::parse("sam(rho=0.05, base=sgd(lr=0.1, momentum=0.9))").unwrap();
        assert_eq!(s.name, "sam");
        let a = s.args(&["rho", "base"]).unwrap();
        assert_eq!(a.f64("rho", 0.0).unwrap(), 0.05);
        let base = a.spec("base").unwrap().unwrap();
        assert_eq!(
            base.args(&["lr", "momentum"])
                .unwrap()
                .f64("momentum", 0.0)
                .unwrap(),
            0.9
        );

        let m = Spec::parse("mlp(sizes=[64,128,10], act=tanh, bias=true)").unwrap();
        let a = m.args(&["sizes", "act", "bias"]).unwrap();
        assert_eq!(a.usize_list("sizes").unwrap().unwrap(), vec![64, 128, 10]);
        assert_eq!(a.choice("act", "relu", &["tanh", "relu"]).unwrap(), "tanh");
        assert!(a.bool("bias", false).unwrap());

        let m = Spec::parse("mlp:64-128-10").unwrap();
        assert_eq!(m.short.as_deref(), Some("64-128-10"));
        let c = Spec::parse("csv:data/my file.csv").unwrap();
        assert_eq!(c.short.as_deref(), Some("data/my file.csv"));
        let f = Spec::parse("adam(lr=1e-3, v=fmt(e=8, m=7, round=nearest))").unwrap();
        assert_eq!(
            f.to_string(),
            "adam(lr=0.001, v=fmt(e=8, m=7, round=nearest))"
        );
        let m = Spec::parse("mlp:64-10(act=relu)").unwrap();
        assert_eq!(m.short.as_deref(), Some("64-10"));
        assert_eq!(m.args.len(), 1);
    }

    #[test]
    fn syntax_errors_name_the_column() {
        let e = Spec::parse("adam(lr=)").unwrap_err().to_string();
        assert!(e.contains("column 9"), "{e}");
        let e = Spec::parse("adam(lr=1e-3").unwrap_err().to_string();
        assert!(e.contains("expected ',' or ')'"), "{e}");
        let e = Spec::parse("adam(lr=0.1x)").unwrap_err().to_string();
        assert!(e.contains("'0.1x' is not a number"), "{e}");
        assert!(Spec::parse("adam() extra").is_err());
        assert!(Spec::parse("").is_err());
    }

    #[test]
    fn quoted_strings_hold_any_text_and_read_back() {
        let s = Spec::parse(r#"partition(groups=[group(match="*.bias", opt=sgd)], x="a\"b\\c")"#)
            .unwrap();
        let a = s.args(&["groups", "x"]).unwrap();
        assert_eq!(a.string("x").unwrap(), Some(r#"a"b\c"#));
        let groups = a.list("groups").unwrap().unwrap();
        let Value::Spec(g) = &groups[0] else {
            panic!("{groups:?}")
        };
        let ga = g.args(&["match", "opt"]).unwrap();
        assert_eq!(ga.string("match").unwrap(), Some("*.bias"));
        // Display quotes and escapes, so the text parses back to the same spec
        assert_eq!(
            s.to_string(),
            r#"partition(groups=[group(match="*.bias", opt=sgd)], x="a\"b\\c")"#
        );
        assert_eq!(Spec::parse(&s.to_string()).unwrap(), s);
        // a bare word reads as a string too; a number does not
        let s = Spec::parse("f(a=relu, b=3, c=\"\")").unwrap();
        let a = s.args(&["a", "b", "c"]).unwrap();
        assert_eq!(a.string("a").unwrap(), Some("relu"));
        assert_eq!(a.string("c").unwrap(), Some(""));
        assert_eq!(
            a.string("b").unwrap_err().to_string(),
            "invalid value for 'f.b': got 3, expected a quoted string such as \"*.bias\""
        );
    }

    #[test]
    fn string_errors_name_the_column() {
        let e = Spec::parse(r#"f(m="*.bias)"#).unwrap_err().to_string();
        assert_eq!(
            e,
            r#"cannot parse spec 'f(m="*.bias)' at column 5: unterminated string (no closing '"')"#
        );
        let e = Spec::parse(r#"f(m="a\nb")"#).unwrap_err().to_string();
        assert_eq!(
            e,
            r#"cannot parse spec 'f(m="a\nb")' at column 7: unknown escape in a string (only \" and \\ are escapes)"#
        );
    }

    #[test]
    fn deep_nesting_is_an_error_and_printing_reads_back() {
        let deep = format!("f(k={}1{})", "[".repeat(100), "]".repeat(100));
        let e = Spec::parse(&deep).unwrap_err().to_string();
        assert!(
            e.ends_with("at column 69: values nested more than 64 deep"),
            "{e}"
        );
        let ok = format!("f(k={}1{})", "[".repeat(63), "]".repeat(63));
        assert!(Spec::parse(&ok).is_ok());
        for text in [
            "f(a=+inf, b=-inf, c=1e300, d=-0, e=\"q\\\"\")",
            "csv:a b/c.csv(x=[g(y=1)])",
        ] {
            let s = Spec::parse(text).unwrap();
            assert_eq!(Spec::parse(&s.to_string()).unwrap(), s, "{text}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let s = Spec::parse("adam(lr=1e-3, betta=0.9)").unwrap();
        let e = s.args(&["lr", "beta1", "beta2"]).unwrap_err().to_string();
        assert_eq!(
            e,
            "unknown key 'betta' for 'adam'; valid keys: lr, beta1, beta2"
        );
        let s = Spec::parse("adam(lr=fast)").unwrap();
        let e = s
            .args(&["lr"])
            .unwrap()
            .positive("lr", 1e-3)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid value for 'adam.lr': got fast, expected a number"
        );
        let s = Spec::parse("adam(lr=-1)").unwrap();
        let e = s
            .args(&["lr"])
            .unwrap()
            .positive("lr", 1e-3)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid value for 'adam.lr': got -1, expected a finite number > 0"
        );
        let s = Spec::parse("sgd(lr=1, lr=2)").unwrap();
        assert!(s.args(&["lr"]).is_err());
    }
}

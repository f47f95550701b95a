//! Shell-style globs over names (layout blocks in a `partition(groups=[group(match="*.bias",
//! ..)])`): `*` matches any run of characters (also none), `?` exactly one character, and every
//! other character itself. No character classes, no escapes: block names need none.

/// True when `text` matches `pattern` as a whole (`*` any run, `?` one character).
///
/// ```
/// use descent_core::glob::glob_match;
/// assert!(glob_match("*.bias", "layer0.bias"));
/// assert!(glob_match("layer?.weight", "layer1.weight"));
/// assert!(!glob_match("layer?.weight", "layer10.weight"));
/// ```
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // the last `*` seen and the text position it is currently taken to end at
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            // let the last `*` swallow one more character and retry
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn stars_and_question_marks() {
        let cases = [
            ("*", "", true),
            ("*", "layer0.weight", true),
            ("", "", true),
            ("", "a", false),
            ("*.bias", "layer0.bias", true),
            ("*.bias", "layer0.bias.x", false),
            ("*.bias", ".bias", true),
            ("layer?.*", "layer1.weight", true),
            ("layer?.*", "layer12.weight", false),
            ("layer*.weight", "layer12.weight", true),
            ("*a*b*", "xxaxxbxx", true),
            ("*a*b*", "xxbxxaxx", false),
            ("a*a*a", "aaa", true),
            ("a*a*a", "aa", false),
            ("?", "é", true),
            ("W", "W", true),
            ("W", "w", false),
            ("**x", "abx", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(glob_match(p, t), want, "{p:?} vs {t:?}");
        }
    }
}

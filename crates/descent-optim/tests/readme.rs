//! The README's quick start is `examples/quickstart.rs` verbatim (the example itself runs as a
//! doctest of the crate), so the README cannot drift from code that compiles and passes.

#[test]
fn the_readme_quick_start_is_the_example_file() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).expect("README.md");
    let example = include_str!("../examples/quickstart.rs");
    let block = format!("```rust\n{example}```\n");
    let at = readme
        .find(&block)
        .expect("the example, verbatim, in a ```rust block");
    let section = readme.find("## As a library").expect("the library section");
    assert!(
        section < at,
        "the quick start opens the 'As a library' section"
    );
    let next = readme[section + 3..]
        .find("\n## ")
        .map_or(usize::MAX, |i| section + 3 + i);
    assert!(
        at < next,
        "the quick start is inside the 'As a library' section"
    );
}

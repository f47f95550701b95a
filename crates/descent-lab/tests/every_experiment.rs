//! Every registered experiment has a quick-preset test that runs it at two seeds through
//! `check_quick_seeds` (schema, asserted claims, the seed recorded and used): a new paper that
//! forgets it fails here, without this test running any experiment itself.

#[test]
fn every_registered_experiment_is_checked_at_two_seeds() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for name in descent_lab::experiment::registry().names() {
        let file = tests.join(format!("{}.rs", name.replace('-', "_")));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("experiment '{name}' has no test file {file:?}: {e}"));
        assert!(
            text.contains("check_quick_seeds("),
            "{file:?} must run '{name}' through check_quick_seeds"
        );
    }
}

//! Replays a fuzz corpus on stable: every file of `fuzz/corpus/<target>/` goes through the
//! target's driver; a panic fails the test and names the file.

use std::path::PathBuf;

/// Feeds every file of `fuzz/corpus/<target>/` to `driver` (at least one file must exist).
pub fn corpus(target: &str, driver: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if std::panic::catch_unwind(|| driver(&bytes)).is_err() {
            panic!(
                "{} panicked (replay it with `cargo +nightly fuzz run {target} {}`)",
                f.display(),
                f.display()
            );
        }
    }
}

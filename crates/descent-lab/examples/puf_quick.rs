//! Runs the `puf` quick preset into a directory (default /tmp/puf) and prints the claims.
use descent_lab::experiment::{Preset, RunContext, resolve_config, run_and_write};

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "/tmp/puf".into());
    let exp = descent_lab::papers::puf::Puf;
    let cfg = resolve_config(&exp, Preset::Quick, None, &[]).unwrap();
    let ctx = RunContext {
        preset: Preset::Quick,
        seed: 0,
        progress: &|f, m| eprintln!("{f:.2} {m}"),
    };
    let (report, _) = run_and_write(&exp, &cfg, &ctx, std::path::Path::new(&out)).unwrap();
    for c in &report.claims {
        println!(
            "{} [{:?}] {} expected {} holds {}",
            c.id, c.kind, c.measured, c.expected, c.holds
        );
    }
    println!("elapsed {:.1} s", report.elapsed_s);
}

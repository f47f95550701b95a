//! Runs the `puf` quick preset into a directory (default /tmp/puf) at a seed (default 0) and
//! prints the claims: `cargo run --release --example puf_quick -- /tmp/puf 1`.
use descent_lab::experiment::{Preset, RunContext, resolve_config, run_and_write};
use descent_lab::papers::puf::PufPaper;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "/tmp/puf".into());
    let seed: u64 = args.next().map_or(0, |s| s.parse().expect("a seed"));
    let cfg = resolve_config(&PufPaper, Preset::Quick, None, &[]).unwrap();
    let ctx = RunContext {
        preset: Preset::Quick,
        seed,
        progress: &|f, m| eprintln!("{f:.2} {m}"),
    };
    let (report, _) = run_and_write(&PufPaper, &cfg, &ctx, std::path::Path::new(&out)).unwrap();
    for c in &report.claims {
        println!(
            "{} [{:?}] {} expected {} holds {}",
            c.id, c.kind, c.measured, c.expected, c.holds
        );
    }
    println!("elapsed {:.1} s", report.elapsed_s);
}

//! The flags that choose an experiment's setting, shared by `descent run` and `descent dist`:
//! its preset, the run seed, a config file and `--set` overrides.

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct SettingArgs {
    /// quick (<= 45 s, the asserted checks) or full (<= 10 min, the spec's design).
    #[arg(long, default_value = "quick")]
    pub preset: String,
    /// Run seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Override a config field: --set key=value (dotted keys for nested fields); repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// A TOML file of config overrides (applied before --set).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#![deny(missing_docs)]
//! descent-lab: where the library parts meet data. The training and comparison protocols behind
//! `descent train` and `descent compare`, the [`harness`] every paper shares (statistics with one
//! NaN policy, the job runner, the epoch loop), one folder per paper under [`papers`], reports
//! and paper-style figures.

pub mod active;
pub mod catalog;
pub mod checkpoint;
pub mod compare;
pub mod config;
pub mod dist;
pub mod experiment;
pub mod harness;
pub mod index;
pub mod papers;
pub mod plot;
pub mod report;
pub mod schema;
pub mod train;

/// descent's error type (every bad input is one of its named variants), for front ends.
pub use descent_core::Error;
/// The privacy engine (RDP accountant, calibration, DP-SGD): descent-dist's `privacy` module,
/// for the CLI's `privacy` command and `train --privacy`.
pub use descent_dist::privacy;

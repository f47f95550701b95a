//! descent-lab: where the library parts meet data. The training driver behind `descent train`,
//! paper-style figures, and (with later issues) one experiment module per paper.

pub mod catalog;
pub mod compare;
pub mod config;
pub mod experiment;
pub mod index;
pub mod papers;
pub mod plot;
pub mod report;
pub mod schema;
pub mod train;

//! descent-lab: where the library parts meet data. The training driver behind `descent train`,
//! paper-style figures, and (with later issues) one experiment module per paper.

pub mod plot;

//! One module per paper: its problem setups, config struct with `quick` and `full` presets, and
//! its [`Experiment`] implementation. Reusable algorithms live in the library crates; these
//! modules compose them (DESIGN §2).

use crate::experiment::Experiment;

pub mod adp_vrsgp;
pub mod drift;
pub mod engd;
pub mod hierarchical;
pub mod puf;
pub mod quantized;
pub mod rbo;
pub mod reduction;
pub mod samosa;
pub mod zeroth_order;

/// Every paper experiment, in paper order.
pub fn all() -> Vec<Box<dyn Experiment>> {
    vec![
        Box::new(drift::DriftPaper),
        Box::new(samosa::SamosaPaper),
        Box::new(puf::PufPaper),
        Box::new(hierarchical::HierarchicalPaper),
        Box::new(reduction::ReductionPaper),
        Box::new(rbo::RboPaper),
        Box::new(quantized::QuantizedPaper),
        Box::new(engd::EngdPaper),
        Box::new(adp_vrsgp::AdpVrsgpPaper),
        Box::new(zeroth_order::ZerothOrderPaper),
    ]
}

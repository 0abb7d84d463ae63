//! One module per subcommand: its clap `Args` and its `run`.

pub mod cluster;
pub mod compare;
pub mod completions;
pub mod eval;
pub mod filter;
pub mod index;
pub mod normalize;
pub mod params;
pub mod sign;

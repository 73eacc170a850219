//! wirkung: § 48a SGB II indicators and their social-integration extension, computed
//! from Parquet extracts with Apache DataFusion.
pub mod contract;
pub mod month;
pub mod blocks;
pub mod definition;
pub mod disclosure;
pub mod engine;
pub mod stats;
pub mod values;
pub mod cli;
pub mod extract;
pub mod generate;
pub mod open;

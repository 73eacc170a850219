//! wirkung: § 48a SGB II indicators and their social-integration extension, computed
//! from Parquet extracts with Apache DataFusion.
pub mod contract;
pub mod generate;
pub mod month;

//! The integration-test binary: one module per area, linked once.

mod extract_validation;

//! Errors with stable codes. The simulator has one contract a caller can break: its
//! configuration (`ERR_CLAIMS_CONFIG`, the code the claims queue uses for the same mistake).

use std::fmt;

/// An invalid configuration or measurement set; `code()` is stable across versions.
#[derive(Debug, Clone, PartialEq)]
pub struct SimError {
    pub message: String,
}

impl SimError {
    pub fn config(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        "ERR_CLAIMS_CONFIG"
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for SimError {}

pub type Result<T> = std::result::Result<T, SimError>;

/// `Ok` when `value` is finite and within `[min, max]`, else a config error naming `field`.
pub fn check_range(field: &str, value: f64, min: f64, max: f64) -> Result<()> {
    if value.is_finite() && value >= min && value <= max {
        Ok(())
    } else {
        Err(SimError::config(format!(
            "{field} must be a number in [{min}, {max}], got {value}"
        )))
    }
}

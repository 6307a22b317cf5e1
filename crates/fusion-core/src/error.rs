//! Errors with stable codes: every failure a caller can cause is a config or an input error.

use std::fmt;

/// Which contract the caller broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FusionErrorKind {
    /// The fusion configuration is invalid (`ERR_FUSION_CONFIG`).
    Config,
    /// A record or column is invalid (`ERR_FUSION_INPUT`).
    Input,
}

/// An error a caller can fix; `code()` is stable across versions.
#[derive(Debug, Clone, PartialEq)]
pub struct FusionError {
    pub kind: FusionErrorKind,
    pub message: String,
}

impl FusionError {
    pub fn config(message: impl Into<String>) -> Self {
        Self {
            kind: FusionErrorKind::Config,
            message: message.into(),
        }
    }

    pub fn input(message: impl Into<String>) -> Self {
        Self {
            kind: FusionErrorKind::Input,
            message: message.into(),
        }
    }

    /// The stable code: `ERR_FUSION_CONFIG` or `ERR_FUSION_INPUT`.
    pub fn code(&self) -> &'static str {
        match self.kind {
            FusionErrorKind::Config => "ERR_FUSION_CONFIG",
            FusionErrorKind::Input => "ERR_FUSION_INPUT",
        }
    }
}

impl fmt::Display for FusionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message)
    }
}

impl std::error::Error for FusionError {}

pub type Result<T> = std::result::Result<T, FusionError>;

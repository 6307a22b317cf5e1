//! Core errors → JS errors with a stable `code`.

use fusion_core::FusionError;

/// The `code` a thrown JS error carries.
#[derive(Debug, Clone, Copy)]
pub enum ErrorCode {
    FusionConfig,
    FusionInput,
    ClaimsConfig,
}

impl AsRef<str> for ErrorCode {
    fn as_ref(&self) -> &str {
        match self {
            ErrorCode::FusionConfig => "ERR_FUSION_CONFIG",
            ErrorCode::FusionInput => "ERR_FUSION_INPUT",
            ErrorCode::ClaimsConfig => "ERR_CLAIMS_CONFIG",
        }
    }
}

pub type CodedError = napi::Error<ErrorCode>;

pub fn coded(e: FusionError) -> CodedError {
    let code = match e.kind {
        fusion_core::FusionErrorKind::Config => ErrorCode::FusionConfig,
        fusion_core::FusionErrorKind::Input => ErrorCode::FusionInput,
    };
    napi::Error::new(code, e.message)
}

pub fn input_error(message: impl Into<String>) -> CodedError {
    napi::Error::new(ErrorCode::FusionInput, message.into())
}

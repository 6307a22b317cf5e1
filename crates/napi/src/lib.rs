//! N-API binding of fleetscale. Thin wrappers only: convert JS values to the core crates'
//! types, call them, convert back. Every caller error comes out as a JS `Error` whose `code` is
//! the core's stable code; nothing panics across the boundary.

mod claims;
mod columns;
mod error;
mod fusion;

pub use claims::*;
pub use fusion::*;

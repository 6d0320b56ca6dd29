//! The one-stop system (một cửa điện tử): the procedure catalogue, internal processes, dossiers
//! and their codes.

pub mod code;
pub mod dossier;
pub mod procedure;
pub mod process;

//! The one-stop back office: the procedure catalogue and processes, dossiers from the counter
//! to the result, statistics and the public status look-up.

pub(crate) mod cache;
pub mod catalogue;
pub mod counter;
pub mod dossiers;
pub mod forms;
pub mod national;
pub mod national_catalogue;
pub mod national_intake;
pub mod national_sync;
pub mod public;
pub mod reception;
pub mod reports;
pub mod scans;

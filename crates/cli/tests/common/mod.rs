//! What the `egov` binary's tests share.

use std::path::Path;
use std::process::Command;

/// The `egov` binary on a data directory and database, logging only warnings.
pub fn egov(data_dir: &Path, url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_egov"));
    c.arg("--data-dir")
        .arg(data_dir)
        .arg("--database-url")
        .arg(url);
    c.env("EGOV__LOG__LEVEL", "warn");
    c
}

//! What the `egov` binary's tests share.
#![allow(dead_code)] // each test binary uses its own part of it

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

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

/// A free port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port` (a minute at most).
pub fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {port}");
}

/// A child process killed when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

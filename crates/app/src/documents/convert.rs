//! Drafts written in a word processor (.docx, .odt) turned into the PDF that is reviewed, signed
//! and issued, by LibreOffice in headless mode — when the operator has installed it
//! (`documents.libreoffice`). Each conversion runs in a directory and a LibreOffice profile of its
//! own (so conversions can run side by side), is killed after two minutes, and leaves nothing
//! behind.

use crate::Code;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::AppError;

const TIMEOUT: Duration = Duration::from_secs(120);

/// The program named by a setting (LibreOffice, tesseract): a path, or a command looked up on
/// `PATH`; `None` when the setting is empty or the program is not installed.
pub fn find_program(setting: &str) -> Option<PathBuf> {
    let setting = setting.trim();
    if setting.is_empty() {
        return None;
    }
    if setting.contains('/') {
        let p = PathBuf::from(setting);
        return p.is_file().then_some(p);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(setting))
            .find(|p| p.is_file())
    })
}

/// Converts `bytes` (a .docx or .odt, by `extension`) to PDF with the LibreOffice program
/// `soffice`. Blocking: call it off the async threads.
pub fn to_pdf(soffice: &Path, bytes: &[u8], extension: &str) -> Result<Vec<u8>, AppError> {
    in_scratch_dir("convert", |dir| convert_in(dir, soffice, bytes, extension))
}

/// Runs `f` in a fresh directory under the system's temporary directory, removed afterwards
/// whatever happens.
pub(crate) fn in_scratch_dir<T>(
    what: &str,
    f: impl FnOnce(&Path) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let mut r = [0u8; 8];
    getrandom::fill(&mut r).map_err(|e| AppError::internal(e.to_string()))?;
    let dir = std::env::temp_dir().join(format!("egov-{what}-{}", hex::encode(r)));
    let result = f(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn convert_in(
    dir: &Path,
    soffice: &Path,
    bytes: &[u8],
    extension: &str,
) -> Result<Vec<u8>, AppError> {
    let io = |e: std::io::Error| AppError::internal(format!("conversion: {e}"));
    let failed = |detail: String| {
        AppError::invalid(
            Code::DraftConversionFailed,
            "The draft could not be turned into a PDF; save it as PDF in the word processor and upload that.",
        )
        .arg("detail", detail)
    };
    std::fs::create_dir_all(dir.join("out")).map_err(io)?;
    let input = dir.join(format!("draft.{extension}"));
    std::fs::write(&input, bytes).map_err(io)?;
    // LibreOffice now and then aborts while it sets up a fresh profile (seen on a newly
    // installed machine under load): a run that ends without a PDF is tried once more, with a
    // new profile.
    let mut status = None;
    for attempt in 0..2 {
        let st = run_soffice(dir, soffice, &input, attempt, &failed, io)?;
        let done = st.success() && dir.join("out/draft.pdf").exists();
        status = Some(st);
        if done {
            break;
        }
        tracing::warn!(%st, attempt, "LibreOffice ended without a PDF");
    }
    let status = status.ok_or_else(|| failed("LibreOffice did not run".into()))?;
    match std::fs::read(dir.join("out/draft.pdf")) {
        Ok(pdf) if status.success() && pdf.starts_with(b"%PDF-") => Ok(pdf),
        _ => Err(failed(format!(
            "LibreOffice ended with {status} and no PDF"
        ))),
    }
}

/// One run of LibreOffice converting `input` into `dir/out`, with its own profile.
fn run_soffice(
    dir: &Path,
    soffice: &Path,
    input: &Path,
    attempt: u32,
    failed: &impl Fn(String) -> AppError,
    io: impl Fn(std::io::Error) -> AppError,
) -> Result<std::process::ExitStatus, AppError> {
    let mut child = std::process::Command::new(soffice)
        .arg("--headless")
        .arg("--norestore")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.join(format!("profile-{attempt}")).display()
        ))
        .args(["--convert-to", "pdf", "--outdir"])
        .arg(dir.join("out"))
        .arg(input)
        .env("HOME", dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| failed(format!("LibreOffice did not start: {e}")))?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(&io)? {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(failed("LibreOffice took longer than two minutes".into()));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ok(status)
}

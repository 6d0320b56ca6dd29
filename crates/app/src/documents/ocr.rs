//! OCR of scans (tesseract, Vietnamese), when the operator has installed it
//! (`documents.tesseract`): a PDF without a text layer, or a JPEG, PNG or TIFF scan, is read in
//! the background — a job on the outbox, so that registering a document never waits for it —
//! and its words are added to the document's index entry. A PDF is rendered page by page
//! (poppler's `pdftoppm`, 200 dpi, at most 20 pages).

use std::path::Path;
use std::process::{Command, Stdio};

use egov_store::documents as store;

use super::convert::find_program;
use super::files::PDF;
use crate::jobs::{Handler, HandlerFuture};
use crate::{App, AppError};

/// The job kind.
pub const OCR_JOB: &str = "document.ocr";
const MAX_PAGES: u32 = 20;

/// True for a file that has no text of its own but may carry printed text in its image.
fn needs_ocr(media_type: &str, text: &str) -> bool {
    text.trim().is_empty() && [PDF, "image/jpeg", "image/png", "image/tiff"].contains(&media_type)
}

/// The job that reads a document's file for search.
pub const TEXT_JOB: &str = "document.text";

impl App {
    /// Queues the reading of a document's file for search (inside the caller's transaction).
    pub(crate) async fn queue_text(
        &self,
        tx: &mut egov_store::Tx,
        document_id: i64,
        sha: &str,
        media_type: &str,
    ) -> Result<(), AppError> {
        // Every queueing is its own job: a file read again after a new main file is read again.
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| AppError::internal(e.to_string()))?;
        let key = format!("text-{document_id}-{sha}-{}", hex::encode(nonce));
        self.queue_file_job(tx, TEXT_JOB, &key, document_id, sha, media_type)
            .await
    }

    /// Queues a job about one file of a document (reading it, OCR).
    async fn queue_file_job(
        &self,
        tx: &mut egov_store::Tx,
        kind: &str,
        key: &str,
        document_id: i64,
        sha: &str,
        media_type: &str,
    ) -> Result<(), AppError> {
        let job = FileJob {
            document_id,
            sha256: sha.to_owned(),
            media_type: media_type.to_owned(),
        };
        egov_store::jobs::enqueue(
            tx,
            kind,
            &serde_json::to_value(&job).map_err(|e| AppError::internal(e.to_string()))?,
            key,
            self.now(),
            self.settings.worker.max_attempts,
        )
        .await?;
        Ok(())
    }

    /// Adds the words of `text` to a document's index entry.
    async fn add_words(
        &self,
        tx: &mut egov_store::Tx,
        document_id: i64,
        text: &str,
    ) -> Result<(), AppError> {
        let words = egov_domain::text::fold(text);
        if !words.trim().is_empty() {
            let old = store::search_fold_of(tx, document_id).await?;
            store::set_search_fold(tx, document_id, &format!("{old} {words}")).await?;
        }
        Ok(())
    }

    /// Reads a document's file for search — its text (a PDF's text layer, a .docx or .odt),
    /// within the limits and a turn of the PDF work — and adds the words to the document's index
    /// entry; a file without text that may carry it in its image is queued for OCR.
    pub async fn read_document_file(
        &self,
        document_id: i64,
        sha: &str,
        media_type: &str,
    ) -> Result<(), AppError> {
        let text = self.blob_text(sha).await?;
        let mut tx = self.db.begin().await?;
        if text.trim().is_empty() {
            self.queue_ocr(&mut tx, document_id, sha, media_type, &text)
                .await?;
        } else {
            self.add_words(&mut tx, document_id, &text).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Queues OCR of a document's file that has no text, when tesseract is installed (inside the
    /// caller's transaction, so the job exists exactly when the file does).
    pub(crate) async fn queue_ocr(
        &self,
        tx: &mut egov_store::Tx,
        document_id: i64,
        sha: &str,
        media_type: &str,
        text: &str,
    ) -> Result<(), AppError> {
        if !needs_ocr(media_type, text)
            || find_program(&self.settings.documents.tesseract).is_none()
        {
            return Ok(());
        }
        let key = format!("ocr-{document_id}-{sha}");
        self.queue_file_job(tx, OCR_JOB, &key, document_id, sha, media_type)
            .await
    }

    /// Reads the text of a stored file by OCR and adds its words to the document's index entry.
    /// Returns the number of characters read.
    pub async fn ocr_document_file(
        &self,
        document_id: i64,
        sha: &str,
        media_type: &str,
    ) -> Result<usize, AppError> {
        let tesseract = find_program(&self.settings.documents.tesseract).ok_or_else(|| {
            AppError::internal("tesseract is not installed on this worker (documents.tesseract)")
        })?;
        let bytes = self.read_blob(sha).await?;
        let media_type = media_type.to_owned();
        let text = tokio::task::spawn_blocking(move || ocr(&tesseract, &bytes, &media_type))
            .await
            .map_err(|e| AppError::internal(e.to_string()))??;
        let mut tx = self.db.begin().await?;
        self.add_words(&mut tx, document_id, &text).await?;
        tx.commit().await?;
        Ok(text.chars().count())
    }
}

/// What a job about one file of a document carries.
#[derive(serde::Serialize, serde::Deserialize)]
struct FileJob {
    document_id: i64,
    sha256: String,
    media_type: String,
}

impl FileJob {
    fn of(job: &egov_store::jobs::Job) -> Result<FileJob, String> {
        serde_json::from_str(&job.payload).map_err(|e| format!("bad payload: {e}"))
    }
}

/// The worker's handler of OCR jobs.
pub fn ocr_handler() -> Handler {
    std::sync::Arc::new(|app: std::sync::Arc<App>, job| -> HandlerFuture {
        Box::pin(async move {
            let p = FileJob::of(&job)?;
            app.ocr_document_file(p.document_id, &p.sha256, &p.media_type)
                .await
                .map(|_| ())
                .map_err(|e| e.message)
        })
    })
}

/// OCR of a file (blocking): the pages of a PDF rendered by `pdftoppm`, or the image itself.
fn ocr(tesseract: &Path, bytes: &[u8], media_type: &str) -> Result<String, AppError> {
    super::convert::in_scratch_dir("ocr", |dir| ocr_in(dir, tesseract, bytes, media_type))
}

fn ocr_in(
    dir: &Path,
    tesseract: &Path,
    bytes: &[u8],
    media_type: &str,
) -> Result<String, AppError> {
    let io = |e: std::io::Error| AppError::internal(format!("OCR: {e}"));
    std::fs::create_dir_all(dir).map_err(io)?;
    let images = if media_type == PDF {
        std::fs::write(dir.join("scan.pdf"), bytes).map_err(io)?;
        let out = Command::new("pdftoppm")
            .args([
                "-r",
                "200",
                "-gray",
                "-png",
                "-f",
                "1",
                "-l",
                &MAX_PAGES.to_string(),
            ])
            .arg(dir.join("scan.pdf"))
            .arg(dir.join("page"))
            .stdin(Stdio::null())
            .output()
            .map_err(|e| {
                AppError::internal(format!(
                    "pdftoppm (poppler-utils) is needed for OCR of PDFs: {e}"
                ))
            })?;
        if !out.status.success() {
            return Err(AppError::internal(format!(
                "pdftoppm could not render the scan: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let mut pages: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "png"))
            .collect();
        pages.sort();
        pages
    } else {
        let path = dir.join("scan.img");
        std::fs::write(&path, bytes).map_err(io)?;
        vec![path]
    };
    let mut text = String::new();
    for image in images {
        let out = Command::new(tesseract)
            .arg(&image)
            .arg("-")
            .args(["-l", "vie"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| AppError::internal(format!("tesseract did not start: {e}")))?;
        if !out.status.success() {
            return Err(AppError::internal(format!(
                "tesseract failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        text.push('\n');
    }
    Ok(text)
}

/// The worker's handler of reading jobs.
pub fn text_handler() -> Handler {
    std::sync::Arc::new(|app: std::sync::Arc<App>, job| -> HandlerFuture {
        Box::pin(async move {
            let p = FileJob::of(&job)?;
            app.read_document_file(p.document_id, &p.sha256, &p.media_type)
                .await
                .map_err(|e| e.message)
        })
    })
}

//! Verification of the signatures on documents' PDFs. Every PDF that reaches egov (a draft, an
//! issued document, an electronic copy received, a scan) is judged when it arrives; the verdict
//! is stored against the blob and shown with the file. Anyone signed in may also have any PDF
//! checked without storing it.

use crate::Code;
use std::path::Path;
use std::sync::Arc;

use egov_pki::verify::{Report, TrustStore};
use egov_store::signatures::{self as store, ReportRow};

use crate::{Actor, App, AppError};
use egov_store::now;

/// The job that judges a stored PDF's signatures.
pub const JUDGE_JOB: &str = "pdf.judge";

/// The worker's handler of judging jobs.
pub fn judge_handler() -> crate::jobs::Handler {
    Arc::new(|app: Arc<App>, job| -> crate::jobs::HandlerFuture {
        Box::pin(async move {
            #[derive(serde::Deserialize)]
            struct P {
                sha256: String,
            }
            let p: P =
                serde_json::from_str(&job.payload).map_err(|e| format!("bad payload: {e}"))?;
            app.judge_stored(&p.sha256).await.map_err(|e| e.message)
        })
    })
}

pub(crate) fn pki_error(e: egov_pki::Error) -> AppError {
    match e {
        egov_pki::Error::TooComplex(detail) => AppError::invalid(
            Code::PdfTooComplex,
            "The PDF asks for more work than allowed (too many pages or objects, or a stream that decompresses too far).",
        )
        .arg("detail", detail),
        egov_pki::Error::NotPdf => AppError::invalid(Code::PdfNotPdf, "The file is not a PDF."),
        egov_pki::Error::Encrypted => AppError::invalid(
            Code::PdfEncrypted,
            "The PDF is encrypted; signatures can be checked only on unencrypted PDFs.",
        ),
        egov_pki::Error::Malformed(m) => {
            AppError::invalid(Code::PdfMalformed, "The PDF cannot be read.").arg("detail", m)
        }
        other => AppError::internal(other.to_string()),
    }
}

/// Reads what verification trusts from the files the settings name.
pub fn load_trust(settings: &crate::Settings) -> Result<TrustStore, AppError> {
    {
        let s = &settings.signatures;
        let path = |p: &Path| settings.in_data_dir(p);
        let read = |p: &Path| {
            std::fs::read(path(p)).map_err(|e| {
                AppError::invalid(
                    Code::BadConfig,
                    format!("signatures: cannot read {}: {e}", path(p).display()),
                )
            })
        };
        let certs = |files: &[std::path::PathBuf]| -> Result<Vec<egov_pki::x509_cert::Certificate>, AppError> {
            let mut out = Vec::new();
            for f in files {
                out.extend(egov_pki::cert::load_certificates(&read(f)?).map_err(|e| {
                    AppError::invalid(Code::BadConfig, format!("signatures: {}: {e}", f.display()))
                })?);
            }
            Ok(out)
        };
        let mut t = TrustStore {
            require_revocation: s.require_revocation,
            limits: settings.limits.pdf(),
            ..TrustStore::default()
        };
        t.add_list("gcc", certs(&s.trust_gcc)?);
        t.add_list("public", certs(&s.trust_public)?);
        t.intermediates = certs(&s.intermediates)?;
        for f in &s.crls {
            t.crls
                .push(egov_pki::cert::load_crl(&read(f)?).map_err(|e| {
                    AppError::invalid(Code::BadConfig, format!("signatures: {}: {e}", f.display()))
                })?);
        }
        Ok(t)
    }
}

impl App {
    /// What verification trusts (the settings' files, read once).
    pub fn trust(&self) -> Result<Arc<TrustStore>, AppError> {
        if let Some(t) = self.trust.get() {
            return Ok(t.clone());
        }
        let t = Arc::new(load_trust(&self.settings)?);
        Ok(self.trust.get_or_init(|| t).clone())
    }

    /// Judges the signatures of a PDF (off the async threads).
    pub async fn verify_pdf(&self, bytes: Vec<u8>) -> Result<Report, AppError> {
        let trust = self.trust()?;
        let at = now();
        let _turn = self.pdf_turn().await?;
        tokio::task::spawn_blocking(move || egov_pki::verify_pdf(&bytes, &trust, at))
            .await
            .map_err(|e| AppError::internal(e.to_string()))?
            .map_err(pki_error)
    }

    /// The stored form of a verdict on the blob `sha256`.
    pub fn verdict_row(sha256: &str, report: &Report) -> Result<ReportRow, AppError> {
        Ok(ReportRow {
            sha256: sha256.to_string(),
            status: report.status.as_str().to_string(),
            signatures: report.signatures.len() as i64,
            report: serde_json::to_string(report).map_err(|e| AppError::internal(e.to_string()))?,
            checked_at: report.checked_at,
        })
    }

    /// Judges a PDF that is being stored; a file that cannot be judged (damaged, encrypted) gets
    /// an `indeterminate` verdict rather than refusing the upload, which has its own checks.
    pub(crate) async fn judge_upload(
        &self,
        sha256: &str,
        bytes: Vec<u8>,
    ) -> Result<ReportRow, AppError> {
        match self.verify_pdf(bytes).await {
            Ok(report) => Self::verdict_row(sha256, &report),
            Err(e) if e.kind == crate::ErrorKind::Invalid && e.code != "bad_config" => Ok(ReportRow {
                sha256: sha256.to_string(),
                status: "indeterminate".into(),
                signatures: 0,
                report: serde_json::json!({ "status": "indeterminate", "error": e.code, "message": e.message }).to_string(),
                checked_at: now(),
            }),
            Err(e) => Err(e),
        }
    }

    /// Queues the judging of a stored PDF's signatures, in the caller's transaction: judging
    /// parses the whole file, so it runs on a worker, a few at a time, not on the upload.
    pub(crate) async fn queue_judging(
        &self,
        tx: &mut egov_store::Tx,
        sha256: &str,
    ) -> Result<(), AppError> {
        egov_store::jobs::enqueue(
            tx,
            JUDGE_JOB,
            &serde_json::json!({ "sha256": sha256 }),
            &format!("judge-{sha256}"),
            now(),
            self.settings.worker.max_attempts,
        )
        .await?;
        Ok(())
    }

    /// Judges a stored PDF and keeps the verdict (nothing when it has one already).
    pub async fn judge_stored(&self, sha256: &str) -> Result<(), AppError> {
        if store::get(&mut &self.db, sha256).await?.is_some() {
            return Ok(());
        }
        let bytes = self.read_blob(sha256).await?;
        let row = self.judge_upload(sha256, bytes).await?;
        store::save(&mut &self.db, &row).await?;
        Ok(())
    }

    /// The verdict on a document's file, for someone who may see the document. A file stored
    /// before verification existed is judged now.
    pub async fn file_signatures(
        &self,
        actor: &Actor,
        document_id: i64,
        attachment_id: i64,
    ) -> Result<ReportRow, AppError> {
        let a = {
            let mut ex = &self.db;
            self.visible_document(&mut ex, actor, document_id).await?;
            egov_store::documents::attachments(&mut ex, document_id)
                .await?
                .into_iter()
                .find(|a| a.id == attachment_id)
                .ok_or_else(|| AppError::not_found("file"))?
        };
        if a.media_type != crate::documents::files::PDF {
            return Err(AppError::invalid(
                Code::NotAPdfFile,
                "Only PDF files carry signatures.",
            ));
        }
        if let Some(row) = store::get(&mut &self.db, &a.sha256).await? {
            return Ok(row);
        }
        let bytes = self.read_blob(&a.sha256).await?;
        let row = self.judge_upload(&a.sha256, bytes).await?;
        store::save(&mut &self.db, &row).await?;
        Ok(row)
    }

    /// The verdicts on a document's files: (attachment id, status, number of signatures).
    pub async fn document_signatures(
        &self,
        actor: &Actor,
        document_id: i64,
    ) -> Result<Vec<(i64, String, i64)>, AppError> {
        let mut ex = &self.db;
        self.visible_document(&mut ex, actor, document_id).await?;
        Ok(store::for_document(&mut ex, document_id).await?)
    }
}

/// Documents sent and received in one month, and how many of them carried valid signatures.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct MonthSignatures {
    pub month: u8,
    pub sent: u64,
    pub sent_valid: u64,
    pub received: u64,
    pub received_valid: u64,
}

/// An agency's year of signed documents, month by month (months in Vietnam's time).
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SignatureStatistics {
    pub agency_id: i64,
    pub year: i32,
    pub months: Vec<MonthSignatures>,
    pub sent: u64,
    pub sent_valid: u64,
    pub received: u64,
    pub received_valid: u64,
}

impl App {
    /// The share of documents sent and received with valid signatures, per month, for the
    /// agency's office (secret entries, which carry no file, are left out).
    pub async fn signature_statistics(
        &self,
        actor: &Actor,
        agency_id: i64,
        year: i32,
    ) -> Result<SignatureStatistics, AppError> {
        let mut ex = &self.db;
        self.require_in(
            &mut ex,
            actor,
            &[
                egov_domain::org::Role::AgencyLeader,
                egov_domain::org::Role::RecordsClerk,
            ],
            agency_id,
        )
        .await?;
        let start = |y: i32| {
            time::Date::from_calendar_date(y, time::Month::January, 1)
                .map(|d| d.midnight().assume_offset(egov_domain::VN_OFFSET))
                .map_err(|_| AppError::invalid(Code::BadYear, "That year is out of range."))
        };
        let sent = store::sent_in_year(&mut ex, agency_id, year).await?;
        let received =
            store::received_between(&mut ex, agency_id, start(year)?, start(year + 1)?).await?;
        let mut months: Vec<MonthSignatures> = (1..=12)
            .map(|m| MonthSignatures {
                month: m,
                ..MonthSignatures::default()
            })
            .collect();
        let valid = |s: &Option<String>| s.as_deref() == Some("valid");
        for (day, status) in &sent {
            let m = &mut months[usize::from(u8::from(day.month())) - 1];
            m.sent += 1;
            m.sent_valid += u64::from(valid(status));
        }
        for (at, status) in &received {
            let local = at.to_offset(egov_domain::VN_OFFSET);
            let m = &mut months[usize::from(u8::from(local.month())) - 1];
            m.received += 1;
            m.received_valid += u64::from(valid(status));
        }
        let sum = |f: fn(&MonthSignatures) -> u64| months.iter().map(f).sum();
        Ok(SignatureStatistics {
            agency_id,
            year,
            sent: sum(|m| m.sent),
            sent_valid: sum(|m| m.sent_valid),
            received: sum(|m| m.received),
            received_valid: sum(|m| m.received_valid),
            months,
        })
    }
}

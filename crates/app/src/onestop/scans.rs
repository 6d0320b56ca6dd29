//! Scans of paper components. The content decides what a file is, not its name: only PDF,
//! JPEG, PNG and TIFF are accepted, and a file whose name or declared type says otherwise
//! than its bytes is refused as disguised.

use crate::Code;
use egov_domain::org::Role;
use egov_store::Exec;
use egov_store::onestop as store;
use serde::Serialize;

use crate::{Actor, App, AppError, ErrorKind, authz};

/// The roles that upload and read scans.
const HANDLERS: [Role; 6] = [
    Role::OneStopOfficer,
    Role::RecordsClerk,
    Role::Specialist,
    Role::UnitLeader,
    Role::AgencyLeader,
    Role::Administrator,
];

/// A stored scan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScanInfo {
    /// Give this as a component's `scan` when receiving the dossier.
    pub sha256: String,
    pub size: i64,
    pub media_type: String,
}

/// The media type the bytes really are, among those a scan may be.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if is_pdf(bytes) {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some("image/tiff")
    } else {
        None
    }
}

/// A PDF header with its version (`%PDF-1.7`), and no HTML where a browser sniffing the file
/// would look: a file that starts as a PDF and goes on as a web page is not taken for one.
fn is_pdf(bytes: &[u8]) -> bool {
    let versioned = bytes.len() >= 8
        && bytes.starts_with(b"%PDF-")
        && bytes[5].is_ascii_digit()
        && bytes[6] == b'.'
        && bytes[7].is_ascii_digit();
    if !versioned {
        return false;
    }
    let head = bytes[..bytes.len().min(1024)].to_ascii_lowercase();
    const MARKUP: [&[u8]; 8] = [
        b"<html",
        b"<!doctype",
        b"<script",
        b"<body",
        b"<head",
        b"<svg",
        b"<iframe",
        b"<meta",
    ];
    !MARKUP
        .iter()
        .any(|m| head.windows(m.len()).any(|w| w == *m))
}

/// The media type a file name's extension claims, if it is one we know.
fn claimed_by_name(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => "application/pdf",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "tif" | "tiff" => "image/tiff",
        _ => "other",
    })
}

/// Whether a file's name (the type its extension claims) or its declared type disagrees with
/// what its bytes are. A missing or generic declaration says nothing.
pub(crate) fn disguised(by_name: Option<&str>, declared: Option<&str>, real: &str) -> bool {
    let declared = declared
        .map(|d| {
            d.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|d| !d.is_empty() && d != "application/octet-stream");
    by_name.is_some_and(|c| c != real)
        || declared
            .as_deref()
            .is_some_and(|d| d != real && !(d == "image/jpg" && real == "image/jpeg"))
}

/// Checks an upload: size, a known kind, and no disguise. Returns the real media type.
pub fn check_upload(
    name: &str,
    declared: Option<&str>,
    bytes: &[u8],
    max: usize,
) -> Result<&'static str, AppError> {
    if bytes.is_empty() {
        return Err(AppError::invalid(Code::EmptyFile, "The file is empty."));
    }
    if bytes.len() > max {
        return Err(too_large(max));
    }
    let real = sniff(bytes).ok_or_else(|| {
        AppError::invalid(
            Code::UnsupportedFileType,
            "A scan is a PDF, JPEG, PNG or TIFF file.",
        )
        .arg("name", name.to_owned())
    })?;
    refuse_disguised(name, claimed_by_name(name), declared, real)?;
    Ok(real)
}

/// A file over its limit of `max` bytes.
pub(crate) fn too_large(max: usize) -> AppError {
    AppError::new(
        ErrorKind::TooLarge,
        Code::FileTooLarge,
        "The file is larger than allowed.",
    )
    .arg("max", format!("{} MiB", max >> 20))
}

/// Refuses a file whose name (claiming `by_name`) or declared type says something its content
/// is not.
pub(crate) fn refuse_disguised(
    name: &str,
    by_name: Option<&str>,
    declared: Option<&str>,
    real: &'static str,
) -> Result<(), AppError> {
    if disguised(by_name, declared, real) {
        return Err(AppError::invalid(
            Code::DisguisedFile,
            "The file's name or type does not match its content.",
        )
        .arg("name", name.to_owned()));
    }
    Ok(())
}

/// The media type of a scan that `actor` may refer to by its hash: one they uploaded
/// themselves (the system: any stored file). Anything else — another person's file, a hash of
/// nothing, a string that is not a hash — gets the same answer, so a hash neither grants access
/// nor tells whether a file exists.
pub(crate) async fn referable_scan(
    ex: &mut impl Exec,
    actor: &Actor,
    sha: &str,
) -> Result<String, AppError> {
    let unknown = || AppError::invalid(Code::UnknownScan, "A scan must be uploaded first.");
    if !egov_store::blobs::is_sha256(sha) {
        return Err(unknown());
    }
    egov_store::blobs::uploaded_type(ex, sha, actor.person_id)
        .await?
        .ok_or_else(unknown)
}

impl App {
    /// Stores a scan (deduplicated by content) and records it.
    pub async fn store_scan(
        &self,
        actor: &Actor,
        name: &str,
        declared: Option<&str>,
        bytes: Vec<u8>,
    ) -> Result<ScanInfo, AppError> {
        match authz::agencies_with(&mut &self.db, actor, &HANDLERS, self.now()).await? {
            Some(v) if v.is_empty() => return Err(AppError::forbidden()),
            _ => {}
        }
        let media_type = check_upload(
            name,
            declared,
            &bytes,
            self.settings.server.max_upload_bytes,
        )?;
        self.check_pdf_size(media_type, &bytes)?;
        let size = bytes.len() as i64;
        let (sha, bytes) = Self::digest(bytes).await?;
        let sha = self
            .with_new_blob(sha, bytes, |sha, _bytes| async move {
                let mut tx = self.db.begin().await?;
                let t = self.now();
                egov_store::blobs::record(&mut tx, &sha, size, media_type, t).await?;
                if let Some(person) = actor.person_id {
                    egov_store::blobs::record_upload(&mut tx, &sha, person, t).await?;
                }
                // A PDF may be signed (an electronic copy, a certified copy): it is judged by a
                // worker as soon as it can, and the verdict kept with the file.
                if media_type == crate::documents::files::PDF {
                    self.queue_judging(&mut tx, &sha).await?;
                }
                tx.commit().await?;
                Ok(sha)
            })
            .await?;
        Ok(ScanInfo {
            sha256: sha,
            size,
            media_type: media_type.to_owned(),
        })
    }

    /// The scan of a dossier's component, for someone who may see the dossier. The read is
    /// audited with the dossier.
    pub async fn component_scan(
        &self,
        actor: &Actor,
        dossier_id: i64,
        code: &str,
    ) -> Result<(Vec<u8>, String), AppError> {
        let mut tx = self.db.begin().await?;
        let d = self.visible_dossier(&mut tx, actor, dossier_id).await?;
        let sha = store::components(&mut tx, dossier_id)
            .await?
            .into_iter()
            .find(|c| c.code == code)
            .and_then(|c| c.blob_sha)
            .ok_or_else(|| AppError::not_found("scan"))?;
        let media_type: String = tx
            .scalar(
                "SELECT media_type FROM blobs WHERE sha256 = $1",
                egov_store::args![sha.as_str()],
            )
            .await?;
        crate::audit::event("dossier.scan_read", "dossier", dossier_id)
            .agency(Some(d.competent_agency_id))
            .after(&serde_json::json!({ "component": code }))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        let bytes = self.read_blob(&sha).await?;
        Ok((bytes, media_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\n...";
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];

    #[test]
    fn content_decides() {
        assert_eq!(
            check_upload("cccd.pdf", Some("application/pdf"), PDF, 1 << 20).unwrap(),
            "application/pdf"
        );
        assert_eq!(
            check_upload("scan", None, PNG, 1 << 20).unwrap(),
            "image/png"
        );
        assert_eq!(
            check_upload("a.jpg", Some("image/jpg"), &[0xFF, 0xD8, 0xFF, 0xE0], 100).unwrap(),
            "image/jpeg"
        );
    }

    #[test]
    fn disguises_sizes_and_strangers_are_refused() {
        let code = |r: Result<&str, AppError>| r.unwrap_err().code;
        assert_eq!(
            code(check_upload("virus.pdf", None, b"MZ\x90\0", 100)),
            "unsupported_file_type"
        );
        assert_eq!(
            code(check_upload("photo.pdf", None, PNG, 100)),
            "disguised_file"
        );
        assert_eq!(
            code(check_upload("x", Some("image/png"), PDF, 100)),
            "disguised_file"
        );
        assert_eq!(code(check_upload("x.pdf", None, PDF, 4)), "file_too_large");
        assert_eq!(code(check_upload("x.pdf", None, b"", 4)), "empty_file");
        // A PDF header followed by a web page, or without its version, is no PDF.
        for polyglot in [
            &b"%PDF-1.4\n<html><script>alert(1)</script></html>"[..],
            b"%PDF-1.7\n%\xe2\xe3\n<!DOCTYPE html><body>x</body>",
            b"%PDF-<svg onload=alert(1)>",
        ] {
            assert_eq!(
                code(check_upload(
                    "x.pdf",
                    Some("application/pdf"),
                    polyglot,
                    1000
                )),
                "unsupported_file_type"
            );
        }
    }
}

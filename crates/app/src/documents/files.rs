//! What a document's files may be, judged by their content: issued documents are PDF; drafts
//! PDF, .docx or .odt; attachments PDF, office documents or images. Each kind has its own size
//! limit, and a name or declared type that disagrees with the bytes is refused as disguised.

use crate::AppError;
use crate::Code;

/// The role a file plays in a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// The document itself, the PDF that is signed and issued (or a scan of a paper one).
    Main,
    /// The editable source of a draft.
    Draft,
    Attachment,
}

impl FileRole {
    pub fn parse(s: &str) -> Option<FileRole> {
        match s {
            "main" => Some(FileRole::Main),
            "draft" => Some(FileRole::Draft),
            "attachment" => Some(FileRole::Attachment),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FileRole::Main => "main",
            FileRole::Draft => "draft",
            FileRole::Attachment => "attachment",
        }
    }

    fn accepts(self, media_type: &str) -> bool {
        match self {
            FileRole::Main => media_type == PDF,
            FileRole::Draft => [PDF, DOCX, ODT].contains(&media_type),
            FileRole::Attachment => true,
        }
    }
}

pub const PDF: &str = "application/pdf";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const ODT: &str = "application/vnd.oasis.opendocument.text";
pub const ODS: &str = "application/vnd.oasis.opendocument.spreadsheet";

/// Size limits per type: PDFs (scans of long documents) 50 MiB, office files 20 MiB, images
/// 10 MiB.
pub fn limit_for(media_type: &str) -> usize {
    match media_type {
        PDF => 50 << 20,
        DOCX | XLSX | ODT | ODS => 20 << 20,
        _ => 10 << 20,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The type the bytes really are, among those a document's file may be.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if let Some(t) = crate::onestop::scans::sniff(bytes) {
        return Some(t);
    }
    // Office files are ZIP packages; their member names (stored uncompressed in the local
    // headers and the central directory) say which.
    if bytes.starts_with(b"PK\x03\x04") {
        // OpenDocument stores its media type uncompressed as the first member.
        let head = &bytes[..bytes.len().min(200)];
        if contains(head, b"mimetype") {
            if contains(head, ODT.as_bytes()) {
                return Some(ODT);
            }
            if contains(head, ODS.as_bytes()) {
                return Some(ODS);
            }
            return None;
        }
        if contains(bytes, b"[Content_Types].xml") {
            if contains(bytes, b"word/document.xml") {
                return Some(DOCX);
            }
            if contains(bytes, b"xl/workbook.xml") {
                return Some(XLSX);
            }
        }
    }
    None
}

fn claimed_by_name(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => PDF,
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "tif" | "tiff" => "image/tiff",
        "docx" => DOCX,
        "xlsx" => XLSX,
        "odt" => ODT,
        "ods" => ODS,
        _ => "other",
    })
}

/// Checks a file for a role: a known type the role accepts, not disguised, within the type's
/// limit. Returns the real media type.
pub fn check(
    role: FileRole,
    name: &str,
    declared: Option<&str>,
    bytes: &[u8],
) -> Result<&'static str, AppError> {
    if bytes.is_empty() {
        return Err(AppError::invalid(Code::EmptyFile, "The file is empty."));
    }
    let real = sniff(bytes).ok_or_else(|| {
        AppError::invalid(
            Code::UnsupportedFileType,
            "This kind of file is not accepted: documents are PDF; drafts PDF, .docx or .odt; attachments PDF, office documents or images.",
        )
        .arg("name", name.to_owned())
    })?;
    crate::onestop::scans::refuse_disguised(name, claimed_by_name(name), declared, real)?;
    if !role.accepts(real) {
        return Err(AppError::invalid(
            Code::WrongFileType,
            "This file cannot play this role: the document itself is a PDF; a draft is PDF, .docx or .odt.",
        )
        .arg("name", name.to_owned()));
    }
    let max = limit_for(real);
    if bytes.len() > max {
        return Err(crate::onestop::scans::too_large(max));
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut v = b"PK\x03\x04".to_vec();
        v.extend_from_slice(&[0; 26]);
        for n in names {
            v.extend_from_slice(n.as_bytes());
            v.extend_from_slice(b"....");
        }
        v
    }

    #[test]
    fn office_files_are_told_apart_by_their_members() {
        assert_eq!(
            sniff(&zip_with(&["[Content_Types].xml", "word/document.xml"])),
            Some(DOCX)
        );
        assert_eq!(
            sniff(&zip_with(&["[Content_Types].xml", "xl/workbook.xml"])),
            Some(XLSX)
        );
        assert_eq!(sniff(&zip_with(&["mimetype", ODT])), Some(ODT));
        assert_eq!(sniff(&zip_with(&["random.txt"])), None, "a plain zip");
    }

    #[test]
    fn roles_types_and_limits() {
        let pdf = b"%PDF-1.7\n";
        let docx = zip_with(&["[Content_Types].xml", "word/document.xml"]);
        assert_eq!(check(FileRole::Main, "qd.pdf", None, pdf).unwrap(), PDF);
        assert_eq!(
            check(FileRole::Draft, "du-thao.docx", None, &docx).unwrap(),
            DOCX
        );
        let code = |r: Result<&str, AppError>| r.unwrap_err().code;
        assert_eq!(
            code(check(FileRole::Main, "du-thao.docx", None, &docx)),
            "wrong_file_type"
        );
        assert_eq!(
            code(check(FileRole::Main, "qd.docx", None, pdf)),
            "disguised_file"
        );
        assert_eq!(
            code(check(FileRole::Attachment, "x.exe", None, b"MZ\x90")),
            "unsupported_file_type"
        );
        let big_png = {
            let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
            v.resize((10 << 20) + 1, 0);
            v
        };
        assert_eq!(
            code(check(FileRole::Attachment, "a.png", None, &big_png)),
            "file_too_large"
        );
        let mut big_pdf = pdf.to_vec();
        big_pdf.resize((10 << 20) + 1, b' ');
        assert!(
            check(FileRole::Attachment, "a.pdf", None, &big_pdf).is_ok(),
            "PDFs may be larger"
        );
    }
}

//! The text of a document's files, for search: the text layer of a PDF (a scan without one has
//! none; OCR is not built), and the paragraphs of .docx and .odt files. Bounded, so that a huge
//! or hostile file costs little: at most 200 pages, about 200,000 characters, and 20 MiB of
//! decompressed XML.

use std::io::Read;

use super::files::{DOCX, ODT, PDF};

const MAX_PAGES: u32 = 200;
const MAX_CHARS: usize = 200_000;
const MAX_XML: u64 = 20 << 20;

/// The searchable text of a file of `media_type` (as judged by its content); empty when there is
/// none or it cannot be read.
pub(crate) fn extract_text(media_type: &str, bytes: &[u8], limits: &egov_pki::Limits) -> String {
    let text = match media_type {
        PDF => {
            egov_pki::text::document_text(bytes, MAX_PAGES, MAX_CHARS, limits).unwrap_or_default()
        }
        DOCX => office_text(bytes, "word/document.xml", &["</w:p>", "<w:tab", "<w:br"]),
        ODT => office_text(
            bytes,
            "content.xml",
            &[
                "</text:p>",
                "</text:h>",
                "<text:tab",
                "<text:s",
                "<text:line-break",
            ],
        ),
        _ => String::new(),
    };
    let mut words = String::with_capacity(text.len().min(MAX_CHARS));
    for w in text.split_whitespace() {
        if words.len() + w.len() > MAX_CHARS {
            break;
        }
        if !words.is_empty() {
            words.push(' ');
        }
        words.push_str(w);
    }
    words
}

impl crate::App {
    /// The searchable text of a stored blob (read and parsed off the async threads); empty for
    /// an unknown blob or one without text.
    pub(crate) async fn blob_text(&self, sha: &str) -> Result<String, crate::AppError> {
        let media_type: Option<String> = egov_store::Exec::scalar_optional(
            &mut &self.db,
            "SELECT media_type FROM blobs WHERE sha256 = $1",
            egov_store::args![sha],
        )
        .await?;
        let Some(media_type) = media_type else {
            return Ok(String::new());
        };
        // A file that cannot be read has no text to index.
        let Ok(bytes) = self.read_blob(sha).await else {
            return Ok(String::new());
        };
        let limits = self.settings.limits.pdf();
        let _turn = self.pdf_turn().await?;
        tokio::task::spawn_blocking(move || Ok(extract_text(&media_type, &bytes, &limits)))
            .await
            .map_err(|e| crate::AppError::internal(e.to_string()))?
    }
}

/// The text of the XML part `part` of an office file (a zip), a space for each tag in `breaks`.
fn office_text(bytes: &[u8], part: &str, breaks: &[&str]) -> String {
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return String::new();
    };
    let Ok(entry) = zip.by_name(part) else {
        return String::new();
    };
    let mut xml = String::new();
    if entry.take(MAX_XML).read_to_string(&mut xml).is_err() {
        return String::new();
    }
    xml_text(&xml, breaks)
}

/// Character data of an XML document with its entities decoded; tags vanish, those starting
/// with one of `breaks` leave a space.
fn xml_text(xml: &str, breaks: &[&str]) -> String {
    let mut out = String::with_capacity(xml.len() / 4);
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        decode_into(&rest[..lt], &mut out);
        let Some(gt) = rest[lt..].find('>') else {
            return out;
        };
        let tag = &rest[lt..lt + gt + 1];
        if breaks.iter().any(|b| tag.starts_with(b)) {
            out.push(' ');
        }
        rest = &rest[lt + gt + 1..];
        if out.len() > MAX_CHARS {
            return out;
        }
    }
    decode_into(rest, &mut out);
    out
}

/// Appends `s` with the XML entities (`&amp;`, `&#7871;`, `&#x1EBF;` …) decoded.
fn decode_into(s: &str, out: &mut String) {
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let Some(semi) = after.find(';').filter(|i| *i <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let name = &after[..semi];
        let ch = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(part: &str, xml: &str) -> Vec<u8> {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            w.start_file(part, opts).unwrap();
            w.write_all(xml.as_bytes()).unwrap();
            w.finish().unwrap();
        }
        buf.into_inner()
    }

    #[test]
    fn docx_paragraphs_and_runs() {
        let xml = r#"<?xml version="1.0"?><w:document><w:body><w:p><w:r><w:t>Quyết </w:t></w:r><w:r><w:t>định</w:t></w:r></w:p><w:p><w:r><w:t>về việc A &amp; B&#160;&#x1EBF;</w:t></w:r><w:tab/><w:r><w:t>hết</w:t></w:r></w:p></w:body></w:document>"#;
        let text = extract_text(
            DOCX,
            &zip_with("word/document.xml", xml),
            &egov_pki::Limits::default(),
        );
        assert_eq!(text, "Quyết định về việc A & B ế hết");
    }

    #[test]
    fn odt_paragraphs_and_headings() {
        let xml = r#"<office:document-content><office:body><office:text><text:h>Tờ trình</text:h><text:p>Kính gửi<text:s/>Ủy ban</text:p></office:text></office:body></office:document-content>"#;
        let text = extract_text(
            ODT,
            &zip_with("content.xml", xml),
            &egov_pki::Limits::default(),
        );
        assert_eq!(text, "Tờ trình Kính gửi Ủy ban");
    }

    #[test]
    fn pdf_text_layer() {
        let mut d = egov_pdf::Document::new("Thử");
        d.paragraph(&egov_pdf::BODY, "Kế hoạch phòng chống thiên tai năm 2026");
        let text = extract_text(PDF, &d.finish(), &egov_pki::Limits::default());
        assert!(text.contains("Kế hoạch phòng chống thiên tai"), "{text}");
    }

    #[test]
    fn unreadable_files_have_no_text() {
        assert_eq!(
            extract_text(DOCX, b"PK\x03\x04 broken", &egov_pki::Limits::default()),
            ""
        );
        assert_eq!(
            extract_text(PDF, b"%PDF-1.7 broken", &egov_pki::Limits::default()),
            ""
        );
        assert_eq!(
            extract_text("image/png", b"\x89PNG", &egov_pki::Limits::default()),
            ""
        );
        assert_eq!(xml_text("a &bogus; &#xZZ; b", &[]), "a &bogus; &#xZZ; b");
    }
}

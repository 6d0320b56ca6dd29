//! Bounds on the work one PDF may cause. A file's objects and pages are counted from its bytes,
//! before it is parsed, so that a file built to exhaust memory or time (hundreds of thousands of
//! pages, a decompression bomb) is refused in a fraction of a second instead of being loaded.

use memchr::memmem;

/// How much a PDF may ask of egov. Counted before parsing: objects (written ones and those
/// declared in object streams) and page objects; while parsing: the bytes any one stream may
/// decompress to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub max_objects: usize,
    pub max_pages: usize,
    pub max_stream_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_objects: 200_000,
            max_pages: 10_000,
            max_stream_bytes: 64 << 20,
        }
    }
}

/// What a PDF's bytes declare, without parsing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Census {
    /// Indirect objects written in the file plus those declared by object streams (`/N`).
    pub objects: usize,
    /// Objects of `/Type /Page` written in the file (pages inside object streams are counted
    /// among the objects only).
    pub pages: usize,
}

/// Counts a PDF's objects and pages from its bytes (a single pass, no parsing).
pub fn census(pdf: &[u8]) -> Census {
    let mut c = Census::default();
    for at in memmem::find_iter(pdf, b"obj") {
        // `12 0 obj`: digits, a space, digits, a space before; not `endobj`, not `objstm`.
        let before = &pdf[..at];
        let after = pdf.get(at + 3).copied().unwrap_or(b' ');
        if after.is_ascii_alphanumeric() || !before.ends_with(b" ") {
            continue;
        }
        let digits = before[..before.len() - 1]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 {
            c.objects += 1;
        }
    }
    for at in memmem::find_iter(pdf, b"/ObjStm") {
        // The object stream's dictionary holds `/N count` near its `/Type /ObjStm`.
        let from = at.saturating_sub(256);
        let to = (at + 256).min(pdf.len());
        let window = &pdf[from..to];
        if let Some(n) = memmem::find(window, b"/N")
            .map(|i| &window[i + 2..])
            .map(|rest| {
                rest.iter()
                    .skip_while(|b| b.is_ascii_whitespace())
                    .take_while(|b| b.is_ascii_digit())
                    .fold(0usize, |n, d| {
                        n.saturating_mul(10).saturating_add(usize::from(d - b'0'))
                    })
            })
        {
            c.objects = c.objects.saturating_add(n);
        }
    }
    for needle in [&b"/Type/Page"[..], b"/Type /Page"] {
        for at in memmem::find_iter(pdf, needle) {
            let next = pdf.get(at + needle.len()).copied().unwrap_or(b' ');
            if !next.is_ascii_alphanumeric() {
                c.pages += 1;
            }
        }
    }
    c
}

/// Refuses a PDF that declares more than the limits allow.
pub fn check(pdf: &[u8], limits: &Limits) -> crate::Result<Census> {
    let c = census(pdf);
    if c.objects > limits.max_objects {
        return Err(crate::Error::TooComplex(format!(
            "{} objects, more than the {} allowed",
            c.objects, limits.max_objects
        )));
    }
    if c.pages > limits.max_pages {
        return Err(crate::Error::TooComplex(format!(
            "{} pages, more than the {} allowed",
            c.pages, limits.max_pages
        )));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages(n: usize) -> Vec<u8> {
        let mut out = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n".to_vec();
        out.extend_from_slice(b"2 0 obj\n<< /Type /Pages /Count 0 /Kids [] >>\nendobj\n");
        for i in 0..n {
            out.extend_from_slice(
                format!("{} 0 obj\n<< /Type /Page /Parent 2 0 R >>\nendobj\n", i + 3).as_bytes(),
            );
        }
        out.extend_from_slice(b"%%EOF\n");
        out
    }

    #[test]
    fn objects_and_pages_are_counted_from_the_bytes() {
        let c = census(&pages(7));
        assert_eq!(
            c,
            Census {
                objects: 9,
                pages: 7
            }
        );
        let objstm = b"5 0 obj\n<< /Type /ObjStm /N 4000 /First 10 /Length 3 >>\nstream\nabc\nendstream\nendobj\n";
        assert_eq!(census(objstm).objects, 4001);
    }

    #[test]
    fn a_file_over_the_limits_is_refused_before_parsing() {
        let limits = Limits {
            max_objects: 100,
            max_pages: 10,
            ..Limits::default()
        };
        assert!(check(&pages(5), &limits).is_ok());
        let e = check(&pages(11), &limits).unwrap_err();
        assert_eq!(e.code(), "pdf_too_complex");
        assert!(e.to_string().contains("11 pages"), "{e}");
        let e = check(&pages(200), &limits).unwrap_err();
        assert!(e.to_string().contains("objects"), "{e}");
    }
}

//! What a visible signature looks like, as Decree 30 Appendix I draws it: the signer's signature
//! image where the signature goes, the agency's seal image at real size over the left third of
//! it, and on an attachment in its own file a small text block at the top right (number and
//! notation, signing time).

use crate::sign::{Appearance, Image};
use crate::text;
use crate::{Error, Result};
use egov_pdf::{Align, Face, Style};
use lopdf::{Document, Object};

/// A PNG decoded for an appearance, with what an administrator checks before approving it.
#[derive(Debug, Clone)]
pub struct Png {
    pub image: Image,
    /// Some pixels are transparent (or translucent).
    pub transparent: bool,
    /// The mean colour of the visible pixels (red, green, blue).
    pub ink: [u8; 3],
}

/// Decodes a PNG (any bit depth and colour type) to 8-bit RGB with an alpha channel.
pub fn decode_png(bytes: &[u8]) -> std::result::Result<Png, String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("not a readable PNG: {e}"))?;
    let (w, h) = (reader.info().width, reader.info().height);
    if w == 0 || h == 0 || w > 4000 || h > 4000 {
        return Err(format!("a {w}×{h} image is not usable (at most 4000×4000)"));
    }
    let mut buf = vec![
        0;
        reader
            .output_buffer_size()
            .ok_or("the image is too large")?
    ];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("the PNG cannot be decoded: {e}"))?;
    let data = &buf[..frame.buffer_size()];
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err("an indexed PNG was not expanded".into()),
    };
    let pixels = (w * h) as usize;
    let mut rgb = Vec::with_capacity(pixels * 3);
    let mut alpha = Vec::with_capacity(pixels);
    for px in data.chunks(channels).take(pixels) {
        let (r, g, b, a) = match channels {
            1 => (px[0], px[0], px[0], 255),
            2 => (px[0], px[0], px[0], px[1]),
            3 => (px[0], px[1], px[2], 255),
            _ => (px[0], px[1], px[2], px[3]),
        };
        rgb.extend_from_slice(&[r, g, b]);
        alpha.push(a);
    }
    let transparent = alpha.iter().any(|a| *a < 250);
    let mut sum = [0u64; 3];
    let mut weight = 0u64;
    for (i, a) in alpha.iter().enumerate() {
        let a = u64::from(*a);
        if a < 128 {
            continue;
        }
        for (c, s) in sum.iter_mut().enumerate() {
            *s += u64::from(rgb[i * 3 + c]) * a;
        }
        weight += a;
    }
    let ink = if weight == 0 {
        [0, 0, 0]
    } else {
        sum.map(|s| u8::try_from(s / weight).unwrap_or(255))
    };
    Ok(Png {
        image: Image {
            width: w,
            height: h,
            rgb,
            alpha: transparent.then_some(alpha),
        },
        transparent,
        ink,
    })
}

/// An image filling `rect` (scaled to fit, aspect kept, centred).
pub fn image_appearance(page: u32, rect: [f32; 4], image: Image) -> Appearance {
    let (bw, bh) = (rect[2] - rect[0], rect[3] - rect[1]);
    let scale = (bw / image.width as f32).min(bh / image.height as f32);
    let (w, h) = (image.width as f32 * scale, image.height as f32 * scale);
    let (x, y) = ((bw - w) / 2.0, (bh - h) / 2.0);
    Appearance {
        page,
        rect,
        content: format!("q {w:.2} 0 0 {h:.2} {x:.2} {y:.2} cm /Im0 Do Q").into_bytes(),
        images: vec![image],
        layer: None,
    }
}

/// Lines of small text in a box (the agency's signature on an attachment).
pub fn text_appearance(page: u32, rect: [f32; 4], lines: &[String], size: f32) -> Appearance {
    let (w, h) = (rect[2] - rect[0], rect[3] - rect[1]);
    let mut layer = egov_pdf::Document::sized("signature", w, h);
    let style = Style::new(Face::Regular, size, Align::Left);
    let mut top = 1.0;
    for l in lines {
        layer.text_at(2.0, top, &style, l);
        top += size * 1.25;
    }
    Appearance {
        page,
        rect,
        content: Vec::new(),
        images: Vec::new(),
        layer: Some(layer.finish()),
    }
}

/// Where a signature goes: above the last place `name` is written in the document (the
/// signer's name under the signature block), centred on it; `size` is the box (width, height).
/// `None` when the name is not in the text.
pub fn above_name(pdf: &[u8], name: &str, size: (f32, f32)) -> Result<Option<(u32, [f32; 4])>> {
    let doc = crate::sign::load(pdf)?;
    let pages = doc.get_pages().len() as u32;
    for page in (1..=pages).rev() {
        let lines = text::lines(&doc, page).map_err(Error::Malformed)?;
        for line in lines.iter().rev() {
            if let Some(at) = line.find(name, 0) {
                let (x0, x1) = (line.glyphs[at.start].x0, line.glyphs[at.end - 1].x1);
                let cx = (x0 + x1) / 2.0;
                let bottom = line.y + line.size * 1.1;
                return Ok(Some((
                    page,
                    [
                        cx - size.0 / 2.0,
                        bottom,
                        cx + size.0 / 2.0,
                        bottom + size.1,
                    ],
                )));
            }
        }
    }
    Ok(None)
}

/// Where a signature goes when the signer's name is not in the text: on the last page, in the
/// right half (where a Vietnamese document's signature block is), just below the lowest line
/// of text when there is room, otherwise at the bottom margin — never invisible.
pub fn last_page_place(pdf: &[u8], size: (f32, f32)) -> Result<(u32, [f32; 4])> {
    let doc = crate::sign::load(pdf)?;
    let page = doc.get_pages().len() as u32;
    if page == 0 {
        return Err(Error::Appearance("the document has no page".into()));
    }
    let (w, _h) = crate::stamp::page_size(&doc, page)?;
    let lowest = text::lines(&doc, page)
        .map_err(Error::Malformed)?
        .iter()
        .map(|l| l.y - l.size * 0.4)
        .fold(f32::INFINITY, f32::min);
    let margin = egov_pdf::mm(20.0);
    let gap = egov_pdf::mm(4.0);
    let top = if lowest.is_finite() && lowest - gap - size.1 >= margin {
        lowest - gap
    } else {
        margin + size.1
    };
    // Centred three quarters of the way across, kept inside a 10 mm right margin.
    let right = (w * 0.72 + size.0 / 2.0).min(w - egov_pdf::mm(10.0));
    let left = (right - size.0).max(0.0);
    Ok((page, [left, top - size.1, right, top]))
}

/// The first visible signature already on the document: its page and rectangle.
pub fn first_visible_signature(pdf: &[u8]) -> Result<Option<(u32, [f32; 4])>> {
    let doc = crate::sign::load(pdf)?;
    for (number, page_id) in doc.get_pages() {
        let Ok(page) = doc.get_dictionary(page_id) else {
            continue;
        };
        let annots = match page.get(b"Annots") {
            Ok(o) => match doc.dereference(o) {
                Ok((_, Object::Array(a))) => a.clone(),
                _ => continue,
            },
            Err(_) => continue,
        };
        for a in annots {
            let Ok((_, Object::Dictionary(w))) = doc.dereference(&a) else {
                continue;
            };
            if w.get(b"FT").and_then(Object::as_name).ok() != Some(b"Sig") {
                continue;
            }
            let rect: Vec<f32> = w
                .get(b"Rect")
                .and_then(Object::as_array)
                .map(|r| r.iter().filter_map(|v| v.as_float().ok()).collect())
                .unwrap_or_default();
            if let [a, b, c, d] = rect[..]
                && (c - a).abs() > 1.0
                && (d - b).abs() > 1.0
            {
                return Ok(Some((number, [a.min(c), b.min(d), a.max(c), b.max(d)])));
            }
        }
    }
    Ok(None)
}

/// The seal's box for a signature at `signature`: real size (`diameter` points), its right edge
/// a third of the way into the signature, centred on it vertically.
pub fn seal_over(signature: [f32; 4], diameter: f32) -> [f32; 4] {
    let right = signature[0] + (signature[2] - signature[0]) / 3.0;
    let cy = (signature[1] + signature[3]) / 2.0;
    [
        right - diameter,
        cy - diameter / 2.0,
        right,
        cy + diameter / 2.0,
    ]
}

/// The top right of the first page, for the agency's signature on an attachment.
pub fn top_right(pdf: &[u8], size: (f32, f32)) -> Result<[f32; 4]> {
    let doc: Document = crate::sign::load(pdf)?;
    let (w, h) = crate::stamp::page_size(&doc, 1)?;
    let margin = egov_pdf::mm(10.0);
    Ok([
        w - margin - size.0,
        h - margin - size.1,
        w - margin,
        h - margin,
    ])
}

/// A box of `size` (points) whose top-left corner is `x_mm`, `y_mm` from the top-left corner of
/// page `page` — a position chosen on screen. An error when the page does not exist or the box
/// does not fit on it.
pub fn at_position(
    pdf: &[u8],
    page: u32,
    x_mm: f32,
    y_mm: f32,
    size: (f32, f32),
) -> Result<[f32; 4]> {
    let doc: Document = crate::sign::load(pdf)?;
    let pages = doc.get_pages().len() as u32;
    if page == 0 || page > pages {
        return Err(Error::Appearance(format!(
            "the document has {pages} pages, not a page {page}"
        )));
    }
    let (w, h) = crate::stamp::page_size(&doc, page)?;
    let (x, top) = (egov_pdf::mm(x_mm), h - egov_pdf::mm(y_mm));
    let rect = [x, top - size.1, x + size.0, top];
    if !(x_mm.is_finite() && y_mm.is_finite())
        || rect[0] < 0.0
        || rect[1] < 0.0
        || rect[2] > w
        || rect[3] > h
    {
        return Err(Error::Appearance(format!(
            "a {:.0}×{:.0} mm box at ({x_mm} mm, {y_mm} mm) does not fit on the page",
            size.0 / egov_pdf::mm(1.0),
            size.1 / egov_pdf::mm(1.0)
        )));
    }
    Ok(rect)
}

/// The printed size of an image `width_mm` wide, in points (aspect kept).
pub fn printed_size(image: &Image, width_mm: f32) -> (f32, f32) {
    let w = egov_pdf::mm(width_mm);
    (w, w * image.height as f32 / image.width.max(1) as f32)
}

//! Where text sits on a page: the lines of a page with the position of every character, so that
//! the number and date can be written into the blanks a draft leaves for them ("Số:    /QĐ-UBND",
//! "ngày    tháng    năm") and a signature placed at an anchor text.
//!
//! The content stream is interpreted for text only: the graphics state's matrix, the text
//! state, and the glyph widths of simple and composite (`Identity-H`) fonts, with their
//! `ToUnicode` maps. Rotated text is not located.

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Encoding, Object, ObjectId};
use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;

/// One character placed on the page (PDF user space, origin at the bottom left).
#[derive(Debug, Clone)]
pub struct Glyph {
    pub ch: char,
    pub x0: f32,
    pub x1: f32,
}

/// Characters on one baseline, left to right; a space stands for a visible gap.
#[derive(Debug, Clone)]
pub struct Line {
    pub y: f32,
    /// The font size in user space of the first run on the line.
    pub size: f32,
    pub glyphs: Vec<Glyph>,
}

impl Line {
    pub fn text(&self) -> String {
        self.glyphs.iter().map(|g| g.ch).collect()
    }

    /// Where `needle` occurs, as glyph indices `start..end` (NFC, case-insensitive).
    pub fn find(&self, needle: &str, from: usize) -> Option<std::ops::Range<usize>> {
        let lower = |c: char| c.to_lowercase().next().unwrap_or(c);
        let hay: Vec<char> = self.glyphs.iter().map(|g| lower(g.ch)).collect();
        let needle: Vec<char> = needle.nfc().map(lower).collect();
        find_chars(&hay, &needle, from)
    }
}

fn find_chars(hay: &[char], needle: &[char], from: usize) -> Option<std::ops::Range<usize>> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len())
        .find(|&i| hay[i..i + needle.len()] == *needle)
        .map(|i| i..i + needle.len())
}

type Matrix = [f32; 6];

const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `a` then `b`.
fn mul(a: &Matrix, b: &Matrix) -> Matrix {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]
}

fn apply(m: &Matrix, x: f32, y: f32) -> (f32, f32) {
    (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])
}

struct Font<'a> {
    encoding: Option<Encoding<'a>>,
    two_byte: bool,
    widths: HashMap<u32, f32>,
    default_width: f32,
}

impl<'a> Font<'a> {
    fn load(doc: &'a Document, dict: &'a Dictionary) -> Font<'a> {
        let encoding = dict.get_font_encoding(doc).ok();
        let subtype = dict.get(b"Subtype").and_then(Object::as_name).ok();
        let deref = |o: &'a Object| doc.dereference(o).map(|(_, o)| o).ok();
        let number = |o: &Object| o.as_float().ok();
        let mut widths = HashMap::new();
        if subtype == Some(b"Type0") {
            let descendant = dict
                .get(b"DescendantFonts")
                .ok()
                .and_then(deref)
                .and_then(|o| o.as_array().ok())
                .and_then(|a| a.first())
                .and_then(deref)
                .and_then(|o| o.as_dict().ok());
            let default_width = descendant
                .and_then(|d| d.get(b"DW").ok())
                .and_then(number)
                .unwrap_or(1000.0);
            if let Some(w) = descendant
                .and_then(|d| d.get(b"W").ok())
                .and_then(deref)
                .and_then(|o| o.as_array().ok())
            {
                let mut i = 0;
                while i < w.len() {
                    let Some(first) = w[i].as_i64().ok() else {
                        break;
                    };
                    match w.get(i + 1).and_then(deref) {
                        Some(Object::Array(list)) => {
                            for (k, v) in list.iter().enumerate() {
                                if let Some(v) = number(v) {
                                    widths.insert(first as u32 + k as u32, v);
                                }
                            }
                            i += 2;
                        }
                        Some(last) => {
                            let (Ok(last), Some(v)) =
                                (last.as_i64(), w.get(i + 2).and_then(&number))
                            else {
                                break;
                            };
                            for c in first..=last.min(first + 65_535) {
                                widths.insert(c as u32, v);
                            }
                            i += 3;
                        }
                        None => break,
                    }
                }
            }
            return Font {
                encoding,
                two_byte: true,
                widths,
                default_width,
            };
        }
        let first = dict.get(b"FirstChar").and_then(Object::as_i64).unwrap_or(0);
        if let Some(w) = dict
            .get(b"Widths")
            .ok()
            .and_then(deref)
            .and_then(|o| o.as_array().ok())
        {
            for (k, v) in w.iter().enumerate() {
                if let Some(v) = number(v) {
                    widths.insert((first + k as i64) as u32, v);
                }
            }
        }
        let missing = dict
            .get(b"FontDescriptor")
            .ok()
            .and_then(deref)
            .and_then(|o| o.as_dict().ok())
            .and_then(|d| d.get(b"MissingWidth").ok())
            .and_then(number)
            // The standard 14 fonts come without widths: an average glyph.
            .unwrap_or(if widths.is_empty() { 500.0 } else { 0.0 });
        Font {
            encoding,
            two_byte: false,
            widths,
            default_width: missing,
        }
    }

    fn width(&self, code: u32) -> f32 {
        self.widths
            .get(&code)
            .copied()
            .unwrap_or(self.default_width)
            / 1000.0
    }

    fn decode(&self, bytes: &[u8]) -> String {
        match &self.encoding {
            Some(e) => e.bytes_to_string(bytes).unwrap_or_default(),
            None => bytes.iter().map(|b| char::from(*b)).collect(),
        }
    }
}

#[derive(Clone)]
struct State {
    ctm: Matrix,
    char_spacing: f32,
    word_spacing: f32,
    scale: f32,
    leading: f32,
    rise: f32,
    font: Option<Vec<u8>>,
    size: f32,
}

/// The text lines of a page (1-based `page`), top to bottom, including text in form XObjects.
pub fn lines(doc: &Document, page: u32) -> Result<Vec<Line>, String> {
    let pages = doc.get_pages();
    let page_id: ObjectId = *pages
        .get(&page)
        .ok_or_else(|| format!("the document has no page {page}"))?;
    let content = doc
        .get_page_content_with_limit(page_id, 64 << 20)
        .map_err(|e| e.to_string())?;
    let (direct, ids) = doc.get_page_resources(page_id).map_err(|e| e.to_string())?;
    let mut resources: Vec<&Dictionary> = direct.into_iter().collect();
    resources.extend(ids.iter().filter_map(|id| doc.get_dictionary(*id).ok()));
    let mut placed = Vec::new();
    run(doc, &content, &resources, IDENTITY, &mut placed, 0)?;
    Ok(group(placed))
}

/// The named entries of one kind (`Font`, `XObject`) across resource dictionaries, nearest first.
fn named<'a>(
    doc: &'a Document,
    resources: &[&'a Dictionary],
    kind: &[u8],
) -> HashMap<Vec<u8>, &'a Object> {
    let mut out = HashMap::new();
    for r in resources.iter().rev() {
        let Some(d) = r
            .get(kind)
            .ok()
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_dict().ok())
        else {
            continue;
        };
        for (k, v) in d.iter() {
            out.insert(k.clone(), v);
        }
    }
    out
}

fn run(
    doc: &Document,
    content: &[u8],
    resources: &[&Dictionary],
    base: Matrix,
    placed: &mut Vec<(f32, f32, Glyph)>,
    depth: usize,
) -> Result<(), String> {
    let content = Content::decode(content).map_err(|e| e.to_string())?;
    let fonts: HashMap<Vec<u8>, Font> = named(doc, resources, b"Font")
        .into_iter()
        .filter_map(|(name, o)| {
            let d = doc.dereference(o).ok()?.1.as_dict().ok()?;
            Some((name, Font::load(doc, d)))
        })
        .collect();
    let xobjects = named(doc, resources, b"XObject");
    let mut stack: Vec<State> = Vec::new();
    let mut st = State {
        ctm: base,
        char_spacing: 0.0,
        word_spacing: 0.0,
        scale: 1.0,
        leading: 0.0,
        rise: 0.0,
        font: None,
        size: 0.0,
    };
    let (mut tm, mut tlm) = (IDENTITY, IDENTITY);
    let num = |o: &Object| o.as_float().unwrap_or(0.0);
    for op in &content.operations {
        let a = &op.operands;
        let n = |i: usize| a.get(i).map_or(0.0, num);
        match op.operator.as_str() {
            "q" => stack.push(st.clone()),
            "Q" => {
                if let Some(s) = stack.pop() {
                    st = s;
                }
            }
            "cm" => st.ctm = mul(&[n(0), n(1), n(2), n(3), n(4), n(5)], &st.ctm),
            "Do" if depth < 8 => {
                let form = a
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .and_then(|name| xobjects.get(name))
                    .and_then(|o| doc.dereference(o).ok())
                    .and_then(|(_, o)| o.as_stream().ok())
                    .filter(|s| {
                        s.dict.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"Form")
                    });
                if let Some(form) = form {
                    let m = form
                        .dict
                        .get(b"Matrix")
                        .and_then(Object::as_array)
                        .ok()
                        .map(|v| v.iter().map(num).collect::<Vec<_>>())
                        .filter(|v| v.len() == 6)
                        .map_or(IDENTITY, |v| [v[0], v[1], v[2], v[3], v[4], v[5]]);
                    let own = form
                        .dict
                        .get(b"Resources")
                        .ok()
                        .and_then(|o| doc.dereference(o).ok())
                        .and_then(|(_, o)| o.as_dict().ok());
                    let inner: Vec<&Dictionary> = match own {
                        Some(d) => vec![d],
                        None => resources.to_vec(),
                    };
                    let data = form
                        .decompressed_content()
                        .unwrap_or_else(|_| form.content.clone());
                    run(doc, &data, &inner, mul(&m, &st.ctm), placed, depth + 1)?;
                }
            }
            "BT" => {
                tm = IDENTITY;
                tlm = IDENTITY;
            }
            "Tf" => {
                st.font = a.first().and_then(|o| o.as_name().ok()).map(<[u8]>::to_vec);
                st.size = n(1);
            }
            "Tc" => st.char_spacing = n(0),
            "Tw" => st.word_spacing = n(0),
            "Tz" => st.scale = n(0) / 100.0,
            "TL" => st.leading = n(0),
            "Ts" => st.rise = n(0),
            "Td" | "TD" => {
                if op.operator == "TD" {
                    st.leading = -n(1);
                }
                tlm = mul(&[1.0, 0.0, 0.0, 1.0, n(0), n(1)], &tlm);
                tm = tlm;
            }
            "Tm" => {
                tlm = [n(0), n(1), n(2), n(3), n(4), n(5)];
                tm = tlm;
            }
            "T*" => {
                tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -st.leading], &tlm);
                tm = tlm;
            }
            "Tj" | "TJ" | "'" | "\"" => {
                if op.operator == "\"" {
                    st.word_spacing = n(0);
                    st.char_spacing = n(1);
                }
                if op.operator == "'" || op.operator == "\"" {
                    tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -st.leading], &tlm);
                    tm = tlm;
                }
                let Some(font) = st.font.as_ref().and_then(|f| fonts.get(f)) else {
                    continue;
                };
                let items: Vec<&Object> = match a.last() {
                    Some(Object::Array(arr)) if op.operator == "TJ" => arr.iter().collect(),
                    Some(o) => vec![o],
                    None => continue,
                };
                for item in items {
                    match item {
                        Object::String(bytes, _) => show(&st, font, bytes, &mut tm, placed),
                        other => {
                            let adjust = -num(other) / 1000.0 * st.size * st.scale;
                            tm = mul(&[1.0, 0.0, 0.0, 1.0, adjust, 0.0], &tm);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn show(st: &State, font: &Font, bytes: &[u8], tm: &mut Matrix, out: &mut Vec<(f32, f32, Glyph)>) {
    let step = if font.two_byte { 2 } else { 1 };
    for code_bytes in bytes.chunks(step) {
        let code = code_bytes
            .iter()
            .fold(0u32, |acc, b| acc * 256 + u32::from(*b));
        let w0 = font.width(code) * st.size;
        let spacing = st.char_spacing
            + if !font.two_byte && code == 32 {
                st.word_spacing
            } else {
                0.0
            };
        let trm = mul(tm, &st.ctm);
        let (x0, y) = apply(&trm, 0.0, st.rise);
        let (x1, _) = apply(&trm, w0 * st.scale, st.rise);
        let (_, top) = apply(&trm, 0.0, st.rise + st.size);
        let size = (top - y).abs();
        for ch in font.decode(code_bytes).chars() {
            out.push((y, size, Glyph { ch, x0, x1 }));
        }
        *tm = mul(&[1.0, 0.0, 0.0, 1.0, (w0 + spacing) * st.scale, 0.0], tm);
    }
}

/// Gathers glyphs into lines by baseline and puts a space where a visible gap separates words.
fn group(mut placed: Vec<(f32, f32, Glyph)>) -> Vec<Line> {
    placed.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut lines: Vec<Line> = Vec::new();
    for (y, size, g) in placed {
        match lines.last_mut() {
            Some(l) if (l.y - y).abs() <= (l.size.max(size) * 0.3).max(1.0) => l.glyphs.push(g),
            _ => lines.push(Line {
                y,
                size,
                glyphs: vec![g],
            }),
        }
    }
    for l in &mut lines {
        l.glyphs.sort_by(|a, b| a.x0.total_cmp(&b.x0));
        let mut spaced: Vec<Glyph> = Vec::with_capacity(l.glyphs.len());
        for g in l.glyphs.drain(..) {
            if let Some(prev) = spaced.last()
                && prev.ch != ' '
                && g.ch != ' '
                && g.x0 - prev.x1 > l.size * 0.15
            {
                spaced.push(Glyph {
                    ch: ' ',
                    x0: prev.x1,
                    x1: g.x0,
                });
            }
            spaced.push(g);
        }
        l.glyphs = spaced;
    }
    lines
}

/// The text of a PDF, page by page and line by line, for search: at most `max_pages` pages and
/// about `max_chars` characters. Pages whose content cannot be read are skipped; a file that is
/// not a readable, unencrypted PDF is an error.
pub fn document_text(
    pdf: &[u8],
    max_pages: u32,
    max_chars: usize,
    limits: &crate::Limits,
) -> crate::Result<String> {
    let doc = crate::sign::load_within(pdf, limits)?;
    let pages = (doc.get_pages().len() as u32).min(max_pages);
    let mut out = String::new();
    for page in 1..=pages {
        let Ok(found) = lines(&doc, page) else {
            continue;
        };
        for line in found {
            out.push_str(line.text().trim());
            out.push('\n');
        }
        if out.len() >= max_chars {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Document {
        let mut d = egov_pdf::Document::new("t");
        let s = egov_pdf::Style::new(egov_pdf::Face::Regular, 13.0, egov_pdf::Align::Left);
        d.text_at(100.0, 100.0, &s, "Số:");
        d.text_at(140.0, 100.0, &s, "/QĐ-UBND");
        d.text_at(300.0, 100.0, &s, "Thanh Hóa, ngày    tháng    năm 2026");
        d.text_at(100.0, 300.0, &s, "Quyết định về việc");
        Document::load_mem(&d.finish()).expect("loads")
    }

    #[test]
    fn lines_come_with_positions() {
        let doc = sample();
        let ls = lines(&doc, 1).expect("lines");
        assert_eq!(
            ls.len(),
            2,
            "{:?}",
            ls.iter().map(Line::text).collect::<Vec<_>>()
        );
        let first = &ls[0];
        assert!(first.text().starts_with("Số: /QĐ-UBND"), "{}", first.text());
        let at = first.find("số:", 0).expect("found");
        assert!((first.glyphs[at.start].x0 - 100.0).abs() < 0.5);
        let slash = first.find("/", 0).expect("slash");
        assert!((first.glyphs[slash.start].x0 - 140.0).abs() < 0.5);
        assert!((first.size - 13.0).abs() < 0.1);
        assert!(first.find("ngày", 0).is_some());
        assert_eq!(ls[1].text(), "Quyết định về việc");
        assert!(ls[1].y < first.y);
    }
}

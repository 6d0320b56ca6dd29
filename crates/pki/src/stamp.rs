//! Writing onto an existing PDF without touching what is there: text is laid out on an overlay
//! page (Liberation Serif, every Vietnamese glyph embedded) and drawn over the target page as a
//! form XObject in an incremental update. The number and date of an outgoing document go in
//! this way at sign-off, before the leader signs, into the blanks the draft leaves for them.

use crate::text::{self, Line};
use crate::{Error, Result};
use egov_pdf::{Align, Face, Style};
use lopdf::{Dictionary, Document, IncrementalDocument, Object, ObjectId, Stream};
use std::collections::HashMap;
use time::Date;

/// A line of text to draw: `x` is the left edge, centre or right edge by `align`; `baseline`
/// is in PDF user space (from the bottom of the page).
#[derive(Debug, Clone)]
pub struct Text {
    pub x: f32,
    pub baseline: f32,
    pub size: f32,
    pub face: Face,
    pub align: Align,
    pub text: String,
    /// A rectangle (x0, y0, x1, y1 in user space) painted white first: the draft's words
    /// this text rewrites, when their blank was too narrow to write into.
    pub clear: Option<[f32; 4]>,
}

/// Where a value went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Placed {
    /// Into the blank the draft leaves for it.
    Anchor,
    /// The draft already carries it (typed by hand); nothing written.
    AlreadyThere,
    /// The draft has no place for it: written where Decree 30's layout puts it.
    StandardPosition,
}

/// The number and date of an outgoing document.
#[derive(Debug, Clone)]
pub struct NumberAndDate<'a> {
    /// The number as written before the slash: "05", "123".
    pub number: &'a str,
    /// The whole notation: "05/QĐ-UBND".
    pub notation: &'a str,
    /// The place name that opens the date line ("Thanh Hóa"), used only when the draft has no
    /// date line.
    pub place: Option<&'a str>,
    pub date: Date,
}

#[derive(Debug, Clone)]
pub struct Stamped {
    pub pdf: Vec<u8>,
    pub number: Placed,
    pub date: Placed,
}

/// Day and month as Decree 30 writes them: a zero before days below 10 and months 1 and 2.
pub fn day_month(date: Date) -> (String, String) {
    let m = u8::from(date.month());
    let day = format!("{:02}", date.day());
    let month = if m <= 2 {
        format!("{m:02}")
    } else {
        m.to_string()
    };
    (day, month)
}

/// Writes the number and the date on the first page of `pdf`.
pub fn number_and_date(pdf: &[u8], s: &NumberAndDate) -> Result<Stamped> {
    let doc = crate::sign::load(pdf)?;
    let lines = text::lines(&doc, 1).map_err(Error::Malformed)?;
    let (_, height) = page_size(&doc, 1)?;
    let mut texts = Vec::new();
    let number = place_number(&lines, s, &mut texts);
    let date = place_date(&lines, s, &mut texts);
    let (number, date) = (
        number.unwrap_or_else(|| {
            texts.push(Text {
                x: egov_pdf::mm(70.0),
                baseline: height - egov_pdf::mm(45.0),
                size: 13.0,
                face: Face::Regular,
                align: Align::Center,
                text: format!("Số: {}", s.notation),
                clear: None,
            });
            Placed::StandardPosition
        }),
        date.unwrap_or_else(|| {
            let (d, m) = day_month(s.date);
            let line = format!("ngày {d} tháng {m} năm {}", s.date.year());
            texts.push(Text {
                x: egov_pdf::mm(145.0),
                baseline: height - egov_pdf::mm(45.0),
                size: 14.0,
                face: Face::Italic,
                align: Align::Center,
                text: match s.place {
                    Some(p) if !p.trim().is_empty() => format!("{}, {line}", p.trim()),
                    _ => capitalise(&line),
                },
                clear: None,
            });
            Placed::StandardPosition
        }),
    );
    let pdf = if texts.is_empty() {
        pdf.to_vec()
    } else {
        write_text(pdf, doc, 1, &texts)?
    };
    Ok(Stamped { pdf, number, date })
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The size at which `text` fits in `room` points: the line's own size when it fits, smaller
/// when the draft's blank is narrow (never below 60 %: a blank that small is overprinted rather
/// than made unreadable).
fn fitted(text: &str, face: Face, size: f32, room: f32) -> f32 {
    let measure = egov_pdf::Document::new("");
    let w = measure.measure(&Style::new(face, size, Align::Left), text);
    if w <= room || w <= 0.0 {
        size
    } else {
        (size * room / w).max(size * 0.6)
    }
}

fn has_digit(line: &Line, range: std::ops::Range<usize>) -> bool {
    line.glyphs[range].iter().any(|g| g.ch.is_ascii_digit())
}

/// "Số:" followed by a blank and the rest of the notation ("/QĐ-UBND"), or by nothing.
fn place_number(lines: &[Line], s: &NumberAndDate, out: &mut Vec<Text>) -> Option<Placed> {
    for line in lines {
        let mut from = 0;
        while let Some(at) = line.find("số", from) {
            from = at.end;
            let colon = (at.end..line.glyphs.len()).find(|&i| line.glyphs[i].ch != ' ')?;
            if line.glyphs[colon].ch != ':' {
                continue;
            }
            let after = colon + 1;
            let slash = (after..line.glyphs.len()).find(|&i| line.glyphs[i].ch == '/');
            let end = slash.unwrap_or(line.glyphs.len());
            if has_digit(line, after..end) {
                return Some(Placed::AlreadyThere);
            }
            let gap = line.size * 0.3;
            out.push(match slash {
                Some(k) => {
                    // Measured into the blank between "Số:" and the slash.
                    let (left, right) = (
                        line.glyphs[colon].x1 + gap * 0.5,
                        line.glyphs[k].x0 - gap * 0.3,
                    );
                    let size = fitted(s.number, Face::Regular, line.size, right - left);
                    if size >= line.size * SMALLEST {
                        Text {
                            x: right,
                            baseline: line.y,
                            size,
                            face: Face::Regular,
                            align: Align::Right,
                            text: s.number.to_owned(),
                            clear: None,
                        }
                    } else {
                        // Too narrow to write into: "Số: …/QĐ-UBND" written again whole, over
                        // the draft's words.
                        let end = (k..line.glyphs.len())
                            .find(|&i| line.glyphs[i].ch == ' ')
                            .unwrap_or(line.glyphs.len());
                        rewrite(
                            line,
                            at.start..end,
                            format!("Số: {}", s.notation),
                            Face::Regular,
                        )
                    }
                }
                None => Text {
                    x: line.glyphs[colon].x1 + gap,
                    baseline: line.y,
                    size: line.size,
                    face: Face::Regular,
                    align: Align::Left,
                    text: s.notation.to_owned(),
                    clear: None,
                },
            });
            return Some(Placed::Anchor);
        }
    }
    None
}

/// "ngày … tháng … năm …": the day, the month and (when missing) the year into the blanks.
fn place_date(lines: &[Line], s: &NumberAndDate, out: &mut Vec<Text>) -> Option<Placed> {
    for line in lines {
        let Some(day) = line.find("ngày", 0) else {
            continue;
        };
        let Some(month) = line.find("tháng", day.end) else {
            continue;
        };
        let Some(year) = line.find("năm", month.end) else {
            continue;
        };
        let (d, m) = day_month(s.date);
        let g = &line.glyphs;
        let blanks = [
            (day.end..month.start, d.clone()),
            (month.end..year.start, m.clone()),
        ];
        let pad = line.size * 0.15;
        let room = |r: &std::ops::Range<usize>| g[r.end].x0 - g[r.start - 1].x1 - 2.0 * pad;
        let too_narrow = blanks.iter().any(|(r, v)| {
            !has_digit(line, r.clone())
                && fitted(v, Face::Italic, line.size, room(r)) < line.size * SMALLEST
        });
        if too_narrow {
            // "ngày … tháng … năm …" written again whole, over the draft's words.
            let end = (year.end..g.len())
                .find(|&i| !(g[i].ch.is_ascii_digit() || g[i].ch == ' ' || g[i].ch == '.'))
                .unwrap_or(g.len());
            out.push(rewrite(
                line,
                day.start..end,
                format!("ngày {d} tháng {m} năm {}", s.date.year()),
                Face::Italic,
            ));
            return Some(Placed::Anchor);
        }
        let mut wrote = false;
        for (range, value) in blanks {
            if has_digit(line, range.clone()) {
                continue;
            }
            let (left, right) = (g[range.start - 1].x1, g[range.end].x0);
            out.push(Text {
                x: (left + right) / 2.0,
                baseline: line.y,
                size: fitted(&value, Face::Italic, line.size, room(&range)),
                face: Face::Italic,
                align: Align::Center,
                text: value,
                clear: None,
            });
            wrote = true;
        }
        if !has_digit(line, year.end..g.len()) {
            out.push(Text {
                x: g[year.end - 1].x1 + line.size * 0.3,
                baseline: line.y,
                size: line.size,
                face: Face::Italic,
                align: Align::Left,
                text: s.date.year().to_string(),
                clear: None,
            });
            wrote = true;
        }
        return Some(if wrote {
            Placed::Anchor
        } else {
            Placed::AlreadyThere
        });
    }
    None
}

/// The smallest share of the line's size a value is shrunk to before the words around it are
/// written again instead.
const SMALLEST: f32 = 0.75;

/// `text` written over glyphs `range` of `line`, which are painted white first (with a little
/// room around them), from where they began.
fn rewrite(line: &Line, range: std::ops::Range<usize>, text: String, face: Face) -> Text {
    let g = &line.glyphs;
    let x0 = g[range.start].x0;
    let x1 = g[range.end - 1].x1;
    Text {
        x: x0,
        baseline: line.y,
        size: line.size,
        face,
        align: Align::Left,
        text,
        clear: Some([
            x0 - 1.0,
            line.y - line.size * 0.3,
            x1 + 1.0,
            line.y + line.size * 0.95,
        ]),
    }
}

/// The width and height of a page's media box.
pub fn page_size(doc: &Document, page: u32) -> Result<(f32, f32)> {
    let b = media_box(doc, page)?;
    Ok((b[2] - b[0], b[3] - b[1]))
}

fn media_box(doc: &Document, page: u32) -> Result<[f32; 4]> {
    let id = page_id(doc, page)?;
    let mut node = doc
        .get_dictionary(id)
        .map_err(|e| Error::Malformed(e.to_string()))?;
    for _ in 0..32 {
        if let Ok(o) = node.get(b"MediaBox") {
            let arr = doc
                .dereference(o)
                .and_then(|(_, o)| o.as_array())
                .map_err(|_| Error::Malformed("bad media box".into()))?;
            let v: Vec<f32> = arr.iter().filter_map(|o| o.as_float().ok()).collect();
            if let [a, b, c, d] = v[..] {
                return Ok([a.min(c), b.min(d), a.max(c), b.max(d)]);
            }
            return Err(Error::Malformed("bad media box".into()));
        }
        match node.get(b"Parent").and_then(Object::as_reference) {
            Ok(p) => {
                node = doc
                    .get_dictionary(p)
                    .map_err(|e| Error::Malformed(e.to_string()))?
            }
            Err(_) => break,
        }
    }
    // A page without a media box: A4.
    Ok([0.0, 0.0, egov_pdf::PAGE_WIDTH, egov_pdf::PAGE_HEIGHT])
}

fn page_id(doc: &Document, page: u32) -> Result<ObjectId> {
    doc.get_pages()
        .get(&page)
        .copied()
        .ok_or_else(|| Error::Malformed(format!("the document has no page {page}")))
}

/// Draws `texts` over page `page` (1-based) in an incremental update.
pub fn write_text(pdf: &[u8], doc: Document, page: u32, texts: &[Text]) -> Result<Vec<u8>> {
    let mb = media_box(&doc, page)?;
    let (w, h) = (mb[2] - mb[0], mb[3] - mb[1]);
    let mut layer = egov_pdf::Document::sized("stamp", w, h);
    for t in texts {
        if let Some([x0, y0, x1, y1]) = t.clear {
            layer.clear(x0 - mb[0], h - (y1 - mb[1]), x1 - x0, y1 - y0);
        }
        layer.text_on_baseline(
            t.x - mb[0],
            h - (t.baseline - mb[1]),
            &Style::new(t.face, t.size, t.align),
            &t.text,
        );
    }
    let layer = Document::load_mem(&layer.finish()).map_err(|e| Error::Malformed(e.to_string()))?;
    overlay(pdf, doc, page, &layer, [1.0, 0.0, 0.0, 1.0, mb[0], mb[1]])
}

/// Draws the first page of `layer` over page `page` of `pdf`, placed by `matrix`.
fn overlay(
    pdf: &[u8],
    doc: Document,
    page: u32,
    layer: &Document,
    matrix: [f32; 6],
) -> Result<Vec<u8>> {
    let bad = |e: lopdf::Error| Error::Malformed(e.to_string());
    let target = page_id(&doc, page)?;
    let source = page_id(layer, 1)?;
    let content = layer.get_page_content(source);
    let resources = layer
        .get_dictionary(source)
        .map_err(bad)?
        .get(b"Resources")
        .cloned()
        .unwrap_or(Object::Dictionary(Dictionary::new()));

    let mut inc = IncrementalDocument::create_from(pdf.to_vec(), doc);
    let new = &mut inc.new_document;
    let mut map = HashMap::new();
    let resources = import(new, layer, &resources, &mut map);
    let (lw, lh) = page_size(layer, 1)?;
    let mut form = Dictionary::new();
    form.set("Type", Object::Name(b"XObject".to_vec()));
    form.set("Subtype", Object::Name(b"Form".to_vec()));
    form.set(
        "BBox",
        Object::Array(vec![0.into(), 0.into(), Object::Real(lw), Object::Real(lh)]),
    );
    form.set(
        "Matrix",
        Object::Array(matrix.iter().map(|v| Object::Real(*v)).collect()),
    );
    form.set("Resources", resources);
    let mut stream = Stream::new(form, content);
    let _ = stream.compress();
    let form_id = new.add_object(Object::Stream(stream));
    let name = format!("EgovStamp{}", form_id.0);

    let open = new.add_object(Object::Stream(Stream::new(
        Dictionary::new(),
        b"q\n".to_vec(),
    )));
    let close = new.add_object(Object::Stream(Stream::new(
        Dictionary::new(),
        format!("\nQ q /{name} Do Q\n").into_bytes(),
    )));
    let prev = inc.get_prev_documents();
    let old: Vec<Object> = match prev.get_dictionary(target).map_err(bad)?.get(b"Contents") {
        Ok(Object::Reference(id)) => match prev.get_object(*id) {
            Ok(Object::Array(a)) => a.clone(),
            _ => vec![Object::Reference(*id)],
        },
        Ok(Object::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    let mut contents = vec![Object::Reference(open)];
    contents.extend(old);
    contents.push(Object::Reference(close));
    inc.opt_clone_object_to_new_document(target).map_err(bad)?;
    inc.new_document
        .get_dictionary_mut(target)
        .map_err(bad)?
        .set("Contents", Object::Array(contents));
    inc.add_xobject(target, name.into_bytes(), form_id)
        .map_err(bad)?;
    let mut out = Vec::with_capacity(pdf.len() + 64 * 1024);
    inc.save_to(&mut out)
        .map_err(|e| Error::Malformed(e.to_string()))?;
    Ok(out)
}

/// Copies `obj` and everything it refers to from `src` into `dst`, under new numbers.
pub(crate) fn import(
    dst: &mut Document,
    src: &Document,
    obj: &Object,
    map: &mut HashMap<ObjectId, ObjectId>,
) -> Object {
    match obj {
        Object::Reference(id) => {
            if let Some(n) = map.get(id) {
                return Object::Reference(*n);
            }
            let n = dst.new_object_id();
            map.insert(*id, n);
            let copied = match src.get_object(*id) {
                Ok(o) => import(dst, src, &o.clone(), map),
                Err(_) => Object::Null,
            };
            dst.objects.insert(n, copied);
            Object::Reference(n)
        }
        Object::Array(a) => Object::Array(a.iter().map(|o| import(dst, src, o, map)).collect()),
        Object::Dictionary(d) => Object::Dictionary(import_dict(dst, src, d, map)),
        Object::Stream(s) => {
            let mut s = s.clone();
            s.dict = import_dict(dst, src, &s.dict, map);
            Object::Stream(s)
        }
        other => other.clone(),
    }
}

fn import_dict(
    dst: &mut Document,
    src: &Document,
    d: &Dictionary,
    map: &mut HashMap<ObjectId, ObjectId>,
) -> Dictionary {
    let mut out = Dictionary::new();
    for (k, v) in d.iter() {
        out.set(k.clone(), import(dst, src, v, map));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn draft(number_line: &str, date_line: &str) -> Vec<u8> {
        let mut d = egov_pdf::Document::new("draft");
        let s = Style::new(Face::Regular, 13.0, Align::Center);
        d.text_at(egov_pdf::mm(70.0), 60.0, &s, "ỦY BAN NHÂN DÂN");
        d.text_at(egov_pdf::mm(70.0), 100.0, &s, number_line);
        d.text_at(egov_pdf::mm(145.0), 100.0, &s, date_line);
        d.text_at(egov_pdf::mm(105.0), 160.0, &s, "QUYẾT ĐỊNH");
        d.finish()
    }

    fn stamp(pdf: &[u8]) -> Stamped {
        number_and_date(
            pdf,
            &NumberAndDate {
                number: "05",
                notation: "05/QĐ-UBND",
                place: Some("Thanh Hóa"),
                date: date!(2026 - 02 - 03),
            },
        )
        .expect("stamped")
    }

    fn first_line_texts(pdf: &[u8]) -> Vec<String> {
        let doc = Document::load_mem(pdf).expect("loads");
        text::lines(&doc, 1)
            .expect("lines")
            .iter()
            .map(Line::text)
            .collect()
    }

    #[test]
    fn fills_the_blanks_of_a_draft() {
        let pdf = draft(
            "Số:       /QĐ-UBND",
            "Thanh Hóa, ngày       tháng       năm 2026",
        );
        let out = stamp(&pdf);
        assert_eq!((out.number, out.date), (Placed::Anchor, Placed::Anchor));
        assert!(out.pdf.starts_with(&pdf), "an incremental update");
        // The digits sit among the blanks the draft typed, so compare without spaces.
        let lines: Vec<String> = first_line_texts(&out.pdf)
            .iter()
            .map(|l| l.replace(' ', ""))
            .collect();
        assert!(
            lines.iter().any(|l| l.contains("Số:05/QĐ-UBND")),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.contains("ngày03tháng02năm2026")),
            "{lines:?}"
        );
    }

    #[test]
    fn a_draft_without_blanks_gets_the_standard_place() {
        let pdf = draft("", "");
        let out = stamp(&pdf);
        assert_eq!(
            (out.number, out.date),
            (Placed::StandardPosition, Placed::StandardPosition)
        );
        let lines = first_line_texts(&out.pdf);
        assert!(
            lines.iter().any(|l| l.contains("Số: 05/QĐ-UBND")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("Thanh Hóa, ngày 03 tháng 02 năm 2026")),
            "{lines:?}"
        );
    }

    #[test]
    fn a_number_typed_by_hand_is_left_alone() {
        let pdf = draft("Số: 17/QĐ-UBND", "Thanh Hóa, ngày 02 tháng 02 năm 2026");
        let out = stamp(&pdf);
        assert_eq!(
            (out.number, out.date),
            (Placed::AlreadyThere, Placed::AlreadyThere)
        );
        assert_eq!(out.pdf, pdf);
        assert_eq!(first_line_texts(&pdf).len(), 3);
    }

    fn laid_out(number_line: &str, date_line: &str, number: &str) -> (Vec<Line>, Vec<Text>) {
        let pdf = draft(number_line, date_line);
        let doc = Document::load_mem(&pdf).expect("loads");
        let lines = text::lines(&doc, 1).expect("lines");
        let notation = format!("{number}/QĐ-UBND");
        let s = NumberAndDate {
            number,
            notation: &notation,
            place: None,
            date: date!(2026 - 11 - 25),
        };
        let mut texts = Vec::new();
        assert_eq!(place_number(&lines, &s, &mut texts), Some(Placed::Anchor));
        assert_eq!(place_date(&lines, &s, &mut texts), Some(Placed::Anchor));
        (lines, texts)
    }

    fn width(t: &Text) -> f32 {
        egov_pdf::Document::new("").measure(&Style::new(t.face, t.size, Align::Left), &t.text)
    }

    #[test]
    fn a_narrow_blank_gets_smaller_text_that_fits() {
        let (lines, texts) = laid_out("Số:      /QĐ-UBND", "ngày     tháng     năm", "123");
        let number_line = lines.iter().find(|l| l.text().contains("Số")).unwrap();
        let colon = number_line.glyphs.iter().find(|g| g.ch == ':').unwrap().x1;
        let slash = number_line.glyphs.iter().find(|g| g.ch == '/').unwrap().x0;
        let n = &texts[0];
        assert!(n.clear.is_none());
        assert!(
            n.size < number_line.size && n.size >= number_line.size * SMALLEST,
            "{n:?}"
        );
        assert!(
            n.x <= slash && n.x - width(n) >= colon,
            "the number stays in its blank"
        );
        // The day sits between "ngày" and "tháng" without touching them.
        let date_line = lines.iter().find(|l| l.text().contains("ngày")).unwrap();
        let day = date_line.find("ngày", 0).unwrap();
        let month = date_line.find("tháng", day.end).unwrap();
        let (left, right) = (
            date_line.glyphs[day.end - 1].x1,
            date_line.glyphs[month.start].x0,
        );
        let d = &texts[1];
        assert_eq!(d.text, "25");
        assert!(
            d.x - width(d) / 2.0 >= left && d.x + width(d) / 2.0 <= right,
            "{d:?} in {left}..{right}"
        );
        // A wide blank keeps the line's own size.
        let (_, texts) = laid_out(
            "Số:            /QĐ-UBND",
            "ngày        tháng       năm",
            "123",
        );
        assert_eq!(texts[0].size, 13.0);
    }

    #[test]
    fn a_blank_too_narrow_is_written_again_whole_over_the_draft() {
        let (lines, texts) = laid_out("Số: /QĐ-UBND", "Thanh Hóa, ngày tháng năm", "1234");
        let n = &texts[0];
        assert_eq!(n.text, "Số: 1234/QĐ-UBND");
        assert_eq!(n.size, 13.0, "at the line's own size");
        let number_line = lines.iter().find(|l| l.text().contains("Số")).unwrap();
        let [x0, _, x1, _] = n.clear.expect("the draft's words covered");
        let so = number_line.find("số", 0).unwrap();
        let ubnd = number_line.find("ubnd", so.end).unwrap();
        assert!(x0 <= number_line.glyphs[so.start].x0);
        assert!(
            x1 >= number_line.glyphs[ubnd.end - 1].x1,
            "through the notation's end"
        );
        let d = &texts[1];
        assert_eq!(d.text, "ngày 25 tháng 11 năm 2026");
        assert!(d.clear.is_some());
        // And the stamped PDF still loads, with the rewritten words in it.
        let pdf = draft("Số: /QĐ-UBND", "Thanh Hóa, ngày tháng năm");
        let out = number_and_date(
            &pdf,
            &NumberAndDate {
                number: "1234",
                notation: "1234/QĐ-UBND",
                place: None,
                date: date!(2026 - 11 - 25),
            },
        )
        .unwrap();
        // (Text extraction mixes the covered words with the new ones: compare the digits.)
        let digits: String = first_line_texts(&out.pdf)
            .concat()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        assert!(digits.starts_with("1234"), "{digits}");
        assert!(digits.contains("2026"), "{digits}");
    }

    #[test]
    fn day_and_month_as_decree_30_writes_them() {
        assert_eq!(day_month(date!(2026 - 02 - 03)), ("03".into(), "02".into()));
        assert_eq!(day_month(date!(2026 - 11 - 25)), ("25".into(), "11".into()));
        assert_eq!(day_month(date!(2026 - 03 - 09)), ("09".into(), "3".into()));
    }
}

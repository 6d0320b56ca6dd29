//! A4 documents laid out like Vietnamese administrative forms: paragraphs, two-column headers,
//! bordered tables and QR codes, in Liberation Serif (metric-compatible with Times New Roman,
//! SIL Open Font Licence). Every glyph used is embedded as a subset of the font, with a
//! `ToUnicode` map so that the text can be searched and extracted.
//!
//! Coordinates are in points from the top-left corner of the page; [`mm`] converts.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use unicode_normalization::UnicodeNormalization;

const REGULAR: &[u8] = include_bytes!("../fonts/LiberationSerif-Regular.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/LiberationSerif-Bold.ttf");
const ITALIC: &[u8] = include_bytes!("../fonts/LiberationSerif-Italic.ttf");

/// A4 in points.
pub const PAGE_WIDTH: f32 = 595.28;
pub const PAGE_HEIGHT: f32 = 841.89;

/// Millimetres to points.
pub fn mm(v: f32) -> f32 {
    v * 72.0 / 25.4
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Face {
    Regular,
    Bold,
    Italic,
}

impl Face {
    const ALL: [Face; 3] = [Face::Regular, Face::Bold, Face::Italic];

    fn index(self) -> usize {
        self as usize
    }

    fn bytes(self) -> &'static [u8] {
        match self {
            Face::Regular => REGULAR,
            Face::Bold => BOLD,
            Face::Italic => ITALIC,
        }
    }

    fn pdf_name(self) -> &'static [u8] {
        match self {
            Face::Regular => b"F0",
            Face::Bold => b"F1",
            Face::Italic => b"F2",
        }
    }

    fn postscript(self) -> &'static str {
        match self {
            Face::Regular => "LiberationSerif",
            Face::Bold => "LiberationSerif-Bold",
            Face::Italic => "LiberationSerif-Italic",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// How a run of text looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    pub face: Face,
    pub size: f32,
    pub align: Align,
}

impl Style {
    pub const fn new(face: Face, size: f32, align: Align) -> Style {
        Style { face, size, align }
    }

    pub fn line_height(&self) -> f32 {
        self.size * 1.25
    }
}

/// Body text of a form: 13 pt, as administrative documents are set.
pub const BODY: Style = Style::new(Face::Regular, 13.0, Align::Left);

struct Fonts {
    faces: [ttf_parser::Face<'static>; 3],
}

impl Fonts {
    fn load() -> Fonts {
        let parse = |f: Face| {
            ttf_parser::Face::parse(f.bytes(), 0)
                .expect("the bundled font is a valid TrueType font")
        };
        Fonts {
            faces: [parse(Face::Regular), parse(Face::Bold), parse(Face::Italic)],
        }
    }

    fn face(&self, f: Face) -> &ttf_parser::Face<'static> {
        &self.faces[f.index()]
    }

    fn glyph(&self, f: Face, c: char) -> u16 {
        let face = self.face(f);
        face.glyph_index(c)
            .or_else(|| face.glyph_index('?'))
            .map(|g| g.0)
            .unwrap_or(0)
    }

    /// The advance of a glyph in thousandths of the font size.
    fn advance(&self, f: Face, glyph: u16) -> f32 {
        let face = self.face(f);
        let units = face
            .glyph_hor_advance(ttf_parser::GlyphId(glyph))
            .unwrap_or(0) as f32;
        units * 1000.0 / face.units_per_em() as f32
    }

    fn width(&self, style: &Style, text: &str) -> f32 {
        text.chars()
            .map(|c| self.advance(style.face, self.glyph(style.face, c)))
            .sum::<f32>()
            * style.size
            / 1000.0
    }

    fn ascent(&self, style: &Style) -> f32 {
        let face = self.face(style.face);
        face.ascender() as f32 / face.units_per_em() as f32 * style.size
    }
}

enum Op {
    Text {
        face: Face,
        size: f32,
        x: f32,
        baseline: f32,
        text: String,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
    },
    Fill {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
    /// A white rectangle: covers what is under it (a draft's words rewritten by a stamp).
    Clear {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

/// A line of a column block: its style, its text (`\n` where it must break), and the rule under
/// it as a share of its widest line (Decree 30: the whole motto, a third to a half of an agency's
/// name), centred; `0.0` for none.
pub type ColumnLine = (Style, String, f32);

/// A cell of a [`Table`].
pub struct Cell {
    pub text: String,
    pub style: Style,
}

impl Cell {
    pub fn new(text: impl Into<String>, style: Style) -> Cell {
        Cell {
            text: text.into(),
            style,
        }
    }
}

/// A bordered table. `widths` are relative; the table spans the text width.
pub struct Table {
    pub widths: Vec<f32>,
    pub header: Vec<Cell>,
    pub rows: Vec<Vec<Cell>>,
}

/// A document being laid out, page by page.
pub struct Document {
    fonts: Fonts,
    pages: Vec<Vec<Op>>,
    title: String,
    /// Left, top, right, bottom margins in points.
    pub margins: (f32, f32, f32, f32),
    y: f32,
    width: f32,
    height: f32,
}

impl Document {
    /// A document with the margins of an administrative document (Decree 30/2020: left 30 mm,
    /// right 15 mm, top and bottom 20 mm).
    pub fn new(title: &str) -> Document {
        Document {
            fonts: Fonts::load(),
            pages: vec![Vec::new()],
            title: title.nfc().collect(),
            margins: (mm(30.0), mm(20.0), mm(15.0), mm(20.0)),
            y: mm(20.0),
            width: PAGE_WIDTH,
            height: PAGE_HEIGHT,
        }
    }

    /// A page of any size (an overlay for a page of an existing PDF), without margins.
    pub fn sized(title: &str, width: f32, height: f32) -> Document {
        Document {
            margins: (0.0, 0.0, 0.0, 0.0),
            y: 0.0,
            width,
            height,
            ..Document::new(title)
        }
    }

    /// A4 landscape (registers with many columns), with 15 mm margins all round.
    pub fn landscape(title: &str) -> Document {
        Document {
            margins: (mm(15.0), mm(15.0), mm(15.0), mm(15.0)),
            y: mm(15.0),
            width: PAGE_HEIGHT,
            height: PAGE_WIDTH,
            ..Document::new(title)
        }
    }

    /// The page width in points.
    pub fn page_width(&self) -> f32 {
        self.width
    }

    fn left(&self) -> f32 {
        self.margins.0
    }

    fn right(&self) -> f32 {
        self.width - self.margins.2
    }

    /// The width text may take.
    pub fn text_width(&self) -> f32 {
        self.right() - self.left()
    }

    /// The cursor, in points from the top of the page.
    pub fn y(&self) -> f32 {
        self.y
    }

    pub fn set_y(&mut self, y: f32) {
        self.y = y;
    }

    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a document has a page")
    }

    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = self.margins.1;
    }

    /// Starts a new page when `height` does not fit below the cursor.
    pub fn ensure(&mut self, height: f32) {
        if self.y + height > self.height - self.margins.3 {
            self.new_page();
        }
    }

    pub fn space(&mut self, points: f32) {
        self.y += points;
    }

    /// The width of `text` in `style`.
    pub fn measure(&self, style: &Style, text: &str) -> f32 {
        self.fonts.width(style, &text.nfc().collect::<String>())
    }

    /// Breaks text into lines no wider than `width` (words longer than a line are cut).
    pub fn wrap(&self, style: &Style, text: &str, width: f32) -> Vec<String> {
        let text: String = text.nfc().collect();
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if self.fonts.width(style, &candidate) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the line is cut: after a hyphen or a slash if it has one
                // (codes, numbers), otherwise where it must be.
                let mut piece = String::new();
                for c in word.chars() {
                    piece.push(c);
                    if self.fonts.width(style, &piece) > width && piece.chars().count() > 1 {
                        piece.pop();
                        let cut = piece
                            .char_indices()
                            .filter(|(i, ch)| (*ch == '-' || *ch == '/') && *i + 1 < piece.len())
                            .map(|(i, ch)| i + ch.len_utf8())
                            .next_back();
                        match cut {
                            Some(at) => {
                                let rest = piece.split_off(at);
                                lines.push(std::mem::replace(&mut piece, rest));
                            }
                            None => lines.push(std::mem::take(&mut piece)),
                        }
                        piece.push(c);
                    }
                }
                line = piece;
            }
            lines.push(line);
        }
        lines
    }

    /// Writes one line at an absolute position; `x` is the left edge, the centre or the right
    /// edge depending on the alignment. `top` is the top of the line box.
    pub fn text_at(&mut self, x: f32, top: f32, style: &Style, text: &str) {
        let text: String = text.nfc().collect();
        let w = self.fonts.width(style, &text);
        let x = match style.align {
            Align::Left => x,
            Align::Center => x - w / 2.0,
            Align::Right => x - w,
        };
        let baseline = top + self.fonts.ascent(style);
        self.ops().push(Op::Text {
            face: style.face,
            size: style.size,
            x,
            baseline,
            text,
        });
    }

    /// Writes one line on a baseline `baseline` points from the top of the page.
    /// A white rectangle, `top` and the size measured like text (from the top of the page).
    pub fn clear(&mut self, x: f32, top: f32, w: f32, h: f32) {
        self.ops().push(Op::Clear { x, y: top, w, h });
    }

    pub fn text_on_baseline(&mut self, x: f32, baseline: f32, style: &Style, text: &str) {
        let top = baseline - self.fonts.ascent(style);
        self.text_at(x, top, style, text);
    }

    /// A paragraph across the text width, wrapped, moving the cursor below it.
    pub fn paragraph(&mut self, style: &Style, text: &str) {
        self.paragraph_in(self.left(), self.right(), style, text);
    }

    /// A paragraph between two x positions.
    pub fn paragraph_in(&mut self, left: f32, right: f32, style: &Style, text: &str) {
        for line in self.wrap(style, text, right - left) {
            self.ensure(style.line_height());
            let x = match style.align {
                Align::Left => left,
                Align::Center => (left + right) / 2.0,
                Align::Right => right,
            };
            let y = self.y;
            self.text_at(x, y, style, &line);
            self.y += style.line_height();
        }
    }

    /// A label in one face followed by a value in another, wrapped as one paragraph
    /// ("Họ và tên: Lê Thị Hồng"). The value continues on the label's line.
    pub fn labelled(&mut self, label: &str, label_style: &Style, value: &str, value_style: &Style) {
        let label: String = label.nfc().collect();
        let lw = self.fonts.width(label_style, &label) + self.fonts.width(value_style, " ");
        let width = self.text_width();
        let first = self.wrap(value_style, value, width - lw);
        let first_line = first.first().cloned().unwrap_or_default();
        self.ensure(value_style.line_height());
        let (x, y) = (self.left(), self.y);
        self.text_at(
            x,
            y,
            &Style {
                align: Align::Left,
                ..*label_style
            },
            &label,
        );
        self.text_at(
            x + lw,
            y,
            &Style {
                align: Align::Left,
                ..*value_style
            },
            &first_line,
        );
        self.y += value_style.line_height();
        // The rest of the value wraps under the whole width.
        let consumed = first_line.chars().count();
        let rest: String = value.nfc().skip(consumed).collect();
        let rest = rest.trim();
        if !rest.is_empty() {
            self.paragraph(
                &Style {
                    align: Align::Left,
                    ..*value_style
                },
                rest,
            );
        }
    }

    /// Side-by-side blocks of centred lines (the header of a form: the issuing agency on the
    /// left, the national motto on the right). `underline` draws a short rule under a line,
    /// as under the motto. Returns nothing; the cursor moves below the tallest block.
    pub fn columns(&mut self, blocks: &[(f32, Vec<ColumnLine>)]) {
        let total: f32 = blocks.iter().map(|b| b.0).sum();
        let mut x = self.left();
        let start = self.y;
        let mut bottom = start;
        for (share, lines) in blocks {
            let w = self.text_width() * share / total;
            let mut y = start;
            for (style, text, rule) in lines {
                let wrapped = self.wrap(style, text, w);
                let mut widest: f32 = 0.0;
                for line in &wrapped {
                    let s = Style {
                        align: Align::Center,
                        ..*style
                    };
                    self.text_at(x + w / 2.0, y, &s, line);
                    widest = widest.max(self.fonts.width(style, line));
                    y += style.line_height();
                }
                if *rule > 0.0 {
                    let lw = widest * rule;
                    let cx = x + w / 2.0;
                    self.ops().push(Op::Line {
                        x1: cx - lw / 2.0,
                        y1: y - style.size * 0.12,
                        x2: cx + lw / 2.0,
                        y2: y - style.size * 0.12,
                        width: 0.6,
                    });
                    y += style.size * 0.2;
                }
            }
            bottom = bottom.max(y);
            x += w;
        }
        self.y = bottom;
    }

    /// A horizontal rule.
    pub fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32) {
        self.ops().push(Op::Line {
            x1,
            y1: y,
            x2,
            y2: y,
            width,
        });
    }

    /// A bordered table across the text width. The header repeats on every page it spans.
    pub fn table(&mut self, t: &Table) {
        let total: f32 = t.widths.iter().sum();
        let widths: Vec<f32> = t
            .widths
            .iter()
            .map(|w| self.text_width() * w / total)
            .collect();
        let pad = 3.0;
        let layout = |doc: &Document, row: &[Cell]| -> (Vec<Vec<String>>, f32) {
            let mut cells = Vec::new();
            let mut h: f32 = 0.0;
            for (c, w) in row.iter().zip(&widths) {
                let lines = doc.wrap(&c.style, &c.text, w - 2.0 * pad);
                h = h.max(lines.len() as f32 * c.style.line_height());
                cells.push(lines);
            }
            (cells, h + 2.0 * pad)
        };
        let draw = |doc: &mut Document, row: &[Cell], cells: &[Vec<String>], h: f32| {
            let top = doc.y;
            let mut x = doc.left();
            for ((c, lines), w) in row.iter().zip(cells).zip(&widths) {
                let mut y = top + pad;
                for line in lines {
                    let ax = match c.style.align {
                        Align::Left => x + pad,
                        Align::Center => x + w / 2.0,
                        Align::Right => x + w - pad,
                    };
                    doc.text_at(ax, y, &c.style, line);
                    y += c.style.line_height();
                }
                x += w;
            }
            // Borders: the row's box and its column separators.
            let (l, r) = (doc.left(), doc.right());
            doc.rule(l, r, top, 0.6);
            doc.rule(l, r, top + h, 0.6);
            let mut x = l;
            for w in std::iter::once(&0.0).chain(widths.iter()) {
                x += w;
                doc.ops().push(Op::Line {
                    x1: x,
                    y1: top,
                    x2: x,
                    y2: top + h,
                    width: 0.6,
                });
            }
            doc.y = top + h;
        };
        let (hcells, hh) = layout(self, &t.header);
        self.ensure(hh * 2.0);
        draw(self, &t.header, &hcells, hh);
        for row in &t.rows {
            let (cells, h) = layout(self, row);
            if self.y + h > self.height - self.margins.3 {
                self.new_page();
                draw(self, &t.header, &hcells, hh);
            }
            draw(self, row, &cells, h);
        }
    }

    /// A QR code (error correction M) of `side` points at the given top-left corner.
    pub fn qr(&mut self, data: &str, x: f32, top: f32, side: f32) -> Result<(), String> {
        let code = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M)
            .map_err(|e| e.to_string())?;
        let n = code.width();
        let colors = code.to_colors();
        // Four modules of quiet zone on every side.
        let module = side / (n as f32 + 8.0);
        for row in 0..n {
            let mut col = 0;
            while col < n {
                if colors[row * n + col] == qrcode::Color::Dark {
                    let start = col;
                    while col < n && colors[row * n + col] == qrcode::Color::Dark {
                        col += 1;
                    }
                    self.ops().push(Op::Fill {
                        x: x + (start as f32 + 4.0) * module,
                        y: top + (row as f32 + 4.0) * module,
                        w: (col - start) as f32 * module,
                        h: module,
                    });
                } else {
                    col += 1;
                }
            }
        }
        Ok(())
    }

    /// Writes the PDF.
    pub fn finish(self) -> Vec<u8> {
        let fonts = &self.fonts;
        let (page_w, page_h) = (self.width, self.height);
        // The glyphs each face needs, with the text each stands for.
        let mut used: [BTreeMap<u16, char>; 3] = Default::default();
        for page in &self.pages {
            for op in page {
                if let Op::Text { face, text, .. } = op {
                    for c in text.chars() {
                        used[face.index()].entry(fonts.glyph(*face, c)).or_insert(c);
                    }
                }
            }
        }
        let mut remappers: Vec<subsetter::GlyphRemapper> = Vec::new();
        for u in &used {
            let mut r = subsetter::GlyphRemapper::new();
            for g in u.keys() {
                r.remap(*g);
            }
            remappers.push(r);
        }

        let mut pdf = Pdf::new();
        let mut next = 1;
        let mut alloc = || {
            let r = Ref::new(next);
            next += 1;
            r
        };
        let catalog = alloc();
        let tree = alloc();
        let info = alloc();
        let font_refs: Vec<Ref> = Face::ALL.iter().map(|_| alloc()).collect();
        let page_refs: Vec<(Ref, Ref)> = self.pages.iter().map(|_| (alloc(), alloc())).collect();

        pdf.catalog(catalog).pages(tree).lang(TextStr("vi"));
        pdf.pages(tree)
            .kids(page_refs.iter().map(|p| p.0))
            .count(page_refs.len() as i32);
        pdf.document_info(info)
            .title(TextStr(&self.title))
            .producer(TextStr("egov"));

        for (i, page) in self.pages.iter().enumerate() {
            let (page_ref, content_ref) = page_refs[i];
            let mut content = Content::new();
            for op in page {
                match op {
                    Op::Text {
                        face,
                        size,
                        x,
                        baseline,
                        text,
                    } => {
                        let r = &remappers[face.index()];
                        let mut bytes = Vec::with_capacity(text.len() * 2);
                        for c in text.chars() {
                            let g = r.get(fonts.glyph(*face, c)).unwrap_or(0);
                            bytes.extend_from_slice(&g.to_be_bytes());
                        }
                        content
                            .begin_text()
                            .set_font(Name(face.pdf_name()), *size)
                            .set_text_matrix([1.0, 0.0, 0.0, 1.0, *x, page_h - *baseline])
                            .show(Str(&bytes))
                            .end_text();
                    }
                    Op::Line {
                        x1,
                        y1,
                        x2,
                        y2,
                        width,
                    } => {
                        content
                            .set_line_width(*width)
                            .move_to(*x1, page_h - *y1)
                            .line_to(*x2, page_h - *y2)
                            .stroke();
                    }
                    Op::Fill { x, y, w, h } => {
                        content.rect(*x, page_h - *y - *h, *w, *h).fill_nonzero();
                    }
                    Op::Clear { x, y, w, h } => {
                        content.save_state();
                        content.set_fill_gray(1.0);
                        content.rect(*x, page_h - *y - *h, *w, *h).fill_nonzero();
                        content.restore_state();
                    }
                }
            }
            let data = miniz_oxide::deflate::compress_to_vec_zlib(&content.finish(), 6);
            pdf.stream(content_ref, &data).filter(Filter::FlateDecode);
            let mut p = pdf.page(page_ref);
            p.parent(tree)
                .media_box(Rect::new(0.0, 0.0, page_w, page_h))
                .contents(content_ref);
            let mut res = p.resources();
            let mut f = res.fonts();
            for face in Face::ALL {
                if !used[face.index()].is_empty() {
                    f.pair(Name(face.pdf_name()), font_refs[face.index()]);
                }
            }
        }

        for face in Face::ALL {
            let glyphs = &used[face.index()];
            if glyphs.is_empty() {
                continue;
            }
            let remapper = &remappers[face.index()];
            let ttf = fonts.face(face);
            let scale = 1000.0 / ttf.units_per_em() as f32;
            // A subset tag from the glyph set, so equal documents are byte-identical.
            let mut h: u32 = 2166136261;
            for g in glyphs.keys() {
                h = (h ^ u32::from(*g)).wrapping_mul(16777619);
            }
            let tag: String = (0..6)
                .map(|i| (b'A' + ((h >> (i * 5)) % 26) as u8) as char)
                .collect();
            let base = format!("{tag}+{}", face.postscript());
            let (cid_ref, desc_ref, cmap_ref, file_ref) = (alloc(), alloc(), alloc(), alloc());

            pdf.type0_font(font_refs[face.index()])
                .base_font(Name(base.as_bytes()))
                .encoding_predefined(Name(b"Identity-H"))
                .descendant_font(cid_ref)
                .to_unicode(cmap_ref);

            let mut cid = pdf.cid_font(cid_ref);
            cid.subtype(CidFontType::Type2)
                .base_font(Name(base.as_bytes()))
                .system_info(SystemInfo {
                    registry: Str(b"Adobe"),
                    ordering: Str(b"Identity"),
                    supplement: 0,
                })
                .font_descriptor(desc_ref)
                .default_width(0.0)
                .cid_to_gid_map_predefined(Name(b"Identity"));
            let old: Vec<u16> = remapper.remapped_gids().collect();
            cid.widths()
                .consecutive(0, old.iter().map(|g| fonts.advance(face, *g)));
            cid.finish();

            let bbox = ttf.global_bounding_box();
            let mut flags = FontFlags::SERIF | FontFlags::NON_SYMBOLIC;
            if face == Face::Italic {
                flags |= FontFlags::ITALIC;
            }
            pdf.font_descriptor(desc_ref)
                .name(Name(base.as_bytes()))
                .flags(flags)
                .bbox(Rect::new(
                    bbox.x_min as f32 * scale,
                    bbox.y_min as f32 * scale,
                    bbox.x_max as f32 * scale,
                    bbox.y_max as f32 * scale,
                ))
                .italic_angle(ttf.italic_angle())
                .ascent(ttf.ascender() as f32 * scale)
                .descent(ttf.descender() as f32 * scale)
                .cap_height(ttf.capital_height().unwrap_or(ttf.ascender()) as f32 * scale)
                .stem_v(if face == Face::Bold { 140.0 } else { 80.0 })
                .font_file2(file_ref);

            let mut cmap = UnicodeCmap::new(
                Name(b"Custom"),
                SystemInfo {
                    registry: Str(b"Adobe"),
                    ordering: Str(b"UCS"),
                    supplement: 0,
                },
            );
            for (g, c) in glyphs {
                if let Some(new) = remapper.get(*g) {
                    cmap.pair(new, *c);
                }
            }
            pdf.cmap(cmap_ref, &cmap.finish());

            let subset = subsetter::subset(face.bytes(), 0, remapper)
                .expect("the bundled font can be subsetted");
            let data = miniz_oxide::deflate::compress_to_vec_zlib(&subset, 6);
            pdf.stream(file_ref, &data).filter(Filter::FlateDecode);
        }
        pdf.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_within_the_width() {
        let d = Document::new("t");
        let s = BODY;
        let text = "Ủy ban nhân dân phường Hạc Thành tiếp nhận hồ sơ của bà Lê Thị Hồng";
        let lines = d.wrap(&s, text, 150.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| d.measure(&s, l) <= 150.0));
        assert_eq!(lines.join(" "), text);
        // A word longer than the line is cut, not lost.
        let long = "x".repeat(200);
        assert_eq!(d.wrap(&s, &long, 100.0).concat(), long);
        // Codes break after a hyphen.
        let code = "000.02.90.H56-261125-0001";
        let lines = d.wrap(&s, code, d.measure(&s, "000.02.90.H56-2611"));
        assert_eq!(lines, vec!["000.02.90.H56-", "261125-0001"]);
    }

    #[test]
    fn rules_under_a_letterhead_follow_decree_30() {
        let mut d = Document::new("t");
        let motto = Style::new(Face::Bold, 13.0, Align::Center);
        let name = Style::new(Face::Bold, 12.0, Align::Center);
        d.columns(&[
            (
                1.0,
                vec![(name, "ỦY BAN NHÂN DÂN\nPHƯỜNG HẠC THÀNH".into(), 0.4)],
            ),
            (
                1.35,
                vec![(motto, "Độc lập - Tự do - Hạnh phúc".into(), 1.0)],
            ),
        ]);
        let rules: Vec<f32> = d.pages[0]
            .iter()
            .filter_map(|op| match op {
                Op::Line { x1, x2, .. } => Some(x2 - x1),
                _ => None,
            })
            .collect();
        assert_eq!(
            rules.len(),
            2,
            "one rule under each block, not one per line"
        );
        // Under the motto: as long as its line; under the name: 0.4 of its longest line.
        let motto_w = d.measure(&motto, "Độc lập - Tự do - Hạnh phúc");
        let name_w = d
            .measure(&name, "ỦY BAN NHÂN DÂN")
            .max(d.measure(&name, "PHƯỜNG HẠC THÀNH"));
        assert!((rules[0] - name_w * 0.4).abs() < 0.01, "{rules:?}");
        assert!((rules[1] - motto_w).abs() < 0.01, "{rules:?}");
    }

    #[test]
    fn decomposed_input_is_composed() {
        let d = Document::new("t");
        // "ệ" as e + circumflex + dot below: measured like the single character.
        assert_eq!(d.measure(&BODY, "e\u{0302}\u{0323}"), d.measure(&BODY, "ệ"));
    }

    #[test]
    fn a_document_is_a_pdf() {
        let mut d = Document::new("Giấy tiếp nhận");
        d.paragraph(&BODY, "Cộng hòa xã hội chủ nghĩa Việt Nam");
        d.qr(
            "https://example.invalid/tra-cuu?token=abc",
            mm(150.0),
            mm(20.0),
            mm(25.0),
        )
        .unwrap();
        let bytes = d.finish();
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.windows(9).any(|w| w == b"/FontFile"));
    }
}

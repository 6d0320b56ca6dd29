//! Visible signatures as Decree 30 Appendix I draws them, rendered by poppler (`pdftoppm`) and
//! judged by pyHanko: the signature image above the signer's name, the seal over its left third,
//! and the agency's text block at the top right of an attachment.

mod common;

use common::*;
use egov_pki::appearance::{
    above_name, decode_png, first_visible_signature, image_appearance, seal_over, text_appearance,
    top_right,
};
use egov_pki::sign::sign_with;
use egov_pki::verify::{Status, verify_pdf};

/// A PNG of `w`×`h`: a filled disc (or bar) of `rgb` on a transparent background.
fn png(w: u32, h: u32, rgb: [u8; 3], transparent: bool) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().unwrap();
        let mut data = Vec::with_capacity((w * h * 4) as usize);
        let (cx, cy, r) = (w as f32 / 2.0, h as f32 / 2.0, w.min(h) as f32 / 2.0);
        for y in 0..h {
            for x in 0..w {
                let inside = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt() < r;
                let a = if inside || !transparent { 255 } else { 0 };
                let c = if inside { rgb } else { [255, 255, 255] };
                data.extend_from_slice(&[c[0], c[1], c[2], a]);
            }
        }
        wr.write_image_data(&data).unwrap();
    }
    out
}

fn letter_with_signer(name: &str) -> Vec<u8> {
    let mut d = egov_pdf::Document::new("Công văn");
    let body = egov_pdf::Style::new(egov_pdf::Face::Regular, 13.0, egov_pdf::Align::Left);
    d.text_at(
        egov_pdf::mm(30.0),
        120.0,
        &body,
        "Về việc báo cáo số liệu cán bộ.",
    );
    let bold = egov_pdf::Style::new(egov_pdf::Face::Bold, 13.0, egov_pdf::Align::Center);
    d.text_at(egov_pdf::mm(150.0), 500.0, &bold, "GIÁM ĐỐC");
    d.text_at(egov_pdf::mm(150.0), 620.0, &bold, name);
    d.finish()
}

/// The colour at (x, y) in PDF points (origin bottom left) of page 1 rendered at 72 dpi.
fn pixel(pdf: &[u8], x: f32, y: f32) -> [u8; 3] {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.pdf"), pdf).unwrap();
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "72", "-f", "1", "-l", "1", "-singlefile"])
        .arg(dir.path().join("a.pdf"))
        .arg(dir.path().join("page"))
        .output()
        .expect("pdftoppm (poppler-utils) renders the page");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ppm = std::fs::read(dir.path().join("page.ppm")).unwrap();
    // P6\n<w> <h>\n255\n<data>
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !ppm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&ppm[start..at]).to_string());
    }
    at += 1;
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let (px, py) = (x.round() as usize, h - 1 - (y.round() as usize).min(h - 1));
    let i = at + (py * w + px.min(w - 1)) * 3;
    [ppm[i], ppm[i + 1], ppm[i + 2]]
}

#[test]
fn pngs_are_read_with_their_transparency_and_ink() {
    let p = decode_png(&png(60, 30, [20, 40, 200], true)).unwrap();
    assert!(p.transparent);
    assert!(p.ink[2] > p.ink[0] + 100, "{:?}", p.ink);
    let p = decode_png(&png(40, 40, [210, 20, 20], false)).unwrap();
    assert!(!p.transparent);
    assert!(decode_png(b"GIF89a....").is_err());
}

#[test]
fn the_signature_goes_above_the_name_and_the_seal_over_its_left_third() {
    let p = pki();
    let name = "Lê Văn Giám Đốc";
    let letter = letter_with_signer(name);
    let size = (egov_pdf::mm(40.0), egov_pdf::mm(20.0));
    let (page, rect) = above_name(&letter, name, size)
        .unwrap()
        .expect("the name is found");
    assert_eq!(page, 1);
    let mut req = request(&p.leader_rsa);
    req.appearance = Some(image_appearance(
        page,
        rect,
        decode_png(&png(400, 200, [20, 40, 200], true))
            .unwrap()
            .image,
    ));
    let signed = sign_with(&letter, &req, &p.leader_rsa.key).unwrap();
    let (seal_page, at) = first_visible_signature(&signed).unwrap().expect("visible");
    assert_eq!((seal_page, at), (page, rect));
    let seal_box = seal_over(at, egov_pdf::mm(36.0));
    assert!((seal_box[2] - (rect[0] + (rect[2] - rect[0]) / 3.0)).abs() < 0.01);
    let mut seal = request(&p.seal);
    seal.field_name = Some("Seal".into());
    seal.appearance = Some(image_appearance(
        page,
        seal_box,
        decode_png(&png(300, 300, [210, 20, 20], true))
            .unwrap()
            .image,
    ));
    let sealed = sign_with(&signed, &seal, &p.seal.key).unwrap();
    let report = verify_pdf(&sealed, &trust(), now()).unwrap();
    assert_eq!(report.status, Status::Valid, "{report:#?}");
    let (ok, text) = pyhanko_validate(&sealed);
    assert!(ok && text.contains("judged VALID"), "{text}");

    // Rendered: the signature's right part is blue, the seal's centre red.
    let blue = pixel(
        &sealed,
        rect[2] - (rect[2] - rect[0]) / 3.0,
        (rect[1] + rect[3]) / 2.0,
    );
    assert!(blue[2] > 150 && blue[0] < 100, "{blue:?}");
    let red = pixel(
        &sealed,
        (seal_box[0] + seal_box[2]) / 2.0,
        (seal_box[1] + seal_box[3]) / 2.0,
    );
    assert!(red[0] > 150 && red[2] < 100, "{red:?}");
}

#[test]
fn an_attachment_gets_the_agency_text_at_the_top_right() {
    let p = pki();
    let attachment = sample_pdf();
    let size = (egov_pdf::mm(60.0), egov_pdf::mm(12.0));
    let rect = top_right(&attachment, size).unwrap();
    let mut req = request(&p.seal);
    req.appearance = Some(text_appearance(
        1,
        rect,
        &[
            "Sở Nội vụ tỉnh Thanh Hóa".to_string(),
            "Số: 12/SNV-VP — 25/11/2026 10:31:05 +07:00".to_string(),
        ],
        8.0,
    ));
    let signed = sign_with(&attachment, &req, &p.seal.key).unwrap();
    let report = verify_pdf(&signed, &trust(), now()).unwrap();
    assert_eq!(report.status, Status::Valid, "{report:#?}");
    let (ok, text) = pyhanko_validate(&signed);
    assert!(ok && text.contains("judged VALID"), "{text}");
    // Some ink in the box, none outside it.
    let mut dark = 0;
    for i in 0..40 {
        let x = rect[0] + 4.0 + i as f32 * 3.0;
        let c = pixel(&signed, x, rect[3] - 6.0);
        if c[0] < 128 {
            dark += 1;
        }
    }
    assert!(dark > 3, "no text drawn in the box");
}

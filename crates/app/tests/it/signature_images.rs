//! Signature and seal images: uploaded by their owners, approved by an administrator of the
//! agency, and drawn only in their owner's signatures — the leader's image above their name, the
//! seal at real size over its left third, the agency's text block on each attachment — with
//! every signature still valid for egov and for pyHanko.

use egov_app::signature_images::{ImageKind, UploadImage};
use egov_app::signing::SignaturePosition;
use egov_app::{App, ErrorKind, Settings};
use egov_pki::RawSigner;
use egov_pki::appearance::{first_visible_signature, seal_over};

use super::documents::{actor, agency_of};
use super::signatures::{act, letter_to_the_province, pyhanko_says_valid, to_sign_off};

/// A `w`×`h` PNG: a disc of `rgb` on a transparent background (white and opaque if `opaque`).
fn png(w: u32, h: u32, rgb: [u8; 3], opaque: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let mut data = Vec::with_capacity((w * h * 4) as usize);
    let (cx, cy, r) = (w as f32 / 2.0, h as f32 / 2.0, w.min(h) as f32 / 2.0);
    for y in 0..h {
        for x in 0..w {
            let inside = (x as f32 - cx).hypot(y as f32 - cy) < r;
            let px = match (inside, opaque) {
                (true, _) => [rgb[0], rgb[1], rgb[2], 255],
                (false, true) => [255, 255, 255, 255],
                (false, false) => [255, 255, 255, 0],
            };
            data.extend_from_slice(&px);
        }
    }
    enc.write_header().unwrap().write_image_data(&data).unwrap();
    out
}

fn upload(kind: ImageKind, agency_id: i64, png: Vec<u8>) -> UploadImage {
    UploadImage {
        kind,
        agency_id,
        width_mm: None,
        valid_from: None,
        valid_to: None,
        png,
    }
}

/// A draft with blanks for the number and date and the signer's name under the signature block.
fn draft(signer: &str) -> Vec<u8> {
    use egov_pdf::{Align, Face, Style, mm};
    let mut d = egov_pdf::Document::new("Dự thảo");
    let s = Style::new(Face::Regular, 13.0, Align::Center);
    let bold = Style::new(Face::Bold, 13.0, Align::Center);
    d.text_at(mm(70.0), 60.0, &s, "SỞ NỘI VỤ");
    d.text_at(mm(70.0), 100.0, &s, "Số:        /SNV-VP");
    d.text_at(
        mm(145.0),
        100.0,
        &s,
        "Thanh Hóa, ngày       tháng       năm",
    );
    d.text_at(mm(105.0), 160.0, &s, "Về việc báo cáo số liệu cán bộ");
    d.text_at(mm(150.0), 480.0, &bold, "GIÁM ĐỐC");
    d.text_at(mm(150.0), 600.0, &bold, signer);
    d.finish()
}

/// The demo seeded (with its leaders' and offices' images when `images`) and its PKI in a
/// temporary data directory, leaders' signatures required.
async fn signing_demo(
    db: egov_store::Db,
    images: bool,
) -> (
    tempfile::TempDir,
    std::sync::Arc<App>,
    egov_app::signing::DemoPki,
) {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    };
    let first = App::with_db(db.clone(), settings.clone());
    first.seed_demo().await.unwrap();
    if images {
        first.demo_images().await.unwrap();
    }
    let pki = first
        .demo_pki(&dir.path().join("pki"), egov_pki::KeyAlgorithm::EcdsaP256)
        .await
        .unwrap();
    let mut settings = settings;
    settings.signatures = egov_app::settings::Signatures {
        leader_signature: egov_app::settings::LeaderSignature::Required,
        ..pki.settings.clone()
    };
    (dir, App::with_db(db, settings), pki)
}

/// How many pixels inside `rect` (PDF points, origin bottom left) of page 1, rendered by
/// poppler at 72 dpi, satisfy `ink`.
fn count_pixels(pdf: &[u8], rect: [f32; 4], ink: impl Fn([u8; 3]) -> bool) -> usize {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.pdf"), pdf).unwrap();
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "72", "-f", "1", "-l", "1", "-singlefile", "-png"])
        .arg(dir.path().join("p.pdf"))
        .arg(dir.path().join("p"))
        .output()
        .expect("pdftoppm (poppler-utils) renders the page");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(dir.path().join("p.png")).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    assert_eq!(frame.color_type, png::ColorType::Rgb);
    let (w, h) = (frame.width as usize, frame.height as usize);
    let mut n = 0;
    for y in (rect[1].max(0.0) as usize)..(rect[3] as usize).min(h) {
        for x in (rect[0].max(0.0) as usize)..(rect[2] as usize).min(w) {
            let i = ((h - 1 - y) * w + x) * 3;
            if ink([buf[i], buf[i + 1], buf[i + 2]]) {
                n += 1;
            }
        }
    }
    n
}

both!(
    images_are_approved_and_drawn_in_their_owners_signatures,
    |db| {
        let (dir, app, pki) = signing_demo(db, false).await;
        let app = &app;
        let snv = agency_of(app, "chuyenvien.snv").await;
        let tinh = agency_of(app, "vanthu.tinh").await;
        let leader = actor(app, "giamdoc.snv").await;
        let deputy = actor(app, "phogiamdoc.snv").await;
        let clerk = actor(app, "vanthu.snv").await;
        let admin = actor(app, "quantri.snv").await;
        let blue = png(300, 120, [20, 40, 190], false);
        let red = png(200, 200, [210, 25, 30], false);

        // What is not a transparent PNG of the right ink is refused, with the reason.
        let cases = [
            (
                ImageKind::Signature,
                b"\xff\xd8\xff\xe0 JFIF".to_vec(),
                "image_not_png",
            ),
            (
                ImageKind::Signature,
                png(300, 120, [20, 40, 190], true),
                "image_not_transparent",
            ),
            (ImageKind::Signature, red.clone(), "image_not_blue"),
            (ImageKind::Seal, blue.clone(), "image_not_red"),
            (ImageKind::Signature, vec![0x89; 3 << 20], "image_too_large"),
        ];
        for (kind, bytes, code) in cases {
            let who = if kind == ImageKind::Seal {
                &clerk
            } else {
                &leader
            };
            let e = app
                .upload_signature_image(who, upload(kind, snv, bytes))
                .await
                .unwrap_err();
            assert_eq!(e.code, code);
        }
        let mut wide = upload(ImageKind::Seal, snv, red.clone());
        wide.width_mm = Some(120.0);
        let e = app.upload_signature_image(&clerk, wide).await.unwrap_err();
        assert_eq!(e.code, "image_size_invalid");
        let mut ended = upload(ImageKind::Signature, snv, blue.clone());
        ended.valid_to = Some(time::macros::date!(2020 - 01 - 01));
        let e = app
            .upload_signature_image(&leader, ended)
            .await
            .unwrap_err();
        assert_eq!(e.code, "validity_invalid");
        // A seal is the records office's; a signature is uploaded in one's own agency.
        let e = app
            .upload_signature_image(&leader, upload(ImageKind::Seal, snv, red.clone()))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden);
        let e = app
            .upload_signature_image(&leader, upload(ImageKind::Signature, tinh, blue.clone()))
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden);

        // Uploaded, then decided by the agency's administrator only; a decision is final.
        let sig = app
            .upload_signature_image(&leader, upload(ImageKind::Signature, snv, blue.clone()))
            .await
            .unwrap();
        assert_eq!((sig.state.as_str(), sig.width_mm), ("pending", 40.0));
        let seal = app
            .upload_signature_image(&clerk, upload(ImageKind::Seal, snv, red.clone()))
            .await
            .unwrap();
        assert_eq!((seal.person_id, seal.width_mm), (None, 36.0));
        let e = app
            .decide_signature_image(&leader, sig.id, true, "")
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden);
        let e = app
            .decide_signature_image(&admin, sig.id, false, " ")
            .await
            .unwrap_err();
        assert_eq!(e.code, "reason_required");
        let row = app
            .decide_signature_image(&admin, sig.id, true, "")
            .await
            .unwrap();
        assert_eq!(row.state, "approved");
        let e = app
            .decide_signature_image(&admin, sig.id, false, "đổi ý")
            .await
            .unwrap_err();
        assert_eq!(e.code, "image_decided");
        app.decide_signature_image(&admin, seal.id, true, "")
            .await
            .unwrap();
        // The owner and the administrator see the image; a colleague does not.
        assert_eq!(
            app.signature_image_png(&leader, sig.id).await.unwrap().1,
            blue
        );
        assert!(app.signature_image_png(&admin, sig.id).await.is_ok());
        let e = app.signature_image_png(&deputy, sig.id).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden);
        let listed: Vec<i64> = app
            .signature_images(&admin)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert!(
            listed.contains(&sig.id) && listed.contains(&seal.id),
            "{listed:?}"
        );
        assert!(app.signature_images(&deputy).await.unwrap().is_empty());

        // A letter with the leader's name under the signature block and an attachment.
        let leader_name = egov_store::people::get(&mut app.db(), leader.person_id.unwrap())
            .await
            .unwrap()
            .full_name;
        let d = letter_to_the_province(
            app,
            vec![
                ("main", "du-thao.pdf", draft(&leader_name)),
                ("attachment", "phu-luc.pdf", crate::documents::pdf()),
            ],
        )
        .await;
        let d = to_sign_off(app, d).await;
        let notation = d.notation.clone().unwrap();

        // The leader's image goes above their name; a position off the page is refused.
        let (_, chain_file, key_file) = pki.people.iter().find(|p| p.0 == "giamdoc.snv").unwrap();
        let chain = std::fs::read_to_string(chain_file).unwrap();
        let kek = std::fs::read_to_string(dir.path().join("pki/kek")).unwrap();
        let key = egov_pki::FileKey::from_pem(
            &std::fs::read_to_string(key_file).unwrap(),
            Some(kek.trim().as_bytes()),
        )
        .unwrap();
        let rid = app.signatures_waiting(&leader).await.unwrap()[0].id;
        let off_page = SignaturePosition {
            page: 3,
            x_mm: 20.0,
            y_mm: 20.0,
        };
        let e = app
            .prepare_signature(&leader, rid, &chain, Some(off_page))
            .await
            .unwrap_err();
        assert_eq!(e.code, "signature_position_invalid");
        let to_sign = app
            .prepare_signature(&leader, rid, &chain, None)
            .await
            .unwrap();
        assert_eq!(to_sign.appearance, "above_name");
        use base64::Engine;
        let dtbs = base64::engine::general_purpose::STANDARD
            .decode(&to_sign.data_to_be_signed)
            .unwrap();
        let verdict = app
            .complete_signature(&leader, rid, &key.sign(&dtbs).unwrap())
            .await
            .unwrap();
        assert_eq!(verdict.status, "valid", "{}", verdict.report);

        // The clerk issues: the seal over the signature's left third, text on the attachment.
        let d = egov_store::documents::get_document(&mut app.db(), d.id)
            .await
            .unwrap();
        let d = app
            .act_on_document(&clerk, d.id, act("issue", d.version))
            .await
            .unwrap();
        let issued = app.read_blob(d.main_sha.as_ref().unwrap()).await.unwrap();
        let report = app.verify_pdf(issued.clone()).await.unwrap();
        assert_eq!(report.status, egov_pki::Status::Valid, "{report:#?}");
        assert_eq!(report.signatures.len(), 2);
        let (page, rect) = first_visible_signature(&issued).unwrap().expect("visible");
        assert_eq!(page, 1);
        let width = rect[2] - rect[0];
        assert!((width - egov_pdf::mm(40.0)).abs() < 0.5, "{rect:?}");
        let seal_box = seal_over(rect, egov_pdf::mm(36.0));
        let blue_px = count_pixels(&issued, rect, |c| c[2] > 150 && c[0] < 100);
        let red_px = count_pixels(&issued, seal_box, |c| {
            c[0] > 150 && c[1] < 100 && c[2] < 100
        });
        assert!(
            blue_px > 200,
            "the signature image is drawn ({blue_px} blue pixels)"
        );
        assert!(
            red_px > 500,
            "the seal image is drawn ({red_px} red pixels)"
        );
        let events = egov_store::documents::events(&mut app.db(), d.id)
            .await
            .unwrap();
        let issue = events.iter().find(|e| e.event == "issue").unwrap();
        let data: serde_json::Value = serde_json::from_str(&issue.data_json).unwrap();
        assert_eq!(data["seal"]["seal_image"], "over_signature", "{data}");
        assert_eq!(data["seal"]["attachments"][0]["verdict"], "valid", "{data}");

        let attachment = egov_store::documents::attachments(&mut app.db(), d.id)
            .await
            .unwrap()
            .into_iter()
            .find(|a| a.role == "attachment")
            .unwrap();
        let sealed_attachment = app.read_blob(&attachment.sha256).await.unwrap();
        let report = app.verify_pdf(sealed_attachment.clone()).await.unwrap();
        assert_eq!(report.status, egov_pki::Status::Valid, "{report:#?}");
        assert!(
            report.signatures[0]
                .signer
                .as_deref()
                .is_some_and(|s| s.contains("Sở Nội vụ")),
            "{report:#?}"
        );
        let text_file = dir.path().join("attachment.pdf");
        std::fs::write(&text_file, &sealed_attachment).unwrap();
        let out = std::process::Command::new("pdftotext")
            .arg(&text_file)
            .arg("-")
            .output()
            .expect("pdftotext runs (poppler-utils)");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("Số, ký hiệu: {notation}")), "{text}");
        assert!(text.contains("+07:00"), "{text}");

        // pyHanko judges the issued document and the attachment intact and trusted.
        for (name, bytes) in [
            ("issued.pdf", &issued),
            ("attachment.pdf", &sealed_attachment),
        ] {
            let file = dir.path().join(name);
            std::fs::write(&file, bytes).unwrap();
            pyhanko_says_valid(&file, &dir.path().join("pki/root.pem"));
        }

        // Withdrawn, the image is no longer used.
        app.withdraw_signature_image(&leader, sig.id).await.unwrap();
        let in_use = egov_store::signature_images::in_use(
            &mut app.db(),
            "signature",
            leader.person_id,
            snv,
            egov_store::now(),
        )
        .await
        .unwrap();
        assert!(in_use.is_none());
        let e = app
            .withdraw_signature_image(&deputy, seal.id)
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden);
    }
);

both!(
    the_demo_has_approved_images_for_its_leaders_and_offices,
    |db| {
        let app = crate::app(db);
        app.seed_demo().await.unwrap();
        let made = app.demo_images().await.unwrap();
        assert!(made >= 4, "{made}");
        // Run again (egov demo on an existing data directory): nothing new.
        assert_eq!(app.demo_images().await.unwrap(), 0);
        let snv = agency_of(&app, "vanthu.snv").await;
        let leader = actor(&app, "giamdoc.snv").await;
        let now = egov_store::now();
        let mut ex = app.db();
        let seal = egov_store::signature_images::in_use(&mut ex, "seal", None, snv, now)
            .await
            .unwrap()
            .expect("the records office's seal");
        let sig =
            egov_store::signature_images::in_use(&mut ex, "signature", leader.person_id, snv, now)
                .await
                .unwrap()
                .expect("the leader's signature");
        assert_eq!(
            (seal.state.as_str(), sig.state.as_str()),
            ("approved", "approved")
        );
        // The drawn images pass the checks an upload gets.
        for (kind, row) in [(ImageKind::Seal, seal), (ImageKind::Signature, sig)] {
            let bytes = app.read_blob(&row.sha256).await.unwrap();
            egov_app::signature_images::check_image(kind, &bytes).unwrap();
        }
    }
);

both!(
    without_the_signers_name_the_signature_goes_to_the_last_pages_signature_block,
    |db| {
        let (dir, app, pki) = signing_demo(db, true).await;
        let app = &app;
        let leader = actor(app, "giamdoc.snv").await;
        let clerk = actor(app, "vanthu.snv").await;
        // A draft whose signature block does not carry the leader's name.
        let d = letter_to_the_province(
            app,
            vec![("main", "du-thao.pdf", draft("Người ký chưa ghi tên"))],
        )
        .await;
        let d = to_sign_off(app, d).await;
        let rid = app.signatures_waiting(&leader).await.unwrap()[0].id;
        // Told before signing where it goes.
        assert_eq!(
            app.signature_placement(&leader, rid).await.unwrap(),
            ("last_page".to_owned(), Some(1))
        );
        let (_, chain_file, key_file) = pki.people.iter().find(|p| p.0 == "giamdoc.snv").unwrap();
        let chain = std::fs::read_to_string(chain_file).unwrap();
        let kek = std::fs::read_to_string(dir.path().join("pki/kek")).unwrap();
        let key = egov_pki::FileKey::from_pem(
            &std::fs::read_to_string(key_file).unwrap(),
            Some(kek.trim().as_bytes()),
        )
        .unwrap();
        let to_sign = app
            .prepare_signature(&leader, rid, &chain, None)
            .await
            .unwrap();
        assert_eq!(to_sign.appearance, "last_page");
        use base64::Engine;
        let dtbs = base64::engine::general_purpose::STANDARD
            .decode(&to_sign.data_to_be_signed)
            .unwrap();
        let verdict = app
            .complete_signature(&leader, rid, &key.sign(&dtbs).unwrap())
            .await
            .unwrap();
        assert_eq!(verdict.status, "valid", "{}", verdict.report);
        let d = egov_store::documents::get_document(&mut app.db(), d.id)
            .await
            .unwrap();
        let signed = app.read_blob(d.main_sha.as_ref().unwrap()).await.unwrap();
        // Visible, in the right half of the page, below the last line of text, on the page.
        let (page, rect) = first_visible_signature(&signed).unwrap().expect("visible");
        let a4_width = egov_pdf::mm(210.0);
        assert_eq!(page, 1);
        assert!(rect[0] > a4_width / 2.0 && rect[2] <= a4_width, "{rect:?}");
        assert!(
            rect[1] >= egov_pdf::mm(19.0),
            "{rect:?} above the bottom margin"
        );
        let blue = count_pixels(&signed, rect, |c| c[2] > 150 && c[0] < 100);
        assert!(
            blue > 20,
            "the signature image is drawn ({blue} blue pixels)"
        );
        // The seal at issue goes over it too.
        let d = app
            .act_on_document(&clerk, d.id, act("issue", d.version))
            .await
            .unwrap();
        let issued = app.read_blob(d.main_sha.as_ref().unwrap()).await.unwrap();
        let seal = seal_over(rect, egov_pdf::mm(36.0));
        let red = count_pixels(&issued, seal, |c| c[0] > 150 && c[1] < 100 && c[2] < 100);
        assert!(
            red > 20,
            "the seal is drawn over the signature ({red} red pixels)"
        );
    }
);

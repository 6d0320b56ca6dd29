//! Poppler, an independent PDF reader, extracts our text and lists our fonts as embedded.
//! Needs `pdftotext` and `pdffonts` (Debian: poppler-utils; the test command installs them).

use egov_pdf::{Align, BODY, Cell, Document, Face, Style, Table, mm};

pub fn poppler(tool: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{tool} is needed for this test (apt-get install poppler-utils): {e}")
        });
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn vietnamese_text_survives_and_fonts_are_embedded() {
    let all_vietnamese =
        "ĂẮẰẲẴẶăắằẳẵặÂẤẦẨẪẬâấầẩẫậĐđÊẾỀỂỄỆêếềểễệÔỐỒỔỖỘôốồổỗộƠỚỜỞỠỢơớờởỡợƯỨỪỬỮỰưứừửữựÝỲỶỸỴýỳỷỹỵ";
    let mut d = Document::new("Thử nghiệm");
    d.columns(&[
        (
            1.0,
            vec![(
                Style::new(Face::Regular, 12.0, Align::Center),
                "ỦY BAN NHÂN DÂN".into(),
                0.0,
            )],
        ),
        (
            1.4,
            vec![
                (
                    Style::new(Face::Bold, 12.0, Align::Center),
                    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(),
                    0.0,
                ),
                (
                    Style::new(Face::Bold, 13.0, Align::Center),
                    "Độc lập - Tự do - Hạnh phúc".into(),
                    1.0,
                ),
            ],
        ),
    ]);
    d.paragraph(&BODY, all_vietnamese);
    // Decomposed input (as some keyboards send it) comes out composed.
    d.paragraph(
        &Style::new(Face::Italic, 13.0, Align::Left),
        "Nguye\u{0302}\u{0303}n Thi\u{0323} Hoa",
    );
    d.table(&Table {
        widths: vec![1.0, 4.0],
        header: vec![
            Cell::new("STT", Style::new(Face::Bold, 12.0, Align::Center)),
            Cell::new("Tên giấy tờ", Style::new(Face::Bold, 12.0, Align::Center)),
        ],
        rows: (1..=60)
            .map(|i| {
                vec![
                    Cell::new(i.to_string(), BODY),
                    Cell::new(format!("Giấy tờ số {i}"), BODY),
                ]
            })
            .collect(),
    });
    d.qr(
        "https://egov.example/tra-cuu?token=xyz",
        mm(160.0),
        mm(20.0),
        mm(25.0),
    )
    .unwrap();
    assert!(d.pages() >= 2, "the table spans pages");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.pdf");
    std::fs::write(&path, d.finish()).unwrap();
    let p = path.to_str().unwrap();
    let text = poppler("pdftotext", &["-enc", "UTF-8", p, "-"]);
    // The long run of letters is one word wider than a line: it is cut, not lost.
    assert!(text.replace('\n', "").contains(all_vietnamese), "{text}");
    assert!(text.contains("Nguyễn Thị Hoa"));
    assert!(text.contains("Độc lập - Tự do - Hạnh phúc"));
    assert!(text.contains("Giấy tờ số 60"));
    let fonts = poppler("pdffonts", &[p]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 3, "{fonts}");
    for r in rows {
        assert!(r.contains("LiberationSerif"), "{r}");
        assert!(r.contains("CID TrueType"), "{r}");
        let cols: Vec<&str> = r.split_whitespace().collect();
        // name type… encoding emb sub uni object ID
        let n = cols.len();
        assert_eq!(
            &cols[n - 5..n - 2],
            &["yes", "yes", "yes"],
            "embedded, subset, with Unicode: {r}"
        );
    }
    let info = poppler("pdfinfo", &[p]);
    assert!(info.contains("595.28 x 841.89 pts (A4)"), "{info}");
}

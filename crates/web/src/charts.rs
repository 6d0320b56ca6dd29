//! Charts drawn on the server as SVG: no script, no external files; each has a title and a
//! description for screen readers, and the page shows the same figures as a table beside it.

/// Text made safe inside SVG markup.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Vertical bars of percentages (0–100), one per label; a missing value draws no bar.
pub fn percent_bars(title: &str, bars: &[(String, Option<f64>)]) -> String {
    let (w, h, left, bottom) = (640.0, 220.0, 36.0, 28.0);
    let n = bars.len().max(1) as f64;
    let slot = (w - left) / n;
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        esc(title),
        esc(title)
    );
    for pct in [0, 50, 100] {
        let y = (h - bottom) * (1.0 - f64::from(pct) / 100.0) + 4.0;
        out.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{w}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#b1b4b6\" stroke-width=\"1\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#505a5f\">{pct}%</text>",
            left - 4.0,
            y + 4.0
        ));
    }
    for (i, (label, v)) in bars.iter().enumerate() {
        let x = left + slot * i as f64 + slot * 0.15;
        if let Some(v) = v {
            let bh = (h - bottom) * v.clamp(0.0, 100.0) / 100.0;
            out.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#1d70b8\">\
                 <title>{}: {v:.2}%</title></rect>",
                h - bottom + 4.0 - bh,
                slot * 0.7,
                esc(label)
            ));
        }
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#0b0c0c\">{}</text>",
            x + slot * 0.35,
            h - 8.0,
            esc(label.get(2..).unwrap_or(label))
        ));
    }
    out.push_str("</svg>");
    out
}

/// One horizontal bar split into shares (label, count, colour).
pub fn shares(title: &str, parts: &[(String, i64, &str)]) -> String {
    let total: i64 = parts.iter().map(|p| p.1).sum();
    let (w, h) = (640.0, 40.0);
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        esc(title),
        esc(title)
    );
    let mut x = 0.0;
    for (label, n, colour) in parts {
        if total == 0 || *n == 0 {
            continue;
        }
        let pw = w * *n as f64 / total as f64;
        out.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"0\" width=\"{pw:.1}\" height=\"{h}\" fill=\"{colour}\"><title>{}: {n}</title></rect>",
            esc(label)
        ));
        x += pw;
    }
    if total == 0 {
        out.push_str(&format!(
            "<rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#f3f2f1\"/>"
        ));
    }
    out.push_str("</svg>");
    out
}

/// A heat map: one square per agency, darker the larger its share of overdue open dossiers.
pub fn heat_map(title: &str, cells: &[(String, i64, i64)]) -> String {
    let per_row = 12usize;
    let size = 50.0;
    let rows = cells.len().div_ceil(per_row).max(1);
    let (w, h) = (per_row as f64 * size, rows as f64 * size);
    let mut out = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        esc(title),
        esc(title)
    );
    for (i, (name, open, overdue)) in cells.iter().enumerate() {
        let share = if *open > 0 {
            *overdue as f64 / *open as f64
        } else {
            0.0
        };
        // From pale yellow to deep red.
        let (r, g, b) = (
            255.0 - 43.0 * share,
            247.0 - 194.0 * share,
            191.0 - 163.0 * share,
        );
        let (x, y) = ((i % per_row) as f64 * size, (i / per_row) as f64 * size);
        out.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"rgb({r:.0},{g:.0},{b:.0})\" \
             stroke=\"#fff\"><title>{}: {overdue}/{open}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"{}\">{overdue}</text>",
            x,
            y,
            size,
            size,
            esc(name),
            x + size / 2.0,
            y + size / 2.0 + 4.0,
            if share > 0.5 { "#fff" } else { "#0b0c0c" }
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_bars_follow_their_values() {
        let svg = heat_map("Quá hạn", &[("A <b> & \"c\"".into(), 4, 2)]);
        assert!(
            svg.contains("A &lt;b&gt; &amp; &quot;c&quot;: 2/4"),
            "{svg}"
        );
        assert!(!svg.contains("<b>"));
        let svg = percent_bars(
            "Đúng hạn",
            &[("2026-10".into(), Some(50.0)), ("2026-11".into(), None)],
        );
        assert_eq!(svg.matches("<rect").count(), 1);
        assert!(svg.contains("2026-10: 50.00%"));
    }
}

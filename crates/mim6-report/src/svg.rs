//! Inline SVG charts: line charts over periods, the maturity heatmap, bar charts. Each reads in
//! greyscale too: lines differ by width and dash as well as hue, heatmap cells and bars by
//! lightness, and every cell carries its value as text.

use std::fmt::Write;

use crate::html::escape;

/// One line of a line chart.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub(crate) name: String,
    pub(crate) points: Vec<Option<f64>>,
    /// Drawn thick, black and dashed (the region's median).
    pub(crate) emphasis: bool,
}

/// The value axis of a chart.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Axis {
    pub(crate) min: f64,
    pub(crate) max: f64,
    /// Gridlines above the minimum.
    pub(crate) steps: u32,
    pub(crate) format: fn(f64) -> String,
}

/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
const PALETTE: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];
const DASHES: [&str; 4] = ["", "4 2", "1 2", "6 2 1 2"];

fn number(v: f64) -> String {
    format!("{v:.1}")
}

/// A line chart of `series` over the period `labels`.
pub(crate) fn line_chart(title: &str, labels: &[String], series: &[Series], axis: Axis) -> String {
    let (width, height) = (420.0, 230.0);
    let (left, right, top, bottom) = (46.0, 110.0, 28.0, 30.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let span = (axis.max - axis.min).max(f64::EPSILON);
    let x = |i: usize| {
        if labels.len() <= 1 {
            left + plot_w / 2.0
        } else {
            left + plot_w * i as f64 / (labels.len() - 1) as f64
        }
    };
    let y = |v: f64| top + plot_h * (1.0 - (v.clamp(axis.min, axis.max) - axis.min) / span);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{t}"><title>{t}</title><text x="{left}" y="16" class="chart-title">{t}</text>"#,
        t = escape(title)
    );
    for k in 0..=axis.steps {
        let v = axis.min + span * f64::from(k) / f64::from(axis.steps.max(1));
        let _ = write!(
            out,
            r##"<line x1="{left}" x2="{x2}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{tx}" y="{ty:.1}" text-anchor="end" class="tick">{label}</text>"##,
            x2 = left + plot_w,
            yy = y(v),
            tx = left - 4.0,
            ty = y(v) + 4.0,
            label = escape(&(axis.format)(v)),
        );
    }
    for (i, label) in labels.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text x="{xx:.1}" y="{yy}" text-anchor="middle" class="tick">{l}</text>"#,
            xx = x(i),
            yy = height - 10.0,
            l = escape(label)
        );
    }
    let labelled = series.len() <= PALETTE.len();
    let mut end_labels: Vec<(f64, f64, &str)> = Vec::new();
    for (n, s) in series.iter().enumerate() {
        let (stroke, width, dash) = if s.emphasis {
            ("#000", 3.0, "6 3")
        } else if labelled {
            (PALETTE[n % PALETTE.len()], 1.8, DASHES[n % DASHES.len()])
        } else {
            ("#9a9a9a", 1.0, "")
        };
        // A missing value breaks the line.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (i, p) in s.points.iter().enumerate() {
            match p {
                Some(v) => runs.last_mut().map_or((), |r| r.push((x(i), y(*v)))),
                None => runs.push(Vec::new()),
            }
        }
        let _ = write!(out, r#"<g><title>{}</title>"#, escape(&s.name));
        for run in runs.iter().filter(|r| !r.is_empty()) {
            let points: Vec<String> = run.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
            let _ = write!(
                out,
                r#"<polyline fill="none" stroke="{stroke}" stroke-width="{width}" stroke-dasharray="{dash}" points="{}"/>"#,
                points.join(" ")
            );
            for (a, b) in run {
                let _ = write!(
                    out,
                    r#"<circle cx="{a:.1}" cy="{b:.1}" r="{r}" fill="{stroke}"/>"#,
                    r = if s.emphasis { 3.0 } else { 1.8 }
                );
            }
        }
        if (labelled || s.emphasis)
            && let Some((i, v)) = s
                .points
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, p)| p.map(|v| (i, v)))
        {
            end_labels.push((x(i) + 6.0, y(v) + 4.0, &s.name));
        }
        out.push_str("</g>");
    }
    // Labels at the lines' ends, pushed apart so that none overlaps another.
    end_labels.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut floor = f64::MIN;
    for (lx, ly, name) in end_labels {
        let ly = ly.max(floor + 11.0);
        floor = ly;
        let _ = write!(
            out,
            r#"<text x="{lx:.1}" y="{ly:.1}" class="series-label">{}</text>"#,
            escape(name)
        );
    }
    out.push_str("</svg>");
    out
}

/// The fill of a heatmap cell for `value` in `0..=max`: light to dark blue, so that lightness
/// alone orders the cells.
fn shade(value: f64, max: f64) -> (String, &'static str) {
    let t = (value / max).clamp(0.0, 1.0);
    let (light, dark) = ((247.0, 251.0, 255.0), (8.0, 48.0, 107.0));
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    let fill = format!(
        "#{:02x}{:02x}{:02x}",
        mix(light.0, dark.0),
        mix(light.1, dark.1),
        mix(light.2, dark.2)
    );
    (fill, if t > 0.5 { "#fff" } else { "#000" })
}

/// A heatmap: one row per `rows` entry, one column per `columns` entry, values in `0..=max`.
pub(crate) fn heatmap(
    title: &str,
    rows: &[String],
    columns: &[String],
    values: &[Vec<Option<f64>>],
    max: f64,
) -> String {
    let (cell_w, cell_h, left, top) = (34.0, 22.0, 150.0, 46.0);
    // Wide enough for the cells and for the six-step legend.
    let width = left + (cell_w * columns.len() as f64).max(6.0 * 30.0) + 10.0;
    let height = top + cell_h * rows.len() as f64 + 44.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart heatmap" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{t}"><title>{t}</title><text x="0" y="16" class="chart-title">{t}</text>"#,
        t = escape(title)
    );
    for (j, column) in columns.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text x="{xx:.1}" y="{yy}" text-anchor="middle" class="tick">{c}</text>"#,
            xx = left + cell_w * (j as f64 + 0.5),
            yy = top - 6.0,
            c = escape(&column.to_uppercase())
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let yy = top + cell_h * i as f64;
        let _ = write!(
            out,
            r#"<text x="{tx}" y="{ty:.1}" text-anchor="end" class="tick">{r}</text>"#,
            tx = left - 6.0,
            ty = yy + cell_h * 0.7,
            r = escape(row)
        );
        for (j, value) in values[i].iter().enumerate() {
            let xx = left + cell_w * j as f64;
            let (fill, ink, text) = match value {
                Some(v) => {
                    let (fill, ink) = shade(*v, max);
                    (fill, ink, format!("{v:.1}"))
                }
                None => ("#eee".to_owned(), "#666", "–".to_owned()),
            };
            let _ = write!(
                out,
                r##"<rect x="{xx:.1}" y="{yy:.1}" width="{cell_w}" height="{cell_h}" fill="{fill}" stroke="#fff"><title>{r} {c}: {text}</title></rect><text x="{cx:.1}" y="{cy:.1}" text-anchor="middle" class="cell" fill="{ink}">{text}</text>"##,
                r = escape(row),
                c = escape(&columns[j].to_uppercase()),
                cx = xx + cell_w / 2.0,
                cy = yy + cell_h * 0.68,
            );
        }
    }
    // Legend: the scale in six steps.
    let ly = top + cell_h * rows.len() as f64 + 14.0;
    for k in 0..=5 {
        let v = max * f64::from(k) / 5.0;
        let (fill, ink) = shade(v, max);
        let lx = left + 30.0 * f64::from(k);
        let _ = write!(
            out,
            r##"<rect x="{lx}" y="{ly}" width="30" height="16" fill="{fill}" stroke="#999"/><text x="{tx}" y="{ty}" text-anchor="middle" class="cell" fill="{ink}">{label}</text>"##,
            tx = lx + 15.0,
            ty = ly + 12.0,
            label = number(v)
        );
    }
    out.push_str("</svg>");
    out
}

/// A bar chart of counts by category.
pub(crate) fn bars(title: &str, categories: &[&str], counts: &[u64]) -> String {
    let (width, height) = (420.0, 210.0);
    let (left, top, bottom) = (20.0, 42.0, 34.0);
    let plot_h = height - top - bottom;
    let slot = (width - 2.0 * left) / categories.len().max(1) as f64;
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{t}"><title>{t}</title><text x="0" y="16" class="chart-title">{t}</text>"#,
        t = escape(title)
    );
    for (i, (category, count)) in categories.iter().zip(counts).enumerate() {
        let h = plot_h * *count as f64 / max;
        let xx = left + slot * i as f64 + slot * 0.15;
        let (fill, _) = shade(i as f64 + 1.0, categories.len() as f64);
        let _ = write!(
            out,
            r##"<rect x="{xx:.1}" y="{yy:.1}" width="{w:.1}" height="{h:.1}" fill="{fill}" stroke="#333"><title>{c}: {count}</title></rect><text x="{cx:.1}" y="{ty:.1}" text-anchor="middle" class="cell">{count}</text><text x="{cx:.1}" y="{ly}" text-anchor="middle" class="tick">{c}</text>"##,
            yy = top + plot_h - h,
            w = slot * 0.7,
            cx = xx + slot * 0.35,
            ty = top + plot_h - h - 4.0,
            ly = height - 12.0,
            c = escape(category),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heatmap_shades_darken_with_the_value() {
        let lightness = |v: f64| {
            let (fill, _) = shade(v, 5.0);
            let channel = |k: usize| u32::from_str_radix(&fill[1 + 2 * k..3 + 2 * k], 16).unwrap();
            channel(0) + channel(1) + channel(2)
        };
        assert!(lightness(0.0) > lightness(2.5));
        assert!(lightness(2.5) > lightness(5.0));
    }

    #[test]
    fn missing_values_break_lines() {
        let svg = line_chart(
            "t",
            &["a".into(), "b".into(), "c".into()],
            &[Series {
                name: "s".into(),
                points: vec![Some(1.0), None, Some(2.0)],
                emphasis: false,
            }],
            Axis {
                min: 0.0,
                max: 5.0,
                steps: 5,
                format: number,
            },
        );
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 2);
    }
}

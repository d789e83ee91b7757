//! HTML pieces: escaping, number formats, cells that say which table value they show, and the
//! page around the content (one self-contained file: inline CSS, no script, no network).

use std::fmt::Write;

/// `text` safe in HTML and SVG text and attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A share as a percentage with one decimal; `–` when null.
pub(crate) fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{:.1} %", v * 100.0))
}

/// A number with `decimals` decimals; `–` when null.
pub(crate) fn fixed(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.decimals$}"))
}

/// Whether a rising metric is good news.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Better {
    Up,
    Down,
}

/// The change since the last period: an arrow, its sign and size, coloured good or bad. The
/// arrow and the sign carry the meaning; colour only repeats it.
pub(crate) fn change(value: Option<f64>, better: Better, as_percent: bool) -> String {
    let Some(v) = value else {
        return r#"<span class="change none">–</span>"#.to_owned();
    };
    let size = if as_percent {
        format!("{:+.1} pts", v * 100.0)
    } else {
        format!("{v:+.2}")
    };
    let epsilon = if as_percent { 0.0005 } else { 0.005 };
    if v.abs() < epsilon {
        return format!(r#"<span class="change flat">■ {size}</span>"#);
    }
    let up = v > 0.0;
    let good = up == (better == Better::Up);
    format!(
        r#"<span class="change {}">{} {size}</span>"#,
        if good { "good" } else { "bad" },
        if up { "▲" } else { "▼" },
    )
}

/// A table cell showing `text`, which is column `column` of the row `key` of table `table`:
/// the report's numbers can be checked against the tables they come from.
pub(crate) fn metric_cell(table: &str, key: &str, column: &str, text: &str) -> String {
    format!(
        r#"<td class="num" data-table="{}" data-key="{}" data-column="{}">{}</td>"#,
        escape(table),
        escape(key),
        escape(column),
        escape(text)
    )
}

/// A plain table cell.
pub(crate) fn cell(text: &str) -> String {
    format!("<td>{}</td>", escape(text))
}

/// A table with `headers` and already rendered rows.
pub(crate) fn table(class: &str, headers: &[&str], rows: &[String]) -> String {
    let mut out = format!(r#"<table class="{class}"><thead><tr>"#);
    for h in headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        let _ = write!(out, "<tr>{row}</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

const STYLE: &str = "
body { font: 14px/1.4 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #111;
  margin: 0 auto; max-width: 1200px; padding: 16px 24px; }
h1 { font-size: 24px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px;
  border-bottom: 1px solid #ccc; padding-bottom: 4px; }
.sub { color: #555; margin: 0 0 12px; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; }
.kpi { border: 1px solid #ccc; border-radius: 6px; padding: 8px 12px; min-width: 150px; }
.kpi .label { color: #555; font-size: 12px; } .kpi .value { font-size: 22px; font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
table { border-collapse: collapse; margin: 4px 0 12px; }
th, td { border-bottom: 1px solid #e2e2e2; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.change { font-size: 12px; white-space: nowrap; } .change.good { color: #00612e; }
.change.bad { color: #b00020; font-weight: 600; } .change.flat, .change.none { color: #666; }
.flag { font-weight: 600; color: #b00020; }
.chart-title { font-size: 13px; font-weight: 600; } .tick { font-size: 11px; fill: #444; }
.cell { font-size: 10px; } .series-label { font-size: 10px; fill: #222; }
nav a { margin-right: 12px; } .note { color: #555; font-size: 12px; }
";

/// A whole page.
pub(crate) fn page(title: &str, nav: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head>\n<body><nav>{nav}</nav>{body}\
         <p class=\"note\">Made by mim6 {version} from the tables of this run; every number is a \
         value of the table named in its cell.</p></body></html>\n",
        t = escape(title),
        version = env!("CARGO_PKG_VERSION"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_without_colour() {
        assert!(change(Some(0.05), Better::Up, true).contains("▲ +5.0 pts"));
        assert!(change(Some(0.05), Better::Up, true).contains("good"));
        assert!(change(Some(3.0), Better::Down, false).contains("▲ +3.00"));
        assert!(change(Some(3.0), Better::Down, false).contains("bad"));
        assert!(change(Some(0.0), Better::Up, false).contains("■"));
        assert!(change(None, Better::Up, false).contains('–'));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}

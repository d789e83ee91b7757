//! The report and the OSCAL outputs of a run of the hand-written fleet: the report's numbers
//! are the tables' values, the OSCAL documents are valid and link back to their sources, a real
//! browser renders the region page, and real peers (compliance-trestle, pyarrow) read the
//! outputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::{fixtures, mim6};

/// Runs the hand-written fleet's pipeline into a fresh folder.
fn run_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let run = mim6(
        &fixtures().join("pipeline"),
        &["run", "pipeline.toml", "-o", dir.path().to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    dir
}

/// A CSV table as rows of column → value.
fn table(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// The columns whose values, joined by `|`, make a cell's `data-key` in each table.
fn key_columns(table: &str) -> &'static [&'static str] {
    match table {
        "m_region_period" => &["region", "period"],
        "m_city_period" => &["city", "period"],
        "m_system_period" => &["system", "period"],
        "m_family_period" => &["city", "family", "period"],
        "m_city_overclaim_period" => &["city", "control", "period"],
        "fact_risk_period" => &["risk", "system", "period_index"],
        other => panic!("a cell names the table {other}, which the report does not use"),
    }
}

/// `(table, key, column, shown text)` of every cell that names its source.
fn sourced_cells(html: &str) -> Vec<(String, String, String, String)> {
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(tag[start..end].replace("&amp;", "&"))
    };
    let mut cells = Vec::new();
    for (at, _) in html.match_indices("<td class=\"num\" data-table=") {
        let tag_end = html[at..].find('>').unwrap() + at;
        let tag = &html[at..tag_end];
        let text_end = html[tag_end..].find("</td>").unwrap() + tag_end;
        cells.push((
            attribute(tag, "data-table").unwrap(),
            attribute(tag, "data-key").unwrap(),
            attribute(tag, "data-column").unwrap(),
            html[tag_end + 1..text_end].to_owned(),
        ));
    }
    cells
}

/// The number a cell shows and how far from the table's value rounding may take it.
fn shown(text: &str) -> Option<(f64, f64)> {
    if text == "–" {
        return None;
    }
    let (number, scale) = match text.strip_suffix(" %") {
        Some(n) => (n, 100.0),
        None => (text, 1.0),
    };
    let decimals = number.split_once('.').map_or(0, |(_, d)| d.len());
    let value: f64 = number
        .parse()
        .unwrap_or_else(|_| panic!("`{text}` is a number"));
    Some((
        value / scale,
        0.5 * 10_f64.powi(-(decimals as i32)) / scale + 1e-12,
    ))
}

#[test]
fn every_number_in_the_report_is_the_value_of_the_table_it_names() {
    let dir = run_fixture();
    let tables_dir = dir.path().join("tables");
    let mut tables: BTreeMap<String, Vec<BTreeMap<String, String>>> = BTreeMap::new();
    let mut checked: BTreeMap<String, usize> = BTreeMap::new();
    let pages = mim6_test_support::files_with_extension(&dir.path().join("report"), "html");
    // index, two regions, three cities.
    assert_eq!(pages.len(), 6, "{pages:?}");
    for page in &pages {
        let html = std::fs::read_to_string(page).unwrap();
        for (name, key, column, text) in sourced_cells(&html) {
            let rows = tables
                .entry(name.clone())
                .or_insert_with(|| table(&tables_dir.join(format!("{name}.csv"))));
            let matching: Vec<_> = rows
                .iter()
                .filter(|row| {
                    key_columns(&name)
                        .iter()
                        .map(|c| row[*c].as_str())
                        .collect::<Vec<_>>()
                        .join("|")
                        == key
                })
                .collect();
            assert_eq!(
                matching.len(),
                1,
                "{name} row {key}: {} rows",
                matching.len()
            );
            let value = &matching[0][&column];
            match shown(&text) {
                None => assert_eq!(value, "", "{page:?}: {name} {key} {column} shows –"),
                Some((number, tolerance)) => {
                    let actual: f64 = value.parse().unwrap_or_else(|_| {
                        panic!("{page:?}: {name} {key} {column} shows {text}, table has `{value}`")
                    });
                    assert!(
                        (actual - number).abs() <= tolerance,
                        "{page:?}: {name} {key} {column} shows {text}, table has {actual}"
                    );
                }
            }
            *checked.entry(name).or_default() += 1;
        }
    }
    for name in [
        "m_region_period",
        "m_city_period",
        "m_system_period",
        "m_family_period",
        "m_city_overclaim_period",
        "fact_risk_period",
    ] {
        assert!(
            checked.get(name).is_some_and(|n| *n > 0),
            "no cell from {name}: {checked:?}"
        );
    }
    assert!(checked.values().sum::<usize>() > 100, "{checked:?}");

    // Region a ranks y (every control satisfied) before x; x's page lists IR-5, overclaimed.
    let region = std::fs::read_to_string(dir.path().join("report/region-region-a.html")).unwrap();
    let (y, x) = (
        region.find("city-y</span>").unwrap(),
        region.find("city-x</span>").unwrap(),
    );
    assert!(y < x, "city-y ranks first");
    let city =
        std::fs::read_to_string(dir.path().join("report/city-region-a-city-x.html")).unwrap();
    assert!(
        city.contains("<td>IR-5</td><td>Incident Monitoring</td>"),
        "overclaimed IR-5"
    );
    // Self-contained: nothing is fetched when the page is viewed.
    for page in &pages {
        let html = std::fs::read_to_string(page).unwrap();
        for needle in ["<script", "src=\"http", "href=\"http", "@import", "url("] {
            assert!(!html.contains(needle), "{page:?} contains {needle}");
        }
    }
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn oscal_files(dir: &Path) -> Vec<PathBuf> {
    mim6_test_support::files_with_extension(&dir.join("oscal"), "json")
}

#[test]
fn oscal_outputs_are_valid_and_link_back_to_their_sources() {
    let dir = run_fixture();
    let files = oscal_files(dir.path());
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "assessment-results-region-a.json",
            "assessment-results-region-b.json",
            "baseline-catalog.json",
            // city-y has nothing open, so no POA&M.
            "poam-region-a-city-x.json",
            "poam-region-b-city-z.json",
        ]
    );
    let mut args = vec!["validate".to_owned()];
    args.extend(files.iter().map(|f| f.to_string_lossy().into_owned()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = mim6(dir.path(), &refs);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    // City x at the end of Q3: x2's R2 is open (x1's R1 closed in Q3).
    let poam = json(&dir.path().join("oscal/poam-region-a-city-x.json"));
    let poam = &poam["plan-of-action-and-milestones"];
    let risks = poam["risks"].as_array().unwrap();
    assert_eq!(risks.len(), 1, "{risks:#?}");
    assert_eq!(risks[0]["status"], "open");
    let fleet = fixtures().join("pipeline/fleet");
    for risk in risks {
        let href = risk["links"][0]["href"].as_str().unwrap();
        assert!(
            fleet.join(href).is_file(),
            "{href} is a document of the fleet"
        );
    }
    let uuids: Vec<&str> = risks.iter().map(|r| r["uuid"].as_str().unwrap()).collect();
    let items = poam["poam-items"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        for related in item["related-risks"].as_array().unwrap() {
            assert!(uuids.contains(&related["risk-uuid"].as_str().unwrap()));
        }
    }

    // Region a: cities x and y, three quarters each, metrics as props.
    let results = json(&dir.path().join("oscal/assessment-results-region-a.json"));
    let results = results["assessment-results"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2 * 3);
    let city_rows = table(&dir.path().join("tables/m_city_period.csv"));
    for result in results {
        let props = result["props"].as_array().unwrap();
        let prop = |name: &str| {
            props
                .iter()
                .find(|p| p["name"] == name)
                .and_then(|p| p["value"].as_str())
        };
        let city = prop("city-id").unwrap();
        let period = result["title"]
            .as_str()
            .unwrap()
            .rsplit(", ")
            .next()
            .unwrap();
        let row = city_rows
            .iter()
            .find(|r| r["city"] == city && r["period"] == period)
            .unwrap();
        for (prop_name, column) in [
            ("assessed-coverage", "assessed_coverage"),
            ("maturity-mean", "maturity_mean"),
            ("residual-mean", "residual_mean"),
        ] {
            match prop(prop_name) {
                Some(value) => assert_eq!(
                    value.parse::<f64>().unwrap(),
                    row[column].parse::<f64>().unwrap(),
                    "{city} {period} {prop_name}"
                ),
                None => assert_eq!(row[column], "", "{city} {period} {column} is null"),
            }
        }
        let families = result["observations"].as_array().unwrap();
        assert_eq!(families.len(), 2, "AC and IR");
    }
}

/// Chromium, if this machine has it.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MIM6_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// Says that a tool is missing: a failure in CI, a notice elsewhere.
fn missing(what: &str) {
    let message = format!("{what}; .ci/run installs it");
    assert!(std::env::var_os("CI").is_none(), "{message}");
    eprintln!("skipped: {message}");
}

#[test]
fn the_region_page_renders_in_a_real_browser() {
    use headless_chrome::protocol::cdp::types::Event;
    use headless_chrome::protocol::cdp::{Log, Page, Runtime};

    let Some(browser_path) = chromium() else {
        missing("Chromium is not installed (Debian package chromium)");
        return;
    };
    let dir = run_fixture();
    let profile = tempfile::tempdir().unwrap();
    let flags: Vec<std::ffi::OsString> = [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ]
    .iter()
    .map(Into::into)
    .collect();
    let options = headless_chrome::LaunchOptions::default_builder()
        .path(Some(browser_path))
        .headless(true)
        .sandbox(false)
        .window_size(Some((1280, 2000)))
        .user_data_dir(Some(profile.path().to_owned()))
        .args(flags.iter().map(|f| f.as_os_str()).collect())
        .build()
        .unwrap();
    let browser = headless_chrome::Browser::new(options).unwrap();
    let tab = browser.new_tab().unwrap();
    let problems: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = Arc::clone(&problems);
    tab.enable_log().unwrap();
    tab.enable_runtime().unwrap();
    tab.add_event_listener(Arc::new(move |event: &Event| {
        let problem = match event {
            Event::LogEntryAdded(e) if e.params.entry.level == Log::LogEntryLevel::Error => {
                Some(format!("log: {}", e.params.entry.text))
            }
            Event::RuntimeConsoleAPICalled(e)
                if e.params.Type == Runtime::ConsoleAPICalledEventTypeOption::Error =>
            {
                Some(format!("console.error: {:?}", e.params.args))
            }
            Event::RuntimeExceptionThrown(e) => {
                Some(format!("exception: {}", e.params.exception_details.text))
            }
            _ => None,
        };
        if let Some(problem) = problem {
            seen.lock().unwrap().push(problem);
        }
    }))
    .unwrap();
    let page = dir.path().join("report/region-region-a.html");
    tab.navigate_to(&format!("file://{}", page.display()))
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    let sizes = tab
        .evaluate(
            "JSON.stringify([...document.querySelectorAll('svg.chart')].map(s => { \
             const r = s.getBoundingClientRect(); return [r.width, r.height]; }))",
            false,
        )
        .unwrap()
        .value
        .unwrap();
    let sizes: Vec<(f64, f64)> = serde_json::from_str(sizes.as_str().unwrap()).unwrap();
    // The heatmap, three trend charts and the risk bars.
    assert_eq!(sizes.len(), 5, "{sizes:?}");
    for (w, h) in &sizes {
        assert!(*w > 100.0 && *h > 100.0, "a chart has no size: {sizes:?}");
    }
    let png = tab
        .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("region-page.png");
    std::fs::write(&shot, &png).unwrap();
    eprintln!("screenshot: {}", shot.display());
    let problems = problems.lock().unwrap();
    assert!(problems.is_empty(), "the page logged errors: {problems:?}");
}

/// The Python of a virtual environment with compliance-trestle and pyarrow.
fn interop_python() -> Option<PathBuf> {
    std::env::var_os("MIM6_INTEROP_PYTHON").map(PathBuf::from)
}

#[test]
fn compliance_trestle_and_pyarrow_read_the_outputs() {
    let Some(python) = interop_python() else {
        missing("MIM6_INTEROP_PYTHON (a Python with compliance-trestle and pyarrow) is not set");
        return;
    };
    let dir = run_fixture();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop/check_outputs.py");
    let output = std::process::Command::new(python)
        .arg(&script)
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    // Every OSCAL output read by trestle, every table by pyarrow.
    assert_eq!(
        stdout.matches("trestle read ").count(),
        oscal_files(dir.path()).len(),
        "{stdout}"
    );
    assert!(stdout.contains("pyarrow read m_city_period"), "{stdout}");
}

/// The report and OSCAL outputs under `dir`, relative path → bytes.
fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    ["report", "oscal"]
        .iter()
        .flat_map(|top| mim6_test_support::files_under(&dir.join(top)))
        .map(|file| {
            let key = file
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let bytes = std::fs::read(&file).unwrap();
            (key, bytes)
        })
        .collect()
}

#[test]
fn the_report_made_a_region_at_a_time_is_the_report_made_at_once() {
    // 24 cities in 3 regions: the run makes its report in one group of cities.
    let dir = tempfile::tempdir().unwrap();
    let baseline = mim6_test_support::repo_root().join("profiles/mim6-city-baseline-resolved.json");
    let pipeline = format!(
        "[baseline]\nprofile = {:?}\n[inputs.synth]\ncities = 24\nsystems-per-city = 2\n\
         periods = 3\nseed = 5\n[output]\nfolder = \"out\"\nformats = [\"csv\"]\n",
        baseline.to_str().unwrap()
    );
    std::fs::write(dir.path().join("p.toml"), pipeline).unwrap();
    let run = mim6(dir.path(), &["run", "p.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = dir.path().join("out");
    let at_once = outputs(&out);
    let regions = at_once
        .keys()
        .filter(|k| k.starts_with("report/region-"))
        .count();
    assert_eq!(regions, 3);
    assert!(at_once.keys().any(|k| k.starts_with("oscal/poam-")));

    // Groups of one city close at the end of each region: three groups.
    let again = mim6(dir.path(), &["report", "out", "--group-cities", "1"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let by_region = outputs(&out);
    assert_eq!(
        by_region.keys().collect::<Vec<_>>(),
        at_once.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &at_once {
        assert!(bytes == &by_region[name], "{name} differs");
    }
    assert!(
        !out.join("report.rows").exists(),
        "rows set aside left behind"
    );
}

/// Rewrites the `line`-th line (the header is line 1) of a CSV table, setting `column`.
fn set_cell(path: &Path, line: usize, column: &str, value: &str) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let at = headers.iter().position(|h| h == column).unwrap();
    let mut rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let row = &mut rows[line - 2];
    *row = row
        .iter()
        .enumerate()
        .map(|(k, v)| if k == at { value } else { v })
        .collect();
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer.write_record(&headers).unwrap();
    for row in &rows {
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();
}

#[test]
fn a_table_row_the_report_cannot_read_is_named_at_its_line() {
    let dir = run_fixture();
    let tables = dir.path().join("tables");
    let report = || mim6(dir.path(), &["report", "."]);
    let before = outputs(dir.path());

    let systems = tables.join("m_system_period.csv");
    let good = std::fs::read(&systems).unwrap();
    set_cell(&systems, 3, "weight", "heavy");
    let run = report();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("m_system_period.csv:3: column `weight`: invalid float literal"),
        "{}",
        run.stderr
    );
    std::fs::write(&systems, good).unwrap();

    let families = tables.join("m_family_period.csv");
    set_cell(&families, 2, "city", "city-nowhere");
    let run = report();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("m_family_period.csv:2: the city `city-nowhere` is not in dim_city"),
        "{}",
        run.stderr
    );
    // A report that failed leaves the last one whole and nothing set aside.
    assert_eq!(outputs(dir.path()), before);
    assert!(!dir.path().join("report.rows").exists());
}

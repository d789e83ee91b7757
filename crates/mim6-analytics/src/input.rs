//! Facts packed for the metrics, batch by batch: systems and controls numbered, strings the
//! metrics only compare or sort replaced by numbers (documents and risks by their rank in
//! sorted order, so that sorting the numbers sorts the strings), times in seconds since the
//! epoch. What the packed rows hold is a few dozen bytes a fact, whatever its text.
//!
//! The documents, risks and titles of a shard are numbered within the shard, and their names
//! are held with the shard's rows (spilled with them), so that memory holds the names of the
//! rows it holds, not the fleet's.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mim6_ingest::{Facts, SystemRow, Uuid};
use polars::prelude::*;
use polars::series::IsSorted;
use rustc_hash::FxHashMap;

use crate::{BaselineControl, Error, Result};

/// The frames the metrics of one shard of cities are computed from.
pub(crate) struct Inputs {
    /// `sys, system, city, region, city_name, population, name, impact_c, impact_i, impact_a,
    /// sw`: the shard's systems.
    pub(crate) systems: DataFrame,
    /// `ctl, control, parent, family, title, cw, gdpr_articles, tags`
    pub(crate) controls: DataFrame,
    /// `sys, ctl, state, inherited, sc`
    pub(crate) claims: DataFrame,
    /// `sys, ctl, result, date, doc, satisfied, observations, automated, evidence, sc`, sorted
    /// by `sys, ctl, date, doc`
    pub(crate) findings: DataFrame,
    /// `sys, ctl, risk, date, sc, sr`: findings naming risks, and risks' mitigating
    /// implementations.
    pub(crate) risk_controls: DataFrame,
    /// `sys, risk, date, doc, status, deadline, first_seen, closed, likelihood, impact,
    /// likelihood_adjusted, impact_adjusted, naming, false_positive, accepted, title, sr`, sorted
    /// by `sys, risk, date, doc`
    pub(crate) risks: DataFrame,
    /// The names of the numbers in the `risk`, `doc` and `title` columns.
    pub(crate) names: Names,
}

/// The strings behind a shard's numbered columns, sorted: a number is its string's rank.
#[derive(Default)]
pub(crate) struct Names {
    pub(crate) risks: Vec<Arc<str>>,
    pub(crate) documents: Vec<Arc<str>>,
    pub(crate) titles: Vec<Arc<str>>,
}

pub(crate) fn seconds(t: jiff::Timestamp) -> i64 {
    t.as_second()
}

fn frame(columns: Vec<Column>) -> Result<DataFrame> {
    Ok(DataFrame::new_infer_height(columns)?)
}

/// The number last found for a shared string. The rows of a document share one `Arc` for its
/// system, result and document, so a run of them is looked up once; the same allocation is the
/// same text, so the number is the one a lookup would give.
struct Recent<T: ?Sized, V> {
    last: Option<(Arc<T>, V)>,
}

impl<T: ?Sized, V: Copy> Recent<T, V> {
    fn new() -> Self {
        Recent { last: None }
    }

    fn get(&mut self, key: &Arc<T>, look_up: impl FnOnce(&T) -> V) -> V {
        if let Some((last, value)) = &self.last
            && Arc::ptr_eq(last, key)
        {
            return *value;
        }
        let value = look_up(key);
        self.last = Some((Arc::clone(key), value));
        value
    }
}

/// The number of `document` among the documents of `shard`, numbered by `documents`: a run of
/// rows of one document is looked up once.
fn document_id(
    recent: &mut Recent<std::path::Path, (usize, u32)>,
    document: &Arc<std::path::Path>,
    shard: usize,
    documents: &mut Interner,
) -> u32 {
    let mut number = |d: &std::path::Path| documents.id(&d.to_string_lossy());
    let (of, id) = recent.get(document, |d| (shard, number(d)));
    if of == shard { id } else { number(document) }
}

/// Names (strings, or uuids) numbered in order of first appearance.
struct Interner<K = Arc<str>> {
    ids: FxHashMap<K, u32>,
    names: Vec<K>,
}

impl<K> Default for Interner<K> {
    fn default() -> Self {
        Interner {
            ids: FxHashMap::default(),
            names: Vec::new(),
        }
    }
}

impl<K: Clone + Eq + std::hash::Hash> Interner<K> {
    /// The number of `name`, made into a key by `own` the first time it is seen.
    fn id_of<Q>(&mut self, name: &Q, own: impl FnOnce(&Q) -> K) -> u32
    where
        Q: ?Sized + Eq + std::hash::Hash,
        K: std::borrow::Borrow<Q>,
    {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        let name = own(name);
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }
}

impl Interner {
    fn id(&mut self, name: &str) -> u32 {
        self.id_of(name, |name| Arc::from(name))
    }
}

/// The strings of one part of a shard's rows (those held, or one spill of them), in the order
/// of their numbers in that part.
#[derive(Default)]
struct PartNames {
    documents: Vec<Arc<str>>,
    risks: Vec<Arc<str>>,
    titles: Vec<Arc<str>>,
}

/// The names of `parts` (one list per part) sorted and without repeats, and for each part the
/// rank of each of its numbers among them.
fn ranked(parts: &[&[Arc<str>]]) -> (Vec<Arc<str>>, Vec<Vec<u32>>) {
    let mut all: Vec<Arc<str>> = parts.iter().flat_map(|p| p.iter().cloned()).collect();
    all.sort_unstable();
    all.dedup();
    let ranks = parts
        .iter()
        .map(|part| {
            part.iter()
                .map(|name| {
                    all.binary_search(name)
                        .expect("every name of a part is among all") as u32
                })
                .collect()
        })
        .collect();
    (all, ranks)
}

/// Packs batches of facts, the rows of each shard of cities apart (see [`Packer::shard_of`]), and
/// spills them to disk when they grow past a limit.
#[derive(Default)]
pub(crate) struct Packer {
    pub(crate) systems: Vec<SystemRow>,
    system_index: FxHashMap<Arc<str>, u32>,
    /// The shard of each system.
    system_shard: Vec<u32>,
    /// The shard of each city, in order of first appearance.
    city_shard: FxHashMap<Arc<str>, u32>,
    /// Cities per shard.
    shard_cities: usize,
    control_index: FxHashMap<String, u32>,
    states: Interner,
    results: Interner,
    statuses: Interner,
    /// The rows not spilled yet, per shard.
    shards: Vec<ShardRows>,
    spill: Option<Spill>,
    /// The earliest and latest date of a finding, risk or POA&M.
    pub(crate) dates: Option<(jiff::Timestamp, jiff::Timestamp)>,
}

/// Where rows go when too many are held: a folder of Parquet files, one per shard, table and
/// spill, read back when the shard's metrics are computed.
pub(crate) struct Spill {
    dir: PathBuf,
    /// Rows held before they are spilled.
    limit: usize,
    /// Spills so far.
    count: usize,
    /// The files of each shard: its four tables and their names, per spill.
    files: Vec<Vec<[PathBuf; 5]>>,
}

impl Spill {
    /// Spills into `dir` (cleared first) whenever more than `limit` rows are held.
    pub(crate) fn new(dir: &Path, limit: usize) -> Result<Spill> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|source| Error::Write {
                path: dir.to_owned(),
                source,
            })?;
        }
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_owned(),
            source,
        })?;
        Ok(Spill {
            dir: dir.to_owned(),
            limit,
            count: 0,
            files: Vec::new(),
        })
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        // What was spilled is only needed while the metrics are computed.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The packed rows of one shard, and the names of their numbered documents, risks and titles.
#[derive(Default)]
struct ShardRows {
    claims: ClaimColumns,
    findings: FindingColumns,
    risk_controls: RiskControlColumns,
    risks: RiskColumns,
    documents: Interner,
    risk_ids: Interner<Uuid>,
    titles: Interner,
}

impl ShardRows {
    fn len(&self) -> usize {
        self.claims.sys.len()
            + self.findings.sys.len()
            + self.risk_controls.sys.len()
            + self.risks.sys.len()
    }
}

#[derive(Default)]
struct ClaimColumns {
    sys: Vec<u32>,
    ctl: Vec<u32>,
    state: Vec<Option<u32>>,
    inherited: Vec<bool>,
}

#[derive(Default)]
struct FindingColumns {
    sys: Vec<u32>,
    ctl: Vec<u32>,
    result: Vec<u32>,
    date: Vec<i64>,
    doc: Vec<u32>,
    satisfied: Vec<bool>,
    observations: Vec<u32>,
    automated: Vec<u32>,
    evidence: Vec<Option<i64>>,
}

#[derive(Default)]
struct RiskControlColumns {
    sys: Vec<u32>,
    ctl: Vec<u32>,
    risk: Vec<u32>,
    date: Vec<i64>,
}

#[derive(Default)]
struct RiskColumns {
    sys: Vec<u32>,
    risk: Vec<u32>,
    date: Vec<i64>,
    doc: Vec<u32>,
    status: Vec<u32>,
    deadline: Vec<Option<i64>>,
    first_seen: Vec<i64>,
    closed: Vec<Option<i64>>,
    levels: [Vec<Option<i32>>; 4],
    naming: Vec<&'static str>,
    false_positive: Vec<bool>,
    accepted: Vec<bool>,
    title: Vec<u32>,
}

impl Packer {
    /// A packer for `baseline`, that puts `shard_cities` cities in a shard and spills to
    /// `spill` if given.
    pub(crate) fn new(
        baseline: &[BaselineControl],
        shard_cities: usize,
        spill: Option<Spill>,
    ) -> Packer {
        Packer {
            control_index: baseline
                .iter()
                .enumerate()
                .map(|(i, c)| (c.id.clone(), i as u32))
                .collect(),
            shard_cities: shard_cities.max(1),
            spill,
            ..Packer::default()
        }
    }

    /// The shard of `city`: cities are dealt into shards of `shard_cities` in the order they
    /// first appear, and each shard's metrics are computed on their own.
    fn shard_of(&mut self, city: &str) -> u32 {
        if let Some(&shard) = self.city_shard.get(city) {
            return shard;
        }
        let shard = (self.city_shard.len() / self.shard_cities) as u32;
        self.city_shard.insert(Arc::from(city), shard);
        if self.shards.len() <= shard as usize {
            self.shards.push(ShardRows::default());
        }
        shard
    }

    /// How many shards there are.
    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The spill folder, taken away.
    pub(crate) fn take_spill(&mut self) -> Option<Spill> {
        self.spill.take()
    }

    /// The system `id`, once a batch has brought its plan.
    pub(crate) fn system(&self, id: &str) -> Option<&SystemRow> {
        self.system_index
            .get(id)
            .map(|&i| &self.systems[i as usize])
    }

    fn saw(&mut self, t: jiff::Timestamp) {
        self.dates = Some(match self.dates {
            Some((lo, hi)) => (lo.min(t), hi.max(t)),
            None => (t, t),
        });
    }

    /// Adds a batch. Its systems are numbered first, so rows may name a system of the same
    /// batch; rows of unknown systems or controls outside the baseline are left out.
    pub(crate) fn add(&mut self, facts: &Facts) -> Result<()> {
        for s in &facts.systems {
            if !self.system_index.contains_key(s.system.as_str()) {
                let next = self.systems.len() as u32;
                self.system_index.insert(Arc::from(s.system.as_str()), next);
                let shard = self.shard_of(&s.city);
                self.system_shard.push(shard);
                self.systems.push(s.clone());
            }
        }
        let mut system = Recent::new();
        let mut sys = |index: &FxHashMap<Arc<str>, u32>, id: &Arc<str>| {
            system.get(id, |id| index.get(id).copied())
        };
        let (mut result, mut document, mut status) = (Recent::new(), Recent::new(), Recent::new());
        for row in &facts.implementations {
            let (Some(s), Some(&c)) = (
                sys(&self.system_index, &row.system),
                self.control_index.get(&*row.control),
            ) else {
                continue;
            };
            let state = row.state.as_deref().map(|t| self.states.id(t));
            let claims = &mut self.shards[self.system_shard[s as usize] as usize].claims;
            claims.sys.push(s);
            claims.ctl.push(c);
            claims.state.push(state);
            claims.inherited.push(row.inherited);
        }
        for row in &facts.findings {
            self.saw(row.date);
            let (Some(s), Some(&c)) = (
                sys(&self.system_index, &row.system),
                self.control_index.get(&row.control),
            ) else {
                continue;
            };
            let date = seconds(row.date);
            let result = result.get(&row.result, |r| self.results.id(r));
            let shard = self.system_shard[s as usize] as usize;
            let rows = &mut self.shards[shard];
            let doc = document_id(&mut document, &row.document, shard, &mut rows.documents);
            let f = &mut rows.findings;
            f.sys.push(s);
            f.ctl.push(c);
            f.result.push(result);
            f.date.push(date);
            f.doc.push(doc);
            f.satisfied.push(row.satisfied);
            f.observations.push(row.observations);
            f.automated.push(row.automated);
            f.evidence.push(row.evidence.map(seconds));
            for risk in &row.risks {
                let id = rows.risk_ids.id_of(risk, Uuid::clone);
                rows.risk_controls.push(s, c, id, date);
            }
        }
        for row in &facts.risks {
            self.saw(row.date);
            let Some(s) = sys(&self.system_index, &row.system) else {
                continue;
            };
            let shard = self.system_shard[s as usize] as usize;
            let rows = &mut self.shards[shard];
            let risk = rows.risk_ids.id_of(&row.risk, Uuid::clone);
            for control in &row.mitigated_controls {
                if let Some(&c) = self.control_index.get(&**control) {
                    rows.risk_controls.push(s, c, risk, seconds(row.date));
                }
            }
            let doc = document_id(&mut document, &row.document, shard, &mut rows.documents);
            let status = status.get(&row.status, |t| self.statuses.id(t));
            let title = rows.titles.id(&row.title);
            let r = &mut rows.risks;
            r.sys.push(s);
            r.risk.push(risk);
            r.date.push(seconds(row.date));
            r.doc.push(doc);
            r.status.push(status);
            r.deadline.push(row.deadline.map(seconds));
            r.first_seen.push(seconds(row.first_seen));
            r.closed.push(row.closed.map(seconds));
            for (k, level) in [
                row.likelihood,
                row.impact,
                row.likelihood_adjusted,
                row.impact_adjusted,
            ]
            .into_iter()
            .enumerate()
            {
                r.levels[k].push(level.map(i32::from));
            }
            r.naming.push(row.naming.name());
            r.false_positive.push(row.false_positive);
            r.accepted.push(row.accepted);
            r.title.push(title);
        }
        for row in &facts.poam_items {
            self.saw(row.date);
        }
        let held = self.shards.iter().map(ShardRows::len).sum::<usize>();
        if let Some(spill) = &self.spill
            && held > spill.limit
        {
            self.spill_rows()?;
        }
        Ok(())
    }

    /// Writes every shard's held rows to the spill folder.
    fn spill_rows(&mut self) -> Result<()> {
        let Some(spill) = &mut self.spill else {
            return Ok(());
        };
        spill.count += 1;
        spill.files.resize_with(self.shards.len(), Vec::new);
        for (k, rows) in self.shards.iter_mut().enumerate() {
            if rows.len() == 0 {
                continue;
            }
            let (frames, names) = std::mem::take(rows).into_parts()?;
            let mut paths: [PathBuf; 5] = Default::default();
            let frames = frames.into_iter().chain([("names", names.frame()?)]);
            for (i, (name, mut frame)) in frames.enumerate() {
                let path = spill
                    .dir
                    .join(format!("{k}-{}-{name}.parquet", spill.count));
                spill_frame(&path, &mut frame)?;
                paths[i] = path;
            }
            spill.files[k].push(paths);
        }
        Ok(())
    }

    /// The packed run: systems and controls, the names behind the numbers, each shard's
    /// rows.
    pub(crate) fn finish(mut self, baseline: &[BaselineControl]) -> Result<Packed> {
        let s = &self.systems;
        let impact = |k: usize| -> Vec<Option<u32>> {
            s.iter().map(|r| r.impact[k].map(u32::from)).collect()
        };
        let systems = frame(vec![
            Column::new("sys".into(), (0..s.len() as u32).collect::<Vec<u32>>()),
            Column::new(
                "system".into(),
                s.iter().map(|r| r.system.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "city".into(),
                s.iter().map(|r| r.city.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "region".into(),
                s.iter().map(|r| r.region.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "city_name".into(),
                s.iter().map(|r| r.city_name.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "population".into(),
                s.iter().map(|r| r.population).collect::<Vec<_>>(),
            ),
            Column::new(
                "name".into(),
                s.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ),
            Column::new("impact_c".into(), impact(0)),
            Column::new("impact_i".into(), impact(1)),
            Column::new("impact_a".into(), impact(2)),
            Column::new(
                "sw".into(),
                s.iter().map(|r| f64::from(r.weight)).collect::<Vec<_>>(),
            ),
        ])?;

        let b = baseline;
        let controls = frame(vec![
            Column::new("ctl".into(), (0..b.len() as u32).collect::<Vec<u32>>()),
            Column::new(
                "control".into(),
                b.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "parent".into(),
                b.iter().map(|c| c.parent.as_deref()).collect::<Vec<_>>(),
            ),
            Column::new(
                "family".into(),
                b.iter().map(|c| c.family.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "title".into(),
                b.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(),
            ),
            Column::new("cw".into(), b.iter().map(|c| c.weight).collect::<Vec<_>>()),
            Column::new(
                "gdpr_articles".into(),
                b.iter()
                    .map(|c| c.gdpr_articles.join("|"))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "tags".into(),
                b.iter().map(|c| c.tags.join("|")).collect::<Vec<_>>(),
            ),
        ])?;

        if self.shards.is_empty() {
            // Still one shard, so that the metric tables get their columns.
            self.shards.push(ShardRows::default());
        }
        Ok(Packed {
            systems,
            controls,
            system_shard: self.system_shard,
            shards: self
                .shards
                .into_iter()
                .map(|rows| std::sync::Mutex::new(Some(rows)))
                .collect(),
            spill: self.spill,
            states: self.states.names,
            statuses: self.statuses.names,
        })
    }
}

/// A packed run, its shards taken one by one.
pub(crate) struct Packed {
    /// `sys, system, city, region, city_name, population, name, impact_c, impact_i, impact_a,
    /// sw`: every system.
    pub(crate) systems: DataFrame,
    /// `ctl, control, parent, family, title, cw, gdpr_articles, tags`
    pub(crate) controls: DataFrame,
    system_shard: Vec<u32>,
    /// Each shard's rows until taken (by the thread that reads the shards ahead of the
    /// metrics).
    shards: Vec<std::sync::Mutex<Option<ShardRows>>>,
    spill: Option<Spill>,
    states: Vec<Arc<str>>,
    statuses: Vec<Arc<str>>,
}

impl Packed {
    /// The folder rows are spilled to, if any.
    pub(crate) fn spill_folder(&self) -> Option<&Path> {
        self.spill.as_ref().map(|spill| spill.dir.as_path())
    }

    /// How many shards there are.
    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The inputs of shard `k`, its rows read back from the spill folder and released from
    /// memory.
    pub(crate) fn take_shard(&self, k: usize) -> Result<Inputs> {
        let (held, held_names) = self.shards[k]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .unwrap_or_default()
            .into_parts()?;
        let spilled = self
            .spill
            .as_ref()
            .and_then(|spill| spill.files.get(k))
            .map(Vec::as_slice)
            .unwrap_or_default();
        // The parts of the shard's rows, each numbered on its own: every spill in order, then
        // the rows held.
        let mut parts: Vec<([DataFrame; 4], PartNames)> = Vec::with_capacity(spilled.len() + 1);
        for paths in spilled {
            let frames = [
                read_spilled(&paths[0])?,
                read_spilled(&paths[1])?,
                read_spilled(&paths[2])?,
                read_spilled(&paths[3])?,
            ];
            parts.push((frames, PartNames::from_frame(&read_spilled(&paths[4])?)?));
        }
        parts.push((held.map(|(_, frame)| frame), held_names));

        // One numbering for the shard: each part's numbers become ranks among all its names.
        let lists = |of: fn(&PartNames) -> &[Arc<str>]| -> Vec<&[Arc<str>]> {
            parts.iter().map(|(_, names)| of(names)).collect()
        };
        let (documents, doc_ranks) = ranked(&lists(|n| &n.documents));
        let (risk_names, risk_ranks) = ranked(&lists(|n| &n.risks));
        let (titles, title_ranks) = ranked(&lists(|n| &n.titles));
        let mut tables: [Vec<DataFrame>; 4] = Default::default();
        for (p, (frames, _)) in parts.into_iter().enumerate() {
            let [claims, mut findings, mut risk_controls, mut risks] = frames;
            rank(&mut findings, "doc", &doc_ranks[p])?;
            rank(&mut risk_controls, "risk", &risk_ranks[p])?;
            rank(&mut risks, "risk", &risk_ranks[p])?;
            rank(&mut risks, "doc", &doc_ranks[p])?;
            rank(&mut risks, "title", &title_ranks[p])?;
            for (table, frame) in tables
                .iter_mut()
                .zip([claims, findings, risk_controls, risks])
            {
                table.push(frame);
            }
        }
        let [claims, findings, risk_controls, risks] = tables;
        let (claims, findings, risk_controls, risks) = (
            concat_frames(claims)?,
            concat_frames(findings)?,
            concat_frames(risk_controls)?,
            concat_frames(risks)?,
        );

        let mut claims = claims;
        decode(&mut claims, "state", &self.states)?;
        pair_key(&mut claims, "sys", "ctl", "sc")?;
        // Sorted once by system, control, date and document: a control's latest result at a
        // period's end is then its last finding dated on or before it.
        let mut findings = findings.sort(
            ["sys", "ctl", "date", "doc"],
            SortMultipleOptions::default().with_maintain_order(true),
        )?;
        pair_key(&mut findings, "sys", "ctl", "sc")?;
        let mut risk_controls = risk_controls;
        pair_key(&mut risk_controls, "sys", "ctl", "sc")?;
        pair_key(&mut risk_controls, "sys", "risk", "sr")?;
        let mut risks = risks;
        decode(&mut risks, "status", &self.statuses)?;
        // Sorted once by system, risk, date and document: the copy of a risk that counts at a
        // period's end is then the last one dated on or before it, without a sort per period.
        let mut risks = risks.sort(
            ["sys", "risk", "date", "doc"],
            SortMultipleOptions::default().with_maintain_order(true),
        )?;
        pair_key(&mut risks, "sys", "risk", "sr")?;
        let in_shard: BooleanChunked = self
            .system_shard
            .iter()
            .map(|&shard| shard as usize == k)
            .collect();
        let systems = self.systems.filter(&in_shard)?;
        Ok(Inputs {
            systems,
            controls: self.controls.clone(),
            claims,
            findings,
            risk_controls,
            risks,
            names: Names {
                risks: risk_names,
                documents,
                titles,
            },
        })
    }
}

/// Writes `frame` to `path` as uncompressed Parquet: rows set aside, read back once.
pub(crate) fn spill_frame(path: &Path, frame: &mut DataFrame) -> Result<()> {
    let mut file = std::fs::File::create(path).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })?;
    ParquetWriter::new(&mut file)
        .with_compression(ParquetCompression::Uncompressed)
        .finish(frame)?;
    Ok(())
}

/// Reads back the rows [`spill_frame`] set aside at `path`, and removes the file: each is read
/// once.
pub(crate) fn read_spilled(path: &Path) -> Result<DataFrame> {
    let file = std::fs::File::open(path).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })?;
    let frame = ParquetReader::new(file).finish()?;
    let _ = std::fs::remove_file(path);
    Ok(frame)
}

fn concat_frames(parts: Vec<DataFrame>) -> Result<DataFrame> {
    let many = parts.len() > 1;
    let mut parts = parts.into_iter();
    let mut all = parts.next().unwrap_or_default();
    for part in parts {
        all.vstack_mut_owned(part)?;
    }
    if many {
        all.rechunk_mut();
    }
    Ok(all)
}

/// Adds column `name`, the numbers of columns `high` and `low` as one (`high` in the upper 32
/// bits): one integer key for joins and group-bys over the pair, flagged sorted when it is.
fn pair_key(frame: &mut DataFrame, high: &str, low: &str, name: &str) -> Result<()> {
    let key: UInt64Chunked = frame
        .column(high)?
        .u32()?
        .iter()
        .zip(frame.column(low)?.u32()?.iter())
        .map(|(h, l)| Some((u64::from(h?) << 32) | u64::from(l?)))
        .collect();
    frame.with_column(key.with_name(name.into()).into_column())?;
    flag_if_sorted(frame, name)
}

/// Flags the integer `column` of `frame` sorted when it is, so that polars groups by it by
/// slicing the frame instead of hashing.
pub(crate) fn flag_if_sorted(frame: &mut DataFrame, column: &str) -> Result<()> {
    let values = frame.column(column)?.as_materialized_series();
    let sorted = values.null_count() == 0
        && match values.dtype() {
            DataType::UInt32 => values.u32()?.iter().is_sorted(),
            DataType::UInt64 => values.u64()?.iter().is_sorted(),
            _ => false,
        };
    if sorted {
        let mut flagged = values.clone();
        flagged.set_sorted_flag(IsSorted::Ascending);
        frame.replace(column, flagged.into_column())?;
    }
    Ok(())
}

/// The expression of [`pair_key`]: columns `high` and `low` as one integer.
pub(crate) fn pair_key_expr(high: &str, low: &str) -> Expr {
    col(high).cast(DataType::UInt64) * lit(1_u64 << 32) + col(low).cast(DataType::UInt64)
}

/// Replaces the numbers in `column` by their ranks.
fn rank(frame: &mut DataFrame, column: &str, ranks: &[u32]) -> Result<()> {
    let ids = frame.column(column)?.u32()?.clone();
    let ranked: Vec<Option<u32>> = ids
        .iter()
        .map(|id| id.map(|id| ranks[id as usize]))
        .collect();
    frame.replace(column, Column::new(column.into(), ranked))?;
    Ok(())
}

impl PartNames {
    /// The names as one frame: `kind` (0 documents, 1 risks, 2 titles) and `name`, each kind
    /// in the order of its numbers.
    fn frame(&self) -> Result<DataFrame> {
        let lists = [&self.documents, &self.risks, &self.titles];
        let kind: Vec<u32> = lists
            .iter()
            .enumerate()
            .flat_map(|(k, list)| std::iter::repeat_n(k as u32, list.len()))
            .collect();
        let name: Vec<&str> = lists.iter().flat_map(|l| l.iter().map(|n| &**n)).collect();
        frame(vec![
            Column::new("kind".into(), kind),
            Column::new("name".into(), name),
        ])
    }

    /// The names [`PartNames::frame`] made a frame of.
    fn from_frame(frame: &DataFrame) -> Result<PartNames> {
        let mut names = PartNames::default();
        let kinds = frame.column("kind")?.u32()?;
        let texts = frame.column("name")?.str()?;
        for (kind, text) in kinds.iter().zip(texts.iter()) {
            let list = match kind {
                Some(0) => &mut names.documents,
                Some(1) => &mut names.risks,
                _ => &mut names.titles,
            };
            list.push(Arc::from(text.unwrap_or_default()));
        }
        Ok(names)
    }
}

impl ShardRows {
    /// The rows as frames, numbers as packed (`claims`, `findings`, `risk_controls`, `risks`),
    /// and the names of their documents, risks and titles.
    fn into_parts(self) -> Result<([(&'static str, DataFrame); 4], PartNames)> {
        let names = PartNames {
            documents: self.documents.names,
            risks: (self.risk_ids.names.iter())
                .map(|uuid| Arc::from(uuid.to_string()))
                .collect(),
            titles: self.titles.names,
        };
        let c = self.claims;
        let claims = frame(vec![
            Column::new("sys".into(), c.sys),
            Column::new("ctl".into(), c.ctl),
            Column::new("state".into(), c.state),
            Column::new("inherited".into(), c.inherited),
        ])?;
        let f = self.findings;
        let findings = frame(vec![
            Column::new("sys".into(), f.sys),
            Column::new("ctl".into(), f.ctl),
            Column::new("result".into(), f.result),
            Column::new("date".into(), f.date),
            Column::new("doc".into(), f.doc),
            Column::new("satisfied".into(), f.satisfied),
            Column::new("observations".into(), f.observations),
            Column::new("automated".into(), f.automated),
            Column::new("evidence".into(), f.evidence),
        ])?;
        let rc = self.risk_controls;
        let risk_controls = frame(vec![
            Column::new("sys".into(), rc.sys),
            Column::new("ctl".into(), rc.ctl),
            Column::new("risk".into(), rc.risk),
            Column::new("date".into(), rc.date),
        ])?;
        let r = self.risks;
        let [likelihood, impact, likelihood_adjusted, impact_adjusted] = r.levels;
        let risks = frame(vec![
            Column::new("sys".into(), r.sys),
            Column::new("risk".into(), r.risk),
            Column::new("date".into(), r.date),
            Column::new("doc".into(), r.doc),
            Column::new("status".into(), r.status),
            Column::new("deadline".into(), r.deadline),
            Column::new("first_seen".into(), r.first_seen),
            Column::new("closed".into(), r.closed),
            Column::new("likelihood".into(), likelihood),
            Column::new("impact".into(), impact),
            Column::new("likelihood_adjusted".into(), likelihood_adjusted),
            Column::new("impact_adjusted".into(), impact_adjusted),
            Column::new("naming".into(), r.naming),
            Column::new("false_positive".into(), r.false_positive),
            Column::new("accepted".into(), r.accepted),
            Column::new("title".into(), r.title),
        ])?;
        Ok((
            [
                ("claims", claims),
                ("findings", findings),
                ("risk_controls", risk_controls),
                ("risks", risks),
            ],
            names,
        ))
    }
}

impl RiskControlColumns {
    fn push(&mut self, sys: u32, ctl: u32, risk: u32, date: i64) {
        self.sys.push(sys);
        self.ctl.push(ctl);
        self.risk.push(risk);
        self.date.push(date);
    }
}

/// Replaces the numbers in `column` of `frame` by the names they stand for.
pub(crate) fn decode(frame: &mut DataFrame, column: &str, names: &[Arc<str>]) -> Result<()> {
    if frame.width() == 0 {
        // A table without columns (no periods to measure).
        return Ok(());
    }
    let ids = frame.column(column)?.u32()?.clone();
    let text: Vec<Option<&str>> = ids
        .iter()
        .map(|id| id.map(|id| &*names[id as usize]))
        .collect();
    frame.replace(column, Column::new(column.into(), text))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_numbers_of_every_part_become_ranks_among_all_their_names() {
        let names =
            |list: &[&str]| -> Vec<Arc<str>> { list.iter().map(|n| Arc::from(*n)).collect() };
        // Two spills and the rows held, each numbered in its order of first appearance.
        let parts = [
            names(&["c", "a"]),
            names(&["b", "c"]),
            names(&[]),
            names(&["a", "d"]),
        ];
        let lists: Vec<&[Arc<str>]> = parts.iter().map(Vec::as_slice).collect();
        let (all, ranks) = ranked(&lists);
        assert_eq!(all, names(&["a", "b", "c", "d"]));
        assert_eq!(ranks, [vec![2, 0], vec![1, 2], vec![], vec![0, 3]]);
    }

    #[test]
    fn names_spilled_as_a_frame_come_back_in_the_order_of_their_numbers() {
        let names =
            |list: &[&str]| -> Vec<Arc<str>> { list.iter().map(|n| Arc::from(*n)).collect() };
        let part = PartNames {
            documents: names(&["b.json", "a.json"]),
            risks: names(&["r-2", "r-1", "r-3"]),
            titles: names(&["", "Weak passwords"]),
        };
        let back = PartNames::from_frame(&part.frame().unwrap()).unwrap();
        assert_eq!(back.documents, part.documents);
        assert_eq!(back.risks, part.risks);
        assert_eq!(back.titles, part.titles);
    }
}

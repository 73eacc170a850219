//! The one table every answer of an indicator is read from, and where disclosure control
//! is decided: per reporting month, every unit at every level (each district, jobcenter,
//! comparison type and the whole extract) × the published breakdowns of the other
//! dimensions the indicator accepts — with a publication profile of `p` attributes,
//! every combination of at most `p` of them at a value and the rest at their "all"
//! margin (the linked tables the profile publishes); without one, the whole
//! cross-product of values and margins.
//!
//! Suppressing each answer on its own grid would let two answers undo each other: the
//! cover chosen for a small jobcenter among the jobcenters can be published among the
//! districts, and the small count follows by subtraction. Here a line is a total
//! *together with* its parts (a jobcenter and its districts; a cell over all sexes and
//! its f and m cells; …), decided once; every answer — any breakdown, filter or unit
//! level, and `compare` and `contrast`, which are built from answers — shows cells of
//! this one pattern.
//!
//! A cell is a unit node and an *offset* within it. An offset stands for one coordinate
//! per dimension (the last coordinate of each being its margin); read as a mixed-radix
//! number those coordinates give a *dense offset*, and a node's offsets are the dense
//! offsets inside the profile, in ascending order. So the table holds only what the
//! profile publishes (S6's six attributes with their values at 1,000,000 persons: 135
//! cells per unit node instead of the cross-product's 2,592), and its cells and lines
//! keep the order they have in the cross-product, which fixes the order in which
//! disclosure control visits them. The
//! size is checked before the offsets are listed.

use std::collections::{BTreeSet, HashMap};

use ahash::AHashMap;

use super::dimensions::sort_key;
use super::load::Unit;
use super::side::SideSums;
use crate::blocks::Domains;
use crate::disclosure::{self, Cell, Suppression};
use crate::month::Month;

/// Most cells one month's table may have (about 1.2 GB while it is built, at the limit).
pub(super) const MAX_CELLS: usize = 20_000_000;

/// Bytes a month's table needs per cell while it is built: its sums (32), the cells of
/// disclosure control (24) and the decisions (1), rounded up.
pub(super) const TABLE_BYTES_PER_CELL: usize = 60;

/// Bytes one question's tables may take at once when months are built in parallel; a
/// table larger than this is built alone.
pub(super) const TABLES_AT_ONCE_BYTES: usize = 512 << 20;

/// The level of a unit node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Level {
    /// The whole extract.
    Total,
    /// A comparison type (or the jobcenters without one).
    Type,
    /// A jobcenter.
    Jobcenter,
    /// A district.
    District,
}

/// A unit at some level, with the units above it.
#[derive(Debug, Clone)]
pub(super) struct Node {
    /// Its level.
    pub level: Level,
    /// District id (district nodes).
    pub district: Option<String>,
    /// Jobcenter id (district and jobcenter nodes).
    pub jobcenter: Option<String>,
    /// Comparison type (type nodes and below; `None` also for "no type").
    pub ctype: Option<String>,
    /// Never published (the jobcenters without a comparison type as a group).
    pub hidden: bool,
    /// Indices of the nodes above it.
    pub ancestors: Vec<usize>,
}

/// A non-unit dimension with its values; coordinate `values.len()` is the margin.
#[derive(Debug, Clone)]
pub(super) struct Axis {
    /// Dimension name.
    pub name: String,
    /// Its values (`None`: a missing value).
    pub values: Vec<Option<String>>,
    /// Whether each value is published as a row (missing values and values outside a fixed domain are not).
    pub published: Vec<bool>,
    /// Whether the dimension is Boolean in its block (answered as `true`/`false`).
    pub boolean: bool,
    /// Its declared published values, in display order (`None`: the values in the data).
    pub domain: Option<Vec<String>>,
}

impl Axis {
    /// The margin's coordinate.
    pub fn all(&self) -> usize {
        self.values.len()
    }

    /// The coordinate of a value.
    pub fn position(&self, value: &str) -> Option<usize> {
        self.values.iter().position(|v| v.as_deref() == Some(value))
    }
}

/// The shape of the table: unit nodes × the offsets of the profile.
#[derive(Debug, Clone)]
pub(super) struct Axes {
    /// Unit nodes: the total first, then types, jobcenters, districts.
    pub nodes: Vec<Node>,
    /// Non-unit dimensions in canonical order.
    pub dims: Vec<Axis>,
    /// The publication profile: the most attributes (dimensions at a value rather than at
    /// their margin) a cell has; `None` holds the whole cross-product. Cells beyond it
    /// are not in the table (never published, in no line), so a small count deep in the
    /// cross-product cannot force covers into the tables people read.
    pub profile: Option<usize>,
    /// Per dimension, the stride of its coordinate in a dense offset.
    strides: Vec<usize>,
    /// Cells per unit node.
    per_node: usize,
    /// The dense offset of each offset of a node, ascending (empty when the table is too
    /// large to build: [`Axes::size`] says so first).
    offsets: Vec<usize>,
    /// The offset of each dense offset inside the profile.
    position: AHashMap<usize, usize>,
}

impl Axes {
    /// Builds the axes from the units, the indicator's dimensions, their declared
    /// published values, the values found in the sums and any value a filter names; the
    /// whole cross-product until [`Axes::with_profile`] narrows it.
    pub fn new(
        units: &[Unit],
        dims: &[String],
        declared: &Domains,
        sides: [&SideSums; 2],
        filters: &[(String, String)],
    ) -> Axes {
        let nodes = unit_nodes(units);
        let mut axes = Vec::new();
        for name in dims {
            let domain = declared.get(name);
            let mut values: Vec<Option<String>> = domain
                .map(|d| d.iter().map(|v| Some(v.clone())).collect())
                .unwrap_or_default();
            let mut found: BTreeSet<Option<&str>> = BTreeSet::new();
            for side in sides {
                if let Some(i) = side.dims.iter().position(|d| d == name) {
                    found.extend(side.values[i].iter().map(Option::as_deref));
                }
            }
            found.extend(
                filters
                    .iter()
                    .filter(|(d, _)| d == name)
                    .map(|(_, v)| Some(v.as_str())),
            );
            let mut extra: Vec<Option<String>> = found
                .into_iter()
                .map(|v| v.map(str::to_string))
                .filter(|v| !values.contains(v))
                .collect();
            let domain = domain.map(Vec::as_slice);
            extra.sort_by_key(|v| sort_key(domain, v.as_deref()));
            values.extend(extra);
            let published = values
                .iter()
                .map(|v| match (v, domain) {
                    (None, _) => false,
                    (Some(v), Some(domain)) => domain.contains(v),
                    (Some(_), None) => true,
                })
                .collect();
            let boolean = sides.iter().any(|s| s.boolean.contains(name));
            axes.push(Axis {
                name: name.clone(),
                values,
                published,
                boolean,
                domain: domain.map(<[String]>::to_vec),
            });
        }
        let mut strides = vec![1usize; axes.len()];
        for i in (0..axes.len().saturating_sub(1)).rev() {
            strides[i] = strides[i + 1].saturating_mul(axes[i + 1].values.len() + 1);
        }
        Axes {
            nodes,
            dims: axes,
            profile: None,
            strides,
            per_node: 0,
            offsets: Vec::new(),
            position: AHashMap::new(),
        }
        .laid_out()
    }

    /// These axes publishing at most `attributes` attributes per cell (see `profile`).
    pub fn with_profile(mut self, attributes: Option<usize>) -> Axes {
        self.profile = attributes;
        self.laid_out()
    }

    /// The most attributes a cell of the table has.
    fn max_attributes(&self) -> usize {
        self.profile.unwrap_or(self.dims.len()).min(self.dims.len())
    }

    /// Counts the offsets of a node and lists them when the table is small enough.
    fn laid_out(mut self) -> Axes {
        let max = self.max_attributes();
        // Combinations of j dimensions at a value, for j up to the profile.
        let mut combinations = vec![0usize; max + 1];
        combinations[0] = 1;
        for axis in &self.dims {
            for j in (1..=max).rev() {
                combinations[j] = combinations[j]
                    .saturating_add(combinations[j - 1].saturating_mul(axis.values.len()));
            }
        }
        self.per_node = combinations.iter().fold(0, |s, &c| s.saturating_add(c));
        self.offsets.clear();
        self.position.clear();
        if self.size() <= MAX_CELLS {
            self.list_offsets(0, 0, 0, max);
            self.position = self
                .offsets
                .iter()
                .enumerate()
                .map(|(k, &dense)| (dense, k))
                .collect();
        }
        self
    }

    /// Appends the dense offsets inside the profile from dimension `i` on, in ascending
    /// order: each value before the margin, as the coordinates are numbered.
    fn list_offsets(&mut self, i: usize, dense: usize, attributes: usize, max: usize) {
        if i == self.dims.len() {
            self.offsets.push(dense);
            return;
        }
        let (all, stride) = (self.dims[i].all(), self.strides[i]);
        if attributes < max {
            for c in 0..all {
                self.list_offsets(i + 1, dense + c * stride, attributes + 1, max);
            }
        }
        self.list_offsets(i + 1, dense + all * stride, attributes, max);
    }

    /// Cells per month.
    pub fn size(&self) -> usize {
        self.nodes.len().saturating_mul(self.per_node)
    }

    /// Cells per unit node.
    fn per_node(&self) -> usize {
        self.per_node
    }

    /// The dense offset of coordinates (one per dimension).
    fn dense(&self, coords: &[usize]) -> usize {
        coords.iter().zip(&self.strides).map(|(c, s)| c * s).sum()
    }

    /// The cell of a node at coordinates, if the table holds it (a cell beyond the
    /// profile is not in the table; the engine refuses such questions first).
    pub fn index(&self, node: usize, coords: &[usize]) -> Option<usize> {
        let offset = self.position.get(&self.dense(coords))?;
        Some(node * self.per_node + offset)
    }

    /// The coordinate of dimension `i` in a dense offset.
    fn coord_of(&self, dense: usize, i: usize) -> usize {
        (dense / self.strides[i]) % (self.dims[i].values.len() + 1)
    }

    /// The coordinate of a cell along dimension `i` (no allocation: this runs per cell).
    fn coord(&self, index: usize, i: usize) -> usize {
        self.coord_of(self.offsets[index % self.per_node], i)
    }

    /// A cell for people: its unit and its attributes (`D1 sex=f age_group=u25`).
    fn describe(&self, index: usize) -> String {
        let node = &self.nodes[index / self.per_node];
        let mut text = match node.level {
            Level::Total => "all".to_string(),
            Level::Type => format!("type {}", node.ctype.as_deref().unwrap_or("none")),
            Level::Jobcenter => node.jobcenter.clone().unwrap_or_default(),
            Level::District => node.district.clone().unwrap_or_default(),
        };
        for (i, axis) in self.dims.iter().enumerate() {
            let c = self.coord(index, i);
            if c != axis.all() {
                let value = axis.values[c].as_deref().unwrap_or("(none)");
                text.push_str(&format!(" {}={value}", axis.name));
            }
        }
        text
    }

    /// How many dimensions of a dense offset are at a value rather than at their margin.
    fn attributes_of(&self, dense: usize) -> usize {
        (0..self.dims.len())
            .filter(|&i| self.coord_of(dense, i) != self.dims[i].all())
            .count()
    }

    /// How many dimensions of a cell are at a value rather than at their margin.
    fn attributes(&self, index: usize) -> usize {
        self.attributes_of(self.offsets[index % self.per_node])
    }

    /// Whether the line along a dimension through an offset at that dimension's margin
    /// is protected: its parts lie inside the profile.
    fn dim_line_active(&self, margin: usize) -> bool {
        self.profile
            .is_none_or(|p| self.attributes_of(self.offsets[margin]) < p)
    }

    /// Whether a cell is never published: a hidden node or a hidden value.
    fn hidden(&self, index: usize) -> bool {
        self.nodes[index / self.per_node].hidden
            || self.dims.iter().enumerate().any(|(i, a)| {
                let c = self.coord(index, i);
                c < a.values.len() && !a.published[c]
            })
    }

    /// The line along dimension `i` through `margin` (an offset at that dimension's
    /// margin), as offsets: each value's, then the margin's.
    fn dim_line(&self, i: usize, margin: usize) -> Vec<usize> {
        let (all, stride) = (self.dims[i].all(), self.strides[i]);
        let base = self.offsets[margin] - all * stride;
        (0..=all)
            .map(|c| self.position[&(base + c * stride)])
            .collect()
    }

    /// The offsets a row at dense offset `finest` adds to: every combination of its
    /// dimensions at a value, within the profile, the others at their margin.
    fn offsets_of_row(&self, finest: usize) -> Vec<usize> {
        let at_value: Vec<(usize, usize)> = (0..self.dims.len())
            .filter_map(|i| {
                let c = self.coord_of(finest, i);
                (c != self.dims[i].all()).then_some((i, c))
            })
            .collect();
        let margins: usize = (0..self.dims.len())
            .map(|i| self.dims[i].all() * self.strides[i])
            .sum();
        let mut out = Vec::new();
        self.combine(&at_value, 0, margins, 0, &mut out);
        out
    }

    fn combine(
        &self,
        at_value: &[(usize, usize)],
        j: usize,
        dense: usize,
        taken: usize,
        out: &mut Vec<usize>,
    ) {
        if j == at_value.len() {
            if let Some(&k) = self.position.get(&dense) {
                out.push(k);
            }
            return;
        }
        let (i, c) = at_value[j];
        if taken < self.max_attributes() {
            let at = dense - self.dims[i].all() * self.strides[i] + c * self.strides[i];
            self.combine(at_value, j + 1, at, taken + 1, out);
        }
        self.combine(at_value, j + 1, dense, taken, out);
    }

    /// The lines of disclosure control as a list: each total with its parts, along each
    /// dimension (a margin and its values) and along the unit hierarchy (every node with
    /// the nodes of the next finer level below it). The reference for [`TableLines`], which
    /// numbers the same lines in the same order without listing them.
    #[cfg(test)]
    pub fn lines(&self) -> Vec<Vec<usize>> {
        let mut lines = Vec::new();
        let ns = self.per_node;
        for (i, axis) in self.dims.iter().enumerate() {
            for index in 0..self.size() {
                if self.coord(index, i) != axis.all() || !self.dim_line_active(index % ns) {
                    continue;
                }
                let node = index / ns;
                lines.push(
                    self.dim_line(i, index % ns)
                        .into_iter()
                        .map(|k| node * ns + k)
                        .collect(),
                );
            }
        }
        let groups = self.unit_groups();
        for offset in 0..ns {
            for (parent, children) in &groups {
                let mut line = vec![parent * ns + offset];
                line.extend(children.iter().map(|c| c * ns + offset));
                lines.push(line);
            }
        }
        lines
    }

    /// Each unit node with the nodes of the next finer level below it (the whole
    /// extract with its types, a type with its jobcenters, a jobcenter with its
    /// districts), in a fixed order.
    ///
    /// The longer lines (a type with its districts, the whole extract with its
    /// jobcenters or districts) are sums too, but protecting the nested lines protects
    /// them: once no nested line holds exactly one withheld cell, a withheld district
    /// has a withheld neighbour in its jobcenter or a withheld jobcenter, which has a
    /// withheld neighbour in its type and a withheld district of its own — so every
    /// longer line holding one withheld cell holds two. Deciding on the longer lines as
    /// well only let a cover jump to the smallest district of another jobcenter of the
    /// same type, and from there on through that jobcenter's tables (measured on the
    /// sample: docs/disclosure.md).
    fn unit_groups(&self) -> Vec<(usize, Vec<usize>)> {
        let mut below: HashMap<(usize, Level), Vec<usize>> = HashMap::new();
        for (n, node) in self.nodes.iter().enumerate() {
            if let Some(&parent) = node.ancestors.first() {
                below.entry((parent, node.level)).or_default().push(n);
            }
        }
        let mut groups: Vec<(usize, Vec<usize>)> = below
            .into_iter()
            .map(|((parent, _), children)| (parent, children))
            .collect();
        groups.sort();
        groups
    }

    /// Whether each cell is hidden.
    pub fn hidden_cells(&self) -> Vec<bool> {
        (0..self.size()).map(|i| self.hidden(i)).collect()
    }

    /// The unit node of a cell (table index).
    pub fn node_of(&self, cell: usize) -> &Node {
        &self.nodes[cell / self.per_node.max(1)]
    }

    /// The districts whose rows make up the cells `cells` (table indices): the districts
    /// at or below their unit nodes, each once, in node order; `None` when that is every
    /// district (read the whole blocks).
    pub fn districts_under(&self, cells: impl IntoIterator<Item = usize>) -> Option<Vec<&str>> {
        let mut asked = vec![false; self.nodes.len()];
        for cell in cells {
            asked[cell / self.per_node.max(1)] = true;
        }
        let mut all = true;
        let mut districts = Vec::new();
        for (n, node) in self.nodes.iter().enumerate() {
            let Some(district) = node
                .district
                .as_deref()
                .filter(|_| node.level == Level::District)
            else {
                continue;
            };
            if asked[n] || node.ancestors.iter().any(|&a| asked[a]) {
                districts.push(district);
            } else {
                all = false;
            }
        }
        (!all).then_some(districts)
    }
}

/// The lines of disclosure control of a table, numbered rather than listed (a table of
/// millions of cells has millions of lines): first, per dimension, the line through each
/// cell at that dimension's margin whose parts lie inside the profile (the margin with
/// its values), in cell order; then, per offset, each unit node with the nodes of the
/// next finer level below it. The lines of one node's offsets are listed once and
/// shared by every node. A dimension with one value gives a line of two equal cells:
/// kept, so that withholding one withholds the other.
pub(super) struct TableLines<'a> {
    axes: &'a Axes,
    /// Per dimension, the offsets of each of its lines within a node: values, then margin.
    dim_lines: Vec<Vec<Vec<usize>>>,
    /// The number of the first line of each dimension.
    dim_start: Vec<usize>,
    /// Per offset and dimension, the line (within a node) along that dimension through it.
    along: Vec<Option<usize>>,
    /// The number of the first unit line.
    unit_start: usize,
    /// Each unit node with the nodes of the next finer level below it.
    groups: Vec<(usize, Vec<usize>)>,
    /// Per unit node, the groups it belongs to (as the total or as a part).
    node_groups: Vec<Vec<usize>>,
}

impl<'a> TableLines<'a> {
    /// The lines of `axes`.
    pub fn new(axes: &'a Axes) -> TableLines<'a> {
        let (ns, d) = (axes.per_node(), axes.dims.len());
        let mut dim_lines = vec![Vec::new(); d];
        let mut along = vec![None; ns * d];
        for (i, axis) in axes.dims.iter().enumerate() {
            for margin in 0..ns {
                if axes.coord(margin, i) != axis.all() || !axes.dim_line_active(margin) {
                    continue;
                }
                let line = axes.dim_line(i, margin);
                for &k in &line {
                    along[k * d + i] = Some(dim_lines[i].len());
                }
                dim_lines[i].push(line);
            }
        }
        let mut dim_start = Vec::with_capacity(d);
        let mut next = 0;
        for lines in &dim_lines {
            dim_start.push(next);
            next += axes.nodes.len() * lines.len();
        }
        let groups = axes.unit_groups();
        let mut node_groups = vec![Vec::new(); axes.nodes.len()];
        for (g, (parent, children)) in groups.iter().enumerate() {
            node_groups[*parent].push(g);
            for &c in children {
                node_groups[c].push(g);
            }
        }
        TableLines {
            axes,
            dim_lines,
            dim_start,
            along,
            unit_start: next,
            groups,
            node_groups,
        }
    }
}

impl disclosure::Lines for TableLines<'_> {
    fn count(&self) -> usize {
        self.unit_start + self.axes.per_node() * self.groups.len()
    }

    fn members(&self, line: usize, out: &mut Vec<usize>) {
        let ns = self.axes.per_node();
        if line < self.unit_start {
            let i = self.dim_start.partition_point(|&s| s <= line) - 1;
            let lines = &self.dim_lines[i];
            let rank = line - self.dim_start[i];
            let (node, j) = (rank / lines.len(), rank % lines.len());
            out.extend(lines[j].iter().map(|k| node * ns + k));
        } else {
            let k = line - self.unit_start;
            let (offset, g) = (k / self.groups.len(), k % self.groups.len());
            let (parent, children) = &self.groups[g];
            out.push(parent * ns + offset);
            out.extend(children.iter().map(|c| c * ns + offset));
        }
    }

    fn through(&self, cell: usize, out: &mut Vec<usize>) {
        let (ns, d) = (self.axes.per_node(), self.axes.dims.len());
        let (node, offset) = (cell / ns, cell % ns);
        for (i, start) in self.dim_start.iter().enumerate() {
            if let Some(j) = self.along[offset * d + i] {
                out.push(start + node * self.dim_lines[i].len() + j);
            }
        }
        let base = self.unit_start + offset * self.groups.len();
        out.extend(self.node_groups[node].iter().map(|g| base + g));
    }
}

/// How many months' tables to build at once: as many as there are cores, but no more
/// than fit [`TABLES_AT_ONCE_BYTES`] (a fine table is tens of MB).
pub(super) fn months_at_once(axes: &Axes) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let fit = TABLES_AT_ONCE_BYTES / axes.size().max(1).saturating_mul(TABLE_BYTES_PER_CELL);
    cores.min(fit).max(1)
}

/// Sums of one month's table: numerator, denominator and the counts behind them.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Sums {
    /// Numerator.
    pub n: f64,
    /// Denominator.
    pub d: f64,
    /// Persons or events behind the numerator.
    pub nc: f64,
    /// Persons or events behind the denominator.
    pub dc: f64,
}

/// One month's table: sums and the suppression decided on them.
pub(super) struct MonthTable {
    /// Sums per cell.
    pub sums: Vec<Sums>,
    /// Suppression per cell.
    pub decisions: Vec<Option<Suppression>>,
}

/// Builds month `t`'s table and decides its suppression.
pub(super) fn build(
    axes: &Axes,
    lines: &TableLines,
    hidden: &[bool],
    num: &Placed,
    den: &Placed,
    t: Month,
    min_count: u32,
) -> MonthTable {
    let sums = sums(axes, num, den, t);
    let cells: Vec<Cell> = sums
        .iter()
        .zip(hidden)
        .map(|(s, &hidden)| Cell {
            numerator_count: s.nc,
            denominator_count: s.dc,
            hidden,
            ..Default::default()
        })
        .collect();
    let decisions = decide(axes, lines, &cells, t, min_count);
    MonthTable { sums, decisions }
}

/// Decides the suppression of month `t`'s cells (logging its causes at debug level).
pub(super) fn decide(
    axes: &Axes,
    lines: &TableLines,
    cells: &[Cell],
    t: Month,
    min_count: u32,
) -> Vec<Option<Suppression>> {
    if tracing::enabled!(tracing::Level::DEBUG) {
        let (decisions, forced_by) = disclosure::suppress_explained(cells, lines, min_count);
        log_causes(axes, &decisions, &forced_by, t);
        decisions
    } else {
        disclosure::suppress_on(cells, lines, min_count)
    }
}

/// Month `t`'s sums of both sides in every cell of the table (cells whose districts'
/// rows the sides lack stay short: a question reads only cells whose rows it read).
pub(super) fn sums(axes: &Axes, num: &Placed, den: &Placed, t: Month) -> Vec<Sums> {
    let mut sums = undivided(axes, num, den, t);
    // Every cell was added up from undivided sums, exactly for whole counts; a mean
    // window divides once, here, so the same count gives the same quotient however its
    // rows were added (see `side`).
    let (nd, dd) = (num.side.divisor, den.side.divisor);
    if nd != 1.0 || dd != 1.0 {
        for s in &mut sums {
            s.n /= nd;
            s.nc /= nd;
            s.d /= dd;
            s.dc /= dd;
        }
    }
    sums
}

/// [`sums`] before a mean window's division: the sums over the window's months.
pub(super) fn undivided(axes: &Axes, num: &Placed, den: &Placed, t: Month) -> Vec<Sums> {
    let mut sums = vec![Sums::default(); axes.size()];
    add_side(axes, num, t, &mut sums, |s| (&mut s.n, &mut s.nc));
    add_side(axes, den, t, &mut sums, |s| (&mut s.d, &mut s.dc));
    sums
}

/// [`build`] from the sides' rows (placed here): for tests.
#[cfg(test)]
fn build_sides(
    axes: &Axes,
    lines: &TableLines,
    hidden: &[bool],
    num: &SideSums,
    den: &SideSums,
    t: Month,
    min_count: u32,
) -> MonthTable {
    build(
        axes,
        lines,
        hidden,
        &place(axes, num),
        &place(axes, den),
        t,
        min_count,
    )
}

/// Logs (debug) what disclosure control cost in month `t`'s table: primary cells by
/// their number of attributes, and secondary cells by their own number of attributes and
/// that of the small cell at the start of their chain of covers. A secondary cell with
/// one attribute set off by a small cell with four shows a small count deep in the
/// cross-product withholding a cell of an ordinary breakdown.
fn log_causes(
    axes: &Axes,
    decisions: &[Option<Suppression>],
    forced_by: &[Option<usize>],
    t: Month,
) {
    let mut primary: std::collections::BTreeMap<usize, usize> = Default::default();
    let mut secondary: std::collections::BTreeMap<(usize, usize), usize> = Default::default();
    for (cell, decision) in decisions.iter().enumerate() {
        match decision {
            Some(Suppression::Primary) => *primary.entry(axes.attributes(cell)).or_default() += 1,
            Some(Suppression::Secondary) => {
                let mut root = cell;
                // Cells are described only when the chains are printed.
                let trace = tracing::enabled!(tracing::Level::TRACE);
                let mut chain = Vec::new();
                while let Some(next) = forced_by[root] {
                    if trace {
                        chain.push(axes.describe(root));
                    }
                    root = next;
                }
                if trace {
                    chain.push(axes.describe(root));
                    tracing::trace!(month = %t, chain = %chain.join(" <- "), "secondary");
                }
                let key = (axes.attributes(cell), axes.attributes(root));
                *secondary.entry(key).or_default() += 1;
            }
            None => {}
        }
    }
    let primary: Vec<String> = primary.iter().map(|(a, n)| format!("{a}: {n}")).collect();
    let secondary: Vec<String> = secondary
        .iter()
        .map(|((a, r), n)| format!("{a}<-{r}: {n}"))
        .collect();
    tracing::debug!(
        month = %t,
        profile = ?axes.profile,
        primary_by_attributes = %primary.join(", "),
        secondary_by_attributes_and_cause = %secondary.join(", "),
        "withheld cells"
    );
}

/// The unit node of each district.
fn district_nodes(axes: &Axes) -> ahash::AHashMap<&str, usize> {
    axes.nodes
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            Some((n.district.as_deref()?, i)).filter(|_| n.level == Level::District)
        })
        .collect()
}

/// Per dimension of the table, its column in `side`'s keys (`None`: the side lacks it).
fn positions(axes: &Axes, side: &SideSums) -> Vec<Option<usize>> {
    axes.dims
        .iter()
        .map(|a| side.dims.iter().position(|d| *d == a.name))
        .collect()
}

/// A side's rows placed in the table, month by month: per month of the block, the sums
/// its rows add to each cell of the table (at their districts, or at the total for a side
/// without a unit breakdown), as a list in cell order. Each row is spread over the
/// offsets of the profile its values give once, here, rather than once for every
/// reporting month whose window holds it; a month's table then adds the lists of its
/// window's months. When any sum is a fraction, rows are spread in a fixed order (sorted
/// by month, node, dense offset and sums), so sums of fractions are added in the same
/// order every time; whole numbers add exactly in any order, so rows of counts are only
/// grouped by month.
pub(super) struct Placed<'a> {
    side: &'a SideSums,
    months: Vec<(Month, MonthCells)>,
    by_district: bool,
    lacking: Vec<usize>,
}

/// A month's sums per cell of the table: `(cell, (value, count))` in cell order.
type MonthCells = Vec<(usize, (f64, f64))>;

/// A row placed in the table: its month, unit node, dense offset and sums.
type PlacedRow = (Month, usize, usize, (f64, f64));

/// Places a side's rows in the table of `axes` (once per question: every month's table
/// reads them).
pub(super) fn place<'a>(axes: &Axes, side: &'a SideSums) -> Placed<'a> {
    let district_pos = side.dims.iter().position(|d| d == "district_id");
    let district_node = district_nodes(axes);
    let positions = positions(axes, side);
    // Per dimension of the side, the node or the coordinate of each of its codes.
    let nodes: Vec<Option<usize>> = district_pos.map_or_else(Vec::new, |p| {
        side.values[p]
            .iter()
            .map(|d| d.as_deref().and_then(|d| district_node.get(d).copied()))
            .collect()
    });
    let coords: Vec<Option<Vec<usize>>> = axes
        .dims
        .iter()
        .zip(&positions)
        .map(|(axis, pos)| {
            pos.map(|p| {
                side.values[p]
                    .iter()
                    .map(|v| {
                        axis.values
                            .iter()
                            .position(|a| a == v)
                            .unwrap_or(axis.all())
                    })
                    .collect()
            })
        })
        .collect();
    let d = side.dims.len();
    let mut rows: Vec<PlacedRow> = Vec::with_capacity(side.months.len());
    for (r, (&month, &sums)) in side.months.iter().zip(&side.sums).enumerate() {
        let codes = &side.codes[r * d..(r + 1) * d];
        let node = match district_pos {
            Some(p) => match nodes[codes[p] as usize] {
                Some(n) => n,
                // A district outside the reference tables cannot occur after
                // validation (unknown references are refused or quarantined).
                None => continue,
            },
            None => 0,
        };
        let dense: usize = coords
            .iter()
            .zip(&positions)
            .zip(axes.dims.iter().zip(&axes.strides))
            .map(|((coords, pos), (axis, stride))| {
                let c = match (coords, pos) {
                    (Some(coords), Some(p)) => coords[codes[*p] as usize],
                    _ => axis.all(),
                };
                c * stride
            })
            .sum();
        rows.push((month, node, dense, sums));
    }
    // Whole numbers add exactly in any order while every partial sum stays below 2^53
    // (the sum of their magnitudes does), so rows of counts need only be grouped by
    // month; a fraction (euros) fixes the order of every row.
    let whole = rows
        .iter()
        .all(|r| r.3.0.fract() == 0.0 && r.3.1.fract() == 0.0)
        && rows.iter().map(|r| r.3.0.abs() + r.3.1.abs()).sum::<f64>() < 9.0e15;
    if whole {
        rows.sort_unstable_by_key(|r| r.0);
    } else {
        rows.sort_unstable_by(|a, b| {
            (a.0, a.1, a.2, a.3.0.to_bits(), a.3.1.to_bits()).cmp(&(
                b.0,
                b.1,
                b.2,
                b.3.0.to_bits(),
                b.3.1.to_bits(),
            ))
        });
    }
    let mut offsets_of: AHashMap<usize, Vec<usize>> = AHashMap::new();
    for &(_, _, dense, _) in &rows {
        offsets_of
            .entry(dense)
            .or_insert_with(|| axes.offsets_of_row(dense));
    }
    // Each month's rows (sorted by month above), spread on as many threads as there
    // are cores.
    let runs: Vec<&[PlacedRow]> = rows.chunk_by(|a, b| a.0 == b.0).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = runs.len().div_ceil(cores).max(1);
    let spread = |runs: &[&[PlacedRow]]| {
        let mut scratch = vec![(0.0, 0.0); axes.size()];
        let ns = axes.per_node();
        runs.iter()
            .map(|run| {
                for &(_, node, dense, (v, c)) in run.iter() {
                    for &k in &offsets_of[&dense] {
                        let cell = &mut scratch[node * ns + k];
                        cell.0 += v;
                        cell.1 += c;
                    }
                }
                let cells: MonthCells = scratch
                    .iter_mut()
                    .enumerate()
                    .filter(|(_, s)| **s != (0.0, 0.0))
                    .map(|(i, s)| (i, std::mem::take(s)))
                    .collect();
                (run[0].0, cells)
            })
            .collect::<Vec<_>>()
    };
    let chunks: Vec<&[&[PlacedRow]]> = runs.chunks(per_thread).collect();
    let months = each_on_a_thread(&chunks, &|chunk| spread(chunk))
        .into_iter()
        .flatten()
        .collect();
    Placed {
        side,
        months,
        by_district: district_pos.is_some(),
        lacking: (0..axes.dims.len())
            .filter(|&i| positions[i].is_none())
            .collect(),
    }
}

/// `build` over each item, on one thread per item when there are several (the months of
/// a question's tables, the chunks of a side's rows to place).
pub(super) fn each_on_a_thread<T: Sync, R: Send>(
    items: &[T],
    build: &(impl Fn(&T) -> R + Sync),
) -> Vec<R> {
    if items.len() < 2 {
        return items.iter().map(build).collect();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .iter()
            .map(|item| s.spawn(move || build(item)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// Adds a side's rows into every cell of month `t`'s table they belong to: the placed
/// sums of each month of `t`'s window (each row at its district, in every offset of the
/// profile its values give, the other dimensions at their margin); the districts are
/// then added up the unit hierarchy in node order, and a dimension the side lacks is
/// copied from its margin to its values (its value does not depend on that dimension,
/// e.g. S1's denominator by `service`). `field` names the side's two sums in a cell
/// (value and count), which start at zero.
fn add_side(
    axes: &Axes,
    placed: &Placed,
    t: Month,
    sums: &mut [Sums],
    field: impl Fn(&mut Sums) -> (&mut f64, &mut f64),
) {
    let ns = axes.per_node();
    let read = |sums: &mut [Sums], i: usize| {
        let (v, c) = field(&mut sums[i]);
        (*v, *c)
    };
    let plus = |sums: &mut [Sums], i: usize, (dv, dc): (f64, f64)| {
        let (v, c) = field(&mut sums[i]);
        *v += dv;
        *c += dc;
    };
    let set = |sums: &mut [Sums], i: usize, (nv, nc): (f64, f64)| {
        let (v, c) = field(&mut sums[i]);
        *v = nv;
        *c = nc;
    };
    for &offset in &placed.side.offsets {
        let month = t.plus(-(offset as i32));
        if let Ok(m) = placed.months.binary_search_by_key(&month, |(m, _)| *m) {
            for &(cell, row) in &placed.months[m].1 {
                plus(sums, cell, row);
            }
        }
    }
    if placed.by_district {
        for (n, node) in axes.nodes.iter().enumerate() {
            if node.level != Level::District {
                continue;
            }
            for &a in &node.ancestors {
                for k in 0..ns {
                    let v = read(sums, n * ns + k);
                    plus(sums, a * ns + k, v);
                }
            }
        }
    } else {
        for n in 1..axes.nodes.len() {
            for k in 0..ns {
                let v = read(sums, k);
                set(sums, n * ns + k, v);
            }
        }
    }
    // A dimension the side lacks: each offset takes the sums of the offset with every
    // such dimension at its margin (which has fewer attributes, so it is in the table).
    let lacking = &placed.lacking;
    if lacking.is_empty() {
        return;
    }
    for k in 0..ns {
        let dense = axes.offsets[k];
        let source = lacking.iter().fold(dense, |d, &i| {
            let (c, all) = (axes.coord_of(d, i), axes.dims[i].all());
            d - c * axes.strides[i] + all * axes.strides[i]
        });
        if source == dense {
            continue;
        }
        let source = axes.position[&source];
        for n in 0..axes.nodes.len() {
            let v = read(sums, n * ns + source);
            set(sums, n * ns + k, v);
        }
    }
}

/// [`add_side`] as first written, the reference of its test: each row added into every
/// cell of the table it belongs to — each unit node above the row's district, each
/// dimension at the row's value and at the margin — and, for a dimension the side does
/// not have, at every coordinate (its value does not depend on that dimension, e.g.
/// S1's denominator by `service`).
#[cfg(test)]
fn add_side_row_by_row(
    axes: &Axes,
    side: &SideSums,
    t: Month,
    sums: &mut [Sums],
    add: impl Fn(&mut Sums, f64, f64),
) {
    let district_pos = side.dims.iter().position(|d| d == "district_id");
    let (district_node, positions) = (district_nodes(axes), positions(axes, side));
    for (month, key, (value, count)) in side.cells() {
        if month != t {
            continue;
        }
        // The unit nodes: the district and everything above it, or every node for a
        // side without a unit breakdown.
        let nodes: Vec<usize> = match district_pos {
            Some(p) => match key[p].as_deref().and_then(|d| district_node.get(d)) {
                Some(&n) => std::iter::once(n)
                    .chain(axes.nodes[n].ancestors.iter().copied())
                    .collect(),
                None => continue,
            },
            None => (0..axes.nodes.len()).collect(),
        };
        // Per dimension, the coordinates this row adds to.
        let mut choices: Vec<Vec<usize>> = Vec::with_capacity(axes.dims.len());
        for (axis, pos) in axes.dims.iter().zip(&positions) {
            choices.push(match pos {
                Some(p) => {
                    let c = axis
                        .values
                        .iter()
                        .position(|v| *v == key[*p])
                        .unwrap_or(axis.all());
                    if c == axis.all() {
                        vec![c]
                    } else {
                        vec![c, axis.all()]
                    }
                }
                None => (0..=axis.all()).collect(),
            });
        }
        let mut dense = vec![0usize];
        for (choice, stride) in choices.iter().zip(&axes.strides) {
            dense = dense
                .iter()
                .flat_map(|o| choice.iter().map(move |c| o + c * stride))
                .collect();
        }
        for &n in &nodes {
            // Cells beyond the profile are not in the table.
            for k in dense.iter().filter_map(|d| axes.position.get(d)) {
                add(&mut sums[n * axes.per_node() + k], value, count);
            }
        }
    }
}

/// The unit nodes: the total, the comparison types, the jobcenters, the districts.
fn unit_nodes(units: &[Unit]) -> Vec<Node> {
    let mut nodes = vec![Node {
        level: Level::Total,
        district: None,
        jobcenter: None,
        ctype: None,
        hidden: false,
        ancestors: Vec::new(),
    }];
    let types: BTreeSet<Option<&str>> =
        units.iter().map(|u| u.comparison_type.as_deref()).collect();
    let mut type_node = HashMap::new();
    for t in types {
        type_node.insert(t, nodes.len());
        nodes.push(Node {
            level: Level::Type,
            district: None,
            jobcenter: None,
            ctype: t.map(str::to_string),
            hidden: t.is_none(),
            ancestors: vec![0],
        });
    }
    let jobcenters: BTreeSet<(&str, Option<&str>)> = units
        .iter()
        .map(|u| (u.jobcenter_id.as_str(), u.comparison_type.as_deref()))
        .collect();
    let mut jobcenter_node = HashMap::new();
    for (j, t) in jobcenters {
        let tn = type_node[&t];
        jobcenter_node.insert(j, nodes.len());
        nodes.push(Node {
            level: Level::Jobcenter,
            district: None,
            jobcenter: Some(j.to_string()),
            ctype: t.map(str::to_string),
            hidden: false,
            ancestors: vec![tn, 0],
        });
    }
    let mut districts: Vec<&Unit> = units.iter().collect();
    districts.sort_by(|a, b| a.district_id.cmp(&b.district_id));
    for u in districts {
        let jn = jobcenter_node[u.jobcenter_id.as_str()];
        let tn = type_node[&u.comparison_type.as_deref()];
        nodes.push(Node {
            level: Level::District,
            district: Some(u.district_id.clone()),
            jobcenter: Some(u.jobcenter_id.clone()),
            ctype: u.comparison_type.clone(),
            hidden: false,
            ancestors: vec![jn, tn, 0],
        });
    }
    nodes
}

#[cfg(test)]
mod tests {
    /// A side's cells: (month, values) → (value, count).
    type CellKey = (Month, Vec<Option<String>>);
    type CellSums = std::collections::HashMap<CellKey, (f64, f64)>;
    use super::*;

    /// The published values the project's `person_months` declares for sex and age.
    fn declared() -> Domains {
        [
            ("sex", &["f", "m"][..]),
            ("age_group", &["u25", "25_54", "55plus"][..]),
        ]
        .into_iter()
        .map(|(d, v)| (d.to_string(), v.iter().map(|x| x.to_string()).collect()))
        .collect()
    }

    fn district(id: &str) -> Unit {
        Unit {
            district_id: id.into(),
            district_name: id.into(),
            jobcenter_id: "J".into(),
            jobcenter_name: "J".into(),
            comparison_type: Some("Ia".into()),
        }
    }

    /// One side by district only: `(district, sum over the window)` for month `t`.
    fn side(t: Month, rows: &[(&str, f64)], divisor: f64) -> SideSums {
        SideSums::from_cells(
            &["district_id"],
            rows.iter()
                .map(|&(d, c)| ((t, vec![Some(d.to_string())]), (c, c))),
            divisor,
        )
    }

    #[test]
    fn a_mean_windows_count_is_divided_once_so_any_order_of_addition_gives_it_exactly() {
        // A twelve-month mean: districts with 12, 13 and 11 person-months make 36 / 12 = 3
        // persons for the jobcenter. Added as 12/12 + 13/12 + 11/12 (the order a
        // HashMap may give) that is 2.9999999999999996, below a threshold of 3; divided
        // once it is 3 exactly, in every order, and the jobcenter is published.
        let t = Month::new(2018, 12).expect("a month");
        let units = [district("D1"), district("D2"), district("D3")];
        let num = side(t, &[("D1", 12.0), ("D2", 13.0), ("D3", 11.0)], 12.0);
        let den = side(t, &[("D1", 120.0), ("D2", 130.0), ("D3", 110.0)], 12.0);
        let axes = Axes::new(&units, &[], &declared(), [&num, &den], &[]);
        let table = build_sides(
            &axes,
            &TableLines::new(&axes),
            &axes.hidden_cells(),
            &num,
            &den,
            t,
            3,
        );
        let node = |level: Level| {
            axes.nodes
                .iter()
                .position(|n| n.level == level)
                .expect("a node of that level")
        };
        for level in [Level::Total, Level::Type, Level::Jobcenter] {
            let cell = axes.index(node(level), &[]).expect("in the table");
            assert_eq!(table.sums[cell].nc, 3.0, "{level:?}");
            assert_eq!(table.sums[cell].dc, 30.0, "{level:?}");
            assert_eq!(table.decisions[cell], None, "{level:?}");
        }
        // Each district has about one person: withheld, and the jobcenter's line has
        // three withheld cells, so nothing more is needed.
        for d in 0..3 {
            let cell = axes
                .index(node(Level::District) + d, &[])
                .expect("in the table");
            assert_eq!(table.decisions[cell], Some(Suppression::Primary));
        }
        let d1 = axes
            .index(node(Level::District), &[])
            .expect("in the table");
        assert_eq!(table.sums[d1].nc, 1.0);
    }

    /// Three jobcenters of two comparison types (one without a type), seven districts,
    /// by sex (with the hidden `d`) and age group, with small random counts so that many
    /// cells are withheld and covers chain across the lines.
    fn random_table(seed: u64, breakdowns: usize) -> (Axes, SideSums, SideSums, Month) {
        use rand::{Rng, SeedableRng};
        let t = Month::new(2018, 12).expect("a month");
        let unit = |d: &str, j: &str, ty: Option<&str>| Unit {
            district_id: d.into(),
            district_name: d.into(),
            jobcenter_id: j.into(),
            jobcenter_name: j.into(),
            comparison_type: ty.map(str::to_string),
        };
        let units = [
            unit("D1", "J1", Some("Ia")),
            unit("D2", "J1", Some("Ia")),
            unit("D3", "J2", Some("Ia")),
            unit("D4", "J2", Some("Ia")),
            unit("D5", "J2", Some("Ia")),
            unit("D6", "J3", Some("IIb")),
            unit("D7", "J4", None),
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut dims = vec!["district_id".to_string(), "sex".into(), "age_group".into()];
        // A third dimension only when asked for, so that the smaller tables keep their
        // counts.
        let citizenships: &[Option<&str>] = if breakdowns > 2 {
            dims.push("citizenship".into());
            &[Some("german"), Some("foreign")]
        } else {
            &[None]
        };
        let (mut num, mut den) = (CellSums::default(), CellSums::default());
        for u in &units {
            for sex in ["f", "m", "d"] {
                for age in ["u25", "25_54", "55plus"] {
                    for citizenship in citizenships {
                        let d: u32 = rng.random_range(0..9);
                        let n: u32 = rng.random_range(0..=d);
                        let mut key = vec![
                            Some(u.district_id.clone()),
                            Some(sex.into()),
                            Some(age.into()),
                        ];
                        key.extend(citizenship.map(|c| Some(c.to_string())));
                        num.insert((t, key.clone()), (f64::from(n), f64::from(n)));
                        den.insert((t, key), (f64::from(d), f64::from(d)));
                    }
                }
            }
        }
        let names: Vec<&str> = dims.iter().map(String::as_str).collect();
        let side = |sums: CellSums| SideSums::from_cells(&names, sorted(sums), 1.0);
        let (num, den) = (side(num), side(den));
        let axes = Axes::new(
            &units,
            &dims[1..1 + breakdowns],
            &declared(),
            [&num, &den],
            &[],
        );
        (axes, num, den, t)
    }

    #[test]
    fn the_profiles_table_decides_as_the_cross_product_with_the_cells_beyond_it_hidden() {
        // The table before it held only the profile's cells: the whole cross-product,
        // each cell beyond the profile hidden and in no line, a line along a dimension
        // only where its parts lie inside the profile, a unit line at every offset
        // inside it; decided by full passes in the same order. Every cell the profile's
        // table holds must have that table's sums and decision.
        let mut compared = 0;
        for seed in 0..20 {
            for profile in [0, 1, 2, 3] {
                let (whole, num, den, t) = random_table(seed, 3);
                let narrow = whole.clone().with_profile(Some(profile));
                let table = build_sides(
                    &narrow,
                    &TableLines::new(&narrow),
                    &narrow.hidden_cells(),
                    &num,
                    &den,
                    t,
                    3,
                );
                let sums = build_sides(
                    &whole,
                    &TableLines::new(&whole),
                    &whole.hidden_cells(),
                    &num,
                    &den,
                    t,
                    0,
                )
                .sums;
                let beyond = |cell: usize| whole.attributes(cell) > profile;
                let cells: Vec<Cell> = sums
                    .iter()
                    .zip(whole.hidden_cells())
                    .enumerate()
                    .map(|(i, (s, hidden))| Cell {
                        numerator_count: s.nc,
                        denominator_count: s.dc,
                        hidden: hidden || beyond(i),
                        ..Default::default()
                    })
                    .collect();
                let lines: Vec<Vec<usize>> = whole
                    .lines()
                    .into_iter()
                    // The parts of a dimension's line have one attribute more than
                    // its margin; a unit line's cells all have the same.
                    .filter(|line| line.iter().all(|&c| whole.attributes(c) <= profile))
                    .collect();
                let old = disclosure::suppress_by_full_passes(&cells, &lines, 3);
                for (cell, decision) in table.decisions.iter().enumerate() {
                    let (n, k) = (cell / narrow.per_node(), cell % narrow.per_node());
                    let same = n * whole.per_node() + whole.position[&narrow.offsets[k]];
                    let (a, b) = (table.sums[cell], sums[same]);
                    assert_eq!(
                        (a.n, a.d, a.nc, a.dc),
                        (b.n, b.d, b.nc, b.dc),
                        "seed {seed}"
                    );
                    assert_eq!(*decision, old[same], "seed {seed}, profile {profile}");
                    compared += usize::from(decision.is_some());
                }
            }
        }
        assert!(compared > 1000, "only {compared} withheld cells compared");
    }

    #[test]
    fn the_tables_numbered_lines_are_the_listed_lines_in_the_same_order() {
        for breakdowns in 0..=2 {
            for profile in [None, Some(0), Some(1), Some(2)] {
                let (axes, ..) = random_table(1, breakdowns);
                assert_numbered_lines_are_listed_lines(&axes.with_profile(profile));
            }
        }
    }

    #[test]
    fn a_small_cell_beyond_the_profile_forces_no_cover_in_the_tables_it_publishes() {
        // One jobcenter J of two districts, by sex and age group. D1's women: one under
        // 25, none of 25 to 54 or over 55, five without an age group (rows dated before
        // the birth date: never published, in every total). Every other cell holds 10.
        let t = Month::new(2018, 12).expect("a month");
        let units = [district("D1"), district("D2")];
        let dims = ["district_id".to_string(), "sex".into(), "age_group".into()];
        let mut sums = CellSums::default();
        for d in ["D1", "D2"] {
            for sex in ["f", "m"] {
                for age in [Some("u25"), Some("25_54"), Some("55plus"), None] {
                    let n = match (d, sex, age) {
                        ("D1", "f", Some("u25")) => 1.0,
                        ("D1", "f", None) => 5.0,
                        ("D1", "f", _) | (_, _, None) => continue,
                        _ => 10.0,
                    };
                    let key = vec![
                        Some(d.to_string()),
                        Some(sex.into()),
                        age.map(str::to_string),
                    ];
                    sums.insert((t, key), (n, n));
                }
            }
        }
        let names: Vec<&str> = dims.iter().map(String::as_str).collect();
        let side = SideSums::from_cells(&names, sorted(sums), 1.0);
        let decide = |profile: Option<usize>| {
            let axes = Axes::new(&units, &dims[1..], &declared(), [&side, &side], &[])
                .with_profile(profile);
            let table = build_sides(
                &axes,
                &TableLines::new(&axes),
                &axes.hidden_cells(),
                &side,
                &side,
                t,
                3,
            );
            (axes, table)
        };
        let node = |axes: &Axes, d: &str| {
            axes.nodes
                .iter()
                .position(|n| n.district.as_deref() == Some(d))
                .expect("a district node")
        };
        // Coordinates: sex f 0, m 1, margin 2; age u25 0, 25_54 1, 55plus 2, none 3,
        // margin 4.
        let (f, m, all_sex, u25, all_age) = (0, 1, 2, 0, 4);
        let one_way_withheld = |axes: &Axes, table: &MonthTable| {
            (0..axes.nodes.len())
                .flat_map(|n| {
                    let sexes = (0..2).map(move |s| [s, all_age]);
                    let ages = (0..3).map(move |a| [all_sex, a]);
                    sexes
                        .chain(ages)
                        .map(move |c| axes.index(n, &c).expect("in the table"))
                })
                .filter(|&i| table.decisions[i].is_some())
                .count()
        };

        // The full cross-product: D1 f u25 is withheld. Along age, D1's women have no
        // other published part that is not zero, so the cover is their total (1 + 5):
        // a cell of the one-way table by sex, which then needs D1's men withheld too.
        let (axes, full) = decide(None);
        let d1 = node(&axes, "D1");
        let cell = |c: [usize; 2]| full.decisions[axes.index(d1, &c).expect("in the table")];
        assert_eq!(cell([f, u25]), Some(Suppression::Primary));
        assert_eq!(cell([f, all_age]), Some(Suppression::Secondary));
        assert_eq!(cell([m, all_age]), Some(Suppression::Secondary));
        assert!(one_way_withheld(&axes, &full) >= 2);

        // Profile 1: the two-way cell D1 f u25 is beyond it, never published, and sets
        // nothing off: no cell of any one-way table is withheld, nor any other.
        let (axes, profiled) = decide(Some(1));
        assert_eq!(axes.index(d1, &[f, u25]), None, "not in the table");
        assert_eq!(one_way_withheld(&axes, &profiled), 0);
        assert!(profiled.decisions.iter().all(Option::is_none));
        // The profile decides what is published, not what is counted: every cell it
        // holds has the sums of the same cell of the cross-product.
        let (full_axes, _) = decide(None);
        for n in 0..axes.nodes.len() {
            for c in [
                [f, all_age],
                [m, all_age],
                [all_sex, u25],
                [all_sex, all_age],
            ] {
                let at = |a: &Axes| a.index(n, &c).expect("in the table");
                assert_eq!(profiled.sums[at(&axes)].n, full.sums[at(&full_axes)].n);
            }
        }
        // Profile 2 is the whole cross-product of two attributes: as no profile.
        assert_eq!(decide(Some(2)).1.decisions, full.decisions);
    }

    fn assert_numbered_lines_are_listed_lines(axes: &Axes) {
        use crate::disclosure::Lines;
        let listed = axes.lines();
        let numbered = TableLines::new(axes);
        assert_eq!(numbered.count(), listed.len());
        let mut of_cell = vec![Vec::new(); axes.size()];
        for (l, line) in listed.iter().enumerate() {
            let mut members = Vec::new();
            numbered.members(l, &mut members);
            assert_eq!(&members, line, "line {l}");
            for &c in line {
                of_cell[c].push(l);
            }
        }
        for (cell, expected) in of_cell.iter().enumerate() {
            let mut through = Vec::new();
            numbered.through(cell, &mut through);
            through.sort_unstable();
            assert_eq!(&through, expected, "cell {cell}");
        }
    }

    #[test]
    fn suppression_on_numbered_lines_equals_full_passes_over_the_listed_lines() {
        for profile in [None, Some(1)] {
            suppression_equals_full_passes(profile);
        }
    }

    fn suppression_equals_full_passes(profile: Option<usize>) {
        let mut withheld = 0;
        for seed in 0..20 {
            let (axes, num, den, t) = random_table(seed, 2);
            let axes = axes.with_profile(profile);
            let table = build_sides(
                &axes,
                &TableLines::new(&axes),
                &axes.hidden_cells(),
                &num,
                &den,
                t,
                3,
            );
            let cells: Vec<Cell> = table
                .sums
                .iter()
                .zip(axes.hidden_cells())
                .map(|(s, hidden)| Cell {
                    numerator_count: s.nc,
                    denominator_count: s.dc,
                    hidden,
                    ..Default::default()
                })
                .collect();
            assert_eq!(
                table.decisions,
                disclosure::suppress_by_full_passes(&cells, &axes.lines(), 3),
                "seed {seed}"
            );
            withheld += table.decisions.iter().filter(|d| d.is_some()).count();
        }
        // The fixture exercises the rule: many primary and secondary suppressions.
        assert!(withheld > 500, "only {withheld} cells withheld");
    }

    #[test]
    fn protecting_the_nested_unit_lines_protects_the_longer_ones() {
        // The lines no longer decided on: each unit node with the nodes two or three
        // levels below it (a type with its districts, the whole extract with its
        // jobcenters and its districts), at every offset. After suppression none may
        // hold exactly one withheld cell (suppressed, or hidden with a small count).
        let mut checked = 0;
        for seed in 0..20 {
            for profile in [None, Some(1)] {
                let (axes, num, den, t) = random_table(seed, 2);
                let axes = axes.with_profile(profile);
                let hidden = axes.hidden_cells();
                let table = build_sides(&axes, &TableLines::new(&axes), &hidden, &num, &den, t, 3);
                let small = |c: f64| c > 0.0 && c < 3.0;
                let withheld = |i: usize| {
                    let s = &table.sums[i];
                    table.decisions[i].is_some() || (hidden[i] && (small(s.nc) || small(s.dc)))
                };
                let ns = axes.per_node();
                for (parent, node) in axes.nodes.iter().enumerate() {
                    let longer: Vec<Vec<usize>> = [Level::Jobcenter, Level::District]
                        .into_iter()
                        .filter(|&level| level as usize > node.level as usize + 1)
                        .map(|level| {
                            (0..axes.nodes.len())
                                .filter(|&n| {
                                    axes.nodes[n].level == level
                                        && axes.nodes[n].ancestors.contains(&parent)
                                })
                                .collect()
                        })
                        .collect();
                    for children in longer {
                        for offset in 0..ns {
                            let held = std::iter::once(parent)
                                .chain(children.iter().copied())
                                .filter(|&n| withheld(n * ns + offset))
                                .count();
                            assert_ne!(held, 1, "seed {seed}, node {parent}, offset {offset}");
                            checked += usize::from(held > 0);
                        }
                    }
                }
            }
        }
        assert!(
            checked > 100,
            "only {checked} longer lines held withheld cells"
        );
    }

    /// `side` summed over the dimensions not in `keep`, as a block without them would
    /// give it, with a row of another month that must be left out.
    fn project(side: &SideSums, keep: &[&str]) -> SideSums {
        let positions: Vec<usize> = keep
            .iter()
            .map(|k| {
                side.dims
                    .iter()
                    .position(|d| d == k)
                    .expect("a dimension of the side")
            })
            .collect();
        let mut sums = CellSums::default();
        for (month, key, (v, c)) in side.cells() {
            let key: Vec<Option<String>> = positions.iter().map(|&p| key[p].clone()).collect();
            let s = sums.entry((month, key)).or_default();
            s.0 += v;
            s.1 += c;
        }
        let other = Month::new(2019, 1).expect("a month");
        let key = sums
            .keys()
            .next()
            .map(|(_, k)| k.clone())
            .unwrap_or_default();
        sums.insert((other, key), (1000.0, 1000.0));
        SideSums::from_cells(keep, sorted(sums), 1.0)
    }

    /// Cells in a fixed order, so that a side's codes do not follow a `HashMap`'s.
    fn sorted(sums: CellSums) -> Vec<(CellKey, (f64, f64))> {
        let mut cells: Vec<_> = sums.into_iter().collect();
        cells.sort_by(|a, b| a.0.cmp(&b.0));
        cells
    }

    #[test]
    fn adding_each_row_into_its_profiles_cells_equals_adding_it_into_every_cell() {
        for (seed, profile) in (0..10).flat_map(|s| [(s, None), (s, Some(1)), (s, Some(2))]) {
            let (axes, _, den, t) = random_table(seed, 3);
            let axes = axes.with_profile(profile);
            let shapes: [&[&str]; 7] = [
                &["district_id", "sex", "age_group", "citizenship"],
                &["district_id", "sex", "age_group"],
                &["district_id"],
                &["district_id", "age_group"],
                &["sex", "age_group"],
                &["sex"],
                &[],
            ];
            for keep in shapes {
                let side = project(&den, keep);
                let mut summed = vec![Sums::default(); axes.size()];
                add_side(&axes, &place(&axes, &side), t, &mut summed, |s| {
                    (&mut s.d, &mut s.dc)
                });
                let mut added = vec![Sums::default(); axes.size()];
                add_side_row_by_row(&axes, &side, t, &mut added, |s, v, c| {
                    s.d += v;
                    s.dc += c;
                });
                let cells: Vec<(f64, f64)> = summed.iter().map(|s| (s.d, s.dc)).collect();
                let expected: Vec<(f64, f64)> = added.iter().map(|s| (s.d, s.dc)).collect();
                assert_eq!(
                    cells, expected,
                    "seed {seed}, profile {profile:?}, dimensions {keep:?}"
                );
                // Whole counts: the total is exact and not the other month's 1000.
                assert!(
                    cells[0].0 > 0.0 && cells[0].0 < 1000.0,
                    "total {}",
                    cells[0].0
                );
            }
        }
    }
}

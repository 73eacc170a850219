//! Disclosure control: which cells of an answer must be withheld. Pure, no I/O.
//!
//! docs/disclosure.md: no published cell may reveal a count of 1 or 2 (by default; the
//! threshold is configurable). *Primary* suppression withholds a cell whose numerator or
//! denominator count is below the threshold. *Secondary* suppression: in every breakdown
//! that sits under a published total (a "line" of cells that add up to that total), if
//! exactly one cell is withheld, the smallest other non-zero cell is withheld too, so the
//! withheld count cannot be recovered by subtraction. Lines overlap (a district is in the
//! line of its jobcenter and in the line of its sex), so the rule runs until nothing
//! changes.
//!
//! Lines include their total (the engine's table holds totals and parts alike). Cells
//! that are never published (a row without an age group, which enters totals only)
//! still belong to their lines: if such a hidden cell holds a small count, it is protected like a
//! primary suppression. A hidden cell with a large count protects nothing by itself,
//! since its count may be derivable elsewhere; when a line offers no published cover, a
//! hidden one is marked withheld so that its own lines get covers in turn.

use serde::Serialize;

pub mod series;

/// Why a cell is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Suppression {
    /// Its own numerator or denominator count is below the threshold.
    Primary,
    /// Withheld so that a primary suppression cannot be recovered by subtraction.
    Secondary,
}

/// The counts behind one cell of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cell {
    /// Persons or events behind the numerator.
    pub numerator_count: f64,
    /// Persons or events behind the denominator.
    pub denominator_count: f64,
    /// Not published whatever its counts (but part of the totals).
    pub hidden: bool,
    /// The cell's numerator windows over the months would give a monthly count away
    /// ([`series`]): sensitive in every month, whatever its count.
    pub numerator_series: bool,
    /// The same for its denominator windows.
    pub denominator_series: bool,
}

impl Cell {
    fn sensitive(&self, min_count: f64) -> bool {
        let small = |c: f64| c > 0.0 && c < min_count;
        small(self.numerator_count)
            || small(self.denominator_count)
            || (min_count > 0.0 && (self.numerator_series || self.denominator_series))
    }

    fn is_zero(&self) -> bool {
        self.numerator_count == 0.0 && self.denominator_count == 0.0
    }
}

/// The lines of disclosure control over a set of cells, as numbered lines: which cells
/// a line holds, and which lines hold a cell. The engine's table describes its lines
/// arithmetically (millions of cells need no list of lists); [`Listed`] is a plain list.
pub trait Lines {
    /// How many lines there are; they are numbered `0..count()`.
    fn count(&self) -> usize;
    /// The cells of line `line`, appended to `out`.
    fn members(&self, line: usize, out: &mut Vec<usize>);
    /// The lines that hold `cell`, appended to `out`.
    fn through(&self, cell: usize, out: &mut Vec<usize>);
}

/// Lines given as a list of cell lists, with the index from cell to lines.
pub struct Listed<'a> {
    lines: &'a [Vec<usize>],
    of_cell: Vec<Vec<usize>>,
}

impl<'a> Listed<'a> {
    /// Indexes `lines` over `cells` cells.
    pub fn new(lines: &'a [Vec<usize>], cells: usize) -> Listed<'a> {
        let mut of_cell = vec![Vec::new(); cells];
        for (l, line) in lines.iter().enumerate() {
            for &c in line {
                of_cell[c].push(l);
            }
        }
        Listed { lines, of_cell }
    }
}

impl Lines for Listed<'_> {
    fn count(&self) -> usize {
        self.lines.len()
    }

    fn members(&self, line: usize, out: &mut Vec<usize>) {
        out.extend_from_slice(&self.lines[line]);
    }

    fn through(&self, cell: usize, out: &mut Vec<usize>) {
        out.extend_from_slice(&self.of_cell[cell]);
    }
}

/// Decides the suppression of every cell. `lines` lists, by index into `cells`, each
/// breakdown that sums to a published total. `min_count = 0` switches suppression off.
pub fn suppress(cells: &[Cell], lines: &[Vec<usize>], min_count: u32) -> Vec<Option<Suppression>> {
    suppress_on(cells, &Listed::new(lines, cells.len()), min_count)
}

/// [`suppress`] over lines of any description.
///
/// The rule is applied line by line in the order of the lines, pass after pass, until a
/// pass changes nothing. A line can act only when one of its cells changed since it was
/// last looked at (it holds 0 or at least 2 withheld cells, or one with no cover, until
/// then), so only those lines are visited: the lines through a cell withheld at the
/// start, then the lines through each new cover — later lines in the same pass, earlier
/// ones in the next, exactly as a full pass would meet them. The decisions are the same
/// as visiting every line in every pass; the visits grow with the withheld cells, not
/// with the table.
pub fn suppress_on(cells: &[Cell], lines: &impl Lines, min_count: u32) -> Vec<Option<Suppression>> {
    suppress_traced(cells, lines, min_count, None)
}

/// [`suppress_on`], and for every secondary suppression the withheld cell whose line it
/// covers (`forced_by[cover] = that cell`; `None` for every other cell): following the
/// chain back from a cover reaches the primary (or small hidden) cell that set it off.
/// For diagnosis: which small cells cost which published ones.
pub fn suppress_explained(
    cells: &[Cell],
    lines: &impl Lines,
    min_count: u32,
) -> (Vec<Option<Suppression>>, Vec<Option<usize>>) {
    let mut forced_by = vec![None; cells.len()];
    let out = suppress_traced(cells, lines, min_count, Some(&mut forced_by));
    (out, forced_by)
}

fn suppress_traced(
    cells: &[Cell],
    lines: &impl Lines,
    min_count: u32,
    mut forced_by: Option<&mut Vec<Option<usize>>>,
) -> Vec<Option<Suppression>> {
    let min = f64::from(min_count);
    let mut out = primaries(cells, min);
    if min_count == 0 {
        return out;
    }
    let mut through = Vec::new();
    let mut pending = Pending::new(lines.count());
    for i in (0..cells.len()).filter(|&i| withheld(cells, &out, i, min)) {
        through.clear();
        lines.through(i, &mut through);
        through.iter().for_each(|&l| pending.insert(l));
    }
    let mut line = Vec::new();
    let mut cursor = 0;
    // The next line to look at in this pass, or the first of the next pass.
    while let Some(next) = pending.take_from(cursor) {
        cursor = next + 1;
        line.clear();
        lines.members(next, &mut line);
        if let Some((cover, only)) = cover(cells, &out, &line, min) {
            out[cover] = Some(Suppression::Secondary);
            if let Some(forced_by) = forced_by.as_deref_mut() {
                forced_by[cover] = Some(only);
            }
            through.clear();
            lines.through(cover, &mut through);
            through.iter().for_each(|&l| pending.insert(l));
        }
    }
    out
}

/// The lines waiting to be looked at, a bit per line (a table of millions of cells can
/// have millions pending at once).
struct Pending {
    words: Vec<u64>,
    len: usize,
}

impl Pending {
    fn new(lines: usize) -> Pending {
        Pending {
            words: vec![0; lines.div_ceil(64)],
            len: 0,
        }
    }

    fn insert(&mut self, line: usize) {
        let (word, bit) = (&mut self.words[line / 64], 1u64 << (line % 64));
        if *word & bit == 0 {
            *word |= bit;
            self.len += 1;
        }
    }

    /// Removes and returns the first pending line at or after `from`, else the first
    /// pending line of all.
    fn take_from(&mut self, from: usize) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let line = self.first_from(from).or_else(|| self.first_from(0))?;
        self.words[line / 64] &= !(1u64 << (line % 64));
        self.len -= 1;
        Some(line)
    }

    fn first_from(&self, from: usize) -> Option<usize> {
        let start = from / 64;
        let first = *self.words.get(start)? & (u64::MAX << (from % 64));
        std::iter::once(first)
            .chain(self.words[start + 1..].iter().copied())
            .enumerate()
            .find(|&(_, bits)| bits != 0)
            .map(|(k, bits)| (start + k) * 64 + bits.trailing_zeros() as usize)
    }
}

/// The primary suppressions: published cells with a small count.
fn primaries(cells: &[Cell], min: f64) -> Vec<Option<Suppression>> {
    cells
        .iter()
        .map(|c| (!c.hidden && c.sensitive(min)).then_some(Suppression::Primary))
        .collect()
}

/// Whether cell `i` is withheld for the purpose of subtraction: suppressed cells, and
/// hidden cells with a small count. A hidden cell with a large count is no protection:
/// its count may be published elsewhere (a zero cell, a total), so it is treated as
/// known.
fn withheld(cells: &[Cell], out: &[Option<Suppression>], i: usize, min: f64) -> bool {
    out[i].is_some() || (cells[i].hidden && cells[i].sensitive(min))
}

/// The cell that must be withheld to protect `line`, if it holds exactly one withheld
/// cell (alone, it is recoverable by subtraction, and a recovered secondary cell would
/// unravel the primary it protects), with that withheld cell.
fn cover(
    cells: &[Cell],
    out: &[Option<Suppression>],
    line: &[usize],
    min: f64,
) -> Option<(usize, usize)> {
    let mut held = line
        .iter()
        .copied()
        .filter(|&i| withheld(cells, out, i, min));
    let (Some(only), None) = (held.next(), held.next()) else {
        return None;
    };
    // The cover should hide the kind of count that made `only` sensitive: a cell whose
    // numerator is zero does not blur a numerator of 1.
    let small = |c: f64| c > 0.0 && c < min;
    let numerator_small = small(cells[only].numerator_count) || cells[only].numerator_series;
    let key = |i: usize| {
        let c = &cells[i];
        let same_kind = if numerator_small {
            c.numerator_count
        } else {
            c.denominator_count
        };
        (same_kind == 0.0, c.denominator_count, c.numerator_count)
    };
    let pick = |hidden: bool| {
        line.iter()
            .copied()
            .filter(|&i| {
                i != only && out[i].is_none() && cells[i].hidden == hidden && !cells[i].is_zero()
            })
            .min_by(|&a, &b| {
                key(a)
                    .partial_cmp(&key(b))
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(a.cmp(&b))
            })
    };
    // A published cell if there is one; else a hidden one, which is never shown but,
    // marked withheld, makes its own lines cover it with published cells (the cells
    // without an age group of a line across units are all hidden, but each is a
    // jobcenter's total minus its published age groups).
    pick(false).or_else(|| pick(true)).map(|c| (c, only))
}

/// The rule as first written: every line in every pass until a pass changes
/// nothing. [`suppress_on`] visits only the lines that can act and must decide the
/// same.
#[cfg(test)]
pub(crate) fn suppress_by_full_passes(
    cells: &[Cell],
    lines: &[Vec<usize>],
    min_count: u32,
) -> Vec<Option<Suppression>> {
    let min = f64::from(min_count);
    let mut out = primaries(cells, min);
    if min_count == 0 {
        return out;
    }
    loop {
        let mut changed = false;
        for line in lines {
            if let Some((i, _)) = cover(cells, &out, line, min) {
                out[i] = Some(Suppression::Secondary);
                changed = true;
            }
        }
        if !changed {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Suppression::{Primary, Secondary};

    fn cell(n: f64, d: f64) -> Cell {
        Cell {
            numerator_count: n,
            denominator_count: d,
            hidden: false,
            ..Default::default()
        }
    }

    proptest::proptest! {
        #[test]
        fn visiting_only_lines_that_can_act_decides_as_full_passes(
            counts in proptest::collection::vec((0u8..8, 0u8..12, proptest::bool::weighted(0.15)), 1..300),
            raw_lines in proptest::collection::vec(proptest::collection::vec(0usize..300, 2..7), 0..200),
            min_count in 0u32..5,
        ) {
            let cells: Vec<Cell> = counts
                .iter()
                .map(|&(n, d, hidden)| Cell {
                    numerator_count: f64::from(n),
                    denominator_count: f64::from(d),
                    hidden,
                    ..Default::default()
                })
                .collect();
            let lines: Vec<Vec<usize>> = raw_lines
                .iter()
                .map(|l| {
                    let mut l: Vec<usize> = l.iter().map(|&c| c % cells.len()).collect();
                    l.sort_unstable();
                    l.dedup();
                    l
                })
                .collect();
            proptest::prop_assert_eq!(
                suppress(&cells, &lines, min_count),
                suppress_by_full_passes(&cells, &lines, min_count)
            );
        }
    }

    #[test]
    fn pending_lines_come_in_order_from_the_cursor_then_from_the_start() {
        let mut pending = Pending::new(200);
        for line in [3, 130, 64, 199, 3] {
            pending.insert(line);
        }
        assert_eq!(pending.take_from(65), Some(130));
        assert_eq!(pending.take_from(131), Some(199));
        assert_eq!(pending.take_from(200), Some(3));
        assert_eq!(pending.take_from(4), Some(64));
        assert_eq!(pending.take_from(0), None);
    }

    #[test]
    fn primary_on_small_numerator_or_denominator_only() {
        let cells = [
            cell(0.0, 10.0),
            cell(1.0, 10.0),
            cell(5.0, 2.0),
            cell(3.0, 3.0),
        ];
        assert_eq!(
            suppress(&cells, &[], 3),
            [None, Some(Primary), Some(Primary), None]
        );
        assert_eq!(suppress(&cells, &[], 0), [None, None, None, None]);
    }

    #[test]
    fn secondary_takes_the_smallest_other_non_zero_cell() {
        // Line of four: one primary; the empty cell cannot protect it, the 40 is smallest.
        let cells = [
            cell(2.0, 50.0),
            cell(0.0, 0.0),
            cell(9.0, 40.0),
            cell(9.0, 90.0),
        ];
        let out = suppress(&cells, &[vec![0, 1, 2, 3]], 3);
        assert_eq!(out, [Some(Primary), None, Some(Secondary), None]);
    }

    #[test]
    fn the_cover_hides_the_same_kind_of_count() {
        // A numerator of 1 is not blurred by a cell with no numerator (0 of 30), even if
        // its denominator is smaller than the cell that does have one (4 of 60).
        let cells = [cell(1.0, 50.0), cell(0.0, 30.0), cell(4.0, 60.0)];
        let out = suppress(&cells, &[vec![0, 1, 2]], 3);
        assert_eq!(out, [Some(Primary), None, Some(Secondary)]);
    }

    #[test]
    fn two_primaries_need_no_secondary() {
        let cells = [cell(1.0, 50.0), cell(2.0, 40.0), cell(9.0, 90.0)];
        assert_eq!(
            suppress(&cells, &[vec![0, 1, 2]], 3),
            [Some(Primary), Some(Primary), None]
        );
    }

    /// A 2×2 table (rows a, b × columns x, y; cells ax, ay, bx, by) whose cell ax is
    /// primary, with its lines: row a, row b, column x, column y.
    fn two_by_two() -> ([Cell; 4], [Vec<usize>; 4]) {
        let cells = [
            cell(1.0, 10.0),
            cell(5.0, 20.0),
            cell(6.0, 30.0),
            cell(7.0, 40.0),
        ];
        (cells, [vec![0, 1], vec![2, 3], vec![0, 2], vec![1, 3]])
    }

    #[test]
    fn crossing_lines_propagate() {
        // Row a forces ay, column x forces bx; bx would then be recoverable from row b
        // (and with it ax from column x), so by is withheld too: every line holds 0 or
        // at least 2 withheld cells.
        let (cells, lines) = two_by_two();
        let out = suppress(&cells, &lines, 3);
        assert_eq!(
            out,
            [
                Some(Primary),
                Some(Secondary),
                Some(Secondary),
                Some(Secondary)
            ]
        );
    }

    #[test]
    fn each_cover_names_the_withheld_cell_whose_line_it_protects() {
        // Row a (line 0) covers ax with ay, column x (line 2) covers ax with bx, then
        // column y (line 3, the next line after 2 that ay's cover made pending) covers ay
        // with by.
        let (cells, lines) = two_by_two();
        let (out, forced_by) = suppress_explained(&cells, &Listed::new(&lines, 4), 3);
        assert_eq!(out, suppress(&cells, &lines, 3));
        assert_eq!(forced_by, [None, Some(0), Some(0), Some(1)]);
    }

    #[test]
    fn a_cell_whose_series_gives_counts_away_is_withheld_whatever_its_count() {
        // f's windows give a monthly count away (the series rule): withheld as primary
        // though it holds 40, and the smallest other part with a numerator covers it —
        // m (12) rather than the smaller-denominator d cell without integrations.
        let f = Cell {
            numerator_series: true,
            ..cell(40.0, 90.0)
        };
        let out = suppress(
            &[cell(52.0, 200.0), f, cell(12.0, 70.0), cell(0.0, 40.0)],
            &[vec![0, 1, 2, 3]],
            3,
        );
        assert_eq!(out, [None, Some(Primary), Some(Secondary), None]);
        // A marked denominator is covered by the smallest denominator.
        let f = Cell {
            denominator_series: true,
            ..cell(40.0, 90.0)
        };
        let out = suppress(
            &[cell(52.0, 200.0), f, cell(12.0, 70.0), cell(0.0, 40.0)],
            &[vec![0, 1, 2, 3]],
            3,
        );
        assert_eq!(out, [None, Some(Primary), None, Some(Secondary)]);
        // Without a threshold nothing is withheld.
        assert_eq!(suppress(&[f], &[], 0), [None]);
    }

    #[test]
    fn hidden_small_cell_is_protected_hidden_large_cell_does_not_protect() {
        // A hidden part with 2 persons (no age group); the published parts: the smaller is
        // withheld.
        let d_small = Cell {
            hidden: true,
            ..cell(1.0, 2.0)
        };
        let out = suppress(
            &[cell(10.0, 80.0), cell(12.0, 70.0), d_small],
            &[vec![0, 1, 2]],
            3,
        );
        assert_eq!(out, [None, Some(Secondary), None]);
        // d with 40 persons is no protection (its count may be known from elsewhere):
        // f's primary suppression still needs the published m as cover.
        let d_large = Cell {
            hidden: true,
            ..cell(9.0, 40.0)
        };
        let out = suppress(
            &[cell(1.0, 80.0), cell(12.0, 70.0), d_large],
            &[vec![0, 1, 2]],
            3,
        );
        assert_eq!(out, [Some(Primary), Some(Secondary), None]);
    }

    #[test]
    fn a_hidden_cover_passes_protection_on_to_its_own_lines() {
        // Sex d across two jobcenters: d2 = 1 (small) is alone among hidden cells whose
        // other members are derivable (d_total = 6, d5 = 5 = J5's total 20 − f 8 − m 7).
        // d5 becomes the cover, and J5's sex line then withholds m (7) so that d5, and
        // with it d2, cannot be had.
        let hidden = |n: f64| Cell {
            hidden: true,
            ..cell(n, n)
        };
        let cells = [
            hidden(6.0),
            hidden(1.0),
            hidden(5.0),
            cell(20.0, 20.0),
            cell(8.0, 8.0),
            cell(7.0, 7.0),
        ];
        let out = suppress(&cells, &[vec![0, 1, 2], vec![3, 4, 5, 2]], 3);
        assert_eq!(
            out,
            [None, None, Some(Secondary), None, None, Some(Secondary)]
        );
    }
}

//! What a load reports while it computes its person slices: slices and person rows
//! done, the time spent and the time left at that pace, and then that it decides
//! disclosure control (the CLI shows it).

use std::time::Duration;

/// How far the computation of the blocks has come, after a slice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadProgress {
    /// Slices computed so far.
    pub slices_done: usize,
    /// Slices in all.
    pub slices: usize,
    /// Person-keyed rows of the slices computed so far.
    pub rows_done: usize,
    /// Person-keyed rows in all.
    pub rows: usize,
    /// Time since the first slice began.
    pub elapsed: Duration,
    /// Every slice is done and disclosure control is being decided for every indicator.
    pub deciding: bool,
}

impl LoadProgress {
    /// The time the remaining rows take at the pace of those done; `None` before any.
    pub fn left(&self) -> Option<Duration> {
        if self.rows_done == 0 {
            return None;
        }
        let rest = self.rows.saturating_sub(self.rows_done) as f64;
        Some(self.elapsed.mul_f64(rest / self.rows_done as f64))
    }
}

/// Receives a load's progress after each slice (and once more when it begins to decide
/// disclosure control).
pub type OnSlice<'a> = &'a (dyn Fn(&LoadProgress) + Sync);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_left_is_the_pace_so_far_times_the_rows_left() {
        let progress = |rows_done, secs| LoadProgress {
            slices_done: 1,
            slices: 4,
            rows_done,
            rows: 1000,
            elapsed: Duration::from_secs(secs),
            deciding: false,
        };
        assert_eq!(progress(0, 0).left(), None);
        assert_eq!(progress(250, 10).left(), Some(Duration::from_secs(30)));
        assert_eq!(progress(1000, 40).left(), Some(Duration::ZERO));
    }
}

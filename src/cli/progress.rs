//! The command line's display of a load's progress: a bar on a terminal, cleared when
//! the load is done; a plain line per slice otherwise (logs, CI), for loads of more
//! than one slice.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::progress::LoadProgress;

/// Shows the progress of one load on standard error.
pub struct LoadDisplay {
    /// The bar, on a terminal.
    bar: Option<ProgressBar>,
}

impl LoadDisplay {
    /// A bar if standard error is a terminal, else plain lines.
    pub fn on_stderr() -> LoadDisplay {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("computing blocks {bar:30} slice {pos}/{len}, {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        LoadDisplay { bar }
    }

    /// Shows `progress`.
    pub fn slice_done(&self, progress: &LoadProgress) {
        match &self.bar {
            Some(bar) if progress.deciding => {
                bar.set_message(format!("{}; {DECIDING}", rows_and_time(progress)))
            }
            Some(bar) => {
                bar.set_length(progress.slices as u64);
                bar.set_position(progress.slices_done as u64);
                bar.set_message(rows_and_time(progress));
            }
            None if progress.deciding => eprintln!("{DECIDING}"),
            None if progress.slices > 1 => eprintln!("{}", line(progress)),
            None => {}
        }
    }
}

impl Drop for LoadDisplay {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What the display says once every slice is done and disclosure control is decided.
const DECIDING: &str = "deciding disclosure control for every indicator …";

/// The plain line for a slice done.
fn line(progress: &LoadProgress) -> String {
    format!(
        "computing blocks: slice {} of {} done, {}",
        progress.slices_done,
        progress.slices,
        rows_and_time(progress)
    )
}

fn rows_and_time(progress: &LoadProgress) -> String {
    let left = match progress.left() {
        Some(left) if progress.slices_done < progress.slices => {
            format!(", about {} left", seconds(left))
        }
        _ => String::new(),
    };
    format!(
        "{} of {} person rows in {}{left}",
        progress.rows_done,
        progress.rows,
        seconds(progress.elapsed)
    )
}

fn seconds(d: Duration) -> String {
    format!("{:.0} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_line_says_slices_rows_and_time_left_until_the_last_slice() {
        let progress = |slices_done, rows_done, secs| LoadProgress {
            slices_done,
            slices: 4,
            rows_done,
            rows: 1000,
            elapsed: Duration::from_secs(secs),
            deciding: false,
        };
        assert_eq!(
            line(&progress(1, 250, 10)),
            "computing blocks: slice 1 of 4 done, 250 of 1000 person rows in 10 s, about 30 s left"
        );
        assert_eq!(
            line(&progress(4, 1000, 41)),
            "computing blocks: slice 4 of 4 done, 1000 of 1000 person rows in 41 s"
        );
    }
}

//! The series rule: what differencing a cell's windows of consecutive months gives away.
//!
//! Most indicators publish windows, `W(t) = x(t-w+1) + … + x(t)` of monthly counts `x`
//! (a mean window is the same sum divided by `w`, which its published value gives
//! back). Two neighbouring windows differ by `x(t) - x(t-w)`, never a count by itself,
//! but counts are never negative: a window of 0 says each of its months is 0, and from
//! there on the differences *are* monthly counts. For a run of consecutive windows
//! `W(a) … W(b)` the months fall into `w` chains (one per month of the first window),
//! each known up to one constant, `x(s) = c_r + d_r(s)`; `x ≥ 0` gives
//! `c_r ≥ lb_r = -min d_r`, and the first window gives `Σ c_r = W(a)`. So
//! `x(s) ∈ [lb_r + d_r(s), W(a) - Σ_{r'≠r} lb_r' + d_r(s)]`, and these bounds are
//! attained ([`monthly_bounds`]; a test checks them against every series of small
//! counts). A run *gives a count away* when some month's bounds lie within
//! `1 … min_count - 1`, what primary suppression withholds. Every month's bounds are
//! as wide as the slack `W(a) - Σ lb_r`, and so are those of a sum of months from
//! different chains, whose lower bound is the sum of theirs: such a sum can only be
//! given away when one of its months is, so checking single months suffices.
//!
//! The engine checks every cell of every indicator's tables over the whole span, as if
//! every window were published (the attacker's best case: fewer published windows tell
//! less), and a cell whose windows give a count away is withheld in every month as a
//! primary cell (`Cell::numerator_series`, `Cell::denominator_series`).

/// The bounds `(low, high)` of the monthly counts `x(a-w+1) … x(b)` that consecutive
/// windows `windows = [W(a), …, W(b)]` of `w` months allow.
pub fn monthly_bounds(windows: &[f64], w: usize) -> Vec<(f64, f64)> {
    if windows.is_empty() || w == 0 {
        return Vec::new();
    }
    let months = windows.len() + w - 1;
    // x(s) = c_{s mod w} + d(s); the first window holds s = 0 … w-1, where d is 0.
    let mut d = vec![0.0; months];
    for s in w..months {
        // W(j) - W(j-1) = x(j+w-1) - x(j-1), with j = s - w + 1.
        let j = s - w + 1;
        d[s] = d[s - w] + windows[j] - windows[j - 1];
    }
    let lb: Vec<f64> = (0..w)
        .map(|r| {
            -(r..months)
                .step_by(w)
                .map(|s| d[s])
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let total_lb: f64 = lb.iter().sum();
    (0..months)
        .map(|s| {
            let r = s % w;
            (lb[r] + d[s], windows[0] - (total_lb - lb[r]) + d[s])
        })
        .collect()
}

/// Whether consecutive windows of `w` months give a monthly count of 1 … `min_count`
/// − 1 away (a run of one window gives nothing beyond itself, which primary suppression
/// already protects).
pub fn gives_away(windows: &[f64], w: usize, min_count: u32) -> bool {
    if windows.len() < 2 || w < 2 || min_count < 2 {
        return false;
    }
    // Counts are whole numbers; a half keeps fractions of a mean's rounding out.
    let (low, high) = (1.0 - 0.5, f64::from(min_count - 1) + 0.5);
    monthly_bounds(windows, w)
        .iter()
        .any(|&(lo, hi)| lo > low && hi < high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_series_give_their_bounds() {
        // tests/window_differences.rs: K2 windows 2016-12 … 2017-04 of 0, 3, 4, 6, 10
        // give the months 2017-01 … 2017-04 exactly (3, 1, 2, 4), every earlier month 0.
        let bounds = monthly_bounds(&[0.0, 3.0, 4.0, 6.0, 10.0], 12);
        assert_eq!(
            bounds[12..],
            [(3.0, 3.0), (1.0, 1.0), (2.0, 2.0), (4.0, 4.0)]
        );
        assert!(bounds[..12].iter().all(|&b| b == (0.0, 0.0)));
        assert!(gives_away(&[0.0, 3.0, 4.0, 6.0, 10.0], 12, 3));
        // Two-month windows 1, 2, 1: x0 + x1 = 1 and x3 = x1 - 1 >= 0 pin x = 0, 1, 1, 0.
        assert_eq!(
            monthly_bounds(&[1.0, 2.0, 1.0], 2),
            [(0.0, 0.0), (1.0, 1.0), (1.0, 1.0), (0.0, 0.0)]
        );
        // Windows 3, 3 leave each month anywhere in 0 … 3: nothing given away.
        assert_eq!(monthly_bounds(&[3.0, 3.0], 2), [(0.0, 3.0); 3]);
        assert!(!gives_away(&[3.0, 3.0], 2, 3));
        // Large windows that never fall low pin nothing small.
        assert!(!gives_away(&[40.0, 41.0, 43.0, 40.0, 44.0], 12, 3));
        // One window, one-month windows, or no threshold: nothing to derive.
        assert!(!gives_away(&[1.0], 12, 3));
        assert!(!gives_away(&[0.0, 1.0], 1, 3));
        assert!(!gives_away(&[0.0, 3.0, 4.0], 12, 0));
    }

    /// Every series of `len` monthly counts in `0 ..= max`, in order.
    fn all_series(len: usize, max: u32) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new()];
        for _ in 0..len {
            out = out
                .into_iter()
                .flat_map(|s| {
                    (0..=max).map(move |x| {
                        let mut s = s.clone();
                        s.push(x);
                        s
                    })
                })
                .collect();
        }
        out
    }

    fn windows_of(x: &[u32], w: usize) -> Vec<f64> {
        x.windows(w)
            .map(|m| f64::from(m.iter().sum::<u32>()))
            .collect()
    }

    #[test]
    fn the_bounds_are_exactly_what_every_series_with_those_windows_allows() {
        // By brute force: for windows of 2 and 3 months over 4 to 6 months of counts
        // 0 … 4, every series with the same windows; the lowest and highest count of
        // each month among them are the bounds (no count can exceed a window holding
        // it, so counts up to the largest window cover every such series).
        for (w, len) in [(2, 4), (2, 5), (3, 5), (3, 6)] {
            let series = all_series(len, 4);
            let mut by_windows: std::collections::BTreeMap<Vec<u64>, Vec<&Vec<u32>>> =
                Default::default();
            for x in &series {
                let key = windows_of(x, w).iter().map(|v| *v as u64).collect();
                by_windows.entry(key).or_default().push(x);
            }
            for (key, matching) in by_windows {
                // Only windows whose every series lies within 0 … 4 are enumerated whole.
                if key.iter().any(|&v| v > 4) {
                    continue;
                }
                let windows: Vec<f64> = key.iter().map(|&v| v as f64).collect();
                let bounds = monthly_bounds(&windows, w);
                for (s, &(lo, hi)) in bounds.iter().enumerate() {
                    let seen_lo = matching.iter().map(|x| x[s]).min().expect("a series");
                    let seen_hi = matching.iter().map(|x| x[s]).max().expect("a series");
                    assert_eq!(
                        (lo, hi),
                        (f64::from(seen_lo), f64::from(seen_hi)),
                        "w {w}, windows {windows:?}, month {s}"
                    );
                }
            }
        }
    }
}

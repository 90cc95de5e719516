//! Reading a bootstrap resample's rows: at 10⁷ chains every read is a cache miss in a
//! sample of hundreds of MB, and a miss waited for one at a time costs ~60 ns where
//! misses requested ahead overlap (~20 ns a row, BENCHMARKS.md). These helpers request
//! rows a few dozen reads ahead; the values read, and their order, are unchanged.

use super::Rows;
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;

/// How many reads ahead a row is requested.
const AHEAD: usize = 32;

/// Asks the CPU to start loading the cache line of `value`; a hint only.
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and changes nothing the program can observe; SSE,
    // which provides it, is part of every x86_64 CPU.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Requests every cache line of row `i`.
#[inline(always)]
fn prefetch_row(rows: &Rows, i: usize) {
    let row = rows.row(i);
    // A cache line holds 8 f64; a row may straddle one more line than its length needs.
    for v in row.iter().step_by(8) {
        prefetch(v);
    }
    if let Some(last) = row.last() {
        prefetch(last);
    }
}

/// The rows at `indices[range]`, in that order, each requested [`AHEAD`] rows before it
/// is read (across the end of `range` too: the next tile's first rows).
pub(crate) fn rows_at<'a>(
    rows: &'a Rows,
    indices: &'a [usize],
    range: std::ops::Range<usize>,
) -> impl Iterator<Item = &'a [f64]> + 'a {
    range.map(move |k| {
        if let Some(&ahead) = indices.get(k + AHEAD) {
            prefetch_row(rows, ahead);
        }
        rows.row(indices[k])
    })
}

/// `size` values of `x` at indices drawn with replacement, `rng.random_range(0..x.len())`
/// one after another: the values a plain loop of draws and reads gives, in its order, with
/// each block of [`AHEAD`] reads requested before it is read.
pub(crate) fn resample_values(x: &[f64], size: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<f64> {
    let mut out = Vec::with_capacity(size);
    let mut block = [0usize; AHEAD];
    while out.len() < size {
        let m = (size - out.len()).min(AHEAD);
        for slot in &mut block[..m] {
            *slot = rng.random_range(0..x.len());
            prefetch(&x[*slot]);
        }
        out.extend(block[..m].iter().map(|&i| x[i]));
    }
    out
}

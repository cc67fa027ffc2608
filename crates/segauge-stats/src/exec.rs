//! How independent rows of work (bootstrap replicates, jackknife values) are evaluated: serially, or with rayon.
//!
//! Every row is computed by one closure call that writes only its own output chunk, with any sums in a fixed
//! order inside the call; there are no reductions across rows. Hence the output is bit-identical whatever the
//! number of threads, and identical to the serial path.

/// The evaluation strategy of [`fill_rows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exec {
    /// One row after another on the calling thread.
    // With `parallel` only the unit tests construct it (to compare both paths).
    #[cfg_attr(all(feature = "parallel", not(test)), allow(dead_code))]
    Serial,
    /// Rows spread over the current rayon thread pool. Compiled with the `parallel` feature, and in this
    /// crate's unit tests (rayon is a dev-dependency) so that they compare both paths.
    #[cfg(any(feature = "parallel", test))]
    Rayon,
}

impl Exec {
    /// Rayon with the `parallel` feature, else serial.
    pub(crate) fn default_for_build() -> Self {
        #[cfg(feature = "parallel")]
        {
            Exec::Rayon
        }
        #[cfg(not(feature = "parallel"))]
        {
            Exec::Serial
        }
    }
}

/// Calls `f(row, chunk)` for every `width`-sized chunk of `out` (row = chunk number). `width` must be ≥ 1.
pub(crate) fn fill_rows<T, F>(exec: Exec, out: &mut [T], width: usize, f: F)
where
    T: Send,
    F: Fn(usize, &mut [T]) + Sync + Send,
{
    match exec {
        Exec::Serial => out.chunks_mut(width).enumerate().for_each(|(row, chunk)| f(row, chunk)),
        #[cfg(any(feature = "parallel", test))]
        Exec::Rayon => {
            use rayon::prelude::*;
            out.par_chunks_mut(width).enumerate().for_each(|(row, chunk)| f(row, chunk));
        }
    }
}

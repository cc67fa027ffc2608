//! Deterministic random numbers: the seeded xoshiro256++ stream, the unbiased bounded draw and the shared
//! case-resample matrix (docs/METHODS.md C.2).
//!
//! The recipe is short enough to re-implement in any language, so that every resample index can be reproduced:
//! 1. state = SHA-256(`"segauge/v1/"` ‖ u64_le(master_seed) ‖ `"/"` ‖ scope), read as four little-endian u64
//!    words s₀..s₃ (bytes 0..8 give s₀, and so on);
//! 2. each output is one step of xoshiro256++ (Blackman & Vigna): `rotl(s₀ + s₃, 23) + s₀`, then the usual
//!    xoshiro256 state update;
//! 3. a bounded index in `0..n` is Lemire's multiply-and-reject draw (see [`Stream::below`]);
//! 4. the resample matrix is filled row by row (replicate b = 0..B−1, position i = 0..n−1) from one stream.

use std::num::NonZeroU64;

use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use sha2::{Digest, Sha256};

use crate::Error;

/// The domain-separation prefix hashed in front of every seed.
const DOMAIN: &[u8] = b"segauge/v1/";

/// The 32 seed bytes of a stream: SHA-256 of the domain prefix, the master seed and the scope.
fn seed_bytes(master_seed: u64, scope: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    hasher.update(master_seed.to_le_bytes());
    hasher.update(b"/");
    hasher.update(scope.as_bytes());
    hasher.finalize().into()
}

/// One seeded stream of 64-bit random numbers (xoshiro256++), value-stable across runs, threads and platforms.
///
/// A stream is identified by a master seed (default 0, written to every report) and a *scope* naming the
/// analysis unit, e.g. `boot/<dataset>/<subgroup>` for the case-resample matrix or
/// `perm/<subgroup>/<modelA>|<modelB>/<metric>` for a permutation test. Different scopes give independent
/// streams; the same scope always gives the same numbers.
///
/// ```
/// use segauge_stats::Stream;
/// let mut a = Stream::new(0, "boot/demo/all")?;
/// let mut b = Stream::new(0, "boot/demo/all")?;
/// assert_eq!(a.next_u64(), b.next_u64());
/// let mut c = Stream::new(0, "boot/demo/other")?;
/// assert_ne!(a.next_u64(), c.next_u64());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    rng: Xoshiro256PlusPlus,
}

impl Stream {
    /// The stream of `scope` under `master_seed`.
    ///
    /// # Errors
    /// [`Error::ZeroState`] if the hash happens to be all zero (xoshiro cannot run from that state; the chance
    /// is 2⁻²⁵⁶, but the check is explicit rather than silently remapping the seed).
    pub fn new(master_seed: u64, scope: &str) -> Result<Self, Error> {
        let seed = seed_bytes(master_seed, scope);
        if seed.iter().all(|&b| b == 0) {
            return Err(Error::ZeroState { scope: scope.to_owned() });
        }
        // rand_xoshiro reads the 32 bytes as four little-endian u64 words in order (s0 = bytes 0..8), which is
        // the recipe; the integration tests check the first outputs against a separate Python implementation.
        Ok(Self { rng: Xoshiro256PlusPlus::from_seed(seed) })
    }

    /// The four state words a stream starts from (for documentation and cross-checks).
    pub fn initial_state(master_seed: u64, scope: &str) -> [u64; 4] {
        let seed = seed_bytes(master_seed, scope);
        std::array::from_fn(|w| u64::from_le_bytes(seed[8 * w..8 * w + 8].try_into().expect("8 bytes")))
    }

    /// The next 64-bit output.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// An unbiased integer in `0..n` by Lemire's multiply-and-reject method.
    ///
    /// x = next_u64(); m = x·n as a 128-bit product; l = m mod 2⁶⁴. If l < n, the threshold
    /// t = (2⁶⁴ − n) mod n is computed and, while l < t, x is redrawn and m, l recomputed. The result is
    /// ⌊m / 2⁶⁴⌋. Each draw consumes one output, plus one per rejection (rare unless n is close to 2⁶⁴).
    ///
    /// ```
    /// use std::num::NonZeroU64;
    /// use segauge_stats::Stream;
    /// let mut s = Stream::new(7, "demo")?;
    /// let n = NonZeroU64::new(6).unwrap();
    /// assert!((0..1000).all(|_| s.below(n) < 6));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn below(&mut self, n: NonZeroU64) -> u64 {
        let n = n.get();
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        let mut low = m as u64;
        if low < n {
            let threshold = n.wrapping_neg() % n;
            while low < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
                low = m as u64;
            }
        }
        (m >> 64) as u64
    }

    /// A random sign: `+1.0` if the top bit of the next output is 0, else `−1.0`.
    #[inline]
    pub fn sign(&mut self) -> f64 {
        if self.next_u64() >> 63 == 0 { 1.0 } else { -1.0 }
    }
}

/// The case-resample matrix: B rows of n case indices drawn with replacement, shared by every metric and model
/// of one case set (common random numbers).
///
/// Row b lists the cases of bootstrap replicate b. The matrix is generated once, single-threaded, from one
/// [`Stream`] (row by row, position by position), before any replicate is evaluated, so it does not depend on
/// the thread count. Indices are `u32` (n ≤ 2³² − 1), 4·B·n bytes: 40 MB for B = 9999 and n = 1000.
///
/// ```
/// use segauge_stats::ResampleMatrix;
/// let m = ResampleMatrix::generate(0, "boot/demo/all", 5, 3)?;
/// assert_eq!((m.n_cases(), m.n_resamples()), (5, 3));
/// assert!(m.rows().all(|row| row.len() == 5 && row.iter().all(|&i| i < 5)));
/// assert_eq!(m.as_slice().len(), 15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResampleMatrix {
    n_cases: usize,
    n_resamples: usize,
    indices: Vec<u32>,
}

impl ResampleMatrix {
    /// B = `n_resamples` rows of `n_cases` indices from the stream of (`master_seed`, `scope`).
    ///
    /// # Errors
    /// [`Error::NoCases`] if `n_cases` is 0, [`Error::InvalidOption`] if `n_resamples` is 0,
    /// [`Error::TooManyCases`] if `n_cases` does not fit in `u32`, [`Error::ZeroState`] as in [`Stream::new`].
    pub fn generate(
        master_seed: u64,
        scope: &str,
        n_cases: usize,
        n_resamples: usize,
    ) -> Result<Self, Error> {
        Self::from_stream(&mut Stream::new(master_seed, scope)?, n_cases, n_resamples)
    }

    /// The same, drawing from an existing stream (which is advanced).
    ///
    /// # Errors
    /// As [`ResampleMatrix::generate`].
    pub fn from_stream(stream: &mut Stream, n_cases: usize, n_resamples: usize) -> Result<Self, Error> {
        Self::check_shape(n_cases, n_resamples)?;
        let n = NonZeroU64::new(n_cases as u64).ok_or(Error::NoCases { what: "resample matrix" })?;
        let len = n_cases.checked_mul(n_resamples).ok_or_else(|| Error::InvalidOption {
            detail: format!("resample matrix of {n_resamples} x {n_cases} is too large"),
        })?;
        // The cast is lossless: every draw is below n_cases <= u32::MAX (checked above).
        let indices = (0..len).map(|_| stream.below(n) as u32).collect();
        Ok(Self { n_cases, n_resamples, indices })
    }

    /// A matrix from given row-major indices (e.g. exported by another tool), `indices.len()` = B·n.
    ///
    /// # Errors
    /// As [`ResampleMatrix::generate`], plus [`Error::LengthMismatch`] if the length is not B·n and
    /// [`Error::InvalidOption`] if an index is ≥ n.
    pub fn from_indices(n_cases: usize, n_resamples: usize, indices: Vec<u32>) -> Result<Self, Error> {
        Self::check_shape(n_cases, n_resamples)?;
        let expected = n_cases.saturating_mul(n_resamples);
        if indices.len() != expected {
            return Err(Error::LengthMismatch { what: "resample indices", expected, found: indices.len() });
        }
        if let Some(pos) = indices.iter().position(|&i| i as usize >= n_cases) {
            return Err(Error::InvalidOption {
                detail: format!("resample index {} at position {pos} is not below {n_cases}", indices[pos]),
            });
        }
        Ok(Self { n_cases, n_resamples, indices })
    }

    fn check_shape(n_cases: usize, n_resamples: usize) -> Result<(), Error> {
        if n_cases == 0 {
            return Err(Error::NoCases { what: "resample matrix" });
        }
        if n_cases > u32::MAX as usize {
            return Err(Error::TooManyCases { n: n_cases, max: u32::MAX as usize });
        }
        if n_resamples == 0 {
            return Err(Error::InvalidOption { detail: "the number of resamples must be at least 1".into() });
        }
        Ok(())
    }

    /// n, the number of cases (the length of every row).
    pub fn n_cases(&self) -> usize {
        self.n_cases
    }

    /// B, the number of replicates (rows).
    pub fn n_resamples(&self) -> usize {
        self.n_resamples
    }

    /// Row `b`: the case indices of replicate `b`.
    ///
    /// # Panics
    /// If `b` ≥ B.
    pub fn row(&self, b: usize) -> &[u32] {
        &self.indices[b * self.n_cases..(b + 1) * self.n_cases]
    }

    /// All rows in order.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, u32> {
        self.indices.chunks_exact(self.n_cases)
    }

    /// The whole matrix, row-major (B·n indices), for export.
    pub fn as_slice(&self) -> &[u32] {
        &self.indices
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_reference_vector() {
        // The first outputs of xoshiro256++ from state words (1, 2, 3, 4), as published with the reference C code
        // (xoshiro256plusplus.c); they pin the little-endian reading of the seed bytes.
        let mut seed = [0u8; 32];
        for (w, v) in [1u64, 2, 3, 4].iter().enumerate() {
            seed[8 * w..8 * w + 8].copy_from_slice(&v.to_le_bytes());
        }
        let mut rng = Xoshiro256PlusPlus::from_seed(seed);
        let first: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
        assert_eq!(first, [41943041, 58720359, 3588806011781223, 3591011842654386]);
    }

    #[test]
    fn initial_state_is_the_stream_start() {
        let words = Stream::initial_state(3, "x");
        let mut seed = [0u8; 32];
        for (w, v) in words.iter().enumerate() {
            seed[8 * w..8 * w + 8].copy_from_slice(&v.to_le_bytes());
        }
        let mut a = Xoshiro256PlusPlus::from_seed(seed);
        let mut b = Stream::new(3, "x").unwrap();
        for _ in 0..10 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn below_is_in_range_and_covers_it() {
        let mut s = Stream::new(1, "below").unwrap();
        let n = NonZeroU64::new(7).unwrap();
        let mut seen = [0usize; 7];
        for _ in 0..7000 {
            seen[s.below(n) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800 && c < 1200), "{seen:?}");
        let one = NonZeroU64::new(1).unwrap();
        assert!((0..100).all(|_| s.below(one) == 0));
    }

    #[test]
    fn rejection_happens_for_huge_bounds() {
        // n = 2^63 + 1: the threshold is 2^63 - 1, so about half of the draws are rejected.
        let n = NonZeroU64::new((1u64 << 63) + 1).unwrap();
        let mut counting = Stream::new(0, "reject").unwrap();
        let mut plain = counting.clone();
        for _ in 0..100 {
            let _ = counting.below(n);
        }
        // The counting stream must have advanced further than 100 outputs.
        let mut advanced = 0;
        while plain != counting && advanced < 1000 {
            plain.next_u64();
            advanced += 1;
        }
        assert!(advanced > 120 && advanced < 1000, "{advanced}");
    }

    #[test]
    fn matrix_shape_errors() {
        assert!(matches!(ResampleMatrix::generate(0, "s", 0, 10), Err(Error::NoCases { .. })));
        assert!(matches!(ResampleMatrix::generate(0, "s", 3, 0), Err(Error::InvalidOption { .. })));
        assert!(matches!(ResampleMatrix::from_indices(3, 2, vec![0; 5]), Err(Error::LengthMismatch { .. })));
        assert!(matches!(
            ResampleMatrix::from_indices(3, 1, vec![0, 1, 3]),
            Err(Error::InvalidOption { .. })
        ));
        let m = ResampleMatrix::generate(0, "s", 3, 4).unwrap();
        let again = ResampleMatrix::from_indices(3, 4, m.as_slice().to_vec()).unwrap();
        assert_eq!(m, again);
        assert_eq!(m.rows().count(), 4);
        assert_eq!(m.row(2), &m.as_slice()[6..9]);
    }

    #[test]
    fn signs_are_balanced() {
        let mut s = Stream::new(0, "perm/x").unwrap();
        let total: f64 = (0..10_000).map(|_| s.sign()).sum();
        assert!(total.abs() < 400.0, "{total}");
    }
}

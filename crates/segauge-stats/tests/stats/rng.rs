//! The random-number recipe of docs/METHODS.md C.2 against the fixture script's own Python implementation of it.

use std::num::NonZeroU64;

use segauge_stats::{ResampleMatrix, Stream};
use sha2::{Digest, Sha256};

use crate::{expected, u64_str};

#[test]
fn streams_match_the_python_recipe() {
    for s in expected()["rng"]["streams"].as_array().unwrap() {
        let seed = u64_str(&s["master_seed"]);
        let scope = s["scope"].as_str().unwrap();
        let state: Vec<u64> = s["state"].as_array().unwrap().iter().map(u64_str).collect();
        assert_eq!(Stream::initial_state(seed, scope).to_vec(), state, "{seed} {scope:?}");
        let mut stream = Stream::new(seed, scope).unwrap();
        for (k, want) in s["first"].as_array().unwrap().iter().enumerate() {
            assert_eq!(stream.next_u64(), u64_str(want), "{seed} {scope:?} output {k}");
        }
    }
}

/// Includes bounds just above 2^63 and 2^64 - 1, where Lemire's rejection step runs often.
#[test]
fn bounded_draws_match_python_including_rejections() {
    for case in expected()["rng"]["below"].as_array().unwrap() {
        let n = NonZeroU64::new(u64_str(&case["n"])).unwrap();
        let mut stream = Stream::new(0, case["scope"].as_str().unwrap()).unwrap();
        let draws: Vec<u64> = (0..40).map(|_| stream.below(n)).collect();
        let want: Vec<u64> = case["draws"].as_array().unwrap().iter().map(u64_str).collect();
        assert_eq!(draws, want, "n = {n}");
    }
}

#[test]
fn resample_matrix_matches_python_bit_for_bit() {
    let m = &expected()["rng"]["matrix"];
    let (n, b) = (m["n"].as_u64().unwrap() as usize, m["b"].as_u64().unwrap() as usize);
    let matrix =
        ResampleMatrix::generate(m["master_seed"].as_u64().unwrap(), m["scope"].as_str().unwrap(), n, b)
            .unwrap();
    for (row, want) in m["rows"].as_object().unwrap() {
        let want: Vec<u32> = want.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!(matrix.row(row.parse().unwrap()), want.as_slice(), "row {row}");
    }
    let mut hasher = Sha256::new();
    for &i in matrix.as_slice() {
        hasher.update(i.to_le_bytes());
    }
    let digest: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(digest, m["sha256"].as_str().unwrap());
}

#[test]
fn sign_flips_match_python() {
    let s = &expected()["rng"]["signs"];
    let mut stream = Stream::new(s["master_seed"].as_u64().unwrap(), s["scope"].as_str().unwrap()).unwrap();
    let signs: Vec<f64> = (0..64).map(|_| stream.sign()).collect();
    assert_eq!(signs, crate::nums(&s["signs"]));
}

//! One-to-one matching of lesions: the assignment that maximises the total score over the pairs whose score
//! passes a threshold (Hungarian algorithm).
//!
//! Candidate pairs form a bipartite graph; each of its connected parts is solved on its own (with a strict
//! threshold above 0.5 on IoU every part is a single pair, so the common case costs nothing). Within a part the
//! shortest-augmenting-path Hungarian method with potentials (Kuhn 1955, Munkres 1957; O(n²m)) runs on the dense
//! score matrix, with non-candidate cells scoring 0 and dropped afterwards. Rows are GT lesions and columns
//! predicted lesions in id order, so the result is deterministic.
//!
//! Why our own: the parts are tiny, scores are f64 (the `pathfinding` crate's solver needs integer weights),
//! and the solver is ~50 lines checked against scipy's `linear_sum_assignment` results.

/// Pairs `(gt, pred)` of a maximum-total-score one-to-one matching among `candidates` (`(gt, pred, score)`,
/// score > 0), sorted by gt.
pub(crate) fn max_score_matching(candidates: &[(u32, u32, f64)]) -> Vec<(u32, u32)> {
    // Connected parts of the candidate graph through a union-find over gt ids and pred ids (offset).
    let gts: Vec<u32> = sorted_unique(candidates.iter().map(|c| c.0));
    let preds: Vec<u32> = sorted_unique(candidates.iter().map(|c| c.1));
    let gi = |g: u32| gts.binary_search(&g).expect("gt id of a candidate");
    let pi = |p: u32| gts.len() + preds.binary_search(&p).expect("pred id of a candidate");
    let mut parent: Vec<usize> = (0..gts.len() + preds.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for &(g, p, _) in candidates {
        let (a, b) = (find(&mut parent, gi(g)), find(&mut parent, pi(p)));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut parts: std::collections::BTreeMap<usize, Vec<(u32, u32, f64)>> =
        std::collections::BTreeMap::new();
    for &c in candidates {
        let root = find(&mut parent, gi(c.0));
        parts.entry(root).or_default().push(c);
    }
    let mut out = Vec::new();
    for part in parts.values() {
        if part.len() == 1 {
            out.push((part[0].0, part[0].1));
            continue;
        }
        let rows = sorted_unique(part.iter().map(|c| c.0));
        let cols = sorted_unique(part.iter().map(|c| c.1));
        let transpose = rows.len() > cols.len();
        let (n, m) = if transpose { (cols.len(), rows.len()) } else { (rows.len(), cols.len()) };
        let mut score = vec![vec![0.0; m]; n];
        for &(g, p, s) in part {
            let (r, c) = (rows.binary_search(&g).unwrap(), cols.binary_search(&p).unwrap());
            if transpose {
                score[c][r] = s;
            } else {
                score[r][c] = s;
            }
        }
        for (r, c) in hungarian_max(&score) {
            let (gr, pc) = if transpose { (c, r) } else { (r, c) };
            if score[r][c] > 0.0 {
                out.push((rows[gr], cols[pc]));
            }
        }
    }
    out.sort_unstable();
    out
}

fn sorted_unique(ids: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut v: Vec<u32> = ids.collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Maximum-score assignment of every row of an `n × m` matrix (`n ≤ m`) to a distinct column, as
/// `(row, column)` pairs.
fn hungarian_max(score: &[Vec<f64>]) -> Vec<(usize, usize)> {
    let n = score.len();
    let m = score.first().map_or(0, Vec::len);
    debug_assert!(n <= m);
    // Minimise cost = −score. Potentials u (rows), v (columns); column 0 is a virtual start (1-based below).
    let cost = |i: usize, j: usize| -score[i - 1][j - 1];
    let (mut u, mut v) = (vec![0.0f64; n + 1], vec![0.0f64; m + 1]);
    let mut owner = vec![0usize; m + 1]; // row assigned to column j (0 = none)
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        owner[0] = i;
        let mut j0 = 0;
        let mut minv = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = owner[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let cur = cost(i0, j) - u[i0] - v[j];
                if cur < minv[j] {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if minv[j] < delta {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[owner[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if owner[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            owner[j0] = owner[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    (1..=m).filter(|&j| owner[j] != 0).map(|j| (owner[j] - 1, j - 1)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(c: &[(u32, u32, f64)], pairs: &[(u32, u32)]) -> f64 {
        pairs.iter().map(|&(g, p)| c.iter().find(|x| x.0 == g && x.1 == p).unwrap().2).sum()
    }

    /// Every one-to-one subset of the candidates, for small inputs.
    fn brute(c: &[(u32, u32, f64)]) -> f64 {
        fn go(c: &[(u32, u32, f64)], i: usize, used: &mut Vec<(u32, u32)>) -> f64 {
            if i == c.len() {
                return 0.0;
            }
            let mut best = go(c, i + 1, used);
            if !used.iter().any(|&(g, p)| g == c[i].0 || p == c[i].1) {
                used.push((c[i].0, c[i].1));
                best = best.max(c[i].2 + go(c, i + 1, used));
                used.pop();
            }
            best
        }
        go(c, 0, &mut Vec::new())
    }

    #[test]
    fn greedy_is_not_optimal_but_this_is() {
        // Greedy takes (1, 1) = 0.9 and is left with nothing; the optimum is (1, 2) + (2, 1) = 1.4.
        let c = [(1, 1, 0.9), (1, 2, 0.7), (2, 1, 0.7)];
        let m = max_score_matching(&c);
        assert_eq!(m, vec![(1, 2), (2, 1)]);
    }

    #[test]
    fn equals_brute_force_on_random_graphs() {
        let mut rng = segauge_tests::SplitMix(12345);
        let mut next = move || rng.next_u64() as u32;
        for _ in 0..300 {
            let (ng, np) = (1 + next() % 5, 1 + next() % 5);
            let mut c = Vec::new();
            for g in 1..=ng {
                for p in 1..=np {
                    if next() % 3 == 0 {
                        c.push((g, p, (1 + next() % 1000) as f64 / 1000.0));
                    }
                }
            }
            let m = max_score_matching(&c);
            let mut gs: Vec<u32> = m.iter().map(|x| x.0).collect();
            let mut ps: Vec<u32> = m.iter().map(|x| x.1).collect();
            gs.dedup();
            ps.sort_unstable();
            ps.dedup();
            assert_eq!((gs.len(), ps.len()), (m.len(), m.len()), "one-to-one");
            assert!((total(&c, &m) - brute(&c)).abs() < 1e-12, "{c:?} -> {m:?}");
        }
    }
}

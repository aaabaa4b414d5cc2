//! The order of contestants within a round (issue 8, Build 3): shuffled, so that no contestant
//! always follows the same neighbour (whose leftover work, or whose warm caches, would then
//! weigh on it every round), and reproducible from a seed stored with the run.

/// The order in which `n` contestants take their turn in round `round` of `workload`
/// (round 0 is the warm-up): a permutation of `0..n` that depends only on the arguments.
///
/// Fisher-Yates driven by SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom
/// number generators", OOPSLA 2014), written out here so that an order stays reproducible
/// whatever version of a random-number crate a later faceoff links.
pub fn round_order(seed: u64, workload: &str, round: u32, n: usize) -> Vec<usize> {
    // FNV-1a of the workload name, so that workloads get different orders from one seed.
    let name_hash = workload.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut state = seed ^ name_hash.rotate_left(17) ^ u64::from(round).wrapping_mul(0x9e37_79b9);
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        // Multiply-shift gives an index in 0..=i without the bias of a plain modulo worth
        // speaking of for a handful of contestants.
        let j = ((u128::from(next()) * (i as u128 + 1)) >> 64) as usize;
        order.swap(i, j);
    }
    order
}

/// A fresh seed for a run that was not given one.
pub fn new_seed() -> u64 {
    fastrand::u64(..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_order_and_every_contestant_once() {
        for round in 0..20 {
            let a = round_order(42, "json", round, 9);
            assert_eq!(a, round_order(42, "json", round, 9));
            let mut sorted = a.clone();
            sorted.sort();
            assert_eq!(sorted, (0..9).collect::<Vec<_>>());
        }
        assert_eq!(round_order(1, "x", 1, 0), Vec::<usize>::new());
        assert_eq!(round_order(1, "x", 1, 1), vec![0]);
    }

    #[test]
    fn orders_vary_with_seed_round_and_workload() {
        let base = round_order(7, "json", 1, 9);
        assert_ne!(base, round_order(8, "json", 1, 9));
        assert_ne!(base, round_order(7, "json", 2, 9));
        assert_ne!(base, round_order(7, "db", 1, 9));
    }

    #[test]
    fn no_contestant_keeps_its_neighbour() {
        // Over 30 rounds of 3 contestants, each one follows each other one sometimes, and
        // every position is held by everyone: the shuffle is not stuck.
        let mut follows = [[0u32; 3]; 3];
        let mut first = [0u32; 3];
        for round in 1..=30 {
            let o = round_order(2026, "io", round, 3);
            first[o[0]] += 1;
            for w in o.windows(2) {
                follows[w[1]][w[0]] += 1;
            }
        }
        for a in 0..3 {
            assert!(first[a] > 0, "{first:?}");
            for b in 0..3 {
                assert!(a == b || follows[a][b] > 0, "{follows:?}");
            }
        }
    }
}

//! Random streams of the estimators' resampling: stream `index` of `purpose` under `seed`
//! is seeded from SHA-256 of the three, so that different seeds, purposes and indices give
//! independent streams (a seed `s` and `s + 1` share none of their resamples).

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use sha2::{Digest, Sha256};

/// The generator of resample `index` of `purpose` (e.g. `"subsample"`) under `seed`.
pub fn stream(seed: u64, purpose: &str, index: u64) -> Xoshiro256PlusPlus {
    let mut h = Sha256::new();
    h.update(b"tailgate-stream-v1");
    h.update(seed.to_le_bytes());
    h.update((purpose.len() as u64).to_le_bytes());
    h.update(purpose.as_bytes());
    h.update(index.to_le_bytes());
    let digest: [u8; 32] = h.finalize().into();
    Xoshiro256PlusPlus::from_seed(digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn neighbouring_seeds_purposes_and_indices_give_different_streams() {
        let first = |s: u64, p: &str, i: u64| stream(s, p, i).next_u64();
        let base = first(3, "subsample", 7);
        assert_eq!(base, first(3, "subsample", 7), "deterministic");
        assert_ne!(
            base,
            first(4, "subsample", 6),
            "seed + 1 does not shift the indices"
        );
        assert_ne!(base, first(3, "subsample", 8));
        assert_ne!(base, first(3, "gof", 7));
    }
}

//! The extremal index θ ∈ (0, 1] by the intervals estimator of Ferro & Segers (2003,
//! JRSS B 65:545): 1/θ is the mean size of a cluster of exceedances, so θ·n is the number
//! of independent clusters, the effective sample size of a threshold.

/// θ̂ from the inter-exceedance times of independent chains pooled: `times` are the gaps
/// between consecutive exceedances within each chain (a chain with one exceedance adds
/// none). No gap at all (no chain exceeded twice): no clustering seen, θ̂ = 1.
pub fn extremal_index(times: &[u64]) -> f64 {
    let m = times.len();
    if m == 0 {
        return 1.0;
    }
    let max = times.iter().copied().max().unwrap_or(1);
    let (s1, s2): (f64, f64) = if max <= 2 {
        let s1: f64 = times.iter().map(|&t| t as f64).sum();
        let s2: f64 = times.iter().map(|&t| (t as f64).powi(2)).sum();
        (s1, s2)
    } else {
        let s1: f64 = times.iter().map(|&t| t as f64 - 1.0).sum();
        let s2: f64 = times
            .iter()
            .map(|&t| (t as f64 - 1.0) * (t as f64 - 2.0))
            .sum();
        (s1, s2)
    };
    if s2.is_nan() || s2 <= 0.0 {
        return 1.0;
    }
    // Ferro & Segers divide by n − 1, the number of gaps of one series: here `m`.
    (2.0 * s1 * s1 / (m as f64 * s2)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_values() {
        // Gaps ≤ 2: 2(ΣT)²/(m ΣT²) = 2·16/(3·6) → capped at 1.
        assert_eq!(extremal_index(&[1, 1, 2]), 1.0);
        // Clusters of consecutive exceedances with long gaps between: T = 1,1,1,100,1,1,1,100.
        let t = [1, 1, 1, 100, 1, 1, 1, 100];
        let s1: f64 = 2.0 * 99.0;
        let s2: f64 = 2.0 * 99.0 * 98.0;
        let want = 2.0 * s1 * s1 / (8.0 * s2);
        assert!((extremal_index(&t) - want).abs() < 1e-15);
        // Clusters of four, but constant long gaps: the estimator assumes exponential
        // inter-cluster times (E T² = 2 E²T), so it reads twice 1/4 here.
        assert!((want - 0.505).abs() < 1e-3, "{want}");
        assert_eq!(extremal_index(&[]), 1.0);
    }

    #[test]
    fn independent_exceedances_give_one_and_clusters_their_inverse_size() {
        use crate::stream;
        use rand::RngExt;
        let mut rng = stream(0, "extremal-test", 0);
        // Bernoulli(p) exceedances: geometric gaps, θ = 1.
        let p = 0.01;
        let mut gaps = Vec::new();
        let mut last = None;
        for t in 0..2_000_000u64 {
            if rng.random::<f64>() < p {
                if let Some(l) = last {
                    gaps.push(t - l);
                }
                last = Some(t);
            }
        }
        let theta = extremal_index(&gaps);
        assert!((theta - 1.0).abs() < 0.05, "{theta}");
        // The same, every exceedance becoming a run of 5: θ = 1/5.
        let mut runs = Vec::new();
        for &g in &gaps {
            runs.extend([1, 1, 1, 1, g + 4]);
        }
        let theta = extremal_index(&runs);
        assert!((theta - 0.2).abs() < 0.02, "{theta}");
    }
}

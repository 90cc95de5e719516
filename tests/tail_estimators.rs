//! Known-answer and error-path tests of the estimators (docs/theory.md §5).

use tailgate::tail::{
    BlockGrid, Center, KChoice, LOG_EPS, Rows, TailError, center_in_place, center_rows,
    double_bootstrap_k, hill, hill_alpha, hill_alpha_in_place, hill_plot, median, mohammadi,
    mohammadi_median, mohammadi_median_prefix, mohammadi_subsample_ci, moments, moments_alpha,
    moments_alpha_in_place, moments_xi, paired_diff_ci, pickands, pickands_alpha,
    pickands_alpha_in_place, pickands_xi, sample_symmetric_stable, scaled_k, subsample_ci,
    subsample_scalar_ci,
};

fn stable_rows(alpha: f64, n: usize, seed: u64) -> Rows {
    Rows::scalars(sample_symmetric_stable(alpha, n, seed)).unwrap()
}

#[test]
fn mohammadi_recovers_stable_alpha_at_1e5() {
    // docs/theory.md §5.1: about ±0.01 on α-stable samples at N = 1e5; the bound leaves
    // room for one seed's luck.
    for (i, alpha) in [0.8, 1.2, 1.5, 1.8].into_iter().enumerate() {
        let est = mohammadi_median(
            &stable_rows(alpha, 100_000, 11 + i as u64),
            &BlockGrid::Network,
        )
        .unwrap();
        assert!(
            (est.alpha - alpha).abs() < 0.03,
            "alpha {alpha}: estimated {}",
            est.alpha
        );
    }
}

#[test]
fn mohammadi_recovers_stable_alpha_at_1e4() {
    for (i, alpha) in [0.8, 1.2, 1.5, 1.8].into_iter().enumerate() {
        let est = mohammadi_median(
            &stable_rows(alpha, 10_000, 21 + i as u64),
            &BlockGrid::Network,
        )
        .unwrap();
        assert!(
            (est.alpha - alpha).abs() < 0.08,
            "alpha {alpha}: estimated {}",
            est.alpha
        );
    }
}

#[test]
fn gaussian_rows_give_two() {
    // α = 2 stable is N(0, 2): Gaussian vectors of dimension 5, Euclidean norms.
    let rows = Rows::new(sample_symmetric_stable(2.0, 5 * 20_000, 3), 5).unwrap();
    let est = mohammadi_median(&rows, &BlockGrid::Network).unwrap();
    assert!((est.alpha - 2.0).abs() < 0.05, "estimated {}", est.alpha);
}

#[test]
fn stable_sampler_matches_known_laws() {
    // α = 2: N(0, 2), variance 2. α = 1: standard Cauchy, median |X| = 1.
    let g = sample_symmetric_stable(2.0, 200_000, 5);
    let var = g.iter().map(|v| v * v).sum::<f64>() / g.len() as f64;
    assert!((var - 2.0).abs() < 0.03, "variance {var}");
    let c: Vec<f64> = sample_symmetric_stable(1.0, 200_000, 6)
        .iter()
        .map(|v| v.abs())
        .collect();
    assert!((median(&c) - 1.0).abs() < 0.02, "median |X| {}", median(&c));
    // Same seed, same samples.
    assert_eq!(
        sample_symmetric_stable(1.3, 100, 9),
        sample_symmetric_stable(1.3, 100, 9)
    );
}

#[test]
fn mohammadi_hand_computed_odd_n() {
    // N = 5, m = 2: blocks 1+2 and 3+4; row 5 is dropped from both means.
    let rows = Rows::scalars(vec![1.0, -2.0, 3.0, 4.0, 5.0]).unwrap();
    let l = |v: f64| (v + LOG_EPS).ln();
    let blocks = (l(1.0) + l(7.0)) / 2.0;
    let singles = (l(1.0) + l(2.0) + l(3.0) + l(4.0)) / 4.0;
    let expected = (2f64).ln() / (blocks - singles);
    assert!((mohammadi(&rows, 2).unwrap() - expected).abs() < 1e-12);
    // N = 5, m = 3: one block 1−2+3 = 2, rows 4 and 5 dropped.
    let expected3 = (3f64).ln() / (l(2.0) - (l(1.0) + l(2.0) + l(3.0)) / 3.0);
    assert!((mohammadi(&rows, 3).unwrap() - expected3).abs() < 1e-12);
}

#[test]
fn mohammadi_hand_computed_vectors() {
    // Rows (3,4), (0,1), (1,0); m = 2: one block (3,5), norm √34; the last row dropped.
    let rows = Rows::new(vec![3.0, 4.0, 0.0, 1.0, 1.0, 0.0], 2).unwrap();
    let l = |v: f64| (v + LOG_EPS).ln();
    let expected = (2f64).ln() / (l(34f64.sqrt()) - (l(5.0) + l(1.0)) / 2.0);
    assert!((mohammadi(&rows, 2).unwrap() - expected).abs() < 1e-12);
}

/// The estimator's definition, one block size at a time, straight from the rows.
fn mohammadi_by_definition(data: &[f64], dim: usize, m: usize) -> f64 {
    let n = data.len() / dim;
    let used = n / m * m;
    let l = |row: &[f64]| (row.iter().map(|v| v * v).sum::<f64>().sqrt() + LOG_EPS).ln();
    let rows: f64 = data[..used * dim].chunks_exact(dim).map(l).sum::<f64>() / used as f64;
    let blocks: f64 = data[..used * dim]
        .chunks_exact(m * dim)
        .map(|b| {
            let sum: Vec<f64> = (0..dim)
                .map(|j| b.chunks_exact(dim).map(|r| r[j]).sum())
                .collect();
            l(&sum)
        })
        .sum::<f64>()
        / (n / m) as f64;
    (m as f64).ln() / (blocks - rows)
}

#[test]
fn every_grid_size_matches_the_definition() {
    // Nested sizes are built from smaller sizes' blocks (10 from 5, 1000 from 500, 24 from
    // 12, …) and rows are read in tiles; n = 1037 leaves partial blocks at every size.
    for (dim, grid) in [
        (1, BlockGrid::Network),
        (3, BlockGrid::Network),
        (100, BlockGrid::Network),
        (7, BlockGrid::Synthetic),
        (5, BlockGrid::Explicit(vec![24, 3, 4, 6, 12, 7, 1000, 3])),
    ] {
        let data = sample_symmetric_stable(1.4, 1037 * dim, dim as u64);
        let rows = Rows::new(data.clone(), dim).unwrap();
        let est = mohammadi_median(&rows, &grid).unwrap();
        assert_eq!(est.per_block_size.len(), grid.sizes(1037).unwrap().len());
        for b in &est.per_block_size {
            let want = mohammadi_by_definition(&data, dim, b.m);
            assert!(
                (b.alpha - want).abs() < 1e-9 * want.abs(),
                "dim {dim}, m {}: {} vs {want}",
                b.m,
                b.alpha
            );
            assert!((mohammadi(&rows, b.m).unwrap() - want).abs() < 1e-9 * want.abs());
        }
    }
}

#[test]
fn grid_median_and_skipping() {
    let rows = stable_rows(1.5, 300, 1);
    let est = mohammadi_median(&rows, &BlockGrid::Network).unwrap();
    let ms: Vec<usize> = est.per_block_size.iter().map(|b| b.m).collect();
    assert_eq!(ms, vec![2, 5, 10, 20, 50, 100]);
    let alphas: Vec<f64> = est.per_block_size.iter().map(|b| b.alpha).collect();
    assert_eq!(est.alpha, median(&alphas));
    let sqrt = mohammadi_median(&rows, &BlockGrid::Sqrt).unwrap();
    assert_eq!(sqrt.per_block_size[0].m, 17);
}

#[test]
fn hill_hand_computed() {
    // X = 8, 4, 2, 1; k = 2: mean(ln 8, ln 4) − ln 2 = 1.5 ln 2.
    let a = hill_alpha(&[2.0, 8.0, 1.0, 4.0], 2).unwrap();
    assert!((a - 1.0 / (1.5 * 2f64.ln())).abs() < 1e-12);
    let plot = hill_plot(&[2.0, 8.0, 1.0, 4.0], 10);
    assert_eq!(plot.len(), 3);
    assert!((plot[1].1 - a).abs() < 1e-12);
    assert!((plot[0].1 - 1.0 / 2f64.ln()).abs() < 1e-12);
}

fn pareto(alpha: f64, n: usize, seed: u64) -> Vec<f64> {
    // |Cauchy|-free Pareto(α) from uniforms: X = U^{−1/α} (≥ 1).
    let u = sample_symmetric_stable(1.0, n, seed); // tan V, V uniform
    u.iter()
        .map(|t| {
            let v = t.atan() / std::f64::consts::PI + 0.5; // uniform(0, 1)
            v.max(1e-300).powf(-1.0 / alpha)
        })
        .collect()
}

#[test]
fn hill_recovers_pareto_index() {
    for alpha in [0.7, 1.5, 3.0] {
        let x = pareto(alpha, 100_000, 4);
        let a = hill_alpha(&x, 2_000).unwrap();
        assert!((a - alpha).abs() / alpha < 0.06, "alpha {alpha}: Hill {a}");
        let est = hill(
            &x,
            KChoice::DoubleBootstrap {
                resamples: 30,
                seed: 1,
            },
        )
        .unwrap();
        assert!(
            (est.alpha - alpha).abs() / alpha < 0.1,
            "alpha {alpha}: double bootstrap k {} gives {}",
            est.k,
            est.alpha
        );
        assert_eq!(est.k_rule, "double_bootstrap");
    }
}

#[test]
fn double_bootstrap_is_seeded() {
    let x = pareto(1.2, 5_000, 8);
    assert_eq!(
        double_bootstrap_k(&x, 20, 3).unwrap(),
        double_bootstrap_k(&x, 20, 3).unwrap()
    );
}

/// Hill at a fixed k/n on Pareto samples is nearly unbiased, so the subsampling interval
/// should cover the true α in about 95 % of independent samples; it always contains the
/// estimate itself.
#[test]
fn subsampling_interval_covers_true_alpha_in_most_repeats() {
    let alpha = 1.5;
    let mut covered = 0;
    for seed in 0..60 {
        let x = pareto(alpha, 4_000, 1000 + seed);
        let k = 400;
        let est = hill_alpha(&x, k).unwrap();
        let ci = subsample_scalar_ci(&x, est, 100, 0.95, seed, |r, f| {
            hill_alpha_in_place(r, scaled_k(k, f, r.len()))
        })
        .unwrap();
        assert!(ci.lo <= est && est <= ci.hi, "{est} outside {ci:?}");
        assert_eq!(ci.size, 2_000);
        if ci.lo <= alpha && alpha <= ci.hi {
            covered += 1;
        }
    }
    // Binomial(60, 0.95): fewer than 51 has probability below 0.3 %.
    assert!(covered >= 51, "covered {covered} of 60");
}

/// Symmetric by construction: the estimate is the midpoint, for any statistic, even one
/// whose subsamples all land on one side of it.
#[test]
fn the_estimate_is_always_inside_its_interval() {
    let rows = stable_rows(1.3, 1_000, 5);
    for shift in [-1.0, 0.0, 3.0] {
        let est = mohammadi_median(&rows, &BlockGrid::Network).unwrap().alpha + shift;
        let ci = subsample_ci(&rows, est, 50, 0.9, 2, |r, _| {
            Ok(mohammadi_median(&r, &BlockGrid::Network)?.alpha)
        })
        .unwrap();
        assert!((0.5 * (ci.lo + ci.hi) - est).abs() < 1e-12 && ci.lo <= est && est <= ci.hi);
    }
    // Bad settings are errors, not intervals.
    let stat = |_: Rows, _: f64| Ok(1.0);
    assert!(subsample_ci(&rows, 1.0, 1, 0.9, 0, stat).is_err());
    assert!(subsample_ci(&rows, 1.0, 10, 1.5, 0, stat).is_err());
    assert!(subsample_ci(&rows, f64::NAN, 10, 0.9, 0, stat).is_err());
}

/// The paired interval takes the same rows of both samples: what they share cancels
/// exactly, and a small independent perturbation gives a narrow interval.
#[test]
fn paired_difference_interval_cancels_what_the_samples_share() {
    let stat = |r: Rows| Ok(mohammadi_median(&r, &BlockGrid::Network)?.alpha);
    let a = stable_rows(1.5, 4_000, 3);
    let same = paired_diff_ci(&a, &a, 0.0, 100, 0.95, 7, stat).unwrap();
    assert_eq!((same.lo, same.hi, same.failed), (0.0, 0.0, 0));
    let noise = sample_symmetric_stable(1.5, 4_000, 4);
    let b = Rows::scalars(
        a.as_slice()
            .iter()
            .zip(&noise)
            .map(|(x, e)| x + 0.05 * e)
            .collect(),
    )
    .unwrap();
    let diff = stat(a.clone()).unwrap() - stat(b.clone()).unwrap();
    let paired = paired_diff_ci(&a, &b, diff, 100, 0.95, 7, stat).unwrap();
    let alone = subsample_ci(&a, stat(a.clone()).unwrap(), 100, 0.95, 7, |r, _| stat(r)).unwrap();
    assert!(paired.lo <= diff && diff <= paired.hi, "{paired:?}");
    assert!(
        paired.hi - paired.lo < 0.75 * (alone.hi - alone.lo),
        "paired {paired:?} one sample {alone:?}"
    );
    // Unequal sizes are not pairs.
    let short = Rows::scalars(a.as_slice()[..100].to_vec()).unwrap();
    assert!(paired_diff_ci(&a, &short, 0.0, 100, 0.95, 7, stat).is_err());
}

/// The run summary's Mohammadi interval reads subsamples through their indices, centred
/// tile by tile; it must give exactly the interval of the general path that copies and
/// centres each subsample.
#[test]
fn tile_by_tile_subsampling_equals_the_general_one() {
    for (dim, n) in [(1, 3001), (7, 1237), (100, 160)] {
        let values: Vec<f64> = sample_symmetric_stable(1.6, dim * n, dim as u64)
            .iter()
            .enumerate()
            .map(|(i, v)| v + (i % dim) as f64) // an off-centre mean per coordinate
            .collect();
        let rows = Rows::new(values, dim).unwrap();
        let centres = [
            Center::Mean,
            Center::None,
            Center::Median,
            Center::Vector((0..dim).map(|j| 0.5 * j as f64).collect()),
        ];
        for center in &centres {
            for grid in [BlockGrid::Network, BlockGrid::Sqrt] {
                let general = subsample_ci(&rows, 1.5, 40, 0.9, 5, |r, _| {
                    Ok(mohammadi_median(&center_in_place(r, center)?, &grid)?.alpha)
                })
                .unwrap();
                let tiled = mohammadi_subsample_ci(&rows, center, &grid, 1.5, 40, 0.9, 5).unwrap();
                assert_eq!(tiled, general, "dim {dim}, {center:?}, {grid:?}");
            }
        }
    }
    // A centre of the wrong width fails every subsample, as in the general path.
    let rows = Rows::new(vec![1.0; 20], 2).unwrap();
    let wrong = Center::Vector(vec![0.0; 3]);
    assert!(mohammadi_subsample_ci(&rows, &wrong, &BlockGrid::Sqrt, 1.0, 10, 0.9, 0).is_err());
}

#[test]
fn centring() {
    let rows = Rows::new(vec![1.0, 10.0, 3.0, 20.0, 5.0, 90.0], 2).unwrap();
    let mean = center_rows(&rows, &Center::Mean).unwrap();
    assert_eq!(mean.as_slice(), &[-2.0, -30.0, 0.0, -20.0, 2.0, 50.0]);
    let med = center_rows(&rows, &Center::Median).unwrap();
    assert_eq!(med.as_slice(), &[-2.0, -10.0, 0.0, 0.0, 2.0, 70.0]);
    let v = center_rows(&rows, &Center::Vector(vec![1.0, 1.0])).unwrap();
    assert_eq!(v.row(2), &[4.0, 89.0]);
    assert!(matches!(
        center_rows(&rows, &Center::Vector(vec![1.0])),
        Err(TailError::ShapeMismatch { .. })
    ));
}

#[test]
fn error_paths() {
    let rows = Rows::scalars(vec![1.0, 2.0, 3.0]).unwrap();
    assert_eq!(mohammadi(&rows, 1), Err(TailError::BlockTooSmall { m: 1 }));
    assert_eq!(
        mohammadi(&rows, 4),
        Err(TailError::BlockLargerThanData { m: 4, n: 3 })
    );
    assert!(matches!(
        mohammadi_median(&rows, &BlockGrid::Explicit(vec![2, 10])),
        Err(TailError::BlockLargerThanData { m: 10, n: 3 })
    ));
    let one = Rows::scalars(vec![1.0]).unwrap();
    assert!(matches!(
        mohammadi_median(&one, &BlockGrid::Network),
        Err(TailError::EmptyGrid { .. })
    ));
    assert_eq!(
        hill_alpha(&[1.0, 2.0, 3.0], 3),
        Err(TailError::KOutOfRange { k: 3, n: 3 })
    );
    assert_eq!(
        hill_alpha(&[1.0, 2.0, 3.0], 0),
        Err(TailError::KOutOfRange { k: 0, n: 3 })
    );
    assert_eq!(
        hill_alpha(&[0.0, 0.0, 3.0], 1),
        Err(TailError::ZeroThreshold { k: 1 })
    );
    assert_eq!(
        Rows::scalars(vec![1.0, f64::NAN]),
        Err(TailError::NonFinite { row: 1, col: 0 })
    );
    assert!(Rows::new(vec![1.0, 2.0, 3.0], 2).is_err());
    assert!(double_bootstrap_k(&[1.0; 10], 10, 0).is_err());
}

#[test]
fn moments_and_pickands_hand_computed() {
    // X = 10, 5, 4, 2, 1; k = 2: yᵢ = ln(10/4), ln(5/4); M₁ = mean y, M₂ = mean y².
    let x = [4.0, 1.0, 10.0, 2.0, 5.0];
    let (y1, y2) = ((10.0f64 / 4.0).ln(), (5.0f64 / 4.0).ln());
    let (m1, m2) = ((y1 + y2) / 2.0, (y1 * y1 + y2 * y2) / 2.0);
    let want = m1 + 1.0 - 0.5 / (1.0 - m1 * m1 / m2);
    assert!((moments_xi(&x, 2).unwrap() - want).abs() < 1e-12);
    assert!(matches!(
        moments_xi(&x, 5),
        Err(TailError::KOutOfRange { .. })
    ));
    // X₍₁₎, X₍₂₎, X₍₄₎ = 16, 8, 5 at k = 1: ξ = ln((16 − 8)/(8 − 5))/ln 2.
    let x = [5.0, 16.0, 6.0, 8.0, 1.0];
    let want = (8.0f64 / 3.0).ln() / 2f64.ln();
    assert!((pickands_xi(&x, 1).unwrap() - want).abs() < 1e-12);
    assert!(matches!(
        pickands_xi(&x, 2),
        Err(TailError::KOutOfRange { .. })
    ));
    let est = pickands(&x, KChoice::Fixed(1)).unwrap();
    assert_eq!((est.k, est.k_rule.as_str()), (1, "fixed"));
    assert!((est.alpha.unwrap() - 1.0 / want).abs() < 1e-12);
}

/// Pickands by three selections takes the same order statistics as on the sorted sample.
#[test]
fn pickands_by_selection_equals_pickands_on_the_sorted_sample() {
    let x = pareto(1.3, 4_001, 12);
    for k in [1, 2, 3, 17, 250, 1000] {
        let sorted = pickands(&x, KChoice::Fixed(k)).unwrap().xi;
        assert_eq!(
            pickands_xi(&x, k).unwrap().to_bits(),
            sorted.to_bits(),
            "k {k}"
        );
    }
    // Ties across the three order statistics.
    let x = [3.0, 3.0, 3.0, 1.0, 3.0, 2.0, 2.0, 5.0];
    let sorted = pickands(&x, KChoice::Fixed(2)).unwrap().xi;
    assert_eq!(pickands_xi(&x, 2).unwrap().to_bits(), sorted.to_bits());
}

/// The scalar bootstrap (resamples drawn into one buffer, statistics selecting in place)
/// draws the general bootstrap's resamples: the same intervals to the bit, failures included.
#[test]
fn scalar_subsampling_equals_the_general_one() {
    let x = pareto(1.5, 3_000, 13);
    let rows = Rows::scalars(x.clone()).unwrap();
    type Stat = fn(&[f64], usize) -> Result<f64, TailError>;
    type InPlace = fn(&mut [f64], usize) -> Result<f64, TailError>;
    let stats: [(Stat, InPlace, usize); 3] = [
        (hill_alpha, hill_alpha_in_place, 100),
        (moments_alpha, moments_alpha_in_place, 150),
        (pickands_alpha, pickands_alpha_in_place, 40),
    ];
    for (copying, in_place, k) in stats {
        for seed in [0, 7] {
            let est = copying(&x, k).unwrap();
            let general = subsample_ci(&rows, est, 40, 0.9, seed, |r, f| {
                copying(r.as_slice(), scaled_k(k, f, r.n()))
            });
            let scalar = subsample_scalar_ci(&x, est, 40, 0.9, seed, |r, f| {
                in_place(r, scaled_k(k, f, r.len()))
            });
            assert_eq!(format!("{general:?}"), format!("{scalar:?}"), "k {k}");
        }
    }
    // k beyond a quarter of every subsample: every subsample fails, an error.
    let est = pickands_alpha(&x, 700).unwrap_or(1.0);
    assert!(
        subsample_scalar_ci(&x, est, 40, 0.9, 0, |r, _| pickands_alpha_in_place(
            r, 1_000
        ))
        .is_err()
    );
}

/// The Mohammadi estimate of a prefix read in place equals that of the prefix copied.
#[test]
fn mohammadi_of_a_prefix_equals_the_copied_prefix() {
    let rows = Rows::new(sample_symmetric_stable(1.4, 3 * 5_000, 14), 3).unwrap();
    for m in [2, 999, 1_250, 5_000, 9_000] {
        let copied = Rows::new(rows.as_slice()[..m.min(5_000) * 3].to_vec(), 3).unwrap();
        let want = mohammadi_median(&copied, &BlockGrid::Network).unwrap();
        assert_eq!(
            mohammadi_median_prefix(&rows, m, &BlockGrid::Network).unwrap(),
            want,
            "m {m}"
        );
    }
}

#[test]
fn moments_and_pickands_recover_pareto_and_stable_indices() {
    let boot = KChoice::DoubleBootstrap {
        resamples: 30,
        seed: 3,
    };
    for alpha in [0.7, 1.5, 3.0] {
        let x = pareto(alpha, 100_000, 5);
        let m = moments(&x, KChoice::Fixed(2_000)).unwrap().alpha.unwrap();
        assert!((m - alpha).abs() / alpha < 0.08, "α {alpha}: moments {m}");
        let est = moments(&x, boot).unwrap();
        let a = est.alpha.unwrap();
        assert!(
            (a - alpha).abs() / alpha < 0.1,
            "α {alpha}: moments at double-bootstrap k {} gives {a}",
            est.k
        );
        assert_eq!(est.k_rule, "double_bootstrap");
        let p = pickands(&x, KChoice::Fixed(2_000)).unwrap().alpha.unwrap();
        assert!((p - alpha).abs() / alpha < 0.25, "α {alpha}: Pickands {p}");
        let est = pickands(&x, boot).unwrap();
        assert_eq!(est.k_rule, "stability");
        let p = est.alpha.unwrap();
        assert!(
            (p - alpha).abs() / alpha < 0.3,
            "α {alpha}: Pickands at k {} gives {p}",
            est.k
        );
    }
    for alpha in [1.2, 1.8] {
        let x: Vec<f64> = sample_symmetric_stable(alpha, 200_000, 8)
            .iter()
            .map(|v| v.abs())
            .collect();
        let m = moments(&x, KChoice::Fixed(1_000)).unwrap().alpha.unwrap();
        assert!((m - alpha).abs() < 0.15, "stable α {alpha}: moments {m}");
        let p = pickands(&x, KChoice::Fixed(1_000)).unwrap().alpha.unwrap();
        assert!((p - alpha).abs() < 0.4, "stable α {alpha}: Pickands {p}");
    }
}

/// A bounded law (uniform: ξ = −1) has no finite α: reported as none, not as a number.
#[test]
fn light_tails_give_no_alpha() {
    let u: Vec<f64> = pareto(1.0, 50_000, 9).iter().map(|x| 1.0 / x).collect();
    let m = moments(&u, KChoice::Fixed(1_000)).unwrap();
    assert!(m.xi < -0.5 && m.alpha.is_none(), "{m:?}");
    let p = pickands(&u, KChoice::Fixed(1_000)).unwrap();
    assert!(p.xi < -0.5 && p.alpha.is_none(), "{p:?}");
}

/// Blocks that cancel (rows +x, −x alternating) make the block sums smaller than the rows:
/// a negative 1/α̂. That is not a tail index: an error, never a negative number.
#[test]
fn a_negative_mohammadi_value_is_undefined_not_reported() {
    let x: Vec<f64> = (0..1000)
        .map(|i| {
            if i % 2 == 0 {
                1.0 + i as f64
            } else {
                -(i as f64)
            }
        })
        .collect();
    let rows = Rows::scalars(x).unwrap();
    let err = mohammadi_median(&rows, &BlockGrid::Explicit(vec![2, 10])).unwrap_err();
    assert!(matches!(err, TailError::Undefined(_)), "{err}");
}

/// The headline estimator's known answers: on Pareto(α) samples of 10⁵ the power-law fit
/// is within 0.05 of α (the target for α = 1.5), and it reads light tails as light.
#[test]
fn powerlaw_fit_recovers_pareto_and_reports_light_tails_as_light() {
    use tailgate::tail::{PowerLawOptions, powerlaw_fit};
    for (i, alpha) in [0.8, 1.5, 3.0].into_iter().enumerate() {
        let x = pareto(alpha, 100_000, 40 + i as u64);
        let fit = powerlaw_fit(&x, &PowerLawOptions::default()).unwrap();
        assert!((fit.alpha - alpha).abs() < 0.05, "α {alpha}: {fit:?}");
        assert!(
            fit.n_tail > 10_000,
            "a pure Pareto keeps a large tail: {fit:?}"
        );
    }
    // |t₃| has tail index 3: a light tail (finite variance), read as > 2.3.
    let t3: Vec<f64> = {
        let z = sample_symmetric_stable(2.0, 400_000, 77); // N(0, 2)
        (0..100_000)
            .map(|i| {
                let chi2: f64 = (1..4).map(|j| z[i + j * 100_000].powi(2) / 2.0).sum();
                (z[i] / 2f64.sqrt() / (chi2 / 3.0).sqrt()).abs()
            })
            .collect()
    };
    let fit = powerlaw_fit(&t3, &PowerLawOptions::default()).unwrap();
    assert!(fit.alpha > 2.3, "|t₃|: {fit:?}");
}

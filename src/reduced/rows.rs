//! From a chain's coordinates back to rows: `w = a·w* + c·u`, `u` (and the running sum's
//! `v`) a uniformly random orthonormal frame of `w*⊥` drawn per chain — exactly the law of
//! a full simulation's rows — or, where `[chains, d]` is too large, an exact projection of
//! those rows on `w*` and a few fixed directions of `w*⊥` (drawn in O(p) per chain).

use super::Reduced;
use crate::data::gamma::ChiSquared;
use crate::data::normal::Buffered;
use crate::data::{self, FRAME_STREAM};
use crate::tail::Rows;
use rand::rngs::Xoshiro256PlusPlus;
use rayon::prelude::*;

pub use crate::config::{EstimationRows, MATERIALISE_LIMIT, PROJECTED_WIDTH};

// Chain indices are held as u32 while the estimation rows are built.
const _: () = assert!(super::MAX_CHAINS <= u32::MAX as usize);

/// Turns a reduced run's coordinates into rows.
pub struct RowMaker<'a> {
    run: &'a Reduced,
    teacher: Vec<f64>,
    dim: usize,
    seed: u64,
}

/// Final or running-average rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The final iterates.
    Final,
    /// The running means after the burn-in.
    Average,
}

impl<'a> RowMaker<'a> {
    /// Rows of `run`, each chain's random directions ⊥ w* drawn from its stream under `seed`.
    pub fn new(run: &'a Reduced, seed: u64) -> Self {
        RowMaker {
            run,
            teacher: unit(run.teacher.iter().map(|&t| f64::from(t)).collect()),
            dim: run.teacher.len(),
            seed,
        }
    }

    /// The final and average rows of `chains`, float32 `[len, d]` each.
    pub fn full_f32(&self, chains: std::ops::Range<usize>) -> (Vec<f32>, Vec<f32>) {
        let d = self.dim;
        let mut fin = vec![0.0f32; chains.len() * d];
        let mut avg = vec![0.0f32; chains.len() * d];
        fin.par_chunks_mut(d)
            .zip(avg.par_chunks_mut(d))
            .zip(chains)
            .for_each_init(
                || (vec![0.0; d], vec![0.0; d]),
                |(u, v), ((f, m), chain)| {
                    self.frame(chain, u, v);
                    let t = &self.teacher;
                    for (x, y) in f.iter_mut().zip(self.row_in(Which::Final, chain, t, u, v)) {
                        *x = y as f32;
                    }
                    for (x, y) in m
                        .iter_mut()
                        .zip(self.row_in(Which::Average, chain, t, u, v))
                    {
                        *x = y as f32;
                    }
                },
            );
        (fin, avg)
    }

    /// The rows of the chains that did not diverge, as [`EstimationRows`] says.
    pub fn estimation(&self, rows: EstimationRows, which: Which) -> Option<Rows> {
        // u32: half the memory beside the rows at 10⁷ chains (MAX_CHAINS < 2³²).
        let kept: Vec<u32> = (0..self.run.diverged.len())
            .filter(|&c| !self.run.diverged[c])
            .map(|c| c as u32)
            .collect();
        let width = rows.width(self.dim);
        let mut data = vec![0.0f64; kept.len() * width];
        match rows {
            EstimationRows::Final => data.par_chunks_mut(width).zip(&kept).for_each_init(
                || (vec![0.0; width], vec![0.0; width]),
                |(u, v), (row, &chain)| {
                    let chain = chain as usize;
                    self.frame(chain, u, v);
                    let value = self.row_in(which, chain, &self.teacher, u, v);
                    for (r, x) in row.iter_mut().zip(value) {
                        *r = f64::from(x as f32);
                    }
                },
            ),
            EstimationRows::Projected { width } => {
                let p = width - 1;
                data.par_chunks_mut(width).zip(&kept).for_each_init(
                    || (vec![0.0; p], vec![0.0; p]),
                    |(u, v), (row, &chain)| {
                        let chain = chain as usize;
                        self.projected_frame(chain, u, v);
                        let ([a, c], [m0, m1, m2]) = (self.coords(chain), self.mean(chain));
                        match which {
                            Which::Final => {
                                row[0] = a;
                                for j in 0..p {
                                    row[1 + j] = c * u[j];
                                }
                            }
                            Which::Average => {
                                row[0] = m0;
                                for j in 0..p {
                                    row[1 + j] = m1 * u[j] + m2 * v[j];
                                }
                            }
                        }
                    },
                )
            }
        }
        Rows::new(data, width).ok()
    }

    /// The d values of one row: `e` plays `w*` and `u`, `v` the frame.
    fn row_in<'b>(
        &self,
        which: Which,
        chain: usize,
        e: &'b [f64],
        u: &'b [f64],
        v: &'b [f64],
    ) -> impl Iterator<Item = f64> + 'b {
        let ([a, c], [m0, m1, m2]) = (self.coords(chain), self.mean(chain));
        let (k0, k1, k2) = match which {
            Which::Final => (a, c, 0.0),
            Which::Average => (m0, m1, m2),
        };
        (0..e.len()).map(move |j| k0 * e[j] + k1 * u[j] + k2 * v[j])
    }

    fn coords(&self, chain: usize) -> [f64; 2] {
        [self.run.coords[2 * chain], self.run.coords[2 * chain + 1]]
    }

    fn mean(&self, chain: usize) -> [f64; 3] {
        let m = &self.run.average[3 * chain..3 * chain + 3];
        [m[0], m[1], m[2]]
    }

    fn rng(&self, chain: usize) -> (Xoshiro256PlusPlus, Buffered) {
        (
            data::stream(self.seed, FRAME_STREAM, chain as u64),
            Buffered::default(),
        )
    }

    /// `u`, `v`: a uniformly random orthonormal pair in `w*⊥` (Gram–Schmidt of two normal
    /// vectors). d = 2: `u` is the fixed unit vector ⊥ w* (the coordinate `c` is signed
    /// there); d = 1: no frame.
    fn frame(&self, chain: usize, u: &mut [f64], v: &mut [f64]) {
        let t = &self.teacher;
        u.fill(0.0);
        v.fill(0.0);
        match self.dim {
            1 => {}
            2 => {
                let n = (t[0] * t[0] + t[1] * t[1]).sqrt();
                u[0] = -t[1] / n;
                u[1] = t[0] / n;
            }
            _ => {
                let (mut rng, mut normals) = self.rng(chain);
                for x in u.iter_mut().chain(v.iter_mut()) {
                    *x = normals.next(&mut rng);
                }
                orthonormalise(u, &[t]);
                orthonormalise(v, &[t, u]);
            }
        }
    }

    /// The first p coordinates of the same kind of pair in a fixed basis of `w*⊥`, drawn
    /// exactly without the other d − 1 − p: `u = g/‖g‖` and `v ∝ h − (h·u)u` for
    /// `g, h ~ N(0, I_{d−1})`, where the unseen parts enter only through `‖g_rest‖² ~
    /// χ²_{d−1−p}`, `h_rest·ĝ_rest ~ N(0, 1)` and the rest of `‖h_rest‖² ~ χ²_{d−2−p}`.
    fn projected_frame(&self, chain: usize, u: &mut [f64], v: &mut [f64]) {
        let p = u.len();
        let rest = self.dim - 1 - p;
        let (mut rng, mut normals) = self.rng(chain);
        for x in u.iter_mut().chain(v.iter_mut()) {
            *x = normals.next(&mut rng);
        }
        let g_rest_sq = ChiSquared::new(rest).sample(&mut rng, &mut normals);
        let (t, h_perp_sq) = if rest >= 1 {
            let t = normals.next(&mut rng);
            let h = ChiSquared::new(rest - 1).sample(&mut rng, &mut normals);
            (t, h)
        } else {
            (0.0, 0.0)
        };
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(a, b)| a * b).sum::<f64>();
        let g_sq = dot(u, u) + g_rest_sq;
        let h_sq = dot(v, v) + t * t + h_perp_sq;
        let h_dot_g = dot(u, v) + t * g_rest_sq.sqrt();
        let k = h_dot_g / g_sq;
        let v_norm = (h_sq - h_dot_g * k).max(0.0).sqrt();
        let g_norm = g_sq.sqrt();
        for j in 0..p {
            v[j] = (v[j] - k * u[j]) / v_norm;
            u[j] /= g_norm;
        }
    }
}

/// The teacher in f64, renormalised (its float32 copy is unit only to rounding), so the
/// frame is orthogonal to it to f64 precision.
fn unit(mut t: Vec<f64>) -> Vec<f64> {
    let n = t.iter().map(|a| a * a).sum::<f64>().sqrt();
    t.iter_mut().for_each(|a| *a /= n);
    t
}

/// `x` minus its components on the orthonormal `basis`, scaled to unit length.
fn orthonormalise(x: &mut [f64], basis: &[&[f64]]) {
    for e in basis {
        let k: f64 = x.iter().zip(e.iter()).map(|(a, b)| a * b).sum();
        for (a, b) in x.iter_mut().zip(e.iter()) {
            *a -= k * b;
        }
    }
    let n = x.iter().map(|a| a * a).sum::<f64>().sqrt();
    x.iter_mut().for_each(|a| *a /= n);
}

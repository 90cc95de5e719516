//! Mini-batches of real images for the nets: every chain walks the training set in its own
//! order (`sampling`), from its own seeded stream.

use super::idx::ImageSet;
use super::{Batch, stream};
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use std::sync::Arc;

pub use crate::config::Sampling;

const IMAGE_STREAM: u64 = 7;

/// One chain's position in its pass over the data.
struct Walker {
    rng: Xoshiro256PlusPlus,
    order: Vec<u32>,
    next: usize,
}

impl Walker {
    fn pick(&mut self, sampling: Sampling, n: usize) -> usize {
        match sampling {
            Sampling::WithReplacement => self.rng.random_range(0..n),
            Sampling::Shuffle | Sampling::Cyclic => {
                if self.next == self.order.len() {
                    if sampling == Sampling::Shuffle {
                        self.order.shuffle(&mut self.rng);
                    }
                    self.next = 0;
                }
                self.next += 1;
                self.order[self.next - 1] as usize
            }
        }
    }
}

/// Every chain's next b training images and their labels (as floats `0..10`).
pub struct ImageSource {
    data: Arc<ImageSet>,
    walkers: Vec<Walker>,
    sampling: Sampling,
    batch: usize,
}

impl ImageSource {
    /// `chains` walkers over `data`, each in its own order from its own stream under `seed`, drawing `batch` images per step.
    pub fn new(
        data: Arc<ImageSet>,
        chains: usize,
        batch: usize,
        sampling: Sampling,
        seed: u64,
    ) -> Self {
        let n = data.len();
        let walkers = (0..chains)
            .map(|c| Walker {
                rng: stream(seed, IMAGE_STREAM, c as u64),
                order: (0..n as u32).collect(),
                // An exhausted pass: the first pick starts (and for `shuffle` shuffles) one.
                next: n,
            })
            .collect();
        ImageSource {
            data,
            walkers,
            sampling,
            batch,
        }
    }

    /// `x [chains, b, pixels]`, `y [chains, b]`.
    pub fn next_batch(&mut self) -> Batch {
        let (b, p, n) = (self.batch, self.data.pixels, self.data.len());
        let chains = self.walkers.len();
        let mut x = vec![0.0f32; chains * b * p];
        let mut y = vec![0.0f32; chains * b];
        let (data, sampling) = (&self.data, self.sampling);
        self.walkers
            .par_iter_mut()
            .zip(x.par_chunks_mut(b * p))
            .zip(y.par_chunks_mut(b))
            .for_each(|((w, xc), yc)| {
                for (xi, yi) in xc.chunks_exact_mut(p).zip(yc) {
                    let i = w.pick(sampling, n);
                    xi.copy_from_slice(data.image(i));
                    *yi = data.labels[i] as f32;
                }
            });
        Batch {
            x,
            y,
            chains,
            batch: b,
            dim: p,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(n: usize) -> Arc<ImageSet> {
        Arc::new(ImageSet {
            images: (0..n).map(|i| i as f32).collect(),
            labels: (0..n).map(|i| (i % 10) as u8).collect(),
            pixels: 1,
            shape: [1, 1],
        })
    }

    #[test]
    fn shuffle_visits_every_image_once_per_epoch_and_chains_differ() {
        let mut s = ImageSource::new(set(12), 2, 4, Sampling::Shuffle, 3);
        let mut seen = [vec![], vec![]];
        for _ in 0..3 {
            let b = s.next_batch();
            for (c, seen) in seen.iter_mut().enumerate() {
                seen.extend(b.x[c * 4..(c + 1) * 4].iter().map(|&v| v as usize));
            }
        }
        for c in seen.iter() {
            let mut sorted = c.clone();
            sorted.sort();
            assert_eq!(sorted, (0..12).collect::<Vec<_>>());
        }
        assert_ne!(seen[0], seen[1]);
    }

    #[test]
    fn cyclic_is_the_file_order_for_every_chain() {
        let mut s = ImageSource::new(set(5), 2, 3, Sampling::Cyclic, 3);
        let a = s.next_batch();
        let b = s.next_batch();
        assert_eq!(a.x, vec![0.0, 1.0, 2.0, 0.0, 1.0, 2.0]);
        assert_eq!(b.x, vec![3.0, 4.0, 0.0, 3.0, 4.0, 0.0]);
        assert_eq!(b.y, b.x);
    }
}

//! Standard normal `f32` samples by the ziggurat method (Marsaglia & Tsang 2000, 256
//! layers), two samples per 64-bit draw. The data stream of every step is ~100 normals per
//! chain, so this is the hot loop of a CPU run (BENCHMARKS.md): rand_distr's `StandardNormal`
//! samples `f64` from a whole 64-bit word and rounds it, half the speed for no precision an
//! `f32` input can carry.
//!
//! Each 32-bit half gives one sample: 8 bits choose the layer, 1 bit the sign and 23 bits
//! the uniform position in the layer, so no bit is used twice. The rare rejection and tail
//! branches (≈ 1.5 %) draw fresh `f64` uniforms and are exact.

use rand::{Rng, RngExt};
use std::sync::LazyLock;

const LAYERS: usize = 256;
/// The start of the tail, the right edge of the base layer (Marsaglia & Tsang).
const R: f64 = 3.654_152_885_361_009;

/// `x[i]` are the layers' right edges (`x[0]` the base layer's pseudo-width, `x[1] = R`,
/// `x[256] = 0`), `f[i] = exp(-x[i]²/2)`.
struct Tables {
    x: [f64; LAYERS + 1],
    f: [f64; LAYERS + 1],
    x32: [f32; LAYERS + 1],
    /// `x32[i]` in the low and `x32[i + 1]` in the high 32 bits: both edges of layer i in
    /// one 64-bit read (a vectorised fast path gathers 4 of these instead of 8 + 8 f32).
    /// Read by the x86-64 AVX2 path only.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    edge_pairs: [u64; LAYERS],
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let pdf = |x: f64| (-0.5 * x * x).exp();
    // Area of each layer: the rectangle under f(R) plus the tail ∫_R^∞ f (Simpson; the
    // integrand is below 1e-30 past R + 12).
    let (n, h) = (4096, 12.0 / 4096.0);
    let tail: f64 = (0..=n)
        .map(|k| {
            let w = if k == 0 || k == n {
                1.0
            } else if k % 2 == 1 {
                4.0
            } else {
                2.0
            };
            w * pdf(R + k as f64 * h)
        })
        .sum::<f64>()
        * h
        / 3.0;
    let v = R * pdf(R) + tail;
    let mut x = [0.0; LAYERS + 1];
    x[0] = v / pdf(R);
    x[1] = R;
    for i in 2..LAYERS {
        x[i] = (-2.0 * (v / x[i - 1] + pdf(x[i - 1])).ln()).sqrt();
    }
    x[LAYERS] = 0.0;
    let f = x.map(pdf);
    let x32 = x.map(|v| v as f32);
    Tables {
        x,
        f,
        x32,
        edge_pairs: std::array::from_fn(|i| {
            u64::from(x32[i].to_bits()) | u64::from(x32[i + 1].to_bits()) << 32
        }),
    }
});

/// Values per block of [`fill`]: the rejected draws of a block are finished after it.
const BLOCK: usize = 64;
// One bit per position of a block in `fill`'s mask of rejected draws.
const _: () = assert!(BLOCK <= 64);

/// Fills `out` with independent N(0, 1) samples.
///
/// The fast path (≈ 98.5 % of draws) runs branch-free over a block: an accepted sample is
/// stored, a rejected draw leaves its bits in its slot and a bit in a mask. Those are
/// finished after the block with the same bits. Each position still follows the exact
/// ziggurat procedure; only the order in which the rare extra uniforms are consumed
/// differs, and the generator state never escapes the hot loop (it stays in registers).
/// One store per sample: side arrays of positions and bits cost ~20 % more (stores are
/// the fast path's bottleneck).
#[inline(always)]
pub fn fill<G: Rng + ?Sized>(rng: &mut G, out: &mut [f32]) {
    let t = &*TABLES;
    for block in out.chunks_mut(BLOCK) {
        let mut rejected = 0u64;
        let mut pairs = block.chunks_exact_mut(2);
        for (k, pair) in (&mut pairs).enumerate() {
            let bits = rng.next_u64();
            for (h, slot) in pair.iter_mut().enumerate() {
                let b = (bits >> (32 * h)) as u32;
                let (x, accepted) = fast(t, b);
                // Moves keep a float's bits, NaN patterns included (RFC 3514), so the
                // rejected draw's bits come back intact below.
                *slot = if accepted { x } else { f32::from_bits(b) };
                rejected |= u64::from(!accepted) << (2 * k + h);
            }
        }
        if let [last] = pairs.into_remainder() {
            *last = one(rng);
        }
        while rejected != 0 {
            let pos = rejected.trailing_zeros() as usize;
            rejected &= rejected - 1;
            block[pos] = from_bits(t, rng, block[pos].to_bits());
        }
    }
}

/// The fast path: the signed sample of `bits` and whether it is accepted as is.
#[inline(always)]
fn fast(t: &Tables, bits: u32) -> (f32, bool) {
    let i = (bits & 0xff) as usize;
    // Bit 8 moved to the f32 sign bit: a branch on the sign would mispredict half the time.
    let sign = (bits & 0x100) << 23;
    let u = midpoint(bits >> 9);
    let x = u * t.x32[i];
    (f32::from_bits(x.to_bits() | sign), x < t.x32[i + 1])
}

/// The midpoint (m + ½)/2²³ of cell `m < 2²³`: uniform on (0, 1), never 0. Built as
/// (1 + m/2²³) − (1 − 2⁻²⁴), exact by Sterbenz's lemma, instead of an int-to-float
/// conversion (cheaper in the hot loop); the same value as the slow path's f64 `u`.
#[inline(always)]
fn midpoint(m: u32) -> f32 {
    f32::from_bits(0x3f80_0000 | m) - f32::from_bits(0x3f7f_ffff)
}

/// The fast path of the draw `bits`: the signed sample, and whether it is accepted as is
/// (else [`finish`] it).
#[inline(always)]
pub(crate) fn fast_path(bits: u32) -> (f32, bool) {
    fast(&TABLES, bits)
}

/// Layer i's two edges as f32, `x[i]` in the low and `x[i + 1]` in the high 32 bits of
/// entry i, for a vectorised fast path (x86-64's AVX2 one).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) fn layer_edges() -> &'static [u64; LAYERS] {
    &TABLES.edge_pairs
}

/// The sample of a draw `bits` that the fast path rejected: the exact slow path, then fresh
/// draws from `rng` as long as they are rejected.
#[cold]
pub(crate) fn finish<G: Rng + ?Sized>(rng: &mut G, bits: u32) -> f32 {
    from_bits(&TABLES, rng, bits)
}

/// One N(0, 1) sample (half a 64-bit draw is discarded: use [`fill`] for many).
pub fn one<G: Rng + ?Sized>(rng: &mut G) -> f32 {
    let bits = rng.next_u32();
    from_bits(&TABLES, rng, bits)
}

fn from_bits<G: Rng + ?Sized>(t: &Tables, rng: &mut G, mut bits: u32) -> f32 {
    loop {
        let (x, accepted) = fast(t, bits);
        if accepted {
            return x;
        }
        let u = ((bits >> 9) as f64 + 0.5) * (1.0 / 8_388_608.0);
        if let Some(v) = slow(t, rng, (bits & 0xff) as usize, u) {
            return (v as f32).copysign(x);
        }
        bits = rng.next_u32();
    }
}

/// The base layer's tail (exact, Marsaglia 1964) or the wedge test of layer `i`; `None`
/// rejects the draw.
#[cold]
fn slow<G: Rng + ?Sized>(t: &Tables, rng: &mut G, i: usize, u: f64) -> Option<f64> {
    if i == 0 {
        // The base layer: a rectangle of width x[0] > R; its part beyond R is the tail.
        let x = u * t.x[0];
        if x < R {
            return Some(x);
        }
        loop {
            let a = -open01(rng).ln() / R;
            let b = -open01(rng).ln();
            if 2.0 * b >= a * a {
                return Some(R + a);
            }
        }
    }
    let x = u * t.x[i];
    let y = t.f[i] + open01(rng) * (t.f[i + 1] - t.f[i]);
    let below = match wedge_bounds(t, i, x) {
        Some((lower, _)) if y < lower - MARGIN => true,
        Some((_, upper)) if y > upper + MARGIN => false,
        _ => y < (-0.5 * x * x).exp(),
    };
    below.then_some(x)
}

/// A rounding allowance far above f64's error in the bounds and in `exp`: outside it a
/// bound decides exactly as `exp` would, so the samples are the same bit for bit.
const MARGIN: f64 = 1e-12;

/// Bounds `lower ≤ φ(x) ≤ upper` on the density `φ(x) = exp(−x²/2)` over layer `i`'s
/// wedge `x[i+1] ≤ x ≤ x[i]`, from its chord and its tangents at the two ends: φ is
/// convex beyond 1 (chord above, tangents below) and concave below 1 (the reverse). They
/// settle ≈ 92 % of wedge tests without an `exp`, the costliest part of the slow path;
/// `None` for the one layer around the inflection point.
fn wedge_bounds(t: &Tables, i: usize, x: f64) -> Option<(f64, f64)> {
    let (a, b) = (t.x[i + 1], t.x[i]);
    let (fa, fb) = (t.f[i + 1], t.f[i]);
    let chord = fb + (fa - fb) * (b - x) / (b - a);
    // φ'(s) = −s φ(s).
    let tangent_a = fa * (1.0 - a * (x - a));
    let tangent_b = fb * (1.0 - b * (x - b));
    if a >= 1.0 {
        Some((tangent_a.max(tangent_b), chord))
    } else if b <= 1.0 {
        Some((chord, tangent_a.min(tangent_b)))
    } else {
        None
    }
}

/// Uniform on (0, 1): the midpoint of one of 2⁵³ cells.
#[inline]
pub(crate) fn open01<G: Rng + ?Sized>(rng: &mut G) -> f64 {
    (rng.random::<u64>() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
        + 0.5 / 9_007_199_254_740_992.0
}

/// The uniform on (0, 1) of a word: the midpoint (m + ½)/2⁵² of cell `m = w >> 12`, built
/// as (1 + m/2⁵²) − (1 − 2⁻⁵³), exact by Sterbenz's lemma (no integer-to-float conversion,
/// which AVX2 lacks for 64-bit integers).
#[inline(always)]
pub fn uniform(w: u64) -> f64 {
    f64::from_bits(0x3ff0_0000_0000_0000 | (w >> 12)) - f64::from_bits(0x3fef_ffff_ffff_ffff)
}

/// Normals one at a time from a block filled by [`fill`], so a caller that needs a few per
/// step (the reduced chain) still runs the block fast path. Which normals come out depends
/// only on the generator, never on when they are asked for.
#[derive(Debug, Clone)]
pub struct Buffered {
    block: [f32; BLOCK],
    next: usize,
}

impl Default for Buffered {
    fn default() -> Self {
        Buffered {
            block: [0.0; BLOCK],
            next: BLOCK,
        }
    }
}

impl Buffered {
    /// The next N(0, 1) sample, widened to f64.
    #[inline(always)]
    pub fn next<G: Rng + ?Sized>(&mut self, rng: &mut G) -> f64 {
        if self.next == BLOCK {
            self.refill(rng);
        }
        let z = self.block[self.next];
        self.next += 1;
        f64::from(z)
    }

    /// One block: out of line, so the callers' loops stay small (every call site would
    /// otherwise carry its own copy of the block loop).
    #[inline(never)]
    fn refill<G: Rng + ?Sized>(&mut self, rng: &mut G) {
        fill_block(rng, &mut self.block);
        self.next = 0;
    }
}

/// [`fill`] for one block, also compiled for AVX2 and BMI2 and chosen at run time (the
/// reduced engine's refills; `draw_rows` does the same for the burn engine's inputs): the
/// same operations in the same order on either path, so the same numbers.
#[multiversion::multiversion(targets("x86_64+avx2+bmi1+bmi2+lzcnt+popcnt"))]
fn fill_block<G: Rng + ?Sized>(rng: &mut G, block: &mut [f32; BLOCK]) {
    fill(rng, block);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bounds must hold everywhere in every wedge, or samples would be accepted or
    /// rejected against the wrong curve; and they must settle most tests without `exp`.
    #[test]
    fn wedge_bounds_enclose_the_density_and_mostly_decide() {
        let t = &*TABLES;
        let (mut decided, mut total) = (0usize, 0usize);
        for i in 1..LAYERS {
            let (a, b) = (t.x[i + 1], t.x[i]);
            for k in 0..=400 {
                let x = a + (b - a) * k as f64 / 400.0;
                let phi = (-0.5 * x * x).exp();
                let Some((lower, upper)) = wedge_bounds(t, i, x) else {
                    assert!(a < 1.0 && b > 1.0, "layer {i} [{a}, {b}] has no bounds");
                    continue;
                };
                assert!(
                    lower <= phi + 1e-15 && phi <= upper + 1e-15,
                    "layer {i} at {x}: {lower} ≤ {phi} ≤ {upper} fails"
                );
                // Where a uniform y in the wedge is settled without `exp`.
                for j in 0..20 {
                    let y = t.f[i] + (j as f64 + 0.5) / 20.0 * (t.f[i + 1] - t.f[i]);
                    decided += usize::from(y < lower - MARGIN || y > upper + MARGIN);
                    total += 1;
                }
            }
        }
        let share = decided as f64 / total as f64;
        assert!(share > 0.8, "bounds settle only {share} of wedge tests");
    }

    /// The word's uniform is the midpoint of its 2⁵² cells, whatever the low bits.
    #[test]
    fn word_uniform_is_the_cell_midpoint() {
        for m in [
            0u64,
            1,
            2,
            12_345,
            (1 << 51) + 7,
            (1 << 52) - 2,
            (1 << 52) - 1,
        ] {
            for low in [0, 0xabc, 0xfff] {
                let u = uniform(m << 12 | low);
                assert_eq!(u, (m as f64 + 0.5) / (1u64 << 52) as f64);
                assert!(0.0 < u && u < 1.0);
            }
        }
    }

    /// The fast path's uniform built from float bits is (m + ½)/2²³ for every m.
    #[test]
    fn fast_uniform_is_the_cell_midpoint() {
        for m in 0..1u32 << 23 {
            assert_eq!(
                midpoint(m) as f64,
                (m as f64 + 0.5) / 8_388_608.0,
                "cell {m}"
            );
        }
    }
}

//! Philox4x32-10 (Salmon, Moraes, Dror & Shaw, SC'11), a counter-based generator: the
//! numbers of chain `c` at step `t` are a pure function of `(seed, t, c)`, with no state
//! carried from step to step. So a GPU can draw a step's data itself, from the chain and
//! step indices, and the host can reproduce every word: the `philox` data stream is the same
//! wherever it is drawn (the words exactly; the normals to the last bits of `ln`, `sin`
//! and `cos`, which differ between math libraries).
//!
//! Normals come by Box–Muller from pairs of words: `u = (a + 1)/2³²` and `θ = 2π·b'/2²⁴`
//! (b' the top 24 bits of b) give `√(−2 ln u)·(cos θ, sin θ)`, so the largest |z| is
//! `√(64 ln 2) ≈ 6.66`. Both conversions to `f32` are exact or correctly rounded, hence the
//! same on every device.
//!
//! On a device the generator is written in burn's integer tensor ops: the 32×32 → 64-bit
//! products go through 16-bit halves, so every intermediate value stays in `[0, 2³²)` and
//! no backend's overflow rule (wrapping, saturating or a debug panic) is ever exercised.

use burn::tensor::{DType, Device, Int, Tensor, TensorData};

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;
const ROUNDS: usize = 10;

/// The fourth counter word of the data stream; other uses of the generator take others.
pub const DATA_TAG: u32 = 0x7461_696C; // "tail"

/// One Philox4x32-10 block: four 32-bit words from a 128-bit counter and a 64-bit key
/// (Random123's `philox4x32_R(10, ctr, key)`).
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (ctr, key);
    for round in 0..ROUNDS {
        if round > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        let p0 = u64::from(M0) * u64::from(c[0]);
        let p1 = u64::from(M1) * u64::from(c[2]);
        c = [
            (p1 >> 32) as u32 ^ c[1] ^ k[0],
            p1 as u32,
            (p0 >> 32) as u32 ^ c[3] ^ k[1],
            p0 as u32,
        ];
    }
    c
}

/// The generator's key from a run seed.
pub fn key(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// The counter of block `block` of chain `chain` at step `step` (steps and chains below 2³²,
/// which the run config checks).
pub fn counter(block: u32, step: u32, chain: u32) -> [u32; 4] {
    [block, step, chain, DATA_TAG]
}

/// Four standard normals from one block's words (Box–Muller on the pairs (w0, w1), (w2, w3)).
pub fn box_muller(w: [u32; 4]) -> [f32; 4] {
    let pair = |a: u32, b: u32| {
        // (a + 1)/2³² in two exact parts: f32 holds 24 bits, so a alone would round twice.
        let u = ((a >> 8) as f32 * 256.0 + ((a & 0xFF) + 1) as f32) * TWO_POW_M32;
        let r = (-2.0 * u.ln()).sqrt();
        let theta = (b >> 8) as f32 * (TAU_TWO_POW_M24);
        (r * theta.cos(), r * theta.sin())
    };
    let (z0, z1) = pair(w[0], w[1]);
    let (z2, z3) = pair(w[2], w[3]);
    [z0, z1, z2, z3]
}

const TWO_POW_M32: f32 = 1.0 / 4_294_967_296.0;
const TAU_TWO_POW_M24: f32 = std::f32::consts::TAU / 16_777_216.0;

/// Blocks of four normals per chain and step for `count` normals.
pub fn blocks(count: usize) -> usize {
    count.div_ceil(4)
}

/// Chain `chain`'s normals at `step` on the host, `4 · blocks(count)` of them (the first
/// `count` are used), in the order the device draws them.
pub fn host_normals(seed: u64, step: u32, chain: u32, count: usize, out: &mut [f32]) {
    let key = key(seed);
    for (j, quad) in out[..4 * blocks(count)].chunks_exact_mut(4).enumerate() {
        quad.copy_from_slice(&box_muller(philox4x32_10(
            counter(j as u32, step, chain),
            key,
        )));
    }
}

/// Rounds per fused segment on a lazy (fusion) backend. burn 0.22.1's fusion gives up on the
/// whole ~400-op graph of a step ("[repair] falling back to unfused stream order" with
/// `BURN_FUSION_LOG=medium`) and launches every op alone; flushing the queue every two
/// rounds and before Box–Muller keeps each segment small enough to fuse. On lavapipe, W's
/// 1600 chains: 64–81 ms per step unfused, 8–15 ms so (not a GPU figure; BENCHMARKS.md).
const FLUSH_EVERY: usize = 2;

/// The generator on a device: every chain's `4 · blocks` normals of a step in one tensor
/// `[chains, 4 · blocks]`, drawn where the step runs (no upload).
pub struct DevicePhilox {
    key: [u32; 2],
    /// Round 1 multiplies counter words 0 (the block) and 2 (the chain), which do not
    /// change from step to step: their products `(hi, lo)` are computed once.
    block_product: (Tensor<2, Int>, Tensor<2, Int>),
    chain_product: (Tensor<2, Int>, Tensor<2, Int>),
    device: Device,
}

impl DevicePhilox {
    /// The generator of `chains` chains' `count` normals per step (rounded up to blocks of
    /// four) on `device`.
    pub fn new(seed: u64, chains: usize, count: usize, device: &Device) -> Self {
        let blocks = blocks(count);
        let grid = |f: &dyn Fn(usize, usize) -> u32| {
            let words: Vec<u32> = (0..chains)
                .flat_map(|c| (0..blocks).map(move |j| (c, j)))
                .map(|(c, j)| f(c, j))
                .collect();
            Tensor::<2, Int>::from_data(
                TensorData::new(words, [chains, blocks]),
                (device, DType::U32),
            )
        };
        DevicePhilox {
            key: key(seed),
            block_product: mul_hi_lo(grid(&|_, j| j as u32), M0),
            chain_product: mul_hi_lo(grid(&|c, _| c as u32), M1),
            device: device.clone(),
        }
    }

    /// The raw words of every block at `step`: four tensors `[chains, blocks]` (u32).
    pub fn words(&self, step: u32) -> [Tensor<2, Int>; 4] {
        let mut k = self.key;
        let (hi0, lo0) = self.block_product.clone();
        let (hi1, lo1) = self.chain_product.clone();
        // Round 1 with the step-constant counter words 1 (step) and 3 (tag) as scalars.
        let mut c = [
            hi1.bitwise_xor_scalar(i64::from(step ^ k[0])),
            lo1,
            hi0.bitwise_xor_scalar(i64::from(DATA_TAG ^ k[1])),
            lo0,
        ];
        for round in 1..ROUNDS {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
            let [c0, c1, c2, c3] = c;
            let (hi0, lo0) = mul_hi_lo(c0, M0);
            let (hi1, lo1) = mul_hi_lo(c2, M1);
            c = [
                hi1.bitwise_xor(c1).bitwise_xor_scalar(i64::from(k[0])),
                lo1,
                hi0.bitwise_xor(c3).bitwise_xor_scalar(i64::from(k[1])),
                lo0,
            ];
            if round % FLUSH_EVERY == 0 {
                self.flush();
            }
        }
        c
    }

    /// Every chain's normals at `step`, `[chains, 4 · blocks]`, block by block as
    /// [`host_normals`] orders them.
    pub fn normals(&self, step: u32) -> Tensor<2> {
        let [w0, w1, w2, w3] = self.words(step);
        self.flush();
        let (z0, z1) = box_muller_tensors(w0, w1);
        let (z2, z3) = box_muller_tensors(w2, w3);
        let [chains, blocks] = z0.dims();
        Tensor::stack::<3>(vec![z0, z1, z2, z3], 2).reshape([chains, 4 * blocks])
    }

    /// Hands the queued ops to the backend (a no-op on eager CPU backends). A failed flush
    /// leaves them queued; the error resurfaces at the next read.
    fn flush(&self) {
        let _ = self.device.flush();
    }
}

/// `m · a` as its high and low 32-bit words, from 16-bit halves (every partial product
/// and sum below 2³²).
fn mul_hi_lo(a: Tensor<2, Int>, m: u32) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let (mh, ml) = (i64::from(m >> 16), i64::from(m & 0xFFFF));
    let al = a.clone().bitwise_and_scalar(0xFFFF);
    let ah = a.bitwise_right_shift_scalar(16);
    let t = al.clone().mul_scalar(ml);
    let u = ah.clone().mul_scalar(ml) + t.clone().bitwise_right_shift_scalar(16);
    let v = al.mul_scalar(mh) + u.clone().bitwise_and_scalar(0xFFFF);
    let hi = ah.mul_scalar(mh)
        + u.bitwise_right_shift_scalar(16)
        + v.clone().bitwise_right_shift_scalar(16);
    let lo = v
        .bitwise_and_scalar(0xFFFF)
        .bitwise_left_shift_scalar(16)
        .bitwise_or(t.bitwise_and_scalar(0xFFFF));
    (hi, lo)
}

/// [`box_muller`]'s pair on tensors of words.
fn box_muller_tensors(a: Tensor<2, Int>, b: Tensor<2, Int>) -> (Tensor<2>, Tensor<2>) {
    let high = a
        .clone()
        .bitwise_right_shift_scalar(8)
        .float()
        .mul_scalar(256.0);
    let low = a.bitwise_and_scalar(0xFF).add_scalar(1).float();
    let u = (high + low).mul_scalar(f64::from(TWO_POW_M32));
    let r = u.log().mul_scalar(-2.0).sqrt();
    let theta = b
        .bitwise_right_shift_scalar(8)
        .float()
        .mul_scalar(f64::from(TAU_TWO_POW_M24));
    (r.clone() * theta.clone().cos(), r * theta.sin())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random123's known-answer vectors (its `kat_vectors` file) for Philox4x32-10.
    #[test]
    fn matches_random123_known_answers() {
        let cases = [
            (
                [0, 0, 0, 0],
                [0, 0],
                [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8],
            ),
            (
                [u32::MAX; 4],
                [u32::MAX; 2],
                [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd],
            ),
            (
                [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
                [0xa409_3822, 0x299f_31d0],
                [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
            ),
        ];
        for (ctr, key, want) in cases {
            assert_eq!(philox4x32_10(ctr, key), want, "ctr {ctr:x?} key {key:x?}");
        }
    }

    #[test]
    fn box_muller_extremes_are_finite_and_bounded() {
        // a = 0 is the smallest u (2⁻³²): the largest radius, √(64 ln 2).
        let [z0, z1, ..] = box_muller([0, 0, u32::MAX, 0]);
        assert!((z0 - (64.0f32 * std::f32::consts::LN_2).sqrt()).abs() < 1e-5);
        assert_eq!(z1, 0.0);
        // a = 2³² − 1 gives u = 1 (rounded), radius 0.
        let [_, _, z2, z3] = box_muller([0, 0, u32::MAX, 0]);
        assert_eq!((z2, z3), (0.0, 0.0));
    }
}

//! The lanes' AVX2 kernels: xoshiro256++ four lanes a vector and the ziggurat's fast path
//! eight halves a vector, the same integer and IEEE operations as the plain ones.

use crate::data::normal;
use std::arch::x86_64::*;

/// Four lanes' words `w[j..j + 4]` as one vector.
#[target_feature(enable = "avx2")]
#[inline]
fn load(w: &[u64], j: usize) -> __m256i {
    let w = &w[j..j + 4];
    // SAFETY: `w` holds the four u64 (32 bytes) read; `loadu` needs no alignment.
    unsafe { _mm256_loadu_si256(w.as_ptr().cast()) }
}

#[target_feature(enable = "avx2")]
#[inline]
fn store(w: &mut [u64], j: usize, v: __m256i) {
    let w = &mut w[j..j + 4];
    // SAFETY: as in `load`, for a write.
    unsafe { _mm256_storeu_si256(w.as_mut_ptr().cast(), v) }
}

#[target_feature(enable = "avx2")]
#[inline]
fn rotl<const K: i32, const R: i32>(x: __m256i) -> __m256i {
    _mm256_or_si256(_mm256_slli_epi64::<K>(x), _mm256_srli_epi64::<R>(x))
}

/// xoshiro256++ four lanes at a time (`L` a multiple of 4).
#[target_feature(enable = "avx2")]
pub fn words<const L: usize>(s: &mut [[u64; L]; 4], out: &mut [[u64; L]]) {
    for j in (0..L).step_by(4) {
        let (mut s0, mut s1) = (load(&s[0], j), load(&s[1], j));
        let (mut s2, mut s3) = (load(&s[2], j), load(&s[3], j));
        for row in out.iter_mut() {
            let sum = _mm256_add_epi64(s0, s3);
            let result = _mm256_add_epi64(rotl::<23, 41>(sum), s0);
            store(row, j, result);
            let t = _mm256_slli_epi64::<17>(s1);
            s2 = _mm256_xor_si256(s2, s0);
            s3 = _mm256_xor_si256(s3, s1);
            s1 = _mm256_xor_si256(s1, s2);
            s0 = _mm256_xor_si256(s0, s3);
            s2 = _mm256_xor_si256(s2, t);
            s3 = rotl::<45, 19>(s3);
        }
        store(&mut s[0], j, s0);
        store(&mut s[1], j, s1);
        store(&mut s[2], j, s2);
        store(&mut s[3], j, s3);
    }
}

/// `normal::fast_path` on eight halves (four lanes' words) at a time: the two table
/// reads by gathers, the same f32 operations, then the halves split into their two
/// rows and widened to f64.
#[target_feature(enable = "avx2")]
pub fn normals<const L: usize>(words: &[[u64; L]], out: &mut [[f64; L]], rejected: &mut [u64]) {
    let pairs = normal::layer_edges();
    let byte = _mm256_set1_epi32(0xff);
    let sign_bit = _mm256_set1_epi32(0x100);
    let one = _mm256_set1_epi32(0x3f80_0000);
    let below_one = _mm256_castsi256_ps(_mm256_set1_epi32(0x3f7f_ffff));
    // Lane-major pairs (l0h0, l0h1, l1h0, …) to the low halves, then the high halves.
    let split = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    for (k, row) in words.iter().enumerate() {
        let mut mask = 0u64;
        for j in (0..L).step_by(4) {
            let bits = load(row, j);
            let i = _mm256_and_si256(bits, byte);
            let sign = _mm256_slli_epi32::<23>(_mm256_and_si256(bits, sign_bit));
            let u = _mm256_sub_ps(
                _mm256_castsi256_ps(_mm256_or_si256(one, _mm256_srli_epi32::<9>(bits))),
                below_one,
            );
            // Both edges of each half's layer: four 64-bit reads per gather, the halves
            // 0–3 and 4–7, then the low (edge) and high (next edge) words in order.
            // SAFETY: every index is at most 255 and `pairs` has 256 entries.
            let (first, last) = unsafe {
                (
                    _mm256_i32gather_epi64::<8>(pairs.as_ptr().cast(), _mm256_castsi256_si128(i)),
                    _mm256_i32gather_epi64::<8>(
                        pairs.as_ptr().cast(),
                        _mm256_extracti128_si256::<1>(i),
                    ),
                )
            };
            let (first, last) = (_mm256_castsi256_ps(first), _mm256_castsi256_ps(last));
            // (e0 e1 e4 e5 | e2 e3 e6 e7) → (e0 … e7), likewise the next edges.
            let edge = _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(
                _mm256_shuffle_ps::<0b10_00_10_00>(first, last),
            )));
            let next = _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(
                _mm256_shuffle_ps::<0b11_01_11_01>(first, last),
            )));
            let x = _mm256_mul_ps(u, edge);
            let accepted = _mm256_cmp_ps::<_CMP_LT_OQ>(x, next);
            let signed = _mm256_castsi256_ps(_mm256_or_si256(_mm256_castps_si256(x), sign));
            let halves = _mm256_permutevar8x32_ps(signed, split);
            let low = _mm256_cvtps_pd(_mm256_castps256_ps128(halves));
            let high = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(halves));
            store_f64(&mut out[2 * k], j, low);
            store_f64(&mut out[2 * k + 1], j, high);
            let missed = !_mm256_movemask_ps(accepted) as u64 & 0xff;
            mask |= missed << (2 * j);
        }
        rejected[k] = mask;
    }
}

#[target_feature(enable = "avx2")]
#[inline]
fn store_f64(w: &mut [f64], j: usize, v: __m256d) {
    let w = &mut w[j..j + 4];
    // SAFETY: `w` holds the four f64 (32 bytes) written; `storeu` needs no alignment.
    unsafe { _mm256_storeu_pd(w.as_mut_ptr(), v) }
}

//! The arithmetic of the chain's step on one chain (`f64`) or on `W` at once ([`Pack`]):
//! one formula, written once over [`Real`], element-wise IEEE operations in the same order
//! either way, so the same bits. Four-wide arrays of plain operations are what the
//! compiler packs into vector instructions (`vsqrtpd`, `vdivpd` under AVX2).

use std::ops::{Add, Div, Mul, Sub};

/// The operations the update needs.
pub trait Real:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self>
{
    fn splat(x: f64) -> Self;
    fn sqrt(self) -> Self;
    /// `self` where it is > 0, else 0 (NaN gives 0, as `f64::max(x, 0.0)`).
    fn positive_part(self) -> Self;
    /// `if_positive` where `self > 0`, else `otherwise` (NaN takes `otherwise`).
    fn where_positive(self, if_positive: Self, otherwise: Self) -> Self;
    /// `if_so` where `self ≤ 0`, else `otherwise` (NaN takes `otherwise`).
    fn where_at_most_zero(self, if_so: Self, otherwise: Self) -> Self;
}

impl Real for f64 {
    #[inline(always)]
    fn splat(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    #[inline(always)]
    fn positive_part(self) -> Self {
        if self > 0.0 { self } else { 0.0 }
    }
    #[inline(always)]
    fn where_positive(self, if_positive: Self, otherwise: Self) -> Self {
        if self > 0.0 { if_positive } else { otherwise }
    }
    #[inline(always)]
    fn where_at_most_zero(self, if_so: Self, otherwise: Self) -> Self {
        if self <= 0.0 { if_so } else { otherwise }
    }
}

/// `W` chains' values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pack<const W: usize>(pub [f64; W]);

impl<const W: usize> Pack<W> {
    /// Chains `j..j + W` of `x`.
    #[inline(always)]
    pub fn at<const L: usize>(x: &[f64; L], j: usize) -> Self {
        Pack(std::array::from_fn(|k| x[j + k]))
    }

    /// Writes the chains back to `x[j..j + W]`, except where `keep` (a diverged chain).
    #[inline(always)]
    pub fn store<const L: usize>(self, x: &mut [f64; L], j: usize, keep: &[bool; L]) {
        for k in 0..W {
            x[j + k] = if keep[j + k] { x[j + k] } else { self.0[k] };
        }
    }

    #[inline(always)]
    fn zip(self, other: Self, f: impl Fn(f64, f64) -> f64) -> Self {
        Pack(std::array::from_fn(|k| f(self.0[k], other.0[k])))
    }
}

macro_rules! elementwise {
    ($trait:ident, $method:ident, $op:tt) => {
        impl<const W: usize> $trait for Pack<W> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                self.zip(rhs, |x, y| x $op y)
            }
        }
    };
}

elementwise!(Add, add, +);
elementwise!(Sub, sub, -);
elementwise!(Mul, mul, *);
elementwise!(Div, div, /);

impl<const W: usize> Real for Pack<W> {
    #[inline(always)]
    fn splat(x: f64) -> Self {
        Pack([x; W])
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        Pack(self.0.map(f64::sqrt))
    }
    #[inline(always)]
    fn positive_part(self) -> Self {
        Pack(self.0.map(Real::positive_part))
    }
    #[inline(always)]
    fn where_positive(self, if_positive: Self, otherwise: Self) -> Self {
        Pack(std::array::from_fn(|k| {
            self.0[k].where_positive(if_positive.0[k], otherwise.0[k])
        }))
    }
    #[inline(always)]
    fn where_at_most_zero(self, if_so: Self, otherwise: Self) -> Self {
        Pack(std::array::from_fn(|k| {
            self.0[k].where_at_most_zero(if_so.0[k], otherwise.0[k])
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `positive_part` is `f64::max(x, 0.0)` bit for bit, NaN and signed zeros included.
    #[test]
    fn positive_part_is_max_with_zero() {
        for x in [
            1.5,
            -2.0,
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-320,
        ] {
            assert_eq!(x.positive_part().to_bits(), x.max(0.0).to_bits(), "{x}");
        }
    }
}

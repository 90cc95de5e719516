//! `tailgate sample-stable`: symmetric α-stable samples with a known tail index.

use crate::cli::SampleStableArgs;
use std::path::PathBuf;
use tailgate::error::{Error, Result};
use tailgate::io::{write_atomically, write_npy};
use tailgate::tail::sample_symmetric_stable;

/// `tailgate sample-stable`: `n × dim` iid symmetric α-stable float64 values.
pub fn run(args: &SampleStableArgs) -> Result<PathBuf> {
    if !(args.alpha > 0.0 && args.alpha <= 2.0) {
        return Err(Error::config(
            "alpha",
            format!("must lie in (0, 2], got {}", args.alpha),
        ));
    }
    if args.n == 0 || args.dim == 0 {
        return Err(Error::config("n", "n and dim must be at least 1"));
    }
    let values = sample_symmetric_stable(args.alpha, args.n * args.dim, args.seed);
    let shape: Vec<usize> = if args.dim == 1 {
        vec![args.n]
    } else {
        vec![args.n, args.dim]
    };
    write_atomically(&args.out, |tmp| write_npy(tmp, &shape, &values))?;
    Ok(args.out.clone())
}

//! Real images in the IDX format of MNIST and Fashion-MNIST (gzip or plain), read once per
//! process and kept: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-…`.

use crate::error::{Error, Result};

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

pub use crate::config::{CLASSES, DatasetSpec, FASHION_MNIST_DIR, PIXELS, SIDE};

/// One IDX file: its dimensions and its unsigned bytes (type 0x08).
#[derive(Debug, Clone, PartialEq)]
pub struct Idx {
    /// The size of each dimension, as the header gives them (outermost first).
    pub dims: Vec<usize>,
    /// The data bytes, row-major over `dims`.
    pub data: Vec<u8>,
}

/// Reads an IDX file of unsigned bytes, gunzipping it when it starts with gzip's magic.
/// A wrong magic number, a truncated body or trailing bytes are errors naming the file.
pub fn read_idx(path: &Path) -> Result<Idx> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| bad(path, format!("not a readable gzip stream ({e})")))?;
        out
    } else {
        raw
    };
    parse_idx(&bytes).map_err(|message| bad(path, message))
}

fn bad(path: &Path, message: String) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message,
    }
}

/// The IDX layout: two zero bytes, type 0x08 (u8), the number of dimensions, each size as
/// a big-endian u32, then the data.
fn parse_idx(bytes: &[u8]) -> std::result::Result<Idx, String> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err("not an IDX file (its first two bytes must be zero)".into());
    }
    if bytes[2] != 0x08 {
        return Err(format!(
            "IDX type 0x{:02x}; only unsigned bytes (0x08) are supported",
            bytes[2]
        ));
    }
    let ndims = bytes[3] as usize;
    let header = 4 + 4 * ndims;
    if ndims == 0 || bytes.len() < header {
        return Err("truncated IDX header".into());
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims.iter().product::<usize>();
    let got = bytes.len() - header;
    if got != expected {
        return Err(format!(
            "{} data bytes where the header {dims:?} says {expected} ({})",
            got,
            if got < expected {
                "truncated"
            } else {
                "trailing bytes"
            }
        ));
    }
    Ok(Idx {
        dims,
        data: bytes[header..].to_vec(),
    })
}

/// One split of a dataset: images `[n, pixels]` standardised, labels `[n]` in `0..10`.
#[derive(Debug, Clone)]
pub struct ImageSet {
    /// Pixels, `[n, pixels]` row-major, standardised as (p/255 − mean)/std.
    pub images: Vec<f32>,
    /// Class labels, `[n]`, in `0..10`.
    pub labels: Vec<u8>,
    /// Pixels per image (height × width).
    pub pixels: usize,
    /// `[height, width]` of one image.
    pub shape: [usize; 2],
}

impl ImageSet {
    /// Images in the split, n.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split has no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i`'s pixels.
    pub fn image(&self, i: usize) -> &[f32] {
        &self.images[i * self.pixels..(i + 1) * self.pixels]
    }
}

/// The training and test splits, standardised with the training split's constants.
#[derive(Debug, Clone)]
pub struct ImageData {
    /// Shared with every run's data source (no copy of 188 MB per run).
    pub train: Arc<ImageSet>,
    /// The test split, standardised with the training split's constants.
    pub test: ImageSet,
    /// Mean and standard deviation of the training pixels scaled to [0, 1]: every pixel
    /// becomes (p/255 − mean)/std.
    pub pixel_mean: f64,
    /// Standard deviation of the training pixels scaled to [0, 1].
    pub pixel_std: f64,
}

/// The dataset in `spec`'s folder, read on first use and shared by later runs of this
/// process (a sweep's cells).
pub fn load(spec: &DatasetSpec) -> Result<Arc<ImageData>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<ImageData>>>> = OnceLock::new();
    let dir = spec.dir();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(d) = cache.lock().expect("cache lock").get(&dir) {
        return Ok(d.clone());
    }
    let data = Arc::new(read_dir(&dir)?);
    cache.lock().expect("cache lock").insert(dir, data.clone());
    Ok(data)
}

/// The file `name` in `dir`, plain or with `.gz`.
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    for candidate in [dir.join(name), dir.join(format!("{name}.gz"))] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(Error::Input {
        path: dir.to_path_buf(),
        message: format!(
            "no {name} (or {name}.gz) here; Fashion-MNIST comes with Debian's `dataset-fashion-mnist` \
             package (apt-get install dataset-fashion-mnist), any MNIST-format folder with --data-dir"
        ),
    })
}

/// Reads both splits from `dir` and standardises them.
pub fn read_dir(dir: &Path) -> Result<ImageData> {
    let split = |prefix: &str| -> Result<(Idx, Idx, PathBuf)> {
        let images_path = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
        let labels_path = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
        let images = read_idx(&images_path)?;
        let labels = read_idx(&labels_path)?;
        if images.dims.len() != 3 {
            return Err(bad(
                &images_path,
                format!("images need 3 dimensions, got {:?}", images.dims),
            ));
        }
        if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
            return Err(bad(
                &labels_path,
                format!("{:?} labels for {} images", labels.dims, images.dims[0]),
            ));
        }
        if let Some(&l) = labels.data.iter().find(|&&l| l as usize >= CLASSES) {
            return Err(bad(&labels_path, format!("label {l} outside 0..{CLASSES}")));
        }
        Ok((images, labels, images_path))
    };
    let (train_images, train_labels, train_path) = split("train")?;
    let (test_images, test_labels, test_path) = split("t10k")?;
    if train_images.dims[1..] != test_images.dims[1..] {
        return Err(bad(
            &test_path,
            format!(
                "image size {:?} differs from the training images' {:?}",
                &test_images.dims[1..],
                &train_images.dims[1..]
            ),
        ));
    }
    if train_images.dims[1..] != [SIDE, SIDE] {
        return Err(bad(
            &train_path,
            format!(
                "images of {:?} pixels; MNIST-format images are {SIDE} × {SIDE}",
                &train_images.dims[1..]
            ),
        ));
    }
    if train_images.data.is_empty() {
        return Err(bad(&train_path, "no training images".into()));
    }
    let n = train_images.data.len() as f64;
    let mean = train_images.data.iter().map(|&p| p as f64).sum::<f64>() / n / 255.0;
    let var = train_images
        .data
        .iter()
        .map(|&p| (p as f64 / 255.0 - mean).powi(2))
        .sum::<f64>()
        / n;
    let std = var.sqrt().max(1e-12);
    let shape = [train_images.dims[1], train_images.dims[2]];
    let set = |images: Idx, labels: Idx| ImageSet {
        images: images
            .data
            .iter()
            .map(|&p| ((p as f64 / 255.0 - mean) / std) as f32)
            .collect(),
        labels: labels.data,
        pixels: shape[0] * shape[1],
        shape,
    };
    Ok(ImageData {
        train: Arc::new(set(train_images, train_labels)),
        test: set(test_images, test_labels),
        pixel_mean: mean,
        pixel_std: std,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn known_bytes_parse() {
        let i = parse_idx(&idx(&[2, 3], &[1, 2, 3, 4, 5, 6])).unwrap();
        assert_eq!(i.dims, vec![2, 3]);
        assert_eq!(i.data, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn truncated_trailing_and_wrong_magic_are_refused() {
        let e = parse_idx(&idx(&[2, 3], &[1, 2, 3])).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        let e = parse_idx(&idx(&[2], &[1, 2, 3])).unwrap_err();
        assert!(e.contains("trailing"), "{e}");
        let mut wrong = idx(&[1], &[1]);
        wrong[2] = 0x0d;
        assert!(parse_idx(&wrong).unwrap_err().contains("0x0d"));
        assert!(parse_idx(&[1, 0, 8, 1]).is_err());
        assert!(
            parse_idx(&[0, 0, 8, 2, 0, 0])
                .unwrap_err()
                .contains("header")
        );
    }
}

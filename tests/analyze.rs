//! `tailgate analyze` on checkpoints written here: safetensors (F32, BF16 and an integer
//! buffer), `.npz` (stored and deflated) and `.npy` — the same values give the same
//! answers in every format, a rejected fit is never an α, and bad files exit 2 naming it.

mod common;

use common::cli::{p, stderr, tailgate};
use std::io::Write;
use std::path::Path;
use tailgate::io::write_npy;
use tailgate::tail::sample_symmetric_stable;

/// Symmetric Pareto(α) values, seeded.
fn pareto(alpha: f64, n: usize, seed: u64) -> Vec<f64> {
    use rand::RngExt;
    let mut rng = tailgate::tail::stream(seed, "analyze-test", 0);
    (0..n)
        .map(|i| {
            let u: f64 = rng.random();
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            sign * (1.0 - u).powf(-1.0 / alpha)
        })
        .collect()
}

fn le_bytes_f32(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|&x| (x as f32).to_le_bytes()).collect()
}

fn le_bytes_bf16(v: &[f64]) -> Vec<u8> {
    v.iter()
        .flat_map(|&x| half::bf16::from_f64(x).to_le_bytes())
        .collect()
}

/// A safetensors file: a heavy F32 matrix, a Gaussian BF16 matrix, an I64 counter.
fn write_safetensors(path: &Path, heavy: &[f64], gauss: &[f64]) {
    use safetensors::tensor::{Dtype, TensorView};
    let (h, g) = (le_bytes_f32(heavy), le_bytes_bf16(gauss));
    let steps = 7i64.to_le_bytes();
    let views = vec![
        (
            "layer1.weight",
            TensorView::new(Dtype::F32, vec![100, heavy.len() / 100], &h).unwrap(),
        ),
        (
            "layer2.weight",
            TensorView::new(Dtype::BF16, vec![gauss.len()], &g).unwrap(),
        ),
        (
            "num_batches_tracked",
            TensorView::new(Dtype::I64, vec![], &steps).unwrap(),
        ),
    ];
    safetensors::serialize_to_file(views, None, path).unwrap();
}

fn json(args: &[&str]) -> Vec<serde_json::Value> {
    let o = tailgate(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

const QUICK: [&str; 6] = [
    "--subsamples",
    "20",
    "--gof-resamples",
    "40",
    "--format",
    "json",
];

#[test]
fn a_safetensors_checkpoint_is_analysed_tensor_by_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.safetensors");
    let heavy = pareto(1.5, 20_000, 1);
    let gauss = sample_symmetric_stable(2.0, 20_000, 2);
    write_safetensors(&file, &heavy, &gauss);
    let mut args = vec!["analyze", p(&file)];
    args.extend(QUICK);
    let reports = json(&args);
    assert_eq!(reports.len(), 3);
    let by = |name: &str| reports.iter().find(|r| r["name"] == name).unwrap().clone();
    let l1 = by("layer1.weight");
    assert_eq!(l1["shape"], serde_json::json!([100, 200]));
    assert_eq!(l1["dtype"], "F32");
    assert_eq!(l1["status"], "power_law", "{l1}");
    let a = l1["alpha"].as_f64().unwrap();
    assert!((a - 1.5).abs() < 0.2, "{a}: {l1}");
    let (lo, hi) = (
        l1["alpha_lo"].as_f64().unwrap(),
        l1["alpha_hi"].as_f64().unwrap(),
    );
    assert!(lo < a && a < hi);
    // Gaussian weights: the fit is rejected and no α is given.
    let l2 = by("layer2.weight");
    assert_eq!(l2["dtype"], "BF16");
    assert_eq!(l2["status"], "rejected", "{l2}");
    assert!(l2["alpha"].is_null());
    assert!(l2["verdict"].as_str().unwrap().contains("no tail index"));
    let buf = by("num_batches_tracked");
    assert_eq!(buf["status"], "not_estimated");
    assert!(
        buf["verdict"].as_str().unwrap().starts_with("skipped"),
        "{buf}"
    );
    // The same seed, the same bytes; the table names every tensor.
    let again = tailgate(&args);
    assert_eq!(again.stdout, tailgate(&args).stdout);
    let table = tailgate(&[
        "analyze",
        p(&file),
        "--subsamples",
        "0",
        "--gof-resamples",
        "0",
    ]);
    let text = String::from_utf8(table.stdout).unwrap();
    for name in ["layer1.weight", "layer2.weight", "num_batches_tracked"] {
        assert!(text.contains(name), "{text}");
    }
    assert!(text.contains("goodness of fit not run"), "{text}");
}

/// One `.npz` entry stored, one deflated: the answers equal those of the same values in
/// `.npy` files, and CSV has a row per tensor.
#[test]
fn npz_and_npy_give_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let heavy = pareto(1.2, 5_000, 3);
    let other = pareto(2.5, 5_000, 4);
    let (a, b) = (dir.path().join("w1.npy"), dir.path().join("w2.npy"));
    write_npy(&a, &[50, 100], &heavy).unwrap();
    write_npy(&b, &[5_000], &other).unwrap();
    let npz = dir.path().join("weights.npz");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&npz).unwrap());
    for (name, path, method) in [
        ("w1.npy", &a, zip::CompressionMethod::Stored),
        ("w2.npy", &b, zip::CompressionMethod::Deflated),
    ] {
        let options = zip::write::FileOptions::default().compression_method(method);
        zip.start_file(name, options).unwrap();
        zip.write_all(&std::fs::read(path).unwrap()).unwrap();
    }
    zip.finish().unwrap();
    let mut args = vec!["analyze", p(&npz)];
    args.extend(QUICK);
    let from_npz = json(&args);
    assert_eq!(from_npz.len(), 2);
    for (i, path) in [&a, &b].iter().enumerate() {
        let mut one = vec!["analyze", p(path)];
        one.extend(QUICK);
        let from_npy = json(&one);
        assert_eq!(from_npz[i], from_npy[0], "entry {i}");
    }
    let csv = tailgate(&["analyze", p(&npz), "--format", "csv", "--subsamples", "0"]);
    let text = String::from_utf8(csv.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("tensor,shape,dtype,elements,status,alpha"));
    assert!(lines[1].starts_with("w1,50×100,"), "{}", lines[1]);
}

#[test]
fn bad_checkpoints_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("m.safetensors");
    write_safetensors(&good, &pareto(1.5, 1000, 1), &pareto(1.5, 1000, 2));
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("cut.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).unwrap();
    let garbage = dir.path().join("junk.npz");
    std::fs::write(&garbage, b"not a zip at all").unwrap();
    let ints = dir.path().join("ints.safetensors");
    {
        use safetensors::tensor::{Dtype, TensorView};
        let data = [0u8; 16];
        let v = TensorView::new(Dtype::I64, vec![2], &data).unwrap();
        safetensors::serialize_to_file(vec![("steps", v)], None, &ints).unwrap();
    }
    let other = dir.path().join("model.pt");
    std::fs::write(&other, b"pickle").unwrap();
    for (file, needle) in [
        (&truncated, "not a readable safetensors file"),
        (&garbage, "not a readable .npz"),
        (&ints, "no floating-point tensors"),
        (&other, "expected .safetensors, .npz or .npy"),
        (&dir.path().join("missing.npy"), "missing.npy"),
    ] {
        let o = tailgate(&["analyze", p(file)]);
        assert_eq!(o.status.code(), Some(2), "{file:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(needle), "{file:?}: {err}");
        assert!(
            err.contains(file.file_name().unwrap().to_str().unwrap()),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

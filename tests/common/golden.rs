//! Golden outputs: bytes written once from a known commit and compared ever after, so that a
//! refactor that must change nothing for users can show it changed nothing.
//! `TAILGATE_BLESS=1` writes them anew instead of comparing (a deliberate change only).

use std::path::{Path, PathBuf};

fn path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/goldens")
        .join(name)
}

/// Compares `bytes` with the golden `name`, or writes it under `TAILGATE_BLESS=1`.
pub fn check(name: &str, bytes: &[u8]) {
    let golden = path(name);
    if std::env::var_os("TAILGATE_BLESS").is_some() {
        std::fs::write(&golden, bytes).unwrap();
        return;
    }
    let expected = std::fs::read(&golden)
        .unwrap_or_else(|e| panic!("{}: {e} (bless with TAILGATE_BLESS=1)", golden.display()));
    assert!(
        expected == bytes,
        "{name} differs from its golden ({} vs {} bytes): the same seed no longer gives the \
         same bytes",
        bytes.len(),
        expected.len()
    );
}

/// A file's fingerprint for a golden of large binary output: its length and FNV-1a 64
/// hash (fixed by its definition, unlike `std`'s hasher), as a line of text.
pub fn fingerprint(bytes: &[u8]) -> Vec<u8> {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{} bytes, fnv1a64 {hash:016x}\n", bytes.len()).into_bytes()
}

/// Whether a key is a timing (wall time, throughput), which no seed fixes.
fn is_timing(key: &str) -> bool {
    key.ends_with("_seconds") || key.ends_with("_per_second")
}

/// A JSON value without its timings, pretty-printed: what of a run's record is fixed by its
/// config and seed.
pub fn without_timings(mut v: serde_json::Value) -> Vec<u8> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.retain(|k, _| !is_timing(k));
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    let mut out = serde_json::to_vec_pretty(&v).unwrap();
    out.push(b'\n');
    out
}

/// A CSV table without its timing columns, re-written.
pub fn csv_without_timings(path: &Path) -> Vec<u8> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().clone();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| !is_timing(&header[i]))
        .collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let pick =
        |r: &csv::StringRecord| -> Vec<String> { keep.iter().map(|&i| r[i].to_string()).collect() };
    writer.write_record(pick(&header)).unwrap();
    for record in reader.records() {
        writer.write_record(pick(&record.unwrap())).unwrap();
    }
    writer.into_inner().unwrap()
}

//! The study on the far tail: run length from the tilted drift, the gate's η shared by the
//! linear arm, the heavy-tailed start and Cauchy noise as study axes, the halves of a
//! window, and the shipped quick far-tail study end to end (report, findings, pairs.csv),
//! with README's findings equal to the published ones.

mod common;

use std::path::Path;
use tailgate::config::{Init, Model, NoiseLaw};
use tailgate::report::{ReportOptions, write_report};
use tailgate::run::halves;
use tailgate::study::{Shard, Study};
use tailgate::sweep::run_sweep;
use tailgate::tail::far::{Exceedance, LadderOptions};
use tailgate::theory::{gate_tail_index, linear_tail_index};

fn study(json: &str) -> Study {
    serde_json::from_str(json).unwrap()
}

/// μ is h′ at the root: a central difference of h(α) = log E‖Me₁‖^α agrees.
#[test]
fn tilted_drift_is_the_slope_of_the_log_moment_at_the_root() {
    for (gate, d, b, eta) in [
        (false, 10, 1, 0.17),
        (true, 10, 1, 0.17),
        (true, 10, 5, 0.7),
    ] {
        let t = if gate {
            gate_tail_index(d, b, eta).unwrap()
        } else {
            linear_tail_index(d, b, eta).unwrap()
        };
        let (alpha, mu) = (t.alpha.unwrap(), t.tilted_drift.unwrap());
        let h = |a: f64| {
            if gate {
                tailgate::theory::gate_log_moment(d, b, eta, a)
            } else {
                tailgate::theory::log_moment(d, b, eta, a)
            }
        };
        let step = 1e-4;
        let numeric = (h(alpha + step) - h(alpha - step)) / (2.0 * step);
        assert!(
            (numeric - mu).abs() < 1e-5 * mu.abs().max(1e-3) + 1e-7,
            "gate {gate} d {d} b {b}: μ {mu} vs h′ {numeric}"
        );
        assert!(mu > 0.0);
        assert!((t.steps_per_decade().unwrap() - std::f64::consts::LN_10 / mu).abs() < 1e-9);
    }
}

/// `length` sets each cell's burn-in from the theory (clamped), the window as long again;
/// `gate_alpha_target` gives the linear cells the gate's η; `init`, `noise_law`,
/// `divergence_norm` and `center` are axes.
#[test]
fn length_rule_and_shared_step_sizes_resolve_per_cell() {
    let s = study(
        r#"{
      "name": "len",
      "base": { "engine": "reduced", "chains": 100, "teacher": "e1" },
      "length": { "deepest_fraction": 1e-4, "min_burn_in": 100, "max_burn_in": 5000,
                  "min_window": 300 },
      "grid": [
        { "model": ["relu_gate", "linear"], "dim": [10], "batch": [1, 5],
          "gate_alpha_target": [1.5] },
        { "model": ["relu_gate"], "dim": [10], "batch": [1], "gate_alpha_target": [1.5],
          "init": ["pareto"], "noise_law": ["cauchy"], "divergence_norm": [1e15],
          "center": ["median"] }
      ]
    }"#,
    );
    let cells = s.cells().unwrap();
    assert_eq!(cells.len(), 5);
    for c in &cells {
        let cfg = &c.config;
        let gate_eta = tailgate::theory::eta_for_alpha(true, cfg.dim, cfg.batch, 1.5).unwrap();
        assert_eq!(cfg.eta, gate_eta, "every model at the gate's η");
        assert_eq!(cfg.alpha_target, None);
        let t = match cfg.model {
            Model::Linear => linear_tail_index(cfg.dim, cfg.batch, cfg.eta).unwrap(),
            _ => gate_tail_index(cfg.dim, cfg.batch, cfg.eta).unwrap(),
        };
        let burn = cfg.burn_in.unwrap();
        let expected = match (t.alpha, t.steps_per_decade()) {
            (Some(a), Some(per)) => ((4.0 / a.max(1.0) * per).ceil() as usize).clamp(100, 5000),
            _ => 100,
        };
        assert_eq!(burn, expected, "{:?} b {}", cfg.model, cfg.batch);
        assert_eq!(cfg.steps, burn + burn.max(300));
    }
    let heavy = cells
        .iter()
        .find(|c| c.config.init == Init::Pareto)
        .unwrap();
    assert_eq!(heavy.config.noise_law, NoiseLaw::Cauchy);
    assert_eq!(heavy.config.divergence_norm, 1e15);
    // d = 10, b = 1, α* = 1.5: μ ≈ 0.0047, so 4/1.5 decades take ≈ 1303 steps.
    let gate = cells
        .iter()
        .find(|c| c.config.model == Model::ReluGate && c.config.batch == 1)
        .unwrap();
    assert!((1250..1350).contains(&gate.config.burn_in.unwrap()));
    // A rule that cannot hold is refused with the field named.
    let bad = s.clone();
    let mut bad = bad;
    bad.length.as_mut().unwrap().deepest_fraction = 2.0;
    let err = bad.cells().unwrap_err().to_string();
    assert!(err.contains("length.deepest_fraction"), "{err}");
}

fn pareto(seed: u64, chains: u32, steps: u32, first_step: u32, scale_late: f64) -> Vec<Exceedance> {
    use rand::RngExt;
    let mut rng = tailgate::tail::stream(seed, "test", 0);
    let mut out = Vec::new();
    for chain in 0..chains {
        for k in 0..steps {
            let step = first_step + k;
            let u: f64 = rng.random();
            let late = k >= steps / 2;
            // A heavier second half when `scale_late` > 1: x^(scale) of a Pareto(2).
            let alpha = if late { 2.0 / scale_late } else { 2.0 };
            out.push(Exceedance {
                value: (1.0 - u).powf(-1.0 / alpha),
                chain,
                step,
            });
        }
    }
    out
}

/// The halves of a window: a stationary sample's difference covers 0; a second half with a
/// heavier tail shows as a negative difference that excludes 0.
#[test]
fn halves_of_the_window_detect_a_drift_and_not_a_stationary_sample() {
    let options = LadderOptions {
        resamples: 200,
        seed: 1,
        ..LadderOptions::default()
    };
    let (chains, steps, first) = (400, 200, 101);
    let last = (first + steps - 1) as usize;
    let flat = pareto(3, chains, steps, first, 1.0);
    let rungs = halves(&flat, 1.0, chains as usize, last, steps as usize, &options);
    let r = rungs.iter().find(|r| r.fraction == 1e-3).unwrap();
    assert_eq!((r.k_a, r.k_b), (40, 40));
    assert!(
        r.diff_lo.unwrap() <= 0.0 && r.diff_hi.unwrap() >= 0.0,
        "{r:?}"
    );
    let drift = pareto(3, chains, steps, first, 2.0);
    let rungs = halves(&drift, 1.0, chains as usize, last, steps as usize, &options);
    let r = rungs.iter().find(|r| r.fraction == 1e-3).unwrap();
    assert!(
        r.diff_hi.unwrap() < 0.0,
        "a heavier second half must show: {r:?}"
    );
}

/// The shipped quick far-tail study: sweep, report, and what the report promises — a far
/// tail in every gate cell, the paired SGD − KM table, findings.md, pairs.csv.
#[test]
fn shipped_quick_far_tail_study_reports_on_the_far_tail() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("quick");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/paper/quick_far.json");
    let s = Study::from_json_file(&path).unwrap();
    let out = run_sweep(&s, &dir, Shard::ALL, 1, true).unwrap();
    assert_eq!(out.trained, out.total);
    write_report(&dir, None, &ReportOptions::default()).unwrap();
    let report = std::fs::read_to_string(dir.join("report/report.md")).unwrap();
    for section in [
        "## Findings",
        "## Stationarity on the far tail",
        "## Claim 1 — SGD and KM have the same tail index",
        "## Claim 2 — the gate against linear regression",
        "## Where the prediction starts to hold",
        "## The far tail and the finite-range slope",
    ] {
        assert!(report.contains(section), "report.md lacks {section}");
    }
    let findings = std::fs::read_to_string(dir.join("report/findings.md")).unwrap();
    assert!(findings.contains("Claim 1 (far tail"), "{findings}");
    assert!(
        report.contains(findings.trim()),
        "report.md quotes findings.md"
    );
    let mut pairs = csv::Reader::from_path(dir.join("report/pairs.csv")).unwrap();
    assert_eq!(&pairs.headers().unwrap()[0], "noise_law");
    assert!(
        pairs.records().count() >= 2,
        "a paired row per seed and setup"
    );
    let mut csv = csv::Reader::from_path(dir.join("report/summary.csv")).unwrap();
    let header = csv.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for row in csv.records() {
        let row = row.unwrap();
        if &row[col("model")] == "relu_gate" {
            assert!(
                !row[col("far_alpha")].is_empty() || !row[col("far_reason")].is_empty(),
                "a gate cell without a far tail"
            );
            assert!(!row[col("equilibrium_fraction")].is_empty());
        }
    }
}

/// README's findings are the published study's, word for word (generated, not typed).
#[test]
fn readme_findings_are_the_published_findings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let published = std::fs::read_to_string(root.join("docs/study/findings.md")).unwrap();
    let (start, end) = ("<!-- findings:start -->", "<!-- findings:end -->");
    let a = readme.find(start).expect("README marks its findings") + start.len();
    let b = readme
        .find(end)
        .expect("README marks the end of its findings");
    assert_eq!(readme[a..b].trim(), published.trim());
    assert!(
        published.lines().count() <= 40,
        "README findings ≤ 40 lines"
    );
    let report = std::fs::read_to_string(root.join("docs/study/report.md")).unwrap();
    assert!(report.lines().count() <= 300, "report.md ≤ 300 lines");
    assert!(report.contains(published.trim()));
}

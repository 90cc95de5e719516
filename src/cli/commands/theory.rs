//! `tailgate theory`: the tail index predicted for linear regression or the gate.

use crate::cli::{Format, TheoryArgs, TheoryModel};
use tailgate::error::Result;
use tailgate::theory::{gate_tail_index, linear_tail_index};

/// `tailgate theory`: α of linear-regression SGD or the gate's prediction, or `diverges`.
pub fn run(args: &TheoryArgs) -> Result<String> {
    let gate = matches!(args.model, TheoryModel::ReluGate);
    let eta = match (args.eta, args.alpha) {
        (Some(eta), _) => eta,
        (None, Some(alpha)) => tailgate::theory::eta_for_alpha(gate, args.dim, args.batch, alpha)?,
        (None, None) => unreachable!("clap requires --eta or --alpha"),
    };
    let (t, model) = match args.model {
        TheoryModel::Linear => (
            linear_tail_index(args.dim, args.batch, eta)?,
            "linear (y = w*·x + σξ, x ~ N(0, I))",
        ),
        TheoryModel::ReluGate => (
            gate_tail_index(args.dim, args.batch, eta)?,
            "relu_gate, SGD and KM (x ~ N(0, I); asymptotic prediction)",
        ),
    };
    Ok(match args.format {
        Format::Json => serde_json::to_string_pretty(&t).expect("plain data serialises"),
        Format::Table => format!(
            "model      {model}\n\
             d, b, η    {}, {}, {}\n\
             alpha      {}\n\
             diverges   {} (E log‖M e₁‖ = {:.6})\n\
             E‖M e₁‖²   {:.6} (α = 2 at η = {:.6})\n\
             tilted μ   {}",
            t.dim,
            t.batch,
            t.eta,
            match (t.alpha, t.light_tail) {
                (Some(a), _) => format!("{a:.4}"),
                (None, true) => format!("above {} (light tail)", tailgate::theory::ALPHA_MAX),
                (None, false) => "none (the chain diverges)".to_string(),
            },
            t.diverges,
            t.lyapunov,
            t.second_moment,
            t.eta_alpha_2,
            match (t.tilted_drift, t.steps_per_decade()) {
                (Some(m), Some(s)) =>
                    format!("{m:.6} (≈ {s:.0} steps per decade of ‖w‖ for the equilibrium tail)"),
                _ => "none".to_string(),
            }
        ),
    })
}

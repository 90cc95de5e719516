use crate::cli::{Format, TheoryArgs};
use crate::error::Result;
use crate::theory::linear_tail_index;

/// `tailgate theory`: α of linear-regression SGD, or `diverges`.
pub fn run(args: &TheoryArgs) -> Result<String> {
    let t = linear_tail_index(args.dim, args.batch, args.eta)?;
    Ok(match args.format {
        Format::Json => serde_json::to_string_pretty(&t).expect("plain data serialises"),
        Format::Table => format!(
            "model      linear (y = w*·x + σξ, x ~ N(0, I))\n\
             d, b, η    {}, {}, {}\n\
             alpha      {}\n\
             diverges   {} (E log‖M e₁‖ = {:.6})\n\
             E‖M e₁‖²   {:.6} (α = 2 at η = {:.6})",
            t.dim,
            t.batch,
            t.eta,
            t.alpha
                .map_or("none (the chain diverges)".to_string(), |a| format!(
                    "{a:.4}"
                )),
            t.diverges,
            t.lyapunov,
            t.second_moment,
            t.eta_alpha_2
        ),
    })
}

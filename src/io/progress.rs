//! Progress bars on standard error for long runs (hidden with `--quiet`).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `len` units whose counter reads `{pos}/{len}` followed by `counter`
/// (indicatif template syntax); hidden when `quiet`.
pub fn progress_bar(len: u64, counter: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {counter}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

//! `tailgate slurm`: an `sbatch --array` script whose tasks run the shards of a sweep.

use crate::cli::SlurmArgs;
use std::path::{Path, PathBuf};
use tailgate::error::{Error, Result};
use tailgate::io::write_atomically;
use tailgate::study::Study;
use tailgate::sweep::init_dir;

/// What goes into the job-array script.
#[derive(Debug, Clone)]
pub struct SlurmPlan {
    pub name: String,
    pub binary: PathBuf,
    pub study: PathBuf,
    pub dir: PathBuf,
    pub shards: usize,
    pub jobs: usize,
    pub cpus_per_task: usize,
    pub time: String,
    pub mem: String,
    pub partition: Option<String>,
    /// Tasks pull cells from the whole study (claims) instead of one fixed shard each.
    pub pool: bool,
}

/// The `sbatch` script: array tasks each running `tailgate sweep` on the shared folder,
/// either all pulling unclaimed cells from the whole study (`--shard 0/1`) or each its
/// fixed shard from `SLURM_ARRAY_TASK_ID`/`SLURM_ARRAY_TASK_COUNT`.
pub fn script(plan: &SlurmPlan) -> String {
    let q = |p: &Path| shell_quote(&p.display().to_string());
    let partition = plan
        .partition
        .as_ref()
        .map(|p| format!("#SBATCH --partition={p}\n"))
        .unwrap_or_default();
    format!(
        "#!/usr/bin/env bash\n\
         #SBATCH --job-name=tailgate-{name}\n\
         #SBATCH --array=0-{last}\n\
         #SBATCH --cpus-per-task={cpus}\n\
         #SBATCH --time={time}\n\
         #SBATCH --mem={mem}\n\
         {partition}\
         #SBATCH --output={logs}/%A_%a.out\n\
         # Written by `tailgate slurm`. Submit with: sbatch {script_hint}\n\
         {how}\
         # A requeued or resubmitted task resumes: finished cells are never retrained.\n\
         # When every task is done: {binary} report {dir}\n\
         set -euo pipefail\n\
         exec {binary} sweep --config {study} --out {dir} --jobs {jobs}{shard} --quiet\n",
        name = plan.name,
        last = plan.shards - 1,
        cpus = plan.cpus_per_task,
        time = plan.time,
        mem = plan.mem,
        logs = q(&plan.dir.join("slurm-logs")),
        script_hint = q(&plan.dir.join("sweep.sbatch")),
        binary = q(&plan.binary),
        dir = q(&plan.dir),
        study = q(&plan.study),
        jobs = plan.jobs,
        how = if plan.pool {
            "# Every task pulls unclaimed cells from the whole study (cells are claimed in the\n\
             # folder, one worker each) and exits 0 when none is left.\n"
        } else {
            "# Each task runs its fixed shard (SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT).\n"
        },
        shard = if plan.pool { " --shard 0/1" } else { "" },
    )
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::io(p, e))
}

/// `tailgate slurm`: validates the study, binds DIR to it, writes the script.
pub fn run(args: &SlurmArgs) -> Result<PathBuf> {
    let study = Study::from_json_file(&args.study)?;
    let cells = study.cells()?;
    let shards = args.shards.unwrap_or(cells.len().min(100));
    if shards == 0 || shards > cells.len() {
        return Err(Error::config(
            "shards",
            format!(
                "must lie in 1..={} (the study's cells), got {shards}",
                cells.len()
            ),
        ));
    }
    if args.jobs == 0 || args.cpus_per_task == 0 {
        return Err(Error::config(
            "jobs",
            "and --cpus-per-task must be at least 1",
        ));
    }
    init_dir(&args.out, &study, &cells)?;
    let logs = args.out.join("slurm-logs");
    std::fs::create_dir_all(&logs).map_err(|e| Error::io(&logs, e))?;
    let binary = match &args.binary {
        Some(b) => absolute(b)?,
        None => std::env::current_exe().map_err(|e| Error::io("tailgate binary", e))?,
    };
    let plan = SlurmPlan {
        name: study.name.clone(),
        binary,
        study: absolute(&args.study)?,
        dir: absolute(&args.out)?,
        shards,
        jobs: args.jobs,
        cpus_per_task: args.cpus_per_task.max(args.jobs),
        time: args.time.clone(),
        mem: args.mem.clone(),
        partition: args.partition.clone(),
        pool: !args.fixed_shards,
    };
    let path = args
        .script
        .clone()
        .unwrap_or_else(|| args.out.join("sweep.sbatch"));
    let text = script(&plan);
    write_atomically(&path, |tmp| {
        std::fs::write(tmp, &text).map_err(|e| Error::io(tmp, e))
    })?;
    Ok(path)
}

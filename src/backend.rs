//! The one place a `Device` is built from the user's `--backend` choice.

use crate::error::{Error, Result};
use burn::tensor::{Device, Tensor};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// Which burn backend runs the tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum, Default)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// burn-ndarray on the CPU (deprecated upstream; kept for cross-checks).
    Ndarray,
    /// burn-flex, burn's pure-Rust CPU backend.
    #[default]
    Flex,
    /// wgpu (Vulkan/Metal/DX12/GL): a GPU, or Mesa's lavapipe without one.
    /// Needs a binary built with `--features wgpu`.
    Wgpu,
}

impl BackendKind {
    /// The backend's name, as in configs and run.json's `versions.backend`.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Ndarray => "ndarray",
            BackendKind::Flex => "flex",
            BackendKind::Wgpu => "wgpu",
        }
    }
}

/// Builds the device explicitly (`Device::default()` silently prefers wgpu) and checks
/// that it can run a tensor op, so a missing GPU adapter is an error, not a panic later.
pub fn make_device(kind: BackendKind) -> Result<Device> {
    let device = match kind {
        #[allow(deprecated)]
        BackendKind::Ndarray => Device::ndarray(),
        BackendKind::Flex => Device::flex(),
        BackendKind::Wgpu => wgpu_device()?,
    };
    probe(&device, kind)?;
    Ok(device)
}

#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<Device> {
    use burn::tensor::DeviceKind;
    quiet_catch(|| Device::wgpu(DeviceKind::DefaultDevice))
        .map_err(|p| Error::Backend(format!("no wgpu adapter: {}", panic_message(&p))))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<Device> {
    Err(Error::Backend(
        "this binary was built without wgpu; rebuild with \
         `cargo build --release --features wgpu` (or `cargo run --release --features wgpu -- …`)"
            .into(),
    ))
}

thread_local! {
    /// Set while this thread runs a probe whose panic is expected and reported as an error.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `catch_unwind` that keeps a panic of `f` off stderr. The process-wide hook is installed
/// once and stays; it is silent only on the thread that is probing, so probes on several
/// threads at once (`sweep --jobs`) neither race on the hook nor silence other threads.
fn quiet_catch<R>(f: impl FnOnce() -> R + std::panic::UnwindSafe) -> std::thread::Result<R> {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                default(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = std::panic::catch_unwind(f);
    QUIET.with(|q| q.set(false));
    result
}

fn probe(device: &Device, kind: BackendKind) -> Result<()> {
    let result = quiet_catch(|| {
        let t = Tensor::<1>::from_floats([1.0, 2.0], device);
        t.sum().into_scalar::<f32>()
    });
    match result {
        Ok(3.0) => Ok(()),
        Ok(v) => Err(Error::Backend(format!(
            "{} backend computed 1 + 2 = {v}",
            kind.name()
        ))),
        Err(p) => Err(Error::Backend(format!(
            "{} backend failed to start (for wgpu: no usable adapter? install a Vulkan \
             driver, e.g. `apt-get install mesa-vulkan-drivers`): {}",
            kind.name(),
            panic_message(&p)
        ))),
    }
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Probes on many threads at once (a sweep with `--jobs`) all succeed, and a probe
    /// that panics is caught on its own thread while the others carry on.
    #[test]
    fn concurrent_probes_and_caught_panics_do_not_interfere() {
        std::thread::scope(|s| {
            for i in 0..8 {
                s.spawn(move || {
                    for _ in 0..20 {
                        if i % 2 == 0 {
                            assert!(make_device(BackendKind::Flex).is_ok());
                        } else {
                            let caught = quiet_catch(|| -> u32 { panic!("expected") });
                            assert_eq!(panic_message(&caught.unwrap_err()), "expected");
                        }
                    }
                });
            }
        });
        // The quiet flag is per thread and cleared after each probe.
        assert!(!QUIET.with(std::cell::Cell::get));
    }
}

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
    std::panic::catch_unwind(|| Device::wgpu(DeviceKind::DefaultDevice))
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

fn probe(device: &Device, kind: BackendKind) -> Result<()> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(|| {
        let t = Tensor::<1>::from_floats([1.0, 2.0], device);
        t.sum().into_scalar::<f32>()
    });
    std::panic::set_hook(hook);
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

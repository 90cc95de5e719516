//! SGD for the nets on real images: burn's optimizer on the autodiff gradient of the
//! cross-entropy (straight-through ReLU for the KM extension).

use crate::nets::{Net, loss};
use burn::module::Param;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Bool, Gradients, Tensor};

/// burn's SGD on every chain's net: the gradient of `Σ_chains mean_i CE(z_i, y_i)`.
pub struct NetSgd {
    optim: ModuleOptimizer,
}

impl NetSgd {
    /// SGD stepping with `optim`.
    pub fn new(optim: ModuleOptimizer) -> Self {
        NetSgd { optim }
    }

    /// One step on images `x [chains, b, pixels]` with labels `y [chains, b]`; the layers
    /// of `frozen` chains (masks: kernels first, then linear layers) stay where they are.
    pub fn step(
        &mut self,
        model: Net,
        (x, y): (Tensor<3>, Tensor<2>),
        eta: f64,
        frozen: Option<&NetMasks>,
    ) -> Net {
        let grads = loss(model.forward(x), y).backward();
        let mut params = GradientsParams::new();
        for (l, w) in model.conv.iter().enumerate() {
            register(&mut params, w, &grads, frozen.map(|m| &m.conv[l]));
        }
        for (l, w) in model.fc.iter().enumerate() {
            register(&mut params, w, &grads, frozen.map(|m| &m.fc[l]));
        }
        self.optim.step(eta, model, params)
    }
}

/// `w`'s gradient, zero on the `frozen` entries, registered for the optimizer.
fn register<const D: usize>(
    params: &mut GradientsParams,
    w: &Param<Tensor<D>>,
    grads: &Gradients,
    frozen: Option<&Tensor<D, Bool>>,
) {
    let mut g = w
        .val()
        .grad(grads)
        .expect("net weights are tracked parameters");
    if let Some(mask) = frozen {
        g = g.mask_fill(mask.clone(), 0.0);
    }
    params.register(w.id, g);
}

/// Masks of the diverged chains' parameters, layer by layer.
pub struct NetMasks {
    /// Per convolution, `true` on the kernel entries of diverged chains (shaped like the kernels).
    pub conv: Vec<Tensor<4, Bool>>,
    /// Per linear layer, `true` on the weights of diverged chains (shaped like the weights).
    pub fc: Vec<Tensor<3, Bool>>,
}

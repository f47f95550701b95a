//! Weights as safetensors (the `safetensors` crate): one F64 tensor per layout block, named and
//! shaped as the block (`layer0.weight`, `[out, in]`, row-major), so PyTorch
//! (`safetensors.torch.load_file`) and Hugging Face users load them directly. Reading accepts
//! F64 and F32 tensors and checks names and shapes against the model's layout first.

use std::collections::HashMap;
use std::path::Path;

use descent_core::{Error, Layout, Result};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

/// The file name `descent train` writes into its `--out`.
pub const FILE_NAME: &str = "weights.safetensors";

/// The header's `__metadata__` key under which [`encode`] stores its description.
pub const METADATA_KEY: &str = "descent";

/// The safetensors bytes of `params` laid out by `layout`, with `description` (e.g. the run's
/// settings as JSON) as the one `__metadata__` entry [`METADATA_KEY`] (one entry, so the bytes
/// are the same from run to run).
pub fn encode(layout: &Layout, params: &[f64], description: &str) -> Result<Vec<u8>> {
    layout.check_len("weights", params.len())?;
    let bytes: Vec<Vec<u8>> = layout
        .blocks()
        .iter()
        .map(|b| {
            params[b.range()]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect()
        })
        .collect();
    let views = layout
        .blocks()
        .iter()
        .zip(&bytes)
        .map(|(b, data)| {
            let view = TensorView::new(Dtype::F64, b.shape.clone(), data).map_err(|e| {
                Error::invalid(format!("weights block '{}'", b.name), e, "a tensor")
            })?;
            Ok((b.name.clone(), view))
        })
        .collect::<Result<Vec<_>>>()?;
    let meta = HashMap::from([(METADATA_KEY.to_string(), description.to_string())]);
    safetensors::serialize(views, Some(meta))
        .map_err(|e| Error::invalid("weights", e, "tensors safetensors can store"))
}

/// Writes `params` as safetensors to `path` (atomically, see [`super::atomic_write`]).
pub fn save(path: &Path, layout: &Layout, params: &[f64], description: &str) -> Result<()> {
    super::atomic_write(path, &encode(layout, params, description)?)
}

/// The parameters in safetensors `bytes` for `layout`: every block must be there with its
/// shape (F64 or F32), and the file may hold no other tensor. Errors name the tensor, its shape
/// and what the layout expects.
pub fn decode(bytes: &[u8], layout: &Layout) -> std::result::Result<Vec<f64>, String> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| format!("not a safetensors file: {e}"))?;
    let mut names = st.names();
    names.sort_unstable();
    let mut params = vec![0.0; layout.len()];
    for b in layout.blocks() {
        let t = st.tensor(&b.name).map_err(|_| {
            format!(
                "no tensor '{}' (shape {:?}) for this model; the file holds {}",
                b.name,
                b.shape,
                names.join(", ")
            )
        })?;
        if t.shape() != b.shape.as_slice() {
            return Err(format!(
                "tensor '{}' has shape {:?}, this model's block has shape {:?}",
                b.name,
                t.shape(),
                b.shape
            ));
        }
        let out = &mut params[b.range()];
        match t.dtype() {
            Dtype::F64 => {
                for (p, c) in out.iter_mut().zip(t.data().chunks_exact(8)) {
                    *p = f64::from_le_bytes(c.try_into().expect("chunks of 8"));
                }
            }
            Dtype::F32 => {
                for (p, c) in out.iter_mut().zip(t.data().chunks_exact(4)) {
                    *p = f32::from_le_bytes(c.try_into().expect("chunks of 4")) as f64;
                }
            }
            other => {
                return Err(format!(
                    "tensor '{}' has dtype {other:?}, expected F64 or F32",
                    b.name
                ));
            }
        }
    }
    let extra: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| layout.block(n).is_none())
        .collect();
    if !extra.is_empty() {
        let blocks: Vec<&str> = layout.blocks().iter().map(|b| b.name.as_str()).collect();
        return Err(format!(
            "tensors {} are not blocks of this model ({})",
            extra.join(", "),
            blocks.join(", ")
        ));
    }
    if let Some(i) = params.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "entry {i} of the weights is {}, expected a finite number",
            params[i]
        ));
    }
    Ok(params)
}

/// Reads the parameters for `layout` from the safetensors file at `path` ([`decode`]).
pub fn load(path: &Path, layout: &Layout) -> Result<Vec<f64>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode(&bytes, layout).map_err(|m| Error::io(path, m))
}

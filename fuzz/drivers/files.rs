//! Fuzz drivers for the files descent reads back: safetensors weights (`--init`) and
//! checkpoints (`--resume`). Each must return Ok or Err without panicking; what loads must
//! round-trip. Shared by the cargo-fuzz targets (`fuzz/fuzz_targets/`) and the stable corpus
//! replay (`crates/descent-lab/tests/fuzz_corpus.rs`).

use descent_core::{Layout, RngStreams};
use descent_lab::checkpoint::{self, weights};
use descent_lab::train::TrainCheckpoint;
use descent_optim::OptimizerState;

/// The layouts a weights file is read for: an MLP's four blocks, one flat block, a matrix.
fn layouts() -> [Layout; 3] {
    let mut mlp = Layout::new();
    mlp.push("layer0.weight", &[3, 2]);
    mlp.push("layer0.bias", &[3]);
    mlp.push("layer1.weight", &[2, 3]);
    mlp.push("layer1.bias", &[2]);
    [mlp, Layout::flat(4), Layout::matrix(2, 2)]
}

/// A safetensors file: the first byte picks the layout, the rest is the file. What loads is
/// finite, has the layout's length and survives a write and a second read bit for bit.
pub fn safetensors(bytes: &[u8]) {
    let Some((&which, file)) = bytes.split_first() else {
        return;
    };
    let layout = &layouts()[which as usize % 3];
    let Ok(params) = weights::decode(file, layout) else {
        return;
    };
    assert_eq!(params.len(), layout.len());
    assert!(params.iter().all(|v| v.is_finite()));
    let again = weights::encode(layout, &params, "fuzz").expect("loaded weights encode");
    let back = weights::decode(&again, layout).expect("written weights load");
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back), bits(&params));
}

/// A layout of the checkpoint's block shapes when they are shapes a model has (vectors and
/// matrices, no empty dimension) and small (at most 4096 scalars): a resume compares them with
/// the model's layout before the optimizer sees them.
fn small_layout(ck: &TrainCheckpoint) -> Option<Layout> {
    let mut layout = Layout::new();
    let mut total = 0usize;
    for b in &ck.layout {
        if !(1..=2).contains(&b.shape.len()) || b.shape.contains(&0) {
            return None;
        }
        let n = b.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
        total = total.checked_add(n).filter(|&t| t <= 4096)?;
        layout.push(&b.name, &b.shape);
    }
    Some(layout)
}

/// A checkpoint: with the first byte even, the rest is the file as it is (header, byte count,
/// CRC-32, state); with it odd, the rest is the state, given a valid header so the fuzzer
/// reaches the state's parsing. A training checkpoint that parses has its optimizer state
/// loaded into the optimizer its settings name; an optimizer state that loads is saved again
/// unchanged.
pub fn checkpoint(bytes: &[u8]) {
    let Some((&mode, rest)) = bytes.split_first() else {
        return;
    };
    let file = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        let mut f = format!(
            "{} {} train {} {:08x}\n",
            checkpoint::MAGIC,
            checkpoint::VERSION,
            rest.len(),
            crc32(rest)
        )
        .into_bytes();
        f.extend_from_slice(rest);
        f
    };
    let Ok(ck) = checkpoint::decode::<TrainCheckpoint>(&file, "train") else {
        let _ = checkpoint::decode::<OptimizerState>(&file, "train");
        return;
    };
    let Some(layout) = small_layout(&ck) else {
        return;
    };
    let Ok(mut opt) = descent_optim::registry::parse_optimizer(&ck.config.optimizer) else {
        return;
    };
    if opt.init(&layout, &RngStreams::new(ck.config.seed)).is_err() {
        return;
    }
    if opt.load_state(&ck.optimizer).is_ok() {
        let saved = opt.state();
        let mut other =
            descent_optim::registry::parse_optimizer(&ck.config.optimizer).expect("parsed once");
        other
            .init(&layout, &RngStreams::new(ck.config.seed))
            .expect("initialised once");
        other.load_state(&saved).expect("a saved state loads");
        assert_eq!(other.state(), saved);
    }
}

/// CRC-32 (IEEE), bitwise: the drivers do not depend on crc32fast.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

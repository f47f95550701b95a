//! Flat parameters with named, row-major blocks.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One named block of a flat parameter vector: `shape` is row-major (`[out, in]` for a weight
/// matrix), the block occupies `offset .. offset + numel()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// The block's name, e.g. `layer0.weight`.
    pub name: String,
    /// Its shape, row-major (`[out, in]` for a weight matrix).
    pub shape: Vec<usize>,
    /// Where the block starts in the flat parameter vector.
    pub offset: usize,
}

impl Block {
    /// Number of scalars in the block.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The index range of the block in the flat vector.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.numel()
    }

    /// `(rows, cols)` when the block is a matrix (two dimensions), else `None`.
    pub fn matrix_shape(&self) -> Option<(usize, usize)> {
        match self.shape.as_slice() {
            [r, c] => Some((*r, *c)),
            _ => None,
        }
    }
}

/// The layout of a flat parameter vector: contiguous blocks in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    blocks: Vec<Block>,
    len: usize,
}

impl Layout {
    /// An empty layout; add blocks with [`Layout::push`].
    pub fn new() -> Self {
        Self::default()
    }

    /// One flat block named `"x"` of length `n` (for problems without structure).
    pub fn flat(n: usize) -> Self {
        let mut l = Self::new();
        l.push("x", &[n]);
        l
    }

    /// One matrix block named `"W"` of shape `rows × cols`.
    pub fn matrix(rows: usize, cols: usize) -> Self {
        let mut l = Self::new();
        l.push("W", &[rows, cols]);
        l
    }

    /// Appends a block and returns its offset.
    pub fn push(&mut self, name: &str, shape: &[usize]) -> usize {
        let offset = self.len;
        let block = Block {
            name: name.to_string(),
            shape: shape.to_vec(),
            offset,
        };
        self.len += block.numel();
        self.blocks.push(block);
        offset
    }

    /// Total number of scalars.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the layout has no scalars.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The blocks in order.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The block with this name.
    pub fn block(&self, name: &str) -> Option<&Block> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// The layout of the chosen blocks (by index) packed contiguously, as a transform that sees
    /// only those blocks gets them (`partition`).
    ///
    /// # Errors
    ///
    /// An index that is not a block of this layout.
    pub fn select(&self, indices: &[usize]) -> Result<Layout> {
        let mut l = Layout::new();
        for &i in indices {
            let b = self.blocks.get(i).ok_or_else(|| {
                Error::invalid("block index", i, format!("< {}", self.blocks.len()))
            })?;
            l.push(&b.name, &b.shape);
        }
        Ok(l)
    }

    /// Checks that a vector has this layout's length.
    ///
    /// # Errors
    ///
    /// An [`Error::Shape`] naming `what` when `n` is not the layout's length.
    pub fn check_len(&self, what: &str, n: usize) -> Result<()> {
        if n == self.len {
            Ok(())
        } else {
            Err(Error::shape(what, self.len, n))
        }
    }
}

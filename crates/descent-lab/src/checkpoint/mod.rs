//! Checkpoints of long runs and weights files (DESIGN §6: `--checkpoint-every N`, `--resume
//! DIR`): the file format, atomic writes and the checks that refuse a damaged or foreign file.
//!
//! A checkpoint is one file, `checkpoint.json`, in the `checkpoint/` folder of a run's `--out`:
//! a header line `descent-checkpoint 1 <kind> <bytes> <crc32>` and then the state as JSON
//! through [`descent_core::json`]: every finite f64 as its shortest round-tripping decimal and
//! NaN, `inf` and `-inf` as the strings `"NaN"`, `"inf"`, `"-inf"` (other NaN payloads as
//! `"NaN:0x<16 hex bits>"`), so parameters, optimizer moments and records come back bit for
//! bit, a diverged value included. Any kind of run (`train`, `active`, ...) uses the same
//! header and encoding; its state is its own serde type. The header's byte count and CRC-32 make a truncated
//! or corrupted file an error that says so, before any of it is used. Writes go to a temporary
//! file in the same folder, which is synced and renamed over the previous checkpoint, so a crash
//! or a full disk mid-write leaves the previous good checkpoint as it was.
//!
//! [`weights`] reads and writes parameters as safetensors, one tensor per layout block.

pub mod weights;

use std::io::Write;
use std::path::{Path, PathBuf};

use descent_core::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The first word of every checkpoint file.
pub const MAGIC: &str = "descent-checkpoint";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// The checkpoint's file name inside its folder.
pub const FILE_NAME: &str = "checkpoint.json";
/// The folder of a run's `--out` that holds its checkpoint.
pub const DIR_NAME: &str = "checkpoint";

/// The checkpoint file a `--resume DIR` names: `DIR/checkpoint.json`, or, when `DIR` is a
/// run's `--out`, `DIR/checkpoint/checkpoint.json`, or `DIR` itself when it is a file.
pub fn locate(dir: &Path) -> Result<PathBuf> {
    let candidates = [
        dir.join(FILE_NAME),
        dir.join(DIR_NAME).join(FILE_NAME),
        dir.to_path_buf(),
    ];
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        Error::io(
            dir,
            format!(
                "no checkpoint here (expected {FILE_NAME} in this folder or in its \
                     {DIR_NAME}/ folder)"
            ),
        )
    })
}

/// Writes `bytes` to `path` atomically: into a temporary file beside it, synced to disk, then
/// renamed over `path` (and the folder synced), so `path` holds either the old or the new
/// content, never a mix. On an error the temporary file is removed and `path` is untouched.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let name = path
        .file_name()
        .map_or("file".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // the rename itself is durable once the folder is synced
        std::fs::File::open(dir)?.sync_all()
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Serializes `state` with the header of a checkpoint of `kind` (e.g. `"train"`).
pub fn encode(kind: &str, state: &impl Serialize) -> Result<Vec<u8>> {
    let body = descent_core::json::to_vec(state)
        .map_err(|e| Error::invalid("checkpoint state", e, "plain serializable data"))?;
    let header = format!(
        "{MAGIC} {VERSION} {kind} {} {:08x}\n",
        body.len(),
        crc32fast::hash(&body)
    );
    let mut out = header.into_bytes();
    out.extend_from_slice(&body);
    Ok(out)
}

/// Writes a checkpoint of `kind` to `path` atomically ([`atomic_write`]); returns its size in
/// bytes.
pub fn write(path: &Path, kind: &str, state: &impl Serialize) -> Result<usize> {
    let bytes = encode(kind, state)?;
    atomic_write(path, &bytes)?;
    Ok(bytes.len())
}

/// Reads the checkpoint at `path`, which must be of `kind`: the header, the byte count and the
/// CRC-32 are checked before the state is parsed, and each failure names what is wrong.
pub fn read<T: DeserializeOwned>(path: &Path, kind: &str) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode(&bytes, kind).map_err(|message| Error::io(path, message))
}

/// The state in `bytes` (a checkpoint of `kind`), or what is wrong with them.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], kind: &str) -> std::result::Result<T, String> {
    let not_ours = || format!("not a descent checkpoint (it does not start with '{MAGIC}')");
    let nl = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(not_ours)?;
    let header = std::str::from_utf8(&bytes[..nl]).map_err(|_| not_ours())?;
    let fields: Vec<&str> = header.split(' ').collect();
    let [magic, version, found_kind, len, crc] = fields[..] else {
        return Err(not_ours());
    };
    if magic != MAGIC {
        return Err(not_ours());
    }
    if version != VERSION.to_string() {
        return Err(format!(
            "checkpoint format version {version}; this descent reads version {VERSION}"
        ));
    }
    if found_kind != kind {
        return Err(format!(
            "a checkpoint of a '{found_kind}' run; this is a '{kind}' run"
        ));
    }
    let bad_header = || format!("damaged header '{header}'");
    let len: usize = len.parse().map_err(|_| bad_header())?;
    let crc = u32::from_str_radix(crc, 16).map_err(|_| bad_header())?;
    let body = &bytes[nl + 1..];
    if body.len() < len {
        return Err(format!(
            "truncated: the header announces {len} bytes of state, the file holds {}",
            body.len()
        ));
    }
    if body.len() > len {
        return Err(format!(
            "{} bytes of state where the header announces {len} (data appended?)",
            body.len()
        ));
    }
    let found = crc32fast::hash(body);
    if found != crc {
        return Err(format!(
            "corrupted: the state's CRC-32 is {found:08x}, the header says {crc:08x}"
        ));
    }
    descent_core::json::from_slice(body).map_err(|e| format!("unreadable state: {e}"))
}

/// The error for a checkpoint whose `what` (e.g. "--model") was `saved` while this run has
/// `current`: the checkpoint belongs to another run.
pub fn mismatch(
    path: &Path,
    what: &str,
    saved: impl std::fmt::Display,
    current: impl std::fmt::Display,
) -> Error {
    Error::io(
        path,
        format!(
            "this checkpoint was written with {what} {saved}, this run has {current}; resume \
             with the same settings or start a new run"
        ),
    )
}

/// Ok when `saved == current`, else [`mismatch`] with both quoted.
pub fn same<T: PartialEq + std::fmt::Debug>(
    path: &Path,
    what: &str,
    saved: &T,
    current: &T,
) -> Result<()> {
    if saved == current {
        Ok(())
    } else {
        Err(mismatch(
            path,
            what,
            format!("{saved:?}"),
            format!("{current:?}"),
        ))
    }
}

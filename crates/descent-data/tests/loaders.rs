//! IDX, CIFAR-10 binary and NPY loaders on small files the tests write: the layouts, the
//! predefined test splits, and every malformed-file error naming the file, the byte offset and
//! the problem.

use std::io::Write;
use std::path::Path;

use descent_core::Error;
use descent_data::{
    NpyOptions, Targets, load_cifar10_dir, load_dataset, load_idx_dir, load_npy, load_source,
};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// An IDX file of type `ty` with `dims` and raw big-endian `data`.
fn idx(ty: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, ty, dims.len() as u8];
    dims.iter().for_each(|d| b.extend(d.to_be_bytes()));
    b.extend_from_slice(data);
    b
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

/// A 3-image 2×2 training pair (plain) and a 2-image test pair (gzip).
fn mnist_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..12).collect();
    write(
        dir.path(),
        "train-images-idx3-ubyte",
        &idx(8, &[3, 2, 2], &pixels),
    );
    write(
        dir.path(),
        "train-labels-idx1-ubyte",
        &idx(8, &[3], &[7, 0, 9]),
    );
    let test = idx(8, &[2, 2, 2], &[255, 0, 0, 255, 1, 2, 3, 4]);
    write(dir.path(), "t10k-images-idx3-ubyte.gz", &gzip(&test));
    write(
        dir.path(),
        "t10k-labels-idx1-ubyte.gz",
        &gzip(&idx(8, &[2], &[1, 2])),
    );
    dir
}

/// The message of an `Error::Data`, checking it names the file.
fn data_msg(e: Error, file: &str) -> String {
    assert!(matches!(e, Error::Data { .. }), "{e:?}");
    let m = e.to_string();
    assert!(m.contains(file), "{m} should name {file}");
    m
}

#[test]
fn idx_directory_with_its_t10k_test_split() {
    let dir = mnist_dir();
    let spec = format!("idx:{}", dir.path().display());
    let src = load_source(&spec).unwrap();
    assert_eq!((src.train.len(), src.train.n_features), (3, 4));
    assert_eq!(src.train.row(1), &[4.0, 5.0, 6.0, 7.0]);
    assert_eq!(
        src.train.targets,
        Targets::Classes {
            labels: vec![7, 0, 9],
            n_classes: 10
        }
    );
    let test = src.test.expect("t10k pair present");
    assert_eq!(test.row(0), &[255.0, 0.0, 0.0, 255.0]);
    assert_eq!(test.n_classes(), Some(10));
    // load_dataset gives the training part
    assert_eq!(load_dataset(&spec).unwrap(), src.train);
    // without the t10k files there is no predefined test split
    std::fs::remove_file(dir.path().join("t10k-images-idx3-ubyte.gz")).unwrap();
    std::fs::remove_file(dir.path().join("t10k-labels-idx1-ubyte.gz")).unwrap();
    assert!(load_idx_dir(dir.path(), 10).unwrap().1.is_none());
    // a missing training file is an I/O error naming the path
    std::fs::remove_file(dir.path().join("train-labels-idx1-ubyte")).unwrap();
    let e = load_source(&spec).unwrap_err();
    assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("train-labels-idx1-ubyte"));
}

#[test]
fn idx_malformed_files_name_file_offset_and_problem() {
    let case = |images: Vec<u8>, labels: Vec<u8>, classes: usize| {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "train-images-idx3-ubyte", &images);
        write(dir.path(), "train-labels-idx1-ubyte", &labels);
        load_idx_dir(dir.path(), classes).unwrap_err()
    };
    let good = || idx(8, &[2, 1, 2], &[1, 2, 3, 4]);
    let labels = || idx(8, &[2], &[0, 1]);
    let img = "train-images-idx3-ubyte";
    let lab = "train-labels-idx1-ubyte";

    let mut bad = good();
    bad[0] = 1;
    let m = data_msg(case(bad, labels(), 10), img);
    assert!(
        m.ends_with(":byte 0: bad magic 01 00: an IDX file starts with two zero bytes"),
        "{m}"
    );
    let mut bad = good();
    bad[2] = 0x07;
    let m = data_msg(case(bad, labels(), 10), img);
    assert!(
        m.contains(":byte 2: bad magic: unknown data type 0x07"),
        "{m}"
    );
    let m = data_msg(case(idx(8, &[2, 1, 2], &[1, 2, 3]), labels(), 10), img);
    assert!(
        m.ends_with(
            ":byte 16: wrong length: dimensions [2, 1, 2] need 4 bytes of data after the \
             16-byte header, found 3 (truncated)"
        ),
        "{m}"
    );
    let m = data_msg(case(gzip(&idx(8, &[2, 1, 2], &[1; 5])), labels(), 10), img);
    assert!(m.contains(":byte 16 (decompressed): wrong length"), "{m}");
    let m = data_msg(case(vec![0, 0, 8], labels(), 10), img);
    assert!(m.contains(":byte 3: truncated header"), "{m}");
    let m = data_msg(case(good(), idx(8, &[2], &[3, 10]), 10), lab);
    assert!(
        m.ends_with(":byte 9: label 10 of sample 1 out of range 0..10"),
        "{m}"
    );
    let m = data_msg(case(good(), idx(8, &[3], &[0, 1, 1]), 10), lab);
    assert!(m.contains("3 labels for the 2 images of"), "{m}");
    let m = data_msg(case(good(), idx(0x0D, &[2], &[0; 8]), 10), lab);
    assert!(m.contains("float type"), "{m}");
    // a float image file with a NaN: the offset of the value
    let mut data = Vec::new();
    [1.0f32, f32::NAN]
        .iter()
        .for_each(|v| data.extend(v.to_be_bytes()));
    let m = data_msg(case(idx(0x0D, &[2, 1, 1], &data), labels(), 10), img);
    assert!(m.ends_with(":byte 20: value NaN is not finite"), "{m}");
    // more classes accepted through the spec
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), img, &good());
    write(dir.path(), lab, &idx(8, &[2], &[3, 10]));
    let d = load_dataset(&format!("idx:{}(classes=11)", dir.path().display())).unwrap();
    assert_eq!(d.n_classes(), Some(11));
}

fn cifar_records(labels: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for (i, &l) in labels.iter().enumerate() {
        b.push(l);
        b.extend((0..3072).map(|p| ((p + i) % 256) as u8));
    }
    b
}

#[test]
fn cifar10_batches_and_test_batch() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cifar-10-batches-bin");
    std::fs::create_dir(&dir).unwrap();
    write(&dir, "data_batch_1.bin", &cifar_records(&[3, 9]));
    write(&dir, "data_batch_2.bin", &cifar_records(&[0]));
    write(&dir, "test_batch.bin", &cifar_records(&[5]));
    // the parent directory works too (it holds cifar-10-batches-bin)
    let src = load_source(&format!("cifar10:{}", root.path().display())).unwrap();
    assert_eq!((src.train.len(), src.train.n_features), (3, 3072));
    assert_eq!(
        src.train.targets,
        Targets::Classes {
            labels: vec![3, 9, 0],
            n_classes: 10
        }
    );
    assert_eq!(src.train.row(1)[..3], [1.0, 2.0, 3.0]);
    assert_eq!(src.train.row(1)[3071], ((3071 + 1) % 256) as f64);
    let test = src.test.unwrap();
    assert_eq!(test.n_classes(), Some(10));
    assert_eq!(test.len(), 1);

    let mut truncated = cifar_records(&[1, 2]);
    truncated.extend([7u8; 100]);
    write(&dir, "data_batch_2.bin", &truncated);
    let m = data_msg(load_cifar10_dir(&dir).unwrap_err(), "data_batch_2.bin");
    assert!(
        m.contains(":byte 6146: truncated record: 100 bytes left, a record is 3073 bytes"),
        "{m}"
    );
    write(&dir, "data_batch_2.bin", &cifar_records(&[1, 10]));
    let m = data_msg(load_cifar10_dir(&dir).unwrap_err(), "data_batch_2.bin");
    assert!(
        m.ends_with(":byte 3073: label 10 of record 1 out of range 0..10"),
        "{m}"
    );
    let empty = tempfile::tempdir().unwrap();
    let e = load_cifar10_dir(empty.path()).unwrap_err().to_string();
    assert!(
        e.contains("data_batch_1.bin") && e.contains("not found"),
        "{e}"
    );
}

/// A version-1 .npy file.
fn npy(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape_text = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut h = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape_text}, }}",
        if fortran { "True" } else { "False" }
    );
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((h.len() as u16).to_le_bytes());
    b.extend(h.as_bytes());
    b.extend_from_slice(data);
    b
}

fn f8(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn npy_types_shapes_and_targets() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let x = write(
        d,
        "x.npy",
        &npy("<f8", false, &[3, 2], &f8(&[1., 2., 3., 4., 5., 6.])),
    );
    let y = write(
        d,
        "y.npy",
        &npy(
            "<i8",
            false,
            &[3],
            &[2i64, 0, 1]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<_>>(),
        ),
    );
    let data = load_dataset(&format!("npy:{x},{y}")).unwrap();
    assert_eq!(data.row(2), &[5.0, 6.0]);
    assert_eq!(
        data.targets,
        Targets::Classes {
            labels: vec![2, 0, 1],
            n_classes: 3
        }
    );
    let five = load_dataset(&format!("npy:{x},{y}(classes=5)")).unwrap();
    assert_eq!(five.n_classes(), Some(5));
    // f4 and big-endian f8 features, uint8 labels, gzip
    let xf4: Vec<u8> = [1.5f32, -2.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let x4 = write(d, "x4.npy", &gzip(&npy("<f4", false, &[2, 1, 1], &xf4)));
    let xbe: Vec<u8> = [1.5f64, -2.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let xb = write(d, "xb.npy", &npy(">f8", false, &[2], &xbe));
    let yu = write(d, "yu.npy", &npy("|u1", false, &[2, 1], &[1, 1]));
    let a = load_npy(&x4, &yu, NpyOptions::default()).unwrap();
    let b = load_npy(&xb, &yu, NpyOptions::default()).unwrap();
    assert_eq!(a.features, vec![1.5, -2.0]);
    assert_eq!(
        (a.features.clone(), a.targets.clone()),
        (b.features, b.targets)
    );
    // real targets: fractional values, several columns, or regression=true
    let yr = write(d, "yr.npy", &npy("<f8", false, &[2], &f8(&[0.5, 2.0])));
    assert_eq!(
        load_npy(&xb, &yr, NpyOptions::default()).unwrap().targets,
        Targets::Real {
            values: vec![0.5, 2.0],
            dim: 1
        }
    );
    let y2 = write(
        d,
        "y2.npy",
        &npy("<f8", false, &[2, 2], &f8(&[1., 2., 3., 4.])),
    );
    assert_eq!(
        load_npy(&xb, &y2, NpyOptions::default())
            .unwrap()
            .n_outputs(),
        2
    );
    let reg = load_dataset(&format!("npy:{xb},{yu}(regression=true)")).unwrap();
    assert_eq!(
        reg.targets,
        Targets::Real {
            values: vec![1.0, 1.0],
            dim: 1
        }
    );
    let e = load_dataset(&format!("npy:{x}")).unwrap_err().to_string();
    assert!(
        e.contains("'npy.path'") && e.contains("npy:X.npy,Y.npy"),
        "{e}"
    );
}

#[test]
fn npy_malformed_files_name_file_offset_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let y = write(d, "y.npy", &npy("|u1", false, &[2], &[0, 1]));
    let err = |xbytes: Vec<u8>| {
        let x = write(d, "bad.npy", &xbytes);
        data_msg(
            load_npy(&x, &y, NpyOptions::default()).unwrap_err(),
            "bad.npy",
        )
    };
    let good = npy("<f8", false, &[2, 2], &f8(&[1., 2., 3., 4.]));
    let mut bad = good.clone();
    bad[1] = b'X';
    assert!(err(bad).ends_with(":byte 0: bad magic: a .npy file starts with \\x93NUMPY"));
    let m = err(npy("<f8", true, &[2, 2], &f8(&[1., 2., 3., 4.])));
    assert!(m.contains(":byte 10: fortran_order is True"), "{m}");
    let m = err(npy("<c16", false, &[2], &[0; 32]));
    assert!(
        m.contains(":byte 10: unsupported element type '<c16'"),
        "{m}"
    );
    let m = err(npy("<f8", false, &[2, 2], &f8(&[1., 2., 3.])));
    assert!(
        m.ends_with(":byte 128: wrong length: shape [2, 2] of '<f8' needs 32 bytes of data, found 24 (truncated)"),
        "{m}"
    );
    let m = err(npy("<f8", false, &[2, 2], &f8(&[1., 2., f64::NAN, 4.])));
    assert!(
        m.ends_with(":byte 144: element 2 is NaN (not a finite number)"),
        "{m}"
    );
    let m = err(good[..20].to_vec());
    assert!(m.contains("truncated header"), "{m}");
    let m = err(npy("<f8", false, &[3, 1], &f8(&[1., 2., 3.])));
    // the mismatch is reported on Y, naming X
    assert!(
        m.contains("y.npy:byte 128: shape [2]") && m.contains("3 samples of"),
        "{m}"
    );

    // label out of range: a given class count, or a negative integer label
    let x = write(d, "x.npy", &good);
    let y3 = write(d, "y3.npy", &npy("|u1", false, &[2], &[0, 3]));
    let m = data_msg(
        load_npy(
            &x,
            &y3,
            NpyOptions {
                classes: Some(3),
                regression: false,
            },
        )
        .unwrap_err(),
        "y3.npy",
    );
    assert!(
        m.ends_with(":byte 129: label 3 of sample 1 out of range 0..3"),
        "{m}"
    );
    let yneg = write(d, "yneg.npy", &npy("|i1", false, &[2], &[0, 0xff]));
    let m = data_msg(
        load_npy(&x, &yneg, NpyOptions::default()).unwrap_err(),
        "yneg.npy",
    );
    assert!(
        m.contains(":byte 129: label -1 of sample 1 out of range"),
        "{m}"
    );
}

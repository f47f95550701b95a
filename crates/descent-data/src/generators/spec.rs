//! The generators as dataset specs: `mixture(...)`, `teacher(...)`, `gaussian(...)`.

use super::*;

/// Spec names of the generators (rows of [`crate::DATASETS`]).
pub const GENERATORS: &[(&str, &str)] = &[
    (
        "mixture",
        "Gaussian-mixture classes with sub-clusters: mixture(classes=5, dim=10, n=400 per class, \
         weights=[0.7,0.2,0.1], sep=2, spread=1, noise=1.5, seed=0)",
    ),
    (
        "teacher",
        "teacher-student regression, x ~ N(0,I), y = V tanh(Wx/sqrt d)/sqrt h + noise: \
         teacher(dim=10, hidden=20, outputs=1, act=tanh|relu, noise=0.1, n=1000, seed=0)",
    ),
    (
        "gaussian",
        "Gaussian inputs with a chosen covariance spectrum, target y = P x on the relevant \
         subspace: gaussian(dim=10, relevant=2, var_rel=1, var_irr=0.25 | spectrum=[...] | \
         power=1, basis=random|identity, target=projection|none, n=1000, seed=0)",
    ),
];

/// How much to draw for a finite dataset from a generator spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleSize {
    /// Samples (per class for `mixture`).
    pub n: usize,
    /// Seed of the structure and of the samples.
    pub seed: u64,
}

/// The generator a spec names and the spec's sample size; errors name `generator.key`.
///
/// # Errors
///
/// An unknown generator name or key, or a value out of range, naming `generator.key`.
pub fn generator_from_spec(spec: &Spec) -> Result<(Arc<dyn Generator>, SampleSize)> {
    no_short_form(spec)?;
    let seed_of = |a: &descent_core::Args<'_>| a.usize("seed", 0).map(|s| s as u64);
    match spec.name.as_str() {
        "mixture" => {
            let (g, size) = mixture_from_spec(spec)?;
            Ok((Arc::new(g), size))
        }
        "teacher" => {
            let a = spec.args(&["dim", "hidden", "outputs", "act", "noise", "n", "seed"])?;
            let d = TeacherConfig::default();
            let act = match a.choice("act", "tanh", &["tanh", "relu"])?.as_str() {
                "relu" => TeacherAct::Relu,
                _ => TeacherAct::Tanh,
            };
            let config = TeacherConfig {
                dim: a.usize("dim", d.dim)?,
                hidden: a.usize("hidden", d.hidden)?,
                outputs: a.usize("outputs", d.outputs)?,
                act,
                noise: a.non_negative("noise", d.noise)?,
            };
            let size = SampleSize {
                n: a.usize("n", 1000)?,
                seed: seed_of(&a)?,
            };
            let g = Teacher::new(config, &mut structure_rng(size.seed))?;
            Ok((Arc::new(g), size))
        }
        "gaussian" => {
            let a = spec.args(&[
                "dim", "relevant", "var_rel", "var_irr", "spectrum", "power", "basis", "target",
                "n", "seed",
            ])?;
            let basis = match a
                .choice("basis", "random", &["random", "identity"])?
                .as_str()
            {
                "identity" => Basis::Identity,
                _ => Basis::Random,
            };
            let target = match a
                .choice("target", "projection", &["projection", "none"])?
                .as_str()
            {
                "none" => SpectralTarget::None,
                _ => SpectralTarget::Projection,
            };
            let size = SampleSize {
                n: a.usize("n", 1000)?,
                seed: seed_of(&a)?,
            };
            let relevant = a.usize("relevant", 2)?;
            let mut rng = structure_rng(size.seed);
            let forms = [a.has("spectrum"), a.has("power"), a.has("var_irr")];
            if forms.iter().filter(|f| **f).count() > 1 {
                return Err(Error::invalid(
                    "gaussian.spectrum",
                    "more than one of spectrum=, power=, var_irr=",
                    "one way to give the spectrum",
                ));
            }
            let g = if let Some(v) = a.f64_list("spectrum")? {
                if a.has("dim") && a.usize("dim", 0)? != v.len() {
                    return Err(Error::invalid(
                        "gaussian.dim",
                        a.usize("dim", 0)?,
                        format!("the length of spectrum ({})", v.len()),
                    ));
                }
                SpectralGaussian::new(v, relevant, basis, target, &mut rng)?
            } else {
                let dim = a.usize("dim", 10)?;
                let var_rel = a.non_negative("var_rel", 1.0)?;
                if a.has("power") {
                    let p = a.f64("power", 1.0)?;
                    SpectralGaussian::power_law(dim, relevant, var_rel, p, basis, target, &mut rng)?
                } else {
                    let var_irr = a.non_negative("var_irr", 0.25)?;
                    SpectralGaussian::flat(
                        dim, relevant, var_rel, var_irr, basis, target, &mut rng,
                    )?
                }
            };
            Ok((Arc::new(g), size))
        }
        other => Err(Error::unknown_name(
            "generator",
            other,
            &GENERATORS.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        )),
    }
}

/// The finite dataset a generator spec names: `n` samples (per class for `mixture`, in class
/// order) drawn from the `"samples"` stream of the spec's seed.
///
/// # Errors
///
/// As [`generator_from_spec`], and a missing or zero `n`.
pub fn dataset_from_spec(spec: &Spec) -> Result<Dataset> {
    let mut data = if spec.name == "mixture" {
        // a fixed count per class, as P2's pools
        let (mix, size) = mixture_from_spec(spec)?;
        check_n(spec, size)?;
        let counts = vec![size.n; mix.config().classes];
        mix.sample_per_class(&counts, &mut samples_rng(size.seed))?
            .data
    } else {
        let (g, size) = generator_from_spec(spec)?;
        check_n(spec, size)?;
        g.sample(size.n, &mut samples_rng(size.seed))
    };
    data.name = spec.to_string();
    Ok(data)
}

fn check_n(spec: &Spec, size: SampleSize) -> Result<()> {
    if size.n == 0 {
        return Err(Error::invalid(
            format!("{}.n", spec.name),
            0,
            "an integer >= 1",
        ));
    }
    Ok(())
}

fn samples_rng(seed: u64) -> Rng {
    RngStreams::new(seed).stream("samples")
}

/// The mixture a `mixture(...)` spec names, as its concrete type (for per-class counts).
///
/// # Errors
///
/// A spec that is not `mixture(...)`, or a key out of range.
pub fn mixture_from_spec(spec: &Spec) -> Result<(GaussianMixture, SampleSize)> {
    no_short_form(spec)?;
    let a = spec.args(&[
        "classes",
        "dim",
        "n",
        "weights",
        "sep",
        "spread",
        "noise",
        "class_weights",
        "seed",
    ])?;
    let d = MixtureConfig::default();
    let config = MixtureConfig {
        classes: a.usize("classes", d.classes)?,
        dim: a.usize("dim", d.dim)?,
        weights: a.f64_list("weights")?.unwrap_or(d.weights),
        sep: a.non_negative("sep", d.sep)?,
        spread: a.non_negative("spread", d.spread)?,
        noise: a.non_negative("noise", d.noise)?,
        class_weights: a.f64_list("class_weights")?.unwrap_or_default(),
    };
    let size = SampleSize {
        n: a.usize("n", 400)?,
        seed: a.usize("seed", 0)? as u64,
    };
    Ok((
        GaussianMixture::new(config, &mut structure_rng(size.seed))?,
        size,
    ))
}

/// Generators take keyword arguments only (`mixture:x` is an error naming the form expected).
fn no_short_form(spec: &Spec) -> Result<()> {
    match &spec.short {
        Some(short) => Err(Error::invalid(
            format!("dataset '{}'", spec.name),
            format!("'{}:{short}'", spec.name),
            format!("{}(key=value, ...)", spec.name),
        )),
        None => Ok(()),
    }
}

fn structure_rng(seed: u64) -> Rng {
    RngStreams::new(seed).stream("structure")
}

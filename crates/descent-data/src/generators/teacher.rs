//! Teacher–student regression: x ~ N(0, I), y = teacher network(x) + noise.

use super::*;

/// The teacher network's hidden activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeacherAct {
    /// tanh hidden units.
    Tanh,
    /// ReLU hidden units.
    Relu,
}

impl TeacherAct {
    fn apply(self, z: f64) -> f64 {
        match self {
            TeacherAct::Tanh => z.tanh(),
            TeacherAct::Relu => z.max(0.0),
        }
    }
}

/// The parameters of a [`Teacher`].
#[derive(Debug, Clone, PartialEq)]
pub struct TeacherConfig {
    /// Input dimension d.
    pub dim: usize,
    /// Hidden width h; 0 makes a linear teacher y = W x / √d.
    pub hidden: usize,
    /// Output dimension.
    pub outputs: usize,
    /// The teacher's hidden activation.
    pub act: TeacherAct,
    /// Standard deviation σ of the label noise added to each output.
    pub noise: f64,
}

impl Default for TeacherConfig {
    fn default() -> Self {
        TeacherConfig {
            dim: 10,
            hidden: 20,
            outputs: 1,
            act: TeacherAct::Tanh,
            noise: 0.1,
        }
    }
}

/// Teacher–student regression: inputs x ~ N(0, I_d) and targets
/// `y = V·act(W x / √d) / √h + σ ε` (or `y = W x / √d + σ ε` for h = 0), with the teacher's
/// weights W, V ~ N(0, 1) entrywise, drawn once. The 1/√d, 1/√h scalings keep pre-activations
/// and outputs of order one whatever the sizes (the usual committee-machine normalisation).
#[derive(Debug, Clone)]
pub struct Teacher {
    config: TeacherConfig,
    /// (h or outputs) × d.
    w: Vec<f64>,
    /// outputs × h (empty when linear).
    v: Vec<f64>,
}

impl Teacher {
    /// Draws the teacher's weights from `rng`.
    ///
    /// # Errors
    ///
    /// Zero input dimensions or outputs, or a noise level that is negative or not finite, naming the field.
    pub fn new(config: TeacherConfig, rng: &mut Rng) -> Result<Teacher> {
        if config.dim == 0 {
            return Err(Error::invalid("teacher.dim", 0, "an integer >= 1"));
        }
        if config.outputs == 0 {
            return Err(Error::invalid("teacher.outputs", 0, "an integer >= 1"));
        }
        if !(config.noise >= 0.0 && config.noise.is_finite()) {
            return Err(Error::invalid(
                "teacher.noise",
                config.noise,
                "a finite number >= 0",
            ));
        }
        let rows = if config.hidden == 0 {
            config.outputs
        } else {
            config.hidden
        };
        let w = (0..rows * config.dim).map(|_| normal(rng)).collect();
        let v = (0..config.outputs * config.hidden)
            .map(|_| normal(rng))
            .collect();
        Ok(Teacher { config, w, v })
    }

    /// The settings it was built with.
    pub fn config(&self) -> &TeacherConfig {
        &self.config
    }

    /// The first-layer weights, row-major (h × d, or outputs × d for a linear teacher).
    pub fn first_layer(&self) -> &[f64] {
        &self.w
    }

    /// The noiseless teacher output f(x) into `out` (length `outputs`).
    pub fn predict(&self, x: &[f64], out: &mut [f64]) {
        let c = &self.config;
        let sd = 1.0 / (c.dim as f64).sqrt();
        if c.hidden == 0 {
            for (o, w) in out.iter_mut().zip(self.w.chunks_exact(c.dim)) {
                *o = sd * w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
            }
            return;
        }
        let sh = 1.0 / (c.hidden as f64).sqrt();
        out.iter_mut().for_each(|o| *o = 0.0);
        for (j, w) in self.w.chunks_exact(c.dim).enumerate() {
            let a = c
                .act
                .apply(sd * w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>());
            for (k, o) in out.iter_mut().enumerate() {
                *o += sh * self.v[k * c.hidden + j] * a;
            }
        }
    }
}

impl Generator for Teacher {
    fn name(&self) -> String {
        let c = &self.config;
        let act = match c.act {
            TeacherAct::Tanh => "tanh",
            TeacherAct::Relu => "relu",
        };
        format!(
            "teacher(dim={}, hidden={}, outputs={}, act={act}, noise={})",
            c.dim, c.hidden, c.outputs, c.noise
        )
    }
    fn n_features(&self) -> usize {
        self.config.dim
    }
    fn target_shape(&self) -> TargetShape {
        TargetShape::Real(self.config.outputs)
    }
    fn draw(&self, rng: &mut Rng, x: &mut [f64], y: TargetMut<'_>) {
        x.iter_mut().for_each(|v| *v = normal(rng));
        if let TargetMut::Real(y) = y {
            self.predict(x, y);
            y.iter_mut()
                .for_each(|v| *v += self.config.noise * normal(rng));
        }
    }
}

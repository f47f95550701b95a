//! Every optimizer of descent-optim joins the conformance suite with one line.

use descent_optim::conformance::{Budget, spec};
use descent_optim::conformance_test;

conformance_test!(sgd, spec("sgd(lr=0.001)"), Budget::uniform(50_000, 1e-5));
conformance_test!(
    sgd_momentum,
    spec("sgd(lr=0.001, momentum=0.9)"),
    Budget::uniform(5_000, 1e-5)
);
conformance_test!(
    sgd_nesterov,
    spec("sgd(lr=0.001, momentum=0.9, nesterov=true)"),
    Budget::uniform(5_000, 1e-5)
);
conformance_test!(
    sgd_clip_norm,
    spec("sgd(lr=0.001, momentum=0.9, clip_norm=10)"),
    Budget::uniform(5_000, 1e-5)
);
conformance_test!(adam, spec("adam(lr=0.01)"), Budget::uniform(5_000, 1e-8));
conformance_test!(
    adamw,
    spec("adamw(lr=0.01, weight_decay=0.0001)"),
    Budget::uniform(5_000, 1e-7)
);
conformance_test!(
    adam_cosine,
    spec("adam(lr=0.02, schedule=cosine(total=20000, min=0.01))"),
    Budget::uniform(10_000, 1e-12)
);
conformance_test!(
    sgd_warmup_cosine,
    spec("sgd(lr=0.001, momentum=0.9, schedule=warmup_cosine(warmup=100, total=5000, min=0.01))"),
    Budget::uniform(5_000, 1e-3).rosenbrock(5_000, 1e-8)
);
conformance_test!(
    sam_sgd,
    spec("sam(rho=0.0001, base=sgd(lr=0.001, momentum=0.9))"),
    Budget::uniform(5_000, 1e-5)
);
conformance_test!(
    asam_sgd,
    spec("sam(rho=0.0001, adaptive=true, base=sgd(lr=0.001, momentum=0.9))"),
    Budget::uniform(5_000, 1e-5)
);
conformance_test!(
    sam_adam_cosine,
    spec("sam(rho=0.0001, base=adam(lr=0.02, schedule=cosine(total=5000, min=0.01)))"),
    Budget::uniform(5_000, 1e-5)
);
conformance_test!(
    rbo,
    spec("rbo(lr=0.001, radius=0.0001, inner_c=0.5, inner_steps=20)"),
    Budget::uniform(50_000, 1e-5)
);
conformance_test!(
    rbo_tol,
    spec("rbo(lr=0.001, radius=0.0001, inner_c=0.5, inner_steps=50, tol=1e-10, warm_start=target)"),
    Budget::uniform(50_000, 1e-5)
);
conformance_test!(
    entropy_sgd,
    spec("entropy_sgd(inner_lr=0.001)"),
    Budget::uniform(50_000, 1e-5)
);
conformance_test!(
    entropy_sgd_scaled,
    spec("entropy_sgd(lr=10, inner_lr=0.001, gamma=0.03, gamma_growth=0.00003, outer=scaled)"),
    Budget::uniform(50_000, 1e-5)
);

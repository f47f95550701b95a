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
    muon,
    spec("muon(lr=0.02, adam_lr=0.01, schedule=linear(total=5000, end=0))"),
    Budget::uniform(5_000, 1e-6)
);
conformance_test!(
    adam_quantized_states,
    spec("adam(lr=0.01, m=fmt(e=8, m=23), v=fmt(e=8, m=23, round=stochastic))"),
    Budget::uniform(5_000, 1e-8)
);
conformance_test!(
    muon_quantized,
    spec(
        "muon(lr=0.02, adam_lr=0.01, schedule=linear(total=5000, end=0), \
         m=bf16(round=stochastic), g=bf16, w=fmt(e=8, m=23))"
    ),
    Budget::uniform(5_000, 1e-4)
);
conformance_test!(
    zo_sgd_sphere,
    spec(
        "zo(law=sphere, q=4, mu=1e-6, diff=central, base=sgd(lr=0.001, momentum=0.9, clip_norm=10))"
    ),
    Budget::uniform(20_000, 1e-5)
);
conformance_test!(
    zo_adam_dap,
    spec("zo(law=dap, q=2, mu=1e-6, base=adam(lr=0.01, schedule=cosine(total=20000, min=0.01)))"),
    Budget::uniform(20_000, 1e-5)
);
conformance_test!(lbfgs, spec("lbfgs"), Budget::uniform(200, 1e-12));
conformance_test!(
    engd,
    spec("engd(damping=1e-10)"),
    Budget::uniform(100, 1e-12)
);
conformance_test!(
    engd_w,
    spec("engd_w(damping=1e-10)"),
    Budget::uniform(100, 1e-12)
);
conformance_test!(
    spring,
    spec("spring(damping=1e-10, momentum=0.5)"),
    Budget::uniform(200, 1e-12)
);
conformance_test!(
    nystrom,
    spec("nystrom(rank=2, damping=1e-8)"),
    Budget::uniform(200, 1e-10)
);
conformance_test!(
    sap,
    spec("sap(rank=2, damping=1e-8)"),
    Budget::uniform(200, 1e-10)
);
conformance_test!(
    engd_w_fixed_lr,
    spec("engd_w(damping=1e-10, lr=0.5)"),
    Budget::uniform(200, 1e-10)
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
conformance_test!(
    muon_bf16_newton_schulz,
    spec("muon(lr=0.02, adam_lr=0.01, ns_format=bf16, schedule=linear(total=5000, end=0))"),
    Budget::uniform(5_000, 1e-4)
);
conformance_test!(
    adam_from_optax_blocks,
    spec("chain(of=[scale_by_adam, scale_by_lr(lr=0.01)])"),
    Budget::uniform(5_000, 1e-8)
);
conformance_test!(
    momentum_from_optax_blocks,
    spec("chain(of=[trace(decay=0.9), scale_by_lr(lr=0.001)])"),
    Budget::uniform(5_000, 1e-5)
);
conformance_test!(
    partition_by_shape,
    spec("partition(matrix=adam(lr=0.01), vector=sgd(lr=0.001, momentum=0.9))"),
    Budget::uniform(5_000, 1e-5)
);
// P4's minimax and bilevel methods run on the hierarchical problems only (loss = ‖z − z*‖²)
conformance_test!(
    sgda,
    spec("sgda(eta_x=0.2, eta_y=0.5)"),
    Budget::uniform(2_000, 1e-12)
);
conformance_test!(
    pdsm,
    spec("pdsm(eta_x=0.1, eta_y=0.3, theta=0.3)"),
    Budget::uniform(3_000, 1e-12)
);
conformance_test!(
    tiada,
    spec("tiada(eta_x=1, eta_y=1)"),
    Budget::uniform(20_000, 1e-4)
);
conformance_test!(
    ada_minimax,
    spec("ada_minimax(alpha=2, eta_x=1, eta_y=1, gamma=1)"),
    Budget::uniform(20_000, 1e-3)
);
conformance_test!(
    ada_minimax_practical,
    spec("ada_minimax(variant=practical, horizon=20000, eta_x=0.5, eta_y=0.5)"),
    Budget::uniform(20_000, 1e-3)
);
conformance_test!(
    stocbio,
    spec("stocbio(eta_x=0.2, eta_y=0.5, l=2, terms=40)"),
    Budget::uniform(2_000, 1e-12)
);
conformance_test!(
    ada_bio,
    spec("ada_bio(l=2, terms=40)"),
    Budget::uniform(20_000, 1e-3)
);

// GeoPrecGD runs only on problems that answer the reduction map's Jacobian: the reduced
// quadratic of the suite (its pullback β is below the quadratic's β = 10, so lr = 0.1 is stable).
conformance_test!(
    geoprec,
    spec("geoprec(lr=0.1)"),
    Budget::uniform(3_000, 1e-12)
);

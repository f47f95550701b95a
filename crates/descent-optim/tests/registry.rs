//! Building optimizers from spec text: defaults, keys, and error messages.

use descent_core::Spec;
use descent_optim::registry::TRANSFORMS;
use descent_optim::{OPTIMIZERS, build_optimizer, build_transform, parse_optimizer};

fn err(text: &str) -> String {
    match parse_optimizer(text) {
        Ok(_) => panic!("'{text}' built"),
        Err(e) => e.to_string(),
    }
}

fn transform(text: &str) -> Box<dyn descent_optim::Transform> {
    build_transform(&Spec::parse(text).unwrap()).unwrap()
}

#[test]
fn defaults_are_torch_optims() {
    let sgd = transform("sgd");
    assert_eq!(sgd.hyper("lr"), Some(0.01));
    assert_eq!(sgd.hyper("momentum"), Some(0.0));
    let adam = transform("adam");
    for (k, v) in [
        ("lr", 1e-3),
        ("beta1", 0.9),
        ("beta2", 0.999),
        ("eps", 1e-8),
        ("weight_decay", 0.0),
    ] {
        assert_eq!(adam.hyper(k), Some(v), "adam.{k}");
    }
    assert_eq!(transform("adamw").hyper("weight_decay"), Some(0.01));
    assert_eq!(
        parse_optimizer("adam(lr=3e-4)").unwrap().name(),
        "adam(lr=0.0003)"
    );
}

#[test]
fn every_listed_optimizer_builds_with_its_defaults() {
    for (name, desc) in OPTIMIZERS {
        assert!(build_optimizer(&Spec::named(name)).is_ok(), "{name}");
        if *name == "zo" || *name == "sam" {
            // zeroth-order and SAM take clipping and schedules through their base transform
            assert!(desc.contains("base=sgd(lr=0.01)"), "{desc}");
            continue;
        }
        // the rest choose their own points
        if !descent_optim::registry::FIRST_ORDER.contains(name) {
            continue;
        }
        for key in ["clip_norm", "clip_value", "schedule"] {
            assert!(desc.contains(key), "{name}'s description lists {key}");
        }
    }
    let names: Vec<&str> = TRANSFORMS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "clip_norm",
            "clip_value",
            "decoupled_weight_decay",
            "chain",
            "quantize",
            "synaptic_noise"
        ]
    );
}

#[test]
fn clipping_and_schedule_keys_compose_in_a_documented_order() {
    let t = transform("sgd(lr=0.1, clip_norm=1, clip_value=0.5, schedule=cosine(total=10))");
    assert_eq!(
        t.name(),
        "chain(clip_value(max=0.5), clip_norm(max=1), scheduled(sgd(lr=0.1, momentum=0, dampening=0, \
         nesterov=false, weight_decay=0), schedule=cosine(total=10, min=0)))"
    );
    assert_eq!(t.hyper("lr"), Some(0.1));
    assert_eq!(t.hyper("clip_norm"), Some(1.0));
    let t =
        transform("chain(of=[clip_norm(max=2), decoupled_weight_decay(lr=0.1, weight_decay=0.5)])");
    assert_eq!(
        t.name(),
        "chain(clip_norm(max=2), decoupled_weight_decay(lr=0.1, weight_decay=0.5))"
    );
}

#[test]
fn bad_specs_name_the_field_and_the_valid_choices() {
    assert_eq!(
        err("adagrad(lr=0.1)"),
        "unknown optimizer 'adagrad'; valid: sgd, adam, adamw, muon, zo, engd, engd_w, spring, \
         nystrom, sap, lbfgs, sam, rbo, entropy_sgd"
    );
    assert_eq!(
        err("sgd(lr=0.1, momentun=0.9)"),
        "unknown key 'momentun' for 'sgd'; valid keys: lr, momentum, dampening, nesterov, \
         weight_decay, clip_norm, clip_value, schedule, g, w"
    );
    assert_eq!(
        err("sgd(lr=-0.1)"),
        "invalid value for 'sgd.lr': got -0.1, expected a finite number > 0"
    );
    assert_eq!(
        err("adam(beta1=1)"),
        "invalid value for 'adam.beta1': got 1, expected a number in [0, 1)"
    );
    assert_eq!(
        err("adamw(beta2=-0.5)"),
        "invalid value for 'adamw.beta2': got -0.5, expected a number in [0, 1)"
    );
    assert_eq!(
        err("sgd(nesterov=true)"),
        "invalid value for 'sgd.nesterov': got true with momentum=0 and dampening=0, expected \
         momentum > 0 and dampening = 0 (Nesterov needs a momentum buffer)"
    );
    assert_eq!(
        err("sgd(nesterov=maybe)"),
        "invalid value for 'sgd.nesterov': got maybe, expected true or false"
    );
    assert_eq!(
        err("adam(clip_norm=0)"),
        "invalid value for 'adam.clip_norm': got 0, expected a finite number > 0"
    );
    assert_eq!(
        err("adam(schedule=cosine)"),
        "invalid value for 'cosine.total': got nothing, expected an integer >= 1 (required)"
    );
    assert_eq!(
        err("adam(schedule=3)"),
        "invalid value for 'adam.schedule': got 3, expected a spec such as name(key=value)"
    );
    assert!(err("sgd(lr=").starts_with("cannot parse spec 'sgd(lr='"));
    assert_eq!(
        build_transform(&Spec::parse("clip_norm").unwrap())
            .err()
            .unwrap()
            .to_string(),
        "invalid value for 'clip_norm.max': got nothing, expected a number (required)"
    );
    assert_eq!(
        build_transform(&Spec::parse("lion").unwrap())
            .err()
            .unwrap()
            .to_string(),
        "unknown transform 'lion'; valid: sgd, adam, adamw, muon, clip_norm, clip_value, \
         decoupled_weight_decay, chain, quantize, synaptic_noise"
    );
}

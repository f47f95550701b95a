//! Building optimizers from spec text: defaults, keys, and error messages.

use descent_core::testfns::Quadratic;
use descent_core::{Problem, RngStreams, Spec};
use descent_optim::registry::Build;
use descent_optim::{
    OPTIMIZERS, TRANSFORMS, build_optimizer, build_transform, no_observer, parse_optimizer, run,
};

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
    for e in OPTIMIZERS {
        assert!(build_optimizer(&Spec::named(e.name)).is_ok(), "{}", e.name);
        let keys = (e.keys)(e.name);
        let has = |key: &str| keys.iter().any(|k| k.key == key);
        if e.name == "zo" || e.name == "sam" {
            // zeroth-order and SAM take clipping and schedules through their base transform
            let base = keys.iter().find(|k| k.key == "base").unwrap();
            assert_eq!(base.default.as_deref(), Some("sgd(lr=0.01)"));
            continue;
        }
        // the rest choose their own points
        if !matches!(e.build, Build::FirstOrder(_)) {
            continue;
        }
        for key in ["clip_norm", "clip_value", "schedule"] {
            assert!(has(key), "{}'s keys list {key}", e.name);
        }
        // the quantizer keys listed are exactly those the optimizer accepts
        let listed: Vec<&str> = ["w", "g", "m", "v"]
            .into_iter()
            .filter(|k| has(k))
            .collect();
        let accepted: Vec<&str> = ["w", "g", "m", "v"]
            .into_iter()
            .filter(|k| parse_optimizer(&format!("{}({k}=bf16)", e.name)).is_ok())
            .collect();
        assert_eq!(listed, accepted, "{}", e.name);
    }
    let names: Vec<&str> = TRANSFORMS.iter().map(|e| e.name).collect();
    assert_eq!(
        names,
        [
            "clip_norm",
            "clip_value",
            "decoupled_weight_decay",
            "chain",
            "partition",
            "quantize",
            "synaptic_noise",
            "scale",
            "scale_by_lr",
            "trace",
            "scale_by_adam",
            "add_decayed_weights"
        ]
    );
}

/// A value for each required key, to build the entries that have some.
fn required_value(key: &str) -> &'static str {
    match key {
        "max" => "1",
        "of" => "[sgd]",
        "fmt" => "bf16",
        "sigma" => "0.1",
        "factor" => "2",
        "lr" => "0.1",
        "weight_decay" => "0.01",
        other => panic!("no sample value for the required key {other}"),
    }
}

/// `descent list` prints each config's actual defaults: writing every listed default out
/// builds the very same configuration as leaving it to the default.
#[test]
fn listed_defaults_are_the_configs_defaults() {
    let mut checked = 0;
    for e in OPTIMIZERS.iter().chain(TRANSFORMS) {
        if e.name == "partition" {
            continue; // its keys are transforms, none has a default
        }
        let keys = (e.keys)(e.name);
        let required: Vec<String> = keys
            .iter()
            .filter(|k| k.required)
            .map(|k| format!("{}={}", k.key, required_value(k.key)))
            .collect();
        let explicit: Vec<String> = keys
            .iter()
            .filter_map(|k| k.default.as_ref().map(|d| format!("{}={d}", k.key)))
            .chain(required.iter().cloned())
            .collect();
        let implicit = format!("{}({})", e.name, required.join(", "));
        let explicit = format!("{}({})", e.name, explicit.join(", "));
        let a = parse_optimizer(&implicit).unwrap_or_else(|err| panic!("{implicit}: {err}"));
        let b = parse_optimizer(&explicit).unwrap_or_else(|err| panic!("{explicit}: {err}"));
        assert_eq!(
            a.state().resolved(),
            b.state().resolved(),
            "{implicit} vs {explicit}"
        );
        checked += keys.iter().filter(|k| k.default.is_some()).count();
    }
    assert!(checked > 60, "{checked} defaults checked");
    // and the listing shows them
    let text = descent_optim::registry::listing(OPTIMIZERS);
    for line in [
        "  sgd  SGD as torch.optim.SGD",
        "      lr=0.01  ",
        "      eps=1e-8  ",
        "      weight_decay=0.01  ",
        "      adam_lr=3e-4  ",
        "      ns_format=fp64  ",
        "      clip_norm (off)  ",
        "      inner_lr=0.01  ",
        "      law=gaussian  ",
        "      rank=100  ",
        "      shift=1e-7  ",
    ] {
        assert!(text.contains(line), "{line:?} not in\n{text}");
    }
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
         nystrom, sap, lbfgs, sam, rbo, entropy_sgd, sgda, pdsm, tiada, ada_minimax, stocbio, ada_bio, geoprec, clip_norm, clip_value, \
         decoupled_weight_decay, chain, partition, quantize, synaptic_noise, scale, scale_by_lr, \
         trace, scale_by_adam, add_decayed_weights"
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
         decoupled_weight_decay, chain, partition, quantize, synaptic_noise, scale, scale_by_lr, \
         trace, scale_by_adam, add_decayed_weights"
    );
}

#[test]
fn quantized_weights_are_top_level_only() {
    // nested: rejected wherever a transform spec appears, naming the field and the fix
    let nested = "invalid value for 'adam.w': got bf16, expected no w= here: quantized weights \
                  (Q_W) are only valid on a top-level optimizer, e.g. adam(lr=1e-3, w=bf16), not \
                  on a transform inside chain(..), zo(base=..), sam(base=..) or another spec";
    for text in [
        "zo(base=adam(lr=0.01, w=bf16))",
        "sam(rho=0.05, base=adam(w=bf16))",
    ] {
        let e = err(text);
        assert!(e.contains(nested) || e == nested, "{text}: {e}");
    }
    let e = build_transform(&Spec::parse("chain(of=[clip_norm(max=1), sgd(w=fp16)])").unwrap())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with("invalid value for 'sgd.w': got fp16, expected no w= here"),
        "{e}"
    );
    assert!(e.contains("e.g. sgd(lr=1e-3, w=bf16)"), "{e}");

    // top level: the gradient is evaluated at Q_W(x). f = ½‖x‖², so one sgd step from x0 is
    // x0 − lr·Q(x0); with 2 mantissa bits Q(0.3) = 1.25·2⁻² = 0.3125 and Q(−1.1) = −1.0.
    let x0 = [0.3, -1.1];
    let step = |text: &str| {
        let mut p = Quadratic::diagonal(&[1.0, 1.0], &[0.0, 0.0]).unwrap();
        let mut opt = parse_optimizer(text).unwrap();
        opt.init(p.layout(), &RngStreams::new(0)).unwrap();
        let mut x = x0.to_vec();
        run(opt.as_mut(), &mut x, &mut p, 1, no_observer).unwrap();
        x
    };
    let quantized = step("sgd(lr=0.1, w=fmt(e=8, m=2))");
    let exact = step("sgd(lr=0.1)");
    for (got, want) in quantized.iter().zip([0.3 - 0.1 * 0.3125, -1.1 + 0.1 * 1.0]) {
        assert!((got - want).abs() < 1e-15, "{quantized:?}");
    }
    for (got, want) in exact.iter().zip([0.3 - 0.1 * 0.3, -1.1 + 0.1 * 1.1]) {
        assert!((got - want).abs() < 1e-15, "{exact:?}");
    }
    assert_eq!(
        parse_optimizer("adam(lr=1e-3, w=bf16)").unwrap().name(),
        "adam(lr=0.001, w=bf16)"
    );
}

#[test]
fn partition_specs_name_groups_by_glob_and_shape() {
    use descent_core::Layout;
    let mut layout = Layout::new();
    layout.push("layer0.weight", &[3, 2]);
    layout.push("layer0.bias", &[3]);
    let init = |text: &str| {
        let mut opt = parse_optimizer(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        opt.init(&layout, &descent_core::RngStreams::new(0))
            .map(|_| opt)
    };
    // the two forms build, and route as written
    let by_shape = init("partition(matrix=adam(lr=1e-3), vector=sgd(lr=0.1))").unwrap();
    let s = by_shape.state();
    let kinds: Vec<&str> = s.children[0]
        .children
        .iter()
        .map(|c| c.kind.as_str())
        .collect();
    assert_eq!(kinds, ["adam", "sgd"]);
    assert_eq!(
        s.children[0].children[0].state["m"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    let by_name = init(
        "partition(groups=[group(match=\"*.bias\", opt=sgd(lr=0.1)), \
         group(match=\"layer?.*\", opt=adam)], default=adam)",
    )
    .unwrap();
    assert_eq!(by_name.hyper("lr"), Some(0.1));
    let err = |text: &str| match init(text) {
        Ok(_) => panic!("{text} built"),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        err("partition(groups=[group(match=\"*.b\", opt=sgd)], default=adam)"),
        "invalid value for 'partition group match': got \"*.b\", expected a glob matching a \
         block of the layout (layer0.weight, layer0.bias); `*` matches any run, `?` one \
         character"
    );
    assert_eq!(
        err("partition(matrix=adam)"),
        "invalid value for 'partition': got block 'layer0.bias' (shape [3]) in no group \
         (matrix), expected a group for every block: a match=\"glob\" that covers it, matrix= \
         or vector= for its shape, or default="
    );
    // spec errors
    let spec_err = |text: &str| parse_optimizer(text).err().unwrap().to_string();
    assert_eq!(
        spec_err("partition(matrix=adam, vectors=sgd)"),
        "unknown key 'vectors' for 'partition'; valid keys: groups, matrix, vector, default"
    );
    assert_eq!(
        spec_err("partition(groups=[adam])"),
        "invalid value for 'partition.groups': got adam, expected group(match=\"glob\", opt=spec)"
    );
    assert_eq!(
        spec_err("partition(groups=[group(opt=adam)])"),
        "invalid value for 'group.match': got nothing, expected a glob such as \"*.bias\" \
         (required)"
    );
    assert!(
        spec_err("partition(groups=[group(match=\"*\", opt=rbo)])")
            .starts_with("unknown transform 'rbo'")
    );
}

/// The rustdoc of each config field ends with its default as declared; it is the number
/// `descent list` prints (written the same way or not: `1e-3` and `0.001` are one number).
#[test]
fn rustdoc_defaults_are_the_listed_ones() {
    use descent_optim::config::Config;
    use descent_optim::*;
    fn check<C: Config>(name: &str, documented: &[(&str, &str)]) -> usize {
        let listed = C::preset(name).docs();
        let mut n = 0;
        for (field, text) in documented {
            let Some(row) = listed.iter().find(|k| k.key == *field) else {
                continue; // internal fields and fields listed under other keys
            };
            let (Ok(doc), Some(Ok(list))) = (
                text.parse::<f64>(),
                row.default.as_deref().map(str::parse::<f64>),
            ) else {
                if let Ok(b) = text.parse::<bool>() {
                    assert_eq!(row.default.as_deref(), Some(b.to_string().as_str()));
                    n += 1;
                }
                continue;
            };
            assert_eq!(
                doc, list,
                "{name}.{field}: rustdoc {text}, list {:?}",
                row.default
            );
            n += 1;
        }
        n
    }
    let n = check::<SgdConfig>("sgd", SgdConfig::DOCUMENTED_DEFAULTS)
        + check::<AdamConfig>("adam", AdamConfig::DOCUMENTED_DEFAULTS)
        + check::<MuonConfig>("muon", MuonConfig::DOCUMENTED_DEFAULTS)
        + check::<ZoConfig>("zo", ZoConfig::DOCUMENTED_DEFAULTS)
        + check::<EngdConfig>("engd_w", EngdConfig::DOCUMENTED_DEFAULTS)
        + check::<LbfgsConfig>("lbfgs", LbfgsConfig::DOCUMENTED_DEFAULTS)
        + check::<SamConfig>("sam", SamConfig::DOCUMENTED_DEFAULTS)
        + check::<RboConfig>("rbo", RboConfig::DOCUMENTED_DEFAULTS)
        + check::<EntropySgdConfig>("entropy_sgd", EntropySgdConfig::DOCUMENTED_DEFAULTS)
        + check::<DecoupledWeightDecay>(
            "decoupled_weight_decay",
            DecoupledWeightDecay::DOCUMENTED_DEFAULTS,
        )
        + check::<primitives::TraceConfig>("trace", primitives::TraceConfig::DOCUMENTED_DEFAULTS)
        + check::<primitives::ScaleByAdamConfig>(
            "scale_by_adam",
            primitives::ScaleByAdamConfig::DOCUMENTED_DEFAULTS,
        );
    assert!(n >= 45, "{n} defaults compared");
}

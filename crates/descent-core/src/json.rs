//! Lossless JSON for saved state: every `f64` round-trips bit for bit, NaN and ±inf included.
//!
//! serde_json writes a non-finite float as `null` (JSON has no NaN), so a checkpoint or an
//! optimizer state holding one could not be loaded back. The functions here write and read
//! plain serde data through serde_json with one change, applied at every depth:
//!
//! | value                          | JSON                                  |
//! |--------------------------------|---------------------------------------|
//! | finite                         | a number, shortest round-tripping decimal (`-0.0` kept) |
//! | `+inf`, `-inf`                 | the strings `"inf"`, `"-inf"`         |
//! | `f64::NAN` (bits `7ff8…0`)     | the string `"NaN"`                    |
//! | `-f64::NAN` (bits `fff8…0`, x86's `0.0/0.0`) | the string `"-NaN"`     |
//! | any other NaN                  | `"NaN:0x"` and its 16 hex bits, e.g. `"NaN:0x7ff0000000000001"` |
//!
//! Reading accepts these strings wherever an `f64` or `f32` is expected (a `String` field
//! holding `"NaN"` stays a string) and numbers as serde_json does. Finite values are exact
//! because serde_json's `float_roundtrip` parser is enabled. The one serde feature this does
//! not reach is a float inside a `#[serde(flatten)]` or untagged enum (serde buffers those
//! without asking for an `f64`); the state types of descent use neither.

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{
    DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, VariantAccess, Visitor,
};
use serde::ser::{
    SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// The string a non-finite `v` is written as (see the module table); `None` for a finite `v`.
pub fn nonfinite_name(v: f64) -> Option<String> {
    if v.is_finite() {
        None
    } else if v == f64::INFINITY {
        Some("inf".into())
    } else if v == f64::NEG_INFINITY {
        Some("-inf".into())
    } else if v.to_bits() == f64::NAN.to_bits() {
        Some("NaN".into())
    } else if v.to_bits() == (-f64::NAN).to_bits() {
        Some("-NaN".into())
    } else {
        Some(format!("NaN:0x{:016x}", v.to_bits()))
    }
}

/// The non-finite float a string of the module table stands for, bit for bit; `None` for any
/// other string.
pub fn parse_nonfinite(s: &str) -> Option<f64> {
    match s {
        "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        "-NaN" => Some(-f64::NAN),
        _ => {
            let hex = s.strip_prefix("NaN:0x")?;
            if hex.len() != 16 {
                return None;
            }
            let v = f64::from_bits(u64::from_str_radix(hex, 16).ok()?);
            v.is_nan().then_some(v)
        }
    }
}

/// `v` as a JSON value, non-finite floats as strings.
pub fn to_value<T: Serialize + ?Sized>(v: &T) -> serde_json::Result<Value> {
    v.serialize(Lossless(serde_json::value::Serializer))
}

/// `v` as compact JSON text, non-finite floats as strings.
pub fn to_vec<T: Serialize + ?Sized>(v: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    v.serialize(Lossless(&mut serde_json::Serializer::new(&mut out)))?;
    Ok(out)
}

/// A value of type `T` from `v`, reading the strings of non-finite floats where `T` has floats.
pub fn from_value<T: DeserializeOwned>(v: Value) -> serde_json::Result<T> {
    T::deserialize(ValueDe(v))
}

/// A value of type `T` from JSON text written by [`to_vec`] (or any JSON).
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    from_value(serde_json::from_slice(bytes)?)
}

/// A serializer that writes non-finite floats as strings and passes everything else on.
struct Lossless<S>(S);

/// A value serialized through [`Lossless`].
struct Wrap<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Wrap<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Lossless(s))
    }
}

macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $name(self, $($arg: $ty),*) -> Result<S::Ok, S::Error> {
            self.0.$name($($arg),*)
        })*
    };
}

impl<S: Serializer> Serializer for Lossless<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Lossless<S::SerializeSeq>;
    type SerializeTuple = Lossless<S::SerializeTuple>;
    type SerializeTupleStruct = Lossless<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Lossless<S::SerializeTupleVariant>;
    type SerializeMap = Lossless<S::SerializeMap>;
    type SerializeStruct = Lossless<S::SerializeStruct>;
    type SerializeStructVariant = Lossless<S::SerializeStructVariant>;

    forward! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        match nonfinite_name(f64::from(v)) {
            Some(name) => self.0.serialize_str(&name),
            None => self.0.serialize_f32(v),
        }
    }

    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        match nonfinite_name(v) {
            Some(name) => self.0.serialize_str(&name),
            None => self.0.serialize_f64(v),
        }
    }

    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Wrap(v))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Wrap(v))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Wrap(v))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Lossless)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Lossless)
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Lossless)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(Lossless)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(Lossless)
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(Lossless)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(Lossless)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// The compound serializers: each element goes through [`Lossless`] too.
macro_rules! compound {
    ($($trait:ident::$method:ident($($key:ident: $kty:ty),*);)*) => {
        $(impl<C: $trait> $trait for Lossless<C> {
            type Ok = C::Ok;
            type Error = C::Error;

            fn $method<T: Serialize + ?Sized>(
                &mut self,
                $($key: $kty,)*
                v: &T,
            ) -> Result<(), C::Error> {
                self.0.$method($($key,)* &Wrap(v))
            }

            fn end(self) -> Result<C::Ok, C::Error> {
                self.0.end()
            }
        })*
    };
}

compound! {
    SerializeSeq::serialize_element();
    SerializeTuple::serialize_element();
    SerializeTupleStruct::serialize_field();
    SerializeTupleVariant::serialize_field();
    SerializeStruct::serialize_field(key: &'static str);
    SerializeStructVariant::serialize_field(key: &'static str);
}

impl<C: SerializeMap> SerializeMap for Lossless<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), C::Error> {
        self.0.serialize_key(&Wrap(k))
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), C::Error> {
        self.0.serialize_value(&Wrap(v))
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.0.end()
    }
}

/// A deserializer over a JSON value that reads the strings of non-finite floats as floats, at
/// every depth.
struct ValueDe(Value);

impl<'de> IntoDeserializer<'de, serde_json::Error> for ValueDe {
    type Deserializer = ValueDe;

    fn into_deserializer(self) -> ValueDe {
        self
    }
}

impl ValueDe {
    fn float<'de, V: Visitor<'de>>(self, v: V) -> serde_json::Result<V::Value> {
        match &self.0 {
            Value::String(s) => match parse_nonfinite(s) {
                Some(x) => v.visit_f64(x),
                None => self.0.deserialize_f64(v),
            },
            _ => self.0.deserialize_f64(v),
        }
    }
}

impl<'de> Deserializer<'de> for ValueDe {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> serde_json::Result<V::Value> {
        match self.0 {
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.into_iter().map(ValueDe));
                let out = v.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(out)
            }
            Value::Object(m) => {
                let mut map = MapDeserializer::new(m.into_iter().map(|(k, x)| (k, ValueDe(x))));
                let out = v.visit_map(&mut map)?;
                map.end()?;
                Ok(out)
            }
            other => other.deserialize_any(v),
        }
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> serde_json::Result<V::Value> {
        self.float(v)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> serde_json::Result<V::Value> {
        self.float(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> serde_json::Result<V::Value> {
        match self.0 {
            Value::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> serde_json::Result<V::Value> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> serde_json::Result<V::Value> {
        match self.0 {
            Value::Object(m) if m.len() == 1 => {
                let (variant, value) = m.into_iter().next().expect("one entry");
                v.visit_enum(Variant(variant, ValueDe(value)))
            }
            other => other.deserialize_enum(name, variants, v),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> serde_json::Result<V::Value> {
        v.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier
    }
}

/// An externally tagged enum variant `{"name": value}`.
struct Variant(String, ValueDe);

impl<'de> EnumAccess<'de> for Variant {
    type Error = serde_json::Error;
    type Variant = ValueDe;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> serde_json::Result<(V::Value, ValueDe)> {
        let name: serde::de::value::StringDeserializer<serde_json::Error> =
            self.0.into_deserializer();
        Ok((seed.deserialize(name)?, self.1))
    }
}

impl<'de> VariantAccess<'de> for ValueDe {
    type Error = serde_json::Error;

    fn unit_variant(self) -> serde_json::Result<()> {
        <()>::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> serde_json::Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> serde_json::Result<V::Value> {
        self.deserialize_any(v)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        v: V,
    ) -> serde_json::Result<V::Value> {
        self.deserialize_any(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Serialize, Deserialize)]
    enum Shape {
        Unit,
        Scale(f64),
        Pair(f64, f32),
        Named { at: f64, name: String },
    }

    #[derive(Debug, Serialize, Deserialize)]
    struct State {
        xs: Vec<f64>,
        maybe: Option<f64>,
        none: Option<f64>,
        text: String,
        shapes: Vec<Shape>,
        by_name: BTreeMap<String, f64>,
        tuple: (f64, u64),
        nested: Vec<Vec<f64>>,
        single: f32,
    }

    fn specials() -> Vec<f64> {
        vec![
            f64::NAN,
            -f64::NAN,
            f64::from_bits(0x7ff0_0000_0000_0001), // signalling NaN payload
            f64::from_bits(0xfff8_dead_beef_0001),
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            f64::from_bits(1), // the smallest subnormal
            f64::MAX,
            f64::MIN,
            0.1,
            1.0 / 3.0,
            -2.5e-300,
            std::f64::consts::PI,
        ]
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn every_f64_round_trips_bit_for_bit_at_any_depth() {
        let xs = specials();
        let state = State {
            xs: xs.clone(),
            maybe: Some(f64::NAN),
            none: None,
            text: "NaN".into(),
            shapes: vec![
                Shape::Unit,
                Shape::Scale(f64::NEG_INFINITY),
                Shape::Pair(-f64::NAN, f32::INFINITY),
                Shape::Named {
                    at: f64::INFINITY,
                    name: "inf".into(),
                },
            ],
            by_name: xs
                .iter()
                .enumerate()
                .map(|(i, &x)| (i.to_string(), x))
                .collect(),
            tuple: (f64::NAN, u64::MAX),
            nested: vec![xs.clone(), vec![]],
            single: f32::NEG_INFINITY,
        };
        let text = to_vec(&state).unwrap();
        let parsed: Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(parsed, to_value(&state).unwrap());
        let json = String::from_utf8(text.clone()).unwrap();
        assert!(
            json.contains(r#""NaN","-NaN","NaN:0x7ff0000000000001""#),
            "{json}"
        );
        let back: State = from_slice(&text).unwrap();
        assert_eq!(bits(&back.xs), bits(&xs));
        assert_eq!(bits(&back.nested[0]), bits(&xs));
        assert_eq!(back.by_name.len(), xs.len());
        for (i, x) in xs.iter().enumerate() {
            assert_eq!(back.by_name[&i.to_string()].to_bits(), x.to_bits());
        }
        assert!(back.maybe.unwrap().is_nan() && back.none.is_none());
        assert_eq!(back.text, "NaN");
        assert_eq!(back.tuple.0.to_bits(), f64::NAN.to_bits());
        assert_eq!(back.tuple.1, u64::MAX);
        assert_eq!(back.single, f32::NEG_INFINITY);
        match &back.shapes[..] {
            [
                Shape::Unit,
                Shape::Scale(a),
                Shape::Pair(b, c),
                Shape::Named { at, name },
            ] => {
                assert_eq!(*a, f64::NEG_INFINITY);
                assert_eq!(b.to_bits(), (-f64::NAN).to_bits());
                assert_eq!(*c, f32::INFINITY);
                assert_eq!((*at, name.as_str()), (f64::INFINITY, "inf"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn finite_values_are_bit_exact_over_many_magnitudes() {
        let mut x = 0x1234_5678_9abc_def0_u64;
        let xs: Vec<f64> = (0..20_000)
            .map(|_| {
                // xorshift over all bit patterns, the non-finite ones skipped
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                f64::from_bits(x)
            })
            .filter(|v| v.is_finite())
            .collect();
        let back: Vec<f64> = from_slice(&to_vec(&xs).unwrap()).unwrap();
        assert_eq!(bits(&back), bits(&xs));
    }

    #[test]
    fn other_strings_are_not_floats() {
        for s in [
            "nan",
            "Infinity",
            "NaN:0x7ff0000000000000",
            "NaN:0x1",
            "",
            "1.5",
        ] {
            let e = from_value::<f64>(Value::String(s.into())).unwrap_err();
            assert!(e.to_string().contains("expected f64"), "{s}: {e}");
        }
        assert_eq!(parse_nonfinite("NaN:0x7ff0000000000000"), None); // that is +inf
        let e = from_value::<Vec<f64>>(serde_json::json!([1.0, null])).unwrap_err();
        assert!(e.to_string().contains("null"), "{e}");
    }
}

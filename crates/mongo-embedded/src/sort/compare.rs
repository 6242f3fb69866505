//! MongoDB's total order over BSON values.
//!
//! MongoDB compares values of different types by a fixed "type bracket" order
//! (MinKey < Null < Numbers < String < Object < Array < BinData < ObjectId <
//! Boolean < Date < Timestamp < Regex < MaxKey); numbers of every numeric type
//! share one bracket and compare numerically.

use bson::{Bson, Document};
use std::cmp::Ordering;

/// Rank of a value's type bracket in MongoDB's comparison order.
pub fn type_bracket(v: &Bson) -> u8 {
    match v {
        Bson::MinKey => 0,
        Bson::Undefined => 1,
        Bson::Null => 2,
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => 3,
        Bson::String(_) | Bson::Symbol(_) => 4,
        Bson::Document(_) => 5,
        Bson::Array(_) => 6,
        Bson::Binary(_) => 7,
        Bson::ObjectId(_) => 8,
        Bson::Boolean(_) => 9,
        Bson::DateTime(_) => 10,
        Bson::Timestamp(_) => 11,
        Bson::RegularExpression(_) => 12,
        Bson::DbPointer(_) => 13,
        Bson::JavaScriptCode(_) => 14,
        Bson::JavaScriptCodeWithScope(_) => 15,
        Bson::MaxKey => 16,
    }
}

/// A numeric value widened for comparison: exact for integers, f64 otherwise.
#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

fn as_num(v: &Bson) -> Option<Num> {
    match v {
        Bson::Int32(i) => Some(Num::Int(i64::from(*i))),
        Bson::Int64(i) => Some(Num::Int(*i)),
        Bson::Double(d) => Some(Num::Float(*d)),
        Bson::Decimal128(d) => Some(Num::Float(d.to_string().parse::<f64>().unwrap_or(f64::NAN))),
        _ => None,
    }
}

/// Numeric value as f64 (used by arithmetic and accumulators).
pub fn to_f64(v: &Bson) -> Option<f64> {
    match as_num(v)? {
        Num::Int(i) => Some(i as f64),
        Num::Float(f) => Some(f),
    }
}

fn cmp_f64(a: f64, b: f64) -> Ordering {
    // MongoDB sorts NaN below every other number and treats NaN == NaN.
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// Exact comparison of an integer with a float (no rounding of the integer),
/// so the order stays transitive: sorting relies on that.
fn cmp_int_float(x: i64, y: f64) -> Ordering {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if y.is_nan() {
        return Ordering::Greater;
    }
    if y >= TWO_63 {
        return Ordering::Less;
    }
    if y < -TWO_63 {
        return Ordering::Greater;
    }
    let t = y.trunc();
    match x.cmp(&(t as i64)) {
        Ordering::Equal if y > t => Ordering::Less,
        Ordering::Equal if y < t => Ordering::Greater,
        o => o,
    }
}

fn cmp_num(a: Num, b: Num) -> Ordering {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        (Num::Int(x), Num::Float(y)) => cmp_int_float(x, y),
        (Num::Float(x), Num::Int(y)) => cmp_int_float(y, x).reverse(),
        (Num::Float(x), Num::Float(y)) => cmp_f64(x, y),
    }
}

fn str_of(v: &Bson) -> &str {
    match v {
        Bson::String(s) | Bson::Symbol(s) => s,
        _ => "",
    }
}

/// Compares two documents field by field (type bracket, then name, then value).
pub fn cmp_docs(a: &Document, b: &Document) -> Ordering {
    let mut ia = a.iter();
    let mut ib = b.iter();
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((ka, va)), Some((kb, vb))) => {
                let o = type_bracket(va)
                    .cmp(&type_bracket(vb))
                    .then_with(|| ka.cmp(kb))
                    .then_with(|| cmp_bson(va, vb));
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

/// MongoDB's total order over two BSON values.
pub fn cmp_bson(a: &Bson, b: &Bson) -> Ordering {
    let (ta, tb) = (type_bracket(a), type_bracket(b));
    if ta != tb {
        return ta.cmp(&tb);
    }
    match (a, b) {
        (Bson::Document(x), Bson::Document(y)) => cmp_docs(x, y),
        (Bson::Array(x), Bson::Array(y)) => {
            for (ea, eb) in x.iter().zip(y.iter()) {
                let o = cmp_bson(ea, eb);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Bson::Binary(x), Bson::Binary(y)) => x
            .bytes
            .len()
            .cmp(&y.bytes.len())
            .then_with(|| u8::from(x.subtype).cmp(&u8::from(y.subtype)))
            .then_with(|| x.bytes.cmp(&y.bytes)),
        (Bson::ObjectId(x), Bson::ObjectId(y)) => x.bytes().cmp(&y.bytes()),
        (Bson::Boolean(x), Bson::Boolean(y)) => x.cmp(y),
        (Bson::DateTime(x), Bson::DateTime(y)) => x.timestamp_millis().cmp(&y.timestamp_millis()),
        (Bson::Timestamp(x), Bson::Timestamp(y)) => {
            (x.time, x.increment).cmp(&(y.time, y.increment))
        }
        (Bson::RegularExpression(x), Bson::RegularExpression(y)) => x
            .pattern
            .cmp(&y.pattern)
            .then_with(|| x.options.cmp(&y.options)),
        (Bson::JavaScriptCode(x), Bson::JavaScriptCode(y)) => x.cmp(y),
        (Bson::JavaScriptCodeWithScope(x), Bson::JavaScriptCodeWithScope(y)) => x
            .code
            .cmp(&y.code)
            .then_with(|| cmp_docs(&x.scope, &y.scope)),
        (Bson::DbPointer(_), Bson::DbPointer(_)) => Ordering::Equal,
        _ => {
            if ta == 3 {
                match (as_num(a), as_num(b)) {
                    (Some(x), Some(y)) => cmp_num(x, y),
                    _ => Ordering::Equal,
                }
            } else if ta == 4 {
                str_of(a).cmp(str_of(b))
            } else {
                Ordering::Equal
            }
        }
    }
}

/// Equality under MongoDB's comparison rules (so `1 == 1.0`).
pub fn bson_eq(a: &Bson, b: &Bson) -> bool {
    type_bracket(a) == type_bracket(b) && cmp_bson(a, b) == Ordering::Equal
}

/// A BSON value ordered by [`cmp_bson`], usable as a `BTreeMap` key.
#[derive(Debug, Clone)]
pub struct KeyValue(pub Bson);

impl PartialEq for KeyValue {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for KeyValue {}
impl PartialOrd for KeyValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for KeyValue {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_bson(&self.0, &other.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use bson::{doc, oid::ObjectId, DateTime};

    #[test]
    fn bracket_order_matches_mongodb() {
        let ordered = vec![
            Bson::MinKey,
            Bson::Null,
            Bson::Int32(-5),
            Bson::Double(2.5),
            Bson::Int64(3),
            Bson::String("a".into()),
            Bson::Document(doc! {"a": 1}),
            Bson::Array(vec![Bson::Int32(1)]),
            Bson::Binary(bson::Binary {
                subtype: bson::spec::BinarySubtype::Generic,
                bytes: vec![1],
            }),
            Bson::ObjectId(ObjectId::new()),
            Bson::Boolean(false),
            Bson::DateTime(DateTime::from_millis(0)),
            Bson::Timestamp(bson::Timestamp {
                time: 1,
                increment: 1,
            }),
            Bson::RegularExpression(bson::Regex {
                pattern: "a".into(),
                options: String::new(),
            }),
            Bson::MaxKey,
        ];
        for w in ordered.windows(2) {
            assert_eq!(
                cmp_bson(&w[0], &w[1]),
                Ordering::Less,
                "{:?} < {:?}",
                w[0],
                w[1]
            );
        }
    }

    #[test]
    fn numbers_compare_across_types() {
        assert!(bson_eq(&Bson::Int32(1), &Bson::Double(1.0)));
        assert!(bson_eq(&Bson::Int64(7), &Bson::Int32(7)));
        assert_eq!(
            cmp_bson(&Bson::Double(f64::NAN), &Bson::Int32(-100)),
            Ordering::Less
        );
        assert!(!bson_eq(&Bson::Int32(1), &Bson::String("1".into())));
        // Exact integer/float comparison keeps the order transitive.
        let big = 1i64 << 53;
        assert_eq!(
            cmp_bson(&Bson::Int64(big + 1), &Bson::Double(big as f64)),
            Ordering::Greater
        );
        assert_eq!(
            cmp_bson(&Bson::Double(2.5), &Bson::Int32(2)),
            Ordering::Greater
        );
        assert_eq!(
            cmp_bson(&Bson::Double(-2.5), &Bson::Int32(-2)),
            Ordering::Less
        );
        assert_eq!(
            cmp_bson(&Bson::Int64(i64::MAX), &Bson::Double(9.3e18)),
            Ordering::Less
        );
    }

    #[test]
    fn documents_compare_fieldwise() {
        let a = Bson::Document(doc! {"a": 1, "b": 2});
        let b = Bson::Document(doc! {"a": 1, "b": 3});
        assert_eq!(cmp_bson(&a, &b), Ordering::Less);
        assert_eq!(cmp_bson(&a, &a.clone()), Ordering::Equal);
    }
}

//! How a value changed between two readings: per tick (the delta) or per
//! second (the rate). Integers subtract exactly, whatever their width, so a
//! u64 counter near the top or an i64 going negative reads right.

use std::fmt;
use std::time::Duration;

use crate::expr::Value;

/// `now - before` of two numeric readings of one watch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Delta {
    Int(i128),
    Float(f64),
}

impl Delta {
    /// The change from `before` to `now`; `None` unless both are numbers
    /// (strings, bytes and arrays have no difference) and finite.
    pub fn between(before: &Value, now: &Value) -> Option<Delta> {
        match (float(before), float(now)) {
            (Some(a), Some(b)) => {
                let d = b - a;
                d.is_finite().then_some(Delta::Float(d))
            }
            _ => Some(Delta::Int(integer(now)? - integer(before)?)),
        }
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Delta::Int(v) => v as f64,
            Delta::Float(v) => v,
        }
    }

    /// The change per second over `elapsed`; `None` for no time at all.
    pub fn per_second(self, elapsed: Duration) -> Option<f64> {
        let secs = elapsed.as_secs_f64();
        (secs > 0.0).then(|| self.as_f64() / secs)
    }

    /// A JSON number: exact for integers that fit 64 bits.
    pub fn to_json(self) -> serde_json::Value {
        match self {
            Delta::Int(v) => i64::try_from(v)
                .map(serde_json::Value::from)
                .or_else(|_| u64::try_from(v).map(serde_json::Value::from))
                .unwrap_or_else(|_| serde_json::Value::from(v as f64)),
            Delta::Float(v) => serde_json::Value::from(v),
        }
    }
}

fn integer(v: &Value) -> Option<i128> {
    match v {
        Value::Unsigned(x) | Value::Pointer(x) => Some(i128::from(*x)),
        Value::Signed(x) => Some(i128::from(*x)),
        Value::Bool(b) => Some(i128::from(u8::from(*b))),
        Value::Char(c) => Some(i128::from(*c)),
        // A value read with its debug-info type: an `int`, an enum, a pointer.
        Value::Typed(t) => crate::expr::debug_type::integer(t),
        _ => None,
    }
}

fn float(v: &Value) -> Option<f64> {
    match v {
        Value::Float(x) => Some(*x),
        Value::Typed(crate::debuginfo::Value::Float(x)) => Some(*x),
        _ => None,
    }
}

impl fmt::Display for Delta {
    /// With its sign: `+7`, `-3`, `+0.25`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delta::Int(v) => write!(f, "{v:+}"),
            Delta::Float(v) => f.write_str(&signed_number(*v)),
        }
    }
}

/// `+12`, `-0.5`, `+1234.567`: whole numbers without a fraction, others to
/// three places without trailing zeros.
pub fn signed_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:+}")
    } else {
        let text = format!("{x:+.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        if text == "+" || text == "-" || text == "-0" || text == "+0" {
            format!("{x:+e}")
        } else {
            text.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_with_debug_info_types_have_a_change() {
        use crate::debuginfo::Value as Typed;
        let (a, b) = (
            Value::Typed(Typed::Signed(23)),
            Value::Typed(Typed::Signed(25)),
        );
        assert!(matches!(Delta::between(&a, &b), Some(Delta::Int(2))));
        let (a, b) = (
            Value::Typed(Typed::Float(1.0)),
            Value::Typed(Typed::Float(1.5)),
        );
        assert!(matches!(Delta::between(&a, &b), Some(Delta::Float(d)) if d == 0.5));
    }

    #[test]
    fn integers_subtract_exactly_across_the_whole_range() {
        let d = Delta::between(&Value::Unsigned(0), &Value::Unsigned(u64::MAX));
        assert_eq!(d, Some(Delta::Int(i128::from(u64::MAX))));
        let d = Delta::between(&Value::Unsigned(10), &Value::Unsigned(3));
        assert_eq!(d, Some(Delta::Int(-7)));
        let d = Delta::between(&Value::Signed(5), &Value::Signed(-4));
        assert_eq!(d, Some(Delta::Int(-9)));
        assert_eq!(d.map(|d| d.to_string()).as_deref(), Some("-9"));
        assert_eq!(Delta::Int(7).to_string(), "+7");
        assert_eq!(
            Delta::Int(i128::from(u64::MAX)).to_json(),
            serde_json::json!(u64::MAX)
        );
        assert_eq!(Delta::Int(-3).to_json(), serde_json::json!(-3));
    }

    #[test]
    fn floats_and_non_numbers() {
        let d = Delta::between(&Value::Float(1.0), &Value::Float(1.25));
        assert_eq!(d, Some(Delta::Float(0.25)));
        assert_eq!(d.map(|d| d.to_string()).as_deref(), Some("+0.25"));
        assert_eq!(
            Delta::between(&Value::Float(f64::INFINITY), &Value::Float(1.0)),
            None
        );
        assert_eq!(
            Delta::between(&Value::Str("a".into()), &Value::Str("b".into())),
            None
        );
        assert_eq!(
            Delta::between(&Value::Bytes(vec![1]), &Value::Unsigned(1)),
            None
        );
    }

    #[test]
    fn rate_is_per_second_and_needs_time() {
        let d = Delta::Int(30);
        assert_eq!(d.per_second(Duration::from_millis(500)), Some(60.0));
        assert_eq!(d.per_second(Duration::ZERO), None);
        assert_eq!(signed_number(60.0), "+60");
        assert_eq!(signed_number(-2.5), "-2.5");
        assert_eq!(signed_number(1.0 / 3.0), "+0.333");
        assert_eq!(signed_number(0.0001), "+1e-4");
    }
}

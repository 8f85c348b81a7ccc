//! A borrowed, lenient string for typed fast-path parsing: accepts a JSON string (borrowed when it has
//! no escapes), number or boolean; objects and arrays are skipped and read as empty, so one odd field
//! never fails a whole record.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl<'a> Text<'a> {
    /// The trimmed text, `None` when empty.
    pub(crate) fn get(&self) -> Option<&str> {
        let t = self.0.trim();
        if t.is_empty() { None } else { Some(t) }
    }
}

/// The trimmed text of an optional field.
pub(crate) fn opt<'s>(t: &'s Option<Text<'_>>) -> Option<&'s str> {
    t.as_ref().and_then(Text::get)
}

pub(crate) fn owned(t: &Option<Text<'_>>) -> Option<String> {
    opt(t).map(str::to_string)
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LenientVisitor;

        impl<'de> Visitor<'de> for LenientVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Text::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text::default())
            }
        }

        deserializer.deserialize_any(LenientVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_scalar_and_skips_containers() -> Result<(), serde_json::Error> {
        let t: Vec<Text<'_>> =
            serde_json::from_str(r#"["a", 3, true, {"x": [1]}, [1, 2], "q\"x", null]"#)?;
        let texts: Vec<Option<&str>> = t.iter().map(Text::get).collect();
        assert_eq!(
            texts,
            vec![
                Some("a"),
                Some("3"),
                Some("true"),
                None,
                None,
                Some("q\"x"),
                None
            ]
        );
        assert!(matches!(t[0].0, Cow::Borrowed(_)));
        Ok(())
    }
}

//! A borrowed, lenient string for typed fast-path parsing: accepts a JSON string (borrowed when it has
//! no escapes), number or boolean; objects and arrays are skipped and read as empty, so one odd field
//! never fails a whole record.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl<'a> Text<'a> {
    /// The text (trimmed when it was read), `None` when empty.
    pub(crate) fn get(&self) -> Option<&str> {
        if self.0.is_empty() {
            None
        } else {
            Some(&self.0)
        }
    }

    fn borrowed(v: &'a str) -> Text<'a> {
        Text(Cow::Borrowed(v.trim()))
    }

    fn owned(v: &str) -> Text<'a> {
        Text(Cow::Owned(v.trim().to_owned()))
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
                Ok(Text::borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text::owned(v))
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

/// An object field read leniently: a JSON object is read as `T`; any other JSON value is skipped and
/// read as absent, so a secondary field of an odd shape does not cost the whole record.
#[derive(Debug)]
pub(crate) struct LenientObject<T>(pub(crate) Option<T>);

impl<T> Default for LenientObject<T> {
    fn default() -> Self {
        LenientObject(None)
    }
}

/// A list field read leniently: a JSON array is read as `Vec<T>`; any other value is read as absent.
#[derive(Debug)]
pub(crate) struct LenientList<T>(pub(crate) Option<Vec<T>>);

impl<T> Default for LenientList<T> {
    fn default() -> Self {
        LenientList(None)
    }
}

macro_rules! skip_scalars {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
    };
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for LenientObject<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = LenientObject<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|t| LenientObject(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LenientObject(None))
            }
            skip_scalars!();
        }

        deserializer.deserialize_any(ObjectVisitor(std::marker::PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for LenientList<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = LenientList<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<LenientObject<T>>()? {
                    items.extend(item.0);
                }
                Ok(LenientList(Some(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(LenientList(None))
            }
            skip_scalars!();
        }

        deserializer.deserialize_any(ListVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod lenient_tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Pair {
        a: u32,
    }

    #[test]
    fn odd_shapes_read_as_absent() -> Result<(), serde_json::Error> {
        let objects: Vec<LenientObject<Pair>> =
            serde_json::from_str(r#"[{"a": 1}, "x", [1], null, 3]"#)?;
        let read: Vec<Option<u32>> = objects.iter().map(|o| o.0.as_ref().map(|p| p.a)).collect();
        assert_eq!(read, vec![Some(1), None, None, None, None]);
        let lists: Vec<LenientList<Pair>> =
            serde_json::from_str(r#"[[{"a": 1}, "junk", {"a": 2}], {"a": 1}, "x"]"#)?;
        let lens: Vec<Option<usize>> = lists.iter().map(|l| l.0.as_ref().map(Vec::len)).collect();
        assert_eq!(lens, vec![Some(2), None, None]);
        Ok(())
    }
}

//! Naming fields inside a JSON record: dotted paths and what a value may be used as.
//!
//! `--id-field meta.id` reaches into nested objects. The rules live here so that the id, the
//! text fields and the kept fields all resolve a name the same way.

use serde_json::{Map, Value};

/// A field name as configured, split once at the dots.
#[derive(Debug, Clone)]
pub(crate) struct FieldPath {
    /// The name as the user wrote it (used as is in messages, and tried first as a plain key).
    pub(crate) name: String,
    segments: Vec<String>,
}

impl FieldPath {
    pub(crate) fn new(name: &str) -> FieldPath {
        FieldPath {
            name: name.to_string(),
            segments: name.split('.').map(str::to_string).collect(),
        }
    }

    /// The value at this path, if any.
    ///
    /// A key equal to the whole name wins (so a flat key `"dc.title"` is found); otherwise the
    /// name is followed segment by segment through objects, and through arrays when a segment
    /// is an index (`authors.0`). A path through anything else is absent.
    pub(crate) fn get<'v>(&self, object: &'v Map<String, Value>) -> Option<&'v Value> {
        if let Some(value) = object.get(&self.name) {
            return Some(value);
        }
        let (first, rest) = self.segments.split_first()?;
        if rest.is_empty() {
            return None;
        }
        let mut value = object.get(first)?;
        for segment in rest {
            value = match value {
                Value::Object(map) => map.get(segment)?,
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(value)
    }

    /// Like [`FieldPath::get`], but mutable, so a string can be moved out instead of copied.
    pub(crate) fn get_mut<'v>(&self, object: &'v mut Map<String, Value>) -> Option<&'v mut Value> {
        if object.contains_key(&self.name) {
            return object.get_mut(&self.name);
        }
        let (first, rest) = self.segments.split_first()?;
        if rest.is_empty() {
            return None;
        }
        let mut value = object.get_mut(first)?;
        for segment in rest {
            value = match value {
                Value::Object(map) => map.get_mut(segment)?,
                Value::Array(items) => items.get_mut(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(value)
    }
}

/// Compiles field names, dropping repeats (a field used twice adds nothing).
pub(crate) fn paths(names: &[String]) -> Vec<FieldPath> {
    let mut out: Vec<FieldPath> = Vec::with_capacity(names.len());
    for name in names {
        if !out.iter().any(|p| &p.name == name) {
            out.push(FieldPath::new(name));
        }
    }
    out
}

/// The JSON type of `value`, as named in messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn dotted_paths() {
        let o = object(json!({
            "a": {"b": {"c": 1}},
            "x.y": "flat",
            "x": {"y": "nested"},
            "list": ["zero", {"k": "v"}],
            "s": "str"
        }));
        assert_eq!(FieldPath::new("a.b.c").get(&o), Some(&json!(1)));
        assert_eq!(FieldPath::new("x.y").get(&o), Some(&json!("flat")));
        assert_eq!(FieldPath::new("list.0").get(&o), Some(&json!("zero")));
        assert_eq!(FieldPath::new("list.1.k").get(&o), Some(&json!("v")));
        assert_eq!(FieldPath::new("list.9").get(&o), None);
        assert_eq!(FieldPath::new("s.t").get(&o), None);
        assert_eq!(FieldPath::new("a.q").get(&o), None);
        assert_eq!(FieldPath::new("missing").get(&o), None);
        let mut o = o;
        assert_eq!(
            FieldPath::new("list.1.k").get_mut(&mut o),
            Some(&mut json!("v"))
        );
        assert_eq!(
            FieldPath::new("x.y").get_mut(&mut o),
            Some(&mut json!("flat"))
        );
    }

    #[test]
    fn repeats_are_dropped() {
        let names = ["a".to_string(), "b".to_string(), "a".to_string()];
        let got: Vec<_> = paths(&names).into_iter().map(|p| p.name).collect();
        assert_eq!(got, ["a", "b"]);
    }
}

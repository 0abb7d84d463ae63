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

/// The name among `present` that `wanted` was probably meant to be, for a "did you mean"
/// hint: the same name in another case or with other separators (`docId`, `doc-id`), a name
/// at most two edits away (`titel`), or one that is a whole word of the other (`id` for
/// `doc_id`). `None` when nothing is close.
pub(crate) fn suggest<'a>(wanted: &str, present: &'a [String]) -> Option<&'a str> {
    let plain = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let words = |s: &str| -> Vec<String> {
        s.split(['_', '-', '.', ' '])
            .filter(|w| w.chars().count() >= 2)
            .map(str::to_lowercase)
            .collect()
    };
    let target = plain(wanted);
    let mut best: Option<(usize, &'a str)> = None;
    for name in present.iter().filter(|n| n.as_str() != wanted) {
        let candidate = plain(name);
        let score = if candidate == target {
            0
        } else {
            let edits = edit_distance(&candidate, &target);
            let limit = if target.chars().count() >= 5 { 2 } else { 1 };
            if edits <= limit {
                edits
            } else if words(wanted).contains(&name.to_lowercase())
                || words(name).contains(&wanted.to_lowercase())
            {
                limit + 1
            } else {
                continue;
            }
        };
        if best.is_none_or(|(s, _)| score < s) {
            best = Some((score, name));
        }
    }
    best.map(|(_, name)| name)
}

/// The Levenshtein distance between two strings, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(x != y))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// `names` as a list for messages: `a`, `b`, `c` (the first `MAX` of them, then how many
/// more).
pub(crate) fn list(names: &[String]) -> String {
    const MAX: usize = 20;
    let mut out = names
        .iter()
        .take(MAX)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > MAX {
        out.push_str(&format!(" and {} more", names.len() - MAX));
    }
    if names.is_empty() {
        out.push_str("none");
    }
    out
}

/// Why a configured field was not found, for a message: the fields that `what` holds and,
/// when one is close to a wanted name, a "did you mean".
pub(crate) fn missing(wanted: &[String], present: &[String], what: &str) -> String {
    let mut out = format!("{what} has {}", list(present));
    let hints: Vec<String> = wanted
        .iter()
        .filter_map(|w| suggest(w, present).map(|s| format!("`{s}` for `{w}`")))
        .collect();
    if !hints.is_empty() {
        out.push_str(&format!("; did you mean {}?", hints.join(", ")));
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
    fn close_names_are_suggested() {
        let present: Vec<String> = ["id", "title", "body_text", "Date"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(suggest("doc_id", &present), Some("id"));
        assert_eq!(suggest("titel", &present), Some("title"));
        assert_eq!(suggest("bodyText", &present), Some("body_text"));
        assert_eq!(suggest("date", &present), Some("Date"));
        assert_eq!(suggest("body", &present), Some("body_text"));
        assert_eq!(suggest("url", &present), None);
        assert_eq!(suggest("id", &present), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(
            missing(&["doc_id".into()], &present, "the first record"),
            "the first record has `id`, `title`, `body_text`, `Date`; did you mean `id` for \
             `doc_id`?"
        );
    }

    #[test]
    fn repeats_are_dropped() {
        let names = ["a".to_string(), "b".to_string(), "a".to_string()];
        let got: Vec<_> = paths(&names).into_iter().map(|p| p.name).collect();
        assert_eq!(got, ["a", "b"]);
    }
}

//! Dotted-path resolution with MongoDB's implicit array traversal.

use bson::{Bson, Document};

/// Collects every value reachable at `path` (dot separated) from `doc`.
///
/// Arrays met on the way are traversed: a non-numeric component looks inside
/// every embedded document of the array, a numeric one also selects by index.
/// Arrays at the end of the path are returned whole (callers decide whether
/// to look at their elements).
pub fn values_at<'a>(doc: &'a Document, path: &str) -> Vec<&'a Bson> {
    let mut out = Vec::new();
    let (first, rest) = split(path);
    if let Some(v) = doc.get(first) {
        collect(v, rest, &mut out);
    }
    out
}

/// Splits off the first path component; `None` rest means "end of path".
fn split(path: &str) -> (&str, Option<&str>) {
    match path.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (path, None),
    }
}

fn collect<'a>(v: &'a Bson, rest: Option<&str>, out: &mut Vec<&'a Bson>) {
    let Some(path) = rest else {
        out.push(v);
        return;
    };
    let (first, rest) = split(path);
    match v {
        Bson::Document(d) => {
            if let Some(x) = d.get(first) {
                collect(x, rest, out);
            }
        }
        Bson::Array(arr) => {
            if let Ok(i) = first.parse::<usize>() {
                if let Some(x) = arr.get(i) {
                    collect(x, rest, out);
                }
            }
            for el in arr {
                if let Bson::Document(d) = el {
                    if let Some(x) = d.get(first) {
                        collect(x, rest, out);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Returns the single value at `path` without array traversal (numeric
/// components index arrays), as used by projection and updates.
pub fn get_path<'a>(doc: &'a Document, path: &str) -> Option<&'a Bson> {
    let mut parts = path.split('.');
    let mut cur = doc.get(parts.next()?)?;
    for p in parts {
        cur = match cur {
            Bson::Document(d) => d.get(p)?,
            Bson::Array(a) => a.get(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use bson::doc;

    #[test]
    fn traverses_arrays_of_documents() {
        let d = doc! {"a": [{"b": 1}, {"b": [2, 3]}, {"c": 4}]};
        let v = values_at(&d, "a.b");
        assert_eq!(v.len(), 2);
        assert_eq!(values_at(&d, "a.1.b").len(), 1);
        assert_eq!(get_path(&d, "a.2.c"), Some(&Bson::Int32(4)));
    }
}

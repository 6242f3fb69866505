//! Index key generation for (compound) multikey indexes, as MongoDB does it.
//!
//! Each indexed path is walked through the document. Paths that reach the *same* array are
//! expanded together, element by element — `{identities: [{p: "g", s: 1}, {p: "h", s: 2}]}`
//! under `{"identities.p": 1, "identities.s": 1}` yields the keys `("g", 1)` and `("h", 2)`,
//! never the cross product. Paths that reach two *different* arrays are "parallel arrays",
//! which MongoDB refuses to index (code 171).

use bson::Bson;

/// Two indexed paths reach different arrays: the two paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParallelArrays(pub String, pub String);

/// Where walking a path stopped.
enum Walk<'a> {
    /// At a value (`None` when the path is missing).
    Value(Option<&'a Bson>),
    /// At an array, after `depth` segments of the path.
    Array { depth: usize, array: &'a [Bson] },
}

fn walk<'a>(start: &'a Bson, segments: &[&str]) -> Walk<'a> {
    let mut current = start;
    for (depth, segment) in segments.iter().enumerate() {
        match current {
            Bson::Document(doc) => match doc.get(*segment) {
                Some(next) => current = next,
                None => return Walk::Value(None),
            },
            Bson::Array(items) => match segment.parse::<usize>() {
                // A positional segment ("a.0.b") selects one element.
                Ok(i) => match items.get(i) {
                    Some(next) => current = next,
                    None => return Walk::Value(None),
                },
                Err(_) => {
                    return Walk::Array {
                        depth,
                        array: items,
                    }
                }
            },
            _ => return Walk::Value(None),
        }
    }
    match current {
        Bson::Array(items) => Walk::Array {
            depth: segments.len(),
            array: items,
        },
        value => Walk::Value(Some(value)),
    }
}

/// The key tuples of `value` for `paths` (each split into segments), in path order.
/// A missing field is `Null`; an empty array is `Undefined`, as in MongoDB's keys.
///
/// # Errors
/// [`ParallelArrays`] when two paths reach different arrays.
pub fn key_tuples(value: &Bson, paths: &[Vec<&str>]) -> Result<Vec<Vec<Bson>>, ParallelArrays> {
    let walks: Vec<Walk<'_>> = paths.iter().map(|p| walk(value, p)).collect();
    // The array every array-reaching path must share.
    let mut shared: Option<(usize, &[Bson], usize)> = None;
    for (i, w) in walks.iter().enumerate() {
        if let Walk::Array { depth, array } = w {
            match shared {
                None => shared = Some((*depth, array, i)),
                Some((d, a, first)) => {
                    if d != *depth || !std::ptr::eq(a, *array) {
                        return Err(ParallelArrays(paths[first].join("."), paths[i].join(".")));
                    }
                }
            }
        }
    }
    let Some((depth, array, _)) = shared else {
        return Ok(vec![walks
            .iter()
            .map(|w| match w {
                Walk::Value(Some(v)) => (*v).clone(),
                _ => Bson::Null,
            })
            .collect()]);
    };

    let in_array: Vec<usize> = (0..paths.len())
        .filter(|i| matches!(walks[*i], Walk::Array { .. }))
        .collect();
    let fixed = |i: usize| match &walks[i] {
        Walk::Value(Some(v)) => (*v).clone(),
        _ => Bson::Null,
    };
    let assemble = |inner: &[Bson]| -> Vec<Bson> {
        let mut tuple: Vec<Bson> = (0..paths.len()).map(fixed).collect();
        for (slot, path) in inner.iter().zip(&in_array) {
            tuple[*path] = slot.clone();
        }
        tuple
    };

    if array.is_empty() {
        // Paths ending at the empty array index `undefined`; deeper paths find nothing.
        let inner: Vec<Bson> = in_array
            .iter()
            .map(|i| {
                if paths[*i].len() == depth {
                    Bson::Undefined
                } else {
                    Bson::Null
                }
            })
            .collect();
        return Ok(vec![assemble(&inner)]);
    }

    let mut tuples = Vec::new();
    for element in array {
        // Paths ending at the array take the element itself; the others continue inside it.
        let deeper: Vec<usize> = in_array
            .iter()
            .copied()
            .filter(|i| paths[*i].len() > depth)
            .collect();
        let sub_paths: Vec<Vec<&str>> =
            deeper.iter().map(|i| paths[*i][depth..].to_vec()).collect();
        let sub_tuples = if sub_paths.is_empty() {
            vec![Vec::new()]
        } else {
            key_tuples(element, &sub_paths)?
        };
        for sub in sub_tuples {
            let inner: Vec<Bson> = in_array
                .iter()
                .map(|i| match deeper.iter().position(|d| d == i) {
                    Some(k) => sub[k].clone(),
                    None => element.clone(),
                })
                .collect();
            tuples.push(assemble(&inner));
        }
    }
    Ok(tuples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::{bson, doc};

    fn keys(value: Bson, paths: &[&str]) -> Result<Vec<Vec<Bson>>, ParallelArrays> {
        let split: Vec<Vec<&str>> = paths.iter().map(|p| p.split('.').collect()).collect();
        key_tuples(&value, &split)
    }

    #[test]
    fn paths_under_one_array_expand_together() {
        let user = bson!({ "identities": [
            { "provider": "google", "subject": "42" },
            { "provider": "github", "subject": "43" },
        ]});
        let got = keys(user, &["identities.provider", "identities.subject"]).unwrap();
        assert_eq!(
            got,
            vec![
                vec![bson!("google"), bson!("42")],
                vec![bson!("github"), bson!("43")],
            ]
        );
    }

    #[test]
    fn scalar_fields_combine_with_each_array_element() {
        let got = keys(bson!({ "a": 1, "tags": ["x", "y"] }), &["a", "tags"]).unwrap();
        assert_eq!(
            got,
            vec![vec![bson!(1), bson!("x")], vec![bson!(1), bson!("y")]]
        );
    }

    #[test]
    fn two_different_arrays_are_parallel() {
        let err = keys(bson!({ "a": [1, 2], "b": [3] }), &["a", "b"]).unwrap_err();
        assert_eq!(err, ParallelArrays("a".into(), "b".into()));
    }

    #[test]
    fn missing_and_empty_values() {
        assert_eq!(
            keys(bson!({ "x": 1 }), &["a"]).unwrap(),
            vec![vec![Bson::Null]]
        );
        assert_eq!(
            keys(bson!({ "a": [] }), &["a"]).unwrap(),
            vec![vec![Bson::Undefined]]
        );
        assert_eq!(
            keys(bson!({ "a": [] }), &["a.b", "c"]).unwrap(),
            vec![vec![Bson::Null, Bson::Null]]
        );
        let element_without_field = keys(Bson::Document(doc! { "a": [{ "b": 1 }, {}] }), &["a.b"]);
        assert_eq!(
            element_without_field.unwrap(),
            vec![vec![bson!(1)], vec![Bson::Null]]
        );
    }

    #[test]
    fn positional_segments_select_one_element() {
        let got = keys(bson!({ "a": [{ "b": 1 }, { "b": 2 }] }), &["a.1.b"]).unwrap();
        assert_eq!(got, vec![vec![bson!(2)]]);
    }
}

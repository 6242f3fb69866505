//! Reading, setting and unsetting dotted paths inside a document being updated.

use crate::error::{CmdError, CmdResult};
use bson::{Bson, Document};

pub(super) fn id_repr(doc: &Document) -> String {
    doc.get("_id").map(|v| v.to_string()).unwrap_or_default()
}

pub(super) fn get_mut<'a>(doc: &'a mut Document, path: &str) -> Option<&'a mut Bson> {
    let mut parts = path.split('.');
    let mut cur = doc.get_mut(parts.next()?)?;
    for p in parts {
        cur = match cur {
            Bson::Document(d) => d.get_mut(p)?,
            Bson::Array(a) => a.get_mut(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn not_viable(part: &str, parent: &str, v: &Bson) -> CmdError {
    CmdError::path_not_viable(format!(
        "Cannot create field '{part}' in element {{{parent}: {v}}}"
    ))
}

/// Sets `path` to `v`, creating intermediate documents (and padding arrays with null).
pub fn set_path(doc: &mut Document, path: &str, v: Bson) -> CmdResult<()> {
    let parts: Vec<&str> = path.split('.').collect();
    set_in_doc(doc, &parts, v)
}

fn set_in_doc(doc: &mut Document, parts: &[&str], v: Bson) -> CmdResult<()> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(());
    };
    if rest.is_empty() {
        doc.insert(*first, v);
        return Ok(());
    }
    if !doc.contains_key(*first) {
        doc.insert(*first, Document::new());
    }
    match doc.get_mut(*first) {
        Some(Bson::Document(d)) => set_in_doc(d, rest, v),
        Some(Bson::Array(a)) => set_in_array(a, first, rest, v),
        Some(other) => Err(not_viable(rest[0], first, other)),
        None => Ok(()),
    }
}

fn set_in_array(a: &mut Vec<Bson>, name: &str, parts: &[&str], v: Bson) -> CmdResult<()> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(());
    };
    let Ok(idx) = first.parse::<usize>() else {
        return Err(not_viable(first, name, &Bson::Array(a.clone())));
    };
    if idx > 1_500_000 {
        return Err(CmdError::failed_to_parse(
            "can't backfill array to larger than 1500000 elements",
        ));
    }
    while a.len() <= idx {
        a.push(Bson::Null);
    }
    if rest.is_empty() {
        a[idx] = v;
        return Ok(());
    }
    if matches!(a[idx], Bson::Null) {
        a[idx] = Bson::Document(Document::new());
    }
    match &mut a[idx] {
        Bson::Document(d) => set_in_doc(d, rest, v),
        Bson::Array(inner) => set_in_array(inner, first, rest, v),
        other => Err(not_viable(rest[0], first, other)),
    }
}

pub(super) fn unset_path(doc: &mut Document, path: &str) {
    match path.rsplit_once('.') {
        None => {
            doc.remove(path);
        }
        Some((parent, last)) => match get_mut(doc, parent) {
            Some(Bson::Document(d)) => {
                d.remove(last);
            }
            Some(Bson::Array(a)) => {
                // MongoDB keeps array positions stable: unset sets the slot to null.
                if let Some(slot) = last.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                    *slot = Bson::Null;
                }
            }
            _ => {}
        },
    }
}

//! Positional update paths: `a.$.b` (the first array element the query
//! matched) and `a.$[].b` (every element). `$[<identifier>]` needs
//! `arrayFilters`, which this server rejects.

use super::paths::set_path;
use crate::error::{CmdError, CmdResult};
use crate::path::get_path;
use crate::query::matcher::Filter;
use bson::{Bson, Document};

/// True when `path` has a positional component.
pub fn is_positional(path: &str) -> bool {
    path.split('.').any(|p| p == "$" || p == "$[]")
}

fn not_found() -> CmdError {
    CmdError::bad_value("The positional operator did not find the match needed from the query.")
}

/// Index of the first element of the array at `prefix` for which the query
/// matches when that element is the array's only element.
fn first_matching_index(doc: &Document, prefix: &str, filter: &Filter) -> CmdResult<usize> {
    let mentions = filter
        .paths()
        .iter()
        .any(|p| *p == prefix || p.starts_with(&format!("{prefix}.")));
    if !mentions {
        return Err(not_found());
    }
    let Some(Bson::Array(arr)) = get_path(doc, prefix) else {
        return Err(not_found());
    };
    for (i, el) in arr.iter().enumerate() {
        let mut probe = doc.clone();
        set_path(&mut probe, prefix, Bson::Array(vec![el.clone()]))?;
        if filter.matches(&probe) {
            return Ok(i);
        }
    }
    Err(not_found())
}

/// Expands a positional path into the concrete paths it designates in `doc`.
pub fn resolve(doc: &Document, path: &str, filter: Option<&Filter>) -> CmdResult<Vec<String>> {
    let mut out = vec![String::new()];
    for part in path.split('.') {
        let mut next = Vec::new();
        for prefix in out {
            let join = |p: &str| {
                if prefix.is_empty() {
                    p.to_string()
                } else {
                    format!("{prefix}.{p}")
                }
            };
            match part {
                "$" => {
                    let f = filter.ok_or_else(not_found)?;
                    let i = first_matching_index(doc, &prefix, f)?;
                    next.push(join(&i.to_string()));
                }
                "$[]" => match get_path(doc, &prefix) {
                    Some(Bson::Array(arr)) => next.extend((0..arr.len()).map(|i| join(&i.to_string()))),
                    _ => {
                        return Err(CmdError::bad_value(format!(
                            "The path '{prefix}' must exist in the document in order to apply array updates."
                        )))
                    }
                },
                p if p.starts_with("$[") => {
                    return Err(CmdError::bad_value(format!(
                        "mongo-embedded does not support filtered positional updates ('{path}'): arrayFilters are not implemented"
                    )))
                }
                p => next.push(join(p)),
            }
        }
        out = next;
    }
    Ok(out)
}

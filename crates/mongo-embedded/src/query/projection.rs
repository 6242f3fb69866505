//! Find projections: inclusion or exclusion of (dotted) fields, `_id` rules.

use crate::error::{CmdError, CmdResult};
use bson::{Bson, Document};

/// A parsed projection.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    include: bool,
    paths: Vec<String>,
    include_id: bool,
    empty: bool,
}

fn truthy(v: &Bson) -> Option<bool> {
    match v {
        Bson::Boolean(b) => Some(*b),
        Bson::Int32(i) => Some(*i != 0),
        Bson::Int64(i) => Some(*i != 0),
        Bson::Double(d) => Some(*d != 0.0),
        _ => None,
    }
}

impl Projection {
    /// Parses a projection document such as `{a: 1, "b.c": 1, _id: 0}`.
    pub fn parse(spec: &Document) -> CmdResult<Projection> {
        let mut p = Projection {
            include: false,
            paths: Vec::new(),
            include_id: true,
            empty: spec.is_empty(),
        };
        let mut mode: Option<bool> = None;
        for (k, v) in spec {
            let Some(on) = truthy(v) else {
                return Err(CmdError::bad_value(format!(
                    "mongo-embedded supports only 0/1/true/false projections, got {k}: {v}"
                )));
            };
            if k.starts_with('$') || k.contains(".$") {
                return Err(CmdError::bad_value(format!(
                    "positional/operator projection '{k}' is not supported"
                )));
            }
            if k == "_id" {
                p.include_id = on;
                continue;
            }
            match mode {
                Some(m) if m != on => {
                    let msg = if m {
                        format!("Cannot do exclusion on field {k} in inclusion projection")
                    } else {
                        format!("Cannot do inclusion on field {k} in exclusion projection")
                    };
                    return Err(CmdError::new(31254, "Location31254", msg));
                }
                _ => mode = Some(on),
            }
            p.paths.push(k.clone());
        }
        // `{_id: 1}` alone is an inclusion projection; `{_id: 0}` alone excludes.
        p.include = mode.unwrap_or(p.include_id && !spec.is_empty());
        Ok(p)
    }

    /// Applies the projection to a document.
    pub fn apply(&self, doc: &Document) -> Document {
        if self.empty {
            return doc.clone();
        }
        if self.include {
            let mut out = Document::new();
            if self.include_id {
                if let Some(id) = doc.get("_id") {
                    out.insert("_id", id.clone());
                }
            }
            for (k, v) in doc {
                if k == "_id" {
                    continue;
                }
                let subs: Vec<&str> = self
                    .paths
                    .iter()
                    .filter_map(|p| {
                        if p == k {
                            Some("")
                        } else {
                            p.strip_prefix(k.as_str())?.strip_prefix('.')
                        }
                    })
                    .collect();
                if subs.is_empty() {
                    continue;
                }
                if subs.contains(&"") {
                    out.insert(k.clone(), v.clone());
                } else if let Some(pv) = include_sub(v, &subs) {
                    out.insert(k.clone(), pv);
                }
            }
            out
        } else {
            let mut out = doc.clone();
            if !self.include_id {
                out.remove("_id");
            }
            for p in &self.paths {
                exclude(&mut out, p);
            }
            out
        }
    }
}

fn include_sub(v: &Bson, subs: &[&str]) -> Option<Bson> {
    match v {
        Bson::Document(d) => {
            let mut out = Document::new();
            for (k, cv) in d {
                let inner: Vec<&str> = subs
                    .iter()
                    .filter_map(|p| {
                        if *p == k {
                            Some("")
                        } else {
                            p.strip_prefix(k.as_str())?.strip_prefix('.')
                        }
                    })
                    .collect();
                if inner.is_empty() {
                    continue;
                }
                if inner.contains(&"") {
                    out.insert(k.clone(), cv.clone());
                } else if let Some(x) = include_sub(cv, &inner) {
                    out.insert(k.clone(), x);
                }
            }
            Some(Bson::Document(out))
        }
        Bson::Array(a) => Some(Bson::Array(
            a.iter()
                .filter(|e| matches!(e, Bson::Document(_) | Bson::Array(_)))
                .filter_map(|e| include_sub(e, subs))
                .collect(),
        )),
        _ => None,
    }
}

fn exclude(doc: &mut Document, path: &str) {
    match path.split_once('.') {
        None => {
            doc.remove(path);
        }
        Some((head, rest)) => match doc.get_mut(head) {
            Some(Bson::Document(d)) => exclude(d, rest),
            Some(Bson::Array(a)) => {
                for e in a.iter_mut() {
                    if let Bson::Document(d) = e {
                        exclude(d, rest);
                    }
                }
            }
            _ => {}
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use bson::doc;

    #[test]
    fn inclusion_and_exclusion() {
        let d = doc! {"_id": 1, "a": 1, "b": {"c": 2, "d": 3}, "e": 4};
        let p = Projection::parse(&doc! {"a": 1, "b.c": 1}).unwrap();
        assert_eq!(p.apply(&d), doc! {"_id": 1, "a": 1, "b": {"c": 2}});
        let p = Projection::parse(&doc! {"a": 1, "_id": 0}).unwrap();
        assert_eq!(p.apply(&d), doc! {"a": 1});
        let p = Projection::parse(&doc! {"b.d": 0, "e": 0}).unwrap();
        assert_eq!(p.apply(&d), doc! {"_id": 1, "a": 1, "b": {"c": 2}});
        let p = Projection::parse(&doc! {"_id": 0}).unwrap();
        assert_eq!(p.apply(&d), doc! {"a": 1, "b": {"c": 2, "d": 3}, "e": 4});
        assert_eq!(
            Projection::parse(&doc! {"a": 1, "b": 0}).unwrap_err().code,
            31254
        );
    }
}

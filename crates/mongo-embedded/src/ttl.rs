//! TTL monitor: deletes documents whose indexed date plus `expireAfterSeconds`
//! lies in the past (for arrays, the earliest date counts; non-dates never expire).

use crate::error::Error;
use crate::state::Shared;
use bson::{Bson, DateTime};

/// Runs one TTL pass as of `now`; returns the number of documents removed.
pub async fn pass(shared: &Shared, now: DateTime) -> Result<u64, Error> {
    let (removed, ticket) = shared.store.write(|cat, log| {
        let mut work = Vec::new();
        for (db, colls) in &cat.dbs {
            for (name, c) in colls {
                for ix in &c.indexes {
                    let Some(secs) = ix.spec.expire_after else { continue };
                    let cutoff = now.timestamp_millis().saturating_sub(secs.saturating_mul(1000));
                    // Index keys hold every array element, so "any element
                    // expired" is exactly "the earliest date expired".
                    let mut rids: Vec<u64> = ix
                        .entries
                        .iter()
                        .filter(|(k, _)| matches!(k.first().map(|kv| &kv.0), Some(Bson::DateTime(d)) if d.timestamp_millis() <= cutoff))
                        .flat_map(|(_, s)| s.iter().copied())
                        .collect();
                    rids.sort_unstable();
                    rids.dedup();
                    work.push((db.clone(), name.clone(), rids));
                }
            }
        }
        let mut removed = 0u64;
        for (db, coll, rids) in work {
            for rid in rids {
                if cat.delete(&db, &coll, rid, log).is_some() {
                    removed += 1;
                }
            }
        }
        removed
    })?;
    shared.store.durable(ticket).await?;
    if removed > 0 {
        tracing::debug!(removed, "TTL pass removed documents");
    }
    Ok(removed)
}

//! The MongoDB side of read coalescing: one `find` answering many reads by `_id`.

use futures_util::TryStreamExt as _;
use mongodb::{
    bson::{Bson, Document},
    Collection,
};

use super::is_unavailable;
use crate::coalesce::QueryFailed;

/// The documents of `collection` with one of these `_id`s that also match `filter`, in one
/// `find` (equality for a single id, `$in` for several; duplicates are sent once).
pub(crate) async fn find_by_ids(
    collection: &Collection<Document>,
    ids: impl IntoIterator<Item = Bson>,
    filter: Document,
) -> mongodb::error::Result<Vec<Document>> {
    let mut distinct: Vec<Bson> = Vec::new();
    for id in ids {
        if !distinct.contains(&id) {
            distinct.push(id);
        }
    }
    let id = match <[Bson; 1]>::try_from(distinct) {
        Ok([one]) => one,
        Err(many) => Bson::Document(mongodb::bson::doc! {"$in": many}),
    };
    let mut query = mongodb::bson::doc! {"_id": id};
    query.extend(filter);
    collection.find(query).await?.try_collect().await
}

/// A failed batched query, classified as [`repo_error`](super::errors::repo_error) does for
/// reads.
pub(crate) fn query_failed(err: mongodb::error::Error) -> QueryFailed {
    QueryFailed::new(is_unavailable(&err), err)
}

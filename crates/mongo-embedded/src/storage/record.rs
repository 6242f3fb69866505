//! On-disk record framing shared by the journal and snapshots:
//! `u32 length | u32 CRC-32C | BSON bytes` (little endian).

use bson::Document;

/// Largest record accepted when reading (a document plus its wrapper).
const MAX_RECORD: usize = 17 * 1024 * 1024;

/// Appends one framed record to `out`.
pub fn encode(doc: &Document, out: &mut Vec<u8>) -> Result<(), bson::ser::Error> {
    let bytes = bson::to_vec(doc)?;
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(&bytes).to_le_bytes());
    out.extend_from_slice(&bytes);
    Ok(())
}

/// Decodes records from `data`. Stops at the first torn or corrupt record and
/// reports whether the whole input was consumed cleanly.
pub fn decode_all(data: &[u8]) -> (Vec<Document>, bool) {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let Some(head) = data.get(pos..pos + 8) else {
            return (out, false);
        };
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if len > MAX_RECORD {
            return (out, false);
        }
        let Some(body) = data.get(pos + 8..pos + 8 + len) else {
            return (out, false);
        };
        if crc32c::crc32c(body) != crc {
            return (out, false);
        }
        match bson::from_slice::<Document>(body) {
            Ok(d) => out.push(d),
            Err(_) => return (out, false),
        }
        pos += 8 + len;
    }
    (out, true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use bson::doc;

    #[test]
    fn torn_tail_is_discarded() {
        let mut buf = Vec::new();
        encode(&doc! {"a": 1}, &mut buf).unwrap();
        encode(&doc! {"b": 2}, &mut buf).unwrap();
        let full = buf.len();
        let (all, clean) = decode_all(&buf);
        assert_eq!(all.len(), 2);
        assert!(clean);
        let (some, clean) = decode_all(&buf[..full - 3]);
        assert_eq!(some, vec![doc! {"a": 1}]);
        assert!(!clean);
        let last = buf.len() - 2;
        buf[last] ^= 0xff;
        assert_eq!(decode_all(&buf).0.len(), 1);
    }
}

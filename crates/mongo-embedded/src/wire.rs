//! MongoDB wire protocol: message framing, OP_MSG, legacy OP_QUERY and OP_REPLY.
//!
//! Every length read from the network is checked against MongoDB's limits
//! before anything is allocated from it.

use bson::{Bson, Document};

/// `maxBsonObjectSize`: 16 MiB.
pub const MAX_BSON_OBJECT_SIZE: usize = 16 * 1024 * 1024;
/// `maxMessageSizeBytes`.
pub const MAX_MESSAGE_SIZE: usize = 48_000_000;
/// `maxWriteBatchSize`.
pub const MAX_WRITE_BATCH_SIZE: usize = 100_000;
/// OP_REPLY opcode.
pub const OP_REPLY: i32 = 1;
/// OP_QUERY opcode.
pub const OP_QUERY: i32 = 2004;
/// OP_MSG opcode.
pub const OP_MSG: i32 = 2013;
const HEADER_LEN: usize = 16;
const FLAG_CHECKSUM: u32 = 1;
const FLAG_MORE_TO_COME: u32 = 1 << 1;
const FLAG_EXHAUST_ALLOWED: u32 = 1 << 16;

/// Why a message could not be parsed. The connection is closed on any of these.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WireError {
    /// Length field smaller than a header or larger than the maximum.
    #[error("invalid message length {0}")]
    BadLength(i64),
    /// The message ended early.
    #[error("truncated message")]
    Truncated,
    /// An opcode this server does not speak.
    #[error("unsupported opcode {0}")]
    UnknownOpcode(i32),
    /// Malformed content.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The CRC-32C trailer did not match.
    #[error("checksum mismatch")]
    Checksum,
}

/// The 16-byte message header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Header {
    /// Total message length including the header.
    pub length: usize,
    /// Sender's request id.
    pub request_id: i32,
    /// Request this message answers.
    pub response_to: i32,
    /// Opcode.
    pub op_code: i32,
}

/// A parsed client request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// OP_MSG: the command with document sequences merged in.
    Msg {
        /// Command document.
        command: Document,
        /// Client set moreToCome: send no reply.
        more_to_come: bool,
    },
    /// Legacy OP_QUERY against `<db>.$cmd` (or anything else, rejected later).
    Query {
        /// Full collection name, e.g. `admin.$cmd`.
        namespace: String,
        /// The query document (unwrapped from `$query` if present).
        query: Document,
    },
}

fn le_i32(b: &[u8], at: usize) -> Result<i32, WireError> {
    let s = b.get(at..at + 4).ok_or(WireError::Truncated)?;
    Ok(i32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Parses and validates a header from its 16 bytes.
pub fn parse_header(b: &[u8]) -> Result<Header, WireError> {
    if b.len() < HEADER_LEN {
        return Err(WireError::Truncated);
    }
    let len = le_i32(b, 0)?;
    if len < HEADER_LEN as i32 || len as usize > MAX_MESSAGE_SIZE {
        return Err(WireError::BadLength(i64::from(len)));
    }
    Ok(Header {
        length: len as usize,
        request_id: le_i32(b, 4)?,
        response_to: le_i32(b, 8)?,
        op_code: le_i32(b, 12)?,
    })
}

/// Reads one BSON document at the start of `b`, returning it and its length.
fn read_doc(b: &[u8]) -> Result<(Document, usize), WireError> {
    let len = le_i32(b, 0)?;
    if len < 5 || len as usize > MAX_BSON_OBJECT_SIZE + 16 * 1024 {
        return Err(WireError::Malformed(format!("invalid BSON length {len}")));
    }
    let len = len as usize;
    let bytes = b.get(..len).ok_or(WireError::Truncated)?;
    crate::bson_check::check(bytes).map_err(WireError::Malformed)?;
    let doc = bson::from_slice::<Document>(bytes)
        .map_err(|e| WireError::Malformed(format!("invalid BSON: {e}")))?;
    Ok((doc, len))
}

fn read_cstring(b: &[u8]) -> Result<(String, usize), WireError> {
    let end = b.iter().position(|c| *c == 0).ok_or(WireError::Truncated)?;
    let s = std::str::from_utf8(&b[..end])
        .map_err(|_| WireError::Malformed("invalid UTF-8 in cstring".into()))?;
    Ok((s.to_string(), end + 1))
}

/// Parses a complete message (header included). Public so fuzzers can call it.
pub fn parse_message(msg: &[u8]) -> Result<(Header, Request), WireError> {
    let header = parse_header(msg)?;
    if msg.len() != header.length {
        return Err(WireError::Truncated);
    }
    let body = &msg[HEADER_LEN..];
    let req = match header.op_code {
        OP_MSG => parse_op_msg(msg, body)?,
        OP_QUERY => parse_op_query(body)?,
        other => return Err(WireError::UnknownOpcode(other)),
    };
    Ok((header, req))
}

fn parse_op_msg(whole: &[u8], body: &[u8]) -> Result<Request, WireError> {
    let flags = le_i32(body, 0)? as u32;
    // Bits 0-15 are "required": an unknown one must make us fail.
    let known = FLAG_CHECKSUM | FLAG_MORE_TO_COME;
    if flags & 0xffff & !known != 0 {
        return Err(WireError::Malformed(format!(
            "unknown required flag bits {flags:#x}"
        )));
    }
    let _ = flags & FLAG_EXHAUST_ALLOWED;
    let mut end = body.len();
    if flags & FLAG_CHECKSUM != 0 {
        if end < 8 {
            return Err(WireError::Truncated);
        }
        end -= 4;
        let want = u32::from_le_bytes([body[end], body[end + 1], body[end + 2], body[end + 3]]);
        if crc32c::crc32c(&whole[..whole.len() - 4]) != want {
            return Err(WireError::Checksum);
        }
    }
    let mut pos = 4;
    let mut command: Option<Document> = None;
    let mut sequences: Vec<(String, Vec<Bson>)> = Vec::new();
    while pos < end {
        let kind = body[pos];
        pos += 1;
        let rest = &body[pos..end];
        match kind {
            0 => {
                if command.is_some() {
                    return Err(WireError::Malformed("more than one body section".into()));
                }
                let (d, n) = read_doc(rest)?;
                command = Some(d);
                pos += n;
            }
            1 => {
                let size = le_i32(rest, 0)?;
                if size < 5 || size as usize > rest.len() {
                    return Err(WireError::Malformed(format!(
                        "invalid document sequence size {size}"
                    )));
                }
                let size = size as usize;
                let (ident, n) = read_cstring(&rest[4..size])?;
                let mut docs = Vec::new();
                let mut p = 4 + n;
                while p < size {
                    let (d, dn) = read_doc(&rest[p..size])?;
                    docs.push(Bson::Document(d));
                    p += dn;
                }
                sequences.push((ident, docs));
                pos += size;
            }
            k => return Err(WireError::Malformed(format!("unknown section kind {k}"))),
        }
    }
    let mut command =
        command.ok_or_else(|| WireError::Malformed("OP_MSG without a body section".into()))?;
    for (ident, docs) in sequences {
        if command.contains_key(&ident) {
            return Err(WireError::Malformed(format!(
                "duplicate field {ident} in body and document sequence"
            )));
        }
        command.insert(ident, Bson::Array(docs));
    }
    Ok(Request::Msg {
        command,
        more_to_come: flags & FLAG_MORE_TO_COME != 0,
    })
}

fn parse_op_query(body: &[u8]) -> Result<Request, WireError> {
    let _flags = le_i32(body, 0)?;
    let (namespace, n) = read_cstring(body.get(4..).ok_or(WireError::Truncated)?)?;
    let pos = 4 + n + 8; // numberToSkip + numberToReturn
    let (mut query, _) = read_doc(body.get(pos..).ok_or(WireError::Truncated)?)?;
    let inner = match query.get("$query").or_else(|| query.get("query")) {
        Some(Bson::Document(inner)) => Some(inner.clone()),
        _ => None,
    };
    if let Some(q) = inner {
        query = q;
    }
    Ok(Request::Query { namespace, query })
}

fn header_bytes(out: &mut Vec<u8>, response_to: i32, request_id: i32, op_code: i32) {
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&request_id.to_le_bytes());
    out.extend_from_slice(&response_to.to_le_bytes());
    out.extend_from_slice(&op_code.to_le_bytes());
}

fn finish(mut out: Vec<u8>) -> Vec<u8> {
    let len = (out.len() as i32).to_le_bytes();
    out[..4].copy_from_slice(&len);
    out
}

/// Encodes an OP_MSG reply with a single body section.
pub fn encode_op_msg(
    response_to: i32,
    request_id: i32,
    reply: &Document,
) -> Result<Vec<u8>, bson::ser::Error> {
    let mut out = Vec::with_capacity(256);
    header_bytes(&mut out, response_to, request_id, OP_MSG);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.push(0);
    reply.to_writer(&mut out)?;
    Ok(finish(out))
}

/// Encodes an OP_REPLY with one document (legacy handshake answers).
pub fn encode_op_reply(
    response_to: i32,
    request_id: i32,
    reply: &Document,
) -> Result<Vec<u8>, bson::ser::Error> {
    let mut out = Vec::with_capacity(256);
    header_bytes(&mut out, response_to, request_id, OP_REPLY);
    out.extend_from_slice(&0i32.to_le_bytes()); // responseFlags
    out.extend_from_slice(&0i64.to_le_bytes()); // cursorID
    out.extend_from_slice(&0i32.to_le_bytes()); // startingFrom
    out.extend_from_slice(&1i32.to_le_bytes()); // numberReturned
    reply.to_writer(&mut out)?;
    Ok(finish(out))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use bson::doc;

    fn op_msg(flags: u32, sections: &[u8], checksum: bool) -> Vec<u8> {
        let mut out = Vec::new();
        header_bytes(&mut out, 0, 7, OP_MSG);
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(sections);
        if checksum {
            out.extend_from_slice(&[0; 4]);
        }
        let mut out = finish(out);
        if checksum {
            let n = out.len();
            let c = crc32c::crc32c(&out[..n - 4]);
            out[n - 4..].copy_from_slice(&c.to_le_bytes());
        }
        out
    }

    #[test]
    fn merges_document_sequences_and_checks_crc() {
        let mut s = vec![0u8];
        s.extend(bson::to_vec(&doc! {"insert": "c", "$db": "d"}).unwrap());
        let d1 = bson::to_vec(&doc! {"a": 1}).unwrap();
        s.push(1);
        let size = 4 + "documents".len() + 1 + d1.len();
        s.extend_from_slice(&(size as i32).to_le_bytes());
        s.extend_from_slice(b"documents\0");
        s.extend(&d1);
        let msg = op_msg(1, &s, true);
        let (_, req) = parse_message(&msg).unwrap();
        let Request::Msg {
            command,
            more_to_come,
        } = req
        else {
            panic!("not a msg")
        };
        assert!(!more_to_come);
        assert_eq!(command.get_array("documents").unwrap().len(), 1);
        let mut bad = msg.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert_eq!(parse_message(&bad).unwrap_err(), WireError::Checksum);
    }

    #[test]
    fn rejects_hostile_lengths() {
        let mut m = op_msg(0, &[0, 5, 0, 0, 0, 0], false);
        assert!(parse_message(&m).is_ok());
        m[0..4].copy_from_slice(&i32::MAX.to_le_bytes());
        assert!(matches!(parse_message(&m), Err(WireError::BadLength(_))));
        let m2 = op_msg(0, &[0, 0xff, 0xff, 0xff, 0x7f, 0], false);
        assert!(parse_message(&m2).is_err());
        assert!(parse_message(&[1, 2, 3]).is_err());
    }

    #[test]
    fn mutated_messages_never_panic() {
        let mut seq = vec![0u8];
        seq.extend(
            bson::to_vec(&doc! {"update": "c", "$db": "d", "x": {"y": [1, "s", {"z": null}]}})
                .unwrap(),
        );
        let base = op_msg(0, &seq, false);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let mut m = base.clone();
            for _ in 0..(rnd() % 4 + 1) {
                let at = (rnd() as usize) % m.len();
                m[at] = rnd() as u8;
            }
            let cut = (rnd() as usize) % (m.len() + 1);
            let _ = parse_message(&m);
            let _ = parse_message(&m[..cut]);
            let _ = crate::fuzz_parse(&m[16..]);
        }
    }
}

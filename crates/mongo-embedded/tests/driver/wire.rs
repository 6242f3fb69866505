use crate::start;
use mongodb::bson::{doc, Document};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn header(len: usize, request_id: i32, op: i32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&(len as i32).to_le_bytes());
    h.extend_from_slice(&request_id.to_le_bytes());
    h.extend_from_slice(&0i32.to_le_bytes());
    h.extend_from_slice(&op.to_le_bytes());
    h
}

fn op_msg(request_id: i32, flags: u32, body: &Document) -> Vec<u8> {
    let doc = mongodb::bson::to_vec(body).unwrap();
    let checksum = flags & 1 != 0;
    let len = 16 + 4 + 1 + doc.len() + if checksum { 4 } else { 0 };
    let mut m = header(len, request_id, 2013);
    m.extend_from_slice(&flags.to_le_bytes());
    m.push(0);
    m.extend_from_slice(&doc);
    if checksum {
        let c = crc32c::crc32c(&m);
        m.extend_from_slice(&c.to_le_bytes());
    }
    m
}

async fn read_reply(s: &mut TcpStream) -> (i32, i32, Vec<u8>) {
    let mut h = [0u8; 16];
    s.read_exact(&mut h).await.unwrap();
    let len = i32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize;
    let response_to = i32::from_le_bytes([h[8], h[9], h[10], h[11]]);
    let op = i32::from_le_bytes([h[12], h[13], h[14], h[15]]);
    let mut body = vec![0u8; len - 16];
    s.read_exact(&mut body).await.unwrap();
    (response_to, op, body)
}

fn msg_doc(body: &[u8]) -> Document {
    mongodb::bson::from_slice(&body[5..]).unwrap()
}

/// The server closes the connection: the next read sees EOF or a reset.
async fn assert_closed(s: &mut TcpStream) {
    let mut buf = [0u8; 64];
    let res = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("server neither replied nor closed");
    // A reset (Err) is a close too; any bytes would be an unexpected reply.
    if let Ok(n) = res {
        assert_eq!(n, 0, "expected connection close");
    }
}

#[tokio::test]
async fn malformed_messages_close_the_connection_only() {
    let env = start().await;
    let addr = env.server.local_addr();
    let hostile: Vec<Vec<u8>> = vec![
        header(i32::MAX as usize, 1, 2013), // length over maxMessageSizeBytes
        header(8, 1, 2013),                 // length below header size
        {
            let mut m = header(16 + 4 + 1 + 5, 1, 2013); // valid frame, invalid BSON
            m.extend_from_slice(&[0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0]);
            m
        },
        op_msg(1, 0, &doc! {"ping": 1, "$db": "admin"})[..20].to_vec(), // truncated, then EOF
        {
            let mut m = header(16 + 8, 1, 2012); // OP_COMPRESSED: unsupported opcode
            m.extend_from_slice(&[0; 8]);
            m
        },
        {
            let mut m = op_msg(1, 1, &doc! {"ping": 1, "$db": "admin"});
            let n = m.len();
            m[n - 1] ^= 0xff; // bad CRC-32C
            m
        },
        op_msg(1, 1 << 5, &doc! {"ping": 1, "$db": "admin"}), // unknown required flag bit
    ];
    for bytes in hostile {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&bytes).await.unwrap();
        s.shutdown().await.unwrap();
        assert_closed(&mut s).await;
    }
    // The server is still up and answers a fresh connection.
    env.db.run_command(doc! {"ping": 1}).await.unwrap();
}

#[tokio::test]
async fn checksum_more_to_come_and_legacy_handshake() {
    let env = start().await;
    let mut s = TcpStream::connect(env.server.local_addr()).await.unwrap();
    // OP_MSG with a valid checksum.
    s.write_all(&op_msg(11, 1, &doc! {"ping": 1, "$db": "admin"}))
        .await
        .unwrap();
    let (to, op, body) = read_reply(&mut s).await;
    assert_eq!((to, op), (11, 2013));
    assert_eq!(msg_doc(&body).get_f64("ok").unwrap(), 1.0);
    // moreToCome: no reply; the next reply answers request 13.
    s.write_all(&op_msg(
        12,
        2,
        &doc! {"insert": "w", "documents": [{"a": 1}], "$db": "wiretest"},
    ))
    .await
    .unwrap();
    s.write_all(&op_msg(13, 0, &doc! {"count": "w", "$db": "wiretest"}))
        .await
        .unwrap();
    let (to, _, body) = read_reply(&mut s).await;
    assert_eq!(to, 13);
    assert_eq!(msg_doc(&body).get_i64("n").unwrap(), 1);
    // Legacy OP_QUERY isMaster gets an OP_REPLY.
    let q = mongodb::bson::to_vec(&doc! {"isMaster": 1}).unwrap();
    let ns = b"admin.$cmd\0";
    let mut m = header(16 + 4 + ns.len() + 8 + q.len(), 21, 2004);
    m.extend_from_slice(&0i32.to_le_bytes());
    m.extend_from_slice(ns);
    m.extend_from_slice(&0i32.to_le_bytes());
    m.extend_from_slice(&(-1i32).to_le_bytes());
    m.extend_from_slice(&q);
    s.write_all(&m).await.unwrap();
    let (to, op, body) = read_reply(&mut s).await;
    assert_eq!((to, op), (21, 1));
    let d: Document = mongodb::bson::from_slice(&body[20..]).unwrap();
    assert!(d.get_bool("ismaster").unwrap());
    assert_eq!(d.get_i32("maxWireVersion").unwrap(), 21);
    // Document sequences (kind 1) are merged into the command.
    let body_doc = mongodb::bson::to_vec(&doc! {"insert": "seq", "$db": "wiretest"}).unwrap();
    let d1 = mongodb::bson::to_vec(&doc! {"_id": 1}).unwrap();
    let d2 = mongodb::bson::to_vec(&doc! {"_id": 2}).unwrap();
    let seq_len = 4 + b"documents\0".len() + d1.len() + d2.len();
    let total = 16 + 4 + 1 + body_doc.len() + 1 + seq_len;
    let mut m = header(total, 31, 2013);
    m.extend_from_slice(&0u32.to_le_bytes());
    m.push(0);
    m.extend_from_slice(&body_doc);
    m.push(1);
    m.extend_from_slice(&(seq_len as i32).to_le_bytes());
    m.extend_from_slice(b"documents\0");
    m.extend_from_slice(&d1);
    m.extend_from_slice(&d2);
    s.write_all(&m).await.unwrap();
    let (_, _, body) = read_reply(&mut s).await;
    assert_eq!(msg_doc(&body).get_i32("n").unwrap(), 2);
}

//! Iterative structural check of untrusted BSON before it is decoded.
//!
//! The `bson` crate decodes recursively, so a message of deeply nested
//! documents could exhaust the stack. This walk uses an explicit stack,
//! enforces MongoDB's nesting limit and validates every length against its
//! enclosing document.

/// Deepest nesting accepted (MongoDB rejects BSON nested deeper than this).
pub const MAX_DEPTH: usize = 200;

fn i32_at(b: &[u8], pos: usize, end: usize) -> Result<i32, String> {
    if pos + 4 > end {
        return Err("truncated BSON".into());
    }
    Ok(i32::from_le_bytes([
        b[pos],
        b[pos + 1],
        b[pos + 2],
        b[pos + 3],
    ]))
}

fn skip_cstring(b: &[u8], pos: usize, end: usize) -> Result<usize, String> {
    b[pos..end]
        .iter()
        .position(|c| *c == 0)
        .map(|n| pos + n + 1)
        .ok_or_else(|| "unterminated cstring in BSON".into())
}

fn skip_string(b: &[u8], pos: usize, end: usize) -> Result<usize, String> {
    let len = i32_at(b, pos, end)?;
    if len < 1 || pos + 4 + len as usize > end {
        return Err("invalid BSON string length".into());
    }
    Ok(pos + 4 + len as usize)
}

/// Validates `b` as exactly one BSON document with bounded nesting.
pub fn check(b: &[u8]) -> Result<(), String> {
    let mut stack: Vec<usize> = Vec::new();
    let open = |pos: usize, end: usize, stack: &mut Vec<usize>| -> Result<usize, String> {
        let len = i32_at(b, pos, end)?;
        if len < 5 || pos + len as usize > end {
            return Err("invalid nested BSON length".into());
        }
        if stack.len() >= MAX_DEPTH {
            return Err(format!("BSON nested deeper than {MAX_DEPTH} levels"));
        }
        stack.push(pos + len as usize);
        Ok(pos + 4)
    };
    let mut pos = open(0, b.len(), &mut stack)?;
    if stack.first().copied() != Some(b.len()) {
        return Err("BSON length does not match the buffer".into());
    }
    while let Some(&end) = stack.last() {
        if pos >= end {
            return Err("BSON document missing terminator".into());
        }
        let t = b[pos];
        pos += 1;
        if t == 0 {
            if pos != end {
                return Err("BSON terminator before the end of the document".into());
            }
            stack.pop();
            continue;
        }
        pos = skip_cstring(b, pos, end)?;
        let fixed = match t {
            0x01 | 0x09 | 0x11 | 0x12 => 8,
            0x07 => 12,
            0x08 => 1,
            0x10 => 4,
            0x13 => 16,
            0x06 | 0x0A | 0x7F | 0xFF => 0,
            0x02 | 0x0D | 0x0E => {
                pos = skip_string(b, pos, end)?;
                continue;
            }
            0x03 | 0x04 => {
                pos = open(pos, end, &mut stack)?;
                continue;
            }
            0x05 => {
                let len = i32_at(b, pos, end)?;
                if len < 0 {
                    return Err("negative binary length".into());
                }
                4 + 1 + len as usize
            }
            0x0B => {
                pos = skip_cstring(b, pos, end)?;
                pos = skip_cstring(b, pos, end)?;
                continue;
            }
            0x0C => {
                pos = skip_string(b, pos, end)?;
                12
            }
            0x0F => {
                let total = i32_at(b, pos, end)?;
                if total < 14 || pos + total as usize > end {
                    return Err("invalid code-with-scope length".into());
                }
                let inner_end = pos + total as usize;
                let p = skip_string(b, pos + 4, inner_end)?;
                // The scope document must end exactly where the element ends.
                let scope_len = i32_at(b, p, inner_end)?;
                if scope_len < 5 || p + scope_len as usize != inner_end {
                    return Err("invalid code-with-scope scope".into());
                }
                pos = open(p, inner_end, &mut stack)?;
                continue;
            }
            other => return Err(format!("unknown BSON element type {other:#x}")),
        };
        if pos + fixed > end {
            return Err("truncated BSON element".into());
        }
        pos += fixed;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use bson::doc;

    #[test]
    fn accepts_valid_and_rejects_deep_or_bad() {
        let ok = bson::to_vec(&doc! {"a": 1, "b": [1, "x", {"c": null}], "d": bson::Regex { pattern: "p".into(), options: "i".into() }}).unwrap();
        assert!(check(&ok).is_ok());
        // 1000 levels of {"a": {...}} built by hand, never decoded recursively.
        let depth = 1000;
        let mut bytes = vec![5, 0, 0, 0, 0];
        for _ in 0..depth {
            let inner = bytes.clone();
            let len = 4 + 1 + 2 + inner.len() + 1;
            bytes = Vec::with_capacity(len);
            bytes.extend_from_slice(&(len as i32).to_le_bytes());
            bytes.extend_from_slice(&[0x03, b'a', 0]);
            bytes.extend_from_slice(&inner);
            bytes.push(0);
        }
        assert!(check(&bytes).unwrap_err().contains("nested deeper"));
        let mut bad = ok.clone();
        bad[0] = 200;
        assert!(check(&bad).is_err());
        assert!(check(&[5, 0, 0, 0]).is_err());
    }
}

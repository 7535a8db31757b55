//! Length-prefixed framing of the client port: `int32 len` + `len` bytes.

use bytes::{Buf, BytesMut};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    #[error("frame length {0} is negative")]
    Negative(i32),
    #[error("frame length {len} exceeds jute.maxbuffer {max}")]
    TooLarge { len: usize, max: usize },
}

/// The first four bytes of `buf` as the frame length, if present.
pub fn peek_len(buf: &[u8]) -> Option<i32> {
    (buf.len() >= 4).then(|| i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]))
}

/// Takes one whole frame's payload off the front of `buf`, `Ok(None)` if more bytes are
/// needed. The length is checked before anything is buffered for it, so a peer cannot make
/// us reserve more than `max` bytes.
pub fn decode_frame(buf: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, FrameError> {
    let Some(len) = peek_len(buf) else {
        return Ok(None);
    };
    if len < 0 {
        return Err(FrameError::Negative(len));
    }
    let len = len as usize;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    if buf.len() < 4 + len {
        buf.reserve(4 + len - buf.len());
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(buf.split_to(len)))
}

/// Appends `payload` with its length prefix.
pub fn encode_frame(payload: &[u8], out: &mut BytesMut) {
    out.extend_from_slice(&(payload.len() as i32).to_be_bytes());
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_negative_and_oversized() {
        let mut b = BytesMut::from(&[0xffu8, 0xff, 0xff, 0xff][..]);
        assert_eq!(decode_frame(&mut b, 100), Err(FrameError::Negative(-1)));
        let mut b = BytesMut::from(&[0u8, 0, 1, 0][..]);
        assert_eq!(
            decode_frame(&mut b, 100),
            Err(FrameError::TooLarge { len: 256, max: 100 })
        );
    }

    proptest! {
        #[test]
        fn frames_round_trip_in_any_chunking(payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 0..8), chunk in 1usize..17) {
            let mut wire = BytesMut::new();
            for p in &payloads { encode_frame(p, &mut wire); }
            let mut buf = BytesMut::new();
            let mut out = Vec::new();
            for c in wire.chunks(chunk) {
                buf.extend_from_slice(c);
                while let Some(f) = decode_frame(&mut buf, 1000).unwrap() { out.push(f.to_vec()); }
            }
            prop_assert_eq!(out, payloads);
            prop_assert!(buf.is_empty());
        }
    }
}

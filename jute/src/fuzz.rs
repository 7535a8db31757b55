//! Entry points for fuzzing: everything the client port decodes from untrusted bytes. The
//! cargo-fuzz target in `fuzz/` calls these, and a property test runs them under `cargo test`.

use bytes::BytesMut;

use crate::codec::{Jute, Reader};
use crate::frame::decode_frame;
use crate::proto::{ConnectRequest, Request, RequestHeader};
use crate::txn::{Txn, TxnHeader};

/// Splits `data` into frames as a connection would (first frame a ConnectRequest, the rest
/// requests), decoding each with limit `max`. Must never panic, whatever the input.
pub fn frames(data: &[u8], max: usize) {
    let mut buf = BytesMut::from(data);
    let mut first = true;
    while let Ok(Some(frame)) = decode_frame(&mut buf, max) {
        let mut r = Reader::with_limit(&frame, max);
        if first {
            let _ = ConnectRequest::decode(&mut r);
            first = false;
            continue;
        }
        if let Ok(h) = RequestHeader::decode(&mut r) {
            let _ = Request::decode(h.op, &mut r);
        }
    }
}

/// Decodes `data` as a txn log entry body: a TxnHeader and the txn it announces.
pub fn txn(data: &[u8]) {
    let mut r = Reader::new(data);
    if let Ok(h) = TxnHeader::decode(&mut r) {
        let _ = Txn::decode(h.type_, &mut r);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn frame_decoder_never_panics(data in proptest::collection::vec(any::<u8>(), 0..512), max in 0usize..2048) {
            super::frames(&data, max);
            super::txn(&data);
        }
    }
}

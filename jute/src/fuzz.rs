//! Entry points for fuzzing: everything the client and quorum ports decode from untrusted
//! bytes. The
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

/// Decodes `data` as a quorum-port stream (packets, each read as from a leader and as from a
/// learner) and as an election connection (header, then messages as notifications).
pub fn quorum(data: &[u8], max: usize) {
    use crate::quorum::election::{decode_message, Notification};
    use crate::quorum::{ConnectionHeader, LeaderMessage, LearnerMessage, PacketDecoder};
    let dec = PacketDecoder { max_buffer: max };
    let mut buf = BytesMut::from(data);
    while let Ok(Some(p)) = dec.decode(&mut buf) {
        let _ = LeaderMessage::from_packet(&p);
        let _ = LearnerMessage::from_packet(&p);
    }
    if let Ok(Some((_, n))) = ConnectionHeader::decode_stream(data) {
        let mut buf = BytesMut::from(&data[n..]);
        while let Ok(Some(m)) = decode_message(&mut buf) {
            let _ = Notification::decode(&m);
        }
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
            super::quorum(&data, max);
        }
    }
}

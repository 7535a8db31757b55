//! Arbitrary bytes on the client port: framing, the handshake and every request decoder,
//! with a small jute.maxbuffer so the length checks are exercised too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    jute::fuzz::frames(data, 4096);
    jute::fuzz::txn(data);
});

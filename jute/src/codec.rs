//! Primitive encoding and the bounded [`Reader`].

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::{Error, Result};

/// ZooKeeper's default `jute.maxbuffer`: the largest frame, buffer or string accepted.
pub const DEFAULT_MAX_BUFFER: usize = 0xfffff;

/// A cursor over an input buffer that refuses to read past its end or to believe a length
/// larger than `limit`.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    limit: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self::with_limit(buf, DEFAULT_MAX_BUFFER)
    }

    /// A reader whose buffers and strings may be at most `limit` bytes long.
    pub fn with_limit(buf: &'a [u8], limit: usize) -> Self {
        Reader { buf, pos: 0, limit }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::Truncated {
                needed: n,
                remaining: self.remaining(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn read_u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn read_i32(&mut self) -> Result<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn read_i64(&mut self) -> Result<i64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    /// Reads a length prefix: `None` for the null marker `-1`, an error for any other negative
    /// value, for a length over the limit, or for one longer than the input left.
    pub fn read_len(&mut self) -> Result<Option<usize>> {
        let len = self.read_i32()?;
        if len == -1 {
            return Ok(None);
        }
        if len < 0 {
            return Err(Error::NegativeLength(len));
        }
        let len = len as usize;
        if len > self.limit {
            return Err(Error::TooLong {
                len,
                limit: self.limit,
            });
        }
        if len > self.remaining() {
            return Err(Error::Truncated {
                needed: len,
                remaining: self.remaining(),
            });
        }
        Ok(Some(len))
    }

    /// Reads a vector count. Every element takes at least one byte, so a count larger than the
    /// remaining input is rejected before anything is allocated.
    pub fn read_count(&mut self) -> Result<Option<usize>> {
        let n = self.read_i32()?;
        if n == -1 {
            return Ok(None);
        }
        if n < 0 {
            return Err(Error::NegativeLength(n));
        }
        let n = n as usize;
        if n > self.remaining() {
            return Err(Error::Truncated {
                needed: n,
                remaining: self.remaining(),
            });
        }
        Ok(Some(n))
    }
}

/// A value with a Jute encoding.
pub trait Jute: Sized {
    fn encode(&self, out: &mut BytesMut);
    fn decode(r: &mut Reader<'_>) -> Result<Self>;

    /// Encodes into a fresh buffer.
    fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        out.freeze()
    }

    /// Decodes from the start of `buf` with the default limit; trailing bytes are ignored,
    /// as Java's archive ignores them.
    fn from_bytes(buf: &[u8]) -> Result<Self> {
        Self::decode(&mut Reader::new(buf))
    }
}

impl Jute for i32 {
    fn encode(&self, out: &mut BytesMut) {
        out.put_i32(*self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        r.read_i32()
    }
}

impl Jute for i64 {
    fn encode(&self, out: &mut BytesMut) {
        out.put_i64(*self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        r.read_i64()
    }
}

impl Jute for bool {
    fn encode(&self, out: &mut BytesMut) {
        out.put_u8(*self as u8);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        // Java reads any non-zero byte as true.
        Ok(r.read_u8()? != 0)
    }
}

impl Jute for u8 {
    fn encode(&self, out: &mut BytesMut) {
        out.put_u8(*self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        r.read_u8()
    }
}

/// `ustring`. A null string decodes as empty: no record Paddock handles gives null a meaning
/// different from "" (paths, schemes and ids are validated separately).
impl Jute for String {
    fn encode(&self, out: &mut BytesMut) {
        out.put_i32(self.len() as i32);
        out.put_slice(self.as_bytes());
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.read_len()? {
            None => Ok(String::new()),
            Some(n) => decode_string(r.take(n)?),
        }
    }
}

/// Java writes supplementary characters as two 3-byte surrogate sequences (CESU-8). Accept
/// standard UTF-8 first and fall back to CESU-8.
fn decode_string(b: &[u8]) -> Result<String> {
    match std::str::from_utf8(b) {
        Ok(s) => Ok(s.to_owned()),
        Err(_) => decode_cesu8(b).ok_or(Error::InvalidUtf8),
    }
}

fn decode_cesu8(b: &[u8]) -> Option<String> {
    let mut units: Vec<u16> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let (cp, n) = if c < 0x80 {
            (c as u32, 1)
        } else if c & 0xE0 == 0xC0 && i + 1 < b.len() {
            (((c as u32 & 0x1F) << 6) | (b[i + 1] as u32 & 0x3F), 2)
        } else if c & 0xF0 == 0xE0 && i + 2 < b.len() {
            let v = ((c as u32 & 0x0F) << 12)
                | ((b[i + 1] as u32 & 0x3F) << 6)
                | (b[i + 2] as u32 & 0x3F);
            (v, 3)
        } else {
            return None;
        };
        units.push(cp as u16);
        i += n;
    }
    String::from_utf16(&units).ok()
}

/// `buffer`: `None` is Java's null (length -1), which zkCli shows as "null".
impl Jute for Option<Bytes> {
    fn encode(&self, out: &mut BytesMut) {
        match self {
            None => out.put_i32(-1),
            Some(b) => {
                out.put_i32(b.len() as i32);
                out.put_slice(b);
            }
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.read_len()? {
            None => Ok(None),
            Some(n) => Ok(Some(Bytes::copy_from_slice(r.take(n)?))),
        }
    }
}

/// `vector<T>`; a null vector decodes as empty.
impl<T: Jute> Jute for Vec<T> {
    fn encode(&self, out: &mut BytesMut) {
        out.put_i32(self.len() as i32);
        for v in self {
            v.encode(out);
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let n = r.read_count()?.unwrap_or(0);
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(T::decode(r)?);
        }
        Ok(v)
    }
}

/// Declares a Jute record: a struct whose fields are encoded in order, with no framing.
/// Under `cfg(test)` it also gets a proptest strategy built field by field.
macro_rules! record {
    ($(#[$m:meta])* pub struct $name:ident { $( $(#[$fm:meta])* pub $f:ident : $t:ty ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name { $( $(#[$fm])* pub $f: $t ),* }

        impl $crate::codec::Jute for $name {
            #[allow(unused_variables)]
            fn encode(&self, out: &mut ::bytes::BytesMut) {
                $( $crate::codec::Jute::encode(&self.$f, out); )*
            }
            #[allow(unused_variables)]
            fn decode(r: &mut $crate::codec::Reader<'_>) -> $crate::error::Result<Self> {
                Ok(Self { $( $f: $crate::codec::Jute::decode(r)?, )* })
            }
        }

        #[cfg(test)]
        impl $crate::codec::arb::Arb for $name {
            fn arb() -> ::proptest::strategy::BoxedStrategy<Self> {
                #[allow(unused_imports)]
                use ::proptest::strategy::Strategy;
                let s = ::proptest::strategy::Just(Self::default()).boxed();
                $( let s = (s, <$t as $crate::codec::arb::Arb>::arb())
                    .prop_map(|(mut v, x)| { v.$f = x; v }).boxed(); )*
                s
            }
        }
    };
}
pub(crate) use record;

#[cfg(test)]
pub(crate) mod arb {
    use bytes::Bytes;
    use proptest::prelude::*;

    /// A proptest strategy for every Jute type, so records can be generated field by field.
    pub trait Arb: Sized + std::fmt::Debug {
        fn arb() -> BoxedStrategy<Self>;
    }
    impl Arb for i32 {
        fn arb() -> BoxedStrategy<Self> {
            any::<i32>().boxed()
        }
    }
    impl Arb for i64 {
        fn arb() -> BoxedStrategy<Self> {
            any::<i64>().boxed()
        }
    }
    impl Arb for bool {
        fn arb() -> BoxedStrategy<Self> {
            any::<bool>().boxed()
        }
    }
    impl Arb for u8 {
        fn arb() -> BoxedStrategy<Self> {
            any::<u8>().boxed()
        }
    }
    impl Arb for String {
        fn arb() -> BoxedStrategy<Self> {
            ".{0,24}".boxed()
        }
    }
    impl Arb for Option<Bytes> {
        fn arb() -> BoxedStrategy<Self> {
            proptest::option::of(
                proptest::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from),
            )
            .boxed()
        }
    }
    impl<T: Arb + 'static> Arb for Vec<T> {
        fn arb() -> BoxedStrategy<Self> {
            proptest::collection::vec(T::arb(), 0..4).boxed()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_and_oversized_lengths_are_errors() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(String::decode(&mut r), Err(Error::NegativeLength(-2)));
        let buf = [0x7f, 0xff, 0xff, 0xff, 1, 2];
        assert!(matches!(
            Option::<Bytes>::decode(&mut Reader::new(&buf)),
            Err(Error::TooLong { .. })
        ));
        let buf = [0, 0, 0, 10, 1, 2];
        assert!(matches!(
            Option::<Bytes>::decode(&mut Reader::new(&buf)),
            Err(Error::Truncated { .. })
        ));
        // A vector claiming two billion elements allocates nothing.
        let buf = [0x7f, 0xff, 0xff, 0xff];
        assert!(matches!(
            Vec::<i64>::decode(&mut Reader::new(&buf)),
            Err(Error::Truncated { .. })
        ));
    }

    #[test]
    fn null_buffer_round_trips_as_none() {
        let b = Option::<Bytes>::None.to_bytes();
        assert_eq!(&b[..], &[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(Option::<Bytes>::from_bytes(&b), Ok(None));
    }

    #[test]
    fn java_surrogate_pairs_decode() {
        // U+1F600 as Java writes it: two 3-byte surrogate sequences.
        let cesu = [0, 0, 0, 6, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80];
        assert_eq!(String::from_bytes(&cesu).unwrap(), "\u{1F600}");
    }
}

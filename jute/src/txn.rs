//! Txn records (`zookeeper.jute`, package `txn`): what the server logs for every write.

use bytes::{Bytes, BytesMut};

use crate::codec::{record, Jute, Reader};
use crate::consts::op;
use crate::data::Acl;
use crate::error::{Error, Result};

record! {
    /// 32 bytes: who, which request, which zxid, when (leader clock, ms), what type.
    #[derive(Copy)]
    pub struct TxnHeader { pub client_id: i64, pub cxid: i32, pub zxid: i64, pub time: i64, pub type_: i32 }
}
record! { pub struct CreateTxn { pub path: String, pub data: Option<Bytes>, pub acl: Vec<Acl>, pub ephemeral: bool, pub parent_cversion: i32 } }
record! { pub struct CreateContainerTxn { pub path: String, pub data: Option<Bytes>, pub acl: Vec<Acl>, pub parent_cversion: i32 } }
record! { pub struct CreateTtlTxn { pub path: String, pub data: Option<Bytes>, pub acl: Vec<Acl>, pub parent_cversion: i32, pub ttl: i64 } }
record! { pub struct DeleteTxn { pub path: String } }
record! { pub struct SetDataTxn { pub path: String, pub data: Option<Bytes>, pub version: i32 } }
record! { pub struct CheckVersionTxn { pub path: String, pub version: i32 } }
record! { pub struct SetAclTxn { pub path: String, pub acl: Vec<Acl>, pub version: i32 } }
record! { pub struct CreateSessionTxn { pub timeout: i32 } }
record! { pub struct CloseSessionTxn { pub paths_to_delete: Vec<String> } }
record! { pub struct ErrorTxn { pub err: i32 } }
record! { pub struct TxnDigest { pub version: i32, pub tree_digest: i64 } }
record! {
    /// One sub-txn of a MultiTxn: its type and its serialized record.
    pub struct RawTxn { pub type_: i32, pub data: Option<Bytes> }
}

/// A txn body typed by TxnHeader.type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Txn {
    CreateSession(CreateSessionTxn),
    /// `None`: an empty body (closeSessionTxn disabled, or pre-3.6 logs).
    CloseSession(Option<CloseSessionTxn>),
    Create(CreateTxn),
    Create2(CreateTxn),
    CreateContainer(CreateContainerTxn),
    CreateTtl(CreateTtlTxn),
    Delete(DeleteTxn),
    DeleteContainer(DeleteTxn),
    SetData(SetDataTxn),
    Reconfig(SetDataTxn),
    SetAcl(SetAclTxn),
    Check(CheckVersionTxn),
    Multi(Vec<Txn>),
    Error(ErrorTxn),
}

impl Txn {
    pub fn type_code(&self) -> i32 {
        match self {
            Txn::CreateSession(_) => op::CREATE_SESSION,
            Txn::CloseSession(_) => op::CLOSE_SESSION,
            Txn::Create(_) => op::CREATE,
            Txn::Create2(_) => op::CREATE2,
            Txn::CreateContainer(_) => op::CREATE_CONTAINER,
            Txn::CreateTtl(_) => op::CREATE_TTL,
            Txn::Delete(_) => op::DELETE,
            Txn::DeleteContainer(_) => op::DELETE_CONTAINER,
            Txn::SetData(_) => op::SET_DATA,
            Txn::Reconfig(_) => op::RECONFIG,
            Txn::SetAcl(_) => op::SET_ACL,
            Txn::Check(_) => op::CHECK,
            Txn::Multi(_) => op::MULTI,
            Txn::Error(_) => op::ERROR,
        }
    }

    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            Txn::CreateSession(t) => t.encode(out),
            Txn::CloseSession(t) => {
                if let Some(t) = t {
                    t.encode(out)
                }
            }
            Txn::Create(t) | Txn::Create2(t) => t.encode(out),
            Txn::CreateContainer(t) => t.encode(out),
            Txn::CreateTtl(t) => t.encode(out),
            Txn::Delete(t) | Txn::DeleteContainer(t) => t.encode(out),
            Txn::SetData(t) | Txn::Reconfig(t) => t.encode(out),
            Txn::SetAcl(t) => t.encode(out),
            Txn::Check(t) => t.encode(out),
            Txn::Error(t) => t.encode(out),
            Txn::Multi(txns) => {
                let raw: Vec<RawTxn> = txns
                    .iter()
                    .map(|t| RawTxn {
                        type_: t.type_code(),
                        data: Some(t.to_bytes()),
                    })
                    .collect();
                raw.encode(out)
            }
        }
    }

    /// The bytes to log: as [`Txn::to_bytes`], except that a `create2` inside a multi is
    /// recorded as a plain `create` (type 1; the record is the same CreateTxn). ZooKeeper
    /// 3.8.0 and 3.8.1 cannot replay type 15 inside a multi, while every version replays 1.
    pub fn to_log_bytes(&self) -> Bytes {
        match self {
            Txn::Multi(txns) if txns.iter().any(|t| matches!(t, Txn::Create2(_))) => {
                let compat: Vec<Txn> = txns
                    .iter()
                    .map(|t| {
                        if let Txn::Create2(c) = t {
                            Txn::Create(c.clone())
                        } else {
                            t.clone()
                        }
                    })
                    .collect();
                Txn::Multi(compat).to_bytes()
            }
            _ => self.to_bytes(),
        }
    }

    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::new();
        self.encode(&mut b);
        b.freeze()
    }

    pub fn decode(type_: i32, r: &mut Reader<'_>) -> Result<Txn> {
        Ok(match type_ {
            op::CREATE_SESSION => Txn::CreateSession(Jute::decode(r)?),
            op::CLOSE_SESSION => {
                if r.is_empty() {
                    Txn::CloseSession(None)
                } else {
                    Txn::CloseSession(Some(Jute::decode(r)?))
                }
            }
            op::CREATE => Txn::Create(Jute::decode(r)?),
            op::CREATE2 => Txn::Create2(Jute::decode(r)?),
            op::CREATE_CONTAINER => Txn::CreateContainer(Jute::decode(r)?),
            op::CREATE_TTL => Txn::CreateTtl(Jute::decode(r)?),
            op::DELETE => Txn::Delete(Jute::decode(r)?),
            op::DELETE_CONTAINER => Txn::DeleteContainer(Jute::decode(r)?),
            op::SET_DATA => Txn::SetData(Jute::decode(r)?),
            op::RECONFIG => Txn::Reconfig(Jute::decode(r)?),
            op::SET_ACL => Txn::SetAcl(Jute::decode(r)?),
            op::CHECK => Txn::Check(Jute::decode(r)?),
            op::ERROR => Txn::Error(Jute::decode(r)?),
            op::MULTI => {
                let raw = Vec::<RawTxn>::decode(r)?;
                let mut txns = Vec::with_capacity(raw.len());
                for t in raw {
                    if t.type_ == op::MULTI {
                        return Err(Error::Invalid("nested multi txn"));
                    }
                    let data = t.data.unwrap_or_default();
                    txns.push(Txn::decode(
                        t.type_,
                        &mut Reader::with_limit(&data, usize::MAX),
                    )?);
                }
                Txn::Multi(txns)
            }
            t => {
                return Err(Error::Unknown {
                    what: "txn type",
                    value: t,
                })
            }
        })
    }
}

/// One logged txn as the txn log and the quorum protocol carry it: TxnHeader, the txn record,
/// then an optional TxnDigest (Java's `Util.marshallTxnEntry`). PROPOSAL and INFORM packets
/// carry exactly these bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnEntry {
    pub header: TxnHeader,
    pub txn: Txn,
    pub digest: Option<TxnDigest>,
}

impl TxnEntry {
    pub fn encode(&self, out: &mut BytesMut) {
        self.header.encode(out);
        self.txn.encode(out);
        if let Some(d) = &self.digest {
            d.encode(out);
        }
    }

    pub fn to_bytes(&self) -> Bytes {
        let mut b = BytesMut::new();
        self.encode(&mut b);
        b.freeze()
    }

    /// Decodes the whole of `buf` as Java's `SerializeUtils.deserializeTxn` does: the header,
    /// the record its type names, then a digest if at least 12 bytes are left. Java ignores
    /// anything after that, and so does this.
    ///
    /// A closeSession body is ambiguous: it is a CloseSessionTxn when
    /// `closeSessionTxn.enabled` (the default) and empty otherwise, and a digest may follow
    /// either. Java tries the record and falls back to "no body" when it does not parse; this
    /// does the same, and also falls back when the record would leave a partial digest.
    pub fn decode(buf: &[u8]) -> Result<TxnEntry> {
        // Txn bodies are bounded by the enclosing buffer, which the caller has already
        // checked against its limit.
        let mut r = Reader::with_limit(buf, usize::MAX);
        let header = TxnHeader::decode(&mut r)?;
        let body = r.rest();
        let (txn, rest) = if header.type_ == op::CLOSE_SESSION {
            let mut br = Reader::with_limit(body, usize::MAX);
            match CloseSessionTxn::decode(&mut br) {
                Ok(t) if br.remaining() == 0 || br.remaining() >= TXN_DIGEST_LEN => {
                    (Txn::CloseSession(Some(t)), br.rest())
                }
                _ => (Txn::CloseSession(None), body),
            }
        } else {
            let mut br = Reader::with_limit(body, usize::MAX);
            let txn = Txn::decode(header.type_, &mut br)?;
            (txn, br.rest())
        };
        let digest = if rest.len() >= TXN_DIGEST_LEN {
            Some(TxnDigest::from_bytes(rest)?)
        } else {
            None
        };
        Ok(TxnEntry {
            header,
            txn,
            digest,
        })
    }
}

/// Encoded size of a [`TxnDigest`].
pub const TXN_DIGEST_LEN: usize = 12;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::codec::arb::Arb;
    use proptest::prelude::*;

    fn arb_leaf() -> impl Strategy<Value = Txn> {
        prop_oneof![
            CreateSessionTxn::arb().prop_map(Txn::CreateSession),
            proptest::option::of(CloseSessionTxn::arb()).prop_map(Txn::CloseSession),
            CreateTxn::arb().prop_map(Txn::Create),
            CreateTxn::arb().prop_map(Txn::Create2),
            CreateContainerTxn::arb().prop_map(Txn::CreateContainer),
            CreateTtlTxn::arb().prop_map(Txn::CreateTtl),
            DeleteTxn::arb().prop_map(Txn::Delete),
            DeleteTxn::arb().prop_map(Txn::DeleteContainer),
            SetDataTxn::arb().prop_map(Txn::SetData),
            SetDataTxn::arb().prop_map(Txn::Reconfig),
            SetAclTxn::arb().prop_map(Txn::SetAcl),
            CheckVersionTxn::arb().prop_map(Txn::Check),
            ErrorTxn::arb().prop_map(Txn::Error),
        ]
    }

    pub(crate) fn arb_txn() -> impl Strategy<Value = Txn> {
        prop_oneof![
            arb_leaf(),
            // A multi never contains a session txn or an empty closeSession.
            proptest::collection::vec(
                arb_leaf().prop_filter("no session txns in multi", |t| {
                    !matches!(t, Txn::CreateSession(_) | Txn::CloseSession(_))
                }),
                0..5
            )
            .prop_map(Txn::Multi),
        ]
    }

    /// An entry whose header type matches its txn, as every real entry's does.
    pub(crate) fn arb_entry() -> impl Strategy<Value = TxnEntry> {
        (
            TxnHeader::arb(),
            arb_txn(),
            proptest::option::of(TxnDigest::arb()),
        )
            .prop_map(|(mut header, txn, digest)| {
                header.type_ = txn.type_code();
                TxnEntry {
                    header,
                    txn,
                    digest,
                }
            })
    }

    proptest! {
        #[test]
        fn rt_entry(e in arb_entry()) {
            prop_assert_eq!(TxnEntry::decode(&e.to_bytes()).unwrap(), e);
        }
        #[test]
        fn entry_decode_never_panics(body in proptest::collection::vec(any::<u8>(), 0..160)) {
            let _ = TxnEntry::decode(&body);
        }
        #[test]
        fn rt_txn(t in arb_txn()) {
            let b = t.to_bytes();
            prop_assert_eq!(Txn::decode(t.type_code(), &mut Reader::new(&b)).unwrap(), t);
        }
        #[test]
        fn rt_header(h in TxnHeader::arb()) { prop_assert_eq!(TxnHeader::from_bytes(&h.to_bytes()).unwrap(), h); }
        #[test]
        fn rt_digest(d in TxnDigest::arb()) { prop_assert_eq!(TxnDigest::from_bytes(&d.to_bytes()).unwrap(), d); }
        #[test]
        fn txn_decode_never_panics(ty in -12i32..25, body in proptest::collection::vec(any::<u8>(), 0..96)) {
            let _ = Txn::decode(ty, &mut Reader::new(&body));
        }
    }

    #[test]
    fn create2_in_multi_is_logged_as_create() {
        let c = CreateTxn {
            path: "/a".into(),
            ..Default::default()
        };
        let t = Txn::Multi(vec![Txn::Create2(c.clone()), Txn::Create2(c.clone())]);
        let logged = Txn::decode(t.type_code(), &mut Reader::new(&t.to_log_bytes())).unwrap();
        assert_eq!(
            logged,
            Txn::Multi(vec![Txn::Create(c.clone()), Txn::Create(c.clone())])
        );
        // Outside a multi, create2 is logged as such (every version replays it).
        assert_eq!(
            Txn::Create2(c.clone()).to_log_bytes(),
            Txn::Create2(c).to_bytes()
        );
    }

    #[test]
    fn close_session_body_is_told_apart_from_the_digest() {
        let header = TxnHeader {
            type_: op::CLOSE_SESSION,
            ..Default::default()
        };
        let digest = Some(TxnDigest {
            version: 2,
            tree_digest: 0x1234_5678_9abc,
        });
        for txn in [
            Txn::CloseSession(None),
            Txn::CloseSession(Some(CloseSessionTxn::default())),
            Txn::CloseSession(Some(CloseSessionTxn {
                paths_to_delete: vec!["/e1".into(), "/e2".into()],
            })),
        ] {
            for digest in [None, digest.clone()] {
                let e = TxnEntry {
                    header,
                    txn: txn.clone(),
                    digest,
                };
                assert_eq!(TxnEntry::decode(&e.to_bytes()).unwrap(), e);
            }
        }
    }

    #[test]
    fn header_is_32_bytes() {
        assert_eq!(TxnHeader::default().to_bytes().len(), 32);
    }
}

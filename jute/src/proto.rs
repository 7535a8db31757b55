//! Client protocol records (`zookeeper.jute`, package `proto`) and the typed request and
//! response bodies keyed by opcode.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::{record, Jute, Reader};
use crate::consts::op;
use crate::data::{Acl, Stat};
use crate::error::{Error, Result};

/// The connect handshake's request. The trailing `readOnly` byte is optional on the wire
/// (pre-3.4 clients omit it); `has_read_only` records whether it was present, because the
/// server must answer in the same shape.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectRequest {
    pub protocol_version: i32,
    pub last_zxid_seen: i64,
    pub timeout: i32,
    pub session_id: i64,
    pub passwd: Bytes,
    pub read_only: bool,
    pub has_read_only: bool,
}

impl Jute for ConnectRequest {
    fn encode(&self, out: &mut BytesMut) {
        out.put_i32(self.protocol_version);
        out.put_i64(self.last_zxid_seen);
        out.put_i32(self.timeout);
        out.put_i64(self.session_id);
        Some(self.passwd.clone()).encode(out);
        if self.has_read_only {
            out.put_u8(self.read_only as u8);
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let protocol_version = r.read_i32()?;
        let last_zxid_seen = r.read_i64()?;
        let timeout = r.read_i32()?;
        let session_id = r.read_i64()?;
        let passwd = Option::<Bytes>::decode(r)?.unwrap_or_default();
        let has_read_only = !r.is_empty();
        let read_only = has_read_only && r.read_u8()? != 0;
        Ok(ConnectRequest {
            protocol_version,
            last_zxid_seen,
            timeout,
            session_id,
            passwd,
            read_only,
            has_read_only,
        })
    }
}

/// The connect handshake's response; `has_read_only` mirrors the request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectResponse {
    pub protocol_version: i32,
    pub timeout: i32,
    pub session_id: i64,
    pub passwd: Bytes,
    pub read_only: bool,
    pub has_read_only: bool,
}

impl Jute for ConnectResponse {
    fn encode(&self, out: &mut BytesMut) {
        out.put_i32(self.protocol_version);
        out.put_i32(self.timeout);
        out.put_i64(self.session_id);
        Some(self.passwd.clone()).encode(out);
        if self.has_read_only {
            out.put_u8(self.read_only as u8);
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let protocol_version = r.read_i32()?;
        let timeout = r.read_i32()?;
        let session_id = r.read_i64()?;
        let passwd = Option::<Bytes>::decode(r)?.unwrap_or_default();
        let has_read_only = !r.is_empty();
        let read_only = has_read_only && r.read_u8()? != 0;
        Ok(ConnectResponse {
            protocol_version,
            timeout,
            session_id,
            passwd,
            read_only,
            has_read_only,
        })
    }
}

record! { pub struct RequestHeader { pub xid: i32, pub op: i32 } }
record! { pub struct ReplyHeader { pub xid: i32, pub zxid: i64, pub err: i32 } }

record! { pub struct CreateRequest { pub path: String, pub data: Option<Bytes>, pub acl: Vec<Acl>, pub flags: i32 } }
record! { pub struct CreateTtlRequest { pub path: String, pub data: Option<Bytes>, pub acl: Vec<Acl>, pub flags: i32, pub ttl: i64 } }
record! { pub struct CreateResponse { pub path: String } }
record! { pub struct Create2Response { pub path: String, pub stat: Stat } }
record! { pub struct DeleteRequest { pub path: String, pub version: i32 } }
record! { pub struct ExistsRequest { pub path: String, pub watch: bool } }
record! { pub struct ExistsResponse { pub stat: Stat } }
record! { pub struct GetDataRequest { pub path: String, pub watch: bool } }
record! { pub struct GetDataResponse { pub data: Option<Bytes>, pub stat: Stat } }
record! { pub struct SetDataRequest { pub path: String, pub data: Option<Bytes>, pub version: i32 } }
record! { pub struct SetDataResponse { pub stat: Stat } }
record! { pub struct GetAclRequest { pub path: String } }
record! { pub struct GetAclResponse { pub acl: Vec<Acl>, pub stat: Stat } }
record! { pub struct SetAclRequest { pub path: String, pub acl: Vec<Acl>, pub version: i32 } }
record! { pub struct SetAclResponse { pub stat: Stat } }
record! { pub struct GetChildrenRequest { pub path: String, pub watch: bool } }
record! { pub struct GetChildrenResponse { pub children: Vec<String> } }
record! { pub struct GetChildren2Request { pub path: String, pub watch: bool } }
record! { pub struct GetChildren2Response { pub children: Vec<String>, pub stat: Stat } }
record! { pub struct CheckVersionRequest { pub path: String, pub version: i32 } }
record! { pub struct SyncRequest { pub path: String } }
record! { pub struct SyncResponse { pub path: String } }
record! { pub struct ReconfigRequest { pub joining_servers: String, pub leaving_servers: String, pub new_members: String, pub cur_config_id: i64 } }
record! { pub struct CheckWatchesRequest { pub path: String, pub type_: i32 } }
record! { pub struct RemoveWatchesRequest { pub path: String, pub type_: i32 } }
record! { pub struct AddWatchRequest { pub path: String, pub mode: i32 } }
record! { pub struct GetEphemeralsRequest { pub prefix_path: String } }
record! { pub struct GetEphemeralsResponse { pub ephemerals: Vec<String> } }
record! { pub struct GetAllChildrenNumberRequest { pub path: String } }
record! { pub struct GetAllChildrenNumberResponse { pub total_number: i32 } }
record! { pub struct ClientInfo { pub auth_scheme: String, pub user: String } }
record! { pub struct WhoAmIResponse { pub client_info: Vec<ClientInfo> } }
record! { pub struct AuthPacket { pub type_: i32, pub scheme: String, pub auth: Option<Bytes> } }
record! { pub struct GetSaslRequest { pub token: Option<Bytes> } }
record! { pub struct SetSaslResponse { pub token: Option<Bytes> } }
record! {
    pub struct SetWatches {
        pub relative_zxid: i64,
        pub data_watches: Vec<String>,
        pub exist_watches: Vec<String>,
        pub child_watches: Vec<String>,
    }
}
record! {
    pub struct SetWatches2 {
        pub relative_zxid: i64,
        pub data_watches: Vec<String>,
        pub exist_watches: Vec<String>,
        pub child_watches: Vec<String>,
        pub persistent_watches: Vec<String>,
        pub persistent_recursive_watches: Vec<String>,
    }
}
record! { pub struct WatcherEvent { pub type_: i32, pub state: i32, pub path: String } }
record! { pub struct ErrorResponse { pub err: i32 } }
record! { pub struct MultiHeader { pub type_: i32, pub done: bool, pub err: i32 } }
// Opcode 20's body: a bare path buffer.
record! { pub struct DeleteContainerRequest { pub path: String } }

/// One operation of a multi (14) or multiRead (22).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiOp {
    Create(CreateRequest),
    Create2(CreateRequest),
    CreateContainer(CreateRequest),
    CreateTtl(CreateTtlRequest),
    Delete(DeleteRequest),
    SetData(SetDataRequest),
    Check(CheckVersionRequest),
    GetChildren(GetChildrenRequest),
    GetData(GetDataRequest),
}

impl MultiOp {
    pub fn opcode(&self) -> i32 {
        match self {
            MultiOp::Create(_) => op::CREATE,
            MultiOp::Create2(_) => op::CREATE2,
            MultiOp::CreateContainer(_) => op::CREATE_CONTAINER,
            MultiOp::CreateTtl(_) => op::CREATE_TTL,
            MultiOp::Delete(_) => op::DELETE,
            MultiOp::SetData(_) => op::SET_DATA,
            MultiOp::Check(_) => op::CHECK,
            MultiOp::GetChildren(_) => op::GET_CHILDREN,
            MultiOp::GetData(_) => op::GET_DATA,
        }
    }

    pub fn is_read(&self) -> bool {
        matches!(self, MultiOp::GetChildren(_) | MultiOp::GetData(_))
    }

    pub fn path(&self) -> &str {
        match self {
            MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => &r.path,
            MultiOp::CreateTtl(r) => &r.path,
            MultiOp::Delete(r) => &r.path,
            MultiOp::SetData(r) => &r.path,
            MultiOp::Check(r) => &r.path,
            MultiOp::GetChildren(r) => &r.path,
            MultiOp::GetData(r) => &r.path,
        }
    }

    fn encode_body(&self, out: &mut BytesMut) {
        match self {
            MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => r.encode(out),
            MultiOp::CreateTtl(r) => r.encode(out),
            MultiOp::Delete(r) => r.encode(out),
            MultiOp::SetData(r) => r.encode(out),
            MultiOp::Check(r) => r.encode(out),
            MultiOp::GetChildren(r) => r.encode(out),
            MultiOp::GetData(r) => r.encode(out),
        }
    }
}

/// Encodes a multi request body: header + op per op, then the `done` header.
pub fn encode_multi(ops: &[MultiOp], out: &mut BytesMut) {
    for o in ops {
        MultiHeader {
            type_: o.opcode(),
            done: false,
            err: -1,
        }
        .encode(out);
        o.encode_body(out);
    }
    MultiHeader {
        type_: -1,
        done: true,
        err: -1,
    }
    .encode(out);
}

/// Decodes a multi body. `read` selects multiRead (only getData/getChildren allowed) or a
/// write multi (no reads allowed): mixing them is a parse error, as in Java.
pub fn decode_multi(r: &mut Reader<'_>, read: bool) -> Result<Vec<MultiOp>> {
    let mut ops = Vec::new();
    loop {
        let h = MultiHeader::decode(r)?;
        if h.done {
            return Ok(ops);
        }
        let o = match h.type_ {
            op::CREATE => MultiOp::Create(Jute::decode(r)?),
            op::CREATE2 => MultiOp::Create2(Jute::decode(r)?),
            op::CREATE_CONTAINER => MultiOp::CreateContainer(Jute::decode(r)?),
            op::CREATE_TTL => MultiOp::CreateTtl(Jute::decode(r)?),
            op::DELETE => MultiOp::Delete(Jute::decode(r)?),
            op::SET_DATA => MultiOp::SetData(Jute::decode(r)?),
            op::CHECK => MultiOp::Check(Jute::decode(r)?),
            op::GET_CHILDREN => MultiOp::GetChildren(Jute::decode(r)?),
            op::GET_DATA => MultiOp::GetData(Jute::decode(r)?),
            t => {
                return Err(Error::Unknown {
                    what: "multi op type",
                    value: t,
                })
            }
        };
        if o.is_read() != read {
            return Err(Error::Invalid("multi mixes read and write operations"));
        }
        ops.push(o);
    }
}

/// One result of a multi response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiResult {
    Create { path: String },
    Create2 { path: String, stat: Stat },
    Delete,
    SetData { stat: Stat },
    Check,
    GetChildren { children: Vec<String> },
    GetData { data: Option<Bytes>, stat: Stat },
    Error { err: i32 },
}

pub fn encode_multi_results(results: &[MultiResult], out: &mut BytesMut) {
    for res in results {
        let (type_, err) = match res {
            MultiResult::Create { .. } => (op::CREATE, 0),
            MultiResult::Create2 { .. } => (op::CREATE2, 0),
            MultiResult::Delete => (op::DELETE, 0),
            MultiResult::SetData { .. } => (op::SET_DATA, 0),
            MultiResult::Check => (op::CHECK, 0),
            MultiResult::GetChildren { .. } => (op::GET_CHILDREN, 0),
            MultiResult::GetData { .. } => (op::GET_DATA, 0),
            MultiResult::Error { err } => (op::ERROR, *err),
        };
        MultiHeader {
            type_,
            done: false,
            err,
        }
        .encode(out);
        match res {
            MultiResult::Create { path } => path.encode(out),
            MultiResult::Create2 { path, stat } => {
                path.encode(out);
                stat.encode(out);
            }
            MultiResult::Delete | MultiResult::Check => {}
            MultiResult::SetData { stat } => stat.encode(out),
            MultiResult::GetChildren { children } => children.encode(out),
            MultiResult::GetData { data, stat } => {
                data.encode(out);
                stat.encode(out);
            }
            MultiResult::Error { err } => err.encode(out),
        }
    }
    MultiHeader {
        type_: -1,
        done: true,
        err: -1,
    }
    .encode(out);
}

pub fn decode_multi_results(r: &mut Reader<'_>) -> Result<Vec<MultiResult>> {
    let mut results = Vec::new();
    loop {
        let h = MultiHeader::decode(r)?;
        if h.done {
            return Ok(results);
        }
        results.push(match h.type_ {
            op::CREATE => MultiResult::Create {
                path: Jute::decode(r)?,
            },
            op::CREATE2 => MultiResult::Create2 {
                path: Jute::decode(r)?,
                stat: Jute::decode(r)?,
            },
            op::DELETE => MultiResult::Delete,
            op::SET_DATA => MultiResult::SetData {
                stat: Jute::decode(r)?,
            },
            op::CHECK => MultiResult::Check,
            op::GET_CHILDREN => MultiResult::GetChildren {
                children: Jute::decode(r)?,
            },
            op::GET_DATA => MultiResult::GetData {
                data: Jute::decode(r)?,
                stat: Jute::decode(r)?,
            },
            op::ERROR => MultiResult::Error {
                err: Jute::decode(r)?,
            },
            t => {
                return Err(Error::Unknown {
                    what: "multi result type",
                    value: t,
                })
            }
        });
    }
}

/// A request body, typed by its opcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Create(CreateRequest),
    Create2(CreateRequest),
    CreateContainer(CreateRequest),
    CreateTtl(CreateTtlRequest),
    Delete(DeleteRequest),
    DeleteContainer(DeleteContainerRequest),
    Exists(ExistsRequest),
    GetData(GetDataRequest),
    SetData(SetDataRequest),
    GetAcl(GetAclRequest),
    SetAcl(SetAclRequest),
    GetChildren(GetChildrenRequest),
    GetChildren2(GetChildren2Request),
    Sync(SyncRequest),
    Ping,
    Check(CheckVersionRequest),
    Multi(Vec<MultiOp>),
    MultiRead(Vec<MultiOp>),
    Reconfig(ReconfigRequest),
    CheckWatches(CheckWatchesRequest),
    RemoveWatches(RemoveWatchesRequest),
    Auth(AuthPacket),
    SetWatches(SetWatches),
    SetWatches2(SetWatches2),
    Sasl(GetSaslRequest),
    GetEphemerals(GetEphemeralsRequest),
    GetAllChildrenNumber(GetAllChildrenNumberRequest),
    AddWatch(AddWatchRequest),
    WhoAmI,
    CloseSession,
}

impl Request {
    pub fn opcode(&self) -> i32 {
        use Request::*;
        match self {
            Create(_) => op::CREATE,
            Create2(_) => op::CREATE2,
            CreateContainer(_) => op::CREATE_CONTAINER,
            CreateTtl(_) => op::CREATE_TTL,
            Delete(_) => op::DELETE,
            DeleteContainer(_) => op::DELETE_CONTAINER,
            Exists(_) => op::EXISTS,
            GetData(_) => op::GET_DATA,
            SetData(_) => op::SET_DATA,
            GetAcl(_) => op::GET_ACL,
            SetAcl(_) => op::SET_ACL,
            GetChildren(_) => op::GET_CHILDREN,
            GetChildren2(_) => op::GET_CHILDREN2,
            Sync(_) => op::SYNC,
            Ping => op::PING,
            Check(_) => op::CHECK,
            Multi(_) => op::MULTI,
            MultiRead(_) => op::MULTI_READ,
            Reconfig(_) => op::RECONFIG,
            CheckWatches(_) => op::CHECK_WATCHES,
            RemoveWatches(_) => op::REMOVE_WATCHES,
            Auth(_) => op::AUTH,
            SetWatches(_) => op::SET_WATCHES,
            SetWatches2(_) => op::SET_WATCHES2,
            Sasl(_) => op::SASL,
            GetEphemerals(_) => op::GET_EPHEMERALS,
            GetAllChildrenNumber(_) => op::GET_ALL_CHILDREN_NUMBER,
            AddWatch(_) => op::ADD_WATCH,
            WhoAmI => op::WHO_AM_I,
            CloseSession => op::CLOSE_SESSION,
        }
    }

    /// Decodes the body of a request with opcode `opcode`. Unknown opcodes are
    /// `Error::Unknown`; bodies that do not parse are other errors (MARSHALLINGERROR).
    pub fn decode(opcode: i32, r: &mut Reader<'_>) -> Result<Request> {
        use Request::*;
        Ok(match opcode {
            op::CREATE => Create(Jute::decode(r)?),
            op::CREATE2 => Create2(Jute::decode(r)?),
            op::CREATE_CONTAINER => CreateContainer(Jute::decode(r)?),
            op::CREATE_TTL => CreateTtl(Jute::decode(r)?),
            op::DELETE => Delete(Jute::decode(r)?),
            op::DELETE_CONTAINER => DeleteContainer(Jute::decode(r)?),
            op::EXISTS => Exists(Jute::decode(r)?),
            op::GET_DATA => GetData(Jute::decode(r)?),
            op::SET_DATA => SetData(Jute::decode(r)?),
            op::GET_ACL => GetAcl(Jute::decode(r)?),
            op::SET_ACL => SetAcl(Jute::decode(r)?),
            op::GET_CHILDREN => GetChildren(Jute::decode(r)?),
            op::GET_CHILDREN2 => GetChildren2(Jute::decode(r)?),
            op::SYNC => Sync(Jute::decode(r)?),
            op::PING => Ping,
            op::CHECK => Check(Jute::decode(r)?),
            op::MULTI => Multi(decode_multi(r, false)?),
            op::MULTI_READ => MultiRead(decode_multi(r, true)?),
            op::RECONFIG => Reconfig(Jute::decode(r)?),
            op::CHECK_WATCHES => CheckWatches(Jute::decode(r)?),
            op::REMOVE_WATCHES => RemoveWatches(Jute::decode(r)?),
            op::AUTH => Auth(Jute::decode(r)?),
            op::SET_WATCHES => SetWatches(Jute::decode(r)?),
            op::SET_WATCHES2 => SetWatches2(Jute::decode(r)?),
            op::SASL => Sasl(Jute::decode(r)?),
            op::GET_EPHEMERALS => GetEphemerals(Jute::decode(r)?),
            op::GET_ALL_CHILDREN_NUMBER => GetAllChildrenNumber(Jute::decode(r)?),
            op::ADD_WATCH => AddWatch(Jute::decode(r)?),
            op::WHO_AM_I => WhoAmI,
            op::CLOSE_SESSION => CloseSession,
            other => {
                return Err(Error::Unknown {
                    what: "opcode",
                    value: other,
                })
            }
        })
    }

    /// Encodes the body (without the RequestHeader).
    pub fn encode(&self, out: &mut BytesMut) {
        use Request::*;
        match self {
            Create(r) | Create2(r) | CreateContainer(r) => r.encode(out),
            CreateTtl(r) => r.encode(out),
            Delete(r) => r.encode(out),
            DeleteContainer(r) => r.encode(out),
            Exists(r) => r.encode(out),
            GetData(r) => r.encode(out),
            SetData(r) => r.encode(out),
            GetAcl(r) => r.encode(out),
            SetAcl(r) => r.encode(out),
            GetChildren(r) => r.encode(out),
            GetChildren2(r) => r.encode(out),
            Sync(r) => r.encode(out),
            Check(r) => r.encode(out),
            Multi(ops) | MultiRead(ops) => encode_multi(ops, out),
            Reconfig(r) => r.encode(out),
            CheckWatches(r) => r.encode(out),
            RemoveWatches(r) => r.encode(out),
            Auth(r) => r.encode(out),
            SetWatches(r) => r.encode(out),
            SetWatches2(r) => r.encode(out),
            Sasl(r) => r.encode(out),
            GetEphemerals(r) => r.encode(out),
            GetAllChildrenNumber(r) => r.encode(out),
            AddWatch(r) => r.encode(out),
            Ping | WhoAmI | CloseSession => {}
        }
    }
}

/// A successful response body. Errors are a bare ReplyHeader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// No body (delete, sync-less ops, ping, close, setWatches, auth, ...).
    Empty,
    Create(CreateResponse),
    Create2(Create2Response),
    Stat(Stat),
    GetData(GetDataResponse),
    GetAcl(GetAclResponse),
    GetChildren(GetChildrenResponse),
    GetChildren2(GetChildren2Response),
    Sync(SyncResponse),
    Multi(Vec<MultiResult>),
    /// addWatch answers with a 4-byte ErrorResponse{0}.
    AddWatch,
    GetEphemerals(GetEphemeralsResponse),
    GetAllChildrenNumber(GetAllChildrenNumberResponse),
    WhoAmI(WhoAmIResponse),
    Sasl(SetSaslResponse),
}

impl Response {
    pub fn encode(&self, out: &mut BytesMut) {
        use Response::*;
        match self {
            Empty => {}
            Create(r) => r.encode(out),
            Create2(r) => r.encode(out),
            Stat(s) => s.encode(out),
            GetData(r) => r.encode(out),
            GetAcl(r) => r.encode(out),
            GetChildren(r) => r.encode(out),
            GetChildren2(r) => r.encode(out),
            Sync(r) => r.encode(out),
            Multi(results) => encode_multi_results(results, out),
            AddWatch => ErrorResponse { err: 0 }.encode(out),
            GetEphemerals(r) => r.encode(out),
            GetAllChildrenNumber(r) => r.encode(out),
            WhoAmI(r) => r.encode(out),
            Sasl(r) => r.encode(out),
        }
    }

    /// A rough upper bound of the encoded size, used to account outbound buffers.
    pub fn size_hint(&self) -> usize {
        use Response::*;
        match self {
            Empty | AddWatch => 4,
            Create(r) => 4 + r.path.len(),
            Create2(r) => 72 + r.path.len(),
            Stat(_) => 68,
            GetData(r) => 72 + r.data.as_ref().map_or(0, |d| d.len()),
            GetAcl(r) => {
                72 + r
                    .acl
                    .iter()
                    .map(|a| 12 + a.id.scheme.len() + a.id.id.len())
                    .sum::<usize>()
            }
            GetChildren(r) => 4 + r.children.iter().map(|c| 4 + c.len()).sum::<usize>(),
            GetChildren2(r) => 72 + r.children.iter().map(|c| 4 + c.len()).sum::<usize>(),
            Sync(r) => 4 + r.path.len(),
            Multi(rs) => 9 + rs.len() * 80,
            GetEphemerals(r) => 4 + r.ephemerals.iter().map(|c| 4 + c.len()).sum::<usize>(),
            GetAllChildrenNumber(_) => 4,
            WhoAmI(r) => {
                4 + r
                    .client_info
                    .iter()
                    .map(|c| 8 + c.auth_scheme.len() + c.user.len())
                    .sum::<usize>()
            }
            Sasl(r) => 4 + r.token.as_ref().map_or(0, |t| t.len()),
        }
    }

    /// Decodes a success body for a request of `opcode` (the client side of the protocol).
    pub fn decode(opcode: i32, r: &mut Reader<'_>) -> Result<Response> {
        use Response::*;
        Ok(match opcode {
            op::CREATE => Create(Jute::decode(r)?),
            op::CREATE2 | op::CREATE_CONTAINER | op::CREATE_TTL => Create2(Jute::decode(r)?),
            op::EXISTS | op::SET_DATA | op::SET_ACL => Stat(Jute::decode(r)?),
            op::GET_DATA | op::RECONFIG => GetData(Jute::decode(r)?),
            op::GET_ACL => GetAcl(Jute::decode(r)?),
            op::GET_CHILDREN => GetChildren(Jute::decode(r)?),
            op::GET_CHILDREN2 => GetChildren2(Jute::decode(r)?),
            op::SYNC => Sync(Jute::decode(r)?),
            op::MULTI | op::MULTI_READ => Multi(decode_multi_results(r)?),
            op::ADD_WATCH => {
                ErrorResponse::decode(r)?;
                AddWatch
            }
            op::GET_EPHEMERALS => GetEphemerals(Jute::decode(r)?),
            op::GET_ALL_CHILDREN_NUMBER => GetAllChildrenNumber(Jute::decode(r)?),
            op::WHO_AM_I => WhoAmI(Jute::decode(r)?),
            op::SASL => Sasl(Jute::decode(r)?),
            _ => Empty,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::arb::Arb;
    use proptest::prelude::*;

    macro_rules! round_trip {
        ($($name:ident: $t:ty),* $(,)?) => {
            proptest! {
                $(
                    #[test]
                    fn $name(v in <$t>::arb()) {
                        let b = v.to_bytes();
                        prop_assert_eq!(<$t>::from_bytes(&b).unwrap(), v);
                        // Every strict prefix is an error, never a panic.
                        for cut in 0..b.len() {
                            let _ = <$t>::from_bytes(&b[..cut]);
                        }
                    }
                )*
            }
        };
    }

    round_trip! {
        rt_request_header: RequestHeader, rt_reply_header: ReplyHeader,
        rt_create: CreateRequest, rt_create_ttl: CreateTtlRequest, rt_create_resp: CreateResponse,
        rt_create2_resp: Create2Response, rt_delete: DeleteRequest, rt_exists: ExistsRequest,
        rt_exists_resp: ExistsResponse, rt_get_data: GetDataRequest, rt_get_data_resp: GetDataResponse,
        rt_set_data: SetDataRequest, rt_set_data_resp: SetDataResponse, rt_get_acl: GetAclRequest,
        rt_get_acl_resp: GetAclResponse, rt_set_acl: SetAclRequest, rt_set_acl_resp: SetAclResponse,
        rt_get_children: GetChildrenRequest, rt_get_children_resp: GetChildrenResponse,
        rt_get_children2: GetChildren2Request, rt_get_children2_resp: GetChildren2Response,
        rt_check: CheckVersionRequest, rt_sync: SyncRequest, rt_sync_resp: SyncResponse,
        rt_reconfig: ReconfigRequest, rt_check_watches: CheckWatchesRequest,
        rt_remove_watches: RemoveWatchesRequest, rt_add_watch: AddWatchRequest,
        rt_get_ephemerals: GetEphemeralsRequest, rt_get_ephemerals_resp: GetEphemeralsResponse,
        rt_all_children: GetAllChildrenNumberRequest, rt_all_children_resp: GetAllChildrenNumberResponse,
        rt_client_info: ClientInfo, rt_who_am_i: WhoAmIResponse, rt_auth: AuthPacket,
        rt_sasl_req: GetSaslRequest, rt_sasl_resp: SetSaslResponse, rt_set_watches: SetWatches,
        rt_set_watches2: SetWatches2, rt_watcher_event: WatcherEvent, rt_error: ErrorResponse,
        rt_multi_header: MultiHeader, rt_delete_container: DeleteContainerRequest,
    }

    fn arb_connect() -> impl Strategy<Value = ConnectRequest> {
        (
            any::<i32>(),
            any::<i64>(),
            any::<i32>(),
            any::<i64>(),
            proptest::collection::vec(any::<u8>(), 0..20),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(p, z, t, s, pw, ro, has)| ConnectRequest {
                protocol_version: p,
                last_zxid_seen: z,
                timeout: t,
                session_id: s,
                passwd: Bytes::from(pw),
                read_only: ro && has,
                has_read_only: has,
            })
    }

    fn arb_write_op() -> impl Strategy<Value = MultiOp> {
        prop_oneof![
            CreateRequest::arb().prop_map(MultiOp::Create),
            CreateRequest::arb().prop_map(MultiOp::Create2),
            CreateRequest::arb().prop_map(MultiOp::CreateContainer),
            CreateTtlRequest::arb().prop_map(MultiOp::CreateTtl),
            DeleteRequest::arb().prop_map(MultiOp::Delete),
            SetDataRequest::arb().prop_map(MultiOp::SetData),
            CheckVersionRequest::arb().prop_map(MultiOp::Check),
        ]
    }

    fn arb_result() -> impl Strategy<Value = MultiResult> {
        prop_oneof![
            String::arb().prop_map(|path| MultiResult::Create { path }),
            (String::arb(), Stat::arb())
                .prop_map(|(path, stat)| MultiResult::Create2 { path, stat }),
            Just(MultiResult::Delete),
            Stat::arb().prop_map(|stat| MultiResult::SetData { stat }),
            Just(MultiResult::Check),
            Vec::<String>::arb().prop_map(|children| MultiResult::GetChildren { children }),
            (Option::<Bytes>::arb(), Stat::arb())
                .prop_map(|(data, stat)| MultiResult::GetData { data, stat }),
            any::<i32>().prop_map(|err| MultiResult::Error { err }),
        ]
    }

    proptest! {
        #[test]
        fn rt_connect_request(v in arb_connect()) {
            prop_assert_eq!(ConnectRequest::from_bytes(&v.to_bytes()).unwrap(), v);
        }

        #[test]
        fn rt_connect_response(v in arb_connect()) {
            let resp = ConnectResponse { protocol_version: v.protocol_version, timeout: v.timeout,
                session_id: v.session_id, passwd: v.passwd, read_only: v.read_only, has_read_only: v.has_read_only };
            prop_assert_eq!(ConnectResponse::from_bytes(&resp.to_bytes()).unwrap(), resp);
        }

        #[test]
        fn rt_multi(ops in proptest::collection::vec(arb_write_op(), 0..6)) {
            let req = Request::Multi(ops);
            let mut b = BytesMut::new();
            req.encode(&mut b);
            prop_assert_eq!(Request::decode(op::MULTI, &mut Reader::new(&b)).unwrap(), req);
        }

        #[test]
        fn rt_multi_results(rs in proptest::collection::vec(arb_result(), 0..6)) {
            let resp = Response::Multi(rs);
            let mut b = BytesMut::new();
            resp.encode(&mut b);
            prop_assert_eq!(Response::decode(op::MULTI, &mut Reader::new(&b)).unwrap(), resp);
        }

        #[test]
        fn request_decode_never_panics(opcode in -12i32..110, body in proptest::collection::vec(any::<u8>(), 0..96)) {
            let _ = Request::decode(opcode, &mut Reader::new(&body));
        }
    }

    #[test]
    fn connect_sizes_match_java() {
        let mut c = ConnectRequest {
            passwd: Bytes::from(vec![0u8; 16]),
            has_read_only: true,
            ..Default::default()
        };
        assert_eq!(c.to_bytes().len(), 45);
        c.has_read_only = false;
        assert_eq!(c.to_bytes().len(), 44);
    }

    #[test]
    fn multi_rejects_mixed_read_and_write() {
        let mut b = BytesMut::new();
        encode_multi(
            &[MultiOp::GetData(GetDataRequest {
                path: "/a".into(),
                watch: false,
            })],
            &mut b,
        );
        assert!(Request::decode(op::MULTI, &mut Reader::new(&b)).is_err());
        assert!(Request::decode(op::MULTI_READ, &mut Reader::new(&b)).is_ok());
    }
}

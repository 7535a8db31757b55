//! Records shared by the client protocol, the txn log and snapshots.

use crate::codec::record;

record! {
    /// An identity: `scheme:id`, e.g. `world:anyone`, `digest:alice:<base64 sha1>`.
    #[derive(Hash, PartialOrd, Ord)]
    pub struct Id {
        pub scheme: String,
        pub id: String,
    }
}

record! {
    #[derive(Hash, PartialOrd, Ord)]
    pub struct Acl {
        pub perms: i32,
        pub id: Id,
    }
}

record! {
    /// The Stat a client sees (68 bytes).
    #[derive(Copy)]
    pub struct Stat {
        pub czxid: i64,
        pub mzxid: i64,
        pub ctime: i64,
        pub mtime: i64,
        pub version: i32,
        pub cversion: i32,
        pub aversion: i32,
        pub ephemeral_owner: i64,
        pub data_length: i32,
        pub num_children: i32,
        pub pzxid: i64,
    }
}

record! {
    /// The Stat stored in snapshots (60 bytes): no dataLength or numChildren, and `cversion`
    /// counts child creations only (see the tree module).
    #[derive(Copy)]
    pub struct StatPersisted {
        pub czxid: i64,
        pub mzxid: i64,
        pub ctime: i64,
        pub mtime: i64,
        pub version: i32,
        pub cversion: i32,
        pub aversion: i32,
        pub ephemeral_owner: i64,
        pub pzxid: i64,
    }
}

impl Acl {
    pub fn new(perms: i32, scheme: &str, id: &str) -> Acl {
        Acl {
            perms,
            id: Id {
                scheme: scheme.into(),
                id: id.into(),
            },
        }
    }

    /// `OPEN_ACL_UNSAFE`.
    pub fn open_unsafe() -> Vec<Acl> {
        vec![Acl::new(crate::consts::perms::ALL, "world", "anyone")]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{arb::Arb, Jute};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip_stat(v in Stat::arb()) { prop_assert_eq!(Stat::from_bytes(&v.to_bytes()).unwrap(), v); }
        #[test]
        fn round_trip_stat_persisted(v in StatPersisted::arb()) { prop_assert_eq!(StatPersisted::from_bytes(&v.to_bytes()).unwrap(), v); }
        #[test]
        fn round_trip_acl(v in Acl::arb()) { prop_assert_eq!(Acl::from_bytes(&v.to_bytes()).unwrap(), v); }
    }

    #[test]
    fn stat_is_68_bytes() {
        assert_eq!(Stat::default().to_bytes().len(), 68);
        assert_eq!(StatPersisted::default().to_bytes().len(), 60);
    }
}

//! Authentication schemes and ACL checks, as ZooKeeperServer.checkACL and
//! PrepRequestProcessor.fixupACL do them. Built-in schemes: world, auth, digest, ip, super.

use std::net::IpAddr;

use base64::Engine;
use jute::consts::ErrorCode;
use jute::data::{Acl, Id};
use sha1::{Digest, Sha1};

/// `user:password` → `user:base64(sha1(user:password))`.
pub fn digest_id(user_password: &str) -> String {
    let user = user_password.split(':').next().unwrap_or_default();
    let hash = Sha1::digest(user_password.as_bytes());
    format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

/// Java's `String.split(":")`: trailing empty strings are dropped.
fn java_split_count(s: &str, sep: char) -> usize {
    let parts: Vec<&str> = s.split(sep).collect();
    let trailing_empty = parts.iter().rev().take_while(|p| p.is_empty()).count();
    (parts.len() - trailing_empty).max(if s.is_empty() { 1 } else { 0 })
}

fn digest_id_valid(id: &str) -> bool {
    java_split_count(id, ':') == 2
}

/// `a.b.c.d[/bits]` or an IPv6 address with optional prefix length.
fn parse_ip_acl(id: &str) -> Option<(IpAddr, u32)> {
    let (addr, bits) = match id.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (id, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        Some(b) => {
            let n: i64 = b.parse().ok()?;
            if !(0..=max as i64).contains(&n) {
                return None;
            }
            n as u32
        }
        None => max,
    };
    Some((ip, bits))
}

fn ip_matches(caller: &str, acl_id: &str) -> bool {
    let (Some((net, bits)), Ok(ip)) = (parse_ip_acl(acl_id), caller.parse::<IpAddr>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// A scheme is known to this server (has a provider).
fn provider_known(scheme: &str) -> bool {
    matches!(scheme, "digest" | "ip")
}

/// Does `acl` let a caller with `ids` do `perm`? (`perm` may combine bits: any one suffices.)
pub fn check(acl: &[Acl], ids: &[Id], perm: i32) -> Result<(), ErrorCode> {
    if acl.is_empty() || ids.iter().any(|i| i.scheme == "super") {
        return Ok(());
    }
    for a in acl {
        if a.perms & perm == 0 {
            continue;
        }
        if a.id.scheme == "world" && a.id.id == "anyone" {
            return Ok(());
        }
        if !provider_known(&a.id.scheme) {
            continue;
        }
        for caller in ids.iter().filter(|i| i.scheme == a.id.scheme) {
            let ok = match a.id.scheme.as_str() {
                "digest" => caller.id == a.id.id,
                "ip" => ip_matches(&caller.id, &a.id.id),
                _ => false,
            };
            if ok {
                return Ok(());
            }
        }
    }
    Err(ErrorCode::NoAuth)
}

/// Validates an ACL list from create/setACL and expands `auth:` into the caller's
/// authenticated ids. Empty lists, unknown schemes and malformed ids are INVALIDACL.
pub fn fixup(acl: &[Acl], ids: &[Id]) -> Result<Vec<Acl>, ErrorCode> {
    let mut uniq: Vec<&Acl> = Vec::with_capacity(acl.len());
    for a in acl {
        if !uniq.contains(&a) {
            uniq.push(a);
        }
    }
    if uniq.is_empty() {
        return Err(ErrorCode::InvalidAcl);
    }
    let mut out = Vec::with_capacity(uniq.len());
    for a in uniq {
        if a.id.scheme == "world" && a.id.id == "anyone" {
            out.push(a.clone());
        } else if a.id.scheme == "auth" {
            // Only providers whose ids are authenticated (digest; not ip) expand.
            let mut any = false;
            for caller in ids.iter().filter(|i| i.scheme == "digest") {
                any = true;
                out.push(Acl {
                    perms: a.perms,
                    id: caller.clone(),
                });
            }
            if !any {
                return Err(ErrorCode::InvalidAcl);
            }
        } else {
            let valid = match a.id.scheme.as_str() {
                "digest" => digest_id_valid(&a.id.id),
                "ip" => parse_ip_acl(&a.id.id).is_some(),
                _ => false,
            };
            if !valid {
                return Err(ErrorCode::InvalidAcl);
            }
            out.push(a.clone());
        }
    }
    Ok(out)
}

/// What an AuthPacket adds to a connection, or AUTHFAILED.
pub fn authenticate(
    scheme: &str,
    auth: &[u8],
    peer: Option<IpAddr>,
    super_digest: Option<&str>,
) -> Result<Vec<Id>, ErrorCode> {
    match scheme {
        "digest" => {
            let text = std::str::from_utf8(auth).map_err(|_| ErrorCode::AuthFailed)?;
            let id = digest_id(text);
            let mut out = Vec::with_capacity(2);
            if super_digest == Some(id.as_str()) {
                out.push(Id {
                    scheme: "super".into(),
                    id: String::new(),
                });
            }
            out.push(Id {
                scheme: "digest".into(),
                id,
            });
            Ok(out)
        }
        "ip" => match peer {
            Some(ip) => Ok(vec![Id {
                scheme: "ip".into(),
                id: ip.to_string(),
            }]),
            None => Err(ErrorCode::AuthFailed),
        },
        _ => Err(ErrorCode::AuthFailed),
    }
}

/// getACL without ADMIN shows digest ids as `user:x`.
pub fn mask_digests(acl: &[Acl]) -> Vec<Acl> {
    acl.iter()
        .map(|a| {
            if a.id.scheme == "digest" {
                let user = a.id.id.split(':').next().unwrap_or_default();
                Acl {
                    perms: a.perms,
                    id: Id {
                        scheme: "digest".into(),
                        id: format!("{user}:x"),
                    },
                }
            } else {
                a.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jute::consts::perms;

    fn id(s: &str, i: &str) -> Id {
        Id {
            scheme: s.into(),
            id: i.into(),
        }
    }

    #[test]
    fn digest_vector() {
        assert_eq!(
            digest_id("alice:secret"),
            "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="
        );
    }

    #[test]
    fn ip_cidr() {
        let acl = [Acl::new(perms::READ, "ip", "10.1.0.0/16")];
        assert!(check(&acl, &[id("ip", "10.1.2.3")], perms::READ).is_ok());
        assert_eq!(
            check(&acl, &[id("ip", "10.2.2.3")], perms::READ),
            Err(ErrorCode::NoAuth)
        );
        assert_eq!(
            check(&acl, &[id("ip", "::1")], perms::READ),
            Err(ErrorCode::NoAuth)
        );
    }

    #[test]
    fn fixup_rules() {
        assert_eq!(fixup(&[], &[]), Err(ErrorCode::InvalidAcl));
        assert_eq!(
            fixup(&[Acl::new(31, "auth", "")], &[id("ip", "1.2.3.4")]),
            Err(ErrorCode::InvalidAcl)
        );
        let out = fixup(
            &[Acl::new(31, "auth", "")],
            &[id("ip", "1.2.3.4"), id("digest", "u:h")],
        )
        .unwrap();
        assert_eq!(out, vec![Acl::new(31, "digest", "u:h")]);
        assert_eq!(
            fixup(&[Acl::new(31, "digest", "nocolon")], &[]),
            Err(ErrorCode::InvalidAcl)
        );
        assert_eq!(
            fixup(&[Acl::new(31, "digest", "u:")], &[]),
            Err(ErrorCode::InvalidAcl)
        );
        assert_eq!(
            fixup(&[Acl::new(31, "world", "someone")], &[]),
            Err(ErrorCode::InvalidAcl)
        );
        assert_eq!(
            fixup(&[Acl::new(31, "ip", "1.2.3.4/33")], &[]),
            Err(ErrorCode::InvalidAcl)
        );
        let dup = [
            Acl::new(1, "world", "anyone"),
            Acl::new(1, "world", "anyone"),
        ];
        assert_eq!(fixup(&dup, &[]).unwrap().len(), 1);
    }

    #[test]
    fn super_bypasses() {
        let acl = [Acl::new(perms::READ, "digest", "u:h")];
        assert!(check(&acl, &[id("super", "")], perms::ADMIN).is_ok());
        let ids = authenticate("digest", b"super:pw", None, Some(&digest_id("super:pw"))).unwrap();
        assert!(ids.iter().any(|i| i.scheme == "super"));
    }
}

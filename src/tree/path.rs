//! ZooKeeper's path rules (`PathUtils.validatePath`) and path helpers.

/// Why a path is invalid; surfaced to clients as BADARGUMENTS.
pub fn validate(path: &str) -> Result<(), &'static str> {
    let b = path.as_bytes();
    if b.is_empty() {
        return Err("path length must be > 0");
    }
    if b[0] != b'/' {
        return Err("path must start with / character");
    }
    if b.len() == 1 {
        return Ok(());
    }
    if b[b.len() - 1] == b'/' {
        return Err("path must not end with / character");
    }
    let chars: Vec<char> = path.chars().collect();
    let mut last = '/';
    for i in 1..chars.len() {
        let c = chars[i];
        let next_is_end = i + 1 == chars.len() || chars[i + 1] == '/';
        if c == '\0' {
            return Err("null character not allowed");
        } else if c == '/' && last == '/' {
            return Err("empty node name specified");
        } else if c == '.' && last == '.' {
            if chars[i - 2] == '/' && next_is_end {
                return Err("relative paths not allowed");
            }
        } else if c == '.' {
            if chars[i - 1] == '/' && next_is_end {
                return Err("relative paths not allowed");
            }
        } else if ('\u{1}'..='\u{1f}').contains(&c)
            || ('\u{7f}'..='\u{9f}').contains(&c)
            // Java sees these as UTF-16 units: surrogates (any char above U+FFFF) and the
            // private use area up to U+F8FF, and U+FFF0..U+FFFF.
            || ('\u{e000}'..='\u{f8ff}').contains(&c)
            || c >= '\u{fff0}'
        {
            return Err("invalid character");
        }
        last = c;
    }
    Ok(())
}

/// The parent of a path; `/` for top-level nodes and for `/` itself.
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The last component of a path.
pub fn name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// `parent + "/" + name` without doubling the root slash.
pub fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

/// The paths whose changes are never digested and that cannot be deleted.
pub fn is_system(path: &str) -> bool {
    matches!(
        path,
        "/" | "/zookeeper" | "/zookeeper/quota" | "/zookeeper/config"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_rules() {
        for ok in ["/", "/a", "/a/b", "/a.b", "/..a", "/a/...", "/ü", "/a b"] {
            assert!(validate(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "/a/",
            "//a",
            "/a//b",
            "/.",
            "/..",
            "/a/./b",
            "/a/../b",
            "/a\0",
            "/a\u{1}",
            "/\u{e000}",
            "/\u{1F600}",
            "/\u{fff0}",
        ] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parents() {
        assert_eq!(parent("/a"), "/");
        assert_eq!(parent("/a/b"), "/a");
        assert_eq!(parent("/"), "/");
        assert_eq!(name("/a/b"), "b");
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
    }
}

//! Session passwords bit-identical to Java ZooKeeper's, so any server of a mixed ensemble can
//! check a password another server issued: the first 16 bytes of
//! `java.util.Random(sessionId ^ 0xB3415C00).nextBytes()`.

const MULTIPLIER: u64 = 0x5DEECE66D;
const MASK: u64 = (1 << 48) - 1;
const SUPER_SECRET: i64 = 0xB3415C00;

pub fn session_password(session_id: i64) -> [u8; 16] {
    let mut seed = ((session_id ^ SUPER_SECRET) as u64 ^ MULTIPLIER) & MASK;
    let mut out = [0u8; 16];
    for chunk in out.chunks_mut(4) {
        seed = (seed.wrapping_mul(MULTIPLIER).wrapping_add(0xB)) & MASK;
        let v = (seed >> 16) as u32;
        // nextBytes emits each int low byte first.
        for (i, b) in chunk.iter_mut().enumerate() {
            *b = (v >> (8 * i)) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn matches_the_jvm() {
        assert_eq!(
            hex(&session_password(0x0100000000000000)),
            "f22acd4a97e69d6d20a49bb638eadb38"
        );
        assert_eq!(
            hex(&session_password(0x1000123456780001)),
            "0d03861f9f50824b5d4962dab4fb3983"
        );
        assert_eq!(
            hex(&session_password(0x72c6a8bc9e350000)),
            "01529f8efa010421473ff4eed303efab"
        );
        assert_eq!(
            hex(&session_password(0x100004d87d10000)),
            "15497f9a7e2dcc857b5ef744f7043cf5"
        );
    }
}

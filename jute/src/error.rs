use thiserror::Error;

/// Why a buffer could not be decoded. Always a value, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    #[error("truncated input: needed {needed} bytes, {remaining} remain")]
    Truncated { needed: usize, remaining: usize },
    #[error("negative length {0}")]
    NegativeLength(i32),
    #[error("length {len} exceeds the limit of {limit} bytes")]
    TooLong { len: usize, limit: usize },
    #[error("string is neither UTF-8 nor Java's modified UTF-8")]
    InvalidUtf8,
    #[error("unknown {what} {value}")]
    Unknown { what: &'static str, value: i32 },
    #[error("invalid record: {0}")]
    Invalid(&'static str),
}

pub type Result<T> = std::result::Result<T, Error>;

//! The minisign key id ("keynum") and its text form.

use std::fmt;
use std::str::FromStr;

use crate::validate::excerpt;

/// A minisign key id ("keynum"): 8 random bytes chosen when the key pair is generated.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// The id as the little-endian integer minisign prints.
    pub fn as_u64(self) -> u64 {
        u64::from_le_bytes(self.0)
    }
}

impl fmt::Display for KeyId {
    /// Uppercase hex without leading zeros, as in `minisign public key 8F46F8CD08D782CD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}", self.as_u64())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl FromStr for KeyId {
    type Err = ParseKeyIdError;

    /// Accepts what [`fmt::Display`] prints (1 to 16 hex digits, any case).
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let error = || ParseKeyIdError { input: input.to_owned() };
        if input.is_empty() || input.len() > 16 || !input.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(error());
        }
        let value = u64::from_str_radix(input, 16).map_err(|_| error())?;
        Ok(Self(value.to_le_bytes()))
    }
}

impl serde::Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A string is not a minisign key id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid key id \"{}\": expected 1 to 16 hexadecimal digits, as minisign prints it", excerpt(input))]
#[non_exhaustive]
pub struct ParseKeyIdError {
    /// The rejected input.
    pub input: String,
}

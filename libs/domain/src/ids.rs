//! Identifier newtypes. Each is constructed only through `parse`, so a value of the type is
//! known to be well-formed wherever it travels.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must not be empty")]
    Empty { kind: &'static str },
    #[error("{kind} is longer than {max} characters")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} {value:?} may contain only ASCII letters, digits, '-' and '_'")]
    BadCharacter { kind: &'static str, value: String },
    #[error("issue key {0:?} is not of the form PROJECT-123")]
    BadIssueKey(String),
}

fn check_slug(kind: &'static str, value: &str) -> Result<(), IdError> {
    const MAX: usize = 64;
    if value.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if value.len() > MAX {
        return Err(IdError::TooLong { kind, max: MAX });
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(IdError::BadCharacter {
            kind,
            value: value.chars().take(MAX).collect(),
        });
    }
    Ok(())
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses a configured name: ASCII letters, digits, `-` and `_`, at most 64 characters.
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check_slug($kind, &value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_id!(
    /// A configured endpoint: one Jira site (or other system) we talk to.
    EndpointId,
    "endpoint id"
);
slug_id!(
    /// A configured connection: a pair of endpoints with scope and mappings.
    ConnectionId,
    "connection id"
);

/// A Jira issue key such as `ACME-42`. Keys change when an issue moves, so links are stored by
/// issue id; the key is kept for humans and for look-ups.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IssueKey(String);

impl IssueKey {
    pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
        let value = value.into();
        let Some((project, number)) = value.rsplit_once('-') else {
            return Err(IdError::BadIssueKey(value));
        };
        let project_ok = !project.is_empty()
            && project.len() <= 255
            && project
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let number_ok =
            !number.is_empty() && number.len() <= 18 && number.bytes().all(|b| b.is_ascii_digit());
        if project_ok && number_ok {
            Ok(Self(value))
        } else {
            Err(IdError::BadIssueKey(value))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The project part of the key (`ACME` for `ACME-42`).
    pub fn project(&self) -> &str {
        self.0.rsplit_once('-').map_or(&self.0, |(p, _)| p)
    }
}

impl TryFrom<String> for IssueKey {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<IssueKey> for String {
    fn from(value: IssueKey) -> Self {
        value.0
    }
}

impl fmt::Display for IssueKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of one delivery of an event (Jira's `X-Atlassian-Webhook-Identifier`, or one we mint).
/// Opaque; bounded in length and printable so it is safe in logs and AMQP headers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeliveryId(String);

impl DeliveryId {
    pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
        let value = value.into();
        if value.is_empty() {
            return Err(IdError::Empty {
                kind: "delivery id",
            });
        }
        if value.len() > 256 {
            return Err(IdError::TooLong {
                kind: "delivery id",
                max: 256,
            });
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(IdError::BadCharacter {
                kind: "delivery id",
                value: value.chars().take(64).collect(),
            });
        }
        Ok(Self(value))
    }

    /// A fresh id for an input that carries none (poller, manual sync).
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeliveryId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<DeliveryId> for String {
    fn from(value: DeliveryId) -> Self {
        value.0
    }
}

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One side of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Left,
    Right,
}

impl Side {
    pub fn other(self) -> Self {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_key_accepts_jira_keys_and_rejects_others() {
        assert_eq!(
            IssueKey::parse("ACME-42").map(|k| k.project().to_owned()),
            Ok("ACME".into())
        );
        assert!(IssueKey::parse("A_B2-1").is_ok());
        for bad in [
            "",
            "ACME",
            "ACME-",
            "-1",
            "AC ME-1",
            "ACME-x1",
            "ACME-1;drop",
        ] {
            assert!(IssueKey::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn endpoint_id_is_a_bounded_slug() {
        assert!(EndpointId::parse("jira-a_1").is_ok());
        assert_eq!(
            EndpointId::parse(""),
            Err(IdError::Empty {
                kind: "endpoint id"
            })
        );
        assert!(EndpointId::parse("a/b").is_err());
        assert!(EndpointId::parse("x".repeat(65)).is_err());
    }

    #[test]
    fn delivery_id_rejects_control_characters() {
        assert!(DeliveryId::parse("abc-123").is_ok());
        assert!(DeliveryId::parse("a\nb").is_err());
        assert!(DeliveryId::parse("").is_err());
    }
}

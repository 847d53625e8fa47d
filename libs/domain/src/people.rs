//! Who is who across two sites: the configured user map.
//!
//! Jira Cloud names people by account id; Data Center by user name (or the older user key).
//! A [`UserRef`] says which one a configured id is, so that a Data Center endpoint can join a
//! connection later without changing the configuration format: a bare string is the
//! endpoint's own kind of id.

use serde::{Deserialize, Serialize};

use crate::ids::Side;

/// A user as configured for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UserRef {
    /// The endpoint's native id: an account id on Cloud, a user name on Data Center.
    Native(String),
    /// A Cloud account id, spelled out.
    AccountId { account_id: String },
    /// A Data Center user name.
    Name { name: String },
    /// A Data Center user key.
    Key { key: String },
}

impl UserRef {
    /// The id as the endpoint's API takes it.
    pub fn id(&self) -> &str {
        match self {
            UserRef::Native(id)
            | UserRef::AccountId { account_id: id }
            | UserRef::Name { name: id }
            | UserRef::Key { key: id } => id,
        }
    }
}

/// One person's ids on the left and on the right.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPair {
    pub left: UserRef,
    pub right: UserRef,
}

impl UserPair {
    /// The id on `side`.
    pub fn on(&self, side: Side) -> &UserRef {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }
}

/// The configured pairs, looked up from either side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserMap {
    pairs: Vec<UserPair>,
}

impl UserMap {
    /// A map of `pairs`.
    pub fn new(pairs: Vec<UserPair>) -> Self {
        Self { pairs }
    }

    /// The id on the other side of the person with id `id` on `from`.
    pub fn counterpart(&self, from: Side, id: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|p| p.on(from).id() == id)
            .map(|p| p.on(from.other()).id())
    }

    /// Whether no pair is configured.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_found_from_either_side_and_dc_names_are_ids_too() -> Result<(), serde_json::Error>
    {
        let pairs: Vec<UserPair> = serde_json::from_str(
            r#"[{"left": "acc-1", "right": {"name": "jdoe"}},
                {"left": {"account_id": "acc-2"}, "right": "acc-9"}]"#,
        )?;
        let map = UserMap::new(pairs);
        assert_eq!(map.counterpart(Side::Left, "acc-1"), Some("jdoe"));
        assert_eq!(map.counterpart(Side::Right, "acc-9"), Some("acc-2"));
        assert_eq!(map.counterpart(Side::Right, "acc-1"), None);
        Ok(())
    }
}

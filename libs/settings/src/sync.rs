//! What a Jira <-> Jira connection syncs beyond plain fields, and how: status through the
//! workflow, people through a user map, components, versions and custom fields through value
//! maps, comments, deletes and the scope filter. Flattened into the connection's table
//! ([`crate::ConnectionSettings::sync`]) and each side's ([`crate::ConnectionSide::options`]),
//! so the keys sit next to `fields` and `priority_map`:
//!
//! ```toml
//! [connections.a-to-b]
//! left = { endpoint = "jira-a", project = "ACME", default_user = "acc-bot-a",
//!          scope = { issue_types = ["Bug"], jql = "labels = partner" } }
//! right = { endpoint = "jira-b", project = "PART" }
//! status_map = [{ left = "In Review", right = "Review" }]
//! users = [{ left = "acc-alice-a", right = "acc-alice-b" }]
//! transition_fields = { resolution = { name = "Done" } }
//! custom_fields = [{ left = "customfield_10010", right = "customfield_10200", type = "select",
//!                    options = [{ left = "Gold", right = "Tier 1" }] }]
//! on_delete = "comment"
//! ```

use jira_sync_domain::merge::{ConflictPolicy, Direction, FieldRule};
use jira_sync_domain::people::{UserMap, UserPair, UserRef};
use jira_sync_domain::scope::{Jql, ScopeSubject};
use jira_sync_domain::{Field, Side};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{SettingsError, ValuePair};

/// Connection-wide sync options.
#[derive(Debug, Clone, Deserialize)]
pub struct SyncOptions {
    /// Status names that differ between the workflows. A name without a pair and without a
    /// status of that name on the other side falls back to a status of the same category.
    #[serde(default)]
    pub status_map: Vec<ValuePair>,
    /// Component names that differ; unmapped names pass through.
    #[serde(default)]
    pub component_map: Vec<ValuePair>,
    /// Fix-version names that differ; unmapped names pass through.
    #[serde(default)]
    pub version_map: Vec<ValuePair>,
    /// People: their id on the left and on the right.
    #[serde(default)]
    pub users: Vec<UserPair>,
    /// Pair people not in `users` by e-mail, where the sites show e-mail addresses.
    #[serde(default = "yes")]
    pub match_users_by_email: bool,
    /// Values for fields a transition screen requires (`resolution = { name = "Done" }`),
    /// on both sides unless a side sets its own.
    #[serde(default)]
    pub transition_fields: Map<String, Value>,
    /// Custom fields, each with its id on both sites.
    #[serde(default)]
    pub custom_fields: Vec<CustomFieldMapping>,
    /// Whether comments are synced.
    #[serde(default = "yes")]
    pub sync_comments: bool,
    /// Which way comments flow.
    #[serde(default)]
    pub comment_direction: Direction,
    /// Whether comments restricted to a group or role, or internal service-desk notes, are
    /// copied (with their restriction). Off: they stay on their site.
    #[serde(default)]
    pub sync_internal_comments: bool,
    /// What happens when a linked issue is deleted.
    #[serde(default)]
    pub on_delete: OnDelete,
    /// What happens when a linked issue no longer matches its side's scope.
    #[serde(default)]
    pub on_leave_scope: OnLeaveScope,
    /// On a PeopleForce <-> Jira connection: which side's unlinked entities get a twin.
    #[serde(default)]
    pub create_from: CreateFrom,
}

/// Which side of a PeopleForce <-> Jira connection creates twins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreateFrom {
    /// PeopleForce tasks become Jira issues; Jira issues without a task stay alone.
    Peopleforce,
    /// Jira issues in scope become PeopleForce tasks; tasks without an issue stay alone.
    Jira,
    /// Both.
    #[default]
    Both,
}

impl CreateFrom {
    /// Whether an unlinked entity on `side` gets a twin, `pf_side` being the PeopleForce side.
    pub fn creates_from(self, side: Side, pf_side: Side) -> bool {
        match self {
            Self::Both => true,
            Self::Peopleforce => side == pf_side,
            Self::Jira => side != pf_side,
        }
    }
}

fn yes() -> bool {
    true
}

/// Per-side options.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SideOptions {
    /// Who is assigned (or reported) on this side when the person on the other side has no
    /// counterpart here. Unset: unassigned (and the reporter left to Jira).
    #[serde(default)]
    pub default_user: Option<UserRef>,
    /// Which issues of this side are synced.
    #[serde(default)]
    pub scope: ScopeFilter,
    /// Transition screen values for this side, over the connection's `transition_fields`.
    #[serde(default)]
    pub transition_fields: Map<String, Value>,
}

/// Which issues of one side a connection syncs (all criteria must hold).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScopeFilter {
    /// Issue type names; empty means any.
    #[serde(default)]
    pub issue_types: Vec<String>,
    /// The issue must carry at least one of these labels; empty means any.
    #[serde(default)]
    pub labels: Vec<String>,
    /// A filter in the JQL subset of [`jira_sync_domain::scope`].
    #[serde(default)]
    pub jql: Option<Jql>,
}

impl ScopeFilter {
    /// Whether an issue matches.
    pub fn matches(&self, issue: &ScopeSubject<'_>) -> bool {
        let type_ok = self.issue_types.is_empty()
            || (self.issue_types.iter()).any(|t| t.eq_ignore_ascii_case(issue.issue_type));
        let labels_ok = self.labels.is_empty()
            || (self.labels.iter()).any(|l| issue.labels.iter().any(|x| x == l));
        type_ok && labels_ok && self.jql.as_ref().is_none_or(|q| q.matches(issue))
    }

    /// Whether the filter lets everything through.
    pub fn is_empty(&self) -> bool {
        self.issue_types.is_empty() && self.labels.is_empty() && self.jql.is_none()
    }
}

/// What to do when one issue of a linked pair is deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDelete {
    /// Delete the other issue too.
    DeleteTwin,
    /// Say so in a comment on the other issue, and stop syncing the pair.
    Comment,
    /// Stop syncing the pair quietly (the audit log records it).
    #[default]
    Unlink,
}

/// What to do when an issue of a linked pair leaves its side's scope.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnLeaveScope {
    /// Pause syncing while it is out of scope; resume when it comes back.
    #[default]
    Stop,
    /// Stop syncing the pair for good.
    Unlink,
}

/// The value type of a mapped custom field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomFieldType {
    /// Single-line text.
    Text,
    Number,
    /// `YYYY-MM-DD`.
    Date,
    /// One option of a select list.
    Select,
    /// Options of a multi-select list.
    Multiselect,
    /// One person (mapped like the assignee).
    User,
    /// A list of labels.
    Labels,
}

impl CustomFieldType {
    /// The type of a field from its `GET /field` schema (`type`, `items`, `custom`), when it
    /// is one jira-sync can map.
    pub fn from_schema(kind: &str, items: Option<&str>, custom: Option<&str>) -> Option<Self> {
        let plugin = custom
            .and_then(|c| c.rsplit(':').next())
            .unwrap_or_default();
        match (kind, items, plugin) {
            ("string", _, "textfield") | ("string", _, "") => Some(Self::Text),
            ("number", ..) => Some(Self::Number),
            ("date", ..) => Some(Self::Date),
            ("option", ..) => Some(Self::Select),
            ("array", Some("option"), _) => Some(Self::Multiselect),
            ("user", ..) => Some(Self::User),
            ("array", Some("string"), "labels") => Some(Self::Labels),
            _ => None,
        }
    }
}

/// One custom field, with its id on each site.
#[derive(Debug, Clone, Deserialize)]
pub struct CustomFieldMapping {
    /// `customfield_NNNNN` on the left; also the field's name in bases and audits.
    pub left: String,
    /// `customfield_NNNNN` on the right.
    pub right: String,
    /// The value type; taken from the sites' field catalogues when left out.
    #[serde(default, rename = "type")]
    pub kind: Option<CustomFieldType>,
    /// Option values that differ (select and multi-select); unmapped values pass through.
    #[serde(default)]
    pub options: Vec<ValuePair>,
    #[serde(default)]
    pub direction: Direction,
    #[serde(default)]
    pub conflict: ConflictPolicy,
}

impl CustomFieldMapping {
    /// The field id on `side`.
    pub fn id(&self, side: Side) -> &str {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }
}

/// Maps a name through `pairs` from `from` to the other side; unmapped names pass through.
pub fn map_name(pairs: &[ValuePair], from: Side, name: &str) -> String {
    pairs
        .iter()
        .find_map(|pair| match from {
            Side::Left if pair.left == name => Some(pair.right.clone()),
            Side::Right if pair.right == name => Some(pair.left.clone()),
            _ => None,
        })
        .unwrap_or_else(|| name.to_owned())
}

impl SyncOptions {
    /// The user map.
    pub fn user_map(&self) -> UserMap {
        UserMap::new(self.users.clone())
    }

    /// The custom field whose left id (its key in bases) is `key`.
    pub fn custom_field(&self, key: &str) -> Option<&CustomFieldMapping> {
        self.custom_fields.iter().find(|c| c.left == key)
    }

    /// The merge rules of the custom fields, by key; a rule in `fields` takes precedence.
    pub fn custom_rules(&self) -> impl Iterator<Item = (String, FieldRule)> + '_ {
        self.custom_fields.iter().map(|c| {
            let rule = FieldRule {
                direction: c.direction,
                conflict: c.conflict,
            };
            (c.left.clone(), rule)
        })
    }

    /// Checks what types cannot: custom field ids and duplicates, options on the right types,
    /// field names in `fields`.
    pub fn validate<'a>(
        &self,
        path: &str,
        fields: impl Iterator<Item = &'a String>,
    ) -> Result<(), SettingsError> {
        let mut seen = std::collections::HashSet::new();
        for (i, c) in self.custom_fields.iter().enumerate() {
            let at = format!("{path}.custom_fields[{i}]");
            for id in [&c.left, &c.right] {
                if !id.starts_with("customfield_") {
                    return Err(SettingsError::invalid(
                        &at,
                        format!("`{id}` is not a custom field id (customfield_NNNNN)"),
                    ));
                }
            }
            if !seen.insert(c.left.as_str()) {
                return Err(SettingsError::invalid(
                    &at,
                    format!("`{}` is mapped twice", c.left),
                ));
            }
            let listy = matches!(
                c.kind,
                None | Some(CustomFieldType::Select | CustomFieldType::Multiselect)
            );
            if !c.options.is_empty() && !listy {
                return Err(SettingsError::invalid(
                    format!("{at}.options"),
                    "only select and multiselect fields have options",
                ));
            }
        }
        for field in fields {
            if Field::parse(field).is_none() && self.custom_field(field).is_none() {
                let known: Vec<_> = Field::ALL.iter().map(|f| f.as_str()).collect();
                return Err(SettingsError::invalid(
                    format!("{path}.fields.{field}"),
                    format!(
                        "unknown field; known fields are {} and the `left` ids of custom_fields",
                        known.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

impl crate::ConnectionSettings {
    /// The merge rules of every synced field: the system fields of `fields`, then the custom
    /// fields (their own rule unless `fields` names them too).
    pub fn rules(&self) -> std::collections::BTreeMap<String, FieldRule> {
        let mut rules = self.fields.clone();
        for (key, rule) in self.sync.custom_rules() {
            rules.entry(key).or_insert(rule);
        }
        rules
    }

    /// Fields a transition screen on `side` may ask for: the side's own over the connection's.
    pub fn transition_fields(&self, side: Side) -> Map<String, Value> {
        let mut fields = self.sync.transition_fields.clone();
        for (k, v) in &self.side(side).options.transition_fields {
            fields.insert(k.clone(), v.clone());
        }
        fields
    }
}

impl crate::Settings {
    /// The name people know an endpoint's site by: its `site_name`, else its id.
    pub fn site_name(&self, endpoint: &jira_sync_domain::EndpointId) -> String {
        (self.endpoints.get(endpoint))
            .and_then(|e| e.site_name.clone())
            .unwrap_or_else(|| endpoint.to_string())
    }
}

//! The data-driven workflow: statuses with categories and the transitions between them.
//!
//! The default is Jira's simple software workflow, To Do -> In Progress -> Done plus a way back
//! to To Do, with the transition ids Jira uses (11, 21, 31). Longer, multi-hop workflows are
//! configured by listing more statuses and transitions; nothing else in the simulator assumes
//! the default shape.

use serde::{Deserialize, Serialize};

/// A status category, as Jira reports it (`statusCategory.key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusCategory {
    /// To Do.
    New,
    /// In Progress.
    Indeterminate,
    /// Done.
    Done,
}

impl StatusCategory {
    /// Jira's numeric id of the category.
    pub fn id(self) -> u64 {
        match self {
            Self::New => 2,
            Self::Indeterminate => 4,
            Self::Done => 3,
        }
    }

    /// The `key` Jira uses.
    pub fn key(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Indeterminate => "indeterminate",
            Self::Done => "done",
        }
    }

    /// The display name Jira uses.
    pub fn name(self) -> &'static str {
        match self {
            Self::New => "To Do",
            Self::Indeterminate => "In Progress",
            Self::Done => "Done",
        }
    }

    /// The colour name Jira uses.
    pub fn color(self) -> &'static str {
        match self {
            Self::New => "blue-gray",
            Self::Indeterminate => "yellow",
            Self::Done => "green",
        }
    }
}

/// One status of the workflow.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusDef {
    /// Status id.
    pub id: String,
    /// Status name.
    pub name: String,
    /// Category (drives resolution handling).
    pub category: StatusCategory,
}

/// One transition. `from` empty means a global transition (available from every status).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransitionDef {
    /// Transition id (what `POST /transitions` names).
    pub id: String,
    /// Transition name.
    pub name: String,
    /// Source status ids.
    #[serde(default)]
    pub from: Vec<String>,
    /// Target status id.
    pub to: String,
    /// Field ids the transition's screen requires (e.g. `resolution`).
    #[serde(default)]
    pub required_fields: Vec<String>,
    /// Resolution set when the target is a done status and the request gave none.
    #[serde(default)]
    pub default_resolution: Option<String>,
}

/// Statuses, transitions and the status new issues start in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Workflow {
    /// Every status.
    pub statuses: Vec<StatusDef>,
    /// Every transition.
    pub transitions: Vec<TransitionDef>,
    /// Status id of new issues.
    pub initial_status: String,
}

impl Default for Workflow {
    fn default() -> Self {
        let status = |id: &str, name: &str, category| StatusDef {
            id: id.into(),
            name: name.into(),
            category,
        };
        let transition =
            |id: &str, name: &str, from: &[&str], to: &str, resolution: Option<&str>| {
                TransitionDef {
                    id: id.into(),
                    name: name.into(),
                    from: from.iter().map(|s| (*s).to_owned()).collect(),
                    to: to.into(),
                    required_fields: Vec::new(),
                    default_resolution: resolution.map(str::to_owned),
                }
            };
        Self {
            statuses: vec![
                status("10001", "To Do", StatusCategory::New),
                status("3", "In Progress", StatusCategory::Indeterminate),
                status("10002", "Done", StatusCategory::Done),
            ],
            transitions: vec![
                transition("11", "To Do", &["3", "10002"], "10001", None),
                transition("21", "In Progress", &["10001"], "3", None),
                transition("31", "Done", &["3"], "10002", Some("Done")),
            ],
            initial_status: "10001".into(),
        }
    }
}

impl Workflow {
    /// A longer workflow with a review step, where no status is one transition away from every
    /// other (so reaching one can take several hops), and where closing requires a resolution
    /// on the transition screen (400 without it):
    ///
    /// ```text
    /// Open --Start--> In Progress --Submit--> In Review --Approve (resolution)--> Closed
    ///                      ^----------Rework------'
    /// any --Reopen--> Open
    /// ```
    pub fn with_review() -> Self {
        let status = |id: &str, name: &str, category| StatusDef {
            id: id.into(),
            name: name.into(),
            category,
        };
        let transition =
            |id: &str, name: &str, from: &[&str], to: &str, required: &[&str]| TransitionDef {
                id: id.into(),
                name: name.into(),
                from: from.iter().map(|s| (*s).to_owned()).collect(),
                to: to.into(),
                required_fields: required.iter().map(|s| (*s).to_owned()).collect(),
                default_resolution: None,
            };
        Self {
            statuses: vec![
                status("1", "Open", StatusCategory::New),
                status("2", "In Progress", StatusCategory::Indeterminate),
                status("3", "In Review", StatusCategory::Indeterminate),
                status("4", "Closed", StatusCategory::Done),
            ],
            transitions: vec![
                transition("11", "Start", &["1"], "2", &[]),
                transition("21", "Submit", &["2"], "3", &[]),
                transition("31", "Rework", &["3"], "2", &[]),
                transition("41", "Approve", &["3"], "4", &["resolution"]),
                transition("51", "Reopen", &[], "1", &[]),
            ],
            initial_status: "1".into(),
        }
    }

    /// Index of a status by id.
    pub(crate) fn status_index(&self, id: &str) -> Option<usize> {
        self.statuses.iter().position(|s| s.id == id)
    }

    /// Index of a status by id or (case-insensitive) name.
    pub(crate) fn find_status(&self, id_or_name: &str) -> Option<usize> {
        self.status_index(id_or_name).or_else(|| {
            self.statuses
                .iter()
                .position(|s| s.name.eq_ignore_ascii_case(id_or_name))
        })
    }

    /// The transitions available from the status at `from`.
    pub(crate) fn available_from(&self, from: usize) -> impl Iterator<Item = &TransitionDef> {
        let from_id = self
            .statuses
            .get(from)
            .map(|s| s.id.clone())
            .unwrap_or_default();
        self.transitions
            .iter()
            .filter(move |t| t.from.is_empty() || t.from.contains(&from_id))
    }

    pub(crate) fn validate(&self, resolutions: &[String]) -> Result<(), String> {
        if self.statuses.is_empty() {
            return Err("the workflow has no status".into());
        }
        if self.status_index(&self.initial_status).is_none() {
            return Err(format!(
                "initial status `{}` is not a status",
                self.initial_status
            ));
        }
        let mut ids = std::collections::HashSet::new();
        for t in &self.transitions {
            if !ids.insert(t.id.as_str()) {
                return Err(format!("transition id `{}` is used twice", t.id));
            }
            for s in t.from.iter().chain(std::iter::once(&t.to)) {
                if self.status_index(s).is_none() {
                    return Err(format!("transition `{}` names unknown status `{s}`", t.id));
                }
            }
            if let Some(r) = &t.default_resolution
                && !resolutions.contains(r)
            {
                return Err(format!(
                    "transition `{}` sets unknown resolution `{r}`",
                    t.id
                ));
            }
        }
        Ok(())
    }
}

//! Planning a write: each field's Jira value on the target, and what the target will show
//! afterwards (which is what the base records as observed). Fields the target already shows
//! are planned with nothing to send, so an edit carries only real changes. Rich text is
//! predicted as the target keeps it (a Data Center site keeps wiki markup, which not every ADF
//! survives), so that a lossy trip is neither taken for an edit there nor written again.

use jira_sync_domain::Field;
use jira_sync_domain::Side;
use jira_sync_domain::document::Snapshot;
use serde_json::{Map, Value};

use super::mapper::{MapError, Mapper};

impl Mapper<'_> {
    /// How writing `values` to `target` looks in Jira (status excluded: it moves through
    /// transitions), and what `target` will show for each field afterwards. A field left out
    /// of the write shows what it shows now (`current`).
    pub async fn plan(
        &self,
        values: &Snapshot,
        target: Side,
        current: &Snapshot,
    ) -> Result<Vec<Planned>, MapError> {
        let mut planned = Vec::new();
        for (key, canon) in values {
            if key == Field::Status.as_str() {
                continue;
            }
            let Some(id) = self.jira_id(key, target) else {
                continue;
            };
            let now = current.get(key).cloned().unwrap_or(Value::Null);
            let raw = self.value_to_jira(key, canon, target).await?;
            let shown = match &raw {
                Some(raw) => {
                    let kept = self.as_kept(key, raw, target);
                    self.value_to_canonical(key, &kept, target).await?
                }
                None => now.clone(),
            };
            planned.push(Planned {
                key: key.clone(),
                id,
                raw: raw.filter(|_| shown != now),
                shown,
            });
        }
        Ok(planned)
    }
}

impl Mapper<'_> {
    /// The raw value `target` will show after `raw` was written to field `key`.
    fn as_kept(&self, key: &str, raw: &Value, target: Side) -> Value {
        if Field::parse(key) == Some(Field::Description) {
            let client = self.people.clients[usize::from(target == Side::Right)];
            client.stored_rich_text(raw)
        } else {
            raw.clone()
        }
    }
}

/// One field of a write.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The field's snapshot key.
    pub key: String,
    /// Its Jira field id on the target.
    pub id: String,
    /// The value to send; `None` when there is nothing to send (the target already shows it,
    /// or the value cannot be expressed there).
    pub raw: Option<Value>,
    /// What the target will show afterwards, canonically.
    pub shown: Value,
}

/// The Jira fields of the writes in `planned`.
pub fn edit_fields(planned: &[Planned]) -> Map<String, Value> {
    (planned.iter())
        .filter_map(|p| p.raw.clone().map(|raw| (p.id.clone(), raw)))
        .collect()
}

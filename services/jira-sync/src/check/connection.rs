//! One connection's references checked against its two sites: the project and issue types of
//! each side (twins are created there), the synced fields, the custom field ids and types, and
//! every name of the priority and status maps.

use std::collections::BTreeSet;

use jira_sync_domain::{ConnectionId, Field, Side};
use jira_sync_settings::{ConnectionSettings, CustomFieldType, ValuePair};

use super::site::{Site, Sites};
use super::{Problem, Report};
use crate::error::chain;

/// Checks `connection`'s references on each side whose endpoint is usable; returns whether
/// at least one side was checked.
pub(crate) async fn check(
    id: &ConnectionId,
    connection: &ConnectionSettings,
    sites: &Sites,
    report: &mut Report,
) -> bool {
    let mut checked = false;
    for side in [Side::Left, Side::Right] {
        let endpoint = &connection.side(side).endpoint;
        let Some(site) = sites.get(endpoint) else {
            report.notes.push(format!(
                "connections.{id}.{side}: not checked (endpoint {endpoint} could not be used)"
            ));
            continue;
        };
        checked = true;
        let at = SideAt {
            connection: id,
            side,
            endpoint: endpoint.as_str(),
        };
        project(&at, connection, site, &mut report.problems).await;
        fields(&at, connection, site, &mut report.problems);
        names(
            &at,
            "priority_map",
            "priority",
            &connection.priority_map,
            &site.priorities,
            &mut report.problems,
        );
        names(
            &at,
            "status_map",
            "status",
            &connection.sync.status_map,
            &site.statuses,
            &mut report.problems,
        );
    }
    checked
}

/// Where a check is: which connection, which side, on which endpoint.
struct SideAt<'a> {
    connection: &'a ConnectionId,
    side: Side,
    endpoint: &'a str,
}

impl SideAt<'_> {
    /// `connections.<id>.<rest>`.
    fn path(&self, rest: &str) -> String {
        format!("connections.{}.{rest}", self.connection)
    }
}

/// The side's project exists; the twin issue type and the scope's issue types exist in it.
async fn project(
    at: &SideAt<'_>,
    connection: &ConnectionSettings,
    site: &Site,
    problems: &mut Vec<Problem>,
) {
    let side = connection.side(at.side);
    let path = at.path(&format!("{}.project", at.side));
    let project = match site.client.get_project(&side.project).await {
        Ok(project) => project,
        Err(e) if e.is_not_found() => {
            problems.push(Problem::new(
                path,
                format!(
                    "project \"{}\" does not exist on {} (or the account cannot browse it)",
                    side.project, at.endpoint
                ),
            ));
            return;
        }
        Err(e) => {
            problems.push(Problem::new(path, format!("cannot check: {}", chain(&e))));
            return;
        }
    };
    if project.issue_types.is_empty() {
        return;
    }
    let known: Vec<&str> = (project.issue_types.iter())
        .map(|t| t.name.as_str())
        .collect();
    let exists = |name: &str| known.iter().any(|k| k.eq_ignore_ascii_case(name));
    let missing = |name: &str| {
        format!(
            "issue type \"{name}\" does not exist in project {} on {} (it has {})",
            project.key,
            at.endpoint,
            known.join(", ")
        )
    };
    if !exists(&side.issue_type) {
        let path = at.path(&format!("{}.issue_type", at.side));
        problems.push(Problem::new(path, missing(&side.issue_type)));
    }
    for (i, name) in side.options.scope.issue_types.iter().enumerate() {
        if !exists(name) {
            let path = at.path(&format!("{}.scope.issue_types[{i}]", at.side));
            problems.push(Problem::new(path, missing(name)));
        }
    }
}

/// Every synced system field and every mapped custom field exists on the side's site, and a
/// custom field's declared type is the type the site gives it.
fn fields(
    at: &SideAt<'_>,
    connection: &ConnectionSettings,
    site: &Site,
    problems: &mut Vec<Problem>,
) {
    let catalogue = match &site.fields {
        Ok(catalogue) => catalogue,
        Err(reason) => {
            let path = at.path("fields");
            problems.push(Problem::new(
                path,
                format!("cannot check on {}: {reason}", at.endpoint),
            ));
            return;
        }
    };
    for name in connection.fields.keys() {
        // Custom fields may be named in `fields` by their left id: checked below.
        if Field::parse(name).is_none() {
            continue;
        }
        let id = jira_field_id(name);
        if !catalogue.contains_key(id) {
            problems.push(Problem::new(
                at.path(&format!("fields.{name}")),
                format!("field \"{id}\" does not exist on {}", at.endpoint),
            ));
        }
    }
    for (i, mapping) in connection.sync.custom_fields.iter().enumerate() {
        let path = at.path(&format!("custom_fields[{i}].{}", at.side));
        let id = mapping.id(at.side);
        let Some(meta) = catalogue.get(id) else {
            problems.push(Problem::new(
                path,
                format!("custom field \"{id}\" does not exist on {}", at.endpoint),
            ));
            continue;
        };
        let actual = meta.schema.as_ref().and_then(|s| {
            let kind = s.kind.as_deref()?;
            CustomFieldType::from_schema(kind, s.items.as_deref(), s.custom.as_deref())
        });
        if let (Some(declared), Some(actual)) = (mapping.kind, actual)
            && declared != actual
        {
            problems.push(Problem::new(
                path,
                format!(
                    "custom field \"{id}\" ({}) on {} is a {} field, not {}",
                    meta.name,
                    at.endpoint,
                    type_name(actual),
                    type_name(declared)
                ),
            ));
        }
    }
}

/// Every name of one side of a value map (`priority_map`, `status_map`) exists on its site.
fn names(
    at: &SideAt<'_>,
    map: &str,
    what: &str,
    pairs: &[ValuePair],
    known: &Result<BTreeSet<String>, String>,
    problems: &mut Vec<Problem>,
) {
    if pairs.is_empty() {
        return;
    }
    let known = match known {
        Ok(known) => known,
        Err(reason) => {
            problems.push(Problem::new(
                at.path(map),
                format!("cannot check on {}: {reason}", at.endpoint),
            ));
            return;
        }
    };
    for (i, pair) in pairs.iter().enumerate() {
        let name = match at.side {
            Side::Left => &pair.left,
            Side::Right => &pair.right,
        };
        // Jira compares these names without regard to case.
        if !known.iter().any(|k| k.eq_ignore_ascii_case(name)) {
            let list: Vec<&str> = known.iter().map(String::as_str).collect();
            problems.push(Problem::new(
                at.path(&format!("{map}[{i}].{}", at.side)),
                format!(
                    "{what} \"{name}\" does not exist on {} (it has {})",
                    at.endpoint,
                    list.join(", ")
                ),
            ));
        }
    }
}

/// The Jira field id of a synced field's config name (`due_date` -> `duedate`).
fn jira_field_id(name: &str) -> &str {
    match name {
        "due_date" => "duedate",
        "fix_versions" => "fixVersions",
        other => other,
    }
}

fn type_name(kind: CustomFieldType) -> &'static str {
    match kind {
        CustomFieldType::Text => "text",
        CustomFieldType::Number => "number",
        CustomFieldType::Date => "date",
        CustomFieldType::Select => "select",
        CustomFieldType::Multiselect => "multiselect",
        CustomFieldType::User => "user",
        CustomFieldType::Labels => "labels",
    }
}

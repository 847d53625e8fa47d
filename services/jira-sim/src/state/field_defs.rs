//! The system fields the simulator models: their ids, display names and schemas, in the order
//! issue beans list them. `GET /field` and `expand=names` read this table.

use serde_json::{Value, json};

use crate::config::{CustomFieldDef, CustomFieldKind};

/// One system field: id, display name, schema type, item type of arrays, JQL clause names.
pub(crate) struct SystemField {
    pub id: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub items: Option<&'static str>,
    pub clauses: &'static [&'static str],
    pub orderable: bool,
}

const fn f(
    id: &'static str,
    name: &'static str,
    kind: &'static str,
    items: Option<&'static str>,
    clauses: &'static [&'static str],
    orderable: bool,
) -> SystemField {
    SystemField {
        id,
        name,
        kind,
        items,
        clauses,
        orderable,
    }
}

/// The modelled system fields, in rendering order.
pub(crate) const SYSTEM_FIELDS: &[SystemField] = &[
    f("summary", "Summary", "string", None, &["summary"], true),
    f(
        "description",
        "Description",
        "string",
        None,
        &["description"],
        true,
    ),
    f(
        "labels",
        "Labels",
        "array",
        Some("string"),
        &["labels"],
        true,
    ),
    f(
        "priority",
        "Priority",
        "priority",
        None,
        &["priority"],
        true,
    ),
    f(
        "duedate",
        "Due date",
        "date",
        None,
        &["due", "duedate"],
        true,
    ),
    f("status", "Status", "status", None, &["status"], false),
    f(
        "issuetype",
        "Issue Type",
        "issuetype",
        None,
        &["issuetype", "type"],
        true,
    ),
    f("project", "Project", "project", None, &["project"], false),
    f("assignee", "Assignee", "user", None, &["assignee"], true),
    f("reporter", "Reporter", "user", None, &["reporter"], true),
    f("creator", "Creator", "user", None, &["creator"], false),
    f(
        "created",
        "Created",
        "datetime",
        None,
        &["created", "createdDate"],
        false,
    ),
    f(
        "updated",
        "Updated",
        "datetime",
        None,
        &["updated", "updatedDate"],
        false,
    ),
    f(
        "comment",
        "Comment",
        "comments-page",
        None,
        &["comment"],
        true,
    ),
    f(
        "components",
        "Components",
        "array",
        Some("component"),
        &["component"],
        true,
    ),
    f(
        "fixVersions",
        "Fix versions",
        "array",
        Some("version"),
        &["fixVersion"],
        true,
    ),
    f(
        "resolution",
        "Resolution",
        "resolution",
        None,
        &["resolution"],
        true,
    ),
    f(
        "resolutiondate",
        "Resolved",
        "datetime",
        None,
        &["resolutiondate", "resolved"],
        false,
    ),
    f(
        "statuscategorychangedate",
        "Status Category Changed",
        "datetime",
        None,
        &["statusCategoryChangedDate"],
        false,
    ),
];

/// The display name of a field id (system or custom).
pub(crate) fn display_name<'a>(id: &'a str, custom: &'a [CustomFieldDef]) -> &'a str {
    SYSTEM_FIELDS
        .iter()
        .find(|f| f.id == id)
        .map(|f| f.name)
        .or_else(|| custom.iter().find(|c| c.id == id).map(|c| c.name.as_str()))
        .unwrap_or(id)
}

/// `FieldDetails` of a system field.
pub(crate) fn system_details(f: &SystemField) -> Value {
    let mut schema = json!({"type": f.kind, "system": f.id});
    if let Some(items) = f.items {
        schema["items"] = json!(items);
    }
    json!({
        "id": f.id, "key": f.id, "name": f.name, "custom": false, "orderable": f.orderable,
        "navigable": f.id != "comment", "searchable": true, "clauseNames": f.clauses, "schema": schema,
    })
}

/// `FieldDetails` of a custom field.
pub(crate) fn custom_details(c: &CustomFieldDef) -> Value {
    let (kind, items, plugin) = match c.kind {
        CustomFieldKind::Text => ("string", None, "textfield"),
        CustomFieldKind::Number => ("number", None, "float"),
        CustomFieldKind::Textarea => ("string", None, "textarea"),
        CustomFieldKind::Date => ("date", None, "datepicker"),
        CustomFieldKind::Select => ("option", None, "select"),
        CustomFieldKind::Multiselect => ("array", Some("option"), "multiselect"),
        CustomFieldKind::User => ("user", None, "userpicker"),
        CustomFieldKind::Labels => ("array", Some("string"), "labels"),
        CustomFieldKind::Cascading => ("option-with-child", None, "cascadingselect"),
    };
    let custom_id: u64 =
        c.id.trim_start_matches("customfield_")
            .parse()
            .unwrap_or_default();
    let mut schema = json!({"type": kind, "custom": format!("com.atlassian.jira.plugin.system.customfieldtypes:{plugin}"),
                   "customId": custom_id});
    if let Some(items) = items {
        schema["items"] = json!(items);
    }
    json!({
        "id": c.id, "key": c.id, "name": c.name, "custom": true, "orderable": true, "navigable": true,
        "searchable": true, "clauseNames": [format!("cf[{custom_id}]"), c.name],
        "schema": schema,
    })
}

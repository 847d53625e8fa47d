//! Unit tests of the Jira <-> canonical mapping and the origin marker. The user map is
//! configured and e-mail matching is off, so nothing here calls Jira.

use jira_sync_domain::document::Snapshot;
use jira_sync_domain::{ConnectionId, EndpointId, Person, Side};
use jira_sync_settings::{ConnectionSettings, CustomFieldType, Settings};

use super::people::{People, PeopleCache};
use super::*;
use crate::jira::{Issue, JiraClients};
use crate::reconcile::catalog::FieldCatalog;
use crate::test_support::connection_id;

const CONFIG: &str = r#"
[endpoints.jira-a]
kind = "jira_cloud"
base_url = "http://127.0.0.1:1"
email = "bot@a.example"
api_token = "token-a"

[endpoints.jira-b]
kind = "jira_cloud"
base_url = "http://127.0.0.1:2"
email = "bot@b.example"
api_token = "token-b"

[connections.a-to-b]
left = { endpoint = "jira-a", project = "ACME" }
right = { endpoint = "jira-b", project = "PART", default_user = "b-triage" }
priority_map = [{ left = "High", right = "P1" }]
status_map = [{ left = "In Review", right = "Review" }]
component_map = [{ left = "api", right = "backend" }]
users = [{ left = "a-alice", right = "b-alice" }]
match_users_by_email = false
custom_fields = [
  { left = "customfield_1", right = "customfield_9", type = "select", options = [{ left = "Gold", right = "Tier 1" }] },
  { left = "customfield_2", right = "customfield_8", type = "user" },
  { left = "customfield_3", right = "customfield_7", type = "number" },
]
"#;

struct Fixture {
    settings: Settings,
    clients: JiraClients,
    catalog: FieldCatalog,
    cache: PeopleCache,
    endpoints: [EndpointId; 2],
}

impl Fixture {
    fn new() -> Self {
        let settings = Settings::from_toml(CONFIG).unwrap_or_else(|e| panic!("{e}"));
        let clients = JiraClients::from_settings(&settings).unwrap_or_else(|e| panic!("{e}"));
        let mut catalog = FieldCatalog::default();
        for (id, kind) in [
            ("customfield_1", CustomFieldType::Select),
            ("customfield_2", CustomFieldType::User),
            ("customfield_3", CustomFieldType::Number),
        ] {
            catalog.types.insert(id.to_owned(), kind);
        }
        let endpoint = |e: &str| EndpointId::parse(e).unwrap_or_else(|e| panic!("{e}"));
        Self {
            settings,
            clients,
            catalog,
            cache: PeopleCache::default(),
            endpoints: [endpoint("jira-a"), endpoint("jira-b")],
        }
    }

    fn connection(&self) -> &ConnectionSettings {
        &self.settings.connections[&connection_id()]
    }

    fn mapper(&self) -> Mapper<'_> {
        let sync = &self.connection().sync;
        let client = |i: usize| {
            self.clients
                .get(&self.endpoints[i])
                .unwrap_or_else(|| panic!("no client"))
        };
        Mapper {
            connection: self.connection(),
            people: People {
                map: sync.user_map(),
                by_email: sync.match_users_by_email,
                endpoints: [&self.endpoints[0], &self.endpoints[1]],
                clients: [client(0), client(1)],
                defaults: [None, Some("b-triage".to_owned())],
                cache: &self.cache,
            },
            catalog: &self.catalog,
        }
    }
}

fn issue(fields: Value) -> Issue {
    Issue {
        id: "1".into(),
        key: "ACME-1".into(),
        fields: match fields {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        },
        properties: Map::new(),
    }
}

fn adf(text: &str) -> Value {
    json!({"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":text}]}]})
}

fn keys(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

async fn canonical(f: &Fixture, fields: Value, side: Side, names: &[&str]) -> Snapshot {
    let keys = keys(names);
    match f
        .mapper()
        .canonical(&issue(fields), side, keys.iter())
        .await
    {
        Ok((values, unfit)) if unfit.is_empty() => values,
        Ok((_, unfit)) => panic!("unfit values: {unfit:?}"),
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn a_right_side_issue_maps_into_left_naming() {
    let f = Fixture::new();
    let values = canonical(
        &f,
        json!({
            "summary": "Printer on fire",
            "description": "plain text",
            "labels": ["ops", "fire", "ops"],
            "priority": {"name": "P1", "id": "1"},
            "status": {"name": "Review", "statusCategory": {"key": "indeterminate"}},
            "components": [{"name": "backend"}, {"name": "ui"}],
            "assignee": {"accountId": "b-alice", "displayName": "Alice"},
            "reporter": {"accountId": "b-stranger"},
            "duedate": "2026-12-24",
            "customfield_9": {"value": "Tier 1", "id": "10100"},
            "customfield_8": null,
            "customfield_7": 3.5,
        }),
        Side::Right,
        &[
            "summary",
            "description",
            "labels",
            "priority",
            "status",
            "components",
            "assignee",
            "reporter",
            "due_date",
            "fix_versions",
            "customfield_1",
            "customfield_2",
            "customfield_3",
        ],
    )
    .await;
    let expected: Snapshot = [
        ("summary", json!("Printer on fire")),
        ("description", adf("plain text")),
        ("labels", json!(["fire", "ops"])),
        ("priority", json!("High")),
        ("status", json!("In Review")),
        ("components", json!(["api", "ui"])),
        ("assignee", json!("a-alice")),
        ("reporter", json!({"side": "right", "id": "b-stranger"})),
        ("due_date", json!("2026-12-24")),
        ("fix_versions", json!([])),
        ("customfield_1", json!("Gold")),
        ("customfield_2", Value::Null),
        ("customfield_3", json!(3.5)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(values, expected);
}

#[tokio::test]
async fn canonical_values_are_written_in_the_target_sides_naming_with_fallbacks() {
    let f = Fixture::new();
    let values: Snapshot = [
        ("priority", json!("High")),
        ("status", json!("In Review")),
        ("components", json!(["api"])),
        ("assignee", json!("a-bob")),
        ("reporter", json!("a-bob")),
        ("customfield_1", json!("Gold")),
        ("customfield_2", json!("a-alice")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let planned = match f
        .mapper()
        .plan(&values, Side::Right, &Snapshot::new())
        .await
    {
        Ok(p) => p,
        Err(_) => panic!("plan failed"),
    };
    let fields = edit_fields(&planned);
    assert_eq!(fields["priority"], json!({"name": "P1"}));
    assert_eq!(fields["components"], json!([{"name": "backend"}]));
    // a-bob has no counterpart: the right side's default user stands in.
    assert_eq!(fields["assignee"], json!({"accountId": "b-triage"}));
    assert_eq!(fields["reporter"], json!({"accountId": "b-triage"}));
    assert!(
        !fields.contains_key("status"),
        "status moves through transitions"
    );
    assert_eq!(fields["customfield_9"], json!({"value": "Tier 1"}));
    assert_eq!(fields["customfield_8"], json!({"accountId": "b-alice"}));
    let shown: Snapshot = planned.into_iter().map(|p| (p.key, p.shown)).collect();
    assert_eq!(
        shown["assignee"],
        Person::to_value(Some(&Person::Foreign {
            side: Side::Right,
            id: "b-triage".into()
        }))
    );
    assert_eq!(shown["customfield_1"], json!("Gold"));

    // The left side has no default user: an unmapped assignee is unassigned there, and the
    // reporter is left as Jira has it.
    let stranger = json!({"side": "right", "id": "b-stranger"});
    let back: Snapshot = [
        ("assignee".to_owned(), stranger.clone()),
        ("reporter".to_owned(), stranger),
    ]
    .into();
    let current: Snapshot = [("reporter".to_owned(), json!("a-bot"))].into();
    let planned = match f.mapper().plan(&back, Side::Left, &current).await {
        Ok(p) => p,
        Err(_) => panic!("plan failed"),
    };
    let fields = edit_fields(&planned);
    assert_eq!(
        fields.get("assignee"),
        None,
        "already unassigned: nothing to send"
    );
    assert!(!fields.contains_key("reporter"));
    let shown: Snapshot = planned.into_iter().map(|p| (p.key, p.shown)).collect();
    assert_eq!(shown["reporter"], json!("a-bot"));
    assert_eq!(shown["assignee"], Value::Null);
}

#[tokio::test]
async fn a_left_side_issue_keeps_its_names_and_ids() {
    let f = Fixture::new();
    let values = canonical(
        &f,
        json!({"priority": {"name": "Highest"}, "assignee": {"accountId": "a-zoe"}, "status": {"name": "Done"}}),
        Side::Left,
        &["priority", "assignee", "status", "summary"],
    )
    .await;
    assert_eq!(values["priority"], json!("Highest"));
    assert_eq!(values["assignee"], json!("a-zoe"));
    assert_eq!(values["status"], json!("Done"));
    assert_eq!(values["summary"], json!(""));
}

#[tokio::test]
async fn mentions_are_rewritten_to_the_other_sites_ids_or_become_text() {
    let f = Fixture::new();
    let doc = json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "mention", "attrs": {"id": "b-alice", "text": "@Alice"}},
        {"type": "text", "text": " and "},
        {"type": "mention", "attrs": {"id": "b-carol", "text": "@Carol"}},
    ]}]});
    let values = canonical(
        &f,
        json!({"description": doc}),
        Side::Right,
        &["description"],
    )
    .await;
    let content = &values["description"]["content"][0]["content"];
    assert_eq!(content[0]["attrs"]["id"], "a-alice");
    assert_eq!(content[2], json!({"type": "text", "text": "@Carol"}));
}

#[tokio::test]
async fn values_of_the_wrong_shape_are_refused_and_custom_ones_set_apart() {
    let f = Fixture::new();
    let keys = keys(&["priority"]);
    let bad = issue(json!({"priority": "High"}));
    let result = f.mapper().canonical(&bad, Side::Left, keys.iter()).await;
    assert!(
        matches!(&result, Err(crate::error::ReconcileError::Mapping { .. })),
        "{:?}",
        result.err()
    );
    let keys = self::keys(&["customfield_3", "summary"]);
    let odd = issue(json!({"customfield_3": "three", "summary": "x"}));
    let (values, unfit) = match f.mapper().canonical(&odd, Side::Left, keys.iter()).await {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        unfit.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        vec!["customfield_3"]
    );
    assert!(!values.contains_key("customfield_3"));
    assert_eq!(values["summary"], json!("x"));
}

#[test]
fn the_read_includes_scope_fields_once() {
    let fields = read_fields(keys(&["summary", "priority"]));
    assert_eq!(
        fields,
        vec![
            "summary",
            "priority",
            "status",
            "project",
            "updated",
            "issuetype",
            "labels"
        ]
    );
}

#[test]
fn the_origin_marker_round_trips_through_issue_properties() -> Result<(), Box<dyn std::error::Error>>
{
    let endpoint = EndpointId::parse("jira-a")?;
    let connection: ConnectionId = connection_id();
    let marker = OriginMarker::new(&connection, &endpoint, "10001", "ACME-1");
    let mut properties = Map::new();
    properties.insert(ORIGIN_PROPERTY.to_owned(), marker.to_value());
    let read = OriginMarker::of(&properties).ok_or("marker not read back")?;
    assert_eq!(read, marker);
    assert!(read.is_from(&connection, &endpoint));
    assert!(!read.is_from(&connection, &EndpointId::parse("jira-b")?));
    properties.insert(ORIGIN_PROPERTY.to_owned(), json!("junk"));
    assert_eq!(OriginMarker::of(&properties), None);
    Ok(())
}

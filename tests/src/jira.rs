//! Acting on a simulated site as a person would (through its REST API, with the production
//! client), and counting what the sync bot wrote there.

use jira_sync_jira_client::{CreateIssue, Credentials, Issue, JiraClient, JiraClientConfig};
use jira_sync_jira_sim::SiteHandle;
use secrecy::SecretString;
use serde_json::{Map, Value, json};

/// A person with an account on one site.
#[derive(Clone)]
pub struct SiteActor {
    pub client: JiraClient,
    pub project: String,
}

impl SiteActor {
    /// The site's admin user (the first configured user).
    pub fn admin_of(site: &SiteHandle) -> Self {
        let Some(user) = site.users().first() else {
            panic!("site {} has no users", site.name());
        };
        let url = url::Url::parse(&site.base_url())
            .unwrap_or_else(|e| panic!("simulator URL {}: {e}", site.base_url()));
        let secret = SecretString::from(user.api_token.clone());
        let config = if site.is_data_center() {
            // Data Center logs in by user name, which the simulator keeps as the account id.
            let user = user.account_id.clone();
            JiraClientConfig::data_center(url, Credentials::Basic { user, secret })
        } else {
            JiraClientConfig::new(url, user.email.clone(), secret)
        }
        .with_name(format!("{}-admin", site.name()));
        let client = JiraClient::new(config).unwrap_or_else(|e| panic!("client: {e}"));
        let project = site
            .projects()
            .first()
            .cloned()
            .unwrap_or_else(|| panic!("site {} has no project", site.name()));
        Self { client, project }
    }

    /// Creates an issue in the site's project with a summary and extra fields.
    pub async fn create(&self, summary: &str, extra: Value) -> Issue {
        let mut fields = Map::new();
        fields.insert("project".into(), json!({ "key": self.project }));
        fields.insert("issuetype".into(), json!({ "name": "Task" }));
        fields.insert("summary".into(), json!(summary));
        if let Value::Object(extra) = extra {
            fields.extend(extra);
        }
        let created = self
            .client
            .create_issue(&CreateIssue {
                fields,
                properties: Vec::new(),
            })
            .await
            .unwrap_or_else(|e| panic!("create {summary:?}: {e}"));
        self.get(&created.id).await
    }

    /// Edits fields of an issue.
    pub async fn edit(&self, id: &str, fields: Value) {
        let Value::Object(fields) = fields else {
            panic!("fields must be an object");
        };
        self.client
            .edit_issue(id, &fields)
            .await
            .unwrap_or_else(|e| panic!("edit {id}: {e}"));
    }

    /// Reads an issue with all fields and the sync marker.
    pub async fn get(&self, id: &str) -> Issue {
        self.client
            .get_issue(id, &[], &["jira-sync.origin"])
            .await
            .unwrap_or_else(|e| panic!("get {id}: {e}"))
    }
}

/// Write requests (POST, PUT, DELETE; searches excluded) the site received from its sync bot.
pub fn bot_writes(site: &SiteHandle) -> Vec<String> {
    let Some(bot) = site.bot() else {
        panic!("site {} has no bot user", site.name());
    };
    site.recent_requests(usize::MAX)
        .into_iter()
        .filter(|r| r.account.as_deref() == Some(bot.account_id.as_str()))
        .filter(|r| matches!(r.method.as_str(), "POST" | "PUT" | "DELETE"))
        .filter(|r| !r.route.contains("/search"))
        .map(|r| format!("{} {} -> {}", r.method, r.path, r.status))
        .collect()
}

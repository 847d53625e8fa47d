//! When a linked pair stops syncing: one of its issues was deleted (`on_delete`), or one left
//! its side's scope (`on_leave_scope`). A pair that stops for good is detached in the store,
//! so that its surviving issue is recognised and never given a new twin.

use jira_sync_domain::Side;
use jira_sync_domain::richtext::text;
use jira_sync_domain::scope::ScopeSubject;
use jira_sync_settings::{OnDelete, OnLeaveScope};
use jira_sync_store::Link;
use serde_json::{Value, json};
use tracing::info;

use super::jira_map::{ORIGIN_PROPERTY, project_key};
use super::{Ctx, Outcome, Reconciler};
use crate::error::ReconcileError;
use crate::jira::{EntityProperty, Issue};

impl Reconciler {
    /// One issue of `link` is gone (`gone`); `survivor` is the other one, if it still exists.
    pub(super) async fn linked_issue_gone(
        &self,
        ctx: &Ctx<'_>,
        link: Link,
        gone: Side,
        survivor: Option<Issue>,
    ) -> Result<Outcome, ReconcileError> {
        let side = gone.other();
        let gone_key = match gone {
            Side::Left => link.left_key.clone(),
            Side::Right => link.right_key.clone(),
        }
        .unwrap_or_else(|| link.id_on(gone).to_owned());
        let policy = ctx.connection.sync.on_delete;
        info!(link = %link.id, %gone, ?policy, "a linked issue is gone");
        if let Some(issue) = &survivor {
            match policy {
                OnDelete::DeleteTwin => {
                    match ctx.client(side).delete_issue(&issue.id).await {
                        Ok(()) => {}
                        Err(e) if e.is_not_found() => {}
                        Err(e) => {
                            return Err(ReconcileError::jira(
                                ctx.endpoint(side),
                                "delete",
                                issue.key.clone(),
                                e,
                            ));
                        }
                    }
                    let change = json!({ "id": issue.id, "key": issue.key, "because": gone_key });
                    self.audit_value(ctx, Some(link.id), "delete", side, &[], change)
                        .await?;
                }
                OnDelete::Comment => {
                    let site = self.settings.site_name(ctx.endpoint(gone));
                    let notice = format!(
                        "The linked issue {gone_key} in {site} was deleted. This issue is no longer synced with it."
                    );
                    let marker = EntityProperty {
                        key: ORIGIN_PROPERTY.to_owned(),
                        value: json!({ "connection": ctx.id().as_str(), "notice": "deleted", "issue": link.id_on(gone) }),
                    };
                    (ctx.client(side)
                        .add_comment(&issue.id, &text::to_adf(&notice), &[marker])
                        .await)
                        .map_err(|e| {
                            ReconcileError::jira(
                                ctx.endpoint(side),
                                "comment on",
                                issue.key.clone(),
                                e,
                            )
                        })?;
                    self.audit_value(
                        ctx,
                        Some(link.id),
                        "delete_notice",
                        side,
                        &["comment"],
                        json!({ "text": notice }),
                    )
                    .await?;
                }
                OnDelete::Unlink => {}
            }
        }
        self.store.detach_link(link.id, "deleted").await?;
        let change = json!({ "reason": "deleted", "deleted": link.id_on(gone), "policy": format!("{policy:?}") });
        self.audit_value(ctx, Some(link.id), "unlink", side, &[], change)
            .await?;
        Ok(Outcome::Deleted {
            side: gone,
            link_id: Some(link.id),
        })
    }

    /// Whether an issue read on `side` is in the connection's scope there: in the side's
    /// project and matching its filter.
    pub(super) fn in_scope(&self, ctx: &Ctx<'_>, side: Side, issue: &Issue) -> bool {
        let config = ctx.config(side);
        let project = project_key(&issue.fields).unwrap_or_default();
        if !project.eq_ignore_ascii_case(&config.project) {
            return false;
        }
        let scope = &config.options.scope;
        if scope.is_empty() {
            return true;
        }
        let name = |field: &str| {
            issue
                .fields
                .get(field)
                .and_then(|v| v.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        let labels: Vec<String> = (issue
            .fields
            .get("labels")
            .and_then(Value::as_array)
            .into_iter()
            .flatten())
        .filter_map(|l| l.as_str().map(str::to_owned))
        .collect();
        scope.matches(&ScopeSubject {
            project,
            issue_type: name("issuetype"),
            labels: &labels,
            status: name("status"),
        })
    }

    /// The issue of `link` on `side` left its scope.
    pub(super) async fn left_scope(
        &self,
        ctx: &Ctx<'_>,
        link: Link,
        side: Side,
    ) -> Result<Outcome, ReconcileError> {
        match ctx.connection.sync.on_leave_scope {
            OnLeaveScope::Stop => {
                info!(link = %link.id, %side, "a linked issue is out of scope; paused");
                Ok(Outcome::Skipped {
                    reason: "out_of_scope",
                })
            }
            OnLeaveScope::Unlink => {
                self.store.detach_link(link.id, "left_scope").await?;
                let change = json!({ "reason": "left_scope", "side": side.as_str() });
                self.audit_value(ctx, Some(link.id), "unlink", side, &[], change)
                    .await?;
                info!(link = %link.id, %side, "a linked issue left the scope; unlinked");
                Ok(Outcome::Unlinked { link_id: link.id })
            }
        }
    }
}

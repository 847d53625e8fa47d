//! Which custom fields a connection can really sync: each mapped field is checked against both
//! sites' field catalogues (`GET /field`): it must exist on both, and its type (configured, or
//! read from the schema) must be one jira-sync maps. A field that fails is reported ONCE per
//! process, loudly (an error log, the `unmappable_field_total` counter and an audit entry), and
//! left out of the sync; the rest of the issue keeps syncing. Values of the wrong shape met
//! later are reported the same way.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use jira_sync_domain::{ConnectionId, Side};
use jira_sync_settings::{ConnectionSettings, CustomFieldMapping, CustomFieldType};
use jira_sync_store::NewAuditEntry;
use serde_json::json;
use tracing::{error, warn};

use super::{Ctx, Reconciler};
use crate::error::{ReconcileError, chain};
use crate::jira::FieldMeta;
use crate::metrics;

/// The custom fields of one connection that can be synced, with their types.
#[derive(Debug, Default)]
pub struct FieldCatalog {
    /// Left field id -> type.
    pub types: BTreeMap<String, CustomFieldType>,
}

/// Catalogues per connection and the unmappable fields already reported.
#[derive(Debug, Default)]
pub struct Catalogs {
    by_connection: Mutex<HashMap<ConnectionId, Arc<FieldCatalog>>>,
    reported: Mutex<HashSet<(ConnectionId, String)>>,
}

impl Catalogs {
    fn cached(&self, id: &ConnectionId) -> Option<Arc<FieldCatalog>> {
        self.by_connection.lock().ok()?.get(id).cloned()
    }

    fn keep(&self, id: &ConnectionId, catalog: Arc<FieldCatalog>) {
        if let Ok(mut map) = self.by_connection.lock() {
            map.insert(id.clone(), catalog);
        }
    }

    /// `true` the first time `field` of `connection` is reported.
    fn first_report(&self, connection: &ConnectionId, field: &str) -> bool {
        self.reported
            .lock()
            .map(|mut r| r.insert((connection.clone(), field.to_owned())))
            .unwrap_or(false)
    }
}

/// Why a mapped field cannot be synced, or its type when it can.
fn check(
    mapping: &CustomFieldMapping,
    metas: [Option<&FieldMeta>; 2],
    endpoints: [&str; 2],
) -> Result<CustomFieldType, String> {
    let mut types = [None, None];
    for (i, side) in [Side::Left, Side::Right].into_iter().enumerate() {
        let Some(meta) = metas[i] else {
            return Err(format!(
                "{} does not exist on `{}`",
                mapping.id(side),
                endpoints[i]
            ));
        };
        let schema = meta.schema.clone().unwrap_or_default();
        let kind = schema.kind.as_deref().unwrap_or_default();
        types[i] = match CustomFieldType::from_schema(
            kind,
            schema.items.as_deref(),
            schema.custom.as_deref(),
        ) {
            Some(t) => Some(t),
            None => {
                return Err(format!(
                    "{} on `{}` is of type `{}` ({}), which jira-sync cannot map",
                    mapping.id(side),
                    endpoints[i],
                    kind,
                    schema.custom.as_deref().unwrap_or("system")
                ));
            }
        };
    }
    let kind = mapping.kind.or(types[0]).or(types[1]).ok_or("no type")?;
    for (i, t) in types.iter().enumerate() {
        if let Some(t) = t
            && *t != kind
        {
            return Err(format!(
                "configured as {kind:?}, but the field on `{}` holds {t:?} values",
                endpoints[i]
            ));
        }
    }
    Ok(kind)
}

impl Reconciler {
    /// The field catalogue of the request's connection, read from both sites once per process.
    /// When a site cannot be read, configured types are trusted for this reconcile (and
    /// nothing is cached, so the check runs again next time).
    pub(super) async fn catalog(&self, ctx: &Ctx<'_>) -> Result<Arc<FieldCatalog>, ReconcileError> {
        if let Some(cached) = self.catalogs.cached(ctx.id()) {
            return Ok(cached);
        }
        let mappings = &ctx.connection.sync.custom_fields;
        if mappings.is_empty() {
            let empty = Arc::new(FieldCatalog::default());
            self.catalogs.keep(ctx.id(), empty.clone());
            return Ok(empty);
        }
        let (left, right) = tokio::join!(ctx.left.fields(), ctx.right.fields());
        let (left, right) = match (left, right) {
            (Ok(l), Ok(r)) => (l, r),
            (l, r) => {
                for e in [l.err(), r.err()].into_iter().flatten() {
                    warn!(error = %chain(&e), "cannot read a field catalogue; trusting configured custom field types");
                }
                let types = (mappings.iter())
                    .filter_map(|m| m.kind.map(|k| (m.left.clone(), k)))
                    .collect();
                return Ok(Arc::new(FieldCatalog { types }));
            }
        };
        let find = |list: &[FieldMeta], id: &str| list.iter().find(|f| f.id == id).cloned();
        let endpoints = [
            ctx.endpoint(Side::Left).as_str(),
            ctx.endpoint(Side::Right).as_str(),
        ];
        let mut catalog = FieldCatalog::default();
        for mapping in mappings {
            let metas = [find(&left, &mapping.left), find(&right, &mapping.right)];
            match check(mapping, [metas[0].as_ref(), metas[1].as_ref()], endpoints) {
                Ok(kind) => {
                    catalog.types.insert(mapping.left.clone(), kind);
                }
                Err(reason) => self.report_unmappable(ctx, &mapping.left, &reason).await,
            }
        }
        let catalog = Arc::new(catalog);
        self.catalogs.keep(ctx.id(), catalog.clone());
        Ok(catalog)
    }

    /// Reports a field that cannot be synced, once per process and connection: an error log,
    /// the `unmappable_field_total` counter and an audit entry.
    pub(super) async fn report_unmappable(&self, ctx: &Ctx<'_>, field: &str, reason: &str) {
        if !self.catalogs.first_report(ctx.id(), field) {
            return;
        }
        error!(connection = %ctx.id(), field, reason, "custom field cannot be synced; it is left out until the configuration is fixed");
        metrics::unmappable_field(ctx.id(), field);
        let entry = NewAuditEntry {
            link_id: None,
            connection: ctx.id().clone(),
            action: "unmappable_field".into(),
            target: Side::Left,
            fields: vec![field.to_owned()],
            changes: json!({ "field": field, "reason": reason }),
            trigger: ctx.request.trigger.name().to_owned(),
            delivery_id: Some(ctx.request.delivery_id.to_string()),
            trace_id: ctx.trace_id.map(str::to_owned),
        };
        if let Err(e) = self.store.append_audit(entry).await {
            warn!(error = %chain(&e), "could not audit an unmappable field");
        }
    }
}

/// The merge rules of a connection without the custom fields its catalogue could not type.
pub(super) fn usable_rules(
    connection: &ConnectionSettings,
    catalog: &FieldCatalog,
) -> BTreeMap<String, jira_sync_domain::merge::FieldRule> {
    connection
        .rules()
        .into_iter()
        .filter(|(key, _)| {
            connection.sync.custom_field(key).is_none() || catalog.types.contains_key(key)
        })
        .collect()
}

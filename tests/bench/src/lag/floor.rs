//! The floor: a bare client copying each change (read A, write B) as soon as it is made,
//! against two fresh sites with the same latency and limits as jira-sync's.

use std::collections::HashMap;
use std::sync::Arc;

use jira_sync_jira_sim::{BulkSeed, SimConfig, Simulator, SiteConfig};

use super::{Measured, PAIRS, Plan, from_sites, not_growing};
use crate::bare;
use crate::drive::{self, summary_fields, summary_value};
use crate::setup::{self, Regime};

/// One run of the floor at `rate`: two fresh sites with the same limits, the same person and a
/// bare client copying each change (read A, write B) as soon as it is made.
pub(super) async fn measure_floor(
    plan: &Plan,
    regime: Regime,
    rate: f64,
) -> anyhow::Result<Measured> {
    let sim = Simulator::start(SimConfig {
        sites: vec![SiteConfig::named("a"), SiteConfig::named("b")],
        ..SimConfig::default()
    })
    .await?;
    let result = floor_on(&sim, plan, regime, rate).await;
    sim.stop().await;
    result
}

async fn floor_on(
    sim: &Simulator,
    plan: &Plan,
    regime: Regime,
    rate: f64,
) -> anyhow::Result<Measured> {
    let site = |name: &str| {
        sim.site(name)
            .ok_or_else(|| anyhow::anyhow!("no site {name}"))
    };
    let (a, b) = (site("a")?, site("b")?);
    let seed = |project: &str| BulkSeed {
        project: project.to_owned(),
        count: PAIRS as u32,
        summary_prefix: Some("pair".to_owned()),
        ..BulkSeed::default()
    };
    let seeded_a = a
        .seed_issues(&seed("A"))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let seeded_b = b
        .seed_issues(&seed("B"))
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let ids = |first: Option<String>| -> anyhow::Result<Vec<String>> {
        let first: u64 = first.and_then(|f| f.parse().ok()).unwrap_or_default();
        Ok((first..first + PAIRS as u64)
            .map(|i| i.to_string())
            .collect())
    };
    let pairs: Arc<Vec<(String, String)>> = Arc::new(
        ids(seeded_a.first_id)?
            .into_iter()
            .zip(ids(seeded_b.first_id)?)
            .collect(),
    );
    for (name, other) in [("a", rate), ("b", 0.0)] {
        site(name)?
            .set_limits(regime.limits(other))
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()?;
    let person = setup::account(&http, a, false)?;
    let (reader, writer) = (
        setup::account(&http, a, true)?,
        setup::account(&http, b, true)?,
    );
    let tag = format!("floor{}", rate as u64);
    let count = (rate * plan.seconds).round() as usize;
    let driven = drive::drive(rate, count, |k| {
        let (person, reader, writer) = (person.clone(), reader.clone(), writer.clone());
        let (pairs, value) = (pairs.clone(), summary_value(&tag, k));
        async move {
            let (ia, ib) = &pairs[k % pairs.len()];
            let made = person.edit(ia, summary_fields(&value)).await?;
            if (200..300).contains(&made.status) {
                copy(&reader, &writer, ia, ib).await?;
            }
            Ok(made)
        }
    })
    .await;
    let twins: HashMap<String, String> = pairs.iter().cloned().collect();
    let (mut m, _) = from_sites(a, b, &tag, &twins, &driven, rate, count);
    m.sustained = m.arrived >= 1.0 && not_growing(m.first_p99, m.last_p99);
    Ok(m)
}

/// The floor's work for one change: read the summary in A, write it to B.
async fn copy(reader: &bare::Jira, writer: &bare::Jira, a: &str, b: &str) -> anyhow::Result<()> {
    let read = reader.get_issue(a, "summary").await?;
    let summary = read.body["fields"]["summary"].clone();
    writer
        .edit(b, serde_json::json!({ "summary": summary }))
        .await?;
    Ok(())
}

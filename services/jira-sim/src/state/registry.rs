//! Ids for components and fix versions. The simulator accepts any name and gives each new one
//! the next id (from 10000), so issues can carry them without project configuration.

use std::collections::BTreeMap;

/// Name-to-id maps of components and versions.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    components: BTreeMap<String, u64>,
    versions: BTreeMap<String, u64>,
    next_id: u64,
}

impl Registry {
    pub fn component_id(&mut self, name: &str) -> u64 {
        Self::id(&mut self.components, &mut self.next_id, name)
    }

    pub fn version_id(&mut self, name: &str) -> u64 {
        Self::id(&mut self.versions, &mut self.next_id, name)
    }

    pub fn component_name(&self, id: &str) -> Option<String> {
        Self::name(&self.components, id)
    }

    pub fn version_name(&self, id: &str) -> Option<String> {
        Self::name(&self.versions, id)
    }

    fn id(map: &mut BTreeMap<String, u64>, next: &mut u64, name: &str) -> u64 {
        if let Some(id) = map.get(name) {
            return *id;
        }
        let id = 10_000 + *next;
        *next += 1;
        map.insert(name.to_owned(), id);
        id
    }

    fn name(map: &BTreeMap<String, u64>, id: &str) -> Option<String> {
        map.iter()
            .find(|(_, v)| v.to_string() == id)
            .map(|(k, _)| k.clone())
    }
}

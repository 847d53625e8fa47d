//! The `fields` and `properties` request parameters: which fields and entity properties an
//! issue bean carries (`*all`, `*navigable`, `name`, `-name`).

use std::collections::HashSet;

/// Which fields to render.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FieldSelection {
    all: bool,
    navigable: bool,
    include: HashSet<String>,
    exclude: HashSet<String>,
}

impl FieldSelection {
    /// Every field.
    pub fn all() -> Self {
        Self {
            all: true,
            ..Self::default()
        }
    }

    /// Parses comma lists (possibly several parameters); `default` applies when none is given.
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>, default: Self) -> Self {
        let mut sel = Self::default();
        let mut any = false;
        for token in values
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            any = true;
            match token {
                "*all" => sel.all = true,
                "*navigable" => sel.navigable = true,
                t if t.starts_with('-') => drop(sel.exclude.insert(t[1..].to_owned())),
                t => drop(sel.include.insert(t.to_owned())),
            }
        }
        if any { sel } else { default }
    }

    /// Whether `field` is rendered.
    pub fn wants(&self, field: &str) -> bool {
        if self.exclude.contains(field) {
            return false;
        }
        self.all || (self.navigable && field != "comment") || self.include.contains(field)
    }

    /// Whether nothing beyond the listed names was asked for.
    pub fn only(&self, names: &[&str]) -> bool {
        !self.all && !self.navigable && self.include.iter().all(|f| names.contains(&f.as_str()))
    }
}

/// Which entity properties to render in the bean's top-level `properties`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PropSelection {
    all: bool,
    include: HashSet<String>,
    exclude: HashSet<String>,
}

impl PropSelection {
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut sel = Self::default();
        for token in values
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            match token {
                "*all" => sel.all = true,
                t if t.starts_with('-') => drop(sel.exclude.insert(t[1..].to_owned())),
                t => drop(sel.include.insert(t.to_owned())),
            }
        }
        sel
    }

    pub fn is_empty(&self) -> bool {
        !self.all && self.include.is_empty()
    }

    pub fn wants(&self, key: &str) -> bool {
        !self.exclude.contains(key) && (self.all || self.include.contains(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_parameter_means_the_default_and_exclusions_win() {
        let sel = FieldSelection::parse([], FieldSelection::all());
        assert!(sel.wants("comment"));
        let sel = FieldSelection::parse(["*all,-comment"], FieldSelection::default());
        assert!(sel.wants("summary") && !sel.wants("comment"));
        let sel = FieldSelection::parse(["summary", "status"], FieldSelection::all());
        assert!(sel.wants("status") && !sel.wants("labels"));
    }

    #[test]
    fn only_tells_whether_nothing_else_was_asked_for() {
        assert!(FieldSelection::parse(["id,key"], FieldSelection::all()).only(&["id", "key"]));
        assert!(!FieldSelection::parse(["id,key"], FieldSelection::all()).only(&["id"]));
        assert!(!FieldSelection::parse(["*navigable"], FieldSelection::all()).only(&["id", "key"]));
    }
}

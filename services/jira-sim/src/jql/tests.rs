//! Parser tests: the accepted subset and the messages for what is refused.

use super::parser::parse;
use super::{Clause, CmpOp, DateField, DateValue, SortField, SortKey};

#[test]
fn a_poller_query_parses_into_clauses_and_order() {
    let q = parse(
        r#"project = ALPHA AND updated >= "2026-01-01 10:00" ORDER BY updated ASC, key DESC"#,
    );
    let q = q.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(q.clauses.len(), 2);
    assert_eq!(
        q.clauses[0],
        Clause::Project {
            negate: false,
            values: vec!["ALPHA".into()]
        }
    );
    assert_eq!(
        q.clauses[1],
        Clause::Date {
            field: DateField::Updated,
            op: CmpOp::Ge,
            value: DateValue::At(1_767_261_600_000)
        }
    );
    assert_eq!(
        q.order,
        vec![
            SortKey {
                field: SortField::Updated,
                desc: false
            },
            SortKey {
                field: SortField::Key,
                desc: true
            }
        ]
    );
}

#[test]
fn relative_dates_are_offsets_from_now() {
    let q = parse("updated > -5m").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        q.clauses[0],
        Clause::Date {
            field: DateField::Updated,
            op: CmpOp::Gt,
            value: DateValue::FromNow(-300_000)
        }
    );
}

#[test]
fn or_not_and_unknown_fields_are_refused_with_a_reason() {
    let msg = |q: &str| parse(q).err().map(|e| e.0).unwrap_or_default();
    assert!(msg("project = A OR project = B").contains("OR is not supported"));
    assert!(msg("summary ~ foo").contains("'summary'"));
    assert!(msg("flavour = sweet").contains("does not exist"));
    assert!(msg("project = A AND").contains("Expecting a field name"));
    assert!(msg("updated = \"2026-01-01\"").contains("operator '='"));
    assert!(msg("updated > yesterday").contains("is invalid"));
}

#[test]
fn in_lists_keys_ids_and_properties_parse() {
    let q =
        parse("key in (A-1, a-2) AND id not in (10001) AND issue.property[sync].origin = \"b\"");
    let q = q.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        q.clauses[0],
        Clause::Key {
            negate: false,
            keys: vec!["A-1".into(), "a-2".into()]
        }
    );
    assert_eq!(
        q.clauses[1],
        Clause::Id {
            negate: true,
            ids: vec![10001]
        }
    );
    assert_eq!(
        q.clauses[2],
        Clause::Property {
            key: "sync".into(),
            path: vec!["origin".into()],
            negate: false,
            value: "b".into()
        }
    );
}

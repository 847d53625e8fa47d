//! Builds a `Query` from tokens. Anything outside the subset is refused with a message that
//! names it, so a test or client that strays learns why at once.

use super::lexer::{Tok, lex};
use super::{Clause, CmpOp, DateField, DateValue, JqlError, Query, SortField, SortKey};
use crate::clock::parse_jql_date;

/// Fields Jira knows but the simulator does not filter on: refused as unsupported rather than
/// as unknown.
const KNOWN_UNSUPPORTED: &[&str] = &[
    "summary",
    "description",
    "text",
    "labels",
    "assignee",
    "reporter",
    "creator",
    "priority",
    "issuetype",
    "type",
    "resolution",
    "resolved",
    "component",
    "fixversion",
    "due",
    "duedate",
    "parent",
    "sprint",
    "statuscategory",
    "comment",
    "watcher",
    "filter",
];

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

/// Parses a JQL string.
pub(crate) fn parse(jql: &str) -> Result<Query, JqlError> {
    let mut p = Parser {
        toks: lex(jql)?,
        pos: 0,
    };
    let mut clauses = Vec::new();
    let mut order = Vec::new();
    while p.peek().is_some() {
        if p.keyword("order") {
            p.expect_keyword("by")?;
            order = p.sort_keys()?;
            break;
        }
        if !clauses.is_empty() {
            match p.next() {
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("and") => {}
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("or") => {
                    return Err(JqlError::unsupported("OR"));
                }
                Some(t) => {
                    return Err(JqlError::syntax(format!(
                        "Expecting either 'OR' or 'AND' but got '{t}'."
                    )));
                }
                None => break,
            }
        }
        clauses.push(p.clause()?);
    }
    if let Some(t) = p.peek() {
        return Err(JqlError::syntax(format!(
            "Unexpected '{t}' after ORDER BY."
        )));
    }
    Ok(Query { clauses, order })
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    /// Consumes the word `kw` (case-insensitive) when it is next.
    fn keyword(&mut self, kw: &str) -> bool {
        let hit = matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw));
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect_keyword(&mut self, kw: &str) -> Result<(), JqlError> {
        if self.keyword(kw) {
            return Ok(());
        }
        let got = self
            .peek()
            .map_or_else(|| "the end of the query".to_owned(), |t| format!("'{t}'"));
        Err(JqlError::syntax(format!(
            "Expecting '{}' but got {got}.",
            kw.to_ascii_uppercase()
        )))
    }

    fn sort_keys(&mut self) -> Result<Vec<SortKey>, JqlError> {
        let mut keys = Vec::new();
        loop {
            let field = match self.next() {
                Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                    "updated" | "updateddate" => SortField::Updated,
                    "created" | "createddate" => SortField::Created,
                    "key" | "issuekey" => SortField::Key,
                    "id" => SortField::Id,
                    other => return Err(JqlError::unsupported(format!("ORDER BY {other}"))),
                },
                other => {
                    return Err(JqlError::syntax(format!(
                        "Expecting a field name after ORDER BY, got {other:?}."
                    )));
                }
            };
            let desc = if self.keyword("desc") {
                true
            } else {
                self.keyword("asc");
                false
            };
            keys.push(SortKey { field, desc });
            if !matches!(self.peek(), Some(Tok::Comma)) {
                return Ok(keys);
            }
            self.pos += 1;
        }
    }

    fn clause(&mut self) -> Result<Clause, JqlError> {
        let field = match self.next() {
            Some(Tok::Property { key, path }) => return self.property(key, path),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") => {
                return Err(JqlError::unsupported("NOT"));
            }
            Some(Tok::LParen) => return Err(JqlError::unsupported("Grouping with parentheses")),
            Some(Tok::Word(w)) => w,
            Some(t) => {
                return Err(JqlError::syntax(format!(
                    "Expecting a field name but got '{t}'."
                )));
            }
            None => {
                return Err(JqlError::syntax(
                    "Expecting a field name but got the end of the query.",
                ));
            }
        };
        let lower = field.to_ascii_lowercase();
        match lower.as_str() {
            "project" | "key" | "issuekey" | "issue" | "id" | "status" => self.list_clause(&lower),
            "updated" | "updateddate" | "created" | "createddate" => {
                let f = if lower.starts_with("updated") {
                    DateField::Updated
                } else {
                    DateField::Created
                };
                self.date_clause(f)
            }
            f if KNOWN_UNSUPPORTED.contains(&f)
                || f.starts_with("cf[")
                || f.starts_with("customfield_") =>
            {
                Err(JqlError::unsupported(format!("The field '{field}'")))
            }
            _ => Err(JqlError(format!(
                "Field '{field}' does not exist or you do not have permission to view it."
            ))),
        }
    }

    /// `=`, `!=`, `in (..)`, `not in (..)`: returns (negate, values).
    fn equality(&mut self, field: &str) -> Result<(bool, Vec<String>), JqlError> {
        match self.next() {
            Some(Tok::Op("=")) => Ok((false, vec![self.value(field)?])),
            Some(Tok::Op("!=")) => Ok((true, vec![self.value(field)?])),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => Ok((false, self.list(field)?)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") => {
                self.expect_keyword("in")?;
                Ok((true, self.list(field)?))
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("is") => {
                Err(JqlError::unsupported("IS EMPTY / IS NULL"))
            }
            other => Err(JqlError::syntax(format!(
                "The operator '{}' is not supported by the '{field}' field.",
                other.map_or_else(String::new, |t| t.to_string())
            ))),
        }
    }

    fn value(&mut self, field: &str) -> Result<String, JqlError> {
        match self.next() {
            Some(Tok::Word(w) | Tok::Str(w)) => Ok(w),
            other => Err(JqlError::syntax(format!(
                "Expecting a value for field '{field}' but got {}.",
                other.map_or_else(|| "the end of the query".to_owned(), |t| format!("'{t}'"))
            ))),
        }
    }

    fn list(&mut self, field: &str) -> Result<Vec<String>, JqlError> {
        if self.next() != Some(Tok::LParen) {
            return Err(JqlError::syntax(format!(
                "Expecting '(' after IN for field '{field}'."
            )));
        }
        let mut values = vec![self.value(field)?];
        loop {
            match self.next() {
                Some(Tok::Comma) => values.push(self.value(field)?),
                Some(Tok::RParen) => return Ok(values),
                _ => {
                    return Err(JqlError::syntax(format!(
                        "Expecting ',' or ')' in the list for field '{field}'."
                    )));
                }
            }
        }
    }

    fn list_clause(&mut self, field: &str) -> Result<Clause, JqlError> {
        let (negate, values) = self.equality(field)?;
        Ok(match field {
            "project" => Clause::Project { negate, values },
            "status" => Clause::Status { negate, values },
            "id" => {
                let ids = values
                    .iter()
                    .map(|v| {
                        v.parse().map_err(|_| {
                            JqlError(format!("The issue id '{v}' for field 'id' is invalid."))
                        })
                    })
                    .collect::<Result<_, _>>()?;
                Clause::Id { negate, ids }
            }
            _ => Clause::Key {
                negate,
                keys: values,
            },
        })
    }

    fn date_clause(&mut self, field: DateField) -> Result<Clause, JqlError> {
        let op = match self.next() {
            Some(Tok::Op("<")) => CmpOp::Lt,
            Some(Tok::Op("<=")) => CmpOp::Le,
            Some(Tok::Op(">")) => CmpOp::Gt,
            Some(Tok::Op(">=")) => CmpOp::Ge,
            other => {
                let op = other.map_or_else(String::new, |t| t.to_string());
                return Err(JqlError::unsupported(format!(
                    "The operator '{op}' on a date field"
                )));
            }
        };
        let raw = self.value("date")?;
        let value = relative(&raw)
            .map(DateValue::FromNow)
            .or_else(|| parse_jql_date(&raw).map(DateValue::At))
            .ok_or_else(|| {
                JqlError(format!(
                    "Date value '{raw}' for field '{}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', \
                     'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.",
                    if field == DateField::Updated { "updated" } else { "created" }
                ))
            })?;
        Ok(Clause::Date { field, op, value })
    }

    fn property(&mut self, key: String, path: Vec<String>) -> Result<Clause, JqlError> {
        let negate = match self.next() {
            Some(Tok::Op("=")) => false,
            Some(Tok::Op("!=")) => true,
            other => {
                let op = other.map_or_else(String::new, |t| t.to_string());
                return Err(JqlError::unsupported(format!(
                    "The operator '{op}' on an entity property"
                )));
            }
        };
        let value = self.value("issue.property")?;
        Ok(Clause::Property {
            key,
            path,
            negate,
            value,
        })
    }
}

/// `-5m`, `-2h`, `-1d`, `-1w`, `3d`: an offset from now in ms.
fn relative(s: &str) -> Option<i64> {
    let (sign, body) = match s.strip_prefix('-') {
        Some(b) => (-1, b),
        None => (1, s.strip_prefix('+').unwrap_or(s)),
    };
    let unit = body.chars().last()?;
    let n: i64 = body[..body.len() - unit.len_utf8()].parse().ok()?;
    let ms = match unit {
        'm' => 60_000,
        'h' => 3_600_000,
        'd' => 86_400_000,
        'w' => 7 * 86_400_000,
        _ => return None,
    };
    Some(sign * n * ms)
}

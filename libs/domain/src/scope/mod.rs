//! Which issues a connection syncs: a filter by issue type and labels plus a small JQL subset,
//! evaluated in memory on an issue already read (no search round trip, no index lag).
//!
//! The subset: fields `project`, `issuetype` (or `type`), `labels`, `status`; operators `=`,
//! `!=`, `in (..)`, `not in (..)`; `AND`, `OR`, `NOT` and parentheses; values bare or quoted.
//! Names compare case-insensitively, as in Jira. `labels = x` holds when `x` is one of the
//! labels, `labels != x` when it is not. Anything else (other fields, `~`, functions, `ORDER
//! BY`) is refused when the configuration is loaded, never silently ignored.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The view of an issue a scope is evaluated on.
#[derive(Debug, Clone, Copy)]
pub struct ScopeSubject<'a> {
    pub project: &'a str,
    pub issue_type: &'a str,
    pub labels: &'a [String],
    pub status: &'a str,
}

/// Why a JQL text is not in the supported subset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("JQL {jql:?} at {position}: {reason}")]
pub struct JqlError {
    pub jql: String,
    pub position: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeField {
    Project,
    IssueType,
    Labels,
    Status,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    /// `field in values` (negated for `!=` and `not in`).
    Clause {
        field: ScopeField,
        values: Vec<String>,
        negated: bool,
    },
}

/// A parsed JQL filter of the supported subset. Serialized as its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Jql {
    text: String,
    expr: Expr,
}

impl Jql {
    /// Parses `text`, refusing anything outside the subset.
    pub fn parse(text: &str) -> Result<Self, JqlError> {
        let tokens = lex(text)?;
        let mut parser = Parser {
            text,
            tokens,
            at: 0,
        };
        let expr = parser.or()?;
        if let Some((position, token)) = parser.tokens.get(parser.at) {
            return Err(parser.error(*position, format!("unexpected {token}")));
        }
        Ok(Self {
            text: text.to_owned(),
            expr,
        })
    }

    /// Whether the issue matches.
    pub fn matches(&self, issue: &ScopeSubject<'_>) -> bool {
        eval(&self.expr, issue)
    }

    /// The filter as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl TryFrom<String> for Jql {
    type Error = JqlError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Jql> for String {
    fn from(jql: Jql) -> Self {
        jql.text
    }
}

fn eval(expr: &Expr, issue: &ScopeSubject<'_>) -> bool {
    match expr {
        Expr::Or(items) => items.iter().any(|e| eval(e, issue)),
        Expr::And(items) => items.iter().all(|e| eval(e, issue)),
        Expr::Not(inner) => !eval(inner, issue),
        Expr::Clause {
            field,
            values,
            negated,
        } => {
            let one = |v: &str| values.iter().any(|x| x.eq_ignore_ascii_case(v));
            let hit = match field {
                ScopeField::Project => one(issue.project),
                ScopeField::IssueType => one(issue.issue_type),
                ScopeField::Status => one(issue.status),
                ScopeField::Labels => issue.labels.iter().any(|l| one(l)),
            };
            hit != *negated
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Eq,
    NotEq,
    Open,
    Close,
    Comma,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => write!(f, "`{w}`"),
            Token::Quoted(q) => write!(f, "{q:?}"),
            Token::Eq => f.write_str("`=`"),
            Token::NotEq => f.write_str("`!=`"),
            Token::Open => f.write_str("`(`"),
            Token::Close => f.write_str("`)`"),
            Token::Comma => f.write_str("`,`"),
        }
    }
}

fn lex(text: &str) -> Result<Vec<(usize, Token)>, JqlError> {
    let error = |position, reason: &str| JqlError {
        jql: text.to_owned(),
        position,
        reason: reason.to_owned(),
    };
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '=' => Token::Eq,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '!' if chars.peek().map(|(_, c)| *c) == Some('=') => {
                chars.next();
                Token::NotEq
            }
            '"' | '\'' => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some((_, q)) if q == c => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, escaped)) => value.push(escaped),
                            None => return Err(error(at, "unterminated string")),
                        },
                        Some((_, other)) => value.push(other),
                        None => return Err(error(at, "unterminated string")),
                    }
                }
                Token::Quoted(value)
            }
            c if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') => {
                let mut word = c.to_string();
                while let Some((_, next)) = chars.peek() {
                    if next.is_alphanumeric() || matches!(next, '_' | '-' | '.') {
                        word.push(*next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                Token::Word(word)
            }
            _ => return Err(error(at, &format!("`{c}` is not supported"))),
        };
        tokens.push((at, token));
    }
    Ok(tokens)
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<(usize, Token)>,
    at: usize,
}

impl Parser<'_> {
    fn error(&self, position: usize, reason: impl Into<String>) -> JqlError {
        JqlError {
            jql: self.text.to_owned(),
            position,
            reason: reason.into(),
        }
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn position(&self) -> usize {
        self.tokens
            .get(self.at)
            .map_or(self.text.len(), |(p, _)| *p)
    }

    fn keyword(&mut self, word: &str) -> bool {
        let hit = matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word));
        if hit {
            self.at += 1;
        }
        hit
    }

    fn expect(&mut self, token: &Token) -> Result<(), JqlError> {
        if self.peek() == Some(token) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(self.position(), format!("expected {token}")))
        }
    }

    fn or(&mut self) -> Result<Expr, JqlError> {
        let mut items = vec![self.and()?];
        while self.keyword("or") {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, JqlError> {
        let mut items = vec![self.unary()?];
        while self.keyword("and") {
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, JqlError> {
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            let inner = self.or()?;
            self.expect(&Token::Close)?;
            return Ok(inner);
        }
        self.clause()
    }

    fn clause(&mut self) -> Result<Expr, JqlError> {
        let position = self.position();
        let name = match self.peek() {
            Some(Token::Word(w) | Token::Quoted(w)) => w.to_ascii_lowercase(),
            _ => return Err(self.error(position, "expected a field")),
        };
        let field = match name.as_str() {
            "project" => ScopeField::Project,
            "issuetype" | "type" => ScopeField::IssueType,
            "labels" => ScopeField::Labels,
            "status" => ScopeField::Status,
            other => {
                return Err(self.error(
                    position,
                    format!(
                        "field `{other}` is not supported (use project, issuetype, labels, status)"
                    ),
                ));
            }
        };
        self.at += 1;
        let negated = match self.peek().cloned() {
            Some(Token::Eq) => {
                self.at += 1;
                false
            }
            Some(Token::NotEq) => {
                self.at += 1;
                true
            }
            _ if self.keyword("in") => return self.list(field, false),
            _ if self.keyword("not") => {
                if !self.keyword("in") {
                    return Err(self.error(self.position(), "expected `in` after `not`"));
                }
                return self.list(field, true);
            }
            _ => {
                return Err(self.error(self.position(), "expected `=`, `!=`, `in` or `not in`"));
            }
        };
        let value = self.value()?;
        Ok(Expr::Clause {
            field,
            values: vec![value],
            negated,
        })
    }

    fn list(&mut self, field: ScopeField, negated: bool) -> Result<Expr, JqlError> {
        self.expect(&Token::Open)?;
        let mut values = vec![self.value()?];
        while self.peek() == Some(&Token::Comma) {
            self.at += 1;
            values.push(self.value()?);
        }
        self.expect(&Token::Close)?;
        Ok(Expr::Clause {
            field,
            values,
            negated,
        })
    }

    fn value(&mut self) -> Result<String, JqlError> {
        let position = self.position();
        match self.peek().cloned() {
            Some(Token::Word(w)) if !is_reserved(&w) => {
                self.at += 1;
                Ok(w)
            }
            Some(Token::Quoted(q)) => {
                self.at += 1;
                Ok(q)
            }
            _ => Err(self.error(position, "expected a value")),
        }
    }
}

fn is_reserved(word: &str) -> bool {
    ["and", "or", "not", "in", "order", "empty", "null"]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests;

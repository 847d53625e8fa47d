//! Splits JQL text into tokens: words, quoted strings, operators, parentheses, commas and the
//! `issue.property[key].path` form.

use super::JqlError;

/// One token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok {
    Word(String),
    Str(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Property { key: String, path: Vec<String> },
}

impl std::fmt::Display for Tok {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Word(w) => write!(f, "{w}"),
            Self::Str(s) => write!(f, "\"{s}\""),
            Self::Op(o) => write!(f, "{o}"),
            Self::LParen => write!(f, "("),
            Self::RParen => write!(f, ")"),
            Self::Comma => write!(f, ","),
            Self::Property { key, path } => write!(f, "issue.property[{key}].{}", path.join(".")),
        }
    }
}

const PROPERTY: &str = "issue.property[";

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':' | '/' | '*' | '+' | '@')
}

pub(super) fn lex(input: &str) -> Result<Vec<Tok>, JqlError> {
    let chars: Vec<char> = input.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..].iter().take(PROPERTY.len()).collect();
        if c.is_whitespace() {
            i += 1;
        } else if rest.eq_ignore_ascii_case(PROPERTY) {
            let (tok, next) = property(&chars, i + PROPERTY.len())?;
            toks.push(tok);
            i = next;
        } else if c == '"' || c == '\'' {
            let (s, next) = quoted(&chars, i)?;
            toks.push(Tok::Str(s));
            i = next;
        } else if let Some(op) = operator(&chars[i..]) {
            toks.push(Tok::Op(op));
            i += op.len();
        } else if c == '(' || c == ')' || c == ',' {
            toks.push(match c {
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                _ => Tok::Comma,
            });
            i += 1;
        } else if is_word_char(c) {
            let start = i;
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            toks.push(Tok::Word(chars[start..i].iter().collect()));
        } else {
            return Err(JqlError::syntax(format!(
                "The character '{c}' is a reserved JQL character."
            )));
        }
    }
    Ok(toks)
}

fn operator(s: &[char]) -> Option<&'static str> {
    let two: String = s.iter().take(2).collect();
    for op in ["!=", ">=", "<=", "!~"] {
        if two == op {
            return Some(op);
        }
    }
    match s.first() {
        Some('=') => Some("="),
        Some('>') => Some(">"),
        Some('<') => Some("<"),
        Some('~') => Some("~"),
        _ => None,
    }
}

fn quoted(chars: &[char], start: usize) -> Result<(String, usize), JqlError> {
    let quote = chars[start];
    let mut out = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            c if c == quote => return Ok((out, i + 1)),
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(JqlError::syntax(
        "The quoted string is missing its closing quote.",
    ))
}

fn property(chars: &[char], start: usize) -> Result<(Tok, usize), JqlError> {
    let close = chars[start..]
        .iter()
        .position(|c| *c == ']')
        .ok_or_else(|| JqlError::syntax("issue.property[ is missing its closing ']'."))?;
    let key: String = chars[start..start + close].iter().collect();
    let mut i = start + close + 1;
    let mut path = String::new();
    if chars.get(i) == Some(&'.') {
        i += 1;
        while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.' | '-'))
        {
            path.push(chars[i]);
            i += 1;
        }
    }
    let key = key
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .to_owned();
    if key.is_empty() {
        return Err(JqlError::syntax("issue.property[] needs a property key."));
    }
    let path = path
        .split('.')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    Ok((Tok::Property { key, path }, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_strings_operators_and_properties_are_told_apart() {
        let toks = lex(
            r#"project in (A, "B") AND updated >= "2026-01-01 10:00" AND issue.property[sync.origin].site != 'x'"#,
        );
        let toks = toks.unwrap_or_default();
        assert_eq!(toks[0], Tok::Word("project".into()));
        assert_eq!(toks[3], Tok::Word("A".into()));
        assert_eq!(toks[5], Tok::Str("B".into()));
        assert_eq!(toks[9], Tok::Op(">="));
        assert_eq!(
            toks[12],
            Tok::Property {
                key: "sync.origin".into(),
                path: vec!["site".into()]
            }
        );
        assert_eq!(toks[13], Tok::Op("!="));
    }

    #[test]
    fn an_unclosed_string_is_an_error() {
        assert!(lex("project = \"A").is_err());
    }
}

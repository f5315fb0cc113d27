//! A JSON reader that keeps what Elasticsearch's parser (Jackson) sees and serde_json throws away:
//! duplicate keys, which Elasticsearch rejects, and the column of every token, which its error reasons
//! quote as `[line:column]`.

use serde_json::{Map, Number, Value};

/// Jackson's default `StreamReadConstraints.maxNestingDepth`.
const MAX_DEPTH: usize = 1000;

#[derive(Debug)]
pub enum Node {
    Null,
    Bool(bool),
    Number(Number, bool),
    String(String),
    Array(Vec<Spanned>),
    Object(Vec<(String, Spanned)>),
}

#[derive(Debug)]
pub struct Spanned {
    pub node: Node,
    /// Byte offset of the token's first character; `column` turns it into what Jackson reports.
    pub offset: usize,
}

#[derive(Debug)]
pub enum ParseError {
    Syntax { column: usize, message: String },
    Duplicate { column: usize, field: String },
}

impl ParseError {
    pub fn column(&self) -> usize {
        match self {
            ParseError::Syntax { column, .. } | ParseError::Duplicate { column, .. } => *column,
        }
    }

    /// Jackson's message, location included (its source is redacted in Elasticsearch 8).
    pub fn jackson_message(&self) -> String {
        let message = match self {
            ParseError::Syntax { message, .. } => message.clone(),
            ParseError::Duplicate { field, .. } => format!("Duplicate field '{field}'"),
        };
        format!(
            "{message}\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` \
             disabled); line: 1, column: {}]",
            self.column()
        )
    }
}

/// The 1-based column Jackson reports for a byte offset: it counts characters.
pub fn column(text: &str, offset: usize) -> usize {
    // After an error the offset may sit inside a multi-byte character; count whole characters before it.
    text.char_indices().take_while(|(i, _)| *i < offset).count() + 1
}

pub fn parse(text: &str) -> Result<Spanned, ParseError> {
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    reader.skip_ws();
    let value = reader.value(0)?;
    reader.skip_ws();
    if reader.pos < reader.bytes.len() {
        return Err(reader.syntax("Unexpected character: expected end of input"));
    }
    Ok(value)
}

/// The token name Elasticsearch's messages use for a value's first token.
pub fn token_name(node: &Node) -> &'static str {
    match node {
        Node::Null => "VALUE_NULL",
        Node::Bool(true) => "VALUE_TRUE",
        Node::Bool(false) => "VALUE_FALSE",
        Node::Number(..) => "VALUE_NUMBER",
        Node::String(_) => "VALUE_STRING",
        Node::Array(_) => "START_ARRAY",
        Node::Object(_) => "START_OBJECT",
    }
}

pub fn to_value(spanned: &Spanned) -> Value {
    match &spanned.node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(*b),
        Node::Number(n, _) => Value::Number(n.clone()),
        Node::String(s) => Value::String(s.clone()),
        Node::Array(items) => Value::Array(items.iter().map(to_value).collect()),
        Node::Object(fields) => {
            let mut map = Map::new();
            for (key, value) in fields {
                map.insert(key.clone(), to_value(value));
            }
            Value::Object(map)
        }
    }
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn column_at(&self, pos: usize) -> usize {
        column(self.text, pos)
    }

    fn syntax(&self, message: &str) -> ParseError {
        ParseError::Syntax {
            column: self.column_at(self.pos),
            message: message.to_string(),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Spanned, ParseError> {
        let offset = self.pos;
        let node = match self.bytes.get(self.pos) {
            None => return Err(self.syntax("Unexpected end-of-input")),
            Some(b'{') | Some(b'[') if depth >= MAX_DEPTH => {
                return Err(self.syntax(&format!(
                    "Document nesting depth ({}) exceeds the maximum allowed ({MAX_DEPTH}, from \
                     `StreamReadConstraints.getMaxNestingDepth()`)",
                    depth + 1
                )))
            }
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Node::String(self.string()?),
            Some(b't') => self.literal("true", Node::Bool(true))?,
            Some(b'f') => self.literal("false", Node::Bool(false))?,
            Some(b'n') => self.literal("null", Node::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.syntax("Unexpected character: expected a valid value")),
        };
        Ok(Spanned { node, offset })
    }

    fn literal(&mut self, word: &str, node: Node) -> Result<Node, ParseError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(node)
        } else {
            Err(self.syntax("Unrecognized token: was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"))
        }
    }

    fn number(&mut self) -> Result<Node, ParseError> {
        let start = self.pos;
        let digits = |r: &mut Self| {
            let from = r.pos;
            while let Some(b'0'..=b'9') = r.bytes.get(r.pos) {
                r.pos += 1;
            }
            r.pos - from
        };
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let int_digits = digits(self);
        if int_digits == 0 || (int_digits > 1 && self.bytes[int_start] == b'0') {
            return Err(self.syntax("Invalid numeric value: malformed number"));
        }
        let mut float = false;
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            float = true;
            if digits(self) == 0 {
                return Err(
                    self.syntax("Unexpected character: Decimal point not followed by a digit")
                );
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            float = true;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(
                    self.syntax("Unexpected character: Exponent indicator not followed by a digit")
                );
            }
        }
        let slice = &self.text[start..self.pos];
        match serde_json::from_str::<Number>(slice) {
            Ok(number) => Ok(Node::Number(number, float)),
            Err(_) => Err(self.syntax("Invalid numeric value: out of range")),
        }
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1; // the opening quote
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run_start..self.pos]);
            match self.bytes.get(self.pos) {
                None => return Err(self.syntax("Unexpected end-of-input: was expecting closing quote for a string value")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = match self.bytes.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let unit = self.hex4()?;
                            out.push(self.unicode_escape(unit)?);
                            continue;
                        }
                        _ => return Err(self.syntax("Unrecognized character escape")),
                    };
                    self.pos += 1;
                    out.push(escaped);
                }
                Some(_) => {
                    return Err(self.syntax(
                        "Illegal unquoted character: has to be escaped using backslash to be included in string value",
                    ))
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let digits = self.bytes.get(self.pos..self.pos + 4);
        let parsed = digits
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u32::from_str_radix(d, 16).ok());
        match parsed {
            Some(unit) => {
                self.pos += 4;
                Ok(unit)
            }
            None => Err(self
                .syntax("Unexpected character in character escape sequence: expected a hex-digit")),
        }
    }

    /// Lone surrogates are allowed by Jackson; they become U+FFFD here, which only matters for storage.
    fn unicode_escape(&mut self, unit: u32) -> Result<char, ParseError> {
        if (0xD800..0xDC00).contains(&unit) && self.bytes[self.pos..].starts_with(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            let low = self.hex4()?;
            if (0xDC00..0xE000).contains(&low) {
                let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                return Ok(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            self.pos = save;
        }
        Ok(char::from_u32(unit).unwrap_or('\u{FFFD}'))
    }

    fn array(&mut self, depth: usize) -> Result<Node, ParseError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Node::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Node::Array(items));
                }
                None => {
                    return Err(
                        self.syntax("Unexpected end-of-input: expected close marker for Array")
                    )
                }
                Some(_) => {
                    return Err(self.syntax(
                        "Unexpected character: was expecting comma to separate Array entries",
                    ))
                }
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node, ParseError> {
        self.pos += 1;
        let mut fields: Vec<(String, Spanned)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Node::Object(fields));
        }
        loop {
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b'"') => {}
                None => {
                    return Err(
                        self.syntax("Unexpected end-of-input: expected close marker for Object")
                    )
                }
                Some(_) => {
                    return Err(self.syntax(
                        "Unexpected character: was expecting double-quote to start field name",
                    ))
                }
            }
            let key = self.string()?;
            if !seen.insert(key.clone()) {
                return Err(ParseError::Duplicate {
                    column: self.column_at(self.pos),
                    field: key,
                });
            }
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.syntax(
                    "Unexpected character: was expecting a colon to separate field name and value",
                ));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            fields.push((key, value));
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Node::Object(fields));
                }
                None => {
                    return Err(
                        self.syntax("Unexpected end-of-input: expected close marker for Object")
                    )
                }
                Some(_) => {
                    return Err(self.syntax(
                        "Unexpected character: was expecting comma to separate Object entries",
                    ))
                }
            }
        }
    }
}

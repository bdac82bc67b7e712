//! A YAML document as a small tree with line numbers, read with yaml-rust2's event parser
//! (the importers name the line of everything they cannot carry over). JSON is YAML too, so
//! dotbot's `install.conf.json` is read the same way.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A node and the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null`, or nothing.
    Null,
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.as_str()? {
            "true" | "True" | "TRUE" | "yes" => Some(true),
            "false" | "False" | "FALSE" | "no" => Some(false),
            _ => None,
        }
    }

    /// The value at `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// A string or a list of strings, as a list.
    pub fn strings(&self) -> Vec<String> {
        match &self.value {
            Value::Scalar(s) => vec![s.clone()],
            Value::Seq(items) => items
                .iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Parse the first document of `text`; an error says the line and what is wrong.
pub fn parse(text: &str) -> Result<Node, (usize, String)> {
    let mut builder = Builder::default();
    Parser::new_from_str(text)
        .load(&mut builder, false)
        .map_err(|e| (e.marker().line(), e.info().to_string()))?;
    Ok(builder.done.unwrap_or(Node {
        value: Value::Null,
        line: 1,
    }))
}

/// Builds the tree from parser events.
#[derive(Default)]
struct Builder {
    /// Open sequences and mappings, innermost last; a mapping's key waits beside it.
    open: Vec<(Node, Option<Node>)>,
    done: Option<Node>,
}

impl Builder {
    fn add(&mut self, node: Node) {
        let Some((parent, key)) = self.open.last_mut() else {
            self.done.get_or_insert(node);
            return;
        };
        match &mut parent.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => *key = Some(node),
            },
            _ => {}
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let line = mark.line();
        match event {
            Event::Scalar(text, style, _, _) => {
                let null = style == TScalarStyle::Plain
                    && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL");
                let value = if null {
                    Value::Null
                } else {
                    Value::Scalar(text)
                };
                self.add(Node { value, line });
            }
            // Anchors are not followed: an alias reads as nothing.
            Event::Alias(_) => self.add(Node {
                value: Value::Null,
                line,
            }),
            Event::SequenceStart(..) => self.open.push((
                Node {
                    value: Value::Seq(Vec::new()),
                    line,
                },
                None,
            )),
            Event::MappingStart(..) => self.open.push((
                Node {
                    value: Value::Map(Vec::new()),
                    line,
                },
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, _)) = self.open.pop() {
                    self.add(node);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept() {
        let doc = parse(
            "- defaults:\n    link:\n      relink: true\n- link:\n    ~/.vimrc: vimrc\n    ~/.x:\n",
        )
        .unwrap();
        let items = doc.items();
        assert_eq!(items.len(), 2);
        let link = items[1].get("link").unwrap();
        assert_eq!(link.entries()[0].0.as_str(), Some("~/.vimrc"));
        assert_eq!(link.entries()[0].0.line, 5);
        assert_eq!(link.entries()[1].1.value, Value::Null);
        assert_eq!(
            items[0]
                .get("defaults")
                .unwrap()
                .get("link")
                .unwrap()
                .get("relink")
                .unwrap()
                .as_bool(),
            Some(true)
        );
        let json = parse("[{\"link\": {\"~/.a\": \"a\"}}]").unwrap();
        assert_eq!(json.items()[0].get("link").unwrap().entries().len(), 1);
        assert!(parse("- a: [").is_err());
    }
}

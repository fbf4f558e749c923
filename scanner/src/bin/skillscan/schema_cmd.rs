//! `skillscan schema report|rule|config`: the JSON Schema of a document skillscan writes or reads.

use std::io::Write;

use clap::{Args, ValueEnum};
use skillscan::engine::schemas::Document;

use crate::exit::Exit;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaDocument {
    /// The scan report (`scan --format json`).
    Report,
    /// A rule file (`rules/**/<id>.yaml`).
    Rule,
    /// The configuration file `skillscan.toml`.
    Config,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which document's schema to print.
    #[arg(value_enum)]
    pub document: SchemaDocument,
}

pub fn run(args: SchemaArgs) -> anyhow::Result<Exit> {
    let document = match args.document {
        SchemaDocument::Report => Document::Report,
        SchemaDocument::Rule => Document::Rule,
        SchemaDocument::Config => Document::Config,
    };
    std::io::stdout().lock().write_all(document.schema_text().as_bytes())?;
    Ok(Exit::Clean)
}

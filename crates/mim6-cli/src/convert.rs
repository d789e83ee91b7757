//! `mim6 convert IN -o OUT`

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use oscal_io::Format;

use crate::{EXIT_INVALID, EXIT_OK};

/// Arguments of `mim6 convert`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The document to convert (JSON, XML or YAML); `-` reads standard input.
    #[arg(value_name = "IN")]
    input: PathBuf,
    /// Where to write; `-` (the default) writes standard output.
    #[arg(short, long, value_name = "OUT", default_value = "-")]
    output: PathBuf,
    /// Output format; by default taken from the output file's extension.
    #[arg(long, value_enum, value_name = "FORMAT")]
    to: Option<FormatArg>,
    /// Refuse inputs larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = oscal_io::DEFAULT_MAX_BYTES)]
    max_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FormatArg {
    Json,
    Xml,
    Yaml,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Format {
        match arg {
            FormatArg::Json => Format::Json,
            FormatArg::Xml => Format::Xml,
            FormatArg::Yaml => Format::Yaml,
        }
    }
}

fn is_stdio(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The output format: `--to` if given, else the output file's extension.
pub(crate) fn output_format(to: Option<FormatArg>, output: &Path) -> anyhow::Result<Format> {
    Ok(match (to, Format::from_path(output)) {
        (Some(to), _) => to.into(),
        (None, Some(format)) => format,
        (None, None) if is_stdio(output) => {
            bail!("writing to standard output needs --to json|xml|yaml")
        }
        (None, None) => bail!(
            "cannot tell the output format from {output:?}; name it .json, .xml or .yaml, or pass --to"
        ),
    })
}

pub(crate) fn run(args: &Args) -> anyhow::Result<u8> {
    let format = output_format(args.to, &args.output)?;
    let (name, bytes) = if is_stdio(&args.input) {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(args.max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
        if bytes.len() as u64 > args.max_bytes {
            eprintln!(
                "mim6: error: <stdin>: input is over the limit of {} bytes",
                args.max_bytes
            );
            return Ok(EXIT_INVALID);
        }
        (PathBuf::from("<stdin>"), bytes)
    } else {
        match oscal_io::read_file(&args.input, args.max_bytes) {
            Ok(bytes) => (args.input.clone(), bytes),
            Err(err) if err.is_input_problem() => {
                eprintln!("mim6: error: {err}");
                return Ok(EXIT_INVALID);
            }
            Err(err) => return Err(err.into()),
        }
    };
    if format == Format::Json && oscal_io::detect_format(&name, &bytes).ok() == Some(Format::Xml) {
        // One pass from XML to JSON text, without the model in between.
        let out = match oscal_io::decode_text(&name, &bytes)
            .and_then(|text| oscal_io::xml::to_json(&name, text))
        {
            Ok(out) => out,
            Err(err) => {
                eprintln!("mim6: error: {err}");
                return Ok(EXIT_INVALID);
            }
        };
        return write_out(&args.output, &out);
    }
    let document = match oscal_io::read_document(&name, &bytes) {
        Ok((_, document)) => document,
        Err(err) => {
            eprintln!("mim6: error: {err}");
            return Ok(EXIT_INVALID);
        }
    };
    let out = match oscal_io::write_document(&document, format) {
        Ok(out) => out,
        Err(err) => {
            eprintln!("mim6: error: {}: {err}", name.display());
            return Ok(EXIT_INVALID);
        }
    };
    write_out(&args.output, &out)
}

fn write_out(output: &Path, out: &[u8]) -> anyhow::Result<u8> {
    if is_stdio(output) {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(out)
            .context("cannot write standard output")?;
        stdout.flush()?;
    } else {
        oscal_io::write_atomic(output, out)?;
    }
    Ok(EXIT_OK)
}

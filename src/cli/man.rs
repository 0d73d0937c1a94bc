//! `pvtui man`: the manual pages, rendered as roff from the same clap
//! definitions the arguments are parsed with.
//!
//! `pvtui man` prints pvtui(1), whose SUBCOMMANDS section points at one page
//! per subcommand; `pvtui man read` prints pvtui-read(1); `--out DIR` writes
//! every page as a file there.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory};

use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Print this subcommand's page (pvtui-SUBCOMMAND.1) instead of pvtui.1
    #[arg(value_name = "SUBCOMMAND", conflicts_with = "out")]
    pub subcommand: Option<String>,
    /// Write every page (pvtui.1, pvtui-SUBCOMMAND.1) into this existing directory
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(args: &ManArgs) -> Result<ExitCode> {
    let pages = pages()?;
    if let Some(dir) = &args.out {
        for path in write_all(&pages, dir)? {
            outln!("{}", crate::text::escape(&path.display().to_string()))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let wanted = match &args.subcommand {
        Some(sub) => format!("pvtui-{sub}.1"),
        None => "pvtui.1".to_string(),
    };
    let Some(page) = pages.iter().find(|p| p.file == wanted) else {
        let names: Vec<&str> = pages
            .iter()
            .filter_map(|p| p.file.strip_prefix("pvtui-")?.strip_suffix(".1"))
            .collect();
        return Err(Error::Usage(format!(
            "no manual page for {:?}; the subcommands are: {}",
            crate::text::escape(args.subcommand.as_deref().unwrap_or_default()),
            names.join(", ")
        )));
    };
    super::write_stdout(&page.roff)?;
    Ok(ExitCode::SUCCESS)
}

/// One rendered page and the file name it is installed as.
#[derive(Debug)]
pub(super) struct Page {
    pub file: String,
    pub roff: Vec<u8>,
}

/// pvtui.1 first, then a page for each subcommand that is not hidden.
pub(super) fn pages() -> Result<Vec<Page>> {
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    collect(&cmd, &mut pages)?;
    Ok(pages)
}

fn collect(cmd: &clap::Command, pages: &mut Vec<Page>) -> Result<()> {
    // Subcommands carry no version of their own: each page says pvtui's,
    // so a page read apart from the others still says which pvtui it is.
    let version = env!("CARGO_PKG_VERSION");
    let man =
        clap_mangen::Man::new(cmd.clone().version(version)).source(format!("pvtui {version}"));
    let mut roff = Vec::new();
    man.render(&mut roff)
        .map_err(|e| Error::Usage(format!("rendering the manual page: {e}")))?;
    pages.push(Page {
        file: man.get_filename(),
        roff,
    });
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(sub, pages)?;
    }
    Ok(())
}

/// Writes each page into `dir` through a temporary file renamed into place,
/// so a reader never sees half a page. Returns the paths written.
fn write_all(pages: &[Page], dir: &Path) -> Result<Vec<PathBuf>> {
    let shown = || crate::text::escape(&dir.display().to_string()).into_owned();
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "--out {}: not an existing directory",
            shown()
        )));
    }
    let mut written = Vec::with_capacity(pages.len());
    for page in pages {
        let dest = dir.join(&page.file);
        let fail = |e: std::io::Error| {
            Error::Usage(format!(
                "--out {}: cannot write {}: {e}",
                shown(),
                page.file
            ))
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".pvtui-man-")
            .tempfile_in(dir)
            .map_err(fail)?;
        tmp.write_all(&page.roff)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(fail)?;
        tmp.persist(&dest).map_err(|e| fail(e.error))?;
        written.push(dest);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_visible_subcommand_has_a_page() {
        let pages = pages().expect("pages");
        assert_eq!(pages[0].file, "pvtui.1");
        let files: Vec<&str> = pages.iter().map(|p| p.file.as_str()).collect();
        for sub in [
            "probe",
            "maps",
            "read",
            "write",
            "scan",
            "completions",
            "man",
        ] {
            assert!(
                files.contains(&format!("pvtui-{sub}.1").as_str()),
                "{files:?}"
            );
        }
        assert!(
            !files.iter().any(|f| f.contains("demo-target")),
            "{files:?}"
        );
        assert!(!files.iter().any(|f| f.contains("help")), "{files:?}");
    }

    #[test]
    fn the_main_page_names_the_subcommand_pages() {
        let pages = pages().expect("pages");
        let main = String::from_utf8_lossy(&pages[0].roff);
        assert!(main.starts_with(".ie \\n(.g .ds Aq"), "{main}");
        assert!(main.contains(".TH pvtui 1"), "{main}");
        assert!(main.contains("pvtui\\-read(1)"), "{main}");
        let read = pages
            .iter()
            .find(|p| p.file == "pvtui-read.1")
            .expect("read page");
        assert!(String::from_utf8_lossy(&read.roff).contains("\\-\\-pid"));
    }

    #[test]
    fn every_page_carries_the_version() {
        let version = env!("CARGO_PKG_VERSION");
        for page in pages().expect("pages") {
            let roff = String::from_utf8_lossy(&page.roff);
            let title = roff
                .lines()
                .find(|l| l.starts_with(".TH "))
                .unwrap_or_default();
            assert!(
                title.contains(&format!("\"pvtui {version}\"")),
                "{}: {title}",
                page.file
            );
            assert!(roff.contains(".SH VERSION"), "{}", page.file);
        }
    }

    #[test]
    fn out_must_be_a_directory() {
        let pages = pages().expect("pages");
        let file = tempfile::NamedTempFile::new().expect("temp file");
        let err = write_all(&pages, file.path()).expect_err("a file is not a directory");
        assert!(
            err.to_string().contains("not an existing directory"),
            "{err}"
        );
    }

    #[test]
    fn out_writes_every_page_and_no_temporary_file() {
        let pages = pages().expect("pages");
        let dir = tempfile::tempdir().expect("temp dir");
        let written = write_all(&pages, dir.path()).expect("write");
        assert_eq!(written.len(), pages.len());
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut expected: Vec<String> = pages.iter().map(|p| p.file.clone()).collect();
        expected.sort();
        assert_eq!(names, expected);
        let main = std::fs::read(dir.path().join("pvtui.1")).expect("pvtui.1");
        assert_eq!(main, pages[0].roff);
    }
}

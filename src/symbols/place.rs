//! Names for addresses and modules as a user reads and types them: one
//! spelling for every place pvtui prints an address, which is also an
//! expression that reads the same place back.

use std::fmt;

/// Where an address lies in the mapped files, by names that survive
/// address randomisation.
///
/// Displayed as `module!symbol+0xOFF` or `[module]+0xOFF`, which parse back
/// as watch expressions for the same address:
///
/// ```
/// use pvtui::symbols::Location;
/// let sym = Location::Symbol { module: "game".into(), symbol: "score".into(), offset: 4 };
/// assert_eq!(sym.to_string(), "game!score+0x4");
/// let off = Location::Module { module: "libc.so.6".into(), offset: 0x1d2000 };
/// assert_eq!(off.to_string(), "[libc.so.6]+0x1d2000");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// `offset` bytes into `symbol` of `module`.
    Symbol {
        module: String,
        symbol: String,
        offset: u64,
    },
    /// `offset` bytes from the first mapping of `module`, outside any symbol.
    Module { module: String, offset: u64 },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let offset = match self {
            Location::Symbol {
                module,
                symbol,
                offset,
            } => {
                write!(f, "{module}!")?;
                if is_plain(symbol) {
                    f.write_str(symbol)?;
                } else {
                    write!(f, "`{symbol}`")?;
                }
                *offset
            }
            Location::Module { module, offset } => {
                write!(f, "[{module}]")?;
                *offset
            }
        };
        if offset > 0 {
            write!(f, "+{offset:#x}")?;
        }
        Ok(())
    }
}

/// Whether an expression can hold `name` without backquotes: each `::`
/// part starts as a symbol does and holds only symbol characters (the
/// expression parser's rule).
fn is_plain(name: &str) -> bool {
    let start = |c: char| c.is_ascii_alphabetic() || matches!(c, '_' | '$' | '.');
    let inner = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.' | '@');
    !name.ends_with(':')
        && name
            .split("::")
            .all(|part| part.chars().next().is_some_and(start) && part.chars().all(inner))
}

/// The shortest prefix of a library's file name that still says which one
/// it is: `libpython3.11.so.1.0` is `libpython3.11`; other names stay whole.
pub fn short_module_name(file_name: &str) -> &str {
    match file_name.find(".so") {
        Some(at) if at > 0 => &file_name[..at],
        _ => file_name,
    }
}

/// The name a process was started as, when `comm` and `argv[0]` agree on
/// it: a program run through a symlink (`redis-server` -> `redis-check-rdb`)
/// is known by the link's name, which the kernel keeps as `comm` (cut to 15
/// bytes) and `argv[0]` spells whole. A script's `comm` names the script
/// while `argv[0]` names the interpreter: they disagree, and nothing is said.
pub fn started_name(comm: &str, cmdline: &[u8]) -> Option<String> {
    let comm = comm.trim_end_matches('\n');
    if comm.is_empty() {
        return None;
    }
    let argv0 = cmdline.split(|&b| b == 0).next().unwrap_or_default();
    let argv0 = String::from_utf8_lossy(argv0);
    let base = argv0.rsplit('/').next().unwrap_or_default();
    if !base.starts_with(comm) {
        return None;
    }
    // comm holds at most 15 bytes: argv[0] says how the name goes on, up to
    // the first space (a rewritten title such as `redis-server *:6379`).
    const COMM_MAX: usize = 15;
    if comm.len() < COMM_MAX {
        return Some(comm.to_string());
    }
    let whole = base.split(char::is_whitespace).next().unwrap_or(comm);
    Some(whole.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_print_as_expressions() {
        let at = |offset| Location::Symbol {
            module: "m".into(),
            symbol: "ns::Foo<int>::x".into(),
            offset,
        };
        assert_eq!(at(0).to_string(), "m!`ns::Foo<int>::x`");
        assert_eq!(at(16).to_string(), "m!`ns::Foo<int>::x`+0x10");
        let module = Location::Module {
            module: "game".into(),
            offset: 0,
        };
        assert_eq!(module.to_string(), "[game]");
        let plain = Location::Symbol {
            module: "app".into(),
            symbol: "app::STATE".into(),
            offset: 0,
        };
        assert_eq!(plain.to_string(), "app!app::STATE");
        let digit = Location::Symbol {
            module: "app".into(),
            symbol: "a::0x".into(),
            offset: 0,
        };
        assert_eq!(digit.to_string(), "app!`a::0x`");
    }

    #[test]
    fn library_names_shorten_to_their_stem() {
        assert_eq!(short_module_name("libpython3.11.so.1.0"), "libpython3.11");
        assert_eq!(short_module_name("libc.so.6"), "libc");
        assert_eq!(short_module_name("python3.11"), "python3.11");
        assert_eq!(short_module_name(".so"), ".so");
    }

    #[test]
    fn the_started_name_needs_comm_and_argv0_to_agree() {
        assert_eq!(
            started_name("redis-server\n", b"redis-server *:6379\0").as_deref(),
            Some("redis-server")
        );
        assert_eq!(
            started_name("python3", b"/usr/bin/python3\0-c\0").as_deref(),
            Some("python3")
        );
        // A script: comm names it, argv[0] the interpreter.
        assert_eq!(started_name("run.py", b"/usr/bin/python3\0run.py\0"), None);
        // comm cut at 15 bytes; argv[0] has the rest.
        assert_eq!(
            started_name("a-very-long-nam", b"/opt/a-very-long-name-indeed --x\0").as_deref(),
            Some("a-very-long-name-indeed")
        );
        assert_eq!(started_name("", b"x\0"), None);
        assert_eq!(started_name("x", b""), None);
    }
}

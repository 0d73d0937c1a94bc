//! The value hunter's tools: who writes (or reads) an address, pointer chains
//! from static places to it, and holding a value from the command line.
//! None of them stops the target.
//!
//! - [`writers`]: hardware breakpoints on every thread through perf events.
//! - [`pointers`]: the pointer map of a target and the reverse chain search.
//! - [`chains`]: saving chains by module and offset, and re-checking them.
//! - [`disasm`]: the instruction before a sampled IP, decoded from its function.
//! - [`stop`]: Ctrl-C and `kill` as a file descriptor to poll.
pub mod chains;
pub mod disasm;
pub mod pointer_map;
pub mod pointers;
pub mod stop;
pub mod writers;

/// `text` with control and invisible characters escaped, as everywhere else
/// ([`crate::text::escape`]): names read from the target (paths, symbols)
/// cannot move the cursor, recolour a terminal or reorder a line.
pub fn printable(text: &str) -> String {
    crate::text::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn printable_escapes_control_characters_only() {
        assert_eq!(super::printable("game"), "game");
        assert_eq!(super::printable("a\x1b[2Jb\n"), "a\\u{1b}[2Jb\\n");
        assert_eq!(super::printable("größe"), "größe");
        assert_eq!(super::printable("a\u{202e}b\u{9b}"), "a\\u{202e}b\\u{9b}");
    }
}

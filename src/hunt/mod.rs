//! The value hunter's tools: who writes (or reads) an address, pointer chains
//! from static places to it, and holding a value from the command line.
//! None of them stops the target.
//!
//! - [`writers`]: hardware breakpoints on every thread through perf events.
//! - [`pointers`]: the pointer map of a target and the reverse chain search.
//! - [`chains`]: saving chains by module and offset, and re-checking them.
//! - [`stop`]: Ctrl-C and `kill` as a file descriptor to poll.
//! - [`target_expr`]: turning a watch expression into an address.
pub mod chains;
pub mod pointers;
pub mod stop;
pub mod target_expr;
pub mod writers;

/// `text` with control characters escaped: names read from the target
/// (paths, symbols) cannot move the cursor or recolour a terminal.
pub fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn printable_escapes_control_characters_only() {
        assert_eq!(super::printable("game"), "game");
        assert_eq!(super::printable("a\x1b[2Jb\n"), "a\\u{1b}[2Jb\\n");
        assert_eq!(super::printable("größe"), "größe");
    }
}

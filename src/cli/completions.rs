//! `pvtui completions SHELL`: a completion script for the shell, from the
//! same clap definitions the arguments are parsed with.
//!
//! clap_complete's static scripts complete every subcommand and option but
//! offer files for a value. The values of `--pid` and `--name` are rewritten
//! to list live processes, with each shell's own listing where it has one
//! (zsh `_pids`, fish `__fish_complete_pids`) and `/proc` in bash. The
//! scripts stay static: completing never runs pvtui, so a tab press costs no
//! attach and works the same for a binary that is not on PATH.

use std::process::ExitCode;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &CompletionsArgs) -> Result<ExitCode> {
    let script = script(args.shell)?;
    super::write_stdout(script.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// What an option's value names: a process by pid or by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Pid,
    Name,
}

impl Target {
    fn of_long(long: &str) -> Option<Target> {
        match long {
            "pid" => Some(Target::Pid),
            "name" => Some(Target::Name),
            _ => None,
        }
    }
}

/// The completion script for `shell`, with process values where the shell
/// allows them.
pub(super) fn script(shell: Shell) -> Result<String> {
    let mut cmd = super::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "pvtui", &mut out);
    let generated = String::from_utf8(out)
        .map_err(|_| Error::Usage("the completion script is not UTF-8".into()))?;
    Ok(match shell {
        Shell::Bash => bash(&generated).0,
        Shell::Zsh => zsh(&generated).0,
        Shell::Fish => fish(&generated, &subcommand_names(&cmd)).0,
        _ => generated,
    })
}

const BASH_HELPERS: &str = r#"# Live processes for --pid and --name values.
_pvtui_pids() {
    local d
    for d in /proc/[0-9]*; do
        printf '%s\n' "${d#/proc/}"
    done
}
_pvtui_names() {
    # A name with a blank cannot be one word of a completion list, and one
    # with a control or invisible character (ESC, a bidi override) would
    # reach the command line raw: only printable ASCII names are offered.
    # Kernel threads (no program file), which pvtui refuses, are left out.
    local d name LC_ALL=C
    for d in /proc/[0-9]*; do
        [[ -e $d/exe ]] || continue
        IFS= read -r name < "$d/comm" 2>/dev/null || continue
        [[ -z $name || $name == *[![:graph:]]* ]] && continue
        printf '%s\n' "$name"
    done | sort -u
}

"#;

/// Bash: a `case "${prev}"` arm `--pid)` or `-p)` is followed by the line
/// that offers files; that line offers processes instead. Returns the script
/// and how many arms were rewritten.
fn bash(generated: &str) -> (String, usize) {
    let mut out = String::with_capacity(generated.len() + BASH_HELPERS.len());
    out.push_str(BASH_HELPERS);
    let mut pending = None;
    let mut rewritten = 0;
    for line in generated.lines() {
        let trimmed = line.trim();
        if let Some(target) = pending.take() {
            if trimmed == r#"COMPREPLY=($(compgen -f "${cur}"))"# {
                let indent = &line[..line.len() - line.trim_start().len()];
                let list = match target {
                    Target::Pid => "_pvtui_pids",
                    Target::Name => "_pvtui_names",
                };
                out.push_str(&format!(
                    "{indent}COMPREPLY=($(compgen -W \"$({list})\" -- \"${{cur}}\"))\n"
                ));
                rewritten += 1;
                continue;
            }
        }
        pending = trimmed
            .strip_suffix(')')
            .and_then(|flag| bash_flag(flag))
            .and_then(Target::of_long);
        out.push_str(line);
        out.push('\n');
    }
    (out, rewritten)
}

/// The long name a bash `case` label stands for (`-p` is `--pid`, `-n` is
/// `--name`).
fn bash_flag(label: &str) -> Option<&str> {
    match label {
        "-p" => Some("pid"),
        "-n" => Some("name"),
        _ => label.strip_prefix("--"),
    }
}

/// Zsh: an `_arguments` spec for `-p`/`--pid` or `-n`/`--name` ends in the
/// action `_default`; it becomes `_pids` or `_process_names`.
fn zsh(generated: &str) -> (String, usize) {
    let mut out = String::with_capacity(generated.len());
    let mut rewritten = 0;
    for line in generated.lines() {
        let target = zsh_target(line);
        match (target, line.strip_suffix(":_default' \\")) {
            (Some(target), Some(head)) => {
                let action = match target {
                    Target::Pid => "_pids",
                    Target::Name => "_process_names",
                };
                out.push_str(&format!("{head}:{action}' \\\n"));
                rewritten += 1;
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    (out, rewritten)
}

/// Which target option a zsh spec line describes: the option is the text
/// before `+[` (short) or `=[` (long), after any exclusion list and `*`.
fn zsh_target(line: &str) -> Option<Target> {
    let spec = line.trim_start().strip_prefix('\'')?;
    let end = spec.find("+[").or_else(|| spec.find("=["))?;
    let option = spec[..end].rsplit([')', '*']).next()?;
    bash_flag(option).and_then(Target::of_long)
}

/// The names of `cmd`'s subcommands, hidden ones too.
fn subcommand_names(cmd: &clap::Command) -> Vec<String> {
    cmd.get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect()
}

/// The generated fish condition for an option before any subcommand. It
/// parses the words so far with argparse, which fails while the option's
/// value is still missing: exactly when the value is being completed.
const FISH_TOP_LEVEL: &str = "-n \"__fish_pvtui_needs_command\"";

/// Fish: a `complete` line for `-l pid` or `-l name` that takes a value
/// (`-r`) also lists processes and no files (`-f`). Before a subcommand the
/// line's condition becomes "no subcommand seen yet".
fn fish(generated: &str, subcommands: &[String]) -> (String, usize) {
    let mut out = String::with_capacity(generated.len());
    let mut rewritten = 0;
    let top_level = format!(
        "-n \"not __fish_seen_subcommand_from {}\"",
        subcommands.join(" ")
    );
    for line in generated.lines() {
        let target = if line.contains(" -l pid ") {
            Some(Target::Pid)
        } else if line.contains(" -l name ") {
            Some(Target::Name)
        } else {
            None
        };
        let target = target.filter(|_| line.ends_with(" -r"));
        if target.is_some() {
            out.push_str(&line.replace(FISH_TOP_LEVEL, &top_level));
        } else {
            out.push_str(line);
        }
        if let Some(target) = target {
            out.push_str(match target {
                Target::Pid => " -f -a '(__fish_complete_pids)'",
                Target::Name => " -f -a '(__fish_complete_proc)'",
            });
            rewritten += 1;
        }
        out.push('\n');
    }
    (out, rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `--pid`/`--name` option in the command tree, as (spellings, 1):
    /// a long and maybe a short spelling, in one option.
    fn target_options() -> (usize, usize) {
        fn walk(cmd: &clap::Command, spellings: &mut usize, options: &mut usize) {
            for arg in cmd.get_arguments() {
                if arg.get_long().and_then(Target::of_long).is_some() {
                    *options += 1;
                    *spellings += 1 + usize::from(arg.get_short().is_some());
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, spellings, options);
            }
        }
        let mut cmd = super::super::Cli::command();
        cmd.build();
        let (mut spellings, mut options) = (0, 0);
        walk(&cmd, &mut spellings, &mut options);
        (spellings, options)
    }

    fn generated(shell: Shell) -> String {
        let mut cmd = super::super::Cli::command();
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cmd, "pvtui", &mut out);
        String::from_utf8(out).expect("utf-8 script")
    }

    #[test]
    fn every_target_option_completes_processes_in_bash() {
        let (spellings, _) = target_options();
        assert!(spellings >= 2, "no --pid options found");
        let (script, rewritten) = bash(&generated(Shell::Bash));
        assert_eq!(rewritten, spellings, "{script}");
        assert!(script.contains(r#"compgen -W "$(_pvtui_pids)""#));
        assert!(script.contains(r#"compgen -W "$(_pvtui_names)""#));
    }

    #[test]
    fn every_target_option_completes_processes_in_zsh() {
        let (spellings, _) = target_options();
        let (script, rewritten) = zsh(&generated(Shell::Zsh));
        assert_eq!(rewritten, spellings, "{script}");
        assert!(!script.contains(":PID:_default"), "{script}");
        assert!(script.contains(":PID:_pids'"));
        assert!(script.contains(":NAME:_process_names'"));
    }

    #[test]
    fn every_target_option_completes_processes_in_fish() {
        let (_, options) = target_options();
        let mut cmd = super::super::Cli::command();
        cmd.build();
        let names = subcommand_names(&cmd);
        let (script, rewritten) = fish(&generated(Shell::Fish), &names);
        assert_eq!(rewritten, options, "{script}");
        let before_any = format!(
            "-n \"not __fish_seen_subcommand_from {}\" -s p -l pid",
            names.join(" ")
        );
        assert!(script.contains(&before_any), "{script}");
        assert!(
            script.contains("-l pid -d 'A process to attach to; give it several times for several targets' -r -f -a '(__fish_complete_pids)'"),
            "{script}"
        );
    }

    #[test]
    fn zsh_spec_lines_name_their_option() {
        let pid = r"'(--name --all)*-p+[A process]:PID:_default' \";
        assert_eq!(zsh_target(pid), Some(Target::Pid));
        let name = r"'(--all)--name=[Every process]:NAME:_default' \";
        assert_eq!(zsh_target(name), Some(Target::Name));
        let theme = r"'--theme=[A theme]:NAME|PATH:_default' \";
        assert_eq!(zsh_target(theme), None);
        assert_eq!(
            zsh_target("_arguments \"${_arguments_options[@]}\" : \\"),
            None
        );
    }

    #[test]
    fn other_shells_get_the_generated_script() {
        for shell in [Shell::Elvish, Shell::PowerShell] {
            let script = script(shell).expect("script");
            assert!(script.contains("--pid"), "{shell}");
        }
    }
}

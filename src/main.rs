use std::process::ExitCode;

fn main() -> ExitCode {
    pvtui::cli::main()
}

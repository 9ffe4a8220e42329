//! The `payrun` binary: parse the command line, run the command, turn its outcome into an
//! exit code. Everything else lives in the library so tests and benches can call it.

fn main() -> std::process::ExitCode {
    payrun::cli::main()
}

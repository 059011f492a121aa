fn main() {
    std::process::exit(grokpair::cli::main());
}

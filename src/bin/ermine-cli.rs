fn main() {
    std::process::exit(ermine::main_dispatch("cli"));
}

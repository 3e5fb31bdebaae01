#[global_allocator]
static ALLOC: ermine::server::alloc::Counting = ermine::server::alloc::Counting;

fn main() {
    std::process::exit(ermine::main_dispatch("check-rdb"));
}

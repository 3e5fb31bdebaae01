//! ermine-cli: the redis-cli of Ermine.

pub fn main(_args: Vec<String>) -> i32 {
    eprintln!("ermine-cli: not built yet");
    1
}

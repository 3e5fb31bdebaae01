//! RESP2/RESP3 wire protocol: the request parser and the reply encoder.

pub mod parse;
pub mod reply;

pub use parse::{ParseError, ParseState, Parsed};
pub use reply::Reply;

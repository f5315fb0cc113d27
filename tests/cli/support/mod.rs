//! What the end-to-end tests share, one file per concern. Every helper is re-exported here, so a test
//! imports from `crate::support` whichever file it lives in.

mod gzip;
mod processes;
mod seqs;
mod servers;
mod terminal;
mod trees;

pub use gzip::*;
pub use processes::*;
pub use seqs::*;
pub use servers::*;
pub use terminal::*;
pub use trees::*;

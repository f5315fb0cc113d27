//! Configuration: YAML with Filebeat's conventions (`${VAR}` expansion, dotted keys, `-E` overrides),
//! typed, defaulted and validated.

mod model;
mod secret;

pub use model::*;
pub use secret::Secret;

//! The rules of danvan: administrative units, schemes and targets, Vietnamese text.
//! Pure: no IO, no async, no SQL, no HTML.

pub mod access;
pub mod achievement;
pub mod bloc;
pub mod evidence;
pub mod period;
pub mod plan;
pub mod roadmap;
pub mod scheme;
pub mod text;
pub mod units;
pub mod value;
pub mod workflow;

//! The rules of danvan: administrative units, schemes and targets, Vietnamese text.
//! Pure: no IO, no async, no SQL, no HTML.

pub mod access;
pub mod achievement;
pub mod bloc;
pub mod community;
pub mod evidence;
pub mod feedback;
pub mod lineage;
pub mod period;
pub mod plan;
pub mod reminders;
pub mod roadmap;
pub mod scheme;
pub mod text;
pub mod units;
pub mod value;
pub mod workflow;

#[cfg(test)]
mod pinned_tests;

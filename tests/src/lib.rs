//! The test harness: starts the real components the suites need and stops them when dropped.
//! Every component listens on loopback only, in folders under a temporary directory.

pub mod ca;
pub mod dovecot;
pub mod fault;
pub mod keyring;
pub mod processes;
pub mod webdriver;

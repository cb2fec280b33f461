//! The test harness: starts the real components the suites need.

//! Simulator integration tests. STUB: built by the simulator work (issue 3).

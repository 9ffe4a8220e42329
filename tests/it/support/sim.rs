//! Starting the simulator in-process on port 0. STUB: built by the simulator work (issue 3).

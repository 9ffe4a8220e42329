//! Provider simulator (DESIGN §6). STUB: built by the simulator work (issue 3).

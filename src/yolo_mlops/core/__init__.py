"""Pure functions: no I/O, no imports of outside systems. Unit-tested exhaustively."""

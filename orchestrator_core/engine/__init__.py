"""The engine: the pure step function (`step`) and the run loop (`runner`)."""

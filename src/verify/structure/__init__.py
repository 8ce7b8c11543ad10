"""Structure side: target parsing and what the structure predicts."""

"""Coverage-guided fuzzing of what parses camera input (the targets in fuzzing/)."""

"""The whole stack at once: real clients, faults, bad input, and the example subscriber."""

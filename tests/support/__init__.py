"""Code the tests share: services started as subprocesses, JPEGs, a tap on sensr.frames, waiting on state."""

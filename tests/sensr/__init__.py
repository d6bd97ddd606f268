"""Tests of the shared core (sensr/): settings, the frame and catalog events, the scanner and frame check, the publisher, the lifecycle, the index, health, throttles, the stream contract."""

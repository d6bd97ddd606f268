"""Tests of the activity worker: the motion score and the events it groups."""

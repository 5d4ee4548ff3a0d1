"""Trackers: cut the stream into sets and reps (:mod:`.reps`) or leg lifts (:mod:`.lifts`)."""

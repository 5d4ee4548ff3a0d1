"""Coaching: exercise profiles, cues, progression advice and the training history."""

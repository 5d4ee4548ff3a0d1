"""Live sessions: a sensor stream through the pipeline, coached rep by rep and recorded."""

"""The stream shaper: stages that decide what is sent and when, and the writer that sends it."""

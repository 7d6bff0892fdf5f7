"""End-to-end record and replay: official SDKs through the recorder, then through replay."""

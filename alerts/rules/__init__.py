"""The anomaly rules: one module each, every one a pure function of an event and its history."""

"""Crime recording screens: recording a crime from an incident, the recording queue."""

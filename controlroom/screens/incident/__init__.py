"""Incidents: the entry form, the incident view and its change dialogs, DASH."""

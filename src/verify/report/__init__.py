"""Presenting results: text, JSON, CSV, HTML. Nothing here decides anything."""

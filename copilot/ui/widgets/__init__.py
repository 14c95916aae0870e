"""Widgets: the inbox, the conversation and the copilot panel, each drawing one view-model."""

"""Model routing: which engine or model serves each copilot task, and calls to models through litellm."""

"""Quality measured on data: retrieval and triage evaluations over the generic JSONL formats."""

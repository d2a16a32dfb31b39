"""Who is speaking: Resemblyzer embeddings (torch-free), enrolled profiles, online clustering."""

"""Analyses of what the imitation learned, beside its core: against the ground truth (fidelity, the end-to-end
table) and how fast it learns (the learning-speed benchmarks' results)."""

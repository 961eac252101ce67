"""Morphology transfer (stage `morphology_transfer`, notebook 08): the motions reconstructed from video, retargeted
to another character (Atlas) with `sfv.retarget`, learned there with the same PPO imitation, and shown beside the
humanoid's policy (`transfer`, `figures`)."""

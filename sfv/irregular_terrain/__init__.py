"""Irregular terrain (stage `irregular_terrain`, notebook 09): skills learned from video on flat ground, carried over
slopes, stairs, gaps and rough ground. The terrain files and heightfields are `sfv.imitate.terrain`; the terrain
policy's heightmap reader is `sfv.imitate.features`; here are the experiment's settings and scores (`experiment`)
and its figures (`figures`)."""

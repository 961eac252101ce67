"""params.yaml's schema, one module per section: a stage depends on the code of its own section only, so a change
to one section's schema re-runs only its stages. `sfv.config` puts the sections together and loads the file."""

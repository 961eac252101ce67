"""The results report (stage `report`, notebook 11): every stage's figures in one place, beside the paper's.

`tables` gathers the metrics the stages wrote (a stage that has not run is shown as such), `paper` holds the
published figures the kit can cite, `media` turns rollout videos into GIFs and `export` writes the executed
notebook as a static HTML page without code.
"""

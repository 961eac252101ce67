"""sfv: a reproducible kit of "SFV: Reinforcement Learning of Physical Skills from Videos".

The package holds what the notebooks repeat: the skeleton and motion formats, forward kinematics,
the params.yaml schema and the notebook runner. Each module owns one idea (see README).
"""

__version__ = "0.1.0"
